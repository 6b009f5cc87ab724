#!/usr/bin/env bash
# critest v1.29 -benchmark against berth (runc handler, jlink image) and containerd's CRI plugin with its runc
# shim, on the same host in one run, with the parameters in bench/critest/params.yaml. critest keeps one gRPC
# connection, as the kubelet does, so these are the runtimes' own latencies without crictl's process start.
# Prints the median of every operation for both runtimes and their ratio; keeps the raw data in
# target/bench-critest/<runtime>/. Needs root and the critest registry (../shared/critest/build-images.sh).
# WRITER=<MB> runs a noisy neighbour for the whole benchmark: a process that rewrites a file of that many MB on the
# file system of the runtimes' roots, over and over, so that unwritten data is always pending there (a pod writing
# logs or scratch data on a node's disk), as it is on a busy node. A sync of that file system waits for it.
# Both runtimes run the specs in one order: ginkgo shuffles the benchmarks' order by a seed, and a JVM's first calls
# after its start are slower than its later ones, so the order moves berth's figures for whichever benchmark runs
# first. SEED=<n> picks the seed (default: the time); it is printed with the summary.
# Usage: bench/critest/run.sh    (CONTAINERD=no leaves containerd out; BERTH_IMAGE=<jlink image> measures another build)
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lib.sh
out=$(pwd)/target/bench-critest
rm -rf "$out"; mkdir -p "$out"
runtimes=(berth)
[ "${CONTAINERD:-yes}" != no ] && command -v containerd >/dev/null && runtimes+=(containerd)
writer=
stop_writer() {
  if [ -n "$writer" ]; then kill "$writer" 2>/dev/null || true; wait "$writer" 2>/dev/null || true; fi
  writer=; rm -f "$work/neighbour"
}
bench_before_exit() { stop_writer; }
seed=${SEED:-$(date +%s)}
for rt in "${runtimes[@]}"; do
  bench_config "$rt"
  bench_start "$rt" "$out/$rt-daemon.log"
  if [ -n "${WRITER:-}" ]; then
    ( while :; do dd if=/dev/zero of="$work/neighbour" bs=1M count="$WRITER" status=none; done ) &
    writer=$!
  fi
  mkdir -p "$out/$rt"
  "$kit/bin/critest" --runtime-endpoint "unix://$work/sock" --image-endpoint "unix://$work/sock" -benchmark \
    --ginkgo.seed "$seed" --benchmarking-params-file bench/critest/params.yaml --benchmarking-output-dir "$out/$rt" \
    --ginkgo.json-report "$out/$rt/report.json" >"$out/$rt/critest.log" 2>&1 \
    || { echo "critest -benchmark failed for $rt; see $out/$rt/critest.log" >&2; tail -20 "$out/$rt/critest.log" >&2; exit 1; }
  stop_writer
  bench_stop
done
echo "ginkgo seed $seed (the same order for every runtime)" | tee "$out/summary.md"
python3 bench/critest/summarize.py "$out" "${runtimes[@]}" | tee -a "$out/summary.md"
