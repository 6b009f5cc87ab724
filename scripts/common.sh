# Shared by setup.sh and test.sh: find or install a JDK 25 and the host programs berth drives.
# shellcheck shell=bash

die() { echo "berth: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run this as root (berth manages namespaces, mounts and cgroups)"

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "${BERTH_APT_UPDATED:-}" ]; then
    apt-get update -qq
    BERTH_APT_UPDATED=1
  fi
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# A JDK 25: Temurin where it is installed (Debian 12 has no JDK 25 package), else Debian's own (Debian 13).
find_jdk() {
  for d in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-25-openjdk-amd64; do
    if [ -n "$d" ] && [ -x "$d/bin/jlink" ] && "$d/bin/java" -version 2>&1 | grep -q 'version "25'; then
      echo "$d"; return 0
    fi
  done
  return 1
}

ensure_jdk() {
  if ! JAVA_HOME=$(find_jdk); then
    if apt-cache show openjdk-25-jdk-headless >/dev/null 2>&1 || { apt-get update -qq && apt-cache show openjdk-25-jdk-headless >/dev/null 2>&1; }; then
      apt_install openjdk-25-jdk-headless
      JAVA_HOME=$(find_jdk) || die "openjdk-25-jdk-headless installed but no JDK 25 found under /usr/lib/jvm"
    else
      die "no JDK 25 found and apt has none (Debian 12): install Temurin 25 (temurin-25-jdk) first, see README"
    fi
  fi
  export JAVA_HOME
  export PATH="$JAVA_HOME/bin:$PATH"
}

# The programs the runc backend and pod networking drive, from Debian's packages, and what builds berth: Maven,
# and a C compiler for the runc plugin's small helpers (berth-logjoin, berth-pause, berth-runsc, berth-execsync).
RUNTIME_PACKAGES=(maven gcc libc6-dev runc crun runsc conmon containernetworking-plugins iptables iproute2 util-linux mount)

# What the test suite adds: a local registry and image tools, containerd's runc shim (it stands in for Kata's
# shim), busybox for test root file systems, openssl for TLS tests, criu for checkpoint tests, and debootstrap
# and lintian for the Debian package and the roots it is tested in under systemd, and prometheus, which scrapes
# the daemon in the metrics end-to-end test (test/e2e/metrics.sh runs its own; the Debian service is not used).
TEST_PACKAGES=(unzip docker-registry skopeo umoci containerd busybox-static openssl criu procps psmisc curl python3 debootstrap lintian prometheus)

# crun 1.8 refuses hybrid cgroup hosts whose cgroup2 holds a controller; moving hugetlb to v1 fixes it.
fix_hybrid_cgroups() {
  local ctrls=/sys/fs/cgroup/unified/cgroup.controllers
  if [ -f "$ctrls" ] && grep -qw hugetlb "$ctrls" && ! mountpoint -q /sys/fs/cgroup/hugetlb; then
    echo "moving the hugetlb controller to cgroup v1 (crun cannot run on hybrid hosts otherwise)"
    mkdir -p /sys/fs/cgroup/hugetlb && mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb
  fi
}
