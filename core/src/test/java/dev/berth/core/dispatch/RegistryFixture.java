package dev.berth.core.dispatch;

import dev.berth.core.config.ConfigLoader;
import dev.berth.core.plugin.BackendType;
import dev.berth.spi.BackendContext;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.RuntimeBackendFactory;
import dev.berth.spi.testing.FakeBackend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/** A {@link HandlerRegistry} over fake backends whose creation and closing are recorded, and configs for it. */
final class RegistryFixture {
    /** "create NAME" and "close NAME" for every fake backend, in order. */
    final List<String> log = new CopyOnWriteArrayList<>();
    final Path dir;
    final HandlerRegistry registry;

    RegistryFixture(Path dir) {
        this.dir = dir;
        this.registry = new HandlerRegistry(Map.of("fake", type()), dir.resolve("state"), dir.resolve("root"),
                event -> { });
    }

    BackendType type() {
        RuntimeBackendFactory factory = new RuntimeBackendFactory() {
            @Override
            public String type() {
                return "fake";
            }

            @Override
            public RuntimeBackend create(String handlerName, Map<String, Object> options, BackendContext context) {
                String label = handlerName + " " + options.getOrDefault("sandbox_image", "");
                log.add("create " + label.strip());
                return new FakeBackend(context, options) {
                    @Override
                    public void close() {
                        log.add("close " + label.strip());
                    }
                };
            }
        };
        return new BackendType("fake", "builtin", "1", factory, getClass().getClassLoader());
    }

    ConfigLoader.Loaded config(String toml) throws IOException {
        Path file = Files.createTempFile(dir, "config", ".toml");
        Files.writeString(file, "state = \"" + dir.resolve("state") + "\"\nroot = \"" + dir.resolve("root")
                + "\"\n" + toml);
        return ConfigLoader.load(file, true);
    }
}
