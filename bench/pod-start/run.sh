#!/usr/bin/env bash
# Pod + container start latency and per-pod memory, berth (jlink image; its runc handler, and its crun handler
# for information) against containerd's CRI plugin with its runc shim, on the same host in one run, both
# driven by crictl.
#
# Two kinds of pod, each its own round: "kubelet" pods carry the namespace options the kubelet sends for a pod
# without shareProcessNamespace (a pid namespace per container), as nearly every Kubernetes pod is; "shared-pid"
# pods leave them unset, which CRI reads as one pid namespace for the pod (crictl's and critest's default, and
# the kubelet's for shareProcessNamespace). berth runs a pause container only for the second kind; containerd
# runs one for both.
#
# Per runtime and kind: start the daemon on a private root, state, socket and CNI bridge; pull the pause and busybox
# images from the local registry; start one warm-up pod; then start N pods, each with one busybox container,
# timing runp + create + start (three crictl runs, so crictl's own start-up, about 40 ms a run, is in both);
# with all N running, measure the memory the runtime adds per pod: the daemon's RSS growth plus the RSS of its
# per-pod processes (conmon for berth, containerd-shim-runc-v2 for containerd), divided by N.
# Needs root and the critest registry (../shared/critest/build-images.sh).
# Usage: bench/pod-start/run.sh [pods]     (default 10)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-10}
. bench/lib.sh

rss_kb() { awk '/VmRSS/ {s += $2} END {print s + 0}' "$@" 2>/dev/null || echo 0; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
helpers_rss() { # pattern -> summed RSS (kB) of matching processes
  local files=()
  for p in $(pgrep -f "$1" || true); do files+=("/proc/$p/status"); done
  [ ${#files[@]} -gt 0 ] && rss_kb "${files[@]}" || echo 0
}

bench() { # label, runtime, per-pod helper pattern, handler, pid namespace mode (1 CONTAINER, 0 POD)
  local label=$1 rt=$2 pattern=$3 handler=$4 pidmode=$5
  bench_config "$rt"
  bench_start "$rt" "$work/daemon.log"
  local C=("$crictl" --runtime-endpoint "unix://$work/sock" --image-endpoint "unix://$work/sock")
  "${C[@]}" pull registry.k8s.io/pause:3.9 >/dev/null
  "${C[@]}" pull docker.io/library/busybox:1.36 >/dev/null
  cat >"$work/ctr.json" <<JSON
{"metadata": {"name": "sleeper"}, "image": {"image": "docker.io/library/busybox:1.36"},
 "command": ["sleep", "3600"], "log_path": "sleeper.log",
 "linux": {"security_context": {"namespace_options": {"pid": $pidmode}}}}
JSON
  one() {
    cat >"$work/pod-$1.json" <<JSON
{"metadata": {"name": "bench-$1", "namespace": "bench", "uid": "uid-$1"}, "log_directory": "$work/logs/$1",
 "linux": {"security_context": {"namespace_options": {"pid": $pidmode}}}}
JSON
    local p c
    p=$("${C[@]}" runp ${handler:+--runtime "$handler"} "$work/pod-$1.json")
    c=$("${C[@]}" create "$p" "$work/ctr.json" "$work/pod-$1.json")
    "${C[@]}" start "$c" >/dev/null
  }
  one warmup
  sleep 2
  local base; base=$(rss_kb "/proc/$pid/status")
  local base_helpers; base_helpers=$(helpers_rss "$pattern")
  local times=()
  for i in $(seq 1 "$n"); do
    local t0; t0=$(date +%s%3N); one "$i"; times+=($(( $(date +%s%3N) - t0 )))
  done
  sleep 3
  local after; after=$(rss_kb "/proc/$pid/status")
  local helpers; helpers=$(helpers_rss "$pattern")
  local med; med=$(printf '%s\n' "${times[@]}" | median)
  local per_pod=$(( (after - base + helpers - base_helpers) / n ))
  echo "$label: pod+container start median ${med} ms (runs: ${times[*]}); memory per pod ${per_pod} kB" \
       "(daemon +$(( (after - base) / n )) kB, helpers $(( (helpers - base_helpers) / n )) kB)"
  eval "${label//-/_}_start=$med ${label//-/_}_mem=$per_pod"
  bench_stop
}

for kind in kubelet shared-pid; do
  mode=$([ "$kind" = kubelet ] && echo 1 || echo 0)
  echo "== $kind pods"
  bench berth berth "conmon.*$work" "" "$mode"
  bench berth-crun berth "conmon.*$work" crun "$mode"
  if command -v containerd >/dev/null; then
    bench containerd containerd "containerd-shim-runc-v2.*$work" "" "$mode"
    awk -v k="$kind" -v bs="$berth_start" -v cs="$containerd_start" -v bm="$berth_mem" -v cm="$containerd_mem" \
      -v xs="$berth_crun_start" 'BEGIN {printf "%s pods, ratio berth/containerd: start %.2f (target <= 0.8; crun handler %.2f), memory per pod %.2f (target <= 0.5)\n", k, bs/cs, xs/cs, bm/cm}'
  fi
done
