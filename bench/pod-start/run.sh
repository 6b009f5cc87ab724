#!/usr/bin/env bash
# Pod + container start latency and per-pod memory, berth (jlink image; its runc handler, and its crun handler
# for information) against containerd's CRI plugin with its runc shim, on the same host in one run.
#
# Two kinds of pod: "kubelet" pods carry the namespace options the kubelet sends for a pod without
# shareProcessNamespace (a pid namespace per container), as nearly every Kubernetes pod is; "shared-pid" pods
# leave them unset, which CRI reads as one pid namespace for the pod (crictl's and critest's default, and the
# kubelet's for shareProcessNamespace). berth runs no pause container for either: the second kind gets
# berth-pause, a confined process without runtime or conmon, as its pid namespace's init; containerd runs a
# pause container for both.
#
# Two ways of driving the runtime:
# 1. over one gRPC connection, as the kubelet keeps one (bench/pod-start/PodStart.java): 3 warm-up pods, then
#    N pods, each RunPodSandbox + CreateContainer + StartContainer of a busybox sleep, timed;
# 2. with crictl (runp, create, start: three process starts per pod, about 35 ms each, the same for both),
#    one warm-up pod, then N pods; with all N running, the memory the runtime adds per pod: the daemon's RSS
#    growth plus the RSS of its per-pod processes (conmon, berth-logjoin and berth-pause for berth,
#    containerd-shim-runc-v2 for containerd; containerd's pause process runs the sandbox image's program and
#    is not counted), divided by N.
# Each round starts the daemon on a private root, state, socket and CNI bridge and pulls the pause and busybox
# images from the local registry. The host is shared and its load moves from minute to minute, so the runtimes
# take turns: ROUNDS rounds (default 3) of berth (runc), berth (crun) and containerd in that order, and the
# medians are over all rounds' pods.
# Needs root and the critest registry (../shared/critest/build-images.sh).
# COMPARE=gvisor measures berth's gvisor handler (runsc) next to its runc handler and containerd instead.
# COMPARE=metrics measures only the cost of metrics instead: berth (runc) without and with a [metrics] address
# scraped every second, in turns, kubelet pods over one gRPC connection, then core's MetricsBenchTest (the CPU
# time of one pod start's recordings and of one scrape, apart from the host's noise).
# COMPARE=build BASELINE=DIR measures two builds of berth against each other: the image in DIR (a jlink image,
# e.g. another checkout's distribution/target/berth) and this checkout's, in turns with containerd, kubelet pods
# over one gRPC connection, so that a change's before and after see the same host in the same run.
# BENCH_CGROUP_PARENT gives the gRPC driver's pods a cgroup parent of their own (see bench/lib.sh for the bridge).
# Usage: bench/pod-start/run.sh [pods-per-round]     (default 10; ROUNDS=n, COMPARE=gvisor|metrics|build)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-10}
rounds=${ROUNDS:-3}
. bench/lib.sh

