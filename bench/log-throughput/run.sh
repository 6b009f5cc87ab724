#!/usr/bin/env bash
# Log throughput of a chatty container: a busybox container writes LINES lines of 64 bytes as fast as it can
# (`yes ... | head`), and the time from StartContainer to its exit, with every line in its CRI log file, is
# measured. Runtimes, in turns for ROUNDS rounds (default 3): berth's runc handler (conmon, then berth-logjoin),
# the same with log_joiner = "none" (conmon writes the file itself), and containerd (its daemon copies the
# shim's FIFOs into the file). Medians in lines per second; each run also checks that no line was lost.
# Needs root and the critest registry (../shared/critest/build-images.sh).
# Usage: bench/log-throughput/run.sh [lines]     (default 500000; ROUNDS=n in the environment)
set -euo pipefail
cd "$(dirname "$0")/../.."
lines=${1:-500000}
rounds=${ROUNDS:-3}
. bench/lib.sh
img=registry.k8s.io/e2e-test-images/busybox:1.29-4
line=$(printf 'log line %055d' 0) # 64 bytes with its newline

one() { # label, runtime, handler
  local label=$1 rt=$2 handler=$3
  bench_config "$rt"
  if [ "$rt" = berth ]; then
    printf '[runtimes.runc-nojoin]\ntype = "runc"\n[runtimes.runc-nojoin.options]\nlog_joiner = "none"\n' >>"$work/berth.toml"
  fi
  bench_start "$rt" "$work/daemon.log"
  local C=("$crictl" --runtime-endpoint "unix://$work/sock" --image-endpoint "unix://$work/sock")
  "${C[@]}" pull "$img" >/dev/null
  cat >"$work/pod.json" <<JSON
{"metadata": {"name": "logs", "namespace": "bench", "uid": "uid-logs"}, "log_directory": "$work/logs",
 "linux": {"security_context": {"namespace_options": {"pid": 1}}}}
JSON
  cat >"$work/ctr.json" <<JSON
{"metadata": {"name": "chatty"}, "image": {"image": "$img"}, "log_path": "chatty.log",
 "command": ["sh", "-c", "yes '$line' | head -n $lines"]}
JSON
  local p c s e state
  p=$("${C[@]}" runp ${handler:+--runtime "$handler"} "$work/pod.json")
  c=$("${C[@]}" create "$p" "$work/ctr.json" "$work/pod.json")
  s=$(date +%s%N)
  "${C[@]}" start "$c" >/dev/null
  until state=$("${C[@]}" inspect -o go-template --template '{{.status.state}}' "$c") && [ "$state" = CONTAINER_EXITED ]; do
    sleep 0.02
  done
  e=$(date +%s%N)
  local got whole
  got=$(wc -l <"$work/logs/chatty.log")
  whole=$(grep -c " F $line\$" "$work/logs/chatty.log" || true)
  local ms=$(( (e - s) / 1000000 ))
  echo "  $label: $ms ms, $got records, $whole whole lines of $lines"
  [ "$whole" -eq "$lines" ] || echo "  $label: LOST OR SPLIT LINES" >&2
  echo $(( lines * 1000 / (ms > 0 ? ms : 1) )) >>"$results/$label"
  "${C[@]}" rmp -f "$p" >/dev/null
  bench_stop
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
have_containerd=$(command -v containerd || true)
for round in $(seq 1 "$rounds"); do
  echo "round $round"
  one berth-logjoin berth ""
  one berth-conmon-only berth runc-nojoin
  [ -n "$have_containerd" ] && one containerd containerd ""
done
for label in berth-logjoin berth-conmon-only containerd; do
  [ -f "$results/$label" ] && echo "$label: median $(median <"$results/$label") lines/s over $rounds rounds"
done
