package dev.berth.core.metrics;

import dev.berth.core.plugin.PluginHost;

/** Each plugin file berth found: 1 if it loaded and started, else 0 (the reason is in the log). */
public final class PluginGauges {
    private PluginGauges() {}

    public static void register(Metrics metrics, PluginHost plugins) {
        metrics.gauge("berth_plugin_up", "1 for each plugin that loaded and started, 0 for a plugin file that "
                + "failed to (then the plugin label is its file name).", cb -> {
                    for (PluginHost.PluginInfo p : plugins.plugins()) {
                        boolean up = p.state().equals("started");
                        String id = !p.id().isEmpty() ? p.id()
                                : p.path() == null ? "" : p.path().getFileName().toString();
                        cb.call(up ? 1 : 0, id, p.version());
                    }
                }, "plugin", "version");
    }
}
