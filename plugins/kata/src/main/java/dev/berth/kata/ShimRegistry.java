package dev.berth.kata;

import dev.berth.kata.proto.types.Mount;
import dev.berth.kata.shim.TaskClient;
import dev.berth.kata.ttrpc.TtrpcException;
import dev.berth.oci.Lookups;
import dev.berth.spi.MountSpec;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The handler's pods and containers by id, and the lookups every part of the backend shares. */
final class ShimRegistry {
    /** Deadline of calls the shim answers at once (State, Connect, CloseIO, ResizePty). */
    static final Duration QUICK = Duration.ofSeconds(10);
    /** Waiting with no deadline. */
    static final Duration FOREVER = Duration.ofDays(3650);

    final Map<String, Pod> pods = new ConcurrentHashMap<>();
    final Map<String, Container> containers = new ConcurrentHashMap<>();

    /** The pod, or NOT_FOUND. */
    Pod pod(String id) {
        return Lookups.require(pods, "sandbox", id);
    }

    /** The container, or NOT_FOUND. */
    Container container(String id) {
        return Lookups.require(containers, "container", id);
    }

    /** The pod's live connection; UNAVAILABLE (as a TtrpcException) when its shim is gone. */
    static TaskClient task(Pod pod, String action) throws TtrpcException {
        TaskClient t = pod.task;
        if (pod.lost != null) {
            throw new TtrpcException(TtrpcException.UNAVAILABLE, pod.lost);
        }
        if (t == null || !t.isOpen()) {
            pod.lost = "the shim exited or closed its connection";
            throw new TtrpcException(TtrpcException.UNAVAILABLE, pod.lost);
        }
        return t;
    }

    /** The task's root file system mounts as the shim takes them in Create. */
    static List<Mount> mounts(List<MountSpec> rootfs) {
        return rootfs.stream().map(m -> Mount.newBuilder().setType(m.type()).setSource(m.source())
                .setTarget(m.target()).addAllOptions(m.options()).build()).toList();
    }

    static String message(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }
}
