package dev.berth.kata;

import dev.berth.kata.shim.CriLog;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Properties;

/** A container of a pod: its bundle, its log copier and berth's end of its stdin. */
final class Container {
    final String id;
    final String sandboxId;
    final Path bundle;
    final Properties props;
    volatile CriLog criLog;
    /** berth's write end of the container's stdin FIFO, held open so the process sees no EOF until it should. */
    volatile FileChannel stdin;
    volatile boolean oomKilled;
    /** When a failed exit was published without an OOM kill (its wait for one ended): a later OOM publishes again. */
    volatile Instant failedExitPublished;
    /** When berth first saw the container's shim gone: the exit time it reports from then on. */
    volatile Instant lostAt;
    /** The exit the shim reported (its event, or a State that found the task stopped), kept for after the shim. */
    volatile Exit exit;
    /** Set while a stop that sent the stop signal waits out its grace period: a later stop does not send it again. */
    final java.util.concurrent.atomic.AtomicBoolean signalled = new java.util.concurrent.atomic.AtomicBoolean();

    /** Set, under {@code props}' monitor, once the bundle is being deleted: nothing is written to it after that. */
    private boolean discarded;

    /**
     * Writes the properties to the bundle from outside the pod's lock (the shim's events), unless the container is
     * being removed: a write then could put a file back into the directory being deleted.
     */
    void record() throws java.io.IOException {
        synchronized (props) {
            if (!discarded) {
                BundleProperties.store(bundle, props);
            }
        }
    }

    /** From now on {@link #record} writes nothing; a write under way has ended when this returns. */
    void discard() {
        synchronized (props) {
            discarded = true;
        }
    }

    /** A process's exit status and time, as the shim reported them. */
    record Exit(int code, Instant at) {
        /** Puts this exit into a container's bundle properties, where {@link #stored} finds it again. */
        void putInto(Properties props) {
            props.setProperty("exitCode", Integer.toString(code));
            props.setProperty("exitedAt", at.toString());
        }

        /** The exit kept in a container's bundle properties, or null if none (or a damaged one) is there. */
        static Exit stored(Properties props) {
            String code = props.getProperty("exitCode");
            String at = props.getProperty("exitedAt");
            if (code == null || at == null) {
                return null;
            }
            try {
                return new Exit(Integer.parseInt(code), Instant.parse(at));
            } catch (RuntimeException e) {
                return null; // the shim is asked, as for a container without one
            }
        }
    }

    Container(String id, String sandboxId, Path bundle, Properties props) {
        this.id = id;
        this.sandboxId = sandboxId;
        this.bundle = bundle;
        this.props = props;
    }
}
