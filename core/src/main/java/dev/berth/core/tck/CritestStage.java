package dev.berth.core.tck;

import dev.berth.core.UnixSockets;
import dev.berth.cri.v1.ListPodSandboxRequest;
import dev.berth.cri.v1.RemovePodSandboxRequest;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.cri.v1.StopPodSandboxRequest;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The tck's third stage: a daemon started from this image ({@code bin/berth daemon}) with the plugin alone in a
 * scratch plugins directory and a generated config whose only handler is the one under test, then critest
 * against that handler ({@code -runtime-handler=NAME}). Everything it starts goes at the end, whatever happened:
 * pods (through CRI), the daemon, processes and mounts left below the scratch directory, the CNI bridge.
 */
public final class CritestStage {
    /** The critest v1.29 spec that cannot pass offline: it pins the upstream image's digest. */
    public static final List<String> KNOWN_OFFLINE_FAILURES =
            List.of("public image with digest should be pulled and removed");
    static final List<String> MIRRORED_HOSTS = List.of("registry.k8s.io", "gcr.io", "k8s.gcr.io", "quay.io",
            "public.ecr.aws", "docker.io");
    private static final Pattern RAN = Pattern.compile("Ran (\\d+) of (\\d+) Specs");
    private static final Pattern COUNTS = Pattern.compile("(\\d+) Passed \\| (\\d+) Failed");
    private static final Pattern FAIL = Pattern.compile("^\\s*\\[FAIL\\] (.*)$");

    /** What the stage needs. */
    public record Settings(Path berthHome, Path critest, Path archive, String handler, String type,
                           HandlerOptions options, String registryMirror, String sandboxImage, String bridge,
                           String subnet, List<Path> cniBinDirs, Duration timeout, List<String> extraArgs,
                           Integer minPassed, Path scratchParent, Path logs) {}

    /** critest's counts; {@code error} when it could not run or its summary is missing. */
    public record Outcome(int passed, int ran, List<String> failed, String error, boolean ok) {
        public String summary() {
            return error.isEmpty() ? passed + "/" + ran : "error";
        }
    }

    private CritestStage() {}

