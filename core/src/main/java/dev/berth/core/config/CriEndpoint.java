package dev.berth.core.config;

import java.nio.file.Path;

/**
 * Where the daemon serves CRI: the {@code socket} key of the config, in the kubelet's own
 * {@code --container-runtime-endpoint} spelling.
 *
 * <ul>
 *   <li>{@code /run/berth/berth.sock} or {@code unix:///run/berth/berth.sock}: a unix socket (Linux; the default
 *       there), root only;</li>
 *   <li>{@code npipe:////./pipe/berth} (also {@code npipe://./pipe/berth}): a Windows named pipe on this machine,
 *       Administrators and SYSTEM only (the default on Windows);</li>
 *   <li>{@code tcp://:PORT} or {@code tcp://HOST:PORT}: plaintext gRPC over TCP, for older setups. Without a host it
 *       listens on loopback only; a host is used as given, and one that is not loopback is logged as a warning, as
 *       anyone who reaches the port has the whole CRI.</li>
 * </ul>
 */
public sealed interface CriEndpoint {
    /** The kubelet-style URL; for a unix socket the plain path, as before endpoints had schemes. */
    @Override
    String toString();

    record Unix(Path path) implements CriEndpoint {
        @Override
        public String toString() {
            return path.toString();
        }
    }

    /** @param pipe the Win32 name, {@code \\.\pipe\NAME} */
    record NamedPipe(String pipe) implements CriEndpoint {
        public static final String PREFIX = "\\\\.\\pipe\\";

        /** The name after {@code \\.\pipe\}. */
        public String name() {
            return pipe.substring(PREFIX.length());
        }

        @Override
        public String toString() {
            return "npipe:////./pipe/" + name().replace('\\', '/');
        }
    }

    /** @param host empty for loopback only */
    record Tcp(String host, int port) implements CriEndpoint {
        /** The host to bind: the given one, or the IPv4 loopback address. */
        public String bindHost() {
            return host.isEmpty() ? "127.0.0.1" : host;
        }

        @Override
        public String toString() {
            return "tcp://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }
    }

    /** Parses a {@code socket} value; IllegalArgumentException names what is wrong. */
    static CriEndpoint parse(String value) {
        String s = value.strip();
        int scheme = s.indexOf("://");
        if (scheme < 0) {
            return new Unix(Path.of(s));
        }
        String rest = s.substring(scheme + 3);
        return switch (s.substring(0, scheme)) {
            case "unix" -> {
                if (rest.isEmpty()) {
                    throw new IllegalArgumentException("unix:// needs a path, e.g. unix:///run/berth/berth.sock");
                }
                yield new Unix(Path.of(rest));
            }
            case "npipe" -> pipe(rest);
            case "tcp" -> tcp(rest);
            default -> throw new IllegalArgumentException("unknown scheme \"" + s.substring(0, scheme)
                    + "\": expected a path, unix://PATH, npipe:////./pipe/NAME or tcp://[HOST]:PORT");
        };
    }

    private static NamedPipe pipe(String rest) {
        String p = rest.replace('\\', '/');
        while (p.startsWith("/")) {
            p = p.substring(1);
        }
        if (!p.startsWith("./pipe/") || p.length() == "./pipe/".length()) {
            throw new IllegalArgumentException("a named pipe must be on this machine and name the pipe, e.g. "
                    + "npipe:////./pipe/berth");
        }
        return new NamedPipe(NamedPipe.PREFIX + p.substring("./pipe/".length()).replace('/', '\\'));
    }

    private static Tcp tcp(String rest) {
        int colon = rest.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("tcp:// needs a port, e.g. tcp://:10010 (loopback) or "
                    + "tcp://127.0.0.1:10010");
        }
        String host = rest.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(rest.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 0 || port > 65535 || host.contains("/")) {
            throw new IllegalArgumentException("expected tcp://[HOST]:PORT with a port from 0 to 65535");
        }
        return new Tcp(host, port);
    }
}
