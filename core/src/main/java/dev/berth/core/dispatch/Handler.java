package dev.berth.core.dispatch;

import dev.berth.spi.RuntimeBackend;
import java.util.Map;

/**
 * A configured runtime handler with its live backend (already wrapped in a {@link BackendProxy}).
 *
 * @param options the handler's options, kept to tell on reload whether it changed
 */
public record Handler(String name, String type, String pluginId, String pluginVersion, Map<String, Object> options,
                      RuntimeBackend backend) {

    /** Whether the backend has optional capability {@code capability}. */
    public boolean has(Class<?> capability) {
        return capability.isInstance(backend);
    }

    /** The backend as {@code capability}, or UNIMPLEMENTED naming the handler and what it lacks. */
    public <T> T require(Class<T> capability, String what) {
        if (!capability.isInstance(backend)) {
            throw new dev.berth.spi.BackendException(dev.berth.spi.BackendException.Kind.UNIMPLEMENTED,
                    "runtime handler \"" + name + "\" (type " + type + ", plugin " + pluginId
                            + ") does not support " + what);
        }
        return capability.cast(backend);
    }
}
