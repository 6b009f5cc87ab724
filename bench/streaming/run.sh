#!/bin/sh
# Streaming server micro-benchmark: exec round-trip latency (SPDY and WebSocket) and port-forward throughput
# of a 100 MB transfer, against core's scripted test backend (no container involved).
# Usage: bench/streaming/run.sh [exec-rounds] [forward-megabytes]      (JAVA_HOME must point at a JDK 25)
set -eu
cd "$(dirname "$0")/../.."
mvn -B -q -o -pl core test-compile
mvn -B -q -o -pl core exec:java -Dexec.classpathScope=test \
  -Dexec.mainClass=dev.berth.core.streaming.StreamingBench -Dexec.args="${1:-300} ${2:-100}"
