package dev.berth.core.cri.containerd02;

import dev.berth.spi.BackendException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

/** Where a container's checkpoints are, as containerd 0.2 kept them: {@code <bundle>/checkpoints/<name>}. */
final class Checkpoints {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");

    private Checkpoints() {}

    static Path dir(BundleRecord rec) {
        return Path.of(rec.bundlePath()).resolve("checkpoints");
    }

    /** A checkpoint name: it becomes a directory name, so letters, digits, '_', '.' and '-', not starting with '.'. */
    static String name(String value) {
        if (value.isEmpty()) {
            throw BackendException.invalid("checkpoint name must not be empty");
        }
        if (!NAME.matcher(value).matches()) {
            throw BackendException.invalid("checkpoint name must be letters, digits, '_', '.' and '-' (at most 128, "
                    + "not starting with '.' or '-'), got \"" + value + "\"");
        }
        return value;
    }

    static List<String> list(BundleRecord rec) {
        Path d = dir(rec);
        if (!Files.isDirectory(d)) {
            return List.of();
        }
        try (var s = Files.list(d)) {
            return s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new BackendException(BackendException.Kind.INTERNAL, "cannot list checkpoints of container \""
                    + rec.id() + "\": " + e.getMessage());
        }
    }
}
