#!/usr/bin/env bash
# critest v1.29 -benchmark against berth (runc handler, jlink image) and containerd's CRI plugin with its runc
# shim, on the same host in one run, with the parameters in bench/critest/params.yaml. critest keeps one gRPC
# connection, as the kubelet does, so these are the runtimes' own latencies without crictl's process start.
# Prints the median of every operation for both runtimes and their ratio; keeps the raw data in
# target/bench-critest/<runtime>/. Needs root and the critest registry (../shared/critest/build-images.sh).
# Usage: bench/critest/run.sh    (CONTAINERD=no leaves containerd out; BERTH_IMAGE=<jlink image> measures another build)
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lib.sh
out=$(pwd)/target/bench-critest
rm -rf "$out"; mkdir -p "$out"
runtimes=(berth)
[ "${CONTAINERD:-yes}" != no ] && command -v containerd >/dev/null && runtimes+=(containerd)
for rt in "${runtimes[@]}"; do
  bench_config "$rt"
  bench_start "$rt" "$out/$rt-daemon.log"
  mkdir -p "$out/$rt"
  "$kit/bin/critest" --runtime-endpoint "unix://$work/sock" --image-endpoint "unix://$work/sock" -benchmark \
    --benchmarking-params-file bench/critest/params.yaml --benchmarking-output-dir "$out/$rt" \
    --ginkgo.json-report "$out/$rt/report.json" >"$out/$rt/critest.log" 2>&1 \
    || { echo "critest -benchmark failed for $rt; see $out/$rt/critest.log" >&2; tail -20 "$out/$rt/critest.log" >&2; exit 1; }
  bench_stop
done
python3 bench/critest/summarize.py "$out" "${runtimes[@]}" | tee "$out/summary.md"
