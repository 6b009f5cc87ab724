#!/usr/bin/env bash
# The image's JIT directives (lib/jit-directives.json) as the launcher gives them to the daemon's JVM: they parse
# on the image's own runtime, the JDK's cryptography keeps C2 and everything else is left to C1, the directives
# reach `berth daemon` only, so no other command's output carries the line the JVM prints when it reads them,
# and BERTH_JIT_DIRECTIVES set empty turns them off.
# Usage: test/e2e/jit-directives.sh [image dir]      (default distribution/target/berth)
set -euo pipefail
cd "$(dirname "$0")/../.."
image=${1:-distribution/target/berth}
fails=0
check() { # description, command...
  local what=$1; shift
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

out=$(berth version 2>&1)
check "berth version prints no JIT line" bash -c '! grep -q "compiler directives" <<<"$1"' _ "$out"
out=$(BERTH_JIT_DIRECTIVES= berth daemon --help 2>&1)
check "BERTH_JIT_DIRECTIVES= leaves the JVM's default" bash -c '! grep -q "compiler directives" <<<"$1"' _ "$out"
check "and the daemon command still runs" grep -q "Usage: berth daemon" <<<"$out"

echo "jit directives: $((6 - fails)) of 6 checks passed"
[ "$fails" -eq 0 ]
