package dev.berth.core.network;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Helpers for tests that run real programs. */
final class CniTestSupport {
    static final Path SYSTEM_CNI_BIN = Path.of("/usr/lib/cni");

    private CniTestSupport() {}

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    static boolean realPluginsAvailable() {
        return isRoot() && Files.isExecutable(SYSTEM_CNI_BIN.resolve("bridge"))
                && Files.isExecutable(SYSTEM_CNI_BIN.resolve("host-local"))
                && Files.isExecutable(SYSTEM_CNI_BIN.resolve("portmap"));
    }

    /** A test resource with {@code @KEY@} placeholders replaced. */
    static String resource(String name, Map<String, String> replacements) throws IOException {
        try (InputStream in = CniTestSupport.class.getResourceAsStream("/network/" + name)) {
            if (in == null) {
                throw new IOException("missing test resource " + name);
            }
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            for (Map.Entry<String, String> e : replacements.entrySet()) {
                text = text.replace("@" + e.getKey() + "@", e.getValue());
            }
            return text;
        }
    }

    /** Installs a test resource as an executable plugin {@code name} in {@code binDir}. */
    static Path installPlugin(Path binDir, String name, String resource, Map<String, String> replacements)
            throws IOException {
        Files.createDirectories(binDir);
        Path plugin = binDir.resolve(name);
        Files.writeString(plugin, resource(resource, replacements));
        Files.setPosixFilePermissions(plugin, PosixFilePermissions.fromString("rwxr-xr-x"));
        return plugin;
    }

    /** The outcome of a program run. */
    record Run(int exit, String output) {}

    /** Runs a program to completion (stdout and stderr merged), killing it after {@code timeoutSeconds}. */
    static Run run(long timeoutSeconds, String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        StringBuilder out = new StringBuilder();
        Thread reader = Thread.ofVirtual().start(() -> {
            try (InputStream in = process.getInputStream()) {
                out.append(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException ignored) {
                // process gone
            }
        });
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        reader.join(TimeUnit.SECONDS.toMillis(10));
        return new Run(process.isAlive() ? -1 : process.exitValue(), out.toString());
    }

    /** Runs {@code command} inside the network namespace pinned at {@code netns}. */
    static Run inNetns(Path netns, long timeoutSeconds, String... command) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>(List.of("nsenter", "--net=" + netns));
        full.addAll(List.of(command));
        return run(timeoutSeconds, full.toArray(String[]::new));
    }
}
