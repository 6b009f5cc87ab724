# Shared by the plugin-kit scripts (sourced). kit_repo DIR makes DIR a local Maven repository that holds every
# third-party artifact of the user's repository (symlinked) but nothing of berth except the plugin kit, installed
# from this checkout: berth-parent, berth-spi with its test-jar, and berth-plugin-parent. Nothing is installed
# into the user's repository.

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# The modules that make up the kit (with their parents through -am).
KIT_MODULES=${KIT_MODULES:-spi,tck,plugin-parent}

kit_repo() {
  local repo=$1 m2=${BERTH_M2_REPOSITORY:-$HOME/.m2/repository} g name
  [ -d "$m2" ] || { echo "no local Maven repository at $m2 (build berth once first)" >&2; return 1; }
  mkdir -p "$repo/dev"
  for g in "$m2"/*; do
    name=$(basename "$g")
    [ "$name" = dev ] || ln -sfn "$g" "$repo/$name"
  done
  for g in "$m2"/dev/*; do
    name=$(basename "$g")
    [ "$name" = berth ] || ln -sfn "$g" "$repo/dev/$name"
  done
  echo "== installing the plugin kit ($KIT_MODULES) into a scratch repository"
  mvn -o -B -q -f "$root/pom.xml" -pl "$KIT_MODULES" -am install -DskipTests -Dmaven.repo.local="$repo"
  ls "$repo/dev/berth"
}
