#!/usr/bin/env bash
# The daemon's memory across pod churn: ROUNDS rounds (default 3) of N pods (default 100) on one berth daemon,
# each round bench/kubelet-load/KubeletLoad.java for 5 s (start N pods, the kubelet's load, stop and remove them),
# and the daemon's RSS before the first round and 5 s after each, with each round's start and teardown times, the
# classes the JVM loaded and what its JIT compiled (read from its counters, without a collection). With OUT=<dir>,
# also a class histogram (jcmd, which runs a full collection) before and after, and, when the daemon runs with
# BERTH_JAVA_OPTS=-XX:NativeMemoryTracking=summary, the native memory summary at the start and after each round.
# With FULL_GC=1, after each round also a full collection (jcmd GC.run) and the RSS and heap after it: what a
# collection when idle would give back. IMAGE=<jlink image> measures another build; BERTH_JAVA_OPTS and
# MALLOC_ARENA_MAX reach the daemon, to compare launcher flags.
# Needs root, a JDK (jcmd) and the critest registry (../shared/critest/build-images.sh).
# Usage: bench/kubelet-load/churn.sh [pods] [rounds]
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-100}
rounds=${2:-3}
. bench/lib.sh
this_image=$image
image=${IMAGE:-$image}
java=$(bench_java)
jcmd=$(dirname "$java")/jcmd
out=${OUT:-}
[ -z "$out" ] || mkdir -p "$out"
bench_config berth
bench_start berth "$work/daemon.log"
C=("$crictl" --runtime-endpoint "unix://$work/sock" --image-endpoint "unix://$work/sock")
"${C[@]}" pull registry.k8s.io/pause:3.9 >/dev/null
"${C[@]}" pull docker.io/library/busybox:1.36 >/dev/null
rss() { awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$pid/status"; }
snapshot() { # name
  [ -n "$out" ] || return 0
  "$jcmd" "$pid" GC.class_histogram >"$out/histogram-$1.txt" 2>&1 || true
  nmt "$1"
}
nmt() { # name
  [ -n "$out" ] || return 0
  "$jcmd" "$pid" VM.native_memory summary >"$out/nmt-$1.txt" 2>&1 || true
}
# The serial collector's generations, committed and used (jcmd GC.heap_info).
heap() {
  "$jcmd" "$pid" GC.heap_info 2>/dev/null | awk '$1 == "DefNew" || $1 == "Tenured" {
    sub(",", "", $3); printf "%s%s %s committed, %s used", sep, $1, $3, $5; sep = "; " }'
}
# Classes loaded and unloaded so far, and the JIT's compiles and code, read from the JVM's counters (no collection).
jvm() {
  "$jcmd" "$pid" PerfCounter.print 2>/dev/null | awk -F= '
    /^java.cls.loadedClasses=/ {l=$2} /^java.cls.unloadedClasses=/ {u=$2} /^java.cls.sharedLoadedClasses=/ {s=$2}
    /^sun.ci.totalCompiles=/ {c=$2} /^sun.ci.nmethodSize=/ {m=$2}
    END {printf "classes %d loaded (%d from the AOT cache), %d unloaded; %d compiles, %.1f MB of compiled methods",
      l + s, s, u, c, m / 1e6}'
}
echo "start: RSS $(rss) MiB, $(ls "/proc/$pid/task" | wc -l) threads; $(jvm)"
snapshot start
for r in $(seq 1 "$rounds"); do
  "$java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -cp "$this_image/lib/*" \
    bench/kubelet-load/KubeletLoad.java "$work/sock" "churn$r" "$work/logs" "$n" 5 "$pid" "conmon.*$work" \
    >>"$results/rounds.out" 2>>"$results/client.err"
  sleep 5
  times=$(awk -v r="churn$r" '($1 == "START" || $1 == "TEARDOWN") && $2 == r {printf "%s %s s, ", tolower($1), $3}' \
    "$results/rounds.out")
  echo "after round $r ($n pods started and removed: ${times}in sequence): RSS $(rss) MiB," \
    "$(ls "/proc/$pid/task" | wc -l) threads; $(jvm)"
  nmt "round$r"
  if [ -n "${FULL_GC:-}" ]; then
    "$jcmd" "$pid" GC.run >/dev/null
    sleep 1
    echo "  after a full collection: RSS $(rss) MiB; heap $(heap)"
  fi
done
snapshot end
if [ -n "$out" ]; then echo "after the histogram's full collection: RSS $(rss) MiB"; fi
bench_stop
