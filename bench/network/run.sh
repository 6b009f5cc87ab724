#!/usr/bin/env bash
# The network setup share of RunPodSandbox, berth (runc handler, jlink image) next to containerd's CRI plugin on
# the same host in one run: the median RunPodSandbox latency of pods on the bench CNI bridge (bridge with
# host-local and ipMasq, then portmap) against host-network pods, over one gRPC connection per runtime
# (bench/network/NetworkShare.java). Needs root and the critest registry (../shared/critest/build-images.sh).
# Usage: bench/network/run.sh [pods]     (default 20 of each kind)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-20}
. bench/lib.sh
java=$(bench_java)
runtimes=(berth)
command -v containerd >/dev/null && runtimes+=(containerd)
for rt in "${runtimes[@]}"; do
  bench_config "$rt"
  bench_start "$rt" "$work/$rt.log"
  "$crictl" --runtime-endpoint "unix://$work/sock" --image-endpoint "unix://$work/sock" \
    pull registry.k8s.io/pause:3.9 >/dev/null
  "$java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -cp "$image/lib/*" \
    bench/network/NetworkShare.java "$work/sock" "$rt" "$n" 2>>"$results/client.err" | tee "$results/$rt.out" \
    | grep -v '^RESULT'
  bench_stop
done
if [ ${#runtimes[@]} -eq 2 ]; then
  read -r _ _ bn bh < <(grep '^RESULT' "$results/berth.out")
  read -r _ _ cn ch < <(grep '^RESULT' "$results/containerd.out")
  awk -v bn="$bn" -v bh="$bh" -v cn="$cn" -v ch="$ch" 'BEGIN {
    printf "ratio berth/containerd: RunPodSandbox with network %.2f, host network %.2f, network setup %.2f\n",
      bn / cn, bh / ch, (bn - bh) / (cn - ch) }'
fi
