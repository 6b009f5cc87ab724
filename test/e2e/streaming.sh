#!/usr/bin/env bash
# End-to-end streaming checks against a running berth with real containers (runc handler): the SPDY cases with
# the real crictl, then the same exec, attach and port-forward over WebSocket (v5 and v4) with WsStream.java,
# which takes its URLs from berth's Exec/Attach/PortForward RPCs as the kubelet does.
# Needs the critest registry for busybox. Usage: test/e2e/streaming.sh SOCKET [handler]
set -euo pipefail
cd "$(dirname "$0")/../.."
sock=$1
handler=${2:-}
kit=$(cd ../shared/critest && pwd)
C=("$kit/bin/crictl" --runtime-endpoint "unix://$sock" --image-endpoint "unix://$sock" --timeout 30s)
java=
for d in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-25-openjdk-amd64; do
  if [ -n "$d" ] && [ -x "$d/bin/java" ] && "$d/bin/java" -version 2>&1 | grep -q 'version "25'; then
    java=$d/bin/java; break
  fi
done
[ -n "$java" ] || { echo "the WebSocket client needs a JDK 25: set JAVA_HOME" >&2; exit 1; }
ws() { # the client's own stderr (JDK and gRPC notices) goes to a file, shown when a check fails
  "$java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
    -cp "distribution/target/berth/lib/*" test/e2e/WsStream.java "$sock" "$@" 2>>"$tmp/ws.err" \
    || echo "the WebSocket client exited with status $?"
}
tmp=$(mktemp -d /tmp/berth-e2e.XXXXXX)
pf=
pod=
cleanup() {
  [ -n "$pf" ] && kill "$pf" 2>/dev/null || true
  [ -n "$pod" ] && { "${C[@]}" stopp "$pod" >/dev/null 2>&1 || true; "${C[@]}" rmp "$pod" >/dev/null 2>&1 || true; }
  rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
check() { # name, expected substring, actual
  if [[ "$3" == *"$2"* ]]; then
    echo "ok   $1"
  else
    echo "FAIL $1: expected to find [$2] in:"; echo "$3" | sed 's/^/    /'
    [ -s "$tmp/ws.err" ] && tail -5 "$tmp/ws.err" | sed 's/^/    client: /'
    failures=$((failures + 1))
  fi
}
check_line() { # name, a whole line expected, actual
  if grep -qxF -- "$2" <<<"$3"; then
    echo "ok   $1"
  else
    echo "FAIL $1: expected the line [$2] in:"; echo "$3" | sed 's/^/    /'
    failures=$((failures + 1))
  fi
}

img=docker.io/library/busybox:1.36
"${C[@]}" pull "$img" >/dev/null
# The namespace options the kubelet sends for an ordinary pod (a pid namespace per container): the runc handler
# runs such a pod without a pause container.
ns='{"security_context": {"namespace_options": {"pid": 1}}}'
cat >"$tmp/pod.json" <<JSON
{"metadata": {"name": "e2e-streaming", "namespace": "e2e", "uid": "e2e-streaming-$$"},
 "log_directory": "$tmp/logs", "linux": $ns}
JSON
container() { # name, stdin, stdin_once, tty, command json
  cat >"$tmp/$1.json" <<JSON
{"metadata": {"name": "$1"}, "image": {"image": "$img"}, "command": $5, "log_path": "$1.log",
 "stdin": $2, "stdin_once": $3, "tty": $4, "linux": $ns}
JSON
  local id
  id=$("${C[@]}" create "$pod" "$tmp/$1.json" "$tmp/pod.json")
  "${C[@]}" start "$id" >/dev/null
  echo "$id"
}
pod=$("${C[@]}" runp ${handler:+--runtime "$handler"} "$tmp/pod.json")
web=$(container web false false false \
  '["sh", "-c", "mkdir -p /www && echo hello-from-pod > /www/index.html && exec httpd -f -p 80 -h /www"]')

echo "== SPDY with crictl"
out=$(script -qec "stty rows 40 cols 100; ${C[*]} exec -i -t $web sh -c 'stty size; exit 3'" /dev/null 2>&1 || true)
check "exec -i -t: the terminal size reaches the TTY" "40 100" "$out"
check "exec -i -t: exit code 3" "command terminated with exit code 3" "$out"
rc=0; out=$("${C[@]}" exec "$web" sh -c 'echo out; echo err >&2; exit 4' 2>&1) || rc=$?
check_line "exec: stdout" "out" "$out"
check_line "exec: stderr" "err" "$out"
check "exec: exit code 4" "command terminated with exit code 4" "$out"
[ "$rc" -ne 0 ] || { echo "FAIL exec: crictl exited 0 for exit code 4"; failures=$((failures + 1)); }
out=$(echo hello-stdin | "${C[@]}" exec -i "$web" sh -c 'read l; echo got:$l' 2>&1)
check_line "exec -i: stdin piped in" "got:hello-stdin" "$out"
reader=$(container reader true true false '["sh", "-c", "read l; echo got:$l"]')
out=$(echo ping | timeout 30 "${C[@]}" attach -i "$reader" 2>&1 || true)
check "attach -i: stdin in, stdout out" "got:ping" "$out"
"${C[@]}" port-forward "$pod" 18080:80 >"$tmp/pf.log" 2>&1 &
pf=$!
out=
for _ in $(seq 1 50); do
  out=$(curl -s --max-time 5 http://127.0.0.1:18080/ || true)
  [ -n "$out" ] && break
  sleep 0.2
done
check "port-forward 18080:80 to httpd in the pod" "hello-from-pod" "$out"
kill "$pf" 2>/dev/null || true; wait "$pf" 2>/dev/null || true; pf=

echo "== WebSocket, URLs from the CRI RPCs"
for proto in v5.channel.k8s.io v4.channel.k8s.io; do
  out=$(ws exec "$web" --protocol "$proto" -- sh -c 'echo out; echo err >&2; exit 3')
  check "ws $proto exec: protocol chosen" "protocol: $proto" "$out"
  check "ws $proto exec: stdout" "stdout: out\n" "$out"
  check "ws $proto exec: stderr" "stderr: err\n" "$out"
  check "ws $proto exec: exit code 3" "exit: 3" "$out"
  out=$(ws exec "$web" --protocol "$proto" --tty --size 33x77 -- sh -c 'sleep 1; stty size')
  check "ws $proto exec --tty: resize reaches the TTY" "33 77" "$out"
  check "ws $proto exec --tty: exit 0" "exit: 0" "$out"
done
out=$(ws exec "$web" --stdin hello-ws -- sh -c 'read l; echo got:$l')
check "ws v5 exec: stdin, closed by the v5 close signal" "stdout: got:hello-ws" "$out"
reader2=$(container reader2 true true false '["sh", "-c", "read l; echo got:$l"]')
out=$(ws attach "$reader2" --stdin ping-ws)
check "ws v5 attach: stdin in, stdout out" "stdout: got:ping-ws" "$out"
ticker=$(container ticker false false false '["sh", "-c", "for i in $(seq 1 20); do echo tick-$i; sleep 0.5; done"]')
out=$(ws attach "$ticker" --protocol v4.channel.k8s.io)
check "ws v4 attach: protocol chosen" "protocol: v4.channel.k8s.io" "$out"
check "ws v4 attach: the container's output until it exits" "tick-20" "$out"
out=$(ws portforward "$pod" --port 80 --send 'GET / HTTP/1.0\r\n\r\n')
check "ws port-forward: the port announced" "port: 80" "$out"
check "ws port-forward: httpd in the pod answers" "hello-from-pod" "$out"

if [ "$failures" -gt 0 ]; then
  echo "$failures streaming checks failed"
  exit 1
fi
echo "all streaming checks passed"
