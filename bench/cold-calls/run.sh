#!/usr/bin/env bash
# Calls spread out as a kubelet or critest makes them, berth (jlink image) against containerd's CRI plugin on the
# same host in one run (bench/cold-calls/ColdCalls.java, one gRPC connection):
#
#   first   on a daemon just started, the first image calls: pull busybox, ImageStatus by name, ListImages,
#           RemoveImage, three rounds (critest's image benchmark when ginkgo runs it first); also the daemon's RSS
#           right after its start and after these calls.
#   sparse  one pod of HANDLER, warmed up, then Version and PodSandboxStatus with 0, 10 or 50 ms before each call
#           (an idle vCPU halts on this kind of host, and each thread a call wakes costs), and how often the
#           daemon's threads went to sleep per call (voluntary context switches: the threads a call woke) and how
#           long they ran on a CPU per call (/proc/<pid>/task/*/schedstat).
#   after-start  critest's container benchmark, whose ContainerStatus (verbose) comes right after StartContainer:
#           n containers created and started in one pod, each asked for its status verbose right after the start,
#           verbose again and not verbose (p50 of each), then stopped and removed.
#
# The runtimes take turns, ROUNDS rounds (default 2): berth, BASELINE=<jlink image> (another build, e.g. the one
# before a change) when given, then containerd. HANDLER (default: berth's default, runc) picks berth's handler for
# sparse: shimv2-runc adds a kata-type handler over containerd-shim-runc-v2 to berth's config; containerd
# always runs its runc shim.
# Needs root and the critest registry (../shared/critest/build-images.sh).
# Usage: bench/cold-calls/run.sh first|sparse|after-start [calls per pause, or containers; default 150]
set -euo pipefail
cd "$(dirname "$0")/../.."
mode=${1:?first, sparse or after-start}
n=${2:-150}
handler=${HANDLER:-}
. bench/lib.sh
java=$(bench_java)
client() { "$java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
  -cp "$image/lib/*" bench/cold-calls/ColdCalls.java "$@"; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }

one() { # label runtime [berth image]
  local label=$1 rt=$2
  bench_config "$rt"
  if [ "$rt" = berth ] && [ "$handler" = shimv2-runc ]; then
    printf '[runtimes.shimv2-runc]\ntype = "kata"\n[runtimes.shimv2-runc.options]\nshim = "containerd-shim-runc-v2"\n' \
      >>"$work/berth.toml"
  fi
  BERTH_IMAGE=${3:-} bench_start "$rt" "$results/$label-daemon.log"
  case $mode in
    first)
      sleep 2
      echo "$label RSS after start $(rss) kB"
      client first "$work/sock" | sed "s/^/$label /"
      echo "$label RSS after the calls $(rss) kB"
      ;;
    sparse)
      local h=$handler; [ "$rt" = containerd ] && h=
      client sparse "$work/sock" "$n" "$h" "$pid" | sed "s/^/$label /"
      ;;
    after-start)
      "$crictl" --runtime-endpoint "unix://$work/sock" --image-endpoint "unix://$work/sock" \
        pull docker.io/library/busybox:1.36 >/dev/null
      client after-start "$work/sock" "$n" | sed "s/^/$label /"
      ;;
  esac
  bench_stop
}

for round in $(seq 1 "${ROUNDS:-2}"); do
  echo "== round $round"
  one berth berth
  [ -n "${BASELINE:-}" ] && one berth-baseline berth "$BASELINE"
  command -v containerd >/dev/null && [ "${CONTAINERD:-yes}" != no ] && one containerd containerd
done
