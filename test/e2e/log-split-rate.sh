#!/usr/bin/env bash
# How often a container's line, written in several write() calls, reaches its CRI log split into partial (P)
# records. The kit's httpd image prints "Command line: 'httpd -D FOREGROUND'" in four writes; critest's
# "Multiple Containers ... should support container log" looks for that text whole in the log file.
# Starts berth (jlink image) on a private config as bench/lib.sh does, then runs RUNS pods with one httpd
# container each on HANDLER and counts the logs whose line is whole.
# Needs root and the critest registry (../shared/critest/build-images.sh).
# Usage: test/e2e/log-split-rate.sh [runs] [handler]     (default 40, the default handler)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-40}
handler=${2:-}
. bench/lib.sh
bench_config berth
bench_start berth "$work/daemon.log"
C=("$crictl" --runtime-endpoint "unix://$work/sock" --image-endpoint "unix://$work/sock")
img=registry.k8s.io/e2e-test-images/httpd:2.4.39-4
"${C[@]}" pull "$img" >/dev/null
whole=0 split=0
for i in $(seq 1 "$runs"); do
  cat >"$work/pod.json" <<JSON
{"metadata": {"name": "split-$i", "namespace": "split", "uid": "uid-split-$i"}, "log_directory": "$work/logs/$i"}
JSON
  cat >"$work/ctr.json" <<JSON
{"metadata": {"name": "httpd"}, "image": {"image": "$img"}, "log_path": "httpd.log"}
JSON
  p=$("${C[@]}" runp ${handler:+--runtime "$handler"} "$work/pod.json")
  c=$("${C[@]}" create "$p" "$work/ctr.json" "$work/pod.json")
  "${C[@]}" start "$c" >/dev/null
  log=$work/logs/$i/httpd.log
  for _ in $(seq 1 100); do grep -q "'$" "$log" 2>/dev/null && break; sleep 0.05; done
  if grep -q "httpd -D FOREGROUND" "$log"; then whole=$((whole + 1)); else split=$((split + 1)); cp "$log" "$results/split-$i.log"; fi
  "${C[@]}" rmp -f "$p" >/dev/null
done
echo "whole lines: $whole, split into partial records: $split (of $runs)"
for f in "$results"/split-*.log; do [ -e "$f" ] && { echo "e.g. $(basename "$f"):"; cat "$f"; break; }; done
bench_stop
