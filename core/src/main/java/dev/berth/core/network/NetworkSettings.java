package dev.berth.core.network;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Where pod networking finds its CNI configuration and plugins, and where it keeps its own state.
 *
 * @param cniConfDir    the CNI configuration directory (e.g. {@code /etc/cni/net.d}); the first
 *                      {@code .conflist}/{@code .conf}/{@code .json} file in lexical order is used. It may not exist yet.
 * @param cniBinDirs    directories searched, in order, for plugin executables (e.g. {@code /opt/cni/bin},
 *                      {@code /usr/lib/cni}); also passed to plugins as {@code CNI_PATH}
 * @param stateDir      berth's network state directory; network namespaces are pinned under {@code <stateDir>/netns}
 *                      and per-pod CNI state is kept in {@code <stateDir>/cni}. Prefer a persistent file system (e.g.
 *                      {@code /var/lib/berth/network}): after a reboot the pins are plain files again, and the kept
 *                      state still lets teardown run CNI DEL, which releases the IPAM allocations that outlived the
 *                      reboot.
 * @param pluginTimeout how long one plugin invocation may run before it is killed
 */
public record NetworkSettings(Path cniConfDir, List<Path> cniBinDirs, Path stateDir, Duration pluginTimeout) {
    /** The conventional CNI conf dir. */
    public static final Path DEFAULT_CONF_DIR = Path.of("/etc/cni/net.d");
    /** Where CNI plugins usually are: upstream's /opt/cni/bin, then Debian's /usr/lib/cni. */
    public static final List<Path> DEFAULT_BIN_DIRS = List.of(Path.of("/opt/cni/bin"), Path.of("/usr/lib/cni"));
    /** The timeout used when none is given. */
    public static final Duration DEFAULT_PLUGIN_TIMEOUT = Duration.ofSeconds(60);

    public NetworkSettings {
        Objects.requireNonNull(cniConfDir, "cniConfDir is null");
        Objects.requireNonNull(stateDir, "stateDir is null");
        cniBinDirs = cniBinDirs == null ? List.of() : List.copyOf(cniBinDirs);
        pluginTimeout = pluginTimeout == null || pluginTimeout.isZero() || pluginTimeout.isNegative()
                ? DEFAULT_PLUGIN_TIMEOUT : pluginTimeout;
    }

    /** The directory holding the network namespace pins. */
    public Path netnsDir() {
        return stateDir.resolve("netns");
    }

    /** The directory holding the persisted per-pod CNI state. */
    public Path cniStateDir() {
        return stateDir.resolve("cni");
    }
}
