#!/usr/bin/env bash
# kill -9 soak: pod and container churn against berth from the built image, with berth killed by SIGKILL at
# random points (often while RunPodSandbox or CreateContainer is in flight) and restarted.
#
# Each cycle runs one pod through runp, create, start, exec (sync and streaming), stop, rm, stopp and rmp with
# crictl, and kills berth once: during one of those calls (then, after the restart, the cycle's pod is cleaned
# up the way the kubelet would: every listed container is inspected, a half-created one must not answer
# NotFound, and rm, stopp and rmp must succeed), or between two calls (then the rest of the cycle must
# succeed as if nothing happened). After every restart the keeper pods made at the start must be ready and
# their containers running. At the end the keepers still run and exec, every pod is removed, berth stops, and
# nothing of the run may be left: no mount, network namespace pin, cgroup, process (conmon, runc, berth-pause,
# berth-logjoin), veth, iptables rule, IPAM lease, snapshot or state file.
#
# Everything is private to the run: a temp dir /tmp/bsoak.<id> for berth's state, root and socket, a registry
# on 127.0.0.1:$SOAK_REGISTRY_PORT (default 5098) holding a busybox image built from the host's busybox-static
# (stopped once the images are pulled), and, named after the run's <id>, its own CNI network berth-soak-<id>
# on bridge bsoak<id> with a free /24 of 10.77/16, and cgroup parent /berth-soak-<id>. It does not clash with
# critest's registry, berth0 or 10.88/16, nor with another soak on the host. A run writes its names and its
# own pid and start time to run.env in its temp dir; when a run was itself killed (SIGKILL, a lost session),
# the next run finds that pid gone and reaps what the dead run left (its daemon, pods, mounts, bridge and
# cgroups) before it starts.
#
# Usage (root; build first: mvn -o -B -q package -DskipTests):
#   test/soak/kill9.sh [cycles]        30 in CI, 200 by hand; SEED=n repeats a run; logs in target/soak/
# Exits non-zero on any leak, lost pod or step failure other than the killed call itself; the last line is
# the summary.
set -uo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
cycles=${1:-30}
seed=${SEED:-$(( $(date +%s) % 32768 ))}
RANDOM=$seed
image=$repo/distribution/target/berth
crictl=${BERTH_CRICTL:-$repo/../shared/critest/bin/crictl}
[ -x "$crictl" ] || crictl=$(command -v crictl || true)
[ -x "$image/bin/berth" ] || { echo "build the image first: mvn -o -B -q package -DskipTests" >&2; exit 2; }
[ -n "$crictl" ] && [ -x "$crictl" ] || { echo "crictl not found (set BERTH_CRICTL)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 2; }
for tool in curl jq python3 iptables-save runc conmon /usr/bin/docker-registry /bin/busybox /usr/lib/cni/bridge; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed" >&2; exit 2; }
done
port=${SOAK_REGISTRY_PORT:-5098}
if curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1; then
  echo "127.0.0.1:$port is in use; set SOAK_REGISTRY_PORT" >&2; exit 2
fi
logs=${SOAK_LOGS:-$repo/target/soak}
rm -rf "$logs"
mkdir -p "$logs"

# The iptables rules of a CNI network: the bridge plugin names the network in each rule's comment, which
# iptables-save prints with its quotes escaped (older versions without).
net_rules() { iptables-save -t nat 2>/dev/null | grep -F -e "name: \"$1\"" -e "name: \\\"$1\\\""; }

# Reaps what a dead run left: every process of its dir or in its cgroups, its mounts, bridge, cgroups and NAT
# rules. Arguments: the run's dir, cgroup parent, bridge and CNI network name.
reap() {
  local dir=$1 parent=$2 br=$3 net=$4 d pids rule chains
  pids=$(pgrep -f -- "$dir" | grep -vx "$$" || true)
  [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
  for d in /sys/fs/cgroup/*"$parent" /sys/fs/cgroup/*/"${parent#/}"; do
    [ -d "$d" ] || continue
    find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -KILL 2>/dev/null
  done
  sleep 0.2
  grep -F "$dir" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
  ip link del "$br" 2>/dev/null
  for d in /sys/fs/cgroup/*"$parent" /sys/fs/cgroup/*/"${parent#/}"; do
    [ -d "$d" ] && find "$d" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null; rmdir "$d" 2>/dev/null
  done
  # The bridge plugin's masquerade rules carry the network's name in a comment; so do the chains' own rules.
  chains=$(net_rules "$net" | grep -o -- '-j CNI-[0-9a-f]*' | cut -c4- | sort -u)
  net_rules "$net" | grep '^-A ' | sed 's/^-A /-D /' |
    while read -r rule; do eval "iptables -w -t nat $rule" 2>/dev/null; done
  for d in $chains; do iptables -w -t nat -X "$d" 2>/dev/null; done
  return 0
}
# A process's start time in clock ticks since boot: with its pid, it names the process for good.
started_at() { awk '{sub(/^.*\) /, ""); print $20}' "/proc/$1/stat" 2>/dev/null; }
for stale in /tmp/bsoak.*/run.env; do
  [ -f "$stale" ] || continue
  ( . "$stale"
    [ "$(started_at "$runner")" = "$runner_start" ] && exit 0 # that run is alive
    echo "reaping what a killed soak run left: $work" >&2
    reap "$work" "$cgparent" "$bridge" "$network" && rm -rf "$work" )
done

work=$(mktemp -d /tmp/bsoak.XXXXXX) # short: conmon's attach socket paths must stay under 108 bytes
id=${work##*.}
bridge=bsoak$id
network=berth-soak-$id
cgparent=/berth-soak-$id
# A /24 of 10.77/16 that no route of the host uses yet.
subnet=
for _ in $(seq 1 50); do
  n=$(( $(od -An -N1 -tu1 /dev/urandom) ))
  ip -4 route show | grep -q "^10\.77\.$n\." || { subnet=10.77.$n.0/24; break; }
done
[ -n "$subnet" ] || { echo "no free /24 in 10.77/16" >&2; exit 2; }
printf 'work=%q\ncgparent=%q\nbridge=%q\nnetwork=%q\nrunner=%q\nrunner_start=%q\n' \
  "$work" "$cgparent" "$bridge" "$network" $$ "$(started_at $$)" >"$work/run.env"
sock=$work/berth.sock
img=127.0.0.1:$port/soak/busybox:1
started=$(date +%s)

failures=0 lost=0 leaks=0 kills=0 inflight=0 restarts=0
declare -A killed_in=() cut_in=() took=()
daemon= registry=

note() { echo "$(date +%T) $*" >>"$logs/soak.log"; }
fail() { failures=$((failures + 1)); echo "STEP FAILURE: $*" | tee -a "$logs/failures.log" >&2; note "FAIL $*"; }
leak() { leaks=$((leaks + 1)); echo "LEAK: $*" | tee -a "$logs/failures.log" >&2; }
C() { timeout 120 "$crictl" --timeout 60s --runtime-endpoint "unix://$sock" --image-endpoint "unix://$sock" "$@"; }

# Runs one crictl step; a failure counts. Output in $out.
step() {
  local what=$1; shift
  local t0; t0=$(date +%s%3N)
  out=$(C "$@" 2>&1)
  local rc=$?
  last_ms=$(( $(date +%s%3N) - t0 ))
  note "$what rc=$rc ${out//$'\n'/ }"
  if [ $rc -ne 0 ]; then fail "$what: crictl $*: $out"; return 1; fi
  return 0
}

start_berth() {
  env -u JAVA_HOME "$image/bin/berth" daemon --config "$work/config.toml" >>"$logs/berth.log" 2>&1 &
  daemon=$!
  for _ in $(seq 1 300); do
    C version >/dev/null 2>&1 && return 0
    kill -0 "$daemon" 2>/dev/null || break
    sleep 0.1
  done
  fail "berth did not come up (see berth.log)"
  return 1
}

kill_berth() {
  kill -KILL "$daemon" 2>/dev/null
  wait "$daemon" 2>/dev/null
  daemon=
  kills=$((kills + 1))
  echo "---- berth killed (SIGKILL) ----" >>"$logs/berth.log"
}

restart_berth() {
  restarts=$((restarts + 1))
  start_berth || { summary; exit 1; }
  check_keepers "after restart $restarts"
}

cleanup() {
  # Whatever happened, leave nothing: remove every pod of this run through berth (started again if need be),
  # then stop the processes of the run that are still there.
  if [ -z "$daemon" ] && [ -n "$(ls -A "$work/state/records/sandboxes" 2>/dev/null)" ]; then
    start_berth >/dev/null 2>&1
  fi
  if [ -n "$daemon" ]; then
    C rmp -af >/dev/null 2>&1
    kill -TERM "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
  fi
  [ -n "$registry" ] && kill "$registry" 2>/dev/null && wait "$registry" 2>/dev/null
  reap "$work" "$cgparent" "$bridge" "$network"
  [ -n "$(net_rules "$network")" ] && echo "note: iptables rules of $network remain" >&2
  if [ "${KEEP_WORK:-0}" = 1 ]; then echo "work dir kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP # so that the cleanup runs then too

summary() {
  local kinds="" k
  for k in runp create start exec stop rm stopp rmp; do kinds+=" $k=${cut_in[$k]:-0}/${killed_in[$k]:-0}"; done
  local verdict=OK
  [ $((failures + lost + leaks)) -gt 0 ] && verdict=FAILED
  echo "kill9-soak: cycles=$cycles seed=$seed kills=$kills (between calls: ${killed_in[idle]:-0};" \
       "during a call, cut/aimed:$kinds; cut in all: $inflight)" \
       "step-failures=$failures lost=$lost leaks=$leaks time=$(( $(date +%s) - started ))s: $verdict"
}

# ---- setup ------------------------------------------------------------------------------------------------
mkdir -p "$work/registry" "$work/cni" "$work/ipam" "$work/logs"
cat >"$work/registry.yml" <<YML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $work/registry}}
http: {addr: 127.0.0.1:$port}
YML
/usr/bin/docker-registry serve "$work/registry.yml" >>"$logs/registry.log" 2>&1 &
registry=$!
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.2; done
test/soak/mkimage.py /bin/busybox "127.0.0.1:$port" soak/busybox:1 >>"$logs/soak.log" || { echo "cannot build the image" >&2; exit 2; }

cat >"$work/cni/10-soak.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "$network", "plugins": [
  {"type": "bridge", "bridge": "$bridge", "isGateway": true, "ipMasq": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$subnet"}]], "routes": [{"dst": "0.0.0.0/0"}],
            "dataDir": "$work/ipam"}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
JSON
cat >"$work/config.toml" <<TOML
socket = "$sock"
state = "$work/state"
root = "$work/root"
default_runtime = "runc"
[runtimes.runc]
type = "runc"
[runtimes.runc.options]
binary = "runc"
[images]
sandbox_image = "$img"
[network]
cni_conf_dir = "$work/cni"
cni_bin_dirs = ["/usr/lib/cni"]
TOML

pod_json() { # file name labels-role cycle pidmode(0 POD, 1 CONTAINER)
  cat >"$1" <<JSON
{"metadata": {"name": "$2", "namespace": "soak", "uid": "soak-$2", "attempt": 0},
 "log_directory": "$work/logs/$2", "labels": {"berth-soak": "$3", "cycle": "$4"},
 "linux": {"cgroup_parent": "$cgparent", "security_context": {"namespace_options": {"pid": $5}}}}
JSON
}
ctr_json() { # file command...
  local cmd; cmd=$(printf '"%s",' "${@:2}")
  cat >"$1" <<JSON
{"metadata": {"name": "c"}, "image": {"image": "$img"}, "command": [${cmd%,}], "log_path": "c.log",
 "labels": {"berth-soak": "ctr"}}
JSON
}

start_berth || exit 1
step "pull" pull "$img" || { summary; exit 1; }
kill "$registry" && wait "$registry" 2>/dev/null
registry=
snapshots0=$(ls "$work/root/images/snapshots" | wc -l)

# Keeper pods: one with a pod-wide pid namespace (berth-pause as its init), one without.
declare -a keeper_pods=() keeper_ctrs=()
for k in 0 1; do
  pod_json "$work/keeper-$k.json" "keeper-$k" keeper "-" "$k"
  ctr_json "$work/keeper-ctr.json" sleep 1000000
  step "keeper runp" runp "$work/keeper-$k.json" || { summary; exit 1; }
  p=$out
  step "keeper create" create "$p" "$work/keeper-ctr.json" "$work/keeper-$k.json" || { summary; exit 1; }
  c=$out
  step "keeper start" start "$c" || { summary; exit 1; }
  keeper_pods+=("$p"); keeper_ctrs+=("$c")
done

# A pod whose namespace holds a NUL byte (issue 16): RunPodSandbox may refuse it, but it must not leave a pod
# that Stop and Remove cannot get rid of.
cat >"$work/nul.json" <<JSON
{"metadata": {"name": "nul", "namespace": "a\u0000b", "uid": "u1", "attempt": 0},
 "labels": {"berth-soak": "nul"}, "linux": {"cgroup_parent": "$cgparent"}}
JSON
C runp "$work/nul.json" >>"$logs/soak.log" 2>&1 && note "the NUL pod was accepted"
for p in $(C pods --label berth-soak=nul -q 2>/dev/null); do
  step "NUL pod stopp" stopp "$p"
  step "NUL pod rmp" rmp "$p"
done
[ -z "$(C pods --label berth-soak=nul -q 2>/dev/null)" ] || fail "the NUL pod cannot be removed"

check_keepers() {
  local i state
  for i in "${!keeper_pods[@]}"; do
    state=$(C inspectp -o json "${keeper_pods[$i]}" 2>&1 | jq -r '.status.state' 2>/dev/null)
    [ "$state" = SANDBOX_READY ] || { lost=$((lost + 1)); echo "LOST: keeper pod ${keeper_pods[$i]} is '$state' ($1)" | tee -a "$logs/failures.log" >&2; }
    state=$(C inspect -o json "${keeper_ctrs[$i]}" 2>&1 | jq -r '.status.state' 2>/dev/null)
    [ "$state" = CONTAINER_RUNNING ] || { lost=$((lost + 1)); echo "LOST: keeper container ${keeper_ctrs[$i]} is '$state' ($1)" | tee -a "$logs/failures.log" >&2; }
  done
}

# After a kill in flight: clean the cycle's pod up as the kubelet would, checking the half-made objects.
recover_cycle() {
  local cycle=$1 p c state msg
  for p in $(C pods --label "cycle=$cycle" -q 2>/dev/null); do
    for c in $(C ps -a --pod "$p" -q 2>/dev/null); do
      state=$(C inspect -o json "$c" 2>/dev/null | jq -r '.status.state')
      note "cycle $cycle: after the kill, container $c is $state"
      if [ "$state" = CONTAINER_UNKNOWN ] || [ "$state" = CONTAINER_CREATED ]; then
        msg=$(C start "$c" 2>&1)
        case "$msg" in
          *"code = NotFound"*) fail "cycle $cycle: listed container $c ($state) answers NotFound to start: $msg" ;;
        esac
      fi
      step "cycle $cycle: rm after kill" rm -f "$c"
    done
    step "cycle $cycle: stopp after kill" stopp "$p"
    step "cycle $cycle: rmp after kill" rmp "$p"
  done
  [ -z "$(C pods --label "cycle=$cycle" -q 2>/dev/null)" ] || fail "cycle $cycle: its pod is still listed after rmp"
}

# ---- cycles -----------------------------------------------------------------------------------------------
ops=(runp create start exec stop rm stopp rmp)
choices=(runp runp runp create create create start exec stop rm stopp rmp idle idle)
ctr_json "$work/ctr.json" sleep 3600
for cycle in $(seq 1 "$cycles"); do
  kill_at=${choices[$((RANDOM % ${#choices[@]}))]}
  idle_after=$((RANDOM % ${#ops[@]}))
  killed_in[$kill_at]=$(( ${killed_in[$kill_at]:-0} + 1 ))
  pod_json "$work/pod.json" "churn-$cycle" churn "$cycle" $((RANDOM % 2))
  if [ "$kill_at" = idle ]; then note "cycle $cycle: kill between calls, after ${ops[$idle_after]}"
  else note "cycle $cycle: kill during $kill_at"; fi
  p= c=
  for i in "${!ops[@]}"; do
    op=${ops[$i]}
    case $op in
      runp) args=(runp "$work/pod.json") ;;
      create) args=(create "$p" "$work/ctr.json" "$work/pod.json") ;;
      start) args=(start "$c") ;;
      exec) args=(exec -s "$c" echo soak-$cycle) ;;
      stop) args=(stop -t 1 "$c") ;;
      rm) args=(rm "$c") ;;
      stopp) args=(stopp "$p") ;;
      rmp) args=(rmp "$p") ;;
    esac
    if [ "$op" = "$kill_at" ]; then
      C "${args[@]}" >"$work/inflight.out" 2>&1 &
      call=$!
      # Somewhere in the last three quarters of the time this step took in earlier cycles (crictl needs the
      # first part to start and check the version).
      w=${took[$op]:-250}
      delay=$(( w / 4 + RANDOM % (w * 3 / 4 + 1) ))
      sleep "$((delay / 1000)).$(printf '%03d' $((delay % 1000)))"
      kill_berth
      wait "$call"
      rc=$?
      # The call was cut in flight when crictl says the RPC itself failed (not its connection check).
      if grep -q "from runtime service failed" "$work/inflight.out"; then
        inflight=$((inflight + 1)); cut_in[$op]=$(( ${cut_in[$op]:-0} + 1 ))
      fi
      note "cycle $cycle: $op killed in flight: rc=$rc $(tr '\n' ' ' <"$work/inflight.out")"
      restart_berth
      recover_cycle "$cycle"
      continue 2
    fi
    if ! step "cycle $cycle: $op" "${args[@]}"; then
      recover_cycle "$cycle"
      continue 2
    fi
    took[$op]=$last_ms
    case $op in
      runp) p=$out ;;
      create) c=$out ;;
      exec)
        [ "$out" = "soak-$cycle" ] || fail "cycle $cycle: exec -s printed '$out'"
        # streaming exec too (through the streaming server, whose port changes with every restart)
        step "cycle $cycle: exec (streaming)" exec "$c" echo streamed-$cycle && [ "$out" != "streamed-$cycle" ] \
          && fail "cycle $cycle: streaming exec printed '$out'" ;;
    esac
    if [ "$kill_at" = idle ] && [ "$i" = "$idle_after" ]; then
      sleep "$(printf '0.%03d' $((RANDOM % 300)))"
      kill_berth
      note "cycle $cycle: killed between calls, after $op"
      restart_berth
    fi
  done
  [ -z "$(C pods --label "cycle=$cycle" -q 2>/dev/null)" ] || fail "cycle $cycle: its pod is still listed after rmp"
