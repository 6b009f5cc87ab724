package dev.berth.core.network;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

/**
 * Runs one CNI plugin executable the way the spec says: parameters in {@code CNI_*} environment variables, the
 * network config on stdin, the result (or an error object) on stdout. A plugin that runs longer than the timeout is
 * killed, with its descendants.
 */
final class CniPluginExecutor {
    private static final System.Logger LOG = System.getLogger(CniPluginExecutor.class.getName());

    private static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private final List<Path> binDirs;
    private final Duration timeout;

    CniPluginExecutor(List<Path> binDirs, Duration timeout) {
        this.binDirs = List.copyOf(binDirs);
        this.timeout = timeout;
    }

    /** The plugin executable for {@code type}: the first regular executable file of that name in the bin dirs. */
    Optional<Path> find(String type) {
        for (Path dir : binDirs) {
            Path candidate = dir.resolve(type);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    String binPath() {
        return binDirs.stream().map(Path::toString).collect(Collectors.joining(":"));
    }

    /**
     * Runs plugin {@code type} with the given CNI environment and stdin. Returns its stdout (empty for DEL, CHECK and
     * STATUS on success).
     */
    byte[] exec(String type, String command, Map<String, String> cniEnv, byte[] stdin) throws CniPluginException {
        Path executable = find(type).orElseThrow(() -> new CniPluginException(type, command,
                "failed to find plugin \"" + type + "\" in path [" + binPath() + "]", -1, false));
        for (var e : cniEnv.entrySet()) {
            // ProcessBuilder refuses a NUL in the environment with an IllegalArgumentException; report it as the
            // plugin failure it amounts to, so that setup rolls back and teardown knows the plugin never ran.
            if (e.getKey().indexOf('\0') >= 0 || e.getValue().indexOf('\0') >= 0) {
                throw new CniPluginException(type, command, "the value of " + e.getKey()
                        + " contains a NUL byte, which a process environment cannot carry; the plugin was not run",
                        -1, false);
            }
        }
        ProcessBuilder builder = new ProcessBuilder(executable.toString());
        Map<String, String> env = builder.environment();
        env.keySet().removeIf(k -> k.startsWith("CNI_"));
        // Plugins run iptables, ip6tables, tc and the like from PATH.
        env.merge("PATH", DEFAULT_PATH, (current, fallback) -> current.isBlank() ? fallback : current);
        env.putAll(cniEnv);
        env.put("CNI_COMMAND", command);
        env.put("CNI_PATH", binPath());
        builder.redirectErrorStream(false);
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new CniPluginException(type, command, "failed to run plugin " + executable + ": " + e.getMessage(),
                    -1, false);
        }
        CompletableFuture<byte[]> stdout = readAsync(process.getInputStream());
        CompletableFuture<byte[]> stderr = readAsync(process.getErrorStream());
        // Written from another thread: a plugin that hangs without reading must not block us past the timeout.
        Thread.ofVirtual().name("cni-plugin-input").start(() -> {
            try (OutputStream in = process.getOutputStream()) {
                in.write(stdin);
            } catch (IOException e) {
                // A plugin may exit without reading stdin; its exit status tells what happened.
            }
        });
        boolean exited;
        try {
            exited = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            kill(process);
            Thread.currentThread().interrupt();
            throw new CniPluginException(type, command, "interrupted", -1, false);
        }
        if (!exited) {
            kill(process);
            throw new CniPluginException(type, command, "timed out after " + timeout.toMillis() + " ms", -1, true);
        }
        byte[] out = await(stdout);
        byte[] err = await(stderr);
        if (err.length > 0) {
            LOG.log(System.Logger.Level.DEBUG, "CNI plugin {0} {1} stderr: {2}", type, command,
                    new String(err, StandardCharsets.UTF_8).strip());
        }
        int exit = process.exitValue();
        if (exit != 0) {
            throw errorFrom(type, command, exit, out, err);
        }
        return out;
    }

    private static CniPluginException errorFrom(String type, String command, int exit, byte[] out, byte[] err) {
        String message = null;
        int code = -1;
        try {
            JsonNode error = CniConfig.JSON.readTree(out);
            if (error != null && error.isObject() && (error.has("msg") || error.has("code"))) {
                code = error.path("code").asInt(-1);
                message = error.path("msg").asText("");
                String details = error.path("details").asText("");
                if (!details.isEmpty()) {
                    message = message.isEmpty() ? details : message + ": " + details;
                }
                if (message.isEmpty()) {
                    message = "error code " + code;
                }
            }
        } catch (IOException e) {
            // not JSON; fall back to the raw output below
        }
        if (message == null) {
            String text = new String(err, StandardCharsets.UTF_8).strip();
            if (text.isEmpty()) {
                text = new String(out, StandardCharsets.UTF_8).strip();
            }
            message = text.isEmpty() ? "exit status " + exit : text;
        }
        return new CniPluginException(type, command, message, code, false);
    }

    private static CompletableFuture<byte[]> readAsync(InputStream stream) {
        CompletableFuture<byte[]> result = new CompletableFuture<>();
        Thread.ofVirtual().name("cni-plugin-output").start(() -> {
            try (stream) {
                result.complete(stream.readAllBytes());
            } catch (IOException e) {
                result.complete(new byte[0]);
            }
        });
        return result;
    }

    private static byte[] await(CompletableFuture<byte[]> output) {
        try {
            // The plugin has exited; its output pipe closes unless it left a child holding it.
            return output.get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new byte[0];
        } catch (ExecutionException | TimeoutException e) {
            return new byte[0];
        }
    }

    private static void kill(Process process) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A plugin failed, could not be run, or timed out. */
    static final class CniPluginException extends Exception {
        private static final long serialVersionUID = 1L;
        private final String type;
        private final String command;
        private final String pluginMessage;
        private final int code;
        private final boolean timedOut;

        CniPluginException(String type, String command, String pluginMessage, int code, boolean timedOut) {
            super("plugin type=\"" + type + "\" failed (" + command.toLowerCase(java.util.Locale.ROOT) + "): "
                    + pluginMessage, null, false, false);
            this.type = type;
            this.command = command;
            this.pluginMessage = pluginMessage;
            this.code = code;
            this.timedOut = timedOut;
        }

        String type() {
            return type;
        }

        String command() {
            return command;
        }

        /** The plugin's own message ({@code msg: details}), or the runner's description of the failure. */
        String pluginMessage() {
            return pluginMessage;
        }

        /** The CNI error code, or -1 when the plugin printed none. */
        int code() {
            return code;
        }

        boolean timedOut() {
            return timedOut;
        }
    }
}
