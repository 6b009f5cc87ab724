#!/usr/bin/env bash
# Pod + container start latency and per-pod memory, berth (runc handler, jlink image) against containerd's CRI
# plugin with its runc shim, on the same host in one run, both driven by crictl.
#
# Per runtime: start the daemon on a private root, state, socket and CNI bridge; pull the pause and busybox
# images from the local registry; start one warm-up pod; then start N pods, each with one busybox container,
# timing runp + create + start; with all N running, measure the memory the runtime adds per pod: the daemon's
# RSS growth plus the RSS of its per-pod processes (conmon for berth, containerd-shim-runc-v2 for containerd),
# divided by N. Needs root and the critest registry (../shared/critest/build-images.sh).
# Usage: bench/pod-start/run.sh [pods]     (default 10)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-10}
kit=$(cd ../shared/critest && pwd)
crictl=$kit/bin/crictl
image=distribution/target/berth
[ -x "$image/bin/berth" ] || { echo "build first: mvn -DskipTests install" >&2; exit 1; }
curl -sf http://127.0.0.1:5000/v2/ >/dev/null || "$kit/build-images.sh" >/dev/null
work=$(mktemp -d /tmp/berth-podbench.XXXXXX)
pid=
cleanup() {
  [ -S "$work/sock" ] && "$crictl" --runtime-endpoint "unix://$work/sock" rmp -af >/dev/null 2>&1 || true
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  grep "$work" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  ip link del benchbr0 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

now_ms() { date +%s%3N; }
rss_kb() { awk '/VmRSS/ {s += $2} END {print s + 0}' "$@" 2>/dev/null || echo 0; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
helpers_rss() { # pattern -> summed RSS (kB) of matching processes
  local files=()
  for p in $(pgrep -f "$1" || true); do files+=("/proc/$p/status"); done
  [ ${#files[@]} -gt 0 ] && rss_kb "${files[@]}" || echo 0
}

setup_common() {
  rm -rf "$work"/*; mkdir -p "$work/cni" "$work/certs.d" "$work/logs"
  for h in registry.k8s.io docker.io; do
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

bench() { # name, per-pod helper pattern, daemon command...
  local name=$1 pattern=$2; shift 2
  "$@" >"$work/daemon.log" 2>&1 &
  pid=$!
  local ep="unix://$work/sock"
  until "$crictl" --runtime-endpoint "$ep" version >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { tail "$work/daemon.log"; exit 1; }; sleep 0.1
  done
  local C=("$crictl" --runtime-endpoint "$ep" --image-endpoint "$ep")
  "${C[@]}" pull registry.k8s.io/pause:3.9 >/dev/null
  "${C[@]}" pull docker.io/library/busybox:1.36 >/dev/null
  one() {
    cat >"$work/pod-$1.json" <<JSON
{"metadata": {"name": "bench-$1", "namespace": "bench", "uid": "uid-$1"}, "log_directory": "$work/logs/$1", "linux": {}}
JSON
    cat >"$work/ctr.json" <<JSON
{"metadata": {"name": "sleeper"}, "image": {"image": "docker.io/library/busybox:1.36"},
 "command": ["sleep", "3600"], "log_path": "sleeper.log", "linux": {}}
JSON
    local p c
    p=$("${C[@]}" runp "$work/pod-$1.json")
    c=$("${C[@]}" create "$p" "$work/ctr.json" "$work/pod-$1.json")
    "${C[@]}" start "$c" >/dev/null
  }
  one warmup
  sleep 2
  local base; base=$(rss_kb "/proc/$pid/status")
  local base_helpers; base_helpers=$(helpers_rss "$pattern")
  local times=()
  for i in $(seq 1 "$n"); do
    local t0; t0=$(now_ms); one "$i"; times+=($(( $(now_ms) - t0 )))
  done
  sleep 3
  local after; after=$(rss_kb "/proc/$pid/status")
  local helpers; helpers=$(helpers_rss "$pattern")
  local med; med=$(printf '%s\n' "${times[@]}" | median)
  local per_pod=$(( (after - base + helpers - base_helpers) / n ))
  echo "$name: pod+container start median ${med} ms (runs: ${times[*]}); memory per pod ${per_pod} kB" \
       "(daemon +$(( (after - base) / n )) kB, helpers $(( (helpers - base_helpers) / n )) kB)"
  eval "${name}_start=$med ${name}_mem=$per_pod"
  "${C[@]}" rmp -af >/dev/null 2>&1 || true
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=
  ip link del benchbr0 2>/dev/null || true
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
bench berth "conmon.*$work" env -u JAVA_HOME "$image/bin/berth" daemon --config "$work/berth.toml"

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
  bench containerd "containerd-shim-runc-v2.*$work" containerd --config "$work/containerd.toml"
  awk -v bs="$berth_start" -v cs="$containerd_start" -v bm="$berth_mem" -v cm="$containerd_mem" \
    'BEGIN {printf "ratio berth/containerd: start %.2f (target <= 0.8), memory per pod %.2f (target <= 0.5)\n", bs/cs, bm/cm}'
fi
