#!/usr/bin/env bash
# End-to-end checks of behaviours the kubelet relies on that critest does not cover, against a running berth with
# real containers, through crictl: the process's uid, gid and groups (supplementary groups come only from the user
# actually run, primary gid included), HOSTNAME and values in the environment (the pod's hostname, the node's for a
# host-network pod), ContainerStatus reporting the resources in force after UpdateContainerResources, the writable
# layer in container stats, the image name and repository digest ContainerStatus reports and the runtime spec its
# verbose info shows, the pod's resolv.conf, hosts and hostname read-only in a container whose root is, a mount
# whose host path is missing made a directory, a missing executable failing CreateContainer by name with nothing
# left (no log file either), and a privileged container refused in a pod not created privileged and given the host's
# devices in one that is (PARITY_HOST_DEVICES=no leaves the devices out, for a handler that does not pass them), a
# device the container asks for there under every handler, a CDI device's edits (with PARITY_CDI_DIR, a directory
# of the daemon's cdi_spec_dirs), a container without a security context in its pod's pid namespace, no child of a container in a shared pid namespace
# left once it ends, an exec during a stop's grace period, a stop with a shorter timeout not held up by one that
# waits, a pod whose pause process was killed listed NotReady (PARITY_SANDBOX_END=no leaves that out, for a
# handler whose backend does not report a sandbox's end), bad request values answered with a code naming them, and
# `crictl images` with a repository named alone.
# Needs the critest registry.
# Usage: test/e2e/parity.sh SOCKET [handler]
set -euo pipefail
cd "$(dirname "$0")/../.."
sock=$1
handler=${2:-}
kit=$(cd ../shared/critest && pwd)
C=("$kit/bin/crictl" --runtime-endpoint "unix://$sock" --image-endpoint "unix://$sock" --timeout 60s)
tmp=$(mktemp -d /tmp/berth-parity.XXXXXX)
cleanup() { # pods are made in subshells, so their ids are in files
  for f in "$tmp"/pod-*.id; do
    [ -e "$f" ] || continue
    "${C[@]}" stopp "$(cat "$f")" >/dev/null 2>&1 || true
    "${C[@]}" rmp "$(cat "$f")" >/dev/null 2>&1 || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
checks=0
expect() { # name, expected, actual
  checks=$((checks + 1))
  if [ "$2" = "$3" ]; then
    echo "ok   $1"
  else
    echo "FAIL $1: expected [$2], got [$3]"
    failures=$((failures + 1))
  fi
}

busybox=docker.io/library/busybox:1.36
groups_image=gcr.io/k8s-staging-cri-tools/test-image-predefined-group:latest
"${C[@]}" pull "$busybox" >/dev/null
"${C[@]}" pull "$groups_image" >/dev/null

echo "== images"
busybox_id=$("${C[@]}" inspecti -o go-template --template '{{.status.id}}' "$busybox")
expect "crictl images <repository> lists the repository's images, tags left out" yes \
  "$("${C[@]}" images -q --no-trunc docker.io/library/busybox | grep -qx "$busybox_id" && echo yes || echo no)"
expect "crictl images <repository:tag> lists that image alone" "$busybox_id" \
  "$("${C[@]}" images -q --no-trunc "$busybox")"

next() { # a number unique in this run (callers run in subshells, so it lives in a file)
  local n
  n=$(($(cat "$tmp/n" 2>/dev/null || echo 0) + 1))
  echo "$n" >"$tmp/n"
  echo "$n"
}
pod() { # name, extra pod-config json fields (may be empty)
  local n
  n=$(next)
  cat >"$tmp/pod-$n.json" <<JSON
{"metadata": {"name": "parity-$1", "namespace": "parity", "uid": "parity-$1-$$"},
 "hostname": "parity-$1", "log_directory": "$tmp/logs-$n"${2:+, $2}}
JSON
  local id
  id=$("${C[@]}" runp ${handler:+--runtime "$handler"} "$tmp/pod-$n.json")
  echo "$id" >"$tmp/pod-$n.id"
  echo "$id"
}
podfile() { # the config file of a pod id
  grep -lxF "$1" "$tmp"/pod-*.id | sed 's/\.id$/.json/'
}
run_once() { # pod, image, security-context json, command json, [extra container fields]: prints the log
  local n
  n=$(next)
  cat >"$tmp/ctr-$n.json" <<JSON
{"metadata": {"name": "c$n"}, "image": {"image": "$2"}, "command": $4, "log_path": "c$n.log",
 "linux": {"security_context": $3}${5:+, $5}}
JSON
  local id
  id=$("${C[@]}" create "$1" "$tmp/ctr-$n.json" "$(podfile "$1")")
  "${C[@]}" start "$id" >/dev/null
  for _ in $(seq 1 100); do
    "${C[@]}" inspect -o go-template --template '{{.status.state}}' "$id" 2>/dev/null | grep -q EXITED && break
    sleep 0.1
  done
  "${C[@]}" logs "$id" 2>&1
}

echo "== process identity (uid, gid, supplementary groups)"
p=$(pod ids)
expect "no security context: root with the primary group and its memberships" \
  "uid=0(root) gid=0(root) groups=0(root),10(wheel)" "$(run_once "$p" "$busybox" '{}' '["id"]')"
expect "run_as_user and run_as_group without a passwd entry: no groups of root" \
  "uid=1234 gid=1234 groups=1234" \
  "$(run_once "$p" "$busybox" '{"run_as_user": {"value": 1234}, "run_as_group": {"value": 1234}}' '["id"]')"
expect "run_as_user without a passwd entry: gid 0 only" \
  "uid=1234 gid=0(root) groups=0(root)" "$(run_once "$p" "$busybox" '{"run_as_user": {"value": 1234}}' '["id"]')"
expect "run_as_username with supplemental_groups" \
  "uid=33(www-data) gid=33(www-data) groups=33(www-data),2000" \
  "$(run_once "$p" "$busybox" '{"run_as_username": "www-data", "supplemental_groups": [2000]}' '["id"]')"
expect "the image's user and its memberships in the image (Merge)" \
  "uid=1000(default-user) gid=1000(default-user) groups=1000(default-user),50000(group-defined-in-image)" \
  "$(run_once "$p" "$groups_image" '{}' '["id"]')"
expect "Merge: run_as_group, supplemental groups and the image's memberships" \
  "uid=1000(default-user) gid=3000 groups=3000,4000,50000(group-defined-in-image)" \
  "$(run_once "$p" "$groups_image" \
     '{"run_as_user": {"value": 1000}, "run_as_group": {"value": 3000}, "supplemental_groups": [4000]}' '["id"]')"
# The Strict policy is in the unit tests only: crictl 1.29 predates the supplemental_groups_policy field.

hostname_env() { grep '^HOSTNAME=' | cut -d= -f2-; }
echo "== HOSTNAME and values in the container's environment"
expect "HOSTNAME is the pod's hostname" "parity-ids" \
  "$(run_once "$p" "$busybox" '{}' '["env"]' | hostname_env)"
expect "the request's HOSTNAME wins" "mine" \
  "$(run_once "$p" "$busybox" '{}' '["env"]' \
     '"envs": [{"key": "HOSTNAME", "value": "mine"}]' | hostname_env)"
expect "an env value reaches the process as text" "a b=c" \
  "$(run_once "$p" "$busybox" '{}' '["sh", "-c", "echo \"$FOO\""]' '"envs": [{"key": "FOO", "value": "a b=c"}]')"
