package dev.berth.core.cli;

import dev.berth.admin.v1.ListHandlersRequest;
import dev.berth.admin.v1.ListHandlersResponse;
import dev.berth.admin.v1.ListPluginsRequest;
import dev.berth.admin.v1.ListPluginsResponse;
import dev.berth.core.config.ConfigLoader;
import dev.berth.core.dispatch.HandlerRegistry;
import dev.berth.core.plugin.PluginHost;
import dev.berth.core.util.FileTrees;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code berth plugins}: the plugins (id, version, SPI range, state, types), the handlers using each with their pod
 * counts, and each handler's health. Live from the running daemon's admin service; when no daemon answers, what a
 * start would load, with each handler created in a scratch directory to check its health.
 */
@Command(name = "plugins", description = "List loaded plugins, the backend types they provide, the configured "
        + "handlers and each handler's health.")
final class PluginsCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;

    @Override
    public Integer call() throws Exception {
        ConfigLoader.Loaded loaded = config.load();
        try (AdminClient daemon = AdminClient.connect(loaded.config().socket())) {
            if (daemon != null) {
                var plugins = daemon.call(st -> st.listPlugins(ListPluginsRequest.getDefaultInstance()));
                var handlers = daemon.call(st -> st.listHandlers(ListHandlersRequest.getDefaultInstance()));
                if (plugins != null && handlers != null) {
                    System.out.println("plugins directory: " + plugins.getPluginsDir() + "  (live from the daemon on "
                            + loaded.config().socket() + ")");
                    printLivePlugins(plugins);
                    return printLiveHandlers(handlers) ? 0 : 1;
                }
            }
        }
        Path dir = ConfigOption.pluginsDir(loaded);
        System.out.println("plugins directory: " + dir + "  (no daemon answers: what a start would load)");
        try (PluginHost plugins = PluginHost.load(dir)) {
            for (var p : plugins.plugins()) {
                if (p.state().equals("failed")) {
                    System.out.println("  FAILED  " + p.path().getFileName() + ": " + p.error());
                } else {
                    System.out.println("  " + p.id() + " " + p.version() + "  SPI " + spi(p.requires()) + "  "
                            + p.state() + "  types: " + String.join(", ", p.types()) + "  (" + p.path().getFileName()
                            + ")" + (p.error().isEmpty() ? "" : "  " + p.error()));
                }
            }
            if (plugins.plugins().isEmpty()) {
                System.out.println("  (none)");
            }
            return printHandlers(loaded, plugins);
        }
    }

    private static String spi(String requires) {
        return requires == null || requires.isEmpty() ? "*" : requires;
    }

    /** The daemon's plugins: id, version, SPI range, state, types, and the handler generations using each. */
    static void printLivePlugins(ListPluginsResponse r) {
        for (var p : r.getPluginsList()) {
            if (p.getState().equals("failed")) {
                System.out.println("  FAILED  " + p.getArchive() + ": " + p.getMessage());
                continue;
            }
            System.out.println("  " + p.getId() + " " + p.getVersion() + "  SPI " + spi(p.getRequires()) + "  "
                    + p.getState() + "  types: " + String.join(", ", p.getTypesList()) + "  (" + p.getArchive() + ")"
                    + (p.getMessage().isEmpty() ? "" : "  " + p.getMessage()));
            if (!p.getHandlersList().isEmpty()) {
                System.out.println("      handlers: " + p.getHandlersList().stream()
                        .map(h -> label(h.getName(), h.getGeneration()) + (h.getActive() ? "" : " (retired)") + " "
                                + h.getPods() + " pod" + (h.getPods() == 1 ? "" : "s"))
                        .collect(java.util.stream.Collectors.joining(", ")));
            }
        }
        if (r.getPluginsList().isEmpty()) {
            System.out.println("  (none)");
        }
    }

    /** The daemon's handler generations with pods, drain state and cached health; false if an active one is not ready. */
    static boolean printLiveHandlers(ListHandlersResponse r) {
        System.out.println("handlers (default: " + r.getDefaultHandler() + "):");
        boolean allReady = true;
        for (var h : r.getHandlersList()) {
            String head = "  " + label(h.getName(), h.getGeneration()) + "  type " + h.getType() + " from "
                    + h.getPluginId() + " " + h.getPluginVersion() + "  " + h.getPods() + " pod"
                    + (h.getPods() == 1 ? "" : "s");
            if (!h.getActive()) {
                System.out.println(head + "  RETIRED (serves its pods until they are removed)");
                continue;
            }
            allReady &= h.getReady();
            System.out.println(head + "  " + (h.getReady() ? "READY" : "NOT READY")
                    + (h.getDrained() ? "  DRAINED (new pods refused)" : ""));
            for (var c : h.getChecksList()) {
                System.out.println("      " + (c.getOk() ? "OK   " : "FAIL ") + c.getWhat()
                        + (c.getOk() || c.getAdvice().isEmpty() ? "" : " -> " + c.getAdvice()));
            }
        }
        return allReady;
    }

    private static String label(String name, int generation) {
        return generation == 0 ? name : name + "@" + generation;
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
            FileTrees.deleteTree(scratch);
        }
    }
}
