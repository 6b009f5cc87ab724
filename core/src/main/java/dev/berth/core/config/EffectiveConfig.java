package dev.berth.core.config;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The effective config (built-in defaults, the file and its drop-ins merged) as a tree of maps, lists and scalars
 * under the TOML file's own names: {@code berth config} prints it as TOML, and a verbose Status ({@code crictl
 * info}) carries it as JSON, so that an operator reads one set of names in both.
 */
public final class EffectiveConfig {
    private EffectiveConfig() {
    }

    /** The config as the names of its TOML file: what {@code berth config} prints. */
    public static Map<String, Object> toMap(BerthConfig c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("socket", c.socket().toString());
        m.put("root", c.root().toString());
        m.put("state", c.state().toString());
        m.put("default_runtime", c.defaultRuntime());
        m.put("log_level", c.logLevel());
        m.put("log_format", c.logFormat());
        m.put("warm_up_rounds", c.warmUpRounds());
        m.put("cdi_spec_dirs", c.cdiSpecDirs().stream().map(Path::toString).toList());
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
        m.put("images", ordered(
                "registry_config_path", c.images().registryConfigPath().toString(),
                "sandbox_image", c.images().sandboxImage(),
                "max_concurrent_downloads", c.images().maxConcurrentDownloads(),
                "pull_progress_timeout", c.images().pullProgressTimeout().toSeconds() + "s"));
        m.put("network", ordered(
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
        m.put("metrics", ordered("address", c.metrics().address()));
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("endpoint", c.tracing().endpoint());
        if (c.tracing().samplingRatio() != null) {
            t.put("sampling_ratio", c.tracing().samplingRatio());
        }
        t.put("service_name", c.tracing().serviceName());
        m.put("tracing", t);
        if (c.legacy().containerdApiSocket() != null) {
            m.put("legacy", ordered("containerd_api_socket", c.legacy().containerdApiSocket().toString(),
                    "containerd_api_handler", c.legacy().containerdApiHandler()));
        }
        return m;
    }

    /** A table whose keys keep the order written here, as the TOML file's sections read. */
    private static Map<String, Object> ordered(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }
}