hp=$(pod hostnet '"linux": {"security_context": {"namespace_options": {"network": 2}}}')
expect "a host-network pod's containers get the node's hostname" "$(cat /proc/sys/kernel/hostname)" \
  "$(run_once "$hp" "$busybox" '{"namespace_options": {"network": 2}}' '["env"]' | hostname_env)"

echo "== ContainerStatus after UpdateContainerResources"
n=$(next)
cat >"$tmp/ctr-$n.json" <<JSON
{"metadata": {"name": "c$n"}, "image": {"image": "$busybox"}, "command": ["sleep", "3600"],
 "linux": {"resources": {"memory_limit_in_bytes": 104857600, "cpu_shares": 512}}}
JSON
u=$("${C[@]}" create "$p" "$tmp/ctr-$n.json" "$(podfile "$p")")
"${C[@]}" update --memory 209715200 "$u" >/dev/null
"${C[@]}" start "$u" >/dev/null
mem() { "${C[@]}" inspect -o go-template --template '{{.status.resources.linux.memoryLimitInBytes}}' "$u"; }
shares() { "${C[@]}" inspect -o go-template --template '{{.status.resources.linux.cpuShares}}' "$u"; }
expect "the memory limit raised before start is reported" "209715200" "$(mem)"
expect "a limit the update left out keeps its value" "512" "$(shares)"
"${C[@]}" update --memory 314572800 "$u" >/dev/null
expect "the memory limit raised while running is reported" "314572800" "$(mem)"
spec_mem() {
  "${C[@]}" inspect -o go-template --template '{{.info.runtimeSpec.linux.resources.memory.limit}}' "$u"
}
expect "the runtime spec crictl inspect shows holds the limit in force" "314572800" "$(spec_mem)"
"${C[@]}" stop -t 1 "$u" >/dev/null