    public static Outcome run(Settings s, PrintStream out) throws IOException {
        Path work = Files.createTempDirectory(s.scratchParent(), "btck-d");
        Path socket = work.resolve("berth.sock");
        Path logs = s.logs() != null ? s.logs() : work.resolve("logs");
        Files.createDirectories(logs);
        Process daemon = null;
        try {
            Path plugins = Files.createDirectories(work.resolve("plugins"));
            Files.copy(s.archive(), plugins.resolve(s.archive().getFileName()));
            writeCni(work.resolve("cni"), s.bridge(), s.subnet());
            if (s.registryMirror() != null) {
                writeMirrors(work.resolve("certs.d"), s.registryMirror());
            }
            Path config = work.resolve("config.toml");
            Files.writeString(config, config(work, s));
            Path daemonLog = logs.resolve("berth.log");
            out.println("  daemon: " + s.berthHome().resolve("bin/berth") + " daemon --config " + config);
            ProcessBuilder pb = new ProcessBuilder(s.berthHome().resolve("bin/berth").toString(), "daemon",
                    "--config", config.toString()).redirectErrorStream(true)
                    .redirectOutput(daemonLog.toFile());
            pb.environment().remove("JAVA_HOME");
            daemon = pb.start();
            if (!awaitSocket(daemon, socket, Duration.ofSeconds(60))) {
                return new Outcome(0, 0, List.of(), (daemon.isAlive() ? "the daemon did not serve on " + socket
                        + " within 60 s" : "the daemon exited " + daemon.exitValue() + " before it served")
                        + "; its log ends:\n" + tail(daemonLog, 20), false);
            }
            String ep = "unix://" + socket;
            List<String> cmd = new ArrayList<>(List.of(s.critest().toString(), "--runtime-endpoint=" + ep,
                    "--image-endpoint=" + ep, "-runtime-handler=" + s.handler()));
            cmd.addAll(s.extraArgs());
            Path log = logs.resolve("critest.log");
            out.println("  critest: " + String.join(" ", cmd));
            ProcessBuilder cb = new ProcessBuilder(cmd).directory(work.toFile()).redirectErrorStream(true)
                    .redirectOutput(log.toFile());
            // critest --parallel runs the ginkgo CLI, which it finds on PATH beside it.
            cb.environment().put("PATH", s.critest().toAbsolutePath().getParent() + ":"
                    + cb.environment().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"));
            Process critest = cb.start();
            if (!critest.waitFor(s.timeout().toMillis(), TimeUnit.MILLISECONDS)) {
                critest.destroyForcibly().waitFor();
                return new Outcome(0, 0, List.of(), "critest did not finish within " + s.timeout().toMinutes()
                        + " min (log: " + log + ")", false);
            }
            Outcome o = parse(Files.readString(log, StandardCharsets.UTF_8), s.minPassed());
            if (!o.error().isEmpty()) {
                out.println("  critest's log ends:\n" + tail(log, 20));
            }
            return o;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Outcome(0, 0, List.of(), "interrupted", false);
        } finally {
            cleanup(work, socket, daemon, s.bridge(), out);
            if (s.logs() != null) {
                out.println("  logs: " + logs);
            }
        }
    }

    /**
     * Reads critest's summary. Without {@code minPassed} the run is good when every spec that failed is one of
     * {@link #KNOWN_OFFLINE_FAILURES}; with it, when at least that many passed.
     */
    static Outcome parse(String log, Integer minPassed) {
        String plain = log.replaceAll("\u001b\\[[0-9;]*m", "");
        Matcher ran = RAN.matcher(plain);
        int ranCount = -1;
        while (ran.find()) {
            ranCount = Integer.parseInt(ran.group(1));
        }
        Matcher counts = COUNTS.matcher(plain);
        int passed = -1;
        while (counts.find()) {
            passed = Integer.parseInt(counts.group(1));
        }
        if (ranCount < 0 || passed < 0) {
            return new Outcome(0, 0, List.of(), "critest printed no summary", false);
        }
        List<String> failed = new ArrayList<>();
        for (String line : plain.lines().toList()) {
            Matcher f = FAIL.matcher(line);
            if (f.matches() && !failed.contains(f.group(1).strip())) {
                failed.add(f.group(1).strip());
            }
        }
        boolean ok;
        if (minPassed != null) {
            ok = passed >= minPassed;
        } else {
            ok = passed + failed.size() >= ranCount && failed.stream()
                    .allMatch(f -> KNOWN_OFFLINE_FAILURES.stream().anyMatch(f::contains));
        }
        return new Outcome(passed, ranCount, failed, "", ok);
    }

    static String config(Path work, Settings s) {
        StringBuilder c = new StringBuilder();
        c.append("# generated by berth tck: the plugin under test alone, one handler\n");
        c.append("socket = ").append(HandlerOptions.quote(work.resolve("berth.sock").toString())).append('\n');
        c.append("state = ").append(HandlerOptions.quote(work.resolve("state").toString())).append('\n');
        c.append("root = ").append(HandlerOptions.quote(work.resolve("root").toString())).append('\n');
        c.append("plugins_dir = ").append(HandlerOptions.quote(work.resolve("plugins").toString())).append('\n');
        c.append("default_runtime = ").append(HandlerOptions.quote(s.handler())).append('\n');
        c.append("log_level = \"info\"\n\n");
        String table = "runtimes." + HandlerOptions.quote(s.handler());
        c.append('[').append(table).append("]\ntype = ").append(HandlerOptions.quote(s.type())).append('\n');
        c.append('[').append(table).append(".options]\n").append(s.options().tomlLines()).append('\n');
        c.append("[images]\n");
        if (s.registryMirror() != null) {
            c.append("registry_config_path = ").append(HandlerOptions.quote(work.resolve("certs.d").toString()))
                    .append('\n');
        }
        c.append("sandbox_image = ").append(HandlerOptions.quote(s.sandboxImage())).append("\n\n");
        c.append("[network]\ncni_conf_dir = ").append(HandlerOptions.quote(work.resolve("cni").toString()))
                .append('\n');
        c.append("cni_bin_dirs = [").append(String.join(", ", s.cniBinDirs().stream()
                .map(p -> HandlerOptions.quote(p.toString())).toList())).append("]\n");
        return c.toString();
    }

    /** A bridge network of the tck's own (its bridge and subnet), so that it never meets the node's. */
    static void writeCni(Path dir, String bridge, String subnet) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("10-berth-tck.conflist"), """
                {
                  "cniVersion": "1.0.0",
                  "name": "berth-tck",
                  "plugins": [
                    {
                      "type": "bridge",
                      "bridge": "%s",
                      "isGateway": true,
                      "ipMasq": true,
                      "hairpinMode": true,
                      "ipam": {
                        "type": "host-local",
                        "ranges": [[{ "subnet": "%s" }]],
                        "routes": [{ "dst": "0.0.0.0/0" }],
                        "dataDir": "%s"
                      }
                    },
                    { "type": "portmap", "capabilities": { "portMappings": true } }
                  ]
                }
                """.formatted(bridge, subnet, dir.resolveSibling("ipam")));
    }

    /** containerd's hosts.toml layout: each public registry critest pulls from, mirrored to {@code mirror} only. */
    static void writeMirrors(Path certs, String mirror) throws IOException {
        for (String host : MIRRORED_HOSTS) {
            Path d = Files.createDirectories(certs.resolve(host));
            Files.writeString(d.resolve("hosts.toml"), "server = " + HandlerOptions.quote(mirror) + "\n[host."
                    + HandlerOptions.quote(mirror) + "]\n  capabilities = [\"pull\", \"resolve\"]\n");
        }
    }

    private static boolean awaitSocket(Process daemon, Path socket, Duration timeout) throws InterruptedException {
        long until = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < until) {
            if (!daemon.isAlive()) {
                return false;
            }
            if (Files.exists(socket)) {
                try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                    ch.connect(UnixDomainSocketAddress.of(socket));
                    return true;
                } catch (IOException notYet) {
                    // bound but not listening yet
                }
            }
            Thread.sleep(200);
        }
        return false;
    }

    /** Every pod through CRI, then the daemon, then whatever is left below the work dir, then the bridge. */
    static void cleanup(Path work, Path socket, Process daemon, String bridge, PrintStream out) {
        if (daemon != null && daemon.isAlive() && Files.exists(socket)) {
            ManagedChannel ch = UnixSockets.channel(socket);
            try {
                var cri = RuntimeServiceGrpc.newBlockingStub(ch);
                for (var pod : cri.withDeadlineAfter(30, TimeUnit.SECONDS)
                        .listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()) {
                    try {
                        cri.withDeadlineAfter(60, TimeUnit.SECONDS).stopPodSandbox(
                                StopPodSandboxRequest.newBuilder().setPodSandboxId(pod.getId()).build());
                        cri.withDeadlineAfter(60, TimeUnit.SECONDS).removePodSandbox(
                                RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod.getId()).build());
                    } catch (RuntimeException e) {
                        out.println("  warning: cannot remove pod " + pod.getId() + ": " + e.getMessage());
                    }
                }
            } catch (RuntimeException e) {
                out.println("  warning: cannot list the daemon's pods: " + e.getMessage());
            } finally {
                ch.shutdownNow();
            }
        }
        if (daemon != null) {
            daemon.destroy();
            try {
                if (!daemon.waitFor(30, TimeUnit.SECONDS)) {
                    daemon.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        Sweep.sweep(work, out);
        Sweep.run(List.of("ip", "link", "del", bridge));
    }

    static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}
