#!/usr/bin/env bash
# End-to-end checks of the CRI metrics RPCs against a running berth with real containers (crictl 1.29 has no
# command for them, so CriMetrics.java asks as the kubelet does): a container that burns CPU and holds memory
# shows up with cAdvisor's names and labels, every series matches its descriptor, CPU rises, CPU and memory agree
# with the container's own cgroup files (v1 or v2, read around the call) within 5%, and the pod's eth0 counters
# rise after it downloads 1 MB from a second pod. For a handler of the kata type (shimv2-runc in CI:
# containerd-shim-runc-v2 standing in for Kata's shim) the container's readings are the shim's Stats: with the
# shim stopped (SIGSTOP) they are left out, and they are back once it runs again. Needs the critest registry for
# busybox and a CNI network. Usage: test/e2e/cri-metrics.sh SOCKET [handler]
set -euo pipefail
cd "$(dirname "$0")/../.."
sock=$1
handler=${2:-}
kit=$(cd ../shared/critest && pwd)
C=("$kit/bin/crictl" --runtime-endpoint "unix://$sock" --image-endpoint "unix://$sock" --timeout 60s)
java=
for d in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-25-openjdk-amd64; do
  if [ -n "$d" ] && [ -x "$d/bin/java" ] && "$d/bin/java" -version 2>&1 | grep -q 'version "25'; then
    java=$d/bin/java; break
  fi