rss_kb() { awk '/VmRSS/ {s += $2} END {print s + 0}' "$@" 2>/dev/null || echo 0; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
helpers_rss() { # command-line pattern [, exact process name] -> summed RSS (kB) of matching processes
  local files=()
  for p in $(pgrep -f "$1" || true; [ -n "${2:-}" ] && pgrep -x "$2" || true); do files+=("/proc/$p/status"); done
  [ ${#files[@]} -gt 0 ] && rss_kb "${files[@]}" || echo 0
}

bench() { # label, runtime, per-pod helper pattern, handler, pid namespace mode (1 CONTAINER, 0 POD)
  local label=$1 rt=$2 pattern=$3 handler=$4 pidmode=$5
  # berth-pause shows as "pause" with no path (as the Kubernetes pause does); only one runtime runs at a time.
  local comm; comm=$([ "$rt" = berth ] && echo pause || true)
  bench_config "$rt"
  bench_start "$rt" "$work/daemon.log"
  local C=("$crictl" --runtime-endpoint "unix://$work/sock" --image-endpoint "unix://$work/sock")
  "${C[@]}" pull registry.k8s.io/pause:3.9 >/dev/null
  "${C[@]}" pull docker.io/library/busybox:1.36 >/dev/null
  cat >"$work/ctr.json" <<JSON
{"metadata": {"name": "sleeper"}, "image": {"image": "docker.io/library/busybox:1.36"},
 "command": ["sleep", "3600"], "log_path": "sleeper.log",
 "linux": {"security_context": {"namespace_options": {"pid": $pidmode}}}}
JSON
  one() {
    cat >"$work/pod-$1.json" <<JSON
{"metadata": {"name": "bench-$1", "namespace": "bench", "uid": "uid-$1"}, "log_directory": "$work/logs/$1",
 "linux": {"security_context": {"namespace_options": {"pid": $pidmode}}}}
JSON
    local p c
    p=$("${C[@]}" runp ${handler:+--runtime "$handler"} "$work/pod-$1.json")
    c=$("${C[@]}" create "$p" "$work/ctr.json" "$work/pod-$1.json")
    "${C[@]}" start "$c" >/dev/null
  }
  one warmup
  sleep 2
  local base; base=$(rss_kb "/proc/$pid/status")
  local base_helpers; base_helpers=$(helpers_rss "$pattern" "$comm")
  local times=()
  for i in $(seq 1 "$n"); do
    local t0; t0=$(date +%s%3N); one "$i"; times+=($(( $(date +%s%3N) - t0 )))
  done
  sleep 3
  local after; after=$(rss_kb "/proc/$pid/status")
  local helpers; helpers=$(helpers_rss "$pattern" "$comm")
  local per_pod=$(( (after - base + helpers - base_helpers) / n ))
  printf '%s\n' "${times[@]}" >>"$results/$label.times"
  echo "$per_pod" >>"$results/$label.mem"
  echo "  $label: runs ${times[*]} ms; memory per pod ${per_pod} kB" \
       "(daemon +$(( (after - base) / n )) kB, helpers $(( (helpers - base_helpers) / n )) kB)"
  bench_stop
}

summary() { # label -> prints and sets <label>_start and <label>_mem (medians over all rounds)
  local label=$1 med mem
  med=$(median <"$results/$label.times")
  mem=$(median <"$results/$label.mem")
  echo "$label: pod+container start median ${med} ms over $(wc -l <"$results/$label.times") pods; memory per pod ${mem} kB"
  eval "${label//-/_}_start=$med ${label//-/_}_mem=$mem"
}

have_containerd=$(command -v containerd >/dev/null && echo yes || true)
java=$(bench_java)

grpc_round() { # label, runtime, handler, kind: one daemon, PODS pods through PodStart.java over one connection
  local label=$1 rt=$2 handler=$3 kind=$4 scraper=
  bench_config "$rt"
  if [ -n "${METRICS_ON:-}" ]; then # berth with its Prometheus listener, scraped every second
    local mport
    mport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    printf '[metrics]\naddress = "127.0.0.1:%s"\n' "$mport" >>"$work/berth.toml"
  fi
  bench_start "$rt" "$work/daemon.log"
  if [ -n "${METRICS_ON:-}" ]; then
    curl -sf "http://127.0.0.1:$mport/metrics" >/dev/null || { echo "no metrics listener" >&2; exit 1; }
    (while sleep 1; do curl -sf "http://127.0.0.1:$mport/metrics" >/dev/null || true; done) &
    scraper=$!
  fi
  "$crictl" --runtime-endpoint "unix://$work/sock" --image-endpoint "unix://$work/sock" \
    pull registry.k8s.io/pause:3.9 >/dev/null
  "$crictl" --runtime-endpoint "unix://$work/sock" --image-endpoint "unix://$work/sock" \
    pull docker.io/library/busybox:1.36 >/dev/null
  "$java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -cp "$image/lib/*" \
    bench/pod-start/PodStart.java "$work/sock" "$label" "$kind" "$work/logs" "$n" "$handler" \
    2>>"$results/client.err" | tee "$results/round.out" | grep -v '^TIME'
  grep '^TIME' "$results/round.out" | awk '{print $3}' >>"$results/$label.times"
  [ -n "$scraper" ] && { kill "$scraper" 2>/dev/null; wait "$scraper" 2>/dev/null || true; }
  bench_stop
}

if [ "${COMPARE:-}" = gvisor ]; then
  # gVisor pod start next to runc's and containerd's: berth's runc and gvisor handlers and containerd (runc
  # shim), in turns, kubelet pods over one gRPC connection.
  echo "== gvisor next to runc and containerd, kubelet pods over one gRPC connection"
  for round in $(seq 1 "$rounds"); do
    echo " round $round"
    grpc_round berth berth "" kubelet
    grpc_round berth-gvisor berth gvisor kubelet
    [ -n "$have_containerd" ] && grpc_round containerd containerd "" kubelet
  done
  b=$(median <"$results/berth.times"); g=$(median <"$results/berth-gvisor.times")
  c=$( [ -n "$have_containerd" ] && median <"$results/containerd.times" || echo 0)
  awk -v b="$b" -v g="$g" -v c="$c" -v n="$(wc -l <"$results/berth-gvisor.times")" 'BEGIN {printf "pod+container start median over %d pods each: berth runc %s ms, berth gvisor %s ms, containerd runc %s ms; gvisor/runc %.2f, gvisor/containerd %.2f\n", n, b, g, c, g/b, (c > 0 ? g/c : 0)}'
  exit 0
fi
if [ "${COMPARE:-}" = build ]; then
  # Before and after: the baseline image and this checkout's, in turns with containerd.
  [ -x "${BASELINE:-}/bin/berth" ] || { echo "COMPARE=build needs BASELINE=<a berth image dir>" >&2; exit 1; }
  echo "== baseline ($BASELINE) and this build, kubelet pods over one gRPC connection"
  for round in $(seq 1 "$rounds"); do
    echo " round $round"
    BERTH_IMAGE=$BASELINE grpc_round berth-before berth "" kubelet
    grpc_round berth-after berth "" kubelet
    [ -n "$have_containerd" ] && grpc_round containerd containerd "" kubelet
  done
  b=$(median <"$results/berth-before.times"); a=$(median <"$results/berth-after.times")
  c=$( [ -n "$have_containerd" ] && median <"$results/containerd.times" || echo 0)
  for label in berth-before berth-after; do # the spread of the round medians: what the host's noise allows
    meds=(); for r in $(seq 1 "$rounds"); do meds+=("$(sed -n "$(( (r - 1) * n + 1 )),$(( r * n ))p" "$results/$label.times" | median)"); done
    echo "$label round medians: ${meds[*]} ms"
  done
  awk -v b="$b" -v a="$a" -v c="$c" -v n="$(wc -l <"$results/berth-after.times")" 'BEGIN {printf "pod+container start median over %d pods each: before %s ms, after %s ms, containerd %s ms; after/before %.3f, before/containerd %.2f, after/containerd %.2f\n", n, b, a, c, a/b, (c > 0 ? b/c : 0), (c > 0 ? a/c : 0)}'
  exit 0
fi
if [ "${COMPARE:-}" = metrics ]; then
  # The cost of metrics: berth (runc) with no [metrics] address and with one scraped every second, in turns,
  # kubelet pods over one gRPC connection.
  echo "== metrics off and on (scraped every second), kubelet pods over one gRPC connection"
  for round in $(seq 1 "$rounds"); do
    echo " round $round"
    grpc_round berth-metrics-off berth "" kubelet
    METRICS_ON=1 grpc_round berth-metrics-on berth "" kubelet
  done
  off=$(median <"$results/berth-metrics-off.times")
  on=$(median <"$results/berth-metrics-on.times")
  awk -v off="$off" -v on="$on" -v n="$(wc -l <"$results/berth-metrics-on.times")" 'BEGIN {printf "pod+container start median over %d pods each: metrics off %s ms, on %s ms, on/off %.3f (target < 1.02)\n", n, off, on, on/off}'
  echo "== what metrics cost apart from the host's noise (core's MetricsBenchTest)"
  mvn -B -q -o test -pl core -am -Dtest=MetricsBenchTest -Dberth.bench=true -Dsurefire.failIfNoSpecifiedTests=false \
    | grep -o 'METRICS.*'
  exit 0
fi

for kind in kubelet shared-pid; do
  echo "== $kind pods over one gRPC connection (as the kubelet keeps)"
  rm -f "$results"/*.times
  for round in $(seq 1 "$rounds"); do
    echo " round $round"
    grpc_round berth berth "" "$kind"
    grpc_round berth-crun berth crun "$kind"
    [ -n "$have_containerd" ] && grpc_round containerd containerd "" "$kind"
  done
  for label in berth berth-crun ${have_containerd:+containerd}; do
    m=$(median <"$results/$label.times")
    echo "$label: pod+container start median $m ms over $(wc -l <"$results/$label.times") pods"
    eval "${label//-/_}_start=$m"
  done
  [ -n "$have_containerd" ] && awk -v k="$kind" -v bs="$berth_start" -v cs="$containerd_start" \
    -v xs="$berth_crun_start" 'BEGIN {printf "%s pods, one connection, ratio berth/containerd: start %.2f (target <= 0.8; crun handler %.2f)\n", k, bs/cs, xs/cs}'
done

for kind in kubelet shared-pid; do
  mode=$([ "$kind" = kubelet ] && echo 1 || echo 0)
  echo "== $kind pods through crictl (three process starts per pod), and memory"
  rm -f "$results"/*.times "$results"/*.mem
  for round in $(seq 1 "$rounds"); do
    echo " round $round"
    bench berth berth "$(bench_berth_helpers)" "" "$mode"
    bench berth-crun berth "$(bench_berth_helpers)" crun "$mode"
    [ -n "$have_containerd" ] && bench containerd containerd "containerd-shim-runc-v2.*$work" "" "$mode"
  done
  summary berth
  summary berth-crun
  if [ -n "$have_containerd" ]; then
    summary containerd
    awk -v k="$kind" -v bs="$berth_start" -v cs="$containerd_start" -v bm="$berth_mem" -v cm="$containerd_mem" \
      -v xs="$berth_crun_start" 'BEGIN {printf "%s pods, crictl, ratio berth/containerd: start %.2f (crun handler %.2f), memory per pod %.2f (target <= 0.5)\n", k, bs/cs, xs/cs, bm/cm}'
  fi
done
