#!/usr/bin/env bash
# End-to-end check of berth's Prometheus metrics with a real Prometheus server (Debian's prometheus package):
# starts berth from the image with [metrics] address set, and a Prometheus of its own (scratch config, storage and
# port; not the Debian service) that scrapes it every second; runs a pod lifecycle with crictl on the runc
# handler, then asks Prometheus's HTTP API (/api/v1/query) for the RPC counters and histograms by handler, the
# backend, CNI, image, streaming (one crictl exec) and record metrics, the pods and containers gauges while the
# container runs, and JVM and process metrics; then restarts berth over a running and an exited container and
# checks that the gauges count them in their real state (not unknown). Needs root, the image (distribution/target/berth) and the critest
# registry (127.0.0.1:5000).
# Usage: test/e2e/metrics.sh [logdir]
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
kit=$(cd ../shared/critest && pwd)
logs=${1:-$repo/target/e2e-metrics}
mkdir -p "$logs"
image=$repo/distribution/target/berth
[ -x "$image/bin/berth" ] || { echo "build the image first" >&2; exit 1; }
command -v prometheus >/dev/null || { echo "prometheus is not installed (apt-get install prometheus)" >&2; exit 1; }
curl -sf http://127.0.0.1:5000/v2/ >/dev/null || "$kit/build-images.sh" >"$logs/build-images.log" 2>&1

work=$(mktemp -d /tmp/berth-metrics.XXXXXX)
# E2E_NAME_SUFFIX and E2E_SUBNET_OCTET move the bridge, subnet and cgroup parent aside for a second run on one host.
bridge=bmetrics0${E2E_NAME_SUFFIX:-}
subnet=10.${E2E_SUBNET_OCTET:-93}.0.0/16
cgparent=/berth-e2e-metrics${E2E_NAME_SUFFIX:-}
daemon=
prom=
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
mport=$(free_port)
pport=$(free_port)
C=("$kit/bin/crictl" --runtime-endpoint "unix://$work/berth.sock" --image-endpoint "unix://$work/berth.sock"
   --timeout 60s)

