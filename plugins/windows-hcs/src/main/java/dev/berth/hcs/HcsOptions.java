package dev.berth.hcs;

import dev.berth.spi.BackendException;
import java.time.Duration;
import java.util.Map;
import java.util.Set;

/**
 * A windows-hcs handler's options ({@code [runtimes.NAME.options]}).
 *
 * @param sandboxImage the pod's holder image instead of core's default (a Windows pause image), or empty
 * @param isolation {@code process} (the default) or {@code hyperv}
 * @param operationTimeout the longest berth waits for one HCS operation (create, start, properties)
 * @param shutdownTimeout how long a compute system gets to shut down before it is terminated
 */
public record HcsOptions(String sandboxImage, String isolation, Duration operationTimeout, Duration shutdownTimeout) {
    static final Set<String> KEYS = Set.of("sandbox_image", "isolation", "operation_timeout_seconds",
            "shutdown_timeout_seconds");

    public static final HcsOptions DEFAULTS = new HcsOptions("", "process", Duration.ofMinutes(4),
            Duration.ofSeconds(30));

    public static HcsOptions parse(String handler, Map<String, Object> options) {
        for (String k : options.keySet()) {
            if (!KEYS.contains(k)) {
                throw BackendException.invalid("handler \"" + handler + "\": unknown option \"" + k
                        + "\" for type windows-hcs (known: " + String.join(", ", KEYS.stream().sorted().toList())
                        + ")");
            }
        }
        String image = string(handler, options, "sandbox_image", DEFAULTS.sandboxImage());
        String isolation = string(handler, options, "isolation", DEFAULTS.isolation());
        if (!isolation.equals("process") && !isolation.equals("hyperv")) {
            throw BackendException.invalid("handler \"" + handler + "\": option \"isolation\" must be \"process\" or "
                    + "\"hyperv\", not \"" + isolation + "\"");
        }
        return new HcsOptions(image, isolation,
                seconds(handler, options, "operation_timeout_seconds", DEFAULTS.operationTimeout()),
                seconds(handler, options, "shutdown_timeout_seconds", DEFAULTS.shutdownTimeout()));
    }

    private static String string(String handler, Map<String, Object> options, String key, String dflt) {
        Object v = options.get(key);
        if (v == null) {
            return dflt;
        }
        if (!(v instanceof String s)) {
            throw BackendException.invalid("handler \"" + handler + "\": option \"" + key + "\" must be a string");
        }
        return s;
    }

    private static Duration seconds(String handler, Map<String, Object> options, String key, Duration dflt) {
        Object v = options.get(key);
        if (v == null) {
            return dflt;
        }
        if (!(v instanceof Number n) || n.longValue() <= 0) {
            throw BackendException.invalid("handler \"" + handler + "\": option \"" + key
                    + "\" must be a positive number of seconds");
        }
        return Duration.ofSeconds(n.longValue());
    }
}
