#!/usr/bin/env bash
# Builds berth's Debian package from the assembled image, with dpkg-deb (no network, no debhelper):
# /usr/lib/berth holds the image (its own Java runtime), /usr/bin/berth the launcher, the systemd unit, the
# config as a conffile with every key commented at its default, bash completion, the man pages and the docs.
# Usage: build-deb.sh TARGET VERSION   (BERTH_DEB_VERSION overrides the package version)
set -euo pipefail
target=$1
version=$2
here=$(cd "$(dirname "$0")/.." && pwd)
image=$target/berth
[ -x "$image/bin/berth" ] || { echo "no image at $image" >&2; exit 1; }
command -v dpkg-deb >/dev/null || { echo "dpkg-deb not found: the package needs a Debian build host" >&2; exit 1; }

debver=${BERTH_DEB_VERSION:-$(echo "$version" | sed 's/-SNAPSHOT$/~snapshot/')}
arch=$(dpkg --print-architecture)
root=$target/deb/root
rm -rf "$target/deb"
mkdir -p "$root/DEBIAN" "$root/usr/lib/berth" "$root/usr/bin" "$root/usr/lib/systemd/system" \
  "$root/etc/berth/config.d" "$root/usr/share/doc/berth" "$root/usr/share/bash-completion/completions"

cp -a "$image"/bin "$image"/lib "$image"/plugins "$image"/runtime "$image"/VERSION "$root/usr/lib/berth/"
chmod -R u+w,go-w "$root/usr/lib/berth"
find "$root/usr/lib/berth/runtime/legal" -type f -exec chmod 0644 {} +
ln -s ../lib/berth/bin/berth "$root/usr/bin/berth"
install -m 0644 "$here/deb/berth.service" "$root/usr/lib/systemd/system/berth.service"

# The conffile: the example with every setting commented out, so the built-in defaults apply until edited.
{
  echo "# berth configuration: every key is commented at its built-in default. Uncomment to change one;"
  echo "# drop-ins in /etc/berth/config.d/*.toml are merged in lexical order. 'berth config' prints the"
  echo "# effective config, 'berth config validate' checks a file."
  echo
  sed -e '/^# Copy to \/etc\/berth\/config.toml/d' -e 's/^\([^#[:space:]]\)/# \1/' "$here/conf/config.toml.example"
} >"$root/etc/berth/config.toml"
echo /etc/berth/config.toml >"$root/DEBIAN/conffiles"

# Completion scripts are sourced, not run: without picocli's hashbang line.
"$image/bin/berth" generate-completion | sed '1{/^#!/d}' >"$root/usr/share/bash-completion/completions/berth"
# Man pages, berth(8) and berth-<command>(8), from the commands' own definitions (dev.berth.core.cli.ManPages).
mkdir -p "$root/usr/share/man/man8"
"$image/runtime/bin/java" -cp "$image/lib/*" dev.berth.core.cli.ManPages "$root/usr/share/man/man8" "$debver" \
  "$(date -u -d @"${SOURCE_DATE_EPOCH:-$(date +%s)}" +%Y-%m-%d)" >/dev/null
gzip -9n "$root"/usr/share/man/man8/*.8
cp "$here/../../README.md" "$root/usr/share/doc/berth/README.md"
cat >"$root/usr/share/doc/berth/copyright" <<TXT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: berth
Files: *
Copyright: 2026 the berth developers
License: Apache-2.0
 On Debian systems, the full text of the Apache License 2.0 is in /usr/share/common-licenses/Apache-2.0.
TXT
printf 'berth (%s) unstable; urgency=medium\n\n  * Built from the berth repository.\n\n -- berth developers <dev@berth.dev>  %s\n' \
  "$debver" "$(date -R -d @"${SOURCE_DATE_EPOCH:-$(date +%s)}")" | gzip -9n >"$root/usr/share/doc/berth/changelog.gz"

# berth's own helpers are linked stripped (-s) inside the runc plugin's archive; the Java runtime's files are left
# as jlink made them (see the overrides).
mkdir -p "$root/usr/share/lintian/overrides"
install -m 0644 "$here/deb/lintian-overrides" "$root/usr/share/lintian/overrides/berth"
for s in postinst prerm postrm; do install -m 0755 "$here/deb/$s" "$root/DEBIAN/$s"; done
# The preinst refuses a downgrade across a state-format change: it gets the newest format this build reads.
state_format=$("$image/runtime/bin/java" -cp "$image/lib/*" dev.berth.core.store.StateFormat)
case $state_format in ''|*[!0-9]*) echo "no state format from the image: $state_format" >&2; exit 1 ;; esac
sed -e "s/@STATE_FORMAT@/$state_format/" -e "s/@VERSION@/$debver/" "$here/deb/preinst" >"$root/DEBIAN/preinst"
chmod 0755 "$root/DEBIAN/preinst"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$debver/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" "$here/deb/control.in" >"$root/DEBIAN/control"

deb=$target/berth_${debver}_${arch}.deb
dpkg-deb --root-owner-group -Zgzip --build "$root" "$deb" >/dev/null
rm -rf "$target/deb"
echo "package: $deb ($(du -h "$deb" | cut -f1))"