echo "== the writable layer in container stats"
n=$(next)
cat >"$tmp/ctr-$n.json" <<JSON
{"metadata": {"name": "c$n"}, "image": {"image": "$busybox"},
 "command": ["sh", "-c", "head -c 300000 /dev/zero > /data.bin && sleep 3600"]}
JSON
w=$("${C[@]}" create "$p" "$tmp/ctr-$n.json" "$(podfile "$p")")
"${C[@]}" start "$w" >/dev/null
used=0
for _ in $(seq 1 120); do # the first reading is taken at once, later ones every 10 s
  used=$("${C[@]}" stats -o json "$w" 2>/dev/null | python3 -c \
    'import json, sys; print(sum(int(s.get("writableLayer", {}).get("usedBytes", {}).get("value", 0)) for s in json.load(sys.stdin)["stats"]))' \
    2>/dev/null || echo 0)
  [ "${used:-0}" -ge 300000 ] 2>/dev/null && break
  sleep 0.2
done
expect "crictl stats shows the file the container wrote in its writable layer" yes \
  "$([ "${used:-0}" -ge 300000 ] 2>/dev/null && echo yes || echo "no: used_bytes ${used:-none}")"
"${C[@]}" stop -t 1 "$w" >/dev/null

echo "== the image a container's status reports"
# The kubelet shows ContainerStatus's image and image_ref as the pod's image and imageID; containerd and CRI-O report
# the name in full and the repository digest (the kubelet's node e2e "ImageID" test expects the digest).
n=$(next)
cat >"$tmp/ctr-$n.json" <<JSON
{"metadata": {"name": "short-$n"}, "image": {"image": "busybox:1.36"}, "command": ["sleep", "600"]}
JSON
s=$("${C[@]}" create "$p" "$tmp/ctr-$n.json" "$(podfile "$p")")
expect "ContainerStatus names the image in full" docker.io/library/busybox:1.36 \
  "$("${C[@]}" inspect "$s" | python3 -c 'import json, sys; print(json.load(sys.stdin)["status"]["image"]["image"])')"
expect "ContainerStatus's image_ref is the repository digest" yes \
  "$("${C[@]}" inspect "$s" | python3 -c 'import json, re, sys
ref = json.load(sys.stdin)["status"]["imageRef"]
print("yes" if re.fullmatch(r"docker\.io/library/busybox@sha256:[0-9a-f]{64}", ref) else ref)')"
# containerd's verbose status carries the OCI spec the runtime was given; people debugging a node read it there.
expect "crictl inspect shows the runtime spec the container was created with" "sleep 600" \
  "$("${C[@]}" inspect "$s" | python3 -c 'import json, sys
