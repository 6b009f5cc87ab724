package dev.berth.core.cli;

import dev.berth.core.Daemon;
import dev.berth.core.config.ConfigException;
import dev.berth.core.config.ConfigLoader;
import dev.berth.core.environment.Node;
import dev.berth.core.metrics.Metrics;
import dev.berth.core.plugin.PluginHost;
import dev.berth.core.systemd.SystemdNotify;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code berth daemon}: serve CRI on the configured socket until SIGTERM or SIGINT. SIGHUP rescans the plugins
 * directory and reloads the handler table from the same config files; a bad reload is logged and the running table
 * stays. Under systemd
 * ({@code Type=notify}) it reports READY once it serves, RELOADING around a reload and STOPPING on shutdown.
 */
@Command(name = "daemon", description = "Run the CRI daemon.")
final class DaemonCommand implements Callable<Integer> {
    private static final System.Logger LOG = System.getLogger(DaemonCommand.class.getName());

    @Mixin
    ConfigOption config;

    /**
     * Start, answer the calls a kubelet makes first, then shut down: the training run that builds the image's AOT
     * cache, so that the cache also holds what serving the first calls needs.
     */
    @picocli.CommandLine.Option(names = "--exit-after-start", hidden = true)
    boolean exitAfterStart;

    /** Overrides the config's {@code log_format}. */
    @picocli.CommandLine.Option(names = "--log-format", paramLabel = "FORMAT",
            description = "Log lines on stderr: text or json (one JSON object per line); overrides log_format.")
    String logFormat;

    /**
     * The command for {@code daemon} followed only by {@code -c}/{@code --config FILE}, {@code --log-format FORMAT}
     * (each also as {@code --opt=value}) and {@code --exit-after-start}, each at most once, without picocli; null
     * for anything else, which picocli then parses (and explains, if it is wrong).
     */
    static DaemonCommand fromPlainArgs(String... args) {
        DaemonCommand d = new DaemonCommand();
        d.config = new ConfigOption();
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            int eq = a.indexOf('=');
            boolean inline = a.startsWith("--") && eq > 0;
            String name = inline ? a.substring(0, eq) : a;
            String value = inline ? a.substring(eq + 1)
                    : i + 1 < args.length && !args[i + 1].startsWith("-") ? args[i + 1] : null;
            switch (name) {
                case "-c", "--config" -> {
                    if (value == null || value.isEmpty() || d.config.file != null) {
                        return null;
                    }
                    try {
                        d.config.file = java.nio.file.Path.of(value);
                    } catch (java.nio.file.InvalidPathException e) {
                        return null;
                    }
                }
                case "--log-format" -> {
                    if (value == null || d.logFormat != null) {
                        return null;
                    }
                    d.logFormat = value;
                }
                case "--exit-after-start" -> {
                    if (inline || d.exitAfterStart) {
                        return null;
                    }
                    d.exitAfterStart = true;
                    continue;
                }
                default -> {
                    return null;
                }
            }
            if (!inline) {
                i++;
            }
        }
        return d;
    }

    @Override
    public Integer call() throws Exception {
        StartPhases phases = new StartPhases();
        ConfigLoader.Loaded loaded = config.load();
        if (logFormat != null && !logFormat.equals("text") && !logFormat.equals("json")) {
            throw new ConfigException("--log-format: expected text or json, got \"" + logFormat + "\"");
        }
        Logging.configure(loaded.config().logLevel(), logFormat != null ? logFormat : loaded.config().logFormat());
        // Before anything reads or writes them: refuse directories a newer berth wrote (a downgrade). The root holds
        // images, content and network state across reboots; the state holds the records of running pods.
        dev.berth.core.store.StateFormat.check(loaded.config().root());
        dev.berth.core.store.StateFormat.check(loaded.config().state());
        phases.step("config");
        // The daemon's plugin copies live in its state directory; SIGHUP rescans the plugins directory.
        PluginHost plugins = PluginHost.load(ConfigOption.pluginsDir(loaded),
                loaded.config().state().resolve("plugins"));
        phases.step("plugins");
        Metrics metrics = Metrics.fromConfig(loaded.config().metrics());
        Node node = Node.fromConfig(loaded.config(), metrics);
        phases.step("node (images, network)");
        Daemon daemon = Daemon.create(loaded, plugins, node, metrics);
        phases.step("handlers and recovery");
        daemon.tracing(dev.berth.core.tracing.Tracing.start(loaded.config().tracing(), System.getenv()));
        if (!exitAfterStart) {
            daemon.warmUp(loaded.config().warmUpRounds());
        }
        daemon.serve(loaded.config().socket());
        daemon.serveLegacy();
        phases.step("serving");
        LOG.log(System.Logger.Level.INFO, phases.summary());
        SystemdNotify systemd = SystemdNotify.fromEnvironment();
        if (exitAfterStart) {
            if (loaded.config().socket() instanceof dev.berth.core.config.CriEndpoint.Unix u) {
                TrainingCalls.run(u.path());
            }
            daemon.close();
            plugins.close();
            return 0;
        }
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(() -> {
            LOG.log(System.Logger.Level.INFO, "shutting down; containers keep running");
            systemd.stopping();
            systemd.close();
            daemon.close();
            plugins.close();
        }));
        ReloadSignal.handle(() -> {
            systemd.reloading();
            try {
                daemon.reload(config.load());
            } catch (ConfigException | dev.berth.spi.BackendException e) {
                LOG.log(System.Logger.Level.ERROR, "reload failed, keeping the running handlers: {0}", e.getMessage());
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "reload failed, keeping the running handlers", e);
            } finally {
                systemd.ready(serving(loaded));
            }
        });
        // Only now: a unit of Type=notify counts berth as started once it serves and handles signals.
        systemd.ready(serving(loaded));
        daemon.awaitTermination();
        return 0;
    }

    private static String serving(ConfigLoader.Loaded loaded) {
        return "serving CRI on " + loaded.config().socket();
    }
}
