#!/usr/bin/env bash
# End-to-end checks of the CRI metrics RPCs against a running berth with real containers (crictl 1.29 has no
# command for them, so CriMetrics.java asks as the kubelet does): a container that burns CPU and holds memory
# shows up with cAdvisor's names and labels, every series matches its descriptor, CPU rises, and the pod's eth0
# counters rise after it downloads 1 MB from a second pod. Needs the critest registry for busybox and a CNI
# network. Usage: test/e2e/cri-metrics.sh SOCKET [handler]
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
cleanup() {
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
container "$b" metrics-b web \
  '["sh", "-c", "mkdir -p /www && head -c 1000000 /dev/zero > /www/blob && exec httpd -f -p 80 -h /www"]' >/dev/null
sleep 3
first=$(metrics "$a")
echo "$first" | sed 's/^/    /'
check "no series without its descriptor or with a label per key" "$(grep -c '^MISMATCH' <<<"$first" || true)"
labels="container=\"burner\",id=\"$burner\",image=\"$img\",name=\"$burner\",namespace=\"e2e-metrics\",pod=\"metrics-a\""
cpu1=$(value "$first" container_cpu_usage_seconds_total "$labels")
[ -n "$cpu1" ] && [ "$cpu1" -ge 1 ]; check "container_cpu_usage_seconds_total with cAdvisor's labels: $cpu1 s" $?
ws=$(value "$first" container_memory_working_set_bytes "$labels")
[ -n "$ws" ] && [ "$ws" -ge 16000000 ]; check "container_memory_working_set_bytes holds 16 MB: $ws" $?
threads=$(value "$first" container_threads "$labels")
[ -n "$threads" ] && [ "$threads" -ge 1 ]; check "container_threads: $threads" $?
fs=$(value "$first" container_fs_usage_bytes "$labels")
[ -n "$fs" ]; check "container_fs_usage_bytes of the writable layer: $fs" $?
pod_labels="container=\"\",id=\"$a\",image=\"\",name=\"$a\",namespace=\"e2e-metrics\",pod=\"metrics-a\",interface=\"eth0\""
rx1=$(value "$first" container_network_receive_bytes_total "$pod_labels")
[ -n "$rx1" ]; check "container_network_receive_bytes_total for the pod's eth0: $rx1" $?

ip=$("${C[@]}" inspectp -o go-template --template '{{.status.network.ip}}' "$b")
"${C[@]}" exec "$burner" wget -q -O /dev/null "http://$ip/blob" || echo "    wget from pod b ($ip) failed"
sleep 2
second=$(metrics "$a")
cpu2=$(value "$second" container_cpu_usage_seconds_total "$labels")
[ -n "$cpu2" ] && [ "$cpu2" -gt "$cpu1" ]; check "CPU rises: $cpu1 -> $cpu2 s" $?
rx2=$(value "$second" container_network_receive_bytes_total "$pod_labels")
[ -n "$rx2" ] && [ $((rx2 - ${rx1:-0})) -ge 1000000 ]; check "eth0 receive bytes rise by the 1 MB download: $rx1 -> $rx2" $?

if [ "$failures" -gt 0 ]; then
  [ -s "$tmp/client.err" ] && tail -5 "$tmp/client.err" | sed 's/^/    client: /'
  echo "$failures metrics checks failed"
  exit 1
fi
echo "all metrics checks passed"