done
[ -n "$java" ] || { echo "the metrics client needs a JDK 25: set JAVA_HOME" >&2; exit 1; }
tmp=$(mktemp -d /tmp/berth-metrics.XXXXXX)
pods=()
frozen=
cleanup() {
  [ -n "$frozen" ] && kill -CONT "$frozen" 2>/dev/null
  for p in "${pods[@]}"; do
    "${C[@]}" stopp "$p" >/dev/null 2>&1 || true
    "${C[@]}" rmp "$p" >/dev/null 2>&1 || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
metrics() { # pod id: its series, one per line
  "$java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
    -cp "distribution/target/berth/lib/*" test/e2e/CriMetrics.java "$sock" "$1" 2>>"$tmp/client.err"
}
value() { # series text, metric name, a label matcher (e.g. container="burner"): the value, or empty
  { grep -F "$2{" <<<"$1" | grep -F "$3" | awk '{print $NF}' | head -1; } || true
}
failures=0
check() { # name, condition result (0 ok)
  if [ "$2" -eq 0 ]; then echo "ok   $1"; else echo "FAIL $1"; failures=$((failures + 1)); fi
}

img=docker.io/library/busybox:1.36
"${C[@]}" pull "$img" >/dev/null
pod() { # name
  cat >"$tmp/$1.json" <<JSON
{"metadata": {"name": "$1", "namespace": "e2e-metrics", "uid": "$1-$$"}, "log_directory": "$tmp/logs-$1"}
JSON
  "${C[@]}" runp ${handler:+--runtime "$handler"} "$tmp/$1.json"
}
container() { # pod, pod name, name, command json
  cat >"$tmp/$3.json" <<JSON
{"metadata": {"name": "$3"}, "image": {"image": "$img"}, "command": $4, "log_path": "$3.log"}
JSON
  local id
  id=$("${C[@]}" create "$1" "$tmp/$3.json" "$tmp/$2.json")
  "${C[@]}" start "$id" >/dev/null
  echo "$id"
}
a=$(pod metrics-a); pods+=("$a")
b=$(pod metrics-b); pods+=("$b")
burner=$(container "$a" metrics-a burner \
  '["sh", "-c", "a=$(head -c 16777216 /dev/zero | tr \"\\\\0\" x); while :; do :; done"]')
# A container whose usage stands still once it has burned some 3 s of CPU (2.5 million turns of a shell loop) and
# filled 8 MB, so that its readings can be
# held against its cgroup's files without the clock running between the two.
steady=$(container "$a" metrics-a steady \
  '["sh", "-c", "i=0; while [ $i -lt 2500000 ]; do i=$((i + 1)); done; a=$(head -c 8388608 /dev/zero | tr \"\\\\0\" y); while :; do sleep 3600; done"]')
container "$b" metrics-b web \
  '["sh", "-c", "mkdir -p /www && head -c 1000000 /dev/zero > /www/blob && exec httpd -f -p 80 -h /www"]' >/dev/null
sleep 3
first=$(metrics "$a")
echo "$first" | sed 's/^/    /'
check "no series without its descriptor or with a label per key" "$(grep -c '^MISMATCH' <<<"$first" || true)"
labels="container=\"burner\",id=\"$burner\",image=\"$img\",name=\"$burner\",namespace=\"e2e-metrics\",pod=\"metrics-a\""
cpu1=$(value "$first" container_cpu_usage_seconds_total "$labels")
r=0; { [ -n "$cpu1" ] && [ "$cpu1" -ge 1 ]; } || r=1; check "container_cpu_usage_seconds_total with cAdvisor's labels: $cpu1 s" $r
ws=$(value "$first" container_memory_working_set_bytes "$labels")
r=0; { [ -n "$ws" ] && [ "$ws" -ge 16000000 ]; } || r=1; check "container_memory_working_set_bytes holds 16 MB: $ws" $r
threads=$(value "$first" container_threads "$labels")
r=0; { [ -n "$threads" ] && [ "$threads" -ge 1 ]; } || r=1; check "container_threads: $threads" $r
fs=$(value "$first" container_fs_usage_bytes "$labels")
r=0; [ -n "$fs" ] || r=1; check "container_fs_usage_bytes of the writable layer: $fs" $r
pod_labels="container=\"\",id=\"$a\",image=\"\",name=\"$a\",namespace=\"e2e-metrics\",pod=\"metrics-a\",interface=\"eth0\""
rx1=$(value "$first" container_network_receive_bytes_total "$pod_labels")
r=0; [ -n "$rx1" ] || r=1; check "container_network_receive_bytes_total for the pod's eth0: $rx1" $r

# The readings against the container's cgroup files (v1 or v2): CPU, which the CRI carries in whole seconds, is the
# cgroup's whole seconds; memory usage and working set (usage less inactive_file, as cAdvisor has it) are the
# cgroup's; each within 5%.
cgdir() { # pid, v1 controller: the directory of the process's cgroup (v2: its one hierarchy)
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    echo "/sys/fs/cgroup$(sed -n 's/^0:://p' "/proc/$1/cgroup")"
  else
    echo "/sys/fs/cgroup/$2$(awk -F: -v c="$2" '{n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3}' "/proc/$1/cgroup")"
  fi
}
cpu_ns() { # pid
  local d; d=$(cgdir "$1" cpuacct)
  if [ -f "$d/cpu.stat" ] && [ ! -f "$d/cpuacct.usage" ]; then awk '$1 == "usage_usec" {print $2 * 1000}' "$d/cpu.stat"
  else cat "$d/cpuacct.usage"; fi
}
mem_usage() { # pid
  local d; d=$(cgdir "$1" memory)
  if [ -f "$d/memory.current" ]; then cat "$d/memory.current"; else cat "$d/memory.usage_in_bytes"; fi
}
mem_inactive_file() { # pid
  local d; d=$(cgdir "$1" memory)
  awk '$1 == "inactive_file" || $1 == "total_inactive_file" {v = $2} END {print v + 0}' "$d/memory.stat"
}
near() { # got, want: got within 5% of want
  awk -v g="$1" -v w="$2" 'BEGIN {d = g - w; if (d < 0) d = -d; exit !(g != "" && d <= w * 0.05)}'
}
spid=$("${C[@]}" inspect -o go-template --template '{{.info.pid}}' "$steady")
echo "    steady: pid $spid, cpu cgroup $(cgdir "$spid" cpuacct), memory cgroup $(cgdir "$spid" memory)"
for _ in $(seq 1 120); do # until it has burned its CPU and sleeps
  c1=$(cpu_ns "$spid"); sleep 0.5; c2=$(cpu_ns "$spid")
  [ $((c2 - c1)) -lt 5000000 ] && [ "$c2" -ge 2000000000 ] && break
done
cg=$(metrics "$a")
steady_labels="container=\"steady\",id=\"$steady\",image=\"$img\",name=\"$steady\",namespace=\"e2e-metrics\",pod=\"metrics-a\""
cpu=$(value "$cg" container_cpu_usage_seconds_total "$steady_labels")
want=$(($(cpu_ns "$spid") / 1000000000))
r=0; { [ "$want" -ge 2 ] && near "$cpu" "$want"; } || r=1; check "CPU agrees with the cgroup's: $cpu s, cgroup $want s (whole seconds)" $r
mem=$(value "$cg" container_memory_usage_bytes "$steady_labels")
want=$(mem_usage "$spid")
r=0; near "$mem" "$want" || r=1; check "memory usage agrees with the cgroup's: $mem, cgroup $want" $r
ws=$(value "$cg" container_memory_working_set_bytes "$steady_labels")
want=$(($(mem_usage "$spid") - $(mem_inactive_file "$spid")))
r=0; near "$ws" "$want" || r=1; check "working set agrees with the cgroup's usage less inactive_file: $ws, cgroup $want" $r
r=0; [ "${ws:-0}" -ge 8000000 ] || r=1; check "the working set holds the 8 MB: $ws" $r

ip=$("${C[@]}" inspectp -o go-template --template '{{.status.network.ip}}' "$b")
"${C[@]}" exec "$burner" wget -q -O /dev/null "http://$ip/blob" || echo "    wget from pod b ($ip) failed"
sleep 2
second=$(metrics "$a")
cpu2=$(value "$second" container_cpu_usage_seconds_total "$labels")
r=0; { [ -n "$cpu2" ] && [ "$cpu2" -gt "$cpu1" ]; } || r=1; check "CPU rises: $cpu1 -> $cpu2 s" $r
rx2=$(value "$second" container_network_receive_bytes_total "$pod_labels")
r=0; { [ -n "$rx2" ] && [ $((rx2 - ${rx1:-0})) -ge 1000000 ]; } || r=1; check "eth0 receive bytes rise by the 1 MB download: $rx1 -> $rx2" $r

shim=$("${C[@]}" inspect -o go-template --template '{{index .info.backend "shim_pid"}}' "$burner" 2>/dev/null || true)
if [ -n "$shim" ] && [ "$shim" != "<no value>" ]; then
  # A kata-type handler: the readings are the shim's Stats. Stopped, the shim cannot answer: the container's
  # series are left out (after the backend's 10 s wait), and come back when it runs again.
  echo "    the pod's shim: pid $shim"
  frozen=$shim
  kill -STOP "$shim"
  third=$(metrics "$a")
  kill -CONT "$shim"
  frozen=
  n=$(grep -c 'container="burner"' <<<"$third" || true)
  r=0; [ "$n" -eq 0 ] || r=1; check "with the shim stopped, the container's readings are gone: they come from its Stats ($n series)" $r
  fourth=$(metrics "$a")
  cpu4=$(value "$fourth" container_cpu_usage_seconds_total "$labels")
  r=0; { [ -n "$cpu4" ] && [ "$cpu4" -ge "$cpu2" ]; } || r=1; check "with the shim running again, they are back: $cpu4 s" $r
fi

if [ "$failures" -gt 0 ]; then
  [ -s "$tmp/client.err" ] && tail -5 "$tmp/client.err" | sed 's/^/    client: /'
  echo "$failures metrics checks failed"
  exit 1
fi
echo "all metrics checks passed"
