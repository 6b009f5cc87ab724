#!/usr/bin/env bash
# Assembles the berth image from the staged jars: a jlink runtime holding only the JDK modules that jdeps finds
# the jars need, the jars in lib/, plugin archives in plugins/, bin/berth and an example config.
set -euo pipefail
target=$1
version=$2
plugins_src=$3
here=$(cd "$(dirname "$0")/.." && pwd)
staging=$target/staging
image=$target/berth

: "${JAVA_HOME:?JAVA_HOME must point at a JDK 25}"
jdeps=$JAVA_HOME/bin/jdeps
jlink=$JAVA_HOME/bin/jlink

rm -rf "$image"
mkdir -p "$image/lib" "$image/plugins" "$image/bin" "$image/conf"
cp "$staging"/lib/*.jar "$image/lib/"
# One archive per plugin: its zip (classes plus lib/) when it bundles libraries, else its jar.
for dir in "$plugins_src"/*/; do
  name=$(basename "$dir")
  if [ -f "$dir/target/$name.zip" ]; then
    cp "$dir/target/$name.zip" "$image/plugins/$name.zip"
  elif [ -f "$dir/target/berth-plugin-$name-$version.jar" ]; then
    cp "$dir/target/berth-plugin-$name-$version.jar" "$image/plugins/$name.jar"
  fi
  # A plugin archive must never carry the SPI or PF4J: they always come from core.
  if unzip -l "$image/plugins/$name".* 2>/dev/null | grep -Eq 'berth-spi|pf4j-[0-9]|dev/berth/spi/'; then
    echo "plugin $name bundles the SPI or PF4J; refusing to build the image" >&2
    exit 1
  fi
done

# The JDK modules the application needs, as jdeps sees them, plus what reflection and JNDI-free TLS use at
# run time (jdk.crypto.ec for TLS on the streaming port; jdk.zipfs for plugin zips).
modules=$("$jdeps" --print-module-deps --ignore-missing-deps --multi-release 25 \
  --class-path "$image/lib/*" "$image"/lib/berth-core-*.jar)
# jdeps also names java.compiler (PF4J's compile-time annotation processor) and java.desktop (Jackson's optional
# java.beans support); neither is used at run time, and together they are about half the image.
modules=$(echo "$modules,jdk.crypto.ec,jdk.zipfs,jdk.unsupported,java.logging" | tr ',' '\n' \
  | grep -vx -e java.compiler -e java.desktop | sort -u | paste -sd, -)
echo "jlink modules: $modules"
"$jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages --compress=zip-6 \
  --output "$image/runtime"

install -m 0755 "$here/bin/berth" "$image/bin/berth"
install -m 0644 "$here/lib/jit-directives.json" "$image/lib/jit-directives.json"

# An AOT cache (JEP 483/514) from a training run of the image's own java: the daemon starts, serves, and stops.
# It cuts the time to the first served call by about two thirds. Best effort: without it berth runs the same.
train=$(mktemp -d)
cat >"$train/config.toml" <<TOML
socket = "$train/berth.sock"
state = "$train/state"
root = "$train/root"
[network]
cni_conf_dir = "$train/cni"
TOML
if BERTH_JAVA_OPTS="-XX:AOTCacheOutput=$image/lib/berth.aot -Xlog:aot=off -Xlog:cds=off" \
    "$image/bin/berth" daemon --config "$train/config.toml" --exit-after-start \
    >"$train/log" 2>&1 && [ -s "$image/lib/berth.aot" ]; then
  echo "AOT cache: $(du -h "$image/lib/berth.aot" | cut -f1)"
else
  echo "warning: no AOT cache (training run failed):" >&2; tail -5 "$train/log" >&2; rm -f "$image/lib/berth.aot"
fi
rm -rf "$train"
cp "$here"/conf/* "$image/conf/"
echo "$version" > "$image/VERSION"
tar -C "$target" -czf "$target/berth-$version-linux-amd64.tar.gz" berth
echo "image: $image ($(du -sh "$image" | cut -f1))"
