#!/usr/bin/env bash
# Proof from outside the reactor: builds the runc and kata plugins a second time as a third party would, from
# copies of their sources in a scratch directory, with a separate Maven invocation whose local repository holds
# only the plugin kit (berth-parent, berth-spi and its test-jar, berth-plugin-parent) and third-party libraries,
# not berth's core. berth-oci, which both plugins bundle, is built the same way first. Then compares each archive
# with the reactor's (the same entries, the same Plugin-* manifest) and runs `berth tck` on it when the image has
# that command.
#   test/plugins/outside-build.sh [WORK_DIR]
# Needs the reactor's archives: mvn -o -B -q -pl plugins/runc,plugins/kata -am package -DskipTests
set -euo pipefail
. "$(dirname "$0")/kit.sh"
work=${1:-$(mktemp -d)}
mkdir -p "$work"
work=$(cd "$work" && pwd)
repo=$work/repo
plugins=(runc kata)

for p in "${plugins[@]}"; do
  [ -f "$root/plugins/$p/target/$p.zip" ] || {
    echo "the reactor's $p archive is missing: build it first (mvn -o -B -q -pl plugins/$p -am package -DskipTests)" >&2
    exit 1; }
done

kit_repo "$repo"
[ ! -e "$repo/dev/berth/berth-core" ] || { echo "berth-core is in the scratch repository" >&2; exit 1; }

# The projects as a vendor has them: sources and pom, no target/, and no relativePath into berth's tree (the
# parents come from the repository).
src=$work/vendor
rm -rf "$src"
for m in oci "${plugins[@]}"; do
  mkdir -p "$src/$m"
  (cd "$root/plugins/$m" && tar --exclude=./target -cf - .) | tar -C "$src/$m" -xf -
  sed -i 's#<relativePath>[^<]*</relativePath>#<relativePath/>#' "$src/$m/pom.xml"
done

build() { # DIR GOAL: a Maven build that sees only the scratch repository, offline
  echo "== outside build of $(basename "$1"): mvn $2"
  mvn -o -B -q -f "$1/pom.xml" -Dmaven.repo.local="$repo" -DskipTests "$2"
}
build "$src/oci" install
for p in "${plugins[@]}"; do
  build "$src/$p" package
done
[ ! -e "$repo/dev/berth/berth-core" ] || { echo "berth-core was fetched into the scratch repository" >&2; exit 1; }

fail=0
for p in "${plugins[@]}"; do
  inside=$root/plugins/$p/target/$p.zip
  outside=$src/$p/target/$p.zip
  if ! diff <(unzip -Z1 "$inside" | sort) <(unzip -Z1 "$outside" | sort); then
    echo "FAIL: $p.zip built outside the reactor has other entries than the reactor's (< reactor, > outside)" >&2
    fail=1
  fi
  if ! diff <(unzip -p "$inside" classes/META-INF/MANIFEST.MF | tr -d '\r' | grep -v '^Created-By') \
            <(unzip -p "$outside" classes/META-INF/MANIFEST.MF | tr -d '\r' | grep -v '^Created-By'); then
    echo "FAIL: $p.zip built outside the reactor has another manifest" >&2
    fail=1
  fi
  [ $fail -ne 0 ] || echo "ok: $p.zip built outside the reactor has the reactor's $(unzip -Z1 "$outside" | wc -l) entries and manifest"
done
[ $fail -eq 0 ] || exit 1

berth=$root/distribution/target/berth/bin/berth
if [ -x "$berth" ] && "$berth" tck --help >/dev/null 2>&1; then
  # Per plugin: the handler options its contract tests need on this host (kata: the runc shim stands in for Kata).
  declare -A tck_args=(
    [runc]=${BERTH_TCK_ARGS_RUNC:---handler runc -o binary=runc}
    [kata]=${BERTH_TCK_ARGS_KATA:---handler shimv2-runc -o shim=containerd-shim-runc-v2}
  )
  for p in "${plugins[@]}"; do
    echo "== berth tck $p.zip (built outside the reactor) ${tck_args[$p]}"
    # shellcheck disable=SC2086
    # Packaging and the SPI contract here; critest needs the registry, so test/critest/run.sh certifies this runc
    # archive with critest.
    "$berth" tck "$src/$p/target/$p.zip" ${tck_args[$p]} --skip-critest || fail=1
  done
else
  echo "not run: berth tck (no tck command in $berth; build the image with it first)"
fi
exit $fail
