# Shared by the bench scripts: a private berth or containerd on one work dir, with the registry mirrors and a
# CNI bridge of its own, so that both runtimes are measured alike in one run. BENCH_BRIDGE and BENCH_SUBNET name
# another bridge and subnet (default benchbr0, 10.77.0.0/16), for benchmarks run side by side.
# shellcheck shell=bash
kit=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../shared/critest" && pwd)
crictl=$kit/bin/crictl
image=distribution/target/berth
[ -x "$image/bin/berth" ] || { echo "build first: mvn -DskipTests install" >&2; exit 1; }
curl -sf http://127.0.0.1:5000/v2/ >/dev/null || "$kit/build-images.sh" >/dev/null
work=$(mktemp -d /tmp/berth-bench.XXXXXX)
results=$(mktemp -d /tmp/berth-bench-results.XXXXXX) # survives bench_config, which empties $work
pid=
bridge=${BENCH_BRIDGE:-benchbr0}
subnet=${BENCH_SUBNET:-10.77.0.0/16}

bench_stop() {
  if [ -n "$pid" ]; then
    "$crictl" --runtime-endpoint "unix://$work/sock" --timeout 300s rmp -af >/dev/null 2>&1 || true
    kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    pid=
  fi
  grep "$work" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  ip link del "$bridge" 2>/dev/null || true
}
# A bench script that starts helpers of its own stops them in a bench_before_exit function, run first.
trap 'if declare -F bench_before_exit >/dev/null; then bench_before_exit; fi; bench_stop; rm -rf "$work" "$results"' EXIT

# Writes the mirrors and CNI config, then the runtime's own config: bench_config berth|containerd
bench_config() {
  rm -rf "${work:?}"/*; mkdir -p "$work/cni" "$work/certs.d" "$work/logs"
  for h in registry.k8s.io gcr.io k8s.gcr.io quay.io public.ecr.aws docker.io; do
    mkdir -p "$work/certs.d/$h"
    printf 'server = "http://127.0.0.1:5000"\n[host."http://127.0.0.1:5000"]\n  capabilities = ["pull", "resolve"]\n' \
      >"$work/certs.d/$h/hosts.toml"
  done
  cat >"$work/cni/10-bench.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "bench", "plugins": [
  {"type": "bridge", "bridge": "$bridge", "isGateway": true, "ipMasq": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$subnet"}]], "dataDir": "$work/ipam"}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
JSON
  case $1 in
    berth) cat >"$work/berth.toml" <<TOML
socket = "$work/sock"
state = "$work/state"
root = "$work/root"
[images]
registry_config_path = "$work/certs.d"
sandbox_image = "registry.k8s.io/pause:3.9"
[network]
cni_conf_dir = "$work/cni"
cni_bin_dirs = ["/usr/lib/cni"]
[runtimes.runc]
type = "runc"
[runtimes.runc.options]
binary = "runc"
[runtimes.crun]
type = "runc"
[runtimes.crun.options]
binary = "crun"
[runtimes.gvisor]
type = "runc"
[runtimes.gvisor.options]
binary = "runsc"
network = "host"
TOML
    ;;
    containerd) cat >"$work/containerd.toml" <<TOML
version = 2
root = "$work/croot"
state = "$work/cstate"
[grpc]
  address = "$work/sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.9"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$work/cni"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$work/certs.d"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
TOML
    ;;
  esac
}

# Starts the runtime configured by bench_config and waits for its socket: bench_start berth|containerd LOG
# (BERTH_IMAGE names another berth image to start, for before/after comparisons)
bench_start() {
  case $1 in
    berth) env -u JAVA_HOME "${BERTH_IMAGE:-$image}/bin/berth" daemon --config "$work/berth.toml" >"$2" 2>&1 & ;;
    containerd) containerd --config "$work/containerd.toml" >"$2" 2>&1 & ;;
  esac
  pid=$!
  until "$crictl" --runtime-endpoint "unix://$work/sock" version >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { tail "$2" >&2; exit 1; }; sleep 0.1
  done
}

# Whether containerd takes its turns: installed, and not left out with CONTAINERD=no.
have_containerd=$(command -v containerd >/dev/null && [ "${CONTAINERD:-yes}" != no ] && echo yes || true)

# One turn of each runtime, for a bench that compares them in rounds: FN is called as FN LABEL RUNTIME IMAGE HELPERS
# for this checkout's berth (the image a script saved as this_image before changing image), for the berth image in
# BASELINE= if set, and for containerd if it takes its turns. HELPERS is a pgrep -f pattern for the runtime's
# helpers: berth's conmon and log joiner per container and its exec helper per handler (bench_berth_helpers),
# containerd's shims.
bench_berth_helpers() { echo "(conmon|berth-logjoin).*$work|$work/.*/berth-execsync"; }
bench_turns() {
  local fn=$1
  "$fn" berth berth "$this_image" "$(bench_berth_helpers)"
  [ -z "${BASELINE:-}" ] || "$fn" berth-baseline berth "$BASELINE" "$(bench_berth_helpers)"
  [ -z "$have_containerd" ] || "$fn" containerd containerd "" "containerd-shim-runc-v2.*$work"
}

# A JDK for the Java bench clients: the one the build used.
bench_java() {
  for d in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-25-openjdk-amd64; do
    [ -n "$d" ] && [ -x "$d/bin/java" ] && { echo "$d/bin/java"; return; }
  done
  echo "no JDK 25 found (set JAVA_HOME)" >&2; exit 1
}
