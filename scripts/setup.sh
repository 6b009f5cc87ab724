#!/usr/bin/env bash
# Installs what berth needs, builds it, installs the Debian package the build makes, and starts berth on its
# built-in defaults (no config file needed). Under systemd the package's unit runs berth; on a host without
# systemd as PID 1 (a container, a chroot) this script starts the installed daemon itself. Re-runnable: a running
# berth is replaced, and its containers keep running. Usage: sudo scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

echo "== installing packages"
apt_install "${RUNTIME_PACKAGES[@]}"
ensure_jdk
fix_hybrid_cgroups

echo "== building with $JAVA_HOME"
mvn -B -q -DskipTests install

deb=$(ls distribution/target/berth_*.deb | head -1)
sock=/run/berth/berth.sock
# The daemon serving berth's default socket on this host (this script's, an older one's, or the unit's). ss lists
# the listeners of every mount namespace that shares this network namespace (a container or a systemd root with
# host networking has its own /run/berth/berth.sock): only a process in this mount namespace serves ours.
unmanaged_daemon() {
  local p mine; mine=$(readlink /proc/self/ns/mnt)
  for p in $(ss -xlpn 2>/dev/null | awk -v s="$sock" '$5 == s' | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
    [ "$(readlink "/proc/$p/ns/mnt" 2>/dev/null)" = "$mine" ] && { echo "$p"; return; }
  done
  return 0
}
systemd=$([ -d /run/systemd/system ] && echo yes || true)
old=$(unmanaged_daemon)
if [ -n "$old" ] && ! { [ -n "$systemd" ] && [ "$(systemctl show -p MainPID --value berth 2>/dev/null)" = "$old" ]; }; then
  echo "stopping the berth serving $sock (pid $old; its containers keep running)"
  kill -TERM "$old"
  for _ in $(seq 1 50); do kill -0 "$old" 2>/dev/null || break; sleep 0.2; done
fi
# An install by earlier versions of this script, under /opt/berth.
if [ -d /opt/berth ] && [ -L /usr/local/bin/berth ] && [ "$(readlink /usr/local/bin/berth)" = /opt/berth/bin/berth ]; then
  echo "removing the earlier install under /opt/berth"
  rm -f /usr/local/bin/berth && rm -rf /opt/berth
fi

echo "== installing $deb"
apt_install --allow-downgrades "./$deb"

if [ -n "$systemd" ]; then
  # The package's postinst enabled and (re)started berth.service.
  systemctl is-active --quiet berth || { systemctl status berth --no-pager | tail -20; die "berth.service is not active"; }
  echo "berth is serving on unix://$sock (systemctl status berth; journalctl -u berth)"
else
  echo "== starting berth (no systemd here: the package's unit does not run)"
  mkdir -p /var/log/berth
  setsid nohup /usr/bin/berth daemon >>/var/log/berth/berth.log 2>&1 </dev/null &
  for _ in $(seq 1 100); do
    [ -n "$(unmanaged_daemon)" ] && break
    sleep 0.2
  done
  [ -n "$(unmanaged_daemon)" ] || { tail -20 /var/log/berth/berth.log; die "berth did not start; see /var/log/berth/berth.log"; }
  echo "berth is serving on unix://$sock (log: /var/log/berth/berth.log)"
fi
echo "try: crictl version     (the package wrote /etc/crictl.yaml for berth's socket if there was none)"
