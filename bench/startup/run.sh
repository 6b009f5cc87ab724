#!/usr/bin/env bash
# The daemon as a daemon: start time, restart with pods, idle memory and memory after pod churn, for berth (the
# jlink image, runc handler) and containerd (CRI plugin, runc shim) on the same host in one run. Four figures:
#
#   start    exec of the daemon to the first served CRI Version call (crictl polled every 10 ms), on an empty
#            state; also the daemon's CPU time (utime + stime) at that moment, which the host's load moves less.
#   restart  with P pods (default 50) running, SIGTERM the daemon (pods keep running) and exec it again: time to
#            the first served Version, and to ListPodSandbox(state=READY) returning exactly the P pods created.
#   idle     the daemon's RSS 10 s after a start with no pod, and its CPU time (utime + stime) from its start to
#            then: what a start costs in all, berth's warm-up calls to itself included.
#   churn    on a daemon started empty: idle RSS, then C pods (default 100) created and removed, then its RSS
#            35 s later (berth's launcher hands freed malloc memory back every 30 s); reported as RSS and as the
#            ratio to the same daemon's idle RSS.
#
# Pods are pod sandboxes only (crictl runp, 4 at a time), on a CNI bridge and subnet of the bench's own
# (BENCH_BRIDGE, BENCH_SUBNET; bench/lib.sh) under cgroup parent BENCH_CGROUP_PARENT (default /berth-bench-startup).
# The runtimes take turns: each start run is berth then containerd; the restart and churn phases run per runtime
# in ROUNDS rounds (default 1), berth then containerd in each, so both see the same load. Medians are printed.
# BERTH_JAVA_OPTS and MALLOC_ARENA_MAX reach berth's daemon (to compare launcher flags in one run, set
# BERTH_VARIANTS="name=opts;name=opts": each variant is measured as a runtime of its own next to the default).
# BASELINE=<jlink image> measures another build (e.g. the one before a change) as "berth-baseline" too.
# Needs root and the critest registry (../shared/critest/build-images.sh) for the pause image.
# Usage: bench/startup/run.sh [start runs] [restart runs] [pods] [churn pods]     (defaults 5 3 50 100)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}
restarts=${2:-3}
pods=${3:-50}
churn=${4:-100}
rounds=${ROUNDS:-1}
cgparent=${BENCH_CGROUP_PARENT:-/berth-bench-startup}
. bench/lib.sh
have_containerd=$(command -v containerd >/dev/null && echo yes || true)
C=("$crictl" --runtime-endpoint "unix://$work/sock" --image-endpoint "unix://$work/sock" --timeout 60s)

now_ms() { date +%s%3N; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / hz)}' "/proc/$1/stat"; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR) print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
record() { echo "$2" >>"$results/$1.$3"; } # runtime, value, figure

# runtimes: "berth" and containerd, plus "berth-<name>" per BERTH_VARIANTS entry (its BERTH_JAVA_OPTS)
declare -A opts=([berth]="${BERTH_JAVA_OPTS:-}") imgs=([berth]="$image")
labels=(berth)
if [ -n "${BASELINE:-}" ]; then
  labels+=(berth-baseline); opts[berth-baseline]="${BERTH_JAVA_OPTS:-}"; imgs[berth-baseline]=$BASELINE
fi
IFS=';' read -ra variants <<<"${BERTH_VARIANTS:-}"
for v in "${variants[@]}"; do
  [ -n "$v" ] || continue
  labels+=("berth-${v%%=*}"); opts["berth-${v%%=*}"]=${v#*=}; imgs["berth-${v%%=*}"]=$image
done
[ -n "$have_containerd" ] && labels+=(containerd)
kind() { case $1 in containerd) echo containerd ;; *) echo berth ;; esac; }

# Starts the configured runtime and waits for the first served Version; sets pid, t_version (ms since exec),
# cpu_version (the daemon's CPU ms then).
start_daemon() { # label
  local label=$1 t0
  rm -f "$work/sock"
  t0=$(now_ms)
  case $(kind "$label") in
    berth) env -u JAVA_HOME BERTH_JAVA_OPTS="${opts[$label]}" "${imgs[$label]}/bin/berth" daemon --config "$work/berth.toml" \
      >>"$work/daemon.log" 2>&1 & ;;
    containerd) containerd --config "$work/containerd.toml" >>"$work/daemon.log" 2>&1 & ;;
  esac
  pid=$!
  until "$crictl" --runtime-endpoint "unix://$work/sock" --timeout 1s version >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { tail "$work/daemon.log" >&2; exit 1; }
    sleep 0.01
  done
  t_version=$(( $(now_ms) - t0 ))
  cpu_version=$(cpu_ms "$pid")
  t_start=$t0
}

# Stops the daemon and leaves its pods running (a restart, not bench_stop's teardown).
kill_daemon() {
  kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  pid=
}

