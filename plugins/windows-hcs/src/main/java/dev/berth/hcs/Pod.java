package dev.berth.hcs;

import dev.berth.hcs.handle.ComputeSystem;
import dev.berth.hcs.handle.HcsProcess;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/** A pod as the backend knows it: its record, and berth's handles of its holder system and process. */
final class Pod {
    /** What the backend keeps about a pod, in memory and (the record) on disk. */
    record PodRecord(String id, String namespace, boolean ownsNamespace, String scratch, Instant createdAt,
                     String hostname, List<String> dnsSearches, List<String> holdArgs) {}

    final ReentrantLock lock = new ReentrantLock();
    final PodRecord rec;
    volatile ComputeSystem system;
    volatile HcsProcess hold;
    volatile boolean ready;

    Pod(PodRecord rec) {
        this.rec = rec;
    }
}
