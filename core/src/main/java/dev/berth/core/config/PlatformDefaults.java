package dev.berth.core.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The default locations on this host's operating system ({@link HostOs}), chosen in this one place.
 *
 * <p>On Windows they follow containerd's Windows defaults: state under {@code %ProgramData%} (berth's own
 * {@code berth\root} and {@code berth\state}, as containerd's {@code containerd\root} and {@code containerd\state}),
 * the CRI endpoint a named pipe, and CNI in {@code %ProgramFiles%\containerd\cni\conf} and {@code ...\cni\bin} (the
 * very directories containerd uses, so that a node prepared for containerd's Windows CNI plugins works unchanged).
 *
 * @param configFile the main config file read when none is named
 * @param cdiSpecDirs where CDI device specs are read, lowest priority first: on Linux the CDI specification's own
 *     {@code /etc/cdi} and {@code /var/run/cdi}, as containerd and CRI-O read them; none on Windows
 */
public record PlatformDefaults(CriEndpoint socket, Path root, Path state, Path configFile, Path registryConfigPath,
                               Path cniConfDir, List<Path> cniBinDirs, List<Path> cdiSpecDirs) {
    public PlatformDefaults {
        cniBinDirs = List.copyOf(cniBinDirs);
        cdiSpecDirs = List.copyOf(cdiSpecDirs);
    }

    /** This host's defaults. */
    public static PlatformDefaults forHost() {
        return of(HostOs.current(), System.getenv());
    }

    /** The defaults of {@code os}, with Windows' folders from {@code env} ({@code ProgramData}, {@code ProgramFiles}). */
    public static PlatformDefaults of(HostOs os, Map<String, String> env) {
        if (os != HostOs.WINDOWS) {
            return new PlatformDefaults(new CriEndpoint.Unix(Path.of("/run/berth/berth.sock")), Path.of("/var/lib/berth"),
                    Path.of("/run/berth"), Path.of("/etc/berth/config.toml"), Path.of("/etc/berth/certs.d"),
                    Path.of("/etc/cni/net.d"), List.of(Path.of("/opt/cni/bin"), Path.of("/usr/lib/cni")),
                    List.of(Path.of("/etc/cdi"), Path.of("/var/run/cdi")));
        }
        String data = folder(env, "ProgramData", "C:\\ProgramData") + "\\berth";
        String cni = folder(env, "ProgramFiles", "C:\\Program Files") + "\\containerd\\cni";
        return new PlatformDefaults(new CriEndpoint.NamedPipe(CriEndpoint.NamedPipe.PREFIX + "berth"),
                Path.of(data + "\\root"), Path.of(data + "\\state"), Path.of(data + "\\config.toml"),
                Path.of(data + "\\certs.d"), Path.of(cni + "\\conf"), List.of(Path.of(cni + "\\bin")), List.of());
    }

    private static String folder(Map<String, String> env, String name, String fallback) {
        // Windows environment names are case-insensitive.
        for (var e : env.entrySet()) {
            if (e.getKey().equalsIgnoreCase(name) && !e.getValue().isBlank()) {
                String v = e.getValue().strip();
                return v.endsWith("\\") ? v.substring(0, v.length() - 1) : v;
            }
        }
        return fallback;
    }
}
