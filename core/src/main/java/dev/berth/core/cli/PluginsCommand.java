package dev.berth.core.cli;

import dev.berth.core.config.ConfigLoader;
import dev.berth.core.dispatch.HandlerRegistry;
import dev.berth.core.plugin.PluginHost;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code berth plugins}: loaded plugins, their types and versions, the handlers, and each handler's health. */
@Command(name = "plugins", description = "List loaded plugins, the backend types they provide, the configured "
        + "handlers and each handler's health.")
final class PluginsCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;

    @Override
    public Integer call() throws Exception {
        ConfigLoader.Loaded loaded = config.load();
        Path dir = ConfigOption.pluginsDir(loaded);
        System.out.println("plugins directory: " + dir);
        try (PluginHost plugins = PluginHost.load(dir)) {
            for (var p : plugins.plugins()) {
                if (p.state().equals("failed")) {
                    System.out.println("  FAILED  " + p.path().getFileName() + ": " + p.error());
                } else {
                    System.out.println("  " + p.id() + " " + p.version() + "  types: " + String.join(", ", p.types())
                            + "  (" + p.path().getFileName() + ")" + (p.error().isEmpty() ? "" : "  " + p.error()));
                }
            }
            if (plugins.plugins().isEmpty()) {
                System.out.println("  (none)");
            }
            return printHandlers(loaded, plugins);
        }
    }

    /** Creates each handler in a scratch directory and prints its health; 1 if any is not ready. */
    static int printHandlers(ConfigLoader.Loaded loaded, PluginHost plugins) throws java.io.IOException {
        System.out.println("handlers (default: " + loaded.config().defaultRuntime() + "):");
        Path scratch = Files.createTempDirectory("berth-check");
        try (var registry = new HandlerRegistry(plugins.types(), scratch.resolve("state"), scratch.resolve("root"),
                e -> {})) {
            registry.apply(loaded);
            boolean allReady = true;
            for (var h : registry.active().values()) {
                var health = h.backend().health();
                allReady &= health.ready();
                System.out.println("  " + h.name() + "  type " + h.type() + " from " + h.pluginId() + " "
                        + h.pluginVersion() + "  " + (health.ready() ? "READY" : "NOT READY"));
                for (var c : health.checks()) {
                    System.out.println("      " + (c.ok() ? "OK   " : "FAIL ") + c.what()
                            + (c.ok() || c.advice().isEmpty() ? "" : " -> " + c.advice()));
                }
            }
            return allReady ? 0 : 1;
        } finally {
            deleteTree(scratch);
        }
    }

    static void deleteTree(Path p) throws java.io.IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (var s = Files.walk(p)) {
            for (Path q : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        }
    }
}
