#!/usr/bin/env bash
# The Debian package under a real systemd: in a fresh Debian root booted with systemd as its PID 1
# (../shared/tools/systemd-root.sh), `apt install ./berth_*.deb` with its dependencies, the unit starts
# through Type=notify, passes systemd-analyze verify, doctor and crictl work, reload reloads, restart and
# an upgrade to a newer package and a downgrade back keep a running container's pid and its log without a gap,
# a package that cannot read the node's state format is refused, and purge removes the package's files. On
# Debian 13, test/systemd/critest.sh runs the runc handler on the systemd cgroup driver (scopes, slices, stats,
# critest). Needs the critest kit (registry, crictl, critest) beside the repository.
# Usage (root, after mvn package): test/systemd/run.sh [bookworm|trixie] [logdir]
set -euo pipefail
cd "$(dirname "$0")/../.."
suite=${1:-trixie}
logs=${2:-$(pwd)/target/systemd}
mkdir -p "$logs"
kit=$(cd ../shared/critest && pwd)
sr=$(cd ../shared/tools && pwd)/systemd-root.sh
deb=$(ls distribution/target/berth_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { echo "build the package first (mvn package)" >&2; exit 1; }
work=$(mktemp -d /tmp/berth-systemd.XXXXXX)
registry_was_up=$(curl -fsS -o /dev/null http://127.0.0.1:5000/v2/ 2>/dev/null && echo yes || true)
# The root's systemd shares the host's /sys, and on a host whose cgroup v1 hierarchies it would mount otherwise
# (cpu,cpuacct; net_cls,net_prio; perf_event) it leaves empty directories and links in the host's
# /sys/fs/cgroup. crun then takes those for hierarchies and fails every container, so the test puts the host's
# /sys/fs/cgroup back as it found it.
cgroup_entries_before=$(ls -A /sys/fs/cgroup)
restore_sys_fs_cgroup() {
  local e stray=()
  for e in $(ls -A /sys/fs/cgroup); do
    grep -qxF -- "$e" <<<"$cgroup_entries_before" || mountpoint -q "/sys/fs/cgroup/$e" || stray+=("$e")
  done
  [ ${#stray[@]} -gt 0 ] || return 0
  echo "removing what the root's systemd left in the host's /sys/fs/cgroup: ${stray[*]}"
  local ro=; grep -q ' /sys/fs/cgroup tmpfs ro' /proc/mounts && ro=yes
  [ -z "$ro" ] || mount -o remount,rw /sys/fs/cgroup
  for e in "${stray[@]}"; do
    if [ -L "/sys/fs/cgroup/$e" ]; then rm -f "/sys/fs/cgroup/$e"; else rmdir "/sys/fs/cgroup/$e" 2>/dev/null || true; fi
  done
  [ -z "$ro" ] || mount -o remount,ro /sys/fs/cgroup
}
# It also mounts cgroup v1 hierarchies that the host leaves unmounted (net_cls,net_prio, perf_event here) and
# makes cgroups in them; those hierarchies outlive the root while they have cgroups, and containerd's shim then
# fails to load any container's cgroups ("cgroup does not exist"). So: mount each such hierarchy, remove its
# (empty) cgroups, unmount it, and the kernel drops it.
drop_unmounted_hierarchies() {
  local line ctrls d
  while IFS=: read -r _ ctrls _; do
    case "$ctrls" in ''|name=*) continue ;; esac
    awk -v c="$ctrls" '$3 == "cgroup" { n = split($4, o, ","); s = ""; for (i = 1; i <= n; i++) if (o[i] !~ /^(rw|ro|relatime|nosuid|nodev|noexec)$/) s = s (s ? "," : "") o[i]; if (s == c) f = 1 } END { exit !f }' /proc/mounts && continue
    d=$(mktemp -d /tmp/berth-cgroup.XXXXXX)
    if mount -t cgroup -o "$ctrls" cgroup "$d" 2>/dev/null; then
      echo "dropping the cgroup v1 hierarchy $ctrls the root's systemd made"
      find "$d" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null || true
      umount "$d"
    fi
    rmdir "$d"
  done </proc/self/cgroup
}
# A run that was killed (the machine's session ended mid-critest, say) leaves the cgroups of its root's pods in the
# host's hierarchies that the root's systemd does not manage (cpuset, freezer, hugetlb, cpuacct here): berth-*.scope
# under test.slice or a kubepods slice. The checks below look for exactly those, and berth rightly leaves alone a
# slice that existed before it, so a rerun would fail on what the killed run left. Remove them (rmdir removes only
# a cgroup without processes or children), before the root boots and after it stops.
remove_stale_cgroups() {
  local d left=() removed=0
  while IFS= read -r d; do
    find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
    if [ -d "$d" ]; then left+=("$d"); else removed=$((removed + 1)); fi
  done < <(find /sys/fs/cgroup -mindepth 2 -type d \( -name test.slice -o -name kubepods.slice -o -name 'berth-*.scope' \) -prune -print 2>/dev/null)
  [ "$removed" -eq 0 ] || echo "removed $removed cgroup trees a killed run left (test.slice, kubepods.slice, berth-*.scope)"
  [ ${#left[@]} -eq 0 ] || echo "cgroups an earlier run left that hold processes: ${left[*]}" >&2
}
cleanup() {
  "$sr" stop "$suite" >/dev/null 2>&1 || true
  remove_stale_cgroups
  restore_sys_fs_cgroup
  drop_unmounted_hierarchies
  ip link del berth0 2>/dev/null || true
  [ -n "$registry_was_up" ] || "$kit/build-images.sh" stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
failures=0
checks=0
ok() { checks=$((checks + 1)); echo "ok   $1"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL $1"; }
check() { # name, command run inside the root: passes when it exits 0
  if in_root "$2" >>"$logs/checks.log" 2>&1; then ok "$1"; else fail "$1 (see $logs/checks.log)"; fi
}
in_root() { echo "+ $*" >>"$logs/checks.log"; "$sr" exec "$suite" "$*"; }
crictl() { in_root "crictl --timeout 60s $*"; }

if [ "$suite" = trixie ]; then
  if lintian --fail-on error,warning "$deb" >"$logs/lintian.log" 2>&1; then ok "lintian: clean apart from the package's overrides"
  else fail "lintian (see $logs/lintian.log)"; cat "$logs/lintian.log"; fi
fi
echo "== a $suite root with systemd as PID 1"
"$kit/build-images.sh" >"$logs/build-images.log" 2>&1 || { tail -20 "$logs/build-images.log"; exit 1; }
"$sr" create "$suite" >"$logs/root.log" 2>&1 || { tail -20 "$logs/root.log"; exit 1; }
# The root's systemd when systemd-root.sh has lost track of it. Its boot can record as the root's PID 1 a process
# that the boot script forked just before it exec'd systemd (it still has the script's command line), which is gone
# by the time it is used: the boot reports success, every command in the root then fails with "not booted", and a
# stop leaves the real systemd running. The unshare that holds the root names its hostname on its command line;
# killing its child, the PID 1 of the root's PID namespace, ends everything in the root.
kill_lost_root() {
  local u
  for u in $(pgrep -f "hostname '$suite-systemd'" || true); do
    pkill -9 -P "$u" 2>/dev/null || true
    kill -9 "$u" 2>/dev/null || true
  done
}
booted() { "$sr" boot "$suite" >>"$logs/root.log" 2>&1 && in_root true >/dev/null 2>&1; }
"$sr" stop "$suite" >/dev/null 2>&1 || true
kill_lost_root
remove_stale_cgroups
# A root left from an earlier run has been seen not to come up the first time (its systemd's state stays
# unknown), and a boot can lose track of its systemd (above): stop it and boot once more before giving up.
booted || { "$sr" stop "$suite" >>"$logs/root.log" 2>&1; kill_lost_root; booted; } \
  || { tail -20 "$logs/root.log"; exit 1; }
in_root 'dpkg -s berth >/dev/null 2>&1 && apt-get purge -y -qq berth >/dev/null 2>&1; rm -rf /var/lib/berth /etc/berth /etc/crictl.yaml /etc/cni/net.d/10-berth-bridge.conflist /root/pod; true' >/dev/null
"$sr" copy "$suite" "$deb" /root/berth.deb
"$sr" copy "$suite" "$kit/bin/crictl" /usr/local/bin/crictl
# The same package as a newer version: what an upgrade installs.
mkdir -p "$work/next"
dpkg-deb -R "$deb" "$work/next/root"
sed -i 's/^Version: \(.*\)$/Version: \1+next1/' "$work/next/root/DEBIAN/control"
dpkg-deb --root-owner-group -Zgzip -z1 --build "$work/next/root" "$work/next/berth-next.deb" >/dev/null
"$sr" copy "$suite" "$work/next/berth-next.deb" /root/berth-next.deb

echo "== install"
if in_root 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /root/berth.deb' \
    >"$logs/install.log" 2>&1; then ok "apt install ./berth_*.deb installs with its dependencies"
else fail "apt install (see $logs/install.log)"; tail -20 "$logs/install.log"; exit 1; fi
check "no JDK was installed: the package carries its own runtime" '! dpkg -l | grep -Eq "^ii +(openjdk|temurin|default-jre)"'
check "berth.service is active (running) through Type=notify" \
  'systemctl is-active berth && [ "$(systemctl show -p Type --value berth)" = notify ] && systemctl show -p StatusText --value berth | grep -q "serving CRI"'
check "the unit passes systemd-analyze verify" 'systemd-analyze verify /usr/lib/systemd/system/berth.service'
check "the unit keeps containers through restarts: KillMode=process, Delegate=yes, OOMScoreAdjust=-999" \
  '[ "$(systemctl show -p KillMode --value berth)" = process ] && [ "$(systemctl show -p Delegate --value berth)" = yes ] && [ "$(systemctl show -p OOMScoreAdjust --value berth)" = -999 ]'
check "berth doctor passes" 'berth doctor'
check "the config is a conffile with every key commented" \
  'dpkg-query -W -f="\${Conffiles}" berth | grep -q /etc/berth/config.toml && ! grep -Ev "^(#|[[:space:]]*$)" /etc/berth/config.toml'
check "/etc/crictl.yaml points at berth and crictl answers" 'crictl version | grep -q "RuntimeName:  berth"'
check "the default CNI network went into the empty CNI dir" 'test -f /etc/cni/net.d/10-berth-bridge.conflist'
check "bash completion is installed" 'grep -q "berth" /usr/share/bash-completion/completions/berth'
check "the man pages are installed" 'for p in berth berth-daemon berth-explain berth-doctor; do test -s /usr/share/man/man8/$p.8.gz || exit 1; done'

echo "== a pod whose container logs a counter"
in_root 'for h in registry.k8s.io docker.io; do mkdir -p /etc/berth/certs.d/$h; printf "server = \"http://127.0.0.1:5000\"\n[host.\"http://127.0.0.1:5000\"]\n  capabilities = [\"pull\", \"resolve\"]\n" >/etc/berth/certs.d/$h/hosts.toml; done' >/dev/null
in_root 'mkdir -p /root/pod && cat >/root/pod/pod.json <<JSON
{"metadata": {"name": "keeper", "namespace": "systemd-test", "uid": "keeper-1"}, "log_directory": "/root/pod/logs"}
JSON
cat >/root/pod/ctr.json <<JSON
{"metadata": {"name": "counter"}, "image": {"image": "docker.io/library/busybox:1.36"}, "log_path": "counter.log",
 "command": ["sh", "-c", "i=0; while true; do i=\$((i+1)); echo \$i; sleep 0.1; done"]}
JSON' >/dev/null
crictl pull docker.io/library/busybox:1.36 >/dev/null
pod=$(crictl runp /root/pod/pod.json)
ctr=$(crictl create "$pod" /root/pod/ctr.json /root/pod/pod.json)
crictl start "$ctr" >/dev/null
pid_of() { crictl inspect -o go-template --template '{{.info.pid}}' "$ctr"; }
pid0=$(pid_of)
[ -n "$pid0" ] && [ "$pid0" != 0 ] && ok "the container runs (pid $pid0)" || fail "the container runs"
no_gap() { # the counter in the log goes 1, 2, 3, ... with no number missing
  in_root "sed 's/^[^ ]* [^ ]* [^ ]* //' /root/pod/logs/counter.log | awk 'NR != \$1 { bad = 1 } END { exit bad || NR < 5 }'"
}

echo "== reload, restart, upgrade"
main_pid() { in_root 'systemctl show -p MainPID --value berth'; }
m0=$(main_pid)
in_root 'systemctl reload berth' >/dev/null
check "systemctl reload: berth reloads its handlers and stays up" \
  "systemctl is-active berth && [ \"\$(systemctl show -p MainPID --value berth)\" = $m0 ] && journalctl -u berth --no-pager | grep -q 'Reloaded'"
in_root 'systemctl restart berth' >/dev/null
sleep 1
m1=$(main_pid)
[ "$m1" != "$m0" ] && [ "$(pid_of)" = "$pid0" ] && ok "systemctl restart: a new berth, the container kept its pid" \
  || fail "systemctl restart: the container should keep pid $pid0 (now $(pid_of)), berth a new pid (was $m0, now $m1)"
in_root 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /root/berth-next.deb' >"$logs/upgrade.log" 2>&1 \
  && ok "apt install of the newer package" || fail "apt install of the newer package (see $logs/upgrade.log)"
sleep 1
m2=$(main_pid)
[ "$m2" != "$m1" ] && [ "$(pid_of)" = "$pid0" ] && ok "upgrade: the package restarted berth, the container kept its pid" \
  || fail "upgrade: the container should keep pid $pid0 (now $(pid_of)), berth a new pid (was $m1, now $m2)"
check "the running package is the newer one" 'dpkg-query -W -f="\${Version}" berth | grep -q "+next1$"'

echo "== downgrade, and a downgrade across a state-format change"
check "berth's root and state directories record their format" 'test "$(cat /var/lib/berth/format)" -ge 1 && test "$(cat /run/berth/format)" -ge 1'
in_root 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --allow-downgrades /root/berth.deb' \
  >"$logs/downgrade.log" 2>&1 && ok "apt install of the older package (same state format)" \
  || fail "apt install of the older package (see $logs/downgrade.log)"
sleep 1
m3=$(main_pid)
[ "$m3" != "$m2" ] && [ "$(pid_of)" = "$pid0" ] && ok "downgrade: the package restarted berth, the container kept its pid" \
  || fail "downgrade: the container should keep pid $pid0 (now $(pid_of)), berth a new pid (was $m2, now $m3)"
check "the running package is the older one again" '! dpkg-query -W -f="\${Version}" berth | grep -q "+next1$"'
# As if a newer berth had changed the state's format: no package of this build may replace it.
in_root 'cp /var/lib/berth/format /root/format.saved && echo 99 >/var/lib/berth/format' >/dev/null
if in_root 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /root/berth-next.deb' >"$logs/refused.log" 2>&1; then
  fail "a package that reads an older state format should be refused"
else
  grep -q "holds data in format 99" "$logs/refused.log" && ok "a package that cannot read the state is refused, naming the formats" \
    || fail "the refusal should name the state format (see $logs/refused.log)"
fi
check "after the refusal the older package stays installed" \
  "! dpkg-query -W -f='\${Version}' berth | grep -q '+next1\$' && dpkg -s berth | grep -q 'Status: install ok installed'"
# dpkg's abort-upgrade restarted the installed berth, which (reading format 1) refuses this directory as it should,
# naming it; a newer berth would have read it. Put the format back, and the installed berth serves again.
check "the installed berth refuses to start on a format it cannot read, naming it" \
  'for i in $(seq 1 30); do journalctl -u berth --no-pager | grep -q "holds data in format 99" && exit 0; sleep 1; done; exit 1'
in_root 'mv /root/format.saved /var/lib/berth/format && systemctl reset-failed berth; systemctl restart berth' >/dev/null 2>&1 || true
check "with the format back, berth is active again" \
  'for i in $(seq 1 30); do systemctl is-active --quiet berth && crictl version >/dev/null 2>&1 && exit 0; sleep 1; done; exit 1'
[ "$(pid_of)" = "$pid0" ] && ok "the container kept its pid through the refused install" \
  || fail "the container should keep pid $pid0 through the refused install (now $(pid_of))"
sleep 1
if no_gap >>"$logs/checks.log" 2>&1; then ok "the container's log has every line, through reload, restart, upgrade and downgrade"
else fail "the container's log has a gap or too few lines"; fi

echo "== remove and purge"
crictl stopp "$pod" >/dev/null
crictl rmp "$pod" >/dev/null
check "no pod is left" '[ -z "$(crictl pods -q)" ]'
# The systemd cgroup driver, with critest: one release only (about two minutes).
if [ "$suite" = trixie ]; then
  if test/systemd/critest.sh "$suite" "$logs"; then ok "the systemd cgroup driver (test/systemd/critest.sh)"
  else fail "the systemd cgroup driver (test/systemd/critest.sh; see $logs)"; fi
fi
in_root 'DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq berth' >"$logs/purge.log" 2>&1 \
  && ok "apt purge" || fail "apt purge (see $logs/purge.log)"
check "purge removed the package, its unit, config and state, and the crictl.yaml it wrote" \
  '! systemctl is-active berth && [ ! -e /usr/lib/systemd/system/berth.service ] && [ ! -e /etc/berth ] && [ ! -e /var/lib/berth ] && [ ! -e /run/berth/records ] && [ ! -e /usr/lib/berth ] && [ ! -e /etc/crictl.yaml ]'

echo "$checks checks, $failures failed"
[ "$failures" = 0 ]
