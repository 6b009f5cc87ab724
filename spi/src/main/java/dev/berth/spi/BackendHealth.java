package dev.berth.spi;

import java.util.List;

/**
 * The result of a handler's self-check: whether it can serve, and one line per thing checked.
 * Used by {@code berth plugins} and {@code berth doctor}, and for the {@code RuntimeReady} condition.
 */
public record BackendHealth(boolean ready, List<Check> checks) {
    /** One checked thing: {@code ok}, what it is, and, when not ok, what to do about it. */
    public record Check(boolean ok, String what, String advice) {
        public Check {
            what = Checks.id(what, "check");
            advice = Checks.text(advice);
        }
    }

    public BackendHealth {
        checks = Checks.list(checks);
    }

    public static BackendHealth of(List<Check> checks) {
        return new BackendHealth(checks.stream().allMatch(Check::ok), checks);
    }
}
