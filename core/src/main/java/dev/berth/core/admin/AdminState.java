package dev.berth.core.admin;

import dev.berth.core.dispatch.HandlerHealth;
import dev.berth.core.dispatch.HandlerRegistry;
import dev.berth.core.plugin.PluginHost;
import java.nio.file.Path;

/**
 * What the admin RPCs read and change: the plugin host, the handler table with its drains, and the cached
 * handler health.
 *
 * @param pluginsDir the plugins directory as configured, for display; null when plugins are built in
 */
public record AdminState(PluginHost plugins, Path pluginsDir, HandlerRegistry registry, HandlerHealth health) {}
