package dev.berth.spi;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/** Validation helpers for the compact constructors of SPI records. */
final class Checks {
    private Checks() {}

    static String id(String value, String name) {
        Objects.requireNonNull(value, name + " is null");
        if (value.isBlank()) {
            throw new IllegalArgumentException(name + " is empty");
        }
        return value;
    }

    static String text(String value) {
        return value == null ? "" : value;
    }

    static <T> List<T> list(List<T> value) {
        return value == null ? List.of() : List.copyOf(value);
    }

    static <K, V> Map<K, V> map(Map<K, V> value) {
        return value == null ? Map.of() : Map.copyOf(value);
    }
}
