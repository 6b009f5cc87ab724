#!/usr/bin/env bash
# A kubelet's steady load at N pods (default 100) for T seconds (default 120), berth (runc handler) against
# containerd's CRI plugin (runc shim) on the same host in one run, and optionally against another berth build
# (BASELINE= the path of its jlink image, e.g. a build from before a change) in the same run.
#
# Each round starts the daemon on a private root, state, socket and CNI bridge (bench/lib.sh), pulls the pause
# and busybox images from the local registry, and runs bench/kubelet-load/KubeletLoad.java over one gRPC
# connection: N pods of one busybox sleep, then for T seconds a relist (ListPodSandbox + ListContainers) every
# second, ListContainerStats and ListPodSandboxStats every 10 s, an ExecSync probe per pod every 10 s and Status
# every 10 s; then it stops and removes every pod. Reported per runtime and round: each call's p50/p99, the CPU
# time per minute of the daemon and its per-pod helpers (conmon and berth-logjoin for berth,
# containerd-shim-runc-v2 for containerd), each with its reaped children (runc, exec'd probes), the RSS of daemon
# and helpers under load and of the daemon once no pod is left, and the time to start and to tear down all pods;
# then, with the pods up and no other load, each status call 300 times back to back (SERIAL lines): the
# runtime's CPU time per call, which the host's other work hardly moves, and its latency.
# The runtimes take turns, ROUNDS rounds (default 2), because the shared host's load moves.
# Needs root and the critest registry (../shared/critest/build-images.sh).
# PARALLEL=P starts the pods, and stops and removes them at the end, P at a time (default 1).
# CONTAINERD=no leaves containerd out (to look at berth alone, e.g. with BERTH_JAVA_OPTS=-Xlog:gc:file=...).
# Usage: bench/kubelet-load/run.sh [pods] [seconds]     (ROUNDS=n BASELINE=dir PARALLEL=p BENCH_CGROUP_PARENT=/x in the env)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-100}
seconds=${2:-120}
rounds=${ROUNDS:-2}
. bench/lib.sh
this_image=$image
java=$(bench_java)

round() { # label, runtime, berth image dir (for berth), helper pattern
  local label=$1 rt=$2 img=$3 pattern=$4
  image=$img
  bench_config "$rt"
  bench_start "$rt" "$work/daemon.log"
  local C=("$crictl" --runtime-endpoint "unix://$work/sock" --image-endpoint "unix://$work/sock")
  "${C[@]}" pull registry.k8s.io/pause:3.9 >/dev/null
  "${C[@]}" pull docker.io/library/busybox:1.36 >/dev/null
  "$java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -cp "$this_image/lib/*" \
    -Dparallel="${PARALLEL:-1}" \
    bench/kubelet-load/KubeletLoad.java "$work/sock" "$label" "$work/logs" "$n" "$seconds" "$pid" "$pattern" \
    2>>"$results/client.err" | tee -a "$results/all.out"
  bench_stop
}

for r in $(seq 1 "$rounds"); do
  echo "== round $r: $n pods, $seconds s of kubelet load"
  bench_turns round
done
echo "== failed calls (client.err)"
sort "$results/client.err" | uniq -c | head -20 || true
