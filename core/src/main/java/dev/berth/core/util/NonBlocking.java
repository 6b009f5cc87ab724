package dev.berth.core.util;

import java.util.function.Supplier;

/**
 * Work that must not block its thread: a read the gRPC server runs on its transport thread (see
 * {@code dev.berth.core.cri.InlineReads}). Code that is about to wait (ask a backend, start a process, take a lock
 * held across I/O) calls {@link #beforeBlocking} first; within {@link #call} that throws {@link WouldBlock}, and the
 * caller runs the whole work again on a thread that may block. Outside {@link #call} it does nothing.
 *
 * <p>Work run this way must have no effect before its first {@link #beforeBlocking}, since it may run twice.
 */
public final class NonBlocking {
    private static final ScopedValue<Boolean> ACTIVE = ScopedValue.newInstance();
    private static final WouldBlock WOULD_BLOCK = new WouldBlock();

    private NonBlocking() {}

    /** Thrown by {@link #beforeBlocking} within {@link #call}: the work needs a thread that may block. */
    public static final class WouldBlock extends RuntimeException {
        private WouldBlock() {
            super("this work would block a thread that must not block", null, false, false);
        }
    }

    /** Runs {@code work}, which throws {@link WouldBlock} where it would block. */
    public static <T> T call(Supplier<T> work) {
        return ScopedValue.where(ACTIVE, Boolean.TRUE).call(work::get);
    }

    /** Throws {@link WouldBlock} within {@link #call}; does nothing elsewhere. */
    public static void beforeBlocking() {
        if (ACTIVE.isBound()) {
            throw WOULD_BLOCK;
        }
    }

    /** Whether the current work runs within {@link #call}. */
    public static boolean active() {
        return ACTIVE.isBound();
    }
}
