#!/usr/bin/env bash
# Runs berth's whole test suite: unit tests, integration tests against the real runc, crun, conmon, CNI
# plugins, registry and containerd shim, then the jlink image. Usage: sudo scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

echo "== installing packages"
apt_install "${RUNTIME_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
ensure_jdk
fix_hybrid_cgroups
echo "JDK: $JAVA_HOME"

# Tests that drive the real crictl find it here (cri-tools v1.29, beside this repository when present).
if [ -x ../shared/critest/bin/crictl ]; then
  BERTH_CRICTL=$(cd ../shared/critest/bin && pwd)/crictl
  export BERTH_CRICTL
fi

echo "== unit and integration tests"
# Nothing may be skipped silently: a test whose host programs are missing fails (HostRequirements).
export BERTH_REQUIRE_HOST_PROGRAMS=1
began=$(mktemp)
mvn -B -ntp install
# Nor by an assumption or @Disabled: a test class that reports a skipped test fails the suite (reports of this run only).
skipped=$(find . -path '*/target/surefire-reports/TEST-*.xml' -newer "$began" \
  -exec grep -l -E '<testsuite [^>]*skipped="[1-9]' {} + || true)
rm -f "$began"
if [ -n "$skipped" ]; then
  echo "skipped tests, which fail this suite:"; echo "$skipped"; exit 1
fi
echo "== the plugin kit: a plugin from the template; runc and kata built outside the reactor with only the kit"
test/plugins/kit-test.sh
# The runc archive built there is the one test/critest/run.sh certifies with berth tck and critest.
rm -rf target/outside-build
test/plugins/outside-build.sh target/outside-build

echo "== the image runs without a JDK"
image=distribution/target/berth
env -u JAVA_HOME PATH=/usr/sbin:/usr/bin:/sbin:/bin "$image/bin/berth" version
env -u JAVA_HOME PATH=/usr/sbin:/usr/bin:/sbin:/bin "$image/bin/berth" plugins
test/e2e/jit-directives.sh "$image"
echo "== metrics end to end: a real Prometheus scrapes the image's daemon through a pod lifecycle"
test/e2e/metrics.sh
echo "== tracing and berth explain end to end: spans reach an OTLP receiver, explain names the cause"
test/e2e/tracing-explain.sh
echo "== conformance: critest v1.29"
test/critest/run.sh
echo "== plugins: hot install, replacement, removal and drain against the running daemon"
test/plugins/hot-install.sh
# The critest kit's registry, started again by hot-install.sh after critest stopped it, is not needed past here.
../shared/critest/build-images.sh stop >/dev/null 2>&1 || true
echo "== kill -9 soak: 30 cycles of pod and container churn with berth killed and restarted"
test/soak/kill9.sh 30
echo "== the package under systemd: Debian 13 and Debian 12 roots"
test/systemd/run.sh trixie target/systemd/trixie
test/systemd/run.sh bookworm target/systemd/bookworm
echo "all tests passed"
