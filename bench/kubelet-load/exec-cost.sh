#!/usr/bin/env bash
# What one exec probe costs: berth (runc handler) against containerd's CRI plugin (runc shim), and optionally
# another berth build (BASELINE= the path of its jlink image), taking turns for ROUNDS rounds (default 2).
#
# Each turn starts the daemon on a private root, state, socket and CNI bridge (bench/lib.sh), runs one pod with a
# busybox sleep through crictl, and runs bench/kubelet-load/ExecCost.java over one gRPC connection: CALLS ExecSync
# calls of `true` back to back (default 1000, after 300 to warm up), then as many Version calls. It prints the CPU
# time per call of the daemon, the children it reaped and its live helpers with their reaped children (berth's exec
# helper, containerd's shim), which the host's other work hardly moves, and the calls' p50.
# Needs root and the critest registry (../shared/critest/build-images.sh).
# Usage: bench/kubelet-load/exec-cost.sh [calls]     (ROUNDS=n BASELINE=dir CONTAINERD=no in the env)
set -euo pipefail
cd "$(dirname "$0")/../.."
calls=${1:-1000}
rounds=${ROUNDS:-2}
. bench/lib.sh
this_image=$image
java=$(bench_java)

turn() { # label, runtime, berth image dir (for berth), helper pattern
  local label=$1 rt=$2 img=$3 pattern=$4
  image=$img
  bench_config "$rt"
  bench_start "$rt" "$work/daemon.log"
  local C=("$crictl" --runtime-endpoint "unix://$work/sock" --image-endpoint "unix://$work/sock")
  "${C[@]}" pull docker.io/library/busybox:1.36 >/dev/null
  printf '{"metadata": {"name": "exec-cost", "namespace": "bench", "uid": "exec-cost"}, "log_directory": "%s"}\n' \
    "$work/logs" >"$work/pod.json"
  printf '{"metadata": {"name": "sleep"}, "image": {"image": "docker.io/library/busybox:1.36"}, %s}\n' \
    '"command": ["sleep", "1000000"], "log_path": "sleep.log"' >"$work/container.json"
  local ctr
  ctr=$("${C[@]}" run "$work/container.json" "$work/pod.json")
  "$java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -cp "$this_image/lib/*" \
    bench/kubelet-load/ExecCost.java "$work/sock" "$label" "$ctr" "$pid" "$pattern" "$calls" 2>>"$results/client.err" | tee -a "$results/all.out"
  bench_stop
}

for r in $(seq 1 "$rounds"); do
  echo "== round $r: $calls exec probes back to back"
  bench_turns turn
done
