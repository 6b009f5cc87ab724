#!/usr/bin/env bash
# critest v1.29 -benchmark against berth (runc handler, jlink image) and containerd's CRI plugin with its runc
# shim, on the same host in one run, with the parameters in bench/critest/params.yaml. critest keeps one gRPC
# connection, as the kubelet does, so these are the runtimes' own latencies without crictl's process start.
# Prints the median of every operation for both runtimes and their ratio; keeps the raw data in
# target/bench-critest/<runtime>/. Needs root and the critest registry (../shared/critest/build-images.sh).
# Usage: bench/critest/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
kit=$(cd ../shared/critest && pwd)
image=distribution/target/berth
[ -x "$image/bin/berth" ] || { echo "build first: mvn -DskipTests install" >&2; exit 1; }
curl -sf http://127.0.0.1:5000/v2/ >/dev/null || "$kit/build-images.sh" >/dev/null
out=$(pwd)/target/bench-critest
rm -rf "$out"; mkdir -p "$out"
work=$(mktemp -d /tmp/berth-critestbench.XXXXXX)
pid=
stop_daemon() {
  if [ -n "$pid" ]; then
    "$kit/bin/crictl" --runtime-endpoint "unix://$work/sock" rmp -af >/dev/null 2>&1 || true
    kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    pid=
  fi
  grep "$work" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  ip link del benchbr0 2>/dev/null || true
}
trap 'stop_daemon; rm -rf "$work"' EXIT

setup_common() {
  rm -rf "${work:?}"/*; mkdir -p "$work/cni" "$work/certs.d"
  for h in registry.k8s.io gcr.io k8s.gcr.io quay.io public.ecr.aws docker.io; do
    mkdir -p "$work/certs.d/$h"
    printf 'server = "http://127.0.0.1:5000"\n[host."http://127.0.0.1:5000"]\n  capabilities = ["pull", "resolve"]\n' \
      >"$work/certs.d/$h/hosts.toml"
  done
  cat >"$work/cni/10-bench.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "bench", "plugins": [
  {"type": "bridge", "bridge": "benchbr0", "isGateway": true, "ipMasq": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.77.0.0/16"}]], "dataDir": "$work/ipam"}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
JSON
}

run() { # name, daemon command...
  local name=$1; shift
  "$@" >"$out/$name-daemon.log" 2>&1 &
  pid=$!
  until "$kit/bin/crictl" --runtime-endpoint "unix://$work/sock" version >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { tail "$out/$name-daemon.log"; exit 1; }; sleep 0.1
  done
  mkdir -p "$out/$name"
  "$kit/bin/critest" --runtime-endpoint "unix://$work/sock" --image-endpoint "unix://$work/sock" -benchmark \
    --benchmarking-params-file bench/critest/params.yaml --benchmarking-output-dir "$out/$name" \
    --ginkgo.json-report "$out/$name/report.json" >"$out/$name/critest.log" 2>&1 \
    || { echo "critest -benchmark failed for $name; see $out/$name/critest.log" >&2; tail -20 "$out/$name/critest.log" >&2; exit 1; }
  stop_daemon
}

setup_common
cat >"$work/berth.toml" <<TOML
socket = "$work/sock"
state = "$work/state"
root = "$work/root"
[images]
registry_config_path = "$work/certs.d"
sandbox_image = "registry.k8s.io/pause:3.9"
[network]
cni_conf_dir = "$work/cni"
cni_bin_dirs = ["/usr/lib/cni"]
TOML
run berth env -u JAVA_HOME "$image/bin/berth" daemon --config "$work/berth.toml"

runtimes=(berth)
if command -v containerd >/dev/null; then
  setup_common
  cat >"$work/containerd.toml" <<TOML
version = 2
root = "$work/croot"
state = "$work/cstate"
[grpc]
  address = "$work/sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.9"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$work/cni"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$work/certs.d"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
TOML
  run containerd containerd --config "$work/containerd.toml"
  runtimes+=(containerd)
fi
python3 bench/critest/summarize.py "$out" "${runtimes[@]}" | tee "$out/summary.md"
