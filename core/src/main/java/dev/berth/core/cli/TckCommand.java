package dev.berth.core.cli;

import dev.berth.core.plugin.BackendType;
import dev.berth.core.plugin.PluginHost;
import dev.berth.core.tck.ContractStage;
import dev.berth.core.tck.CritestStage;
import dev.berth.core.tck.HandlerOptions;
import dev.berth.core.tck.PluginArchive;
import dev.berth.core.util.FileTrees;
import dev.berth.spi.SpiVersion;
import java.io.File;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code berth tck PLUGIN}: certifies a plugin archive in three stages, packaging, the SPI contract against the
 * plugin's backend, and critest against a daemon from this image running the plugin, and prints one summary line.
 * Exit code 0 only when every stage that ran passed.
 */
@Command(name = "tck", description = {
        "Certify a plugin archive: check its packaging, run the SPI contract against its backend, then start a "
                + "daemon from this image with the plugin alone and run critest against its handler.",
        "Runs as root (the contract and the daemon run real sandboxes). Prints one line per check and a summary; "
                + "exits 1 when anything failed."})
public final class TckCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "PLUGIN", description = "The plugin archive (.zip or .jar).")
    Path archive;

    @Option(names = "--type", paramLabel = "TYPE",
            description = "The backend type to test (default: the only one the plugin provides).")
    String type;

    @Option(names = "--handler", paramLabel = "NAME", description = "The handler name (default: the type).")
    String handler;

    @Option(names = {"-o", "--option", "--options"}, paramLabel = "KEY=VALUE",
            description = "A handler option, as in [runtimes.NAME.options]; the value is a TOML value or a string. "
                    + "Repeatable.")
    Map<String, String> options = new LinkedHashMap<>();

    @Option(names = "--busybox", paramLabel = "PATH", defaultValue = "/bin/busybox",
            description = "A static busybox: the contract's containers run a root file system built from it "
                    + "(default: ${DEFAULT-VALUE}).")
    Path busybox;

    @Option(names = "--skip-critest", description = "Stop after the contract.")
    boolean skipCritest;

    @Option(names = "--critest", paramLabel = "PATH", description = "critest (default: critest on PATH).")
    Path critest;

    @Option(names = "--critest-min", paramLabel = "N",
            description = "critest passes when at least N specs passed (default: when every spec that ran passed, "
                    + "except the one that cannot pass offline: \"" + "public image with digest should be pulled "
                    + "and removed\").")
    Integer critestMin;

    @Option(names = "--critest-arg", paramLabel = "ARG", description = "An extra critest argument, e.g. "
            + "--parallel=2 or -ginkgo.focus=REGEX. Repeatable.")
    List<String> critestArgs = new ArrayList<>();

    @Option(names = "--critest-timeout", paramLabel = "MINUTES", defaultValue = "20",
            description = "How long critest may run (default: ${DEFAULT-VALUE} min).")
    int critestTimeout;

    @Option(names = "--registry-mirror", paramLabel = "URL",
            description = "Mirror every registry critest pulls from (registry.k8s.io, gcr.io, k8s.gcr.io, quay.io, "
                    + "public.ecr.aws, docker.io) to URL, e.g. a local registry holding critest's images.")
    String registryMirror;

    @Option(names = "--sandbox-image", paramLabel = "REF", defaultValue = "registry.k8s.io/pause:3.9",
            description = "The daemon's sandbox image (default: ${DEFAULT-VALUE}).")
    String sandboxImage;

    @Option(names = "--bridge", paramLabel = "NAME", defaultValue = "berth-tck0",
            description = "The daemon's CNI bridge, removed afterwards (default: ${DEFAULT-VALUE}).")
    String bridge;

    @Option(names = "--subnet", paramLabel = "CIDR", defaultValue = "10.234.0.0/16",
            description = "The daemon's pod subnet (default: ${DEFAULT-VALUE}).")
    String subnet;

    @Option(names = "--cni-bin-dir", paramLabel = "DIR", description = "Where the CNI plugins are; repeatable "
            + "(default: /opt/cni/bin and /usr/lib/cni).")
    List<Path> cniBinDirs = new ArrayList<>();

    @Option(names = "--work-dir", paramLabel = "DIR", defaultValue = "/tmp",
            description = "Where the scratch directories go; keep the path short, unix socket paths below it must "
                    + "fit in 108 bytes (default: ${DEFAULT-VALUE}).")
    Path workDir;

    @Option(names = "--logs", paramLabel = "DIR", description = "Keep the daemon's and critest's logs in DIR.")
    Path logs;

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        List<String> summary = new ArrayList<>();
        boolean ok = true;
        HandlerOptions opts;
        try {
            opts = HandlerOptions.parse(options);
        } catch (IllegalArgumentException e) {
            System.err.println("berth tck: " + e.getMessage());
            return Main.CONFIG_ERROR;
        }

        out.println("== packaging: " + archive);
        PluginArchive.Report packaging = PluginArchive.inspect(archive);
        var d = packaging.descriptor();
        if (!d.source().isEmpty()) {
            out.println("  plugin " + d.id() + " " + d.version() + ", requires SPI " + d.requires()
                    + "; this berth's SPI is " + SpiVersion.CURRENT);
        }
        packaging.problems().forEach(p -> out.println("  FAIL  " + p));
        Path scratch = Files.createTempDirectory(workDir, "btck-p");
        try (PluginHost host = packaging.ok() ? load(scratch, out) : null) {
            BackendType chosen = host == null ? null : choose(host, out);
            boolean packagingOk = packaging.ok() && chosen != null;
            summary.add("packaging " + (packagingOk ? "ok" : "FAILED"));
            ok &= packagingOk;
            if (!packagingOk) {
                return finish(out, summary, false);
            }
            String name = handler != null ? handler : chosen.type();

            out.println("== contract: handler " + name + " of type " + chosen.type() + " from " + chosen.pluginId()
                    + " " + chosen.pluginVersion() + ", options " + opts.values());
            ContractStage.Outcome contract = ContractStage.run(chosen, name, opts.values(), busybox, workDir, out);
            if (!contract.setupError().isEmpty()) {
                out.println("  FAIL  " + contract.setupError());
            }
            summary.add("contract " + contract.passed() + "/" + contract.total());
            ok &= contract.ok();

            if (!contract.setupError().isEmpty() && !skipCritest) {
                out.println("== critest: not run, the handler cannot be created (above)");
                summary.add("critest not run");
                return finish(out, summary, false);
            }
            if (skipCritest) {
                out.println("== critest: skipped (--skip-critest)");
                summary.add("critest skipped");
                return finish(out, summary, ok);
            }
            if (critest != null && !Files.isExecutable(critest)) {
                out.println("== critest: FAIL, " + critest + " is not executable");
                summary.add("critest FAILED (not found)");
                return finish(out, summary, false);
            }
            Path critestPath = critest != null ? critest : onPath("critest");
            if (critestPath == null) {
                out.println("== critest: skipped, no critest on PATH (--critest PATH names one; --skip-critest "
                        + "says it is meant)");
                summary.add("critest skipped (not found)");
                return finish(out, summary, ok);
            }
            String home = System.getProperty("berth.home");
            if (home == null || !Files.isExecutable(Path.of(home, "bin", "berth"))) {
                out.println("== critest: FAIL, not run from a berth image (no bin/berth under berth.home), so no "
                        + "daemon can be started");
                summary.add("critest FAILED (no image)");
                return finish(out, summary, false);
            }
            out.println("== critest: a daemon from " + home + " with handler " + name);
            List<Path> bins = cniBinDirs.isEmpty() ? List.of(Path.of("/opt/cni/bin"), Path.of("/usr/lib/cni"))
                    : cniBinDirs;
            var settings = new CritestStage.Settings(Path.of(home), critestPath, archive.toAbsolutePath(), name,
                    chosen.type(), opts, registryMirror, sandboxImage, bridge, subnet, bins,
                    Duration.ofMinutes(critestTimeout), critestArgs, critestMin, workDir,
                    logs == null ? null : logs.toAbsolutePath());
            CritestStage.Outcome c = CritestStage.run(settings, out);
            if (!c.error().isEmpty()) {
                out.println("  FAIL  " + c.error());
            } else {
                c.failed().forEach(f -> out.println("  FAIL  " + f + (CritestStage.KNOWN_OFFLINE_FAILURES.stream()
                        .anyMatch(f::contains) ? "  (known: cannot pass offline)" : "")));
                out.println("  critest: " + c.passed() + " of " + c.ran() + " specs passed; "
                        + (c.ok() ? "ok" : "NOT OK") + (critestMin != null ? " (at least " + critestMin
                        + " must pass)" : " (every spec but the known offline one must pass)"));
            }
            summary.add(c.error().isEmpty() ? "critest " + c.summary() + (c.ok() ? "" : " FAILED")
                    : "critest FAILED (no result)");
            ok &= c.ok();
            return finish(out, summary, ok);
        } finally {
            FileTrees.deleteTree(scratch);
        }
    }

    /** Loads the archive alone from a scratch copy, in its own class loader, as the daemon would. */
    private PluginHost load(Path scratch, PrintStream out) throws java.io.IOException {
        Path dir = Files.createDirectories(scratch.resolve("plugins"));
        Files.copy(archive, dir.resolve(archive.getFileName()));
        PluginHost host = PluginHost.load(dir);
        for (var p : host.plugins()) {
            if (p.state().equals("failed") || !p.error().isEmpty()) {
                out.println("  FAIL  does not load: " + p.error());
            } else {
                out.println("  loads in an isolated class loader; types: " + String.join(", ", p.types()));
            }
        }
        if (host.plugins().isEmpty()) {
            out.println("  FAIL  PF4J found no plugin in the archive");
        }
        return host;
    }

    private BackendType choose(PluginHost host, PrintStream out) {
        if (host.plugins().stream().anyMatch(p -> p.state().equals("failed"))) {
            return null;
        }
        var types = host.types();
        if (types.isEmpty()) {
            out.println("  FAIL  provides no RuntimeBackendFactory (an @Extension with its index in the archive)");
            return null;
        }
        if (type != null) {
            BackendType t = types.get(type);
            if (t == null) {
                out.println("  FAIL  provides no type \"" + type + "\" (it provides " + types.keySet() + ")");
            }
            return t;
        }
        if (types.size() > 1) {
            out.println("  FAIL  provides several types " + types.keySet() + ": name one with --type");
            return null;
        }
        return types.values().iterator().next();
    }

    private static int finish(PrintStream out, List<String> summary, boolean ok) {
        out.println("tck: " + String.join(", ", summary));
        return ok ? 0 : 1;
    }

    private static Path onPath(String program) {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(File.pathSeparator)) {
            Path p = Path.of(dir, program);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

}
