package dev.berth.core.cri;

import java.time.Instant;

/** Small conversions between Java and CRI wire types. */
public final class Protos {
    private Protos() {}

    /** CRI timestamps are nanoseconds since the epoch; 0 means "not set". */
    public static long nanos(Instant t) {
        if (t == null) {
            return 0;
        }
        return t.getEpochSecond() * 1_000_000_000L + t.getNano();
    }

    /** True if every {@code selector} entry is among {@code labels}. */
    public static boolean matches(java.util.Map<String, String> selector, java.util.Map<String, String> labels) {
        for (var e : selector.entrySet()) {
            if (!e.getValue().equals(labels.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }
}
