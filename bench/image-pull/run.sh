#!/usr/bin/env bash
# Pull benchmark for berth's image service: a 5-layer, ~50 MB image pushed to a local docker-registry
# (Debian's docker-registry on 127.0.0.1, started by the benchmark itself), pulled cold (empty store) and warm
# (a second image with the same layers). Prints medians and writes core/target/bench-image-pull.txt.
#
#   bench/image-pull/run.sh [runs]
#
# TODO: containerd comparison. containerd (and ctr) are not installed on the development host; when they are,
# pull the same image with `ctr -n bench images pull --plain-http <registry>/bench:cold` from a fresh containerd
# root, time it the same way, and put both numbers side by side in docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-5}"
mvn -B -q -o test -pl core -Dtest=PullBench -Dberth.bench=true -Dberth.bench.runs="$runs" \
    -Dsurefire.failIfNoSpecifiedTests=false
cat core/target/bench-image-pull.txt
