package dev.berth.core.config;

import java.util.Locale;

/**
 * The one place berth asks which operating system it runs on ({@code os.name}): default paths
 * ({@link PlatformDefaults}), the CRI transport, the image platform and the Windows-only host checks all ask here.
 */
public enum HostOs {
    LINUX,
    WINDOWS,
    OTHER;

    /** The JVM's operating system. */
    public static HostOs current() {
        return of(System.getProperty("os.name", ""));
    }

    /** The operating system an {@code os.name} value names. */
    public static HostOs of(String osName) {
        String n = osName.toLowerCase(Locale.ROOT);
        if (n.startsWith("windows")) {
            return WINDOWS;
        }
        return n.startsWith("linux") ? LINUX : OTHER;
    }

    public static boolean isWindows() {
        return current() == WINDOWS;
    }

    /** The OCI platform {@code os} of images this host runs: {@code windows} on Windows, else {@code linux}. */
    public String imageOs() {
        return this == WINDOWS ? "windows" : "linux";
    }
}
