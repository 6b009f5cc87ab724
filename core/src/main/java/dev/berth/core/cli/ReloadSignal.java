package dev.berth.core.cli;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGHUP as berth's reload signal, also when berth was started with SIGHUP ignored (under {@code nohup}, or by a
 * supervisor that ignores it): the JVM then declines to handle the signal without saying so, and every reload
 * would be lost. In that case the disposition is reset to the default and the handler installed again, as Go's
 * {@code signal.Notify} does for containerd.
 */
final class ReloadSignal {
    private static final System.Logger LOG = System.getLogger(ReloadSignal.class.getName());
    private static final int SIGHUP = 1; // Linux

    private ReloadSignal() {}

    /** Runs {@code reload} (on a thread of its own) at each SIGHUP; false if SIGHUP cannot be handled. */
    static boolean handle(Runnable reload) {
        Signal hup = new Signal("HUP");
        SignalHandler handler = sig -> reload.run();
        if (Signal.handle(hup, handler) != SignalHandler.SIG_IGN) {
            return true;
        }
        try {
            resetToDefault(SIGHUP);
        } catch (Throwable e) {
            LOG.log(System.Logger.Level.WARNING, "SIGHUP is ignored by the process that started berth and cannot be "
                    + "reset ({0}): SIGHUP will not reload berth", e.toString());
            return false;
        }
        if (Signal.handle(hup, handler) == SignalHandler.SIG_IGN) {
            LOG.log(System.Logger.Level.WARNING, "SIGHUP is ignored by the process that started berth: SIGHUP will not "
                    + "reload berth");
            return false;
        }
        LOG.log(System.Logger.Level.INFO, "SIGHUP was ignored by the process that started berth (nohup?); berth "
                + "handles it again, for reloads");
        return true;
    }

    /** {@code signal(signo, SIG_DFL)} through libc. */
    private static void resetToDefault(int signo) throws Throwable {
        Linker linker = Linker.nativeLinker();
        MethodHandle signal = linker.downcallHandle(linker.defaultLookup().find("signal").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
        MemorySegment previous = (MemorySegment) signal.invokeExact(signo, MemorySegment.NULL); // SIG_DFL is 0
        if (previous.address() == -1L) { // SIG_ERR
            throw new IllegalStateException("signal(SIGHUP, SIG_DFL) failed");
        }
    }
}
