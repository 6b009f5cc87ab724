#!/usr/bin/env bash
# Where an idle daemon's resident memory is: berth (this build) and containerd 1.6.20 each started on the bench
# config with no pod, asked for Version, Status and the lists, then left alone for T seconds (default 20). For each,
# the RSS split the kernel's way (/proc/PID/smaps_rollup: anonymous, file-backed private and shared), the threads,
# and the mappings holding more than 1 MiB of it (each file, and the anonymous memory together). With NMT=yes berth
# also runs with -XX:NativeMemoryTracking=summary and prints what the JVM says it committed. BERTH_JAVA_OPTS adds
# JVM flags to berth's (to try one); CONTAINERD=no leaves containerd out. Needs root and the critest registry.
# Usage: bench/idle/rss-map.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-20}
. bench/lib.sh

report() { # label, pid
  local label=$1 p=$2
  echo "== $label (pid $p, $(ls "/proc/$p/task" | wc -l) threads)"
  awk '/^(Rss|Anonymous|Private_Clean|Private_Dirty|Shared_Clean|Shared_Dirty):/ {printf "  %-14s %8.1f MiB\n", $1, $2 / 1024}' \
    "/proc/$p/smaps_rollup"
  echo "  mappings over 1 MiB (RSS):"
  awk '/^[0-9a-f]+-[0-9a-f]+ / {name = ($6 == "" ? "[anon]" : $6)} /^Rss:/ {rss[name] += $2}
       END {for (n in rss) if (rss[n] > 1024) printf "  %8.1f MiB %s\n", rss[n] / 1024, n}' "/proc/$p/smaps" \
    | sed "s#$(pwd)/##; s#$work#<work>#" | sort -rn
}

one() { # runtime
  local rt=$1 p
  bench_config "$rt"
  if [ "$rt" = berth ] && [ "${NMT:-no}" = yes ]; then
    BERTH_JAVA_OPTS="${BERTH_JAVA_OPTS:-} -XX:NativeMemoryTracking=summary"
  fi
  BERTH_JAVA_OPTS=${BERTH_JAVA_OPTS:-} bench_start "$rt" "$work/daemon.log"
  local C=("$crictl" --runtime-endpoint "unix://$work/sock" --image-endpoint "unix://$work/sock")
  "${C[@]}" info >/dev/null; "${C[@]}" pods >/dev/null; "${C[@]}" ps -a >/dev/null; "${C[@]}" images >/dev/null
  sleep "$seconds"
  p=$pid
  [ "$rt" = berth ] && p=$(pgrep -P "$pid" -f java || echo "$pid") # the launcher execs java: the same pid
  report "$rt" "$p"
  if [ "$rt" = berth ] && [ "${NMT:-no}" = yes ]; then
    "$(dirname "$(readlink -f "$(bench_java)")")/jcmd" "$p" VM.native_memory summary \
      | awk '/^-/ || /^Total/ {print "  " $0}' | sed 's/  *(reserved=[0-9]*KB, /  (/'
  fi
  bench_stop
}

one berth
[ -z "$have_containerd" ] || one containerd
