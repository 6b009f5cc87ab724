package dev.berth.oci;

import dev.berth.spi.BackendException;
import java.util.Map;

/** Finding what a plugin keeps by id, the way every call that names an unknown id fails. */
public final class Lookups {
    private Lookups() {}

    /** The {@code kind} ({@code sandbox}, {@code container}) with {@code id} in {@code byId}, or NOT_FOUND. */
    public static <V> V require(Map<String, V> byId, String kind, String id) {
        V v = byId.get(id);
        if (v == null) {
            throw BackendException.notFound(kind, id);
        }
        return v;
    }
}
