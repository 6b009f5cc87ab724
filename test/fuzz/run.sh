#!/usr/bin/env bash
# Fuzzes a running berth's CRI edge: random bytes and spoiled valid requests over every method of runtime.v1,
# runtime.v1alpha2 and the proto2 runtime CRI, health checks every 200 calls, then removes every pod and container
# and checks nothing is left. Exits non-zero on any UNKNOWN status, hang, failed health check or unremovable
# object; the last line is a one-line summary (with the seed to rerun it).
# Usage: test/fuzz/run.sh SOCKET [--seed N] [--calls N] [--image REF] [--pull-prefix REGISTRY] [--handler NAME]
#        [--containerd-socket PATH]
#   --containerd-socket  the daemon's [legacy] containerd_api_socket: fuzz the containerd 0.2 API's methods too
#   --image        an image the daemon has for CreateContainer, e.g. its sandbox image, which the first pod
#                  pulls (default: a missing one, so containers are never created)
#   --pull-prefix  the only registry PullImage requests may name: a local one, or a host the daemon mirrors to
#                  one (default: none; requests that name an image are then not sent)
# Build first: mvn -o -B package -DskipTests (builds test/fuzz/target/berth-fuzz.jar and its lib/).
# The daemon should run a throwaway config: the fuzz run creates and removes pods (mostly host-network) on it.
set -euo pipefail
[ $# -ge 1 ] || { sed -n 2,14p "$0" >&2; exit 2; }
socket=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
jar=$here/target/berth-fuzz.jar
[ -f "$jar" ] || { echo "fuzz: $jar is missing; build with mvn -o -B package -DskipTests" >&2; exit 2; }
java=${JAVA_HOME:+$JAVA_HOME/bin/java}
[ -x "${java:-}" ] || java=$repo/distribution/target/berth/runtime/bin/java
[ -x "$java" ] || java=$(command -v java)
scratch=$(mktemp -d /tmp/berth-fuzz.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
exec_status=0
"$java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Xss1m \
  -jar "$jar" --socket "$socket" --scratch "$scratch" "$@" || exec_status=$?
exit $exec_status
