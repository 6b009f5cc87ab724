package dev.berth.hcs;

import dev.berth.spi.BackendException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The pods and containers the backend knows, by id. */
final class HcsRegistry {
    final Map<String, Pod> pods = new ConcurrentHashMap<>();
    final Map<String, Ctr> containers = new ConcurrentHashMap<>();

    Pod pod(String id) {
        Pod p = pods.get(id);
        if (p == null) {
            throw BackendException.notFound("pod sandbox", id);
        }
        return p;
    }

    Ctr ctr(String id) {
        Ctr c = containers.get(id);
        if (c == null) {
            throw BackendException.notFound("container", id);
        }
        return c;
    }

    /** Closes berth's handles. The compute systems run on: HCS is never asked to end them when a handle closes. */
    void close() {
        for (Ctr c : containers.values()) {
            if (c.init != null) {
                c.init.close();
            }
            if (c.system != null) {
                c.system.close();
            }
        }
        for (Pod p : pods.values()) {
            if (p.hold != null) {
                p.hold.close();
            }
            if (p.system != null) {
                p.system.close();
            }
        }
    }
}
