package dev.berth.core.config;

/**
 * A config error an operator must fix: its message names the file, the line when known, and the key, e.g.
 * {@code /etc/berth/config.toml:12: runtimes.kata.type: no plugin provides backend type "kata"}.
 */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
