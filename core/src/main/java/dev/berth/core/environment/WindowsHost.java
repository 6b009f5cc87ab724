package dev.berth.core.environment;

import dev.berth.core.config.HostOs;
import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What a Windows host needs for berth's Windows containers, for {@code berth doctor}: the Containers feature (the
 * Host Compute Service, {@code vmcompute}, and {@code computecore.dll}), the Host Network Service ({@code hns}),
 * Hyper-V for Hyper-V isolation ({@code vmms}), and a build from Windows Server 2019 / Windows 10 1809 (17763) on.
 *
 * <p>The facts come from a {@link Probe} ({@link #hostProbe()} asks {@code sc.exe} and the registry, on Windows only);
 * the decision ({@link #checks}) is plain logic, unit-tested with fakes. Off Windows the answer is one line saying so.
 */
public final class WindowsHost {
    /** The first build berth's Windows support is meant for: Windows Server 2019 and Windows 10 1809 (RS5). */
    public static final int MIN_BUILD = 17763;

    private WindowsHost() {}

    public enum ServiceState { RUNNING, STOPPED, MISSING, UNKNOWN }

    public enum Level { OK, WARN, FAIL, SKIP }

    /** One line of the doctor's report; {@code advice} says what to do when it is not OK. */
    public record Check(Level level, String what, String advice) {}

    /** The facts of the host. */
    public interface Probe {
        ServiceState service(String name);

        /** Whether {@code %SystemRoot%\System32\NAME} exists. */
        boolean systemFile(String name);

        /** The host's {@code major.minor.build[.revision]}, e.g. 10.0.20348.2227; empty when unknown. */
        String osVersion();
    }

    /** What the host lacks (and has), in report order. */
    public static List<Check> checks(HostOs os, Probe probe) {
        if (os != HostOs.WINDOWS) {
            return List.of(new Check(Level.SKIP, "Windows host checks: not Windows", ""));
        }
        List<Check> out = new ArrayList<>();
        String version = probe.osVersion();
        int build = build(version);
        if (build < 0) {
            out.add(new Check(Level.WARN, "Windows build unknown", "images are then picked without the host's "
                    + "os.version; check that the registry's CurrentVersion key is readable"));
        } else if (build < MIN_BUILD) {
            out.add(new Check(Level.FAIL, "Windows build " + version, "Windows containers under berth need Windows "
                    + "Server 2019 or Windows 10 1809 (build " + MIN_BUILD + ") or newer"));
        } else {
            out.add(new Check(Level.OK, "Windows build " + version + " (process-isolated containers need images for "
                    + "a compatible build)", ""));
        }
        ServiceState vmcompute = probe.service("vmcompute");
        boolean containers = vmcompute != ServiceState.MISSING && probe.systemFile("computecore.dll");
        out.add(new Check(containers ? Level.OK : Level.FAIL,
                "Windows Containers feature (vmcompute service, computecore.dll)",
                "install it: Install-WindowsFeature -Name Containers (Windows Server) or Enable-WindowsOptionalFeature "
                        + "-Online -FeatureName Containers (Windows 10/11), then restart"));
        if (containers) {
            out.add(service(vmcompute, "Host Compute Service (vmcompute)", "Start-Service vmcompute"));
        }
        ServiceState hns = probe.service("hns");
        out.add(hns == ServiceState.MISSING
                ? new Check(Level.FAIL, "Host Network Service (hns)", "it comes with the Containers feature; "
                        + "pods get no network without it")
                : service(hns, "Host Network Service (hns)", "Start-Service hns"));
        ServiceState vmms = probe.service("vmms");
        out.add(switch (vmms) {
            case MISSING -> new Check(Level.WARN, "Hyper-V (vmms) not installed: only process isolation is possible",
                    "for Hyper-V isolation: Install-WindowsFeature -Name Hyper-V -IncludeManagementTools (Windows "
                            + "Server) or Enable-WindowsOptionalFeature -Online -FeatureName Microsoft-Hyper-V "
                            + "(Windows 10/11), then restart");
            case UNKNOWN -> new Check(Level.WARN, "Hyper-V (vmms) state unknown", "sc.exe query vmms");
            default -> new Check(Level.OK, "Hyper-V (vmms) installed: Hyper-V isolation possible", "");
        });
        return out;
    }

    private static Check service(ServiceState s, String what, String fix) {
        return switch (s) {
            case RUNNING -> new Check(Level.OK, what + " running", "");
            case STOPPED -> new Check(Level.FAIL, what + " not running", fix);
            case MISSING -> new Check(Level.FAIL, what + " not installed", fix);
            case UNKNOWN -> new Check(Level.WARN, what + " state unknown", "sc.exe query");
        };
    }

    /** The build number of {@code major.minor.build[.revision]}, or -1. */
    public static int build(String osVersion) {
        String[] parts = osVersion.split("\\.");
        if (parts.length < 3) {
            return -1;
        }
        try {
            return Integer.parseInt(parts[2]);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * A service's state from {@code sc.exe query NAME}: exit code 1060 is "no such service"; otherwise the STATE
     * line's number (language-independent, unlike its word) is 4 for RUNNING.
     */
    static ServiceState parseScQuery(int exitCode, String output) {
        if (exitCode == 1060) {
            return ServiceState.MISSING;
        }
        if (exitCode != 0) {
            return ServiceState.UNKNOWN;
        }
        for (String line : output.lines().toList()) {
            String l = line.strip();
            int colon = l.indexOf(':');
            if (l.startsWith("STATE") && colon > 0) {
                String[] words = l.substring(colon + 1).strip().split("\\s+");
                return words[0].equals("4") ? ServiceState.RUNNING : ServiceState.STOPPED;
            }
        }
        return ServiceState.UNKNOWN;
    }

    /** This host's facts; call on Windows only. */
    public static Probe hostProbe() {
        return new Probe() {
            @Override
            public ServiceState service(String name) {
                try {
                    Process p = new ProcessBuilder("sc.exe", "query", name).redirectErrorStream(true).start();
                    String out = new String(p.getInputStream().readAllBytes(), Charset.defaultCharset());
                    if (!p.waitFor(30, TimeUnit.SECONDS)) {
                        p.destroyForcibly();
                        return ServiceState.UNKNOWN;
                    }
                    return parseScQuery(p.exitValue(), out);
                } catch (IOException e) {
                    return ServiceState.UNKNOWN;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return ServiceState.UNKNOWN;
                }
            }

            @Override
            public boolean systemFile(String name) {
                String root = System.getenv().getOrDefault("SystemRoot", "C:\\Windows");
                return Files.exists(Path.of(root, "System32", name));
            }

            @Override
            public String osVersion() {
                return hostOsVersion();
            }
        };
    }

    /**
     * The running Windows' {@code major.minor.build.revision} from the registry ({@code os.version} says only
     * "10.0"); empty off Windows or when unreadable. Loads advapi32 through JNA, so Windows only.
     */
    public static String hostOsVersion() {
        if (!HostOs.isWindows()) {
            return "";
        }
        try {
            var hklm = com.sun.jna.platform.win32.WinReg.HKEY_LOCAL_MACHINE;
            String key = "SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion";
            int major = com.sun.jna.platform.win32.Advapi32Util.registryGetIntValue(hklm, key,
                    "CurrentMajorVersionNumber");
            int minor = com.sun.jna.platform.win32.Advapi32Util.registryGetIntValue(hklm, key,
                    "CurrentMinorVersionNumber");
            String build = com.sun.jna.platform.win32.Advapi32Util.registryGetStringValue(hklm, key,
                    "CurrentBuildNumber");
            int ubr = com.sun.jna.platform.win32.Advapi32Util.registryValueExists(hklm, key, "UBR")
                    ? com.sun.jna.platform.win32.Advapi32Util.registryGetIntValue(hklm, key, "UBR") : 0;
            return major + "." + minor + "." + build + "." + ubr;
        } catch (RuntimeException | LinkageError e) {
            return "";
        }
    }
}
