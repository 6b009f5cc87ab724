package dev.berth.core.tck;

import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A handler's options as given on the tck's command line, {@code key=value}: the value is read as a TOML value
 * ({@code true}, {@code 30}, {@code ["a", "b"]}, {@code "quoted"}) and, when it is not one, taken as a string
 * ({@code binary=runc}). The backend gets what it would get from the same line in a config file.
 */
public final class HandlerOptions {
    private static final TomlMapper TOML = new TomlMapper();

    private final Map<String, Object> values = new LinkedHashMap<>();
    private final Map<String, String> toml = new LinkedHashMap<>();

    private HandlerOptions() {}

    public static HandlerOptions parse(Map<String, String> raw) {
        HandlerOptions o = new HandlerOptions();
        for (var e : raw.entrySet()) {
            String key = e.getKey().strip();
            if (!key.matches("[A-Za-z0-9_-]+")) {
                throw new IllegalArgumentException("option key \"" + key + "\" is not a bare TOML key");
            }
            String text = e.getValue().strip();
            Object value;
            String rendered;
            try {
                value = TOML.readValue("v = " + text, Map.class).get("v");
                rendered = text;
            } catch (Exception notToml) {
                value = e.getValue();
                rendered = quote(e.getValue());
            }
            o.values.put(key, value);
            o.toml.put(key, rendered);
        }
        return o;
    }

    /** The options as the backend's factory gets them. */
    public Map<String, Object> values() {
        return Map.copyOf(values);
    }

    /** {@code key = value} lines for a config's {@code [runtimes.NAME.options]} table. */
    public String tomlLines() {
        StringBuilder sb = new StringBuilder();
        toml.forEach((k, v) -> sb.append(k).append(" = ").append(v).append('\n'));
        return sb.toString();
    }

    /** A TOML basic string. */
    public static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x7f) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}
