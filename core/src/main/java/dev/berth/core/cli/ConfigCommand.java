package dev.berth.core.cli;

import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import dev.berth.core.config.BerthConfig;
import dev.berth.core.config.ConfigLoader;
import dev.berth.core.dispatch.HandlerRegistry;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code berth config} prints the effective config; {@code berth config validate} checks it. */
@Command(name = "config", description = "Print the effective config (defaults, file and drop-ins merged).",
        subcommands = ConfigCommand.Validate.class)
final class ConfigCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;

    @Override
    public Integer call() throws Exception {
        ConfigLoader.Loaded loaded = config.load();
        System.out.print("# files: " + (loaded.files().isEmpty() ? "none (built-in defaults)" : loaded.files()) + "\n");
        System.out.print(new TomlMapper().writeValueAsString(toMap(loaded.config())));
        return 0;
    }

    static Map<String, Object> toMap(BerthConfig c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("socket", c.socket().toString());
        m.put("root", c.root().toString());
        m.put("state", c.state().toString());
        m.put("default_runtime", c.defaultRuntime());
        m.put("log_level", c.logLevel());
        m.put("log_format", c.logFormat());
        m.put("warm_up_rounds", c.warmUpRounds());
        if (c.pluginsDir() != null) {
            m.put("plugins_dir", c.pluginsDir().toString());
        }
        Map<String, Object> runtimes = new LinkedHashMap<>();
        c.runtimes().forEach((name, h) -> {
            Map<String, Object> hm = new LinkedHashMap<>();
            hm.put("type", h.type());
            hm.put("options", h.options());
            runtimes.put(name, hm);
        });
        m.put("runtimes", runtimes);
        m.put("images", Map.of(
                "registry_config_path", c.images().registryConfigPath().toString(),
                "sandbox_image", c.images().sandboxImage(),
                "max_concurrent_downloads", c.images().maxConcurrentDownloads(),
                "pull_progress_timeout", c.images().pullProgressTimeout().toSeconds() + "s"));
        m.put("network", Map.of(
                "cni_conf_dir", c.network().cniConfDir().toString(),
                "cni_bin_dirs", c.network().cniBinDirs().stream().map(Path::toString).toList(),
                "plugin_timeout", c.network().pluginTimeout().toSeconds() + "s"));
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("address", c.streaming().address());
        s.put("port", c.streaming().port());
        if (c.streaming().tlsCert() != null) {
            s.put("tls_cert", c.streaming().tlsCert().toString());
            s.put("tls_key", String.valueOf(c.streaming().tlsKey()));
        }
        s.put("idle_timeout", c.streaming().idleTimeout().toSeconds() + "s");
        m.put("streaming", s);
        m.put("metrics", Map.of("address", c.metrics().address()));
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("endpoint", c.tracing().endpoint());
        if (c.tracing().samplingRatio() != null) {
            t.put("sampling_ratio", c.tracing().samplingRatio());
        }
        t.put("service_name", c.tracing().serviceName());
        m.put("tracing", t);
        if (c.legacy().containerdApiSocket() != null) {
            m.put("legacy", Map.of("containerd_api_socket", c.legacy().containerdApiSocket().toString(),
                    "containerd_api_handler", c.legacy().containerdApiHandler()));
        }
        return m;
    }

    @Command(name = "validate", description = "Check the config and that every handler's type is provided "
            + "by a plugin; exit 2 with the reason if not.")
    static final class Validate implements Callable<Integer> {
        @Mixin
        ConfigOption config;

        @Override
        public Integer call() {
            ConfigLoader.Loaded loaded = config.load();
            try (var plugins = ConfigOption.plugins(loaded)) {
                new HandlerRegistry(plugins.types(), Path.of("/nonexistent"), Path.of("/nonexistent"), e -> {})
                        .validateTypes(loaded);
            }
            System.out.println("config OK: " + loaded.config().runtimes().size() + " handler(s), default "
                    + loaded.config().defaultRuntime());
            return 0;
        }
    }
}
