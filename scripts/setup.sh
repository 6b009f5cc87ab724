#!/usr/bin/env bash
# Installs what berth needs, builds it, installs it under /opt/berth and starts the daemon on its built-in
# defaults (no config file needed). Re-runnable. Usage: sudo scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

echo "== installing packages"
apt_install "${RUNTIME_PACKAGES[@]}"
ensure_jdk
fix_hybrid_cgroups

echo "== building with $JAVA_HOME"
mvn -B -q -DskipTests install

echo "== installing to /opt/berth"
prefix=/opt/berth
if [ -S /run/berth/berth.sock ] && pgrep -f 'dev.berth.core.cli.Main daemon' >/dev/null; then
  echo "stopping the running berth (containers keep running)"
  pkill -TERM -f 'dev.berth.core.cli.Main daemon' || true
  sleep 2
fi
rm -rf "$prefix.new" && cp -a distribution/target/berth "$prefix.new"
rm -rf "$prefix" && mv "$prefix.new" "$prefix"
ln -sf "$prefix/bin/berth" /usr/local/bin/berth
mkdir -p /etc/berth
"$prefix/bin/berth" network install-default-cni || true

echo "== starting berth"
mkdir -p /var/log/berth
setsid nohup "$prefix/bin/berth" daemon >>/var/log/berth/berth.log 2>&1 < /dev/null &
for _ in $(seq 1 100); do
  [ -S /run/berth/berth.sock ] && break
  sleep 0.2
done
[ -S /run/berth/berth.sock ] || { tail -20 /var/log/berth/berth.log; die "berth did not start; see /var/log/berth/berth.log"; }
echo "berth is serving on unix:///run/berth/berth.sock (log: /var/log/berth/berth.log)"
echo "try: crictl --runtime-endpoint unix:///run/berth/berth.sock version"