cleanup() {
  if [ -S "$work/berth.sock" ]; then
    "${C[@]}" rmp -af >/dev/null 2>&1 || true
  fi
  [ -n "$prom" ] && kill -TERM "$prom" 2>/dev/null && wait "$prom" 2>/dev/null || true
  [ -n "$daemon" ] && kill -TERM "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
  grep "$work" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  ip link del "$bridge" 2>/dev/null || true
  for d in "/sys/fs/cgroup$cgparent" /sys/fs/cgroup/*"$cgparent"; do # cgroup v2, or each v1 hierarchy
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

for h in registry.k8s.io gcr.io k8s.gcr.io quay.io public.ecr.aws docker.io; do
  mkdir -p "$work/certs.d/$h"
  printf 'server = "http://127.0.0.1:5000"\n[host."http://127.0.0.1:5000"]\n  capabilities = ["pull", "resolve"]\n' \
    >"$work/certs.d/$h/hosts.toml"
done
mkdir -p "$work/cni"
cat >"$work/cni/10-metrics.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "e2e-metrics", "plugins": [
  {"type": "bridge", "bridge": "$bridge", "isGateway": true, "ipMasq": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$subnet"}]], "dataDir": "$work/ipam"}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
JSON
cat >"$work/config.toml" <<TOML
socket = "$work/berth.sock"
state = "$work/state"
root = "$work/root"
default_runtime = "runc"
[runtimes.runc]
type = "runc"
[runtimes.runc.options]
binary = "runc"
[images]
registry_config_path = "$work/certs.d"
sandbox_image = "registry.k8s.io/pause:3.9"
[network]
cni_conf_dir = "$work/cni"
cni_bin_dirs = ["/usr/lib/cni"]
[metrics]
address = "127.0.0.1:$mport"
TOML

start_berth() { # log file
  env -u JAVA_HOME "$image/bin/berth" daemon --config "$work/config.toml" >"$1" 2>&1 &
  daemon=$!
  for _ in $(seq 1 150); do
    "${C[@]}" version >/dev/null 2>&1 && return 0
    kill -0 "$daemon" 2>/dev/null || { tail -20 "$1"; exit 1; }
    sleep 0.2
  done
  echo "berth did not answer" >&2; exit 1
}
echo "== berth from the image, metrics on 127.0.0.1:$mport"
start_berth "$logs/berth.log"
curl -sf "http://127.0.0.1:$mport/metrics" >/dev/null || { echo "no /metrics on 127.0.0.1:$mport" >&2; exit 1; }

echo "== prometheus on 127.0.0.1:$pport, scraping berth every second"
cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: berth
    static_configs:
      - targets: ["127.0.0.1:$mport"]
YAML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prometheus" \
  --web.listen-address="127.0.0.1:$pport" >"$logs/prometheus.log" 2>&1 &
prom=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$pport/-/ready" >/dev/null 2>&1 && break
  kill -0 "$prom" 2>/dev/null || { tail -20 "$logs/prometheus.log"; exit 1; }
  sleep 0.2
done

# The value of a PromQL query with one result (or "none"; "many" for more than one series).
query() {
  curl -sf "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" | python3 -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
if not r: print("none")
elif len(r) > 1: print("many")
else:
    v = float(r[0]["value"][1]); print(int(v) if v == int(v) else v)'
}
# Waits until Prometheus holds a scrape of berth taken after now.
scraped_after_now() {
  local t
  t=$(date +%s.%N)
  for _ in $(seq 1 100); do
    [ "$(query "timestamp(up{job=\"berth\"}) > $t" 2>/dev/null)" != none ] && return 0
    sleep 0.2
  done
  echo "Prometheus took no scrape of berth within 20 s" >&2
  exit 1
}
passed=0
failed=0
expect() { # name, expected, PromQL
  local got
  got=$(query "$3")
  if [ "$got" = "$2" ]; then
    echo "ok   $1 = $got"
    passed=$((passed + 1))
  else
    echo "FAIL $1: expected $2, got $got   [$3]"
    failed=$((failed + 1))
  fi
}

echo "== pod lifecycle with crictl on handler runc"
"${C[@]}" pull docker.io/library/busybox:1.36 >/dev/null
cat >"$work/pod.json" <<JSON
{"metadata": {"name": "metrics", "namespace": "e2e-metrics", "uid": "e2e-metrics-$$"},
 "log_directory": "$work/logs", "linux": {"cgroup_parent": "$cgparent"}}
JSON
cat >"$work/ctr.json" <<JSON
{"metadata": {"name": "sleeper"}, "image": {"image": "docker.io/library/busybox:1.36"},
 "command": ["sleep", "3600"], "log_path": "sleeper.log"}
JSON
pod=$("${C[@]}" runp --runtime runc "$work/pod.json")
ctr=$("${C[@]}" create "$pod" "$work/ctr.json" "$work/pod.json")
"${C[@]}" start "$ctr" >/dev/null
"${C[@]}" info >/dev/null # Status: asks the default handler's health
out=$(echo hello-metrics | "${C[@]}" exec -i "$ctr" cat) # one streaming session over SPDY
[ "$out" = hello-metrics ] || { echo "exec through the streaming server printed [$out]" >&2; exit 1; }

scraped_after_now
expect "pods ready on runc while it runs" 1 'berth_pods{handler="runc",state="ready"}'
expect "containers running on runc while it runs" 1 'berth_containers{handler="runc",state="running"}'
expect "berth is up for Prometheus" 1 'up{job="berth"}'
expect "handler runc healthy (its last Status answer)" 1 'berth_handler_healthy{handler="runc",plugin="runc"}'
if curl -sf "http://127.0.0.1:$mport/metrics" | grep -qe "${pod:0:12}" -e "${ctr:0:12}"; then
  echo "FAIL a pod or container id is in a metric"; failed=$((failed + 1))
else
  echo "ok   no pod or container id in any metric"; passed=$((passed + 1))
fi

"${C[@]}" stop -t 5 "$ctr" >/dev/null
"${C[@]}" rm "$ctr" >/dev/null
"${C[@]}" stopp "$pod" >/dev/null
"${C[@]}" rmp "$pod" >/dev/null

scraped_after_now
ok='handler="runc",plugin="runc",code="OK"'
for m in RunPodSandbox CreateContainer StartContainer StopContainer RemoveContainer StopPodSandbox RemovePodSandbox; do
  expect "$m counted once for handler runc, status OK" 1 "berth_cri_requests_total{method=\"$m\",api_version=\"v1\",$ok}"
done
expect "RunPodSandbox latency histogram: one observation" 1 \
  "berth_cri_request_duration_seconds_count{method=\"RunPodSandbox\",$ok}"
expect "RunPodSandbox latency histogram: one in the +Inf bucket" 1 \
  "berth_cri_request_duration_seconds_bucket{method=\"RunPodSandbox\",$ok,le=\"+Inf\"}"
expect "RunPodSandbox median from the histogram is above 0" 1 \
  "histogram_quantile(0.5, sum by (le) (berth_cri_request_duration_seconds_bucket{method=\"RunPodSandbox\",handler=\"runc\"})) > bool 0"
expect "PullImage counted under no handler" 1 \
  'berth_cri_requests_total{method="PullImage",api_version="v1",handler="",plugin="",code="OK"}'
expect "no failed RPC" none 'berth_cri_requests_total{code!="OK"}'
expect "backend createSandbox timed once for runc" 1 \
  'berth_backend_call_duration_seconds_count{plugin="runc",handler="runc",operation="createSandbox"}'
expect "backend createContainer timed once for runc" 1 \
  'berth_backend_call_duration_seconds_count{plugin="runc",handler="runc",operation="createContainer"}'
expect "CNI ADD once on the test's network" 1 'berth_cni_operation_duration_seconds_count{operation="add",network="e2e-metrics"}'
expect "CNI DEL ran on the test's network" 1 'berth_cni_operation_duration_seconds_count{operation="del",network="e2e-metrics"} >= bool 1'
expect "no CNI failure" none 'berth_cni_operation_failures_total'
expect "image pulls (busybox and the sandbox image) succeeded" 2 'berth_image_pull_duration_seconds_count{result="success"}'
expect "layer bytes downloaded" 1 'berth_image_pull_bytes_total > bool 0'
expect "layers unpacked" 1 'berth_image_layer_unpack_duration_seconds_count >= bool 2'
expect "content store has bytes" 1 'berth_image_content_store_bytes > bool 0'
expect "sandbox records written (CREATING, READY, NOTREADY at least)" 1 \
  'berth_record_write_duration_seconds_count{store="sandboxes"} >= bool 3'
expect "no pods left" none 'berth_pods'
expect "no containers left" none 'berth_containers'
expect "plugin runc up" 1 'berth_plugin_up{plugin="runc"}'
expect "one streaming session" 1 'berth_streaming_sessions_total'
expect "no streaming session open" 0 'berth_streaming_sessions_open'
expect "stdin bytes through the session" 1 'berth_streaming_bytes_total{direction="in"} >= bool 14'
expect "stdout bytes through the session" 1 'berth_streaming_bytes_total{direction="out"} >= bool 14'
expect "heap in use" 1 'jvm_memory_used_bytes{area="heap"} > bool 0'
expect "threads" 1 'jvm_threads_current > bool 0'
expect "open fds" 1 'process_open_fds > bool 0'
expect "resident memory" 1 'process_resident_memory_bytes > bool 0'
expect "GC collections reported" 1 'count(jvm_gc_collection_seconds_count) > bool 0'

echo "== a restart of berth over a running and an exited container"
pod=$("${C[@]}" runp --runtime runc "$work/pod.json")
ctr=$("${C[@]}" create "$pod" "$work/ctr.json" "$work/pod.json")
"${C[@]}" start "$ctr" >/dev/null
cat >"$work/exiter.json" <<JSON
{"metadata": {"name": "exiter"}, "image": {"image": "docker.io/library/busybox:1.36"},
 "command": ["sh", "-c", "exit 2"], "log_path": "exiter.log"}
JSON
ex=$("${C[@]}" create "$pod" "$work/exiter.json" "$work/pod.json")
"${C[@]}" start "$ex" >/dev/null
for _ in $(seq 1 100); do
  "${C[@]}" inspect -o go-template --template '{{.status.state}}' "$ex" 2>/dev/null | grep -q EXITED && break
  sleep 0.1
done
kill -TERM "$daemon"
wait "$daemon" 2>/dev/null || true
start_berth "$logs/berth-restarted.log"
scraped_after_now
expect "after the restart: the running container counted as running" 1 'berth_containers{handler="runc",state="running"}'
expect "after the restart: the exited container counted as exited" 1 'berth_containers{handler="runc",state="exited"}'
expect "after the restart: no container counted as unknown" none 'berth_containers{state="unknown"}'
expect "after the restart: the pod counted as ready" 1 'berth_pods{handler="runc",state="ready"}'
"${C[@]}" stop -t 5 "$ctr" >/dev/null
"${C[@]}" rmp -f "$pod" >/dev/null

echo "metrics end to end: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