print(" ".join(json.load(sys.stdin)["info"].get("runtimeSpec", {}).get("process", {}).get("args", ["none"])))')"
"${C[@]}" rm "$s" >/dev/null

echo "== the pod's files in a container with a read-only root"
# containerd and CRI-O bind /etc/resolv.conf, /etc/hosts and /etc/hostname read-only when the root file system is.
ep=$(pod etc '"linux": {}')
write_etc='for f in resolv.conf hosts hostname; do (echo x >> /etc/$f) 2>/dev/null && echo wrote $f || echo refused $f; done'
expect "a read-only root: the pod's files are read-only too" "refused resolv.conf refused hosts refused hostname" \
  "$(run_once "$ep" "$busybox" '{"readonly_rootfs": true}' "[\"sh\", \"-c\", \"$write_etc\"]" | xargs)"
expect "a writable root: the pod's files are writable" "wrote resolv.conf wrote hosts wrote hostname" \
  "$(run_once "$ep" "$busybox" '{}' "[\"sh\", \"-c\", \"$write_etc\"]" | xargs)"

echo "== a mount whose host path does not exist"
# A hostPath volume without a type reaches the runtime unchecked; containerd and CRI-O make the directory.
absent="$tmp/absent-$$/dir"
expect "the container runs with the missing host path made a directory" "written" \
  "$(run_once "$p" "$busybox" '{}' '["sh", "-c", "touch /data/f && echo written"]' \
     "\"mounts\": [{\"container_path\": \"/data\", \"host_path\": \"$absent\"}]")"
expect "the directory is on the host with what the container wrote" yes \
  "$([ -d "$absent" ] && [ -f "$absent/f" ] && echo yes || echo no)"

echo "== a command that is not in the image"
n=$(next)
cat >"$tmp/ctr-$n.json" <<JSON
{"metadata": {"name": "missing-$n"}, "image": {"image": "$busybox"}, "command": ["no-such-program-$$"],
 "log_path": "missing-$n.log"}
JSON
out=$("${C[@]}" create "$p" "$tmp/ctr-$n.json" "$(podfile "$p")" 2>&1) && out="created: $out"
checks=$((checks + 1))
if [[ "$out" == *"no-such-program-$$"*"not found"* || "$out" == *"not found"*"no-such-program-$$"* ]]; then
  echo "ok   CreateContainer fails naming the missing executable"
else
  echo "FAIL CreateContainer should fail naming the missing executable: $out"
  failures=$((failures + 1))
fi
expect "the failed container is not listed" "" "$("${C[@]}" ps -a -q --name "missing-$n")"
logs=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["log_directory"])' "$(podfile "$p")")
expect "the failed create left no log file" absent "$([ -e "$logs/missing-$n.log" ] && echo present || echo absent)"

