#!/usr/bin/env bash
# The kubelet's stats loop: ListContainerStats once a second at N containers (default 100), berth against
# containerd's CRI plugin on the same host in one run, and optionally against another berth build (BASELINE=
# the path of its jlink image, e.g. a build from before a change) in the same run.
#
# Each round starts the daemon on a private root, state, socket and CNI bridge, pulls the pause and busybox
# images from the local registry, starts N pods of one busybox container that writes a 100 KiB file and
# sleeps (bench/stats-loop/StatsLoop.java, over one gRPC connection), and calls ListContainerStats once a
# second for SECONDS seconds (default 30). Reported per runtime, over all rounds: the median, 95th percentile
# and largest call latency, the CPU time the daemon and its per-container helpers spent during the loop per
# call, and how many containers the last answer gave a non-zero writable layer. The runtimes take turns,
# ROUNDS rounds (default 2), because the shared host's load moves.
# Needs root and the critest registry (../shared/critest/build-images.sh).
# Usage: bench/stats-loop/run.sh [containers]     (ROUNDS=n SECONDS_PER_ROUND=s BASELINE=dir in the environment)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-100}
rounds=${ROUNDS:-2}
seconds=${SECONDS_PER_ROUND:-30}
. bench/lib.sh
this_image=$image

cpu_ticks() { # pids... -> summed utime + stime in clock ticks
  local t=0 p
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] && t=$(( t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0) ))
  done
  echo "$t"
}
helper_pids() { pgrep -f "$1" || true; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
pct() { sort -n | awk -v q="$1" '{a[NR]=$1} END {i=int(NR*q+0.999); if (i<1) i=1; print a[i]}'; }

java=$(bench_java)
hz=$(getconf CLK_TCK)

round() { # label, runtime, berth image dir (for berth), helper pattern
  local label=$1 rt=$2 img=$3 pattern=$4
  image=$img
  bench_config "$rt"
  bench_start "$rt" "$work/daemon.log"
  local C=("$crictl" --runtime-endpoint "unix://$work/sock" --image-endpoint "unix://$work/sock")
  "${C[@]}" pull registry.k8s.io/pause:3.9 >/dev/null
  "${C[@]}" pull docker.io/library/busybox:1.36 >/dev/null
  local out="$results/round.out" before=0 after=0
  : >"$out"
  "$java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -cp "$this_image/lib/*" \
    bench/stats-loop/StatsLoop.java "$work/sock" "$label" "$work/logs" "$n" "$seconds" \
    2>>"$results/client.err" >"$out" &
  local client=$!
  until grep -q '^READY' "$out" || ! kill -0 "$client" 2>/dev/null; do sleep 0.1; done
  # shellcheck disable=SC2046
  before=$(cpu_ticks "$pid" $(helper_pids "$pattern"))
  until grep -q '^DONE' "$out" || ! kill -0 "$client" 2>/dev/null; do sleep 0.1; done
  # shellcheck disable=SC2046
  after=$(cpu_ticks "$pid" $(helper_pids "$pattern"))
  wait "$client"
  grep -v '^TIME\|^READY\|^DONE' "$out"
  grep '^TIME' "$out" | awk '{print $3}' >>"$results/$label.times"
  awk -v d=$(( after - before )) -v hz="$hz" -v s="$seconds" 'BEGIN {printf "%.2f\n", d * 1000 / hz / s}' \
    >>"$results/$label.cpu"
  echo "  $label: daemon and helpers CPU during the loop $(tail -1 "$results/$label.cpu") ms per call"
  bench_stop
}

labels=(berth)
[ -n "${BASELINE:-}" ] && labels+=(berth-baseline)
[ -n "$have_containerd" ] && labels+=(containerd)
for r in $(seq 1 "$rounds"); do
  echo " round $r"
  bench_turns round
done
echo "== ListContainerStats once a second at $n containers, $rounds rounds of $seconds calls"
for label in "${labels[@]}"; do
  echo "$label: median $(median <"$results/$label.times") ms, p95 $(pct 0.95 <"$results/$label.times") ms," \
    "max $(sort -n "$results/$label.times" | tail -1) ms; CPU $(median <"$results/$label.cpu") ms per call"
done
