package dev.berth.kata.shim;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.berth.oci.ProcessRunner;
import dev.berth.oci.spec.OciJson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Starts and cleans up shim v2 processes with the legacy command-line protocol that Kata's shim and
 * containerd 1.6/1.7 shims speak:
 * {@code <shim> -namespace <ns> -address <addr> -id <id> start}, run in the bundle directory, prints the ttrpc
 * address and leaves a daemon serving it; {@code ... -bundle <dir> delete} cleans up after a dead shim.
 *
 * <p>{@code -address} is normally containerd's own socket; shims only hash it (with namespace and id) into
 * their socket name under /run/containerd/s, so berth passes a path of its own and never meets a real
 * containerd's shims. Events go to {@code TTRPC_ADDRESS}, berth's events server. {@code -publish-binary} is not
 * passed: v2 shims publish over ttrpc and never exec it.
 */
public final class ShimLauncher {
    public static final String NAMESPACE = "berth";

    private final String shim;
    private final String address;
    private final Path eventsSocket;
    private final boolean debug;

    public ShimLauncher(String shim, String address, Path eventsSocket, boolean debug) {
        this.shim = shim;
        this.address = address;
        this.eventsSocket = eventsSocket;
        this.debug = debug;
    }

    public String shim() {
        return shim;
    }

    private List<String> base(String id) {
        List<String> cmd = new ArrayList<>(List.of(shim, "-namespace", NAMESPACE, "-address", address));
        if (debug) {
            cmd.add("-debug");
        }
        cmd.addAll(List.of("-id", id));
        return cmd;
    }

    private Map<String, String> env() {
        return Map.of("TTRPC_ADDRESS", eventsSocket.toString(), "NAMESPACE", NAMESPACE, "MAX_SHIM_VERSION", "2");
    }

    /**
     * Runs {@code start} in {@code bundle} (whose directory name must be {@code id}); returns the socket path.
     * The bundle's {@code log} FIFO must exist and have a reader.
     */
    public Path start(String id, Path bundle, Duration timeout) throws IOException {
        List<String> cmd = base(id);
        cmd.add("start");
        ProcessRunner.Result r = ProcessRunner.runDaemonizing(cmd, bundle, env(), timeout);
        if (r.timedOut()) {
            throw new IOException(shim + " start did not finish within " + timeout.toSeconds() + "s");
        }
        if (r.exitCode() != 0) {
            throw new IOException(shim + " start exited with " + r.exitCode() + ": " + r.errorText());
        }
        return socketOf(r.stdout());
    }

    /**
     * Runs {@code delete} in {@code bundle}: the shim's own cleanup of a task whose shim is gone. Throws when it
     * does not finish in time; its exit code is the caller's to judge.
     */
    public ProcessRunner.Result delete(String id, Path bundle, Duration timeout) throws IOException {
        List<String> cmd = base(id);
        cmd.addAll(List.of("-bundle", bundle.toString(), "delete"));
        ProcessRunner.Result r = ProcessRunner.runDaemonizing(cmd, bundle, env(), timeout);
        if (r.timedOut()) {
            throw new IOException(shim + " delete did not finish within " + timeout.toSeconds() + "s");
        }
        return r;
    }

    /** The socket a pod's shim serves, from the {@code address} file the shim wrote into its bundle. */
    public static Path socketFromBundle(Path bundle) throws IOException {
        return socketOf(Files.readString(bundle.resolve("address"), StandardCharsets.UTF_8));
    }

    /**
     * Parses {@code start} output: a plain address ({@code unix:///run/...}) or JSON
     * {@code {"version":2,"address":"...","protocol":"ttrpc"}}.
     */
    public static Path socketOf(String output) throws IOException {
        String s = output.strip();
        if (s.startsWith("{")) {
            Object parsed;
            try {
                parsed = OciJson.mapper().readValue(s, Object.class);
            } catch (JsonProcessingException e) {
                throw new IOException("shim printed malformed JSON: " + s);
            }
            if (!(parsed instanceof Map<?, ?> m) || !(m.get("address") instanceof String a)) {
                throw new IOException("shim printed JSON without an address: " + s);
            }
            if (m.get("protocol") instanceof String p && !p.equals("ttrpc")) {
                throw new IOException("shim speaks " + p + ", berth speaks ttrpc only");
            }
            s = a;
        }
        for (String prefix : List.of("unix://", "ttrpc+unix://")) {
            if (s.startsWith(prefix)) {
                return Path.of(s.substring(prefix.length()));
            }
        }
        if (s.startsWith("/")) {
            return Path.of(s);
        }
        throw new IOException("shim printed no unix socket address: \"" + s + "\"");
    }
}
