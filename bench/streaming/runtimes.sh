#!/usr/bin/env bash
# Streaming against real containers, berth (runc handler, jlink image) next to containerd's CRI plugin on the
# same host in one run, both driven by the real crictl over SPDY (containerd 1.6 serves no WebSocket):
#   - exec round trip: median wall time of `crictl exec CID true` (crictl's own start-up is in both);
#   - port-forward: a 100 MB download from busybox httpd in the pod through `crictl port-forward`.
# Needs root and the critest registry (../shared/critest/build-images.sh).
# Usage: bench/streaming/runtimes.sh [exec-rounds] [megabytes]      (defaults 30 and 100)
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-30}
mb=${2:-100}
. bench/lib.sh
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
runtimes=(berth)
command -v containerd >/dev/null && runtimes+=(containerd)
for rt in "${runtimes[@]}"; do
  bench_config "$rt"
  bench_start "$rt" "$work/$rt.log"
  C=("$crictl" --runtime-endpoint "unix://$work/sock" --image-endpoint "unix://$work/sock" --timeout 60s)
  "${C[@]}" pull docker.io/library/busybox:1.36 >/dev/null
  cat >"$work/pod.json" <<JSON
{"metadata": {"name": "stream-bench", "namespace": "bench", "uid": "stream-bench"}, "log_directory": "$work/logs", "linux": {}}
JSON
  cat >"$work/ctr.json" <<JSON
{"metadata": {"name": "web"}, "image": {"image": "docker.io/library/busybox:1.36"}, "log_path": "web.log", "linux": {},
 "command": ["sh", "-c", "mkdir -p /www && head -c $((mb * 1000000)) /dev/zero > /www/big && touch /www/ready && exec httpd -f -p 80 -h /www"]}
JSON
  pod=$("${C[@]}" runp "$work/pod.json")
  ctr=$("${C[@]}" create "$pod" "$work/ctr.json" "$work/pod.json")
  "${C[@]}" start "$ctr" >/dev/null
  until "${C[@]}" exec "$ctr" test -f /www/ready 2>/dev/null; do sleep 0.2; done
  "${C[@]}" exec "$ctr" true
  times=()
  for _ in $(seq 1 "$rounds"); do
    t0=$(date +%s%N); "${C[@]}" exec "$ctr" true; times+=($(( ($(date +%s%N) - t0) / 1000 )))
  done
  exec_us=$(printf '%s\n' "${times[@]}" | median)
  "${C[@]}" port-forward "$pod" 18090:80 >"$work/pf.log" 2>&1 &
  pf=$!
  until curl -s -o /dev/null --max-time 2 http://127.0.0.1:18090/ready; do sleep 0.2; done
  secs=$(curl -s -o /dev/null -w '%{time_total}' http://127.0.0.1:18090/big)
  got=$(curl -s -o /dev/null -w '%{size_download}' http://127.0.0.1:18090/big)
  kill "$pf"; wait "$pf" 2>/dev/null || true
  [ "$got" -eq $((mb * 1000000)) ] || { echo "$rt: port-forward delivered $got bytes, not $((mb * 1000000))" >&2; exit 1; }
  awk -v rt="$rt" -v e="$exec_us" -v s="$secs" -v mb="$mb" -v n="$rounds" 'BEGIN {
    printf "%s: crictl exec true median %.1f ms (n=%d); port-forward %d MB in %.2f s = %.0f MB/s\n", rt, e / 1000, n, mb, s, mb / s }' \
    | tee "$results/$rt.out"
  echo "RESULT $exec_us $secs" >>"$results/$rt.out"
  bench_stop
done
if [ ${#runtimes[@]} -eq 2 ]; then
  read -r _ be bs < <(grep '^RESULT' "$results/berth.out")
  read -r _ ce cs < <(grep '^RESULT' "$results/containerd.out")
  awk -v be="$be" -v ce="$ce" -v bs="$bs" -v cs="$cs" 'BEGIN {
    printf "ratio berth/containerd: exec round trip %.2f, port-forward time %.2f (throughput %.2fx)\n", be / ce, bs / cs, cs / bs }'
fi
