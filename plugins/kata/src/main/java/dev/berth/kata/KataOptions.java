package dev.berth.kata;

import dev.berth.spi.BackendException;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One kata handler's options ({@code [runtimes.NAME.options]}).
 *
 * @param shim the shim binary: a name looked up in PATH, or an absolute path
 * @param configPath the shim's own configuration (Kata's configuration.toml); empty = the shim's default search
 * @param createTimeout shim start plus task Create (VM handlers boot a VM here, so this is the long one)
 * @param startTimeout task Start
 * @param stopTimeout Kill, Delete and Shutdown calls, on top of the grace period the kubelet asks for
 * @param execTimeout Exec and Start of an exec process (not the command's own run time)
 * @param sandboxImage the sandbox image this handler wants instead of core's default; empty = core's
 * @param shimDebug start the shim with {@code -debug}
 */
public record KataOptions(String handler, String shim, String configPath, Duration createTimeout,
                          Duration startTimeout, Duration stopTimeout, Duration execTimeout, String sandboxImage,
                          boolean shimDebug) {

    public static final String DEFAULT_SHIM = "containerd-shim-kata-v2";
    private static final Set<String> KEYS = Set.of("shim", "config_path", "create_timeout", "start_timeout",
            "stop_timeout", "exec_timeout", "sandbox_image", "shim_debug");
    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)?");

    public static KataOptions parse(String handler, Map<String, Object> options) {
        for (String key : options.keySet()) {
            if (!KEYS.contains(key)) {
                throw BackendException.invalid("unknown option \"" + key + "\" for kata handler \"" + handler
                        + "\" (known: " + String.join(", ", KEYS.stream().sorted().toList()) + ")");
            }
        }
        String shim = text(handler, options, "shim", DEFAULT_SHIM);
        if (shim.isBlank()) {
            throw BackendException.invalid("invalid option \"shim\" for kata handler \"" + handler + "\": empty");
        }
        return new KataOptions(handler, shim, text(handler, options, "config_path", ""),
                duration(handler, options, "create_timeout", Duration.ofSeconds(60)),
                duration(handler, options, "start_timeout", Duration.ofSeconds(30)),
                duration(handler, options, "stop_timeout", Duration.ofSeconds(30)),
                duration(handler, options, "exec_timeout", Duration.ofSeconds(30)),
                text(handler, options, "sandbox_image", ""),
                bool(handler, options, "shim_debug"));
    }

    /** Whether the shim is Kata's own (so /dev/kvm and vhost-vsock matter). */
    public boolean isKataShim() {
        return shim.contains("kata");
    }

    private static String text(String handler, Map<String, Object> o, String key, String dflt) {
        Object v = o.get(key);
        if (v == null) {
            return dflt;
        }
        if (!(v instanceof String s)) {
            throw bad(handler, key, "must be a string, not " + v);
        }
        return s;
    }

    private static boolean bool(String handler, Map<String, Object> o, String key) {
        Object v = o.get(key);
        if (v == null) {
            return false;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        if ("true".equals(v) || "false".equals(v)) {
            return Boolean.parseBoolean((String) v);
        }
        throw bad(handler, key, "must be true or false, not " + v);
    }

    /** A number of seconds, or a string such as {@code "90s"}, {@code "2m"}, {@code "500ms"}. */
    static Duration duration(String handler, Map<String, Object> o, String key, Duration dflt) {
        Object v = o.get(key);
        if (v == null) {
            return dflt;
        }
        Duration d;
        if (v instanceof Number n) {
            d = Duration.ofMillis(Math.round(n.doubleValue() * 1000));
        } else {
            Matcher m = DURATION.matcher(String.valueOf(v).trim());
            if (!m.matches()) {
                throw bad(handler, key, "\"" + v + "\" is not a duration like 90s, 2m or 500ms");
            }
            long n = Long.parseLong(m.group(1));
            String unit = m.group(2) == null ? "s" : m.group(2);
            d = switch (unit) {
                case "ms" -> Duration.ofMillis(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofSeconds(n);
            };
        }
        if (d.isNegative() || d.isZero()) {
            throw bad(handler, key, "must be positive");
        }
        return d;
    }

    private static BackendException bad(String handler, String key, String why) {
        return BackendException.invalid("invalid option \"" + key + "\" for kata handler \"" + handler + "\": " + why);
    }
}
