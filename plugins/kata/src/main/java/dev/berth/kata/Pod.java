package dev.berth.kata;

import dev.berth.kata.shim.FifoReader;
import dev.berth.kata.shim.TaskClient;
import java.nio.file.Path;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A pod: its bundle, its shim connection and what containers need to join it. {@link #lock} serialises lifecycle
 * changes of the pod and its containers (create, stop, remove); status, stats and exec run concurrently over the
 * shared connection.
 */
final class Pod {
    final String id;
    final Path bundle;
    final Properties props;
    final ReentrantLock lock = new ReentrantLock();
    final Set<String> containerIds = ConcurrentHashMap.newKeySet();
    volatile TaskClient task;
    volatile long shimPid;
    /** The shim's ttrpc socket, once known (from its start output, or the bundle's address file at recovery). */
    volatile Path address;
    /** Why the shim connection is gone, or null while it serves. */
    volatile String lost;
    volatile FifoReader shimLog;
    /** Set when berth starts deleting the pod: its shim's going away from then on is no news. */
    volatile boolean closing;
    /** Whether the end of the pod's sandbox task (or of its shim) was published: once per pod. */
    final java.util.concurrent.atomic.AtomicBoolean endPublished = new java.util.concurrent.atomic.AtomicBoolean();

    Pod(String id, Path bundle, Properties props) {
        this.id = id;
        this.bundle = bundle;
        this.props = props;
    }

    /** The pause process's pid, as the shim last reported it. */
    long pid() {
        return Long.parseLong(props.getProperty("pid", "0"));
    }
}
