#!/usr/bin/env bash
# End-to-end check of tracing and `berth explain` with the daemon from the image and crictl.
#
# Tracing: an OTLP/HTTP receiver of the tests' own (core's test OtlpReceiver.java, run as a program: the JDK's
# HttpServer decoding the protobuf export; no collector is packaged in Debian) on a free port; daemon A traces to it ([tracing] endpoint in its
# config, OTEL_SERVICE_NAME and OTEL_BSP_SCHEDULE_DELAY from the environment). A pod lifecycle with crictl must give
# RPC server spans with the backend calls, CNI ADD, image pull and record writes as their children, and
# TracedCall.java's calls with a W3C traceparent must join the caller's trace.
#
# explain: `berth explain` on daemon A's healthy pod, on a container that exited with an error, and on daemon B's
# pod whose CNI ADD failed (B reads a conf dir holding a broken conflist) must name the cause in their first lines;
# the same for a healthy pod and a crashed container on the kata-type handler shimv2-runc (containerd's
# containerd-shim-runc-v2 standing in for Kata's shim), whose backend view names the pod's shim.
# Needs root, the image (distribution/target/berth), the critest registry (127.0.0.1:5000) and a JDK 25.
# Usage: test/e2e/tracing-explain.sh [logdir]
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
kit=$(cd ../shared/critest && pwd)
logs=${1:-$repo/target/e2e-tracing-explain}
mkdir -p "$logs"
image=$repo/distribution/target/berth
[ -x "$image/bin/berth" ] || { echo "build the image first" >&2; exit 1; }
java=
for d in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-25-openjdk-amd64; do
  if [ -n "$d" ] && [ -x "$d/bin/java" ] && "$d/bin/java" -version 2>&1 | grep -q 'version "25'; then
    java=$d/bin/java; break
  fi
done
[ -n "$java" ] || { echo "the OTLP receiver needs a JDK 25: set JAVA_HOME" >&2; exit 1; }
curl -sf http://127.0.0.1:5000/v2/ >/dev/null || "$kit/build-images.sh" >"$logs/build-images.log" 2>&1

