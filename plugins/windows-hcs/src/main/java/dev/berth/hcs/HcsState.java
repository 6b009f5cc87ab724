package dev.berth.hcs;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.berth.hcs.log.StateFiles;
import dev.berth.spi.BackendContext;
import dev.berth.spi.BackendException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The backend's state directory: one small JSON record per pod ({@code pods/}) and container ({@code containers/}),
 * and a container's exit file and log relay record next to its record.
 */
final class HcsState {
    private static final ObjectMapper STATE = new ObjectMapper()
            .findAndRegisterModules()
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private final BackendContext context;

    HcsState(BackendContext context) {
        this.context = context;
    }

    Path file(String kind, String name) {
        return context.stateDir().resolve(kind).resolve(name);
    }

    void save(String kind, String id, Object rec) {
        try {
            Path f = file(kind, id + ".json");
            Files.createDirectories(f.getParent());
            StateFiles.write(f, STATE.writeValueAsBytes(rec));
        } catch (IOException e) {
            throw new BackendException(BackendException.Kind.UNAVAILABLE, "cannot write the state of \"" + id
                    + "\" under " + context.stateDir() + ": " + e.getMessage(), e);
        }
    }

    <T> T load(String kind, String id, Class<T> type) {
        Path f = file(kind, id + ".json");
        try {
            return Files.exists(f) ? STATE.readValue(f.toFile(), type) : null;
        } catch (IOException e) {
            context.logger().log(System.Logger.Level.WARNING, "cannot read " + f + ": " + e.getMessage());
            return null;
        }
    }

    void delete(String kind, String id) {
        try {
            Files.deleteIfExists(file(kind, id + ".json"));
            Files.deleteIfExists(file(kind, id + ".exit"));
            Files.deleteIfExists(file(kind, id + ".relay"));
            Files.deleteIfExists(file(kind, id + ".relay.log"));
        } catch (IOException e) {
            context.logger().log(System.Logger.Level.WARNING, "cannot delete the state of " + id + ": "
                    + e.getMessage());
        }
    }
}
