package dev.berth.hcs.log;

import dev.berth.hcs.bind.Bindings;
import dev.berth.hcs.handle.ComputeSystem;
import dev.berth.hcs.handle.HcsProcess;
import java.io.BufferedReader;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The log relay as a process of its own, started by the backend for each container ({@link LogRelayLauncher}):
 *
 * <pre>
 * LogRelayMain --log FILE --exit-file FILE --control SOCKET [--diagnostics FILE] --stdout SRC --stderr SRC --exit SRC
 * </pre>
 *
 * <p>A stream source is {@code handle:N} (on Windows: the host end of an HCS stdio pipe that berth duplicated into
 * this process, read with {@code ReadFile}), {@code handle:-} (the same, but the value comes on stdin: berth
 * duplicates the handles after it created this process, and writes one line {@code <stdout> <stderr>}, 0 for none),
 * {@code file:PATH} (a file or FIFO, read until its end) or {@code none}. {@code --diagnostics} appends this
 * process's own messages to a file, for a relay started without stdout and stderr. The exit source
 * is {@code hcs:SYSTEM-ID:PID} (on Windows: the init process opened by id and pid, its ProcessExited awaited) or
 * {@code file:PATH} (one line with the exit code, e.g. from a FIFO). The exit code of this process is 0 once the
 * exit file is written, 1 on a failure (its message on stderr), 2 on bad arguments.
 */
public final class LogRelayMain {
    private LogRelayMain() {}

    public static void main(String[] args) {
        Map<String, String> a = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            a.put(args[i], args[i + 1]);
        }
        for (String k : List.of("--exit-file", "--control", "--stdout", "--stderr", "--exit")) {
            if (!a.containsKey(k)) {
                System.err.println("log-relay: " + k + " is required");
                System.exit(2);
            }
        }
        if (a.containsKey("--diagnostics")) {
            try {
                System.setErr(new java.io.PrintStream(new java.io.FileOutputStream(a.get("--diagnostics"), true),
                        true, StandardCharsets.UTF_8));
            } catch (java.io.IOException e) {
                // keep the inherited stderr
            }
        }
        try {
            String log = a.getOrDefault("--log", "");
            LogRelay relay = new LogRelay(log.isEmpty() ? null : Path.of(log), Path.of(a.get("--exit-file")),
                    Path.of(a.get("--control")), Clock.systemUTC());
            long[] given = a.get("--stdout").equals("handle:-") || a.get("--stderr").equals("handle:-")
                    ? handedOver(System.in) : null;
            relay.run(stream(a.get("--stdout"), given == null ? 0 : given[0]),
                    stream(a.get("--stderr"), given == null ? 0 : given[1]), exit(a.get("--exit")));
            System.exit(0);
        } catch (Exception e) {
            System.err.println("log-relay: " + e);
            System.exit(1);
        }
    }

    /** The line berth writes on stdin after it duplicated the pipe handles into this process. */
    static long[] handedOver(InputStream in) throws java.io.IOException {
        String line = new BufferedReader(new java.io.InputStreamReader(in, StandardCharsets.UTF_8)).readLine();
        if (line == null) {
            throw new java.io.EOFException("no pipe handles on stdin: berth did not hand them over");
        }
        String[] parts = line.strip().split(" ");
        return new long[] {Long.parseLong(parts[0]), Long.parseLong(parts[1])};
    }

    static InputStream stream(String source, long given) throws Exception {
        if (source.equals("none") || source.equals("handle:-") && given == 0) {
            return InputStream.nullInputStream();
        }
        if (source.equals("handle:-")) {
            return hostBindings().hcs().readPipe(given);
        }
        if (source.startsWith("file:")) {
            return Files.newInputStream(Path.of(source.substring(5)));
        }
        if (source.startsWith("handle:")) {
            return hostBindings().hcs().readPipe(Long.parseLong(source.substring(7)));
        }
        throw new IllegalArgumentException("not a stream source: " + source);
    }

    static Callable<Integer> exit(String source) {
        if (source.startsWith("file:")) {
            Path p = Path.of(source.substring(5));
            return () -> {
                try (BufferedReader r = Files.newBufferedReader(p, StandardCharsets.UTF_8)) {
                    String line = r.readLine();
                    return line == null ? -1 : Integer.parseInt(line.strip());
                }
            };
        }
        if (source.startsWith("hcs:")) {
            String[] parts = source.substring(4).split(":");
            return () -> {
                try (ComputeSystem system = ComputeSystem.open(hostBindings().hcs(), parts[0]);
                     HcsProcess init = system.openProcess(Integer.parseInt(parts[1]))) {
                    return init.exitCode().get();
                }
            };
        }
        throw new IllegalArgumentException("not an exit source: " + source);
    }

    private static Bindings hostBindings() {
        Bindings b = Bindings.forHost();
        if (!b.available()) {
            throw new IllegalStateException(b.unavailable());
        }
        return b;
    }
}
