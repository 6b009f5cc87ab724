package dev.berth.core.store;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reserves unique names (pod and container name keys) so that two concurrent creates of the same pod fail
 * cleanly with ALREADY_EXISTS instead of racing.
 */
public final class NameIndex {
    private final Map<String, String> names = new ConcurrentHashMap<>();

    /** Reserves {@code name} for {@code id}; returns the id already holding it, or null on success. */
    public String reserve(String name, String id) {
        String prev = names.putIfAbsent(name, id);
        return prev == null || prev.equals(id) ? null : prev;
    }

    public void release(String name) {
        names.remove(name);
    }
}