echo "== bad values answered with a code that names them, not INTERNAL or UNKNOWN"
# code_of: the gRPC code in crictl's error output, or "created" when the call succeeded
code_of() { local o; o=$("$@" 2>&1) && { echo created; return; }; o=${o#*code = }; echo "${o%% desc*}"; }
bad_pod() { # field json: RunPodSandbox's code
  local n; n=$(next)
  cat >"$tmp/bad-$n.json" <<JSON
{"metadata": {"name": "parity-bad-$n", "namespace": "parity", "uid": "parity-bad-$n-$$"}, $1}
JSON
  code_of "${C[@]}" runp ${handler:+--runtime "$handler"} "$tmp/bad-$n.json"
}
expect "a pod's run_as_user below 0 is InvalidArgument" InvalidArgument \
  "$(bad_pod '"linux": {"security_context": {"run_as_user": {"value": -3}}}')"
expect "a DNS server that would add a line to resolv.conf is InvalidArgument" InvalidArgument \
  "$(bad_pod '"dns_config": {"servers": ["10.0.0.10\nnameserver 10.6.6.6"]}')"
expect "a cgroup parent climbing out with .. is InvalidArgument" InvalidArgument \
  "$(bad_pod '"linux": {"cgroup_parent": "/kubepods/../../escape"}')"
expect "no pod of those was left" "" "$("${C[@]}" pods -q --namespace parity --name parity-bad)"
bad_ctr() { # extra container fields json: CreateContainer's code in pod $p
  local n; n=$(next)
  cat >"$tmp/ctr-$n.json" <<JSON
{"metadata": {"name": "bad-$n"}, "image": {"image": "$busybox"}, "log_path": "bad-$n.log", $1}
JSON
  code_of "${C[@]}" create "$p" "$tmp/ctr-$n.json" "$(podfile "$p")"
}
expect "a container's supplemental group above 2^31-1 is InvalidArgument" InvalidArgument \
  "$(bad_ctr '"command": ["sleep", "1"], "linux": {"security_context": {"supplemental_groups": [4294967296]}}')"
# what the OCI runtime itself refuses, in runc's and crun's words, directly or quoted by the shim (RuntimeErrors)
expect "a command that is a directory is FailedPrecondition" FailedPrecondition "$(bad_ctr '"command": ["/"]')"
expect "cpu_shares 1 is InvalidArgument" InvalidArgument \
  "$(bad_ctr '"command": ["sleep", "1"], "linux": {"resources": {"cpu_shares": 1}}')"
expect "device permissions other than r, w and m are InvalidArgument" InvalidArgument \
  "$(bad_ctr '"command": ["sleep", "1"], "devices": [{"host_path": "/dev/null", "container_path": "/dev/x", "permissions": "RW"}]')"
expect "no container of those was left" "" "$("${C[@]}" ps -a -q --name '^bad-')"

echo "== privileged containers"
# containerd and CRI-O run a privileged container only in a pod created privileged (the kubelet makes the pod so when
# one of its containers is), and give it the host's devices unless the handler says otherwise.
n=$(next)
cat >"$tmp/ctr-$n.json" <<JSON
{"metadata": {"name": "priv-$n"}, "image": {"image": "$busybox"}, "command": ["sleep", "600"],
 "linux": {"security_context": {"privileged": true}}}
JSON
out=$("${C[@]}" create "$p" "$tmp/ctr-$n.json" "$(podfile "$p")" 2>&1) && out="created: $out"
checks=$((checks + 1))
if [[ "$out" == *FailedPrecondition*"was not created privileged"* ]]; then
  echo "ok   a privileged container in a pod not created privileged is refused"
else
  echo "FAIL a privileged container in a pod not created privileged should be refused: $out"
  failures=$((failures + 1))
fi
expect "the refused container is not listed" "" "$("${C[@]}" ps -a -q --name "priv-$n")"
pp=$(pod privileged '"linux": {"security_context": {"privileged": true}}')
if [ "${PARITY_HOST_DEVICES:-yes}" = yes ]; then
  dev=$(find /dev -maxdepth 1 -type c ! -name null ! -name zero ! -name full ! -name random ! -name urandom \
    ! -name tty ! -name ptmx ! -name console | sort | head -1)
  expect "a privileged container has the host's devices ($dev)" "$dev" \
    "$(run_once "$pp" "$busybox" '{"privileged": true}' "[\"ls\", \"$dev\"]")"
fi

# A device a container asks for reaches it under every handler (containerd passes it to any runtime; a kata shim
# hands it to the VM).
expect "a device the container asks for is there, with the host node's numbers" "1,3" \
  "$(run_once "$p" "$busybox" '{}' '["stat", "-c", "%t,%T", "/dev/parity-null"]' \
    '"devices": [{"host_path": "/dev/null", "container_path": "/dev/parity-null", "permissions": "rw"}]')"

# CDI: a device named in a cdi.k8s.io/ annotation brings its spec's edits (environment, device node, read-only
# mount) under every handler; one no spec defines fails the create, naming it. PARITY_CDI_DIR is a directory in the
# daemon's cdi_spec_dirs (containerd 1.6 has no CDI: run by hand against it, leave it unset).
if [ -n "${PARITY_CDI_DIR:-}" ]; then
  mkdir -p "$PARITY_CDI_DIR" "$tmp/cdi-share"
  echo hello >"$tmp/cdi-share/hello"
  cat >"$PARITY_CDI_DIR/parity.yaml" <<YAML
cdiVersion: "0.6.0"
kind: example.com/parity
devices:
  - name: one
    containerEdits:
      env: ["PARITY_CDI=one"]
      deviceNodes:
        - path: /dev/parity-cdi
          hostPath: /dev/null
containerEdits:
  env: ["PARITY_CDI_SPEC=yes"]
  mounts:
    - hostPath: $tmp/cdi-share
      containerPath: /parity-cdi
      options: [ro, rbind]
YAML
  cdi_cmd='["sh", "-c", "stat -c %t,%T /dev/parity-cdi; echo $PARITY_CDI $PARITY_CDI_SPEC; cat /parity-cdi/hello; '
  cdi_cmd+='touch /parity-cdi/x 2>/dev/null || echo read-only"]'
  expect "a CDI device brings its environment, device node and read-only mount" \
    "$(printf '1,3\none yes\nhello\nread-only')" \
    "$(run_once "$p" "$busybox" '{}' "$cdi_cmd" '"annotations": {"cdi.k8s.io/parity": "example.com/parity=one"}')"
  n=$(next)
  cat >"$tmp/ctr-$n.json" <<JSON
{"metadata": {"name": "c$n"}, "image": {"image": "$busybox"}, "command": ["true"],
 "annotations": {"cdi.k8s.io/parity": "example.com/parity=two"}}
JSON
  o=$("${C[@]}" create "$p" "$tmp/ctr-$n.json" "$(podfile "$p")" 2>&1 || true)
  expect "a CDI device no spec defines fails the create, naming it" "FailedPrecondition example.com/parity=two" \
    "$(echo "$o" | grep -o 'code = [A-Za-z]*' | head -1 | cut -d' ' -f3) $(echo "$o" | grep -o 'example.com/parity=two' | head -1)"
  rm -f "$PARITY_CDI_DIR/parity.yaml"
fi

echo "== a container without a security context in a pod sharing its pid namespace"
# CRI's defaults for a message left out: the pod's namespaces, the pid namespace too.
sp=$(pod sharedpid '"linux": {"security_context": {"namespace_options": {"pid": 0}}}')
n=$(next)
cat >"$tmp/ctr-$n.json" <<JSON
{"metadata": {"name": "sleeper-$n"}, "image": {"image": "$busybox"}, "command": ["sleep", "3601"],
 "linux": {"security_context": {"namespace_options": {"pid": 0}}}}
JSON
sl=$("${C[@]}" create "$sp" "$tmp/ctr-$n.json" "$(podfile "$sp")")
"${C[@]}" start "$sl" >/dev/null
n=$(next)
cat >"$tmp/ctr-$n.json" <<JSON
{"metadata": {"name": "bare-$n"}, "image": {"image": "$busybox"}, "command": ["sleep", "600"]}
JSON
bare=$("${C[@]}" create "$sp" "$tmp/ctr-$n.json" "$(podfile "$sp")")
"${C[@]}" start "$bare" >/dev/null
expect "it sees the other container's process" "sleep 3601" \
  "$("${C[@]}" exec "$bare" ps -o args | grep -x 'sleep 3601' || true)"
# The kernel kills what a container started only with its pid namespace's init: in a shared one, a container's
# first process ending leaves its children running unless the runtime kills them (containerd's shim does).
r=$((RANDOM * 32768 + RANDOM + 1000000))
n=$(next)
cat >"$tmp/ctr-$n.json" <<JSON
{"metadata": {"name": "parent-$n"}, "image": {"image": "$busybox"}, "command": ["sh", "-c", "sleep $r & sleep 3600"]}
JSON
pa=$("${C[@]}" create "$sp" "$tmp/ctr-$n.json" "$(podfile "$sp")")
"${C[@]}" start "$pa" >/dev/null
for _ in $(seq 1 100); do pgrep -x -f "sleep $r" >/dev/null && break; sleep 0.1; done
"${C[@]}" stop -t 0 "$pa" >/dev/null
expect "a stopped container's child in the pod's pid namespace is gone" "" "$(pgrep -x -f "sleep $r" || true)"
r=$((r + 1))
run_once "$sp" "$busybox" '{}' "[\"sh\", \"-c\", \"sleep $r & echo started\"]" >/dev/null
for _ in $(seq 1 100); do pgrep -x -f "sleep $r" >/dev/null || break; sleep 0.1; done
expect "the child of a container that ended by itself is gone" "" "$(pgrep -x -f "sleep $r" || true)"

echo "== a stop with a shorter timeout while another stop waits"
# The kubelet sends a second StopContainer with a shorter grace period when a pod's deletion is forced: it must kill
# the container at its own deadline, not wait behind the first stop's (containerd and CRI-O do so).
n=$(next)
cat >"$tmp/ctr-$n.json" <<JSON
{"metadata": {"name": "stubborn-$n"}, "image": {"image": "$busybox"},
 "command": ["sh", "-c", "trap 'echo TERM' TERM; while true; do sleep 1; done"]}
JSON
st=$("${C[@]}" create "$p" "$tmp/ctr-$n.json" "$(podfile "$p")")
"${C[@]}" start "$st" >/dev/null
"${C[@]}" --timeout 200s stop -t 120 "$st" >/dev/null 2>&1 &
first=$!
sleep 1
# Probes and preStop-like execs go on while a container is given its grace period (containerd and CRI-O run them).
expect "an exec runs while a stop gives the container its grace period" "during grace" \
  "$("${C[@]}" exec -s "$st" echo during grace 2>&1)"
began=$(date +%s)
"${C[@]}" stop -t 2 "$st" >/dev/null
took=$(($(date +%s) - began))
checks=$((checks + 1))
if [ "$took" -lt 30 ]; then
  echo "ok   a stop with a 2 s timeout returns while a stop with a 120 s timeout waits (after ${took} s)"
else
  echo "FAIL a stop with a 2 s timeout took ${took} s while a stop with a 120 s timeout waited"
  failures=$((failures + 1))
fi
expect "the container has exited" CONTAINER_EXITED \
  "$("${C[@]}" inspect -o go-template --template '{{.status.state}}' "$st")"
for _ in $(seq 1 300); do kill -0 "$first" 2>/dev/null || break; sleep 0.1; done
expect "the first stop has returned too" gone "$(kill -0 "$first" 2>/dev/null && echo waiting || echo gone)"
wait "$first" 2>/dev/null || true

if [ "${PARITY_SANDBOX_END:-yes}" = yes ]; then
  echo "== a pod whose own process ended"
  # The kubelet's relist compares the listed pod states: a pod whose pause process died must show NotReady there,
  # not only in its status, for the kubelet to recreate it.
  d=$(pod ended '"linux": {}')
  pause=$("${C[@]}" inspectp "$d" | python3 -c 'import json, sys; print(json.load(sys.stdin)["info"]["pid"])')
  kill -9 "$pause"
  listed=
  for _ in $(seq 1 100); do
    listed=$("${C[@]}" pods -q --no-trunc --state NotReady --id "$d")
    [ -n "$listed" ] && break
    sleep 0.1
  done
  expect "crictl pods lists the pod NotReady once its pause process is killed" "$d" "$listed"
  expect "crictl inspectp says the same" SANDBOX_NOTREADY \
    "$("${C[@]}" inspectp "$d" | python3 -c 'import json, sys; print(json.load(sys.stdin)["status"]["state"])')"
fi

echo "$checks checks, $failures failed"
[ "$failures" = 0 ]
