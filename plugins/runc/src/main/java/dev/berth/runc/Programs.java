package dev.berth.runc;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;

/** Finds the plugin's own helper programs. */
final class Programs {
    private Programs() {}

    /**
     * A helper program shipped in the plugin archive, {@code bin/<name>} beside its {@code classes}; PF4J does not
     * keep file modes when it unpacks, so it is made executable again here.
     */
    static Optional<Path> bundled(String name) {
        try {
            Path classes = Path.of(Programs.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path program = classes.getParent().resolve("bin").resolve(name);
            if (!Files.isRegularFile(program)) {
                return Optional.empty();
            }
            if (!Files.isExecutable(program)) {
                Files.setPosixFilePermissions(program,
                        PosixFilePermissions.fromString("rwxr-xr-x"));
            }
            return Optional.of(program);
        } catch (URISyntaxException | IOException | SecurityException | UnsupportedOperationException
                 | NullPointerException e) {
            return Optional.empty();
        }
    }
}
