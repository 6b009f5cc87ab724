#!/usr/bin/env bash
# Hot install and removal of plugins against berth from the built image, with real pods, through crictl and the
# berth CLI (whose `berth plugins` view comes live from the daemon's admin service). The daemon starts with only
# the runc plugin and runs pods on `runc`; then, each without a restart (the daemon's pid and start time are
# checked after every step):
#   (a) the kata plugin archive is dropped into the plugins directory with a config handler `shimv2-runc` of its
#       type, and SIGHUP: a pod on that handler runs and execs;
#   (b) the runc archive is replaced (same file name) by a repack with a higher Plugin-Version, and SIGHUP: the
#       old pod keeps exec'ing and stays stoppable and removable, a new pod lands on the new version (runc@1),
#       and the old version is unloaded once its pod is gone;
#   (c) the kata archive is removed while its pod runs: a reload whose config still names the type fails and
#       changes nothing; with the handler dropped too, the plugin is retiring until its pod is removed, then
#       unloaded;
#   a broken archive dropped in is reported (`berth plugins`, `berth doctor`) and disturbs nothing;
#   (d) `berth handler drain runc` refuses a new pod with UNAVAILABLE naming the handler while an existing pod
#       still execs; `berth doctor` reports it; `undrain` restores.
# Everything is private to the run: a temp dir for state, root, socket and plugins, CNI bridge $HOT_BRIDGE
# (berthhot0) with subnet $HOT_SUBNET (10.66.0.0/16), cgroup parent /berth-hot. Images come from the critest
# registry on 127.0.0.1:5000 (../shared/critest/build-images.sh), mirrored for docker.io and registry.k8s.io.
# Usage (root; build the image first): test/plugins/hot-install.sh [logdir]
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
logs=${1:-$repo/target/hot-install}
mkdir -p "$logs"
image=$repo/distribution/target/berth
crictl=${BERTH_CRICTL:-$repo/../shared/critest/bin/crictl}
[ -x "$crictl" ] || crictl=$(command -v crictl || true)
[ -x "$image/bin/berth" ] || { echo "build the image first: mvn -o -B -q package -DskipTests" >&2; exit 2; }
[ -n "$crictl" ] && [ -x "$crictl" ] || { echo "crictl not found (set BERTH_CRICTL)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 2; }
runc_archive=$(ls "$repo"/plugins/runc/target/*.zip 2>/dev/null | head -1)
kata_archive=$(ls "$repo"/plugins/kata/target/kata.zip 2>/dev/null | head -1)
[ -n "$runc_archive" ] || runc_archive=$image/plugins/runc.zip
[ -n "$kata_archive" ] || kata_archive=$(ls "$image"/plugins/kata.zip "$image"/plugins/kata.jar 2>/dev/null | head -1)
kata_name=kata.${kata_archive##*.}
for f in "$runc_archive" "$kata_archive"; do [ -f "$f" ] || { echo "no plugin archive $f" >&2; exit 2; }; done
registry=${HOT_REGISTRY:-127.0.0.1:5000}
if [ "$registry" = 127.0.0.1:5000 ] && ! curl -fsS "http://$registry/v2/" >/dev/null 2>&1 \
    && [ -x "$repo/../shared/critest/build-images.sh" ]; then
  "$repo/../shared/critest/build-images.sh" >/dev/null 2>&1 || true
fi
curl -fsS "http://$registry/v2/" >/dev/null || { echo "no registry on $registry (../shared/critest/build-images.sh)" >&2; exit 2; }
bridge=${HOT_BRIDGE:-berthhot0}
subnet=${HOT_SUBNET:-10.66.0.0/16}
network=berth-hot
cgparent=/berth-hot
work=$(mktemp -d /tmp/bhot.XXXXXX) # short: conmon's attach socket paths must stay under 108 bytes
sock=$work/berth.sock
busybox=docker.io/library/busybox:1.36
daemon=
failures=0
checks=0

C() { timeout 120 "$crictl" --timeout 60s --runtime-endpoint "unix://$sock" --image-endpoint "unix://$sock" "$@"; }
B() { env -u JAVA_HOME "$image/bin/berth" "$@" --config "$work/config.toml"; }
ok() { checks=$((checks + 1)); echo "ok   $*"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL $*"; }
expect() { # name, command...: the command must succeed
  local name=$1; shift
  if "$@" >>"$logs/steps.log" 2>&1; then ok "$name"; else fail "$name (see steps.log)"; fi
}

cleanup() {
  if [ -n "$daemon" ]; then
    C rmp -af >/dev/null 2>&1 || true
    kill -TERM "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
  fi
  local pids; pids=$(pgrep -f -- "$work" | grep -vx "$$" || true)
  [ -n "$pids" ] && kill -KILL $pids 2>/dev/null || true
  grep "$work" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  ip link del "$bridge" 2>/dev/null || true
  for d in /sys/fs/cgroup/*"$cgparent" /sys/fs/cgroup/*/"${cgparent#/}"; do
    [ -d "$d" ] && find "$d" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null; rmdir "$d" 2>/dev/null || true
  done
  if [ "${KEEP_WORK:-0}" = 1 ]; then echo "work dir kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# ---- setup ------------------------------------------------------------------------------------------------
mkdir -p "$work/plugins" "$work/cni" "$work/ipam" "$work/logs"
for h in registry.k8s.io docker.io; do
  mkdir -p "$work/certs.d/$h"
  printf 'server = "http://%s"\n[host."http://%s"]\n  capabilities = ["pull", "resolve"]\n' "$registry" "$registry" \
    >"$work/certs.d/$h/hosts.toml"
done
cat >"$work/cni/10-hot.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "$network", "plugins": [
  {"type": "bridge", "bridge": "$bridge", "isGateway": true, "ipMasq": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$subnet"}]], "routes": [{"dst": "0.0.0.0/0"}],
            "dataDir": "$work/ipam"}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
JSON
config() { # [with-kata]
  cat >"$work/config.toml" <<TOML
socket = "$sock"
state = "$work/state"
root = "$work/root"
plugins_dir = "$work/plugins"
default_runtime = "runc"
health_interval = "2s"
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
TOML
  if [ "${1:-}" = with-kata ]; then
    cat >>"$work/config.toml" <<TOML
[runtimes.shimv2-runc]
type = "kata"
[runtimes.shimv2-runc.options]
shim = "containerd-shim-runc-v2"
TOML
  fi
}
config
cp "$runc_archive" "$work/plugins/runc.zip"
runc_v1=$(python3 - "$work/plugins/runc.zip" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for n in z.namelist():
        if n.endswith("META-INF/MANIFEST.MF"):
            for line in z.read(n).decode().splitlines():
                if line.startswith("Plugin-Version:"):
                    print(line.split(":", 1)[1].strip()); sys.exit(0)
sys.exit("no Plugin-Version")
PY
)

pod_json() { # file name
  cat >"$1" <<JSON
{"metadata": {"name": "$2", "namespace": "hot", "uid": "hot-$2-$$", "attempt": 0},
 "log_directory": "$work/logs/$2", "linux": {"cgroup_parent": "$cgparent"}}
JSON
}
cat >"$work/ctr.json" <<JSON
{"metadata": {"name": "c"}, "image": {"image": "$busybox"}, "command": ["sleep", "1000000"], "log_path": "c.log"}
JSON
pod() { # name [handler]: runs a pod with a sleeping container; prints "pod ctr"
  pod_json "$work/$1.json" "$1"
  local p c
  p=$(C runp ${2:+--runtime "$2"} "$work/$1.json" 2>>"$logs/steps.log") || return 0
  c=$(C create "$p" "$work/ctr.json" "$work/$1.json" 2>>"$logs/steps.log") || { echo "$p"; return 0; }
  C start "$c" >/dev/null 2>>"$logs/steps.log" || true
  echo "$p $c"
}
need() { # what, value: a step whose result the rest depends on
  [ -n "$2" ] || { fail "$1 (see steps.log and berth.log)"; exit 1; }
}
execs() { # ctr: exec works and answers
  [ "$(C exec -s "$1" echo hot 2>&1)" = hot ]
}
remove_pod() { # pod ctr
  C stop "$2" >/dev/null && C rm "$2" >/dev/null && C stopp "$1" >/dev/null && C rmp "$1" >/dev/null
}
plugins_view() { B plugins 2>&1 | tee -a "$logs/plugins-views.log"; echo "----" >>"$logs/plugins-views.log"; }
wait_view() { # name, extended regex the `berth plugins` view must match (a reload is asynchronous)
  for _ in $(seq 1 60); do
    plugins_view | grep -Eq "$2" && { ok "$1"; return 0; }
    sleep 0.5
  done
  fail "$1: \`berth plugins\` never matched /$2/ (see plugins-views.log)"
  # What the daemon was doing: the reload runs on the JVM's signal thread (a thread dump goes to berth.log).
  kill -QUIT "$daemon" 2>/dev/null && sleep 1
  echo "      berth.log, the reload's threads and the last lines:"
  awk '/^"(SIGHUP|Signal|berth-health)/,/^$/' "$logs/berth.log" | head -80 | sed 's/^/        /'
  grep -v '^\s' "$logs/berth.log" | grep -v '^"' | tail -15 | sed 's/^/        /'
  plugins_view | sed 's/^/      /'
  return 1
}
never_view() { # name, regex that must not match
  if plugins_view | grep -Eq "$2"; then fail "$1: \`berth plugins\` matches /$2/"; else ok "$1"; fi
}
started_at() { awk '{print $22}' "/proc/$daemon/stat" 2>/dev/null; }
same_daemon() { # step
  if kill -0 "$daemon" 2>/dev/null && [ "$(started_at)" = "$t0" ]; then ok "$1: same daemon (pid $daemon), no restart"
  else fail "$1: the daemon was restarted or died"; fi
}
hup() { echo "---- SIGHUP: $1 ----" >>"$logs/berth.log"; kill -HUP "$daemon"; }

# Appending, so that the markers hup() writes are not overwritten by the daemon's next line.
: >"$logs/berth.log"
env -u JAVA_HOME "$image/bin/berth" daemon --config "$work/config.toml" >>"$logs/berth.log" 2>&1 &
daemon=$!
for _ in $(seq 1 300); do
  C version >/dev/null 2>&1 && break
  kill -0 "$daemon" 2>/dev/null || { tail -20 "$logs/berth.log"; exit 1; }
  sleep 0.1
done
t0=$(started_at)
C pull "$busybox" >/dev/null
read -r p1 c1 < <(pod hot-runc-old)
need "pod hot-runc-old runs" "${c1:-}"
expect "a pod runs on runc" execs "$c1"
wait_view "only runc $runc_v1 is loaded, serving handler runc with 1 pod" \
  "^  runc $runc_v1  SPI [^ ]+  started" || true
plugins_view | grep -q 'handlers: runc 1 pod' && ok "the view counts runc's pod" || fail "the view counts runc's pod"
never_view "no kata plugin yet" '^  kata '

# ---- (a) a new plugin archive and a handler of its type in one reload --------------------------------------
echo "== (a) drop in the kata plugin with a shimv2-runc handler, SIGHUP"
cp "$kata_archive" "$work/plugins/$kata_name"
config with-kata
hup "kata added"
wait_view "kata is loaded and serves handler shimv2-runc" '^      handlers: shimv2-runc 0 pods' || true
read -r p2 c2 < <(pod hot-kata shimv2-runc)
need "pod hot-kata runs" "${c2:-}"
expect "a pod on the new plugin's handler runs and execs" execs "$c2"
same_daemon "(a)"

# ---- (b) a newer build of runc replaces the archive in place -----------------------------------------------
echo "== (b) replace runc.zip by a repack with a higher Plugin-Version, SIGHUP"
runc_v2=$(python3 - "$work/plugins/runc.zip" "$work/runc-new.zip" <<'PY'
import re, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
new = None
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
    for info in zin.infolist():
        data = zin.read(info.filename)
        if info.filename.endswith("META-INF/MANIFEST.MF"):
            text = data.decode()
            m = re.search(r"^Plugin-Version: *(\d+)\.(\d+)\.(\d+)", text, re.M)
            new = "%s.%d.0" % (m.group(1), int(m.group(2)) + 1)
            text = re.sub(r"^Plugin-Version:.*$", "Plugin-Version: " + new, text, flags=re.M)
            data = text.encode()
        zout.writestr(info, data)
print(new)
PY
)
mv -f "$work/runc-new.zip" "$work/plugins/runc.zip"
hup "runc replaced by $runc_v2"
wait_view "runc $runc_v2 is started beside $runc_v1, which is retiring with its pod" \
  "^  runc $runc_v1  SPI [^ ]+  retiring" || true
plugins_view | grep -A1 -E "^  runc $runc_v1 " | grep -q 'runc (retired) 1 pod' \
  && ok "the old version keeps its generation and its pod" || fail "the old version keeps its generation and its pod"
expect "the old pod still execs on the old version" execs "$c1"
read -r p3 c3 < <(pod hot-runc-new)
need "pod hot-runc-new runs" "${c3:-}"
expect "a new pod on runc runs and execs" execs "$c3"
plugins_view | grep -A1 -E "^  runc $runc_v2 " | grep -q 'handlers: runc@1 1 pod' \
  && ok "the new pod is on runc $runc_v2 (generation runc@1)" || fail "the new pod is on runc $runc_v2"
expect "the old pod is stoppable and removable" remove_pod "$p1" "$c1"
wait_view "runc $runc_v1 is unloaded once its pod is gone" "^  runc $runc_v2  SPI [^ ]+  started" || true
never_view "runc $runc_v1 is no longer listed" "^  runc $runc_v1 "
grep -q "plugin runc $runc_v1 unloaded" "$logs/berth.log" && ok "the log says runc $runc_v1 was unloaded" \
  || fail "the log says runc $runc_v1 was unloaded"
same_daemon "(b)"

# ---- (c) remove the kata archive while its pod runs ---------------------------------------------------------
echo "== (c) remove $kata_name while a pod uses it, SIGHUP"
rm "$work/plugins/$kata_name"
hup "kata removed, config still names it"
wait_view "kata is retiring: its archive is gone but a handler uses it" '^  kata [^ ]+  SPI [^ ]+  retiring' || true
for _ in $(seq 1 20); do grep -q 'reload failed' "$logs/berth.log" && break; sleep 0.5; done
grep -q 'reload failed.*kata' "$logs/berth.log" && ok "a config still naming the removed type fails the reload" \
  || fail "a config still naming the removed type fails the reload"
expect "the kata pod still execs" execs "$c2"
config
hup "shimv2-runc dropped from the config"
wait_view "shimv2-runc is retired, kata still loaded for its pod" '^      handlers: shimv2-runc \(retired\) 1 pod' || true
expect "the kata pod still execs after its handler was dropped" execs "$c2"
expect "the kata pod is stoppable and removable" remove_pod "$p2" "$c2"
for _ in $(seq 1 20); do plugins_view | grep -q '^  kata ' || break; sleep 0.5; done
never_view "kata is unloaded once its pod is gone" '^  kata '
grep -q "plugin kata [^ ]* unloaded" "$logs/berth.log" && ok "the log says kata was unloaded" \
  || fail "the log says kata was unloaded"
same_daemon "(c)"

# ---- a broken archive is reported and disturbs nothing --------------------------------------------------------
echo "== a broken archive dropped in, SIGHUP"
printf 'not a plugin\n' >"$work/plugins/broken.jar"
hup "broken.jar added"
wait_view "the broken archive is listed as failed with its reason" '^  FAILED  broken\.jar: .+' || true
B doctor >"$logs/doctor-broken.log" 2>&1 || true
grep -q 'FAIL plugin broken.jar loads' "$logs/doctor-broken.log" && ok "berth doctor reports the failed plugin" \
  || fail "berth doctor reports the failed plugin (see doctor-broken.log)"
plugins_view | grep -Eq "^  runc $runc_v2  SPI [^ ]+  started" && ok "runc is still started" || fail "runc is still started"
expect "the running pod still execs" execs "$c3"
rm "$work/plugins/broken.jar"
hup "broken.jar removed"
for _ in $(seq 1 20); do plugins_view | grep -q 'FAILED' || break; sleep 0.5; done
never_view "the failure is gone once the archive is removed" 'FAILED'

# ---- (d) drain and undrain ---------------------------------------------------------------------------------
echo "== (d) berth handler drain runc"
expect "berth handler drain runc" B handler drain runc
pod_json "$work/refused.json" hot-refused
if out=$(C runp "$work/refused.json" 2>&1); then
  fail "a new pod on a drained handler is refused (it ran: $out)"
  C stopp "$out" >/dev/null 2>&1; C rmp "$out" >/dev/null 2>&1
elif echo "$out" | grep -q 'code = Unavailable' && echo "$out" | grep -Eq 'runtime handler .?"runc.?" is drained'; then
  ok "a new pod on a drained handler is refused with UNAVAILABLE naming it"
else
  fail "a new pod on a drained handler is refused with UNAVAILABLE naming it: $out"
fi
expect "an existing pod on the drained handler still execs" execs "$c3"
B doctor >"$logs/doctor.log" 2>&1 || true
grep -q 'WARN handler "runc" is drained' "$logs/doctor.log" && ok "berth doctor reports the drained handler" \
  || fail "berth doctor reports the drained handler (see doctor.log)"
grep -q 'DRAINED' < <(plugins_view) && ok "berth plugins shows DRAINED" || fail "berth plugins shows DRAINED"
expect "berth handler undrain runc" B handler undrain runc
read -r p4 c4 < <(pod hot-after-undrain)
need "pod hot-after-undrain runs" "${c4:-}"
expect "after undrain a new pod runs" execs "$c4"
expect "the pods are removable" remove_pod "$p3" "$c3"
expect "the pods are removable" remove_pod "$p4" "$c4"
same_daemon "(d)"

echo "hot-install: $((checks - failures))/$checks checks passed$([ "$failures" = 0 ] && echo "" || echo ", $failures FAILED")"
[ "$failures" = 0 ]
