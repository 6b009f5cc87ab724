#!/usr/bin/env bash
# Creates a new berth backend plugin project from this template:
#   plugin-template/generate.sh DIR PLUGIN_ID [JAVA_PACKAGE] [GROUP_ID]
# e.g. plugin-template/generate.sh ../berth-plugin-firecracker firecracker com.example.berth.firecracker com.example
# DIR must not exist. The project's parent is dev.berth:berth-plugin-parent of this berth version: `mvn install`
# in this repository puts it (with berth-spi and its test-jar) into the local Maven repository.
set -euo pipefail
if [ $# -lt 2 ]; then
  sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
dir=$1
id=$2
group=${4:-com.example}
package=${3:-$group.berth.$(echo "$id" | tr -c 'a-zA-Z0-9\n' '_' | tr 'A-Z' 'a-z')}
here=$(cd "$(dirname "$0")" && pwd)

[[ $id =~ ^[a-z0-9][a-z0-9._-]*$ ]] || { echo "PLUGIN_ID must be lower case letters, digits, '.', '_' or '-': $id" >&2; exit 2; }
[[ $package =~ ^[a-zA-Z_][a-zA-Z0-9_]*(\.[a-zA-Z_][a-zA-Z0-9_]*)*$ ]] || { echo "not a Java package: $package" >&2; exit 2; }
[[ $group =~ ^[a-zA-Z0-9_.-]+$ ]] || { echo "not a Maven groupId: $group" >&2; exit 2; }
[ ! -e "$dir" ] || { echo "$dir exists" >&2; exit 2; }
# The class name prefix: the id's words capitalised (my-vm -> MyVm).
class=$(echo "$id" | tr '._-' '   ' | awk '{for (i = 1; i <= NF; i++) printf "%s", toupper(substr($i, 1, 1)) substr($i, 2)}')
[[ $class =~ ^[A-Z] ]] || class=P$class
# The berth version whose kit the project uses: this checkout's berth-plugin-parent.
version=$(sed -n 's:.*<parent>.*<version>\([^<]*\)</version>.*:\1:p' "$here/../plugin-parent/pom.xml" | head -1)
[ -n "$version" ] || { echo "cannot read berth's version from plugin-parent/pom.xml" >&2; exit 1; }

mkdir -p "$dir"
cp -R "$here/project/." "$dir/"
for src in main test; do
  from=$dir/src/$src/java/PACKAGE
  to=$dir/src/$src/java/${package//.//}
  mkdir -p "$to"
  for f in "$from"/*; do
    mv "$f" "$to/$(basename "$f" | sed "s/__CLASS__/$class/")"
  done
  rmdir "$from"
done
find "$dir" -type f \( -name '*.java' -o -name '*.xml' -o -name '*.md' \) -print0 | xargs -0 sed -i \
  -e "s/__PLUGIN_ID__/$id/g" -e "s/__PACKAGE__/$package/g" -e "s/__CLASS__/$class/g" \
  -e "s/__GROUP_ID__/$group/g" -e "s/__BERTH_VERSION__/$version/g"
echo "created $dir: backend type \"$id\", package $package, classes ${class}BackendFactory and ${class}Backend"
echo "build it with: (cd $dir && mvn package)  -- its contract tests fail until the skeleton is implemented"
