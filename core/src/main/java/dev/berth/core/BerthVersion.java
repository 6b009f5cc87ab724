package dev.berth.core;

/** berth's own release version, from the jar manifest when packaged. */
public final class BerthVersion {
    public static final String VERSION = version();

    private BerthVersion() {}

    private static String version() {
        String v = BerthVersion.class.getPackage().getImplementationVersion();
        return v == null ? "0.1.0-dev" : v;
    }
}
