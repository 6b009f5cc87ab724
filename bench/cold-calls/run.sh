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
#   image-cycle  critest's image benchmark on a daemon just started (neither side warmed up): n times pull
#           busybox, ImageStatus by name right after the pull, RemoveImage (p50 of each; default 30 cycles).
#           PROFILE=1 samples the daemon's threads with perf (cpu-clock, 20 kHz: no hardware counters needed) and
#           prints where they were during the ImageStatus calls alone (bench/cold-calls/windows.py): per call, by
#           thread and by what ran (the interpreter, compiled Java code, the JVM, the kernel). berth then runs with
#           -XX:+DumpPerfMapAtExit so that perf can tell its interpreter from its compiled code.
#   per-call  the daemon's CPU (user + system, /proc/<pid>/stat) per call, back to back, warmed up: n calls each
#           (default 20000) of Version, ImageStatus by name, ListImages and ListPodSandbox.
#
# The runtimes take turns, ROUNDS rounds (default 2): berth, BASELINE=<jlink image> (another build, e.g. the one
# before a change) when given, then containerd. HANDLER (default: berth's default, runc) picks berth's handler for
# sparse: shimv2-runc adds a kata-type handler over containerd-shim-runc-v2 to berth's config; containerd
# always runs its runc shim.
# Needs root and the critest registry (../shared/critest/build-images.sh).
# Usage: bench/cold-calls/run.sh first|sparse|after-start|image-cycle|per-call [calls per pause, containers or
#        cycles; default 150, 30 for image-cycle, 20000 for per-call]
set -euo pipefail
cd "$(dirname "$0")/../.."
mode=${1:?first, sparse, after-start, image-cycle or per-call}
case $mode in image-cycle) n=${2:-30} ;; per-call) n=${2:-20000} ;; *) n=${2:-150} ;; esac
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
  local perfmap=
  if [ "$mode" = image-cycle ] && [ -n "${PROFILE:-}" ] && [ "$rt" = berth ]; then
    perfmap="-XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit"
  fi
  BERTH_IMAGE=${3:-} BERTH_JAVA_OPTS="${BERTH_JAVA_OPTS:-} $perfmap" bench_start "$rt" "$results/$label-daemon.log"
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
    image-cycle)
      local recorder= daemon=$pid
      if [ -n "${PROFILE:-}" ]; then
        perf record -q -k mono -F 20000 -e cpu-clock -p "$pid" -o "$results/$label.perf" >/dev/null 2>&1 &
        recorder=$!
        sleep 1
      fi
      client image-cycle "$work/sock" "$n" "$results/$label.windows" | sed "s/^/$label /"
      [ -n "$recorder" ] && kill -INT "$recorder" && wait "$recorder" || true
      bench_stop # berth writes its perf map as it exits
      if [ -n "$recorder" ]; then
        perf script -i "$results/$label.perf" -F comm,time,ip,sym,dso 2>/dev/null \
          | python3 bench/cold-calls/windows.py "$results/$label.windows" | sed "s/^/$label /"
        rm -f "/tmp/perf-$daemon.map"
      fi
      return
      ;;
    per-call)
      client per-call "$work/sock" "$n" "$pid" | sed "s/^/$label /"
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
