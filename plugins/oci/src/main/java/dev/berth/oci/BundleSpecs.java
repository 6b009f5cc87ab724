package dev.berth.oci;

import dev.berth.spi.BackendException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/** The {@code config.json} of a bundle, as text, for {@link dev.berth.spi.SpecReading}. */
public final class BundleSpecs {
    private BundleSpecs() {}

    /** The bundle's {@code config.json}, or empty when it has none; INTERNAL naming {@code what} if unreadable. */
    public static Optional<String> read(Path bundle, String what) {
        try {
            return Optional.of(Files.readString(bundle.resolve("config.json")));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new BackendException(BackendException.Kind.INTERNAL, "failed to read the runtime spec of " + what
                    + ": " + e.getMessage());
        }
    }
}
