package dev.berth.hcs;

import dev.berth.hcs.handle.ComputeSystem;
import dev.berth.hcs.handle.HcsProcess;
import dev.berth.hcs.log.RelayRecord;
import dev.berth.hcs.schema.Documents;
import dev.berth.spi.ContainerStatus;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

/** A container as the backend knows it: its record, its handles, its log and the state CRI sees. */
final class Ctr {
    /** A container's record; {@code process} is its init's input, kept so that a recovered container can exec. */
    record CtrRecord(String id, String sandboxId, String scratch, Instant createdAt, Instant startedAt, int pid,
                     String logPath, Documents.ProcessInput process) {
        CtrRecord started(Instant at, int initPid) {
            return new CtrRecord(id, sandboxId, scratch, createdAt, at, initPid, logPath, process);
        }
    }

    final ReentrantLock lock = new ReentrantLock();
    volatile CtrRecord rec;
    volatile ComputeSystem system;
    volatile HcsProcess init;
    volatile ContainerStatus.State state = ContainerStatus.State.CREATED;
    volatile Instant startedAt;
    volatile Instant finishedAt;
    volatile int exitCode;
    volatile String reason = "";
    volatile String message = "";
    /** The container's log relay process, when one writes its log (found again after a restart). */
    volatile RelayRecord relay;
    final AtomicBoolean exitSeen = new AtomicBoolean();
    /** Set while a stop that sent CTRL_SHUTDOWN waits out its grace period: a later stop does not send it again. */
    final AtomicBoolean signalled = new AtomicBoolean();
    /** Counted down once {@code HcsInit.onExit} has recorded the exit (its file written, the state EXITED). */
    final java.util.concurrent.CountDownLatch exitRecorded = new java.util.concurrent.CountDownLatch(1);

    Ctr(CtrRecord rec) {
        this.rec = rec;
    }
}
