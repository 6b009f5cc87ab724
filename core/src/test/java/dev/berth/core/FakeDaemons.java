package dev.berth.core;

import dev.berth.core.config.ConfigLoader;
import dev.berth.core.environment.Node;
import dev.berth.core.plugin.PluginHost;
import dev.berth.spi.testing.FakeBackendFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Daemons over the fake backend for tests that serve on a real unix socket; state and root under a test's dir. */
final class FakeDaemons {
    private FakeDaemons() {
    }

    /**
     * Writes and loads {@code dir/config.toml}: state and root under {@code dir}, a default handler {@code fake}, and
     * {@code extraToml} (top-level keys, then tables of its own) before the handler's table.
     */
    static ConfigLoader.Loaded config(Path dir, String extraToml) throws IOException {
        Path file = dir.resolve("config.toml");
        Files.writeString(file, "state = \"" + dir.resolve("state") + "\"\nroot = \"" + dir.resolve("root")
                + "\"\ndefault_runtime = \"fake\"\n" + extraToml + "\n[runtimes.fake]\ntype = \"fake\"\n");
        return ConfigLoader.load(file, true);
    }

    /** A daemon from {@code loaded}, with the fake backend and no node (images, network). */
    static Daemon create(ConfigLoader.Loaded loaded) {
        return Daemon.create(loaded, PluginHost.of(List.of(new FakeBackendFactory())), Node.none());
    }
}
