package dev.berth.core.cri.containerd02;

import dev.berth.spi.BackendException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/** The checks of the paths the containerd 0.2 API's requests carry: absolute, and paths at all. */
final class Paths {
    private Paths() {}

    static Path absolute(String value, String field) {
        if (value.isEmpty()) {
            throw BackendException.invalid(field + " must not be empty");
        }
        return Path.of(optional(value, field));
    }

    /** An optional absolute path: empty, or absolute and normal. */
    static String optional(String value, String field) {
        if (value.isEmpty()) {
            return "";
        }
        try {
            Path p = Path.of(value);
            if (!p.isAbsolute()) {
                throw BackendException.invalid(field + " must be an absolute path, got \"" + value + "\"");
            }
            return p.normalize().toString();
        } catch (InvalidPathException e) {
            throw BackendException.invalid(field + " is not a path: " + e.getMessage());
        }
    }
}
