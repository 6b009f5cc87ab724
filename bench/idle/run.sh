#!/usr/bin/env bash
# What an idle node costs: N pods (default 30) of one busybox sleep each, started with crictl, then nothing calls
# the runtime for T seconds (default 120). Reported per runtime and round: the CPU time per minute of the daemon's
# own threads, of the children it reaped (for berth: its health checks' runtime starts, CNI plugins), and of the
# per-pod helpers with their reaped children (conmon and berth-logjoin for berth, containerd-shim-runc-v2 for
# containerd), the daemon's RSS at the end, and, for berth, its threads that ran (clock ticks over the T seconds).
# berth (this build), BASELINE= another berth image (before a change) and containerd 1.6.20 take turns, ROUNDS
# rounds (default 2). Needs root and the critest registry (../shared/critest/build-images.sh).
# Usage: bench/idle/run.sh [pods] [seconds]     (ROUNDS=n BASELINE=dir CONTAINERD=no in the env)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-30}
seconds=${2:-120}
rounds=${ROUNDS:-2}
. bench/lib.sh
this_image=$image
hz=$(getconf CLK_TCK)

stat_fields() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null || echo "x x x x x x x x x x x 0 0 0 0"; }
own_ticks() { stat_fields "$1" | awk '{print $12 + $13}'; }
reaped_ticks() { stat_fields "$1" | awk '{print $14 + $15}'; }
helper_ticks() { # pattern -> utime + stime + cutime + cstime of the live processes matching it
  local t=0 p
  for p in $(pgrep -f "$1" || true); do t=$(( t + $(stat_fields "$p" | awk '{print $12 + $13 + $14 + $15}') )); done
  echo "$t"
}
threads() { # pid -> "tid name ticks" per thread
  local t
  for t in /proc/"$1"/task/*; do
    echo "$(basename "$t") $(tr ' ' _ <"$t/comm") $(sed 's/.*) //' "$t/stat" | awk '{print $12 + $13}')"
  done | sort
}
per_min() { awk -v t="$1" -v hz="$hz" -v s="$seconds" 'BEGIN {printf "%.3f", t / hz / s * 60}'; }

round() { # label, runtime, berth image dir (for berth), helper pattern
  local label=$1 rt=$2 img=$3 pattern=$4
  BERTH_IMAGE=$img
  bench_config "$rt"
  bench_start "$rt" "$work/daemon.log"
  local C=("$crictl" --runtime-endpoint "unix://$work/sock" --image-endpoint "unix://$work/sock") i p c
  "${C[@]}" pull registry.k8s.io/pause:3.9 >/dev/null
  "${C[@]}" pull docker.io/library/busybox:1.36 >/dev/null
  for i in $(seq "$n"); do
    printf '{"metadata": {"name": "idle-%s", "namespace": "bench", "uid": "idle-%s"}, "log_directory": "%s", "linux": {}}\n' \
      "$i" "$i" "$work/logs/idle-$i" >"$work/pod.json"
    printf '{"metadata": {"name": "sleeper"}, "image": {"image": "docker.io/library/busybox:1.36"}, "command": ["sleep", "3600"], "log_path": "sleeper.log", "linux": {}}\n' \
      >"$work/ctr.json"
    p=$("${C[@]}" runp "$work/pod.json")
    c=$("${C[@]}" create "$p" "$work/ctr.json" "$work/pod.json")
    "${C[@]}" start "$c" >/dev/null
  done
  sleep 20 # past the pods' own start-up work and the JIT's compiles of it
  local own0 reaped0 help0 own1 reaped1 help1
  threads "$pid" >"$work/threads0"
  own0=$(own_ticks "$pid"); reaped0=$(reaped_ticks "$pid"); help0=$(helper_ticks "$pattern")
  sleep "$seconds"
  own1=$(own_ticks "$pid"); reaped1=$(reaped_ticks "$pid"); help1=$(helper_ticks "$pattern")
  threads "$pid" >"$work/threads1"
  echo "IDLE $label daemon $(per_min $((own1 - own0))) s/min, its reaped children $(per_min $((reaped1 - reaped0))) s/min, helpers $(per_min $((help1 - help0))) s/min, daemon RSS $(awk '/VmRSS/ {print $2}' "/proc/$pid/status") kB ($n pods, $seconds s)"
  if [ "$rt" = berth ]; then
    echo "THREADS $label $(join "$work/threads0" "$work/threads1" | awk '{d = $5 - $3; if (d > 0) n[$2] += d} END {for (k in n) printf "%s=%d ", k, n[k]}' | tr ' ' '\n' | sort -t= -k2 -rn | head -8 | tr '\n' ' ')"
  fi
  bench_stop
}

for r in $(seq 1 "$rounds"); do
  echo "== round $r: $n idle pods, $seconds s"
  bench_turns round
done
