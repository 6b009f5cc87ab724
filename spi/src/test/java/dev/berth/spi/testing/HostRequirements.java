package dev.berth.spi.testing;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * The one way a test says that it needs something of the host (root, runc, conmon, CNI plugins, crictl…).
 * Normally a test whose need is not met is skipped, so that the unit tests run on a developer's machine without
 * the full install. Under CI ({@code scripts/test.sh}) nothing may be skipped silently: with the environment
 * variable {@value #ENV}{@code =1} (which Surefire's forked JVMs inherit) or the system property
 * {@value #PROPERTY}{@code =true}, an unmet need fails the test instead, naming what is missing, so a missing
 * install step turns CI red.
 *
 * <p>Not for skips that are a test's design rather than the host's lack (a variant that does not apply to a
 * configuration, an opt-in benchmark, a test that needs a host CI does not have, such as a KVM host for a
 * real Kata VM): those stay plain JUnit assumptions or conditions.
 */
public final class HostRequirements {
    /** The environment variable that turns unmet needs into failures. */
    public static final String ENV = "BERTH_REQUIRE_HOST_PROGRAMS";
    /** The system property that does the same. */
    public static final String PROPERTY = "berth.test.requireHost";

    private HostRequirements() {}

    /** Whether unmet needs fail rather than skip. */
    public static boolean required() {
        String env = System.getenv(ENV);
        return "1".equals(env) || "true".equalsIgnoreCase(env)
                || Boolean.parseBoolean(System.getProperty(PROPERTY, "false"));
    }

    /**
     * Skips the test unless {@code met}; fails it instead when {@link #required()}. {@code what} names the need,
     * e.g. "conmon is not installed".
     */
    public static void require(boolean met, String what) {
        if (met) {
            return;
        }
        if (required()) {
            Assertions.fail("the host lacks what this test needs, and " + ENV + "/" + PROPERTY
                    + " forbids skipping it: " + what);
        }
        Assumptions.abort(what);
    }
}
