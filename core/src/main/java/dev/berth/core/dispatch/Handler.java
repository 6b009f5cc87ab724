package dev.berth.core.dispatch;

import dev.berth.spi.RuntimeBackend;
import java.util.Map;

/**
 * One generation of a configured runtime handler with its live backend (already wrapped in a
 * {@link BackendProxy}). A reload that changes a handler's type or options makes a new generation with a new
 * backend and state directory; pods stay on the generation that created them (see {@link HandlerRegistry}).
 *
 * @param options the options this generation's backend was created with, kept to tell on reload whether the
 *     handler changed
 * @param generation 0 for the first backend of this handler name, one more for each change since
 */
public record Handler(String name, String type, String pluginId, String pluginVersion, Map<String, Object> options,
                      RuntimeBackend backend, int generation) {

    /** Generation 0 of a handler. */
    public Handler(String name, String type, String pluginId, String pluginVersion, Map<String, Object> options,
                   RuntimeBackend backend) {
        this(name, type, pluginId, pluginVersion, options, backend, 0);
    }

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

    /** The handler's name with its generation, for logs: {@code runc} for generation 0, else {@code runc@2}. */
    public String label() {
        return generation == 0 ? name : name + "@" + generation;
    }
}
