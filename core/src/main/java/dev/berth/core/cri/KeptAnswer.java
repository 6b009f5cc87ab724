package dev.berth.core.cri;

import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The last answer to one question (an unfiltered list: the kubelet's relist, every second), kept while what it was
 * built from is unchanged. {@code version} must grow with every change the answer depends on, after the change is
 * visible; an answer is kept only if the version was the same before and after it was built, and given out only
 * while the version is still that one. A build that read something no version covers (a status its backend was
 * asked for) says so, and is not kept.
 */
public final class KeptAnswer<R> {
    /** An answer, and whether all it was built from is covered by the version. */
    public record Built<R>(R answer, boolean keepable) {}

    private record Kept<R>(long version, R answer) {}

    private final LongSupplier version;
    private volatile Kept<R> kept;

    public KeptAnswer(LongSupplier version) {
        this.version = version;
    }

    /** The kept answer if it is still true, else {@code build}'s (kept if it may be). */
    public R get(Supplier<Built<R>> build) {
        long v = version.getAsLong();
        Kept<R> k = kept;
        if (k != null && k.version() == v) {
            return k.answer();
        }
        Built<R> b = build.get();
        if (b.keepable() && version.getAsLong() == v) {
            kept = new Kept<>(v, b.answer());
        }
        return b.answer();
    }
}
