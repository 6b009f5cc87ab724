#!/usr/bin/env bash
# The systemd cgroup driver under a real systemd, in a root booted by ../shared/tools/systemd-root.sh with berth's
# package installed (test/systemd/run.sh calls this after its install checks): a config.d drop-in turns on
# systemd_cgroup for the runc handler and a crun one, berth restarts, and per handler a pod with kubelet's kind of cgroup parent
# (/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid>.slice) must put its pause container and
# its container in berth-<id>.scope units in that slice, with stats read from there, through a restart of berth;
# removing the pod removes the slice berth made. Then critest v1.29 runs inside the root (critest asks
# RuntimeConfig for the driver and puts its pods in /test.slice), and afterwards no berth scope, pod slice or
# test.slice is left, neither as a unit nor in the cgroup tree. BERTH_SYSTEMD_CRITEST_CRUN=1 runs critest with crun too.
# Usage (root): test/systemd/critest.sh SUITE LOGDIR   (the root of SUITE booted, berth installed)
set -euo pipefail
cd "$(dirname "$0")/../.."
suite=$1
logs=$2
mkdir -p "$logs"
kit=$(cd ../shared/critest && pwd)
sr=$(cd ../shared/tools && pwd)/systemd-root.sh
failures=0
checks=0
ok() { checks=$((checks + 1)); echo "ok   $1"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL $1"; }
in_root() { echo "+ $*" >>"$logs/checks.log"; "$sr" exec "$suite" "$*"; }
check() { # name, command run inside the root: passes when it exits 0
  if in_root "$2" >>"$logs/checks.log" 2>&1; then ok "$1"; else fail "$1 (see $logs/checks.log)"; fi
}
crictl() { in_root "crictl --timeout 60s $*"; }
started=$(date +%s)

echo "== the runc handler (runc, and crun) on the systemd cgroup driver"
in_root 'for h in registry.k8s.io gcr.io k8s.gcr.io quay.io public.ecr.aws docker.io; do mkdir -p /etc/berth/certs.d/$h; printf "server = \"http://127.0.0.1:5000\"\n[host.\"http://127.0.0.1:5000\"]\n  capabilities = [\"pull\", \"resolve\"]\n" >/etc/berth/certs.d/$h/hosts.toml; done
mkdir -p /etc/berth/config.d && cat >/etc/berth/config.d/50-systemd-cgroup.toml <<TOML
# The runc handler on the systemd cgroup driver, as kubeadm configures the kubelet (cgroupDriver: systemd).
[runtimes.runc]
type = "runc"
[runtimes.runc.options]
systemd_cgroup = true
[runtimes.crun]
type = "runc"
[runtimes.crun.options]
binary = "crun"
systemd_cgroup = true
TOML
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq crun >/dev/null
systemctl restart berth' >>"$logs/checks.log" 2>&1
check "berth restarts with the drop-in and its doctor passes" 'systemctl is-active berth && berth doctor'

pod_checks() { # handler: a pod with kubelet's kind of cgroup parent, its scopes, stats, a restart, its removal
  local h=$1 uid=sdcg_$1
  local slice=kubepods-besteffort-pod$uid.slice
  local sliced=/kubepods.slice/kubepods-besteffort.slice/$slice
  in_root "mkdir -p /root/sd && cat >/root/sd/pod-$h.json <<JSON
{\"metadata\": {\"name\": \"sliced-$h\", \"namespace\": \"systemd-test\", \"uid\": \"$uid\"}, \"log_directory\": \"/root/sd/logs-$h\",
 \"linux\": {\"cgroup_parent\": \"$sliced\"}}
JSON
cat >/root/sd/ctr.json <<JSON
{\"metadata\": {\"name\": \"sleeper\"}, \"image\": {\"image\": \"docker.io/library/busybox:1.36\"}, \"log_path\": \"sleeper.log\",
 \"command\": [\"sleep\", \"3600\"]}
JSON" >/dev/null
  local pod ctr pid
  pod=$(crictl runp --runtime "$h" "/root/sd/pod-$h.json")
  ctr=$(crictl create "$pod" /root/sd/ctr.json "/root/sd/pod-$h.json")
  crictl start "$ctr" >/dev/null
  pid=$(crictl inspect -o go-template --template '{{.info.pid}}' "$ctr")
  check "$h: the pause container runs in berth-<pod id>.scope in the pod's slice" \
    "systemctl is-active berth-$pod.scope && [ \"\$(systemctl show -p Slice --value berth-$pod.scope)\" = $slice ]"
  check "$h: the container runs in berth-<container id>.scope in the pod's slice" \
    "systemctl is-active berth-$ctr.scope && [ \"\$(systemctl show -p Slice --value berth-$ctr.scope)\" = $slice ]"
  # (crun runs it in the scope's subgroup "container" in the hierarchies other than systemd's own)
  check "$h: the container's process is in that scope's cgroup (name=systemd, memory, cpu)" \
    "grep -q ':name=systemd:$sliced/berth-$ctr.scope\$' /proc/$pid/cgroup && grep -Eq ':memory:$sliced/berth-$ctr.scope(/container)?\$' /proc/$pid/cgroup && grep -Eq ':cpu[a-z,]*:$sliced/berth-$ctr.scope(/container)?\$' /proc/$pid/cgroup"
  check "$h: systemctl status of the slice lists the container's scope" "systemctl status --no-pager $slice | grep -q 'berth-$ctr.scope'"
  stats_ok() { # container and pod stats read a memory working set above zero from the scope and the slice
    in_root "crictl stats -o json $ctr | grep -A2 workingSetBytes | grep -Eq '\"value\": \"?[1-9]' && crictl statsp -o json $pod | grep -A2 workingSetBytes | grep -Eq '\"value\": \"?[1-9]'"
  }
  if stats_ok >>"$logs/checks.log" 2>&1; then ok "$h: container and pod stats come from the scope and the slice"
  else fail "$h: container and pod stats come from the scope and the slice (see $logs/checks.log)"; fi
  in_root 'systemctl restart berth' >/dev/null
  sleep 1
  check "$h: after a restart of berth the container runs on in its scope" \
    "[ \"\$(crictl inspect -o go-template --template '{{.info.pid}}' $ctr)\" = $pid ] && systemctl is-active berth-$ctr.scope"
  if stats_ok >>"$logs/checks.log" 2>&1; then ok "$h: after the restart the stats still come from the scope and the slice"
  else fail "$h: after the restart the stats still come from the scope and the slice (see $logs/checks.log)"; fi
  crictl stopp "$pod" >/dev/null
  crictl rmp "$pod" >/dev/null
  check "$h: removing the pod leaves no scope and no pod slice: units and cgroup tree" \
    "! systemctl list-units --all --no-legend --type=scope,slice | grep -E 'berth-|$slice' && ! find /sys/fs/cgroup -name '$slice' -o -name 'berth-*.scope' | grep ."
}
crictl pull docker.io/library/busybox:1.36 >/dev/null
pod_checks runc
pod_checks crun

"$sr" copy "$suite" "$kit/bin/critest" /usr/local/bin/critest
"$sr" copy "$suite" "$kit/bin/ginkgo" /usr/local/bin/ginkgo
critest_run() { # name (in test/critest/expected.txt), critest args...
  local name=$1; shift
  echo "== critest v1.29 against berth in the root: $name"
  local t0 t1 summary passed want
  t0=$(date +%s)
  in_root "mkdir -p /root/critest && cd /root/critest && timeout 1200 critest --runtime-endpoint=unix:///run/berth/berth.sock --image-endpoint=unix:///run/berth/berth.sock $*" \
    >"$logs/critest-$name.log" 2>&1 || true
  t1=$(date +%s)
  summary=$(sed 's/\x1b\[[0-9;]*m//g' "$logs/critest-$name.log" | grep -a -E '(SUCCESS|FAIL)! -- ' | tail -1)
  sed 's/\x1b\[[0-9;]*m//g' "$logs/critest-$name.log" | grep -a -E '^\s*\[FAIL\]' || true
  passed=$(echo "$summary" | sed -n 's/.* \([0-9]*\) Passed.*/\1/p')
  want=$(awk -v n="$name" '$1 == n {print $2}' test/critest/expected.txt)
  if [ -n "$passed" ] && [ "$passed" -ge "$want" ]; then
    ok "critest $name: ${summary} in $((t1 - t0)) s (at least $want must pass, test/critest/expected.txt)"
  else fail "critest $name: ${summary:-no summary}: at least $want must pass (see $logs/critest-$name.log)"; fi
}
critest_run systemd-runc
# crun's run doubles the stage's time; CI runs runc's only unless asked.
[ -z "${BERTH_SYSTEMD_CRITEST_CRUN:-}" ] || critest_run systemd-crun -runtime-handler=crun
crictl rmp -af >/dev/null 2>&1 || true
check "after critest no berth scope, pod slice or test.slice is left: units" \
  "! systemctl list-units --all --no-legend --type=scope,slice | grep -E 'berth-|kubepods-.*-pod|test\\.slice'"
check "after critest no berth scope, pod slice or test.slice is left: cgroup tree" \
  "! find /sys/fs/cgroup -name 'berth-*.scope' -o -name '*-pod*.slice' -o -name test.slice | grep ."
# kubelet's QoS slices, which systemd made as the pod slice's parents: kubelet keeps them; stop them here.
in_root 'systemctl stop kubepods.slice; for d in /sys/fs/cgroup/*/kubepods.slice; do [ ! -d $d ] || find $d -depth -type d -exec rmdir {} +; done' >/dev/null 2>&1 || true
echo "systemd cgroup driver stage: $checks checks, $failures failed, $(( $(date +%s) - started )) s"
[ "$failures" = 0 ]