done

# ---- the end: keepers still run, everything goes, nothing is left -----------------------------------------
check_keepers "at the end"
for i in "${!keeper_ctrs[@]}"; do
  step "keeper exec" exec -s "${keeper_ctrs[$i]}" echo alive && [ "$out" = alive ] || fail "keeper exec printed '$out'"
  step "keeper stopp" stopp "${keeper_pods[$i]}"
  step "keeper rmp" rmp "${keeper_pods[$i]}"
done
[ -z "$(C pods -q 2>/dev/null)" ] || fail "pods still listed at the end: $(C pods -q | tr '\n' ' ')"
[ -z "$(C ps -aq 2>/dev/null)" ] || fail "containers still listed at the end: $(C ps -aq | tr '\n' ' ')"
kill -TERM "$daemon" && wait "$daemon" 2>/dev/null
daemon=

# Leaks, with berth stopped.
grep "$work" /proc/self/mountinfo | awk '{print $5}' >"$work/mounts.left"
[ -s "$work/mounts.left" ] && leak "mounts: $(tr '\n' ' ' <"$work/mounts.left")"
procs=$(pgrep -af -- "$work" | grep -v -e "pgrep" || true)
[ -n "$procs" ] && leak "processes: $procs"
for d in /sys/fs/cgroup/*"$cgparent" /sys/fs/cgroup/*/"${cgparent#/}"; do
  [ -d "$d" ] || continue
  left=$(find "$d" -mindepth 1 -type d | head -5)
  [ -n "$left" ] && leak "cgroups: $left"
  [ -s "$d/cgroup.procs" ] && leak "processes in cgroup $d: $(tr '\n' ' ' <"$d/cgroup.procs")"
