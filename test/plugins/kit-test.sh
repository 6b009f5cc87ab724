#!/usr/bin/env bash
# Tests the plugin kit as a vendor meets it, outside the reactor with only the kit in the local repository:
# - a project generated from plugin-template builds its archive at once (mvn package -DskipTests) with the right
#   manifest and extension index, and its contract tests run and fail for the unimplemented skeleton;
# - berth-plugin-parent refuses archives that bundle the SPI, PF4J or core classes, or lack the extension index.
#   test/plugins/kit-test.sh [WORK_DIR]
set -euo pipefail
. "$(dirname "$0")/kit.sh"
work=${1:-$(mktemp -d)}
mkdir -p "$work"
work=$(cd "$work" && pwd)
repo=$work/repo
kit_repo "$repo"
spi_version=$(sed -n 's/^version=//p' "$root/spi/target/classes/dev/berth/spi/spi.properties")
[ -n "$spi_version" ] || { echo "cannot read the SPI version from spi/target/classes" >&2; exit 1; }

failures=0
check() { # MESSAGE CONDITION...
  local what=$1; shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what" >&2; failures=$((failures + 1)); fi
}
mvn_in() { # DIR ARGS...: an offline build that sees only the scratch repository
  local dir=$1; shift
  (cd "$dir" && mvn -o -B -Dmaven.repo.local="$repo" "$@")
}

echo "== a new plugin from the template"
proj=$work/berth-plugin-demo
rm -rf "$proj" "$work"/bad-*
"$root/plugin-template/generate.sh" "$proj" demo-vm com.example.berth.demo com.example
zip=$proj/target/demo-vm.zip
mvn_in "$proj" -q package -DskipTests > "$work/skeleton-package.log" 2>&1 || { cat "$work/skeleton-package.log"; }
check "the skeleton's archive builds with -DskipTests" test -f "$zip"
if [ -f "$zip" ]; then
  entries=$(unzip -Z1 "$zip")
  check "the archive has the factory class" grep -qx 'classes/com/example/berth/demo/DemoVmBackendFactory.class' <<<"$entries"
  check "the archive has the extension index" grep -qx 'classes/META-INF/extensions.idx' <<<"$entries"
  check "the index names the factory" grep -qx 'com.example.berth.demo.DemoVmBackendFactory' \
    <(unzip -p "$zip" classes/META-INF/extensions.idx)
  manifest=$(unzip -p "$zip" classes/META-INF/MANIFEST.MF | tr -d '\r')
  check "Plugin-Id: demo-vm" grep -qx 'Plugin-Id: demo-vm' <<<"$manifest"
  check "Plugin-Version: 0.1.0-SNAPSHOT" grep -qx 'Plugin-Version: 0.1.0-SNAPSHOT' <<<"$manifest"
  check "Plugin-Requires: ^$spi_version (the SPI built against)" grep -qx "Plugin-Requires: ^$spi_version" <<<"$manifest"
  check "no SPI, core or PF4J entries" bash -c '! grep -E "dev/berth/(spi|core)/|org/pf4j/" <<<"$1"' _ "$entries"
fi

echo "== its contract tests run and fail until the skeleton is implemented"
if mvn_in "$proj" package > "$work/skeleton-test.log" 2>&1; then
  echo "FAIL: mvn package passed for the unimplemented skeleton" >&2; failures=$((failures + 1))
else
  report=$(cat "$proj"/target/surefire-reports/*.txt 2>/dev/null || true)
  run=$(sed -n 's/^Tests run: \([0-9]*\), Failures: \([0-9]*\), Errors: \([0-9]*\), Skipped: \([0-9]*\).*/\1 \2 \3 \4/p' \
    <<<"$report" | head -1)
  read -r total failed errors skipped <<<"${run:-0 0 0 0}"
  echo "contract tests of the skeleton: $total run, $failed failures, $errors errors, $skipped skipped"
  check "the contract tests ran (more than a class-level error)" test "$total" -gt 1
  # A check that has nothing to look at for this backend is skipped, not passed (e.g. the event check when the
  # test supplies no published events): none may pass.
  check "no contract test passes for the skeleton" test "$((failed + errors + skipped))" -eq "$total"
  check "most contract tests fail for the skeleton" test "$((failed + errors))" -ge "$((total - 2))"
  check "the failures name UNIMPLEMENTED" grep -q 'is not implemented yet' "$work/skeleton-test.log"
fi

echo "== archives the parent refuses"
bad() { # NAME EXPECTED-MESSAGE EDIT-COMMAND...: a copy of the project, edited, whose package must fail
  local name=$1 expect=$2; shift 2
  local dir=$work/bad-$name
  cp -R "$proj" "$dir"
  rm -rf "$dir/target"
  (cd "$dir" && "$@")
  if mvn_in "$dir" package -DskipTests > "$work/bad-$name.log" 2>&1; then
    echo "FAIL: $name: the build passed" >&2; failures=$((failures + 1))
  elif grep -q -- "$expect" "$work/bad-$name.log"; then
    echo "ok: $name: refused ($expect)"
  else
    echo "FAIL: $name: the build failed, but not with \"$expect\":" >&2
    grep -E 'ERROR|BUILD' "$work/bad-$name.log" | head -20 >&2
    failures=$((failures + 1))
  fi
}
dependency() { # GROUP ARTIFACT SCOPE [TYPE]
  local dep="<dependency><groupId>$1</groupId><artifactId>$2</artifactId><scope>$3</scope>${4:+<type>$4</type>}</dependency>"
  sed -i "s#^  </dependencies>#    $dep\n  </dependencies>#" pom.xml
}
bad spi-in-lib 'dev/berth/spi/' dependency dev.berth berth-spi compile
bad spi-testjar-in-lib 'dev/berth/spi/testing/' dependency dev.berth berth-spi compile test-jar
bad pf4j-in-lib 'org/pf4j/' dependency org.pf4j pf4j compile
bad core-class 'dev/berth/core/' sh -c 'mkdir -p src/main/java/dev/berth/core && printf "package dev.berth.core;\npublic final class Sneaky {}\n" > src/main/java/dev/berth/core/Sneaky.java'
bad no-extension-index 'no extension in its index' sed -i 's/^@Extension$//' src/main/java/com/example/berth/demo/DemoVmBackendFactory.java
bad no-plugin-id 'Set the property plugin.id' sed -i 's#<plugin.id>demo-vm</plugin.id>#<plugin.id></plugin.id>#' pom.xml

if [ $failures -ne 0 ]; then
  echo "$failures check(s) failed; logs in $work" >&2
  exit 1
fi
echo "plugin kit: all checks passed"
