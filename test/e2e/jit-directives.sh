#!/usr/bin/env bash
# The image's JIT directives (lib/jit-directives.json) as the launcher gives them to the daemon's JVM: they parse
# on the image's own runtime, the JDK's cryptography keeps C2 and everything else is left to C1, the directives
# reach `berth daemon` only, so no other command's output carries the line the JVM prints when it reads them,
# and BERTH_JIT_DIRECTIVES set empty turns them off. With the directives come compile thresholds: on the image's
# runtime, a method of test/e2e/JitProbe.java is compiled once, by C1 without profiling, and the JDK's SHA-256 by
# C2 without a profiling compile first; without the thresholds the same method is compiled twice.
# Needs a JDK's javac (JAVA_HOME or PATH) for the probe; the image itself needs none.
# Usage: test/e2e/jit-directives.sh [image dir]      (default distribution/target/berth)
set -euo pipefail
cd "$(dirname "$0")/../.."
image=${1:-distribution/target/berth}
fails=0 checks=0
check() { # description, command...
  local what=$1; shift
  checks=$((checks + 1))
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}
berth() { env -u JAVA_HOME PATH=/usr/sbin:/usr/bin:/sbin:/bin "$image/bin/berth" "$@"; }

# The JVM prints the directives it installed, each with its c1 and c2 settings.
printed=$(BERTH_JAVA_OPTS=-XX:+CompilerDirectivesPrint berth daemon --help 2>&1)
# c2's "Enable/Exclude" pair of the directive whose "matching:" line is $1 (the first one listed).
c2_of() {
  awk -v m="$1" '
    /^ matching:/ { current = ($0 == " matching: " m) ; c2 = 0; next }
    current && /^ c2 directives:/ { c2 = 1; next }
    current && c2 && /Exclude:/ {
      match($0, /Enable:[a-z]+ Exclude:[a-z]+/); print substr($0, RSTART, RLENGTH); exit }' <<<"$printed"
}
crypto=$(c2_of "java/math/BigInteger.*, com/sun/crypto/*.*, sun/security/*.*")
rest=$(c2_of "*.*")
check "the daemon's JVM read the image's two directives" grep -q "^2 compiler directives added" <<<"$printed"
check "the JDK's cryptography keeps C2 (got: ${crypto:-nothing})" test "$crypto" = "Enable:true Exclude:false"
check "everything else is C1's alone (got: ${rest:-nothing})" test "$rest" = "Enable:true Exclude:true"

# The compile thresholds the launcher gave the daemon's JVM (set on its command line), as JVM options.
tier_flags() { # environment assignments...
  ( [ $# -eq 0 ] || export "$@"; BERTH_JAVA_OPTS=-XX:+PrintFlagsFinal berth daemon --help 2>&1 ) |
    awk '/\{command line\}/ && $2 ~ /^Tier/ {printf "-XX:%s=%s ", $2, $4}'
}
tiers=$(tier_flags)
check "the daemon's JVM has the launcher's compile thresholds (got: ${tiers:-none})" \
  grep -q -- "-XX:Tier0ProfilingStartPercentage=0 " <<<"$tiers"
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
javac=${JAVA_HOME:+$JAVA_HOME/bin/}javac
"$javac" --release 25 -d "$probe" test/e2e/JitProbe.java
# The levels (1 plain C1, 2 and 3 C1 with profiling, 4 C2) of every compile of methods matching $1, in order, from
# -XX:+PrintCompilation's "time id flags level method" lines; lines about a compile made not entrant are left out.
levels() { # pattern, JVM options...
  local pattern=$1; shift
  "$image/runtime/bin/java" -XX:+UnlockDiagnosticVMOptions -XX:CompilerDirectivesFile="$image/lib/jit-directives.json" \
    "$@" -XX:+PrintCompilation -cp "$probe" JitProbe |
    awk -v p="$pattern" '$0 ~ p && !/made not/ {
      for (i = 3; i <= NF; i++) if ($i ~ /^[0-4]$/) { printf "%s ", $i; break } }'
}
# shellcheck disable=SC2086 # the thresholds are separate options
work=$(levels 'JitProbe::work ' $tiers)
check "with them, berth's kind of method is compiled once, by C1 alone (levels: ${work:-none})" test "$work" = "1 "
# shellcheck disable=SC2086
sha=$(levels 'sun[.]security[.]provider[.]SHA2::implCompress0 ' $tiers)
check "and SHA-256 by C2 alone (levels: ${sha:-none})" bash -c '[[ $1 =~ ^(4 )+$ ]]' _ "$sha"
work=$(levels 'JitProbe::work ')
check "without them the same method is compiled with profiling first (levels: ${work:-none})" \
  bash -c '[[ $1 =~ ^[23]\  ]]' _ "$work"

out=$(berth version 2>&1)
check "berth version prints no JIT line" bash -c '! grep -q "compiler directives" <<<"$1"' _ "$out"
out=$(BERTH_JIT_DIRECTIVES= berth daemon --help 2>&1)
check "BERTH_JIT_DIRECTIVES= leaves the JVM's default" bash -c '! grep -q "compiler directives" <<<"$1"' _ "$out"
check "and the daemon command still runs" grep -q "Usage: berth daemon" <<<"$out"
tiers=$(tier_flags BERTH_JIT_DIRECTIVES=)
check "and the JVM's own compile thresholds (set on the command line: ${tiers:-none})" test -z "$tiers"

echo "jit directives: $((checks - fails)) of $checks checks passed"
[ "$fails" -eq 0 ]