done
if [ -d "/sys/class/net/$bridge/brif" ]; then
  veths=$(ls "/sys/class/net/$bridge/brif")
  [ -n "$veths" ] && leak "veths on $bridge: $veths"
fi
rules=$(net_rules "$network" | wc -l)
[ "$rules" -gt 0 ] && leak "$rules iptables rules of network $network"
leases=$(find "$work/ipam" -type f ! -name lock ! -name 'last_reserved_ip*' | head -5)
[ -n "$leases" ] && leak "IPAM leases: $leases"
snapshots=$(ls "$work/root/images/snapshots" | wc -l)
[ "$snapshots" -ne "$snapshots0" ] && leak "snapshots: $snapshots, $snapshots0 before the first pod"
# The handler's generation record (<state>/generations/<name>@0.toml) stays by design while the handler is
# configured; the soak never reloads, so any other generation would be a leak.
# state/plugins holds the daemon's copies of the plugin archives it loaded (one per archive, named by content).
# state/format is the directory's format stamp (StateFormat), written once and kept.
files=$(find "$work/state" "$work/root/network" -type f ! -name '*.lock' 2>/dev/null | grep -v -e '/images/' \
  | grep -v -e "^$work/state/generations/[^/]*@0\.toml\$" -e "^$work/state/plugins/" -e "^$work/state/format\$" \
  | head -10)
# A restart clears the copies of the last run, so 30 kills leave one copy per archive in the image, no more.
copies=$(find "$work/state/plugins" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l)
archives=$(find "$image/plugins" -maxdepth 1 -type f \( -name '*.zip' -o -name '*.jar' \) | wc -l)
[ "$copies" -le "$archives" ] || leak "plugin copies: $copies directories under state/plugins for $archives archives"
[ -n "$files" ] && leak "state files: $files"
dirs=$(find "$work/state/handlers/runc/b" "$work/state/pods" "$work/root/network/netns" -mindepth 1 -maxdepth 1 2>/dev/null | head -5)
[ -n "$dirs" ] && leak "state dirs: $dirs"

summary | tee -a "$logs/soak.log"
[ $((failures + lost + leaks)) -eq 0 ]
