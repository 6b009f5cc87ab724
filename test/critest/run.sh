#!/usr/bin/env bash
# Runs the Kubernetes CRI conformance suite (critest v1.29) against the built berth image, as CI does:
# builds critest's images into a local registry, starts berth from distribution/target/berth with a config
# that mirrors the public registries to it, runs the streaming end-to-end checks (test/e2e/streaming.sh) and
# the behaviour-parity checks (test/e2e/parity.sh), the CRI metrics checks (test/e2e/cri-metrics.sh), the fuzzer (test/fuzz/run.sh; BERTH_FUZZ_SEED picks the seed),
# then critest on one node, on two nodes, with the crun handler, with the shimv2-runc handler (kata type
# over containerd-shim-runc-v2) and with the gvisor handler (runsc), checks the pass counts against
# expected.txt, runs `berth tck` on the runc plugin archive (docs/tck.md), and stops everything.
# Usage (root, from the repository): test/critest/run.sh [logdir]
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
kit=$(cd ../shared/critest && pwd)
logs=${1:-$repo/target/critest}
mkdir -p "$logs"
image=$repo/distribution/target/berth
[ -x "$image/bin/berth" ] || { echo "build the image first (mvn install)" >&2; exit 1; }

work=$(mktemp -d /tmp/berth-critest.XXXXXX)
daemon=
cleanup() {
  local sock=$work/berth.sock
  if [ -S "$sock" ]; then
    # Leave nothing behind: remove every pod through CRI, then stop berth.
    "$kit/bin/crictl" --runtime-endpoint "unix://$sock" rmp -af >/dev/null 2>&1 || true
  fi
  [ -n "$daemon" ] && kill -TERM "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
  if grep -q "$work" /proc/self/mountinfo; then
    grep "$work" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  fi
  ip link del berth0 2>/dev/null || true
  "$kit/build-images.sh" stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== critest images into the local registry"
"$kit/build-images.sh" >"$logs/build-images.log" 2>&1 || { tail -20 "$logs/build-images.log"; exit 1; }

for h in registry.k8s.io gcr.io k8s.gcr.io quay.io public.ecr.aws docker.io; do
  mkdir -p "$work/certs.d/$h"
  printf 'server = "http://127.0.0.1:5000"\n[host."http://127.0.0.1:5000"]\n  capabilities = ["pull", "resolve"]\n' \
    >"$work/certs.d/$h/hosts.toml"
done
sed "s#@WORK@#$work#g" test/critest/config.toml.in >"$work/config.toml"
"$image/bin/berth" network install-default-cni --dir "$work/cni" >/dev/null

echo "== starting berth from the image"
env -u JAVA_HOME "$image/bin/berth" daemon --config "$work/config.toml" >"$logs/berth.log" 2>&1 &
daemon=$!
for _ in $(seq 1 150); do
  "$kit/bin/crictl" --runtime-endpoint "unix://$work/berth.sock" version >/dev/null 2>&1 && break
  kill -0 "$daemon" 2>/dev/null || { tail -20 "$logs/berth.log"; exit 1; }
  sleep 0.2
done

ep=unix://$work/berth.sock
status=0
for handler in runc shimv2-runc; do
  echo "== streaming end to end ($handler): crictl over SPDY, WebSocket from the RPCs' URLs"
  if test/e2e/streaming.sh "$work/berth.sock" "$handler" >"$logs/e2e-streaming-$handler.log" 2>&1; then
    tail -1 "$logs/e2e-streaming-$handler.log"
  else
    grep -E '^(FAIL|  )' "$logs/e2e-streaming-$handler.log" || tail -20 "$logs/e2e-streaming-$handler.log"
    status=1
  fi
done
for handler in runc crun shimv2-runc; do
  echo "== behaviour parity end to end ($handler): identity, environment, status after update"
  # kata's handler passes no host devices to a privileged container (containerd's kata setups turn them off too)
  host_devices=yes; [ "$handler" = shimv2-runc ] && host_devices=no
  if PARITY_HOST_DEVICES=$host_devices PARITY_CDI_DIR=$work/cdi test/e2e/parity.sh "$work/berth.sock" "$handler" \
      >"$logs/e2e-parity-$handler.log" 2>&1; then
    tail -1 "$logs/e2e-parity-$handler.log"
  else
    grep -E '^FAIL' "$logs/e2e-parity-$handler.log" || tail -20 "$logs/e2e-parity-$handler.log"
    status=1
  fi
done
for handler in runc shimv2-runc; do
  echo "== CRI metrics end to end ($handler): ListMetricDescriptors and ListPodSandboxMetrics"
  if test/e2e/cri-metrics.sh "$work/berth.sock" "$handler" >"$logs/e2e-cri-metrics-$handler.log" 2>&1; then
    tail -1 "$logs/e2e-cri-metrics-$handler.log"
  else
    grep -E '^FAIL' "$logs/e2e-cri-metrics-$handler.log" || tail -20 "$logs/e2e-cri-metrics-$handler.log"
    status=1
  fi
done
echo "== fuzz: 5,000 random and spoiled requests over every method of runtime.v1, runtime.v1alpha2 and the proto2 runtime"
seed=${BERTH_FUZZ_SEED:-10}
if test/fuzz/run.sh "$work/berth.sock" --seed "$seed" --calls 5000 --image registry.k8s.io/pause:3.9 \
    --pull-prefix registry.k8s.io >"$logs/fuzz.log" 2>&1; then
  tail -1 "$logs/fuzz.log"
else
  tail -20 "$logs/fuzz.log"
  status=1
fi
run() { # name, critest args...
  local name=$1; shift
  echo "== critest: $name"
  (cd "$work" && PATH="$kit/bin:$PATH" timeout 1200 critest --runtime-endpoint="$ep" --image-endpoint="$ep" "$@" \
    >"$logs/critest-$name.log" 2>&1) || true
  local summary passed want
  # -a: a spec's output may hold binary bytes (gVisor's), and grep then prints "binary file matches" only.
  summary=$(sed 's/\x1b\[[0-9;]*m//g' "$logs/critest-$name.log" | grep -a -E '(SUCCESS|FAIL)! -- ' | tail -1)
  sed 's/\x1b\[[0-9;]*m//g' "$logs/critest-$name.log" | grep -a -E '^\s*\[FAIL\]' || true
  passed=$(echo "$summary" | sed -n 's/.* \([0-9]*\) Passed.*/\1/p')
  want=$(awk -v n="$name" '$1 == n {print $2}' test/critest/expected.txt)
  if [ -z "$passed" ] || [ "$passed" -lt "$want" ]; then
    echo "$name: NOT OK, ${summary:-no summary}: at least $want must pass (test/critest/expected.txt)"
    status=1
  else
    echo "$name: ok, critest says ${summary} (at least $want must pass, test/critest/expected.txt)"
  fi
}
run runc
run runc-parallel --parallel=2
run crun -runtime-handler=crun
run shimv2-runc -runtime-handler=shimv2-runc
run gvisor -runtime-handler=gvisor
echo "== berth tck: the runc plugin archive (built outside the reactor) certified as a third party's (packaging, SPI contract, critest)"
# Its own daemon, bridge (berth-tck0) and subnet beside the one above; critest's images from the same registry.
# The archive built outside the reactor by test/plugins/outside-build.sh (as scripts/test.sh runs it), else the reactor's.
tck_archive=plugins/runc/target/runc.zip
[ -f target/outside-build/vendor/runc/target/runc.zip ] && tck_archive=target/outside-build/vendor/runc/target/runc.zip
echo "archive: $tck_archive"
if "$image/bin/berth" tck "$tck_archive" --handler runc -o binary=runc \
    --critest "$kit/bin/critest" --registry-mirror http://127.0.0.1:5000 --logs "$logs/tck-runc" \
    >"$logs/tck-runc.log" 2>&1; then
  tail -1 "$logs/tck-runc.log"
else
  grep -E '^ *FAIL|^tck:' "$logs/tck-runc.log" || tail -20 "$logs/tck-runc.log"
  status=1
fi
exit $status