make_pods() { # count prefix
  seq 1 "$1" | xargs -P 4 -n 1 sh -c '
    cat >"$0/pod-$1-$4.json" <<JSON
{"metadata": {"name": "$1-$4", "namespace": "bench-startup", "uid": "$1-$4", "attempt": 0},
 "log_directory": "$0/logs/$1-$4", "linux": {"cgroup_parent": "$2"}}
JSON
    "$3" --runtime-endpoint "unix://$0/sock" --timeout 120s runp "$0/pod-$1-$4.json"' "$work" "$2" "$cgparent" "$crictl" \
    | sort >"$work/pods.$2"
  [ "$(wc -l <"$work/pods.$2")" -eq "$1" ] || { echo "created $(wc -l <"$work/pods.$2") of $1 pods" >&2; exit 1; }
}

remove_pods() { # prefix
  xargs -P 4 -n 1 "${C[@]}" stopp <"$work/pods.$1" >/dev/null
  xargs -P 4 -n 1 "${C[@]}" rmp <"$work/pods.$1" >/dev/null
}

# The start figure: one start on an empty state, Version, then the idle RSS and CPU 10 s later.
start_run() { # label
  local label=$1
  bench_config "$(kind "$label")"
  start_daemon "$label"
  record "$label" "$t_version" start
  record "$label" "$cpu_version" startcpu
  sleep 10
  record "$label" "$(rss_kb "$pid")" idle
  record "$label" "$(cpu_ms "$pid")" idlecpu
  kill_daemon
  bench_stop
}

# The restart and churn figures on one daemon's state.
pods_round() { # label
  local label=$1
  bench_config "$(kind "$label")"
  start_daemon "$label"
  "${C[@]}" pull registry.k8s.io/pause:3.9 >/dev/null
  kill_daemon
  # churn: from an idle daemon (the pause image pulled, no pod), C pods created and removed
  start_daemon "$label"
  sleep 10
  local idle; idle=$(rss_kb "$pid")
  make_pods "$churn" churn
  remove_pods churn
  sleep 35
  local after; after=$(rss_kb "$pid")
  record "$label" "$after" churnrss
  record "$label" "$(awk -v a="$after" -v i="$idle" 'BEGIN {printf "%.3f", a / i}')" churnratio
  echo "$label churn: idle $idle kB, after $churn pods created and removed $after kB, $(ls "/proc/$pid/task" | wc -l) threads"
  # restart with P pods
  make_pods "$pods" keep
  for i in $(seq 1 "$restarts"); do
    kill_daemon
    start_daemon "$label"
    until [ "$("$crictl" --runtime-endpoint "unix://$work/sock" --timeout 5s pods --state ready -q 2>/dev/null | sort)" \
        = "$(cat "$work/pods.keep")" ]; do
      sleep 0.01
    done
    local t_listed=$(( $(now_ms) - t_start ))
    record "$label" "$t_version" restart
    record "$label" "$t_listed" listed
    echo "$label restart $i with $pods pods: Version after $t_version ms, all $pods listed after $t_listed ms"
  done
  remove_pods keep
  bench_stop
}

for i in $(seq 1 "$runs"); do
  for l in "${labels[@]}"; do start_run "$l"; done
done
for r in $(seq 1 "$rounds"); do
  for l in "${labels[@]}"; do pods_round "$l"; done
done

med() { [ -s "$results/$1.$2" ] && median <"$results/$1.$2" || echo 0; }
runs_of() { [ -s "$results/$1.$2" ] && paste -sd' ' "$results/$1.$2" || true; }
echo
printf '%-22s %10s %10s %12s %12s %10s %12s %12s %8s\n' runtime start_ms cpu_ms restart_ms listed_ms idle_MB idle_cpu_ms \
  churn_MB churn/idle
for l in "${labels[@]}"; do
  printf '%-22s %10s %10s %12s %12s %10.1f %12s %12.1f %8s\n' "$l" "$(med "$l" start)" "$(med "$l" startcpu)" \
    "$(med "$l" restart)" "$(med "$l" listed)" "$(awk -v k="$(med "$l" idle)" 'BEGIN {print k / 1024}')" \
    "$(med "$l" idlecpu)" "$(awk -v k="$(med "$l" churnrss)" 'BEGIN {print k / 1024}')" "$(med "$l" churnratio)"
done
echo
for l in "${labels[@]}"; do
  echo "$l runs: start $(runs_of "$l" start) ms; cpu $(runs_of "$l" startcpu) ms; restart $(runs_of "$l" restart) ms;" \
    "listed $(runs_of "$l" listed) ms; idle $(runs_of "$l" idle) kB, $(runs_of "$l" idlecpu) ms CPU; churn $(runs_of "$l" churnrss) kB"
done
if [ -n "$have_containerd" ]; then
  for l in "${labels[@]}"; do
    [ "$l" = containerd ] && continue
    awk -v l="$l" -v bs="$(med "$l" start)" -v cs="$(med containerd start)" -v br="$(med "$l" restart)" \
      -v cr="$(med containerd restart)" -v bl="$(med "$l" listed)" -v cl="$(med containerd listed)" \
      -v bi="$(med "$l" idle)" -v ci="$(med containerd idle)" \
      'BEGIN {printf "ratio %s/containerd: start %.2f, restart %.2f, listed %.2f, idle RSS %.2f\n", l, bs/cs, br/cr, bl/cl, bi/ci}'
  done
fi
# the pods' cgroup parent, empty once every pod is removed
for d in /sys/fs/cgroup/*"$cgparent" /sys/fs/cgroup/*/*"$cgparent"; do
  [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
done
