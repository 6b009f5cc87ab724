package dev.berth.core.plugin;

import dev.berth.spi.RuntimeBackendFactory;

/** A backend type provided by a loaded plugin (or built into core, for tests). */
public record BackendType(String type, String pluginId, String pluginVersion, RuntimeBackendFactory factory,
                          ClassLoader classLoader) {}
