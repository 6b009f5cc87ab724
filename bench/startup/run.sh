#!/usr/bin/env bash
# Measures the daemon's time from exec to a served CRI Version call, and its idle RSS 10 s later, for berth
# (the jlink image) and for containerd on the same host, in one run. Usage (root):
#   bench/startup/run.sh [runs]        # default 5 runs each; prints medians and the ratio
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}
crictl=${CRICTL:-../shared/critest/bin/crictl}
image=distribution/target/berth
[ -x "$image/bin/berth" ] || { echo "build first: mvn -DskipTests install" >&2; exit 1; }
work=$(mktemp -d /tmp/berth-bench.XXXXXX)
trap 'pkill -f "$work" 2>/dev/null || true; sleep 1; rm -rf "$work"' EXIT

now_ms() { date +%s%3N; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

measure() { # name, socket, command...
  local name=$1 sock=$2; shift 2
  local starts=() rsss=()
  for i in $(seq 1 "$runs"); do
    rm -f "$sock"
    local t0; t0=$(now_ms)
    "$@" >"$work/$name.log" 2>&1 &
    local pid=$!
    until "$crictl" --runtime-endpoint "unix://$sock" --timeout 1s version >/dev/null 2>&1; do
      kill -0 "$pid" 2>/dev/null || { cat "$work/$name.log"; exit 1; }
      sleep 0.01
    done
    starts+=($(( $(now_ms) - t0 )))
    sleep 10
    rsss+=($(rss_kb "$pid"))
    kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  done
  local s r
  s=$(printf '%s\n' "${starts[@]}" | median)
  r=$(printf '%s\n' "${rsss[@]}" | median)
  echo "$name start_to_version_ms=$s idle_rss_kb=$r (runs: ${starts[*]} ms; ${rsss[*]} kB)"
  eval "${name}_start=$s ${name}_rss=$r"
}

cat >"$work/berth.toml" <<TOML
socket = "$work/berth.sock"
state = "$work/berth-state"
root = "$work/berth-root"
TOML
measure berth "$work/berth.sock" "$image/bin/berth" daemon --config "$work/berth.toml"

if command -v containerd >/dev/null; then
  cat >"$work/containerd.toml" <<TOML
version = 2
root = "$work/containerd-root"
state = "$work/containerd-state"
[grpc]
  address = "$work/containerd.sock"
[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "$work/cni"
TOML
  measure containerd "$work/containerd.sock" containerd --config "$work/containerd.toml"
  awk -v bs="$berth_start" -v cs="$containerd_start" -v br="$berth_rss" -v cr="$containerd_rss" \
    'BEGIN {printf "ratio berth/containerd: start %.2f, idle RSS %.2f\n", bs/cs, br/cr}'
fi