work=$(mktemp -d /tmp/berth-trace.XXXXXX)
# Bridges, subnet and cgroup parent of its own; E2E_NAME_SUFFIX and E2E_SUBNET_OCTET set others for a second run
# on the same host.
sfx=${E2E_NAME_SUFFIX:-}
bridge=btrace0$sfx
broken_bridge=btrace1$sfx
subnet=10.${E2E_SUBNET_OCTET:-94}.0.0/16
cgparent=/berth-e2e-trace$sfx
daemons=()
receiver=
jrun=("$java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -cp "$image/lib/*")
crictl() { # socket, args...
  local s=$1; shift
  "$kit/bin/crictl" --runtime-endpoint "unix://$s" --image-endpoint "unix://$s" --timeout 60s "$@"
}

cleanup() {
  for s in "$work/a.sock" "$work/b.sock"; do
    [ -S "$s" ] && { crictl "$s" rmp -af >/dev/null 2>&1 || true; }
  done
  for p in "${daemons[@]}"; do
    kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
  done
  [ -n "$receiver" ] && kill -TERM "$receiver" 2>/dev/null && wait "$receiver" 2>/dev/null || true
  grep "$work" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  ip link del "$bridge" 2>/dev/null || true
  ip link del "$broken_bridge" 2>/dev/null || true
  for d in "/sys/fs/cgroup$cgparent" /sys/fs/cgroup/*"$cgparent"; do # cgroup v2, or each v1 hierarchy
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
check() { # name, shell condition
  if eval "$2"; then echo "ok   $1"; passed=$((passed + 1)); else echo "FAIL $1"; failed=$((failed + 1)); fi
}

for h in registry.k8s.io gcr.io k8s.gcr.io quay.io public.ecr.aws docker.io; do
  mkdir -p "$work/certs.d/$h"
  printf 'server = "http://127.0.0.1:5000"\n[host."http://127.0.0.1:5000"]\n  capabilities = ["pull", "resolve"]\n' \
    >"$work/certs.d/$h/hosts.toml"
done
mkdir -p "$work/cni-a" "$work/cni-b"
cat >"$work/cni-a/10-trace.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "e2e-trace", "plugins": [
  {"type": "bridge", "bridge": "$bridge", "isGateway": true, "ipMasq": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$subnet"}]], "dataDir": "$work/ipam"}}]}
JSON
# B's network: host-local refuses the range, so every CNI ADD fails.
cat >"$work/cni-b/10-broken.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "e2e-broken", "plugins": [
  {"type": "bridge", "bridge": "$broken_bridge", "isGateway": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.95.0.0/99"}]], "dataDir": "$work/ipam-b"}}]}
JSON
config() { # name, cni dir, extra
  cat >"$work/$1.toml" <<TOML
socket = "$work/$1.sock"
state = "$work/$1/state"
root = "$work/$1/root"
default_runtime = "runc"
[runtimes.runc]
type = "runc"
[runtimes.runc.options]
binary = "runc"
[runtimes.shimv2-runc]
type = "kata"
[runtimes.shimv2-runc.options]
shim = "containerd-shim-runc-v2"
[images]
registry_config_path = "$work/certs.d"
sandbox_image = "registry.k8s.io/pause:3.9"
[network]
cni_conf_dir = "$2"
cni_bin_dirs = ["/usr/lib/cni"]
$3
TOML
}

echo "== OTLP/HTTP receiver"
"${jrun[@]}" core/src/test/java/dev/berth/core/tracing/OtlpReceiver.java "$work/otlp.port" "$logs/spans.jsonl" 2>"$logs/receiver.log" &
receiver=$!
for _ in $(seq 1 150); do
  [ -s "$work/otlp.port" ] && break
  kill -0 "$receiver" 2>/dev/null || { cat "$logs/receiver.log"; exit 1; }
  sleep 0.2
done
otlp="http://127.0.0.1:$(cat "$work/otlp.port")"
echo "receiving on $otlp/v1/traces"

config a "$work/cni-a" "[tracing]
endpoint = \"$otlp\"
service_name = \"from-config\"
sampling_ratio = 1.0"
config b "$work/cni-b" ""
start() { # name, env...
  local name=$1; shift
  env -u JAVA_HOME "$@" "$image/bin/berth" daemon --config "$work/$name.toml" >"$logs/berth-$name.log" 2>&1 &
  daemons+=($!)
  for _ in $(seq 1 150); do
    crictl "$work/$name.sock" version >/dev/null 2>&1 && return 0
    kill -0 "${daemons[-1]}" 2>/dev/null || { tail -20 "$logs/berth-$name.log"; exit 1; }
    sleep 0.2
  done
  echo "daemon $name did not answer" >&2; exit 1
}
echo "== daemon A (traced; the environment's service name overrides the config's), daemon B (broken CNI)"
start a OTEL_SERVICE_NAME=berth-e2e OTEL_BSP_SCHEDULE_DELAY=200
start b
check "daemon A logs that tracing is on" 'grep -q "tracing on: OTLP/HTTP to $otlp/v1/traces" "$logs/berth-a.log"'
check "daemon B, with no [tracing] and no OTEL_* variables, does not trace" '! grep -q "tracing on" "$logs/berth-b.log"'

A=$work/a.sock
B=$work/b.sock
img=docker.io/library/busybox:1.36
pod_json() { # name, file
  cat >"$2" <<JSON
{"metadata": {"name": "$1", "namespace": "e2e-trace", "uid": "$1-$$"}, "log_directory": "$work/logs-$1",
 "linux": {"cgroup_parent": "$cgparent"}}
JSON
}
ctr_json() { # name, command json, file
  cat >"$3" <<JSON
{"metadata": {"name": "$1"}, "image": {"image": "$img"}, "command": $2, "log_path": "$1.log"}
JSON
}

echo "== A: a healthy pod with a running container, and a pod whose container exits with an error"
crictl "$A" pull "$img" >/dev/null
pod_json healthy "$work/healthy.json"
pod=$(crictl "$A" runp --runtime runc "$work/healthy.json")
ctr_json sleeper '["sleep", "3600"]' "$work/sleeper.json"
ctr=$(crictl "$A" create "$pod" "$work/sleeper.json" "$work/healthy.json")
crictl "$A" start "$ctr" >/dev/null
ctr_json crasher '["sh", "-c", "echo starting; echo fatal: /etc/app.conf not found >&2; exit 3"]' "$work/crasher.json"
pod_json crashy "$work/crashy.json"
pod2=$(crictl "$A" runp --runtime runc "$work/crashy.json")
crash=$(crictl "$A" create "$pod2" "$work/crasher.json" "$work/crashy.json")
crictl "$A" start "$crash" >/dev/null
for _ in $(seq 1 100); do
  crictl "$A" inspect -o go-template --template '{{.status.state}}' "$crash" 2>/dev/null | grep -q EXITED && break
  sleep 0.1
done

echo "== A: calls with a W3C traceparent, as the kubelet sends with its tracing on"
trace=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
parent=$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')
"${jrun[@]}" test/e2e/TracedCall.java "$A" "00-$trace-$parent-01" "$pod" "$ctr" 2>"$logs/traced-call.log"

echo "== berth explain"
explain() { # socket, query
  env -u JAVA_HOME "$image/bin/berth" explain --config "$work/$1.toml" "$2"
}
explain a healthy >"$logs/explain-healthy.txt"
explain a crasher >"$logs/explain-crasher.txt"
sed 's/^/    /' "$logs/explain-healthy.txt"
check "explain of the healthy pod: ready in its first lines" 'head -3 "$logs/explain-healthy.txt" | grep -q "cause: ready"'
check "explain of the healthy pod: its netns and CNI result" \
  'grep -q "netns" "$logs/explain-healthy.txt" && grep -q "cni result" "$logs/explain-healthy.txt"'
check "explain of the healthy pod: its containers and history" \
  'grep -q "sleeper" "$logs/explain-healthy.txt" && grep -q "RunPodSandbox OK" "$logs/explain-healthy.txt"'
sed 's/^/    /' "$logs/explain-crasher.txt"
check "explain of the crashed container: exit code 3 in its first lines" \
  'head -3 "$logs/explain-crasher.txt" | grep -q "cause: exited with code 3"'
check "explain of the crashed container: the log's last line among the causes" \
  'head -6 "$logs/explain-crasher.txt" | grep -q "fatal: /etc/app.conf not found"'
check "explain of the crashed container: the backend's own view (its bundle)" 'grep -q "bundle" "$logs/explain-crasher.txt"'
check "explain of the healthy pod: the backend's own view (cgroup, bundle, pause)" \
  'grep -q "cgroup" "$logs/explain-healthy.txt" && grep -q "bundle" "$logs/explain-healthy.txt"'
explain a sleeper >"$logs/explain-sleeper.txt"
check "explain of a running container: its conmon, process and cgroup" \
  'grep -q "conmon_pid" "$logs/explain-sleeper.txt" && grep -q "runtime_pid" "$logs/explain-sleeper.txt" && grep -q "cgroup" "$logs/explain-sleeper.txt"'
crictl "$A" inspect "$ctr" >"$logs/inspect-sleeper.json"
check "verbose ContainerStatus: the backend's info names its conmon" 'grep -q "\"conmon_pid\"" "$logs/inspect-sleeper.json"'
explain a crashy >"$logs/explain-crashy.txt"
check "explain of the crashed container's pod: the container's exit first" \
  'head -3 "$logs/explain-crashy.txt" | grep -q "cause: container crasher exited with code 3"'

echo "== A: the kata-type handler (shimv2-runc): a healthy pod and a container that exits with an error"
pod_json kata-healthy "$work/kata-healthy.json"
kpod=$(crictl "$A" runp --runtime shimv2-runc "$work/kata-healthy.json")
ctr_json kata-sleeper '["sleep", "3600"]' "$work/kata-sleeper.json"
kctr=$(crictl "$A" create "$kpod" "$work/kata-sleeper.json" "$work/kata-healthy.json")
crictl "$A" start "$kctr" >/dev/null
# The shim's stdout and stderr are two FIFOs copied apart, so lines written back to back on the two streams can land
# in the log in either order (containerd's CRI has the same property): the pause makes the last line the last.
ctr_json kata-crasher '["sh", "-c", "echo starting; sleep 0.3; echo fatal: no route to the database >&2; exit 4"]' \
  "$work/kata-crasher.json"
kcrash=$(crictl "$A" create "$kpod" "$work/kata-crasher.json" "$work/kata-healthy.json")
crictl "$A" start "$kcrash" >/dev/null
for _ in $(seq 1 100); do
  crictl "$A" inspect -o go-template --template '{{.status.state}}' "$kcrash" 2>/dev/null | grep -q EXITED && break
  sleep 0.1
done
explain a kata-sleeper >"$logs/explain-kata-sleeper.txt"
sed 's/^/    /' "$logs/explain-kata-sleeper.txt"
check "kata: explain of a running container: running in its first lines" \
  'head -3 "$logs/explain-kata-sleeper.txt" | grep -q "cause: running"'
check "kata: explain of a running container: the backend's view names the pod's shim (pid and address)" \
  'grep -q "shim_pid" "$logs/explain-kata-sleeper.txt" && grep -q "shim_address" "$logs/explain-kata-sleeper.txt"'
explain a kata-crasher >"$logs/explain-kata-crasher.txt"
sed 's/^/    /' "$logs/explain-kata-crasher.txt"
check "kata: explain of the crashed container: exit code 4 in its first lines" \
  'head -3 "$logs/explain-kata-crasher.txt" | grep -q "cause: exited with code 4"'
check "kata: explain of the crashed container: the log's last line among the causes" \
  'head -6 "$logs/explain-kata-crasher.txt" | grep -q "fatal: no route to the database"'
explain a kata-healthy >"$logs/explain-kata-pod.txt"
sed 's/^/    /' "$logs/explain-kata-pod.txt"
check "kata: explain of the pod: the crashed container's exit first" \
  'head -3 "$logs/explain-kata-pod.txt" | grep -q "cause: container kata-crasher exited with code 4"'
check "kata: explain of the pod: the backend's view names the shim binary and its pid" \
  'grep -q "containerd-shim-runc-v2" "$logs/explain-kata-pod.txt" && grep -q "shim_pid" "$logs/explain-kata-pod.txt"'
crictl "$A" stop -t 5 "$kctr" >/dev/null
crictl "$A" rmp -f "$kpod" >/dev/null

echo "== B: a pod whose CNI ADD fails"
pod_json nonet "$work/nonet.json"
check "RunPodSandbox on the broken network fails" '! crictl "$B" runp --runtime runc "$work/nonet.json" >"$logs/runp-b.log" 2>&1'
explain b nonet >"$logs/explain-cni.txt" || true
sed 's/^/    /' "$logs/explain-cni.txt"
check "explain of the pod whose CNI failed: the RunPodSandbox error naming the network first" \
  'head -3 "$logs/explain-cni.txt" | grep -q "cause: RunPodSandbox failed" && head -3 "$logs/explain-cni.txt" | grep -qi "cni\|network"'
check "explain of the pod whose CNI failed: the CNI plugin's own error" 'head -3 "$logs/explain-cni.txt" | grep -q "10.95.0.0/99"'
check "explain of an unknown name fails NOT_FOUND" \
  '! explain a no-such-pod >/dev/null 2>"$logs/explain-missing.txt" && grep -q NOT_FOUND "$logs/explain-missing.txt"'

echo "== A: tear down, then read the spans"
crictl "$A" stop -t 5 "$ctr" >/dev/null
crictl "$A" rmp -f "$pod" "$pod2" >/dev/null
sleep 1 # one batch of spans (OTEL_BSP_SCHEDULE_DELAY=200ms)
kill -TERM "${daemons[0]}"; wait "${daemons[0]}" 2>/dev/null || true # a stop flushes the rest
python3 - "$logs/spans.jsonl" "$trace" "$parent" "$pod" <<'PY' >"$logs/span-checks.txt" || true
import json, sys
spans = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
trace, parent, pod = sys.argv[2], sys.argv[3], sys.argv[4]
by_id = {s["span"]: s for s in spans}
def rpc(name):
    return [s for s in spans if s["name"] == name]
def kids(s):
    return {c["name"] for c in spans if c["parent"] == s["span"] and c["trace"] == s["trace"]}
def say(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
print(f"# {len(spans)} spans")
run = [s for s in rpc("runtime.v1.RuntimeService/RunPodSandbox") if s["attrs"].get("berth.pod_id") == pod]
say(len(run) == 1, "one RunPodSandbox server span for the healthy pod")
if run:
    r = run[0]
    say(r["kind"] == 2 and r["attrs"].get("rpc.grpc.status_code") == 0, "RunPodSandbox: SERVER span, status OK")
    say(r["attrs"].get("berth.pod_id") == pod and r["attrs"].get("berth.handler") == "runc"
        and r["attrs"].get("berth.plugin") == "runc", "RunPodSandbox: pod id, handler and plugin attributes")
    k = kids(r)
    say({"backend createSandbox", "backend startSandbox"} <= k, "RunPodSandbox: backend calls are its children: " + ", ".join(sorted(k)))
    say("cni add" in k, "RunPodSandbox: CNI ADD is its child")
    say("record write" in k, "RunPodSandbox: record writes are its children")
    say("image pull" in k, "RunPodSandbox: the sandbox image pull is its child")
    say(r["resource"].get("service.name") == "berth-e2e", "OTEL_SERVICE_NAME overrides the config's service_name")
pull = rpc("runtime.v1.ImageService/PullImage")
say(bool(pull) and "image pull" in kids(pull[0]), "PullImage: an image pull span under it")
create = rpc("runtime.v1.RuntimeService/CreateContainer")
say(bool(create) and "backend createContainer" in kids(create[0])
    and create[0]["attrs"].get("berth.container_id", "") != "", "CreateContainer: backend child and container id")
traced = [s for s in spans if s["trace"] == trace and s["kind"] == 2]
say({s["name"] for s in traced} == {"runtime.v1.RuntimeService/PodSandboxStatus",
    "runtime.v1.RuntimeService/ContainerStatus", "runtime.v1.RuntimeService/ExecSync"},
    "calls with a traceparent: their server spans carry the client's trace id")
say(all(s["parent"] == parent for s in traced), "calls with a traceparent: parented on the client's span")
# PodSandboxStatus and ContainerStatus answer from the state kept in memory (asked of the backend right after the
# start), so they have no backend child to look for; their spans carry the pod and the container.
status = [s for s in traced if s["name"].endswith("PodSandboxStatus")]
say(bool(status) and status[0]["attrs"].get("berth.pod_id", "") == pod, "PodSandboxStatus: in the client's trace, with the pod id")
cs = [s for s in traced if s["name"].endswith("/ContainerStatus")]
say(bool(cs) and cs[0]["attrs"].get("berth.container_id", "") != "", "ContainerStatus: in the client's trace, with the container id")
ex = [s for s in traced if s["name"].endswith("/ExecSync")]
say(bool(ex) and "backend execSync" in kids(ex[0]), "ExecSync: backend execSync is its child, in the client's trace")
orphans = [s for s in spans if s["kind"] != 2 and s["parent"] not in by_id]
say(not orphans, "every child span's parent was exported too" + ("" if not orphans else ": " + str([o["name"] for o in orphans][:5])))
say(not [s for s in spans if s["kind"] != 2 and s["name"].startswith("backend health")],
    "no spans for health checks outside RPCs")
PY
cat "$logs/span-checks.txt"
passed=$((passed + $(grep -c '^ok' "$logs/span-checks.txt" || true)))
failed=$((failed + $(grep -c '^FAIL' "$logs/span-checks.txt" || true)))
grep -q '^# [1-9]' "$logs/span-checks.txt" || { echo "FAIL no spans reached the receiver"; failed=$((failed + 1)); }

echo "tracing and explain end to end: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
