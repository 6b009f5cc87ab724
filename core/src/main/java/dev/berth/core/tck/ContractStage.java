package dev.berth.core.tck;

import dev.berth.core.plugin.BackendType;
import dev.berth.spi.BackendHealth;
import dev.berth.spi.RuntimeBackend;
import dev.berth.tck.ContractSuite;
import dev.berth.tck.Leftovers;
import dev.berth.tck.RootfsFixture;
import dev.berth.tck.ScratchBackendContext;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The tck's second stage: one backend created through the plugin's factory, in a scratch state directory, with
 * the given options, runs {@link ContractSuite} over a busybox root file system built from the host's busybox
 * ({@link RootfsFixture}). Then it is closed, and whatever it left below the scratch directory (mounts, processes
 * naming it) fails one more check, {@value #LEFTOVERS}, and is swept away.
 */
public final class ContractStage {
    static final String LEFTOVERS = "nothing-left-behind";

    private ContractStage() {}

    /** The checks' results, or {@code setupError} when the backend could not be set up at all. */
    public record Outcome(List<ContractSuite.Result> results, String setupError) {
        public long passed() {
            return results.stream().filter(ContractSuite.Result::passed).count();
        }

        public int total() {
            return setupError.isEmpty() ? results.size() : ContractSuite.checks().size() + 1;
        }

        public boolean ok() {
            return setupError.isEmpty() && ContractSuite.allPassed(results);
        }
    }

    public static Outcome run(BackendType type, String handler, Map<String, Object> options, Path busybox,
                              Path scratchParent, PrintStream out) throws IOException {
        Path scratch = Files.createTempDirectory(scratchParent, "btck-c");
        ClassLoader previous = Thread.currentThread().getContextClassLoader();
        RuntimeBackend backend = null;
        try {
            Path rootfs;
            try {
                rootfs = RootfsFixture.busyboxRootfs(busybox, scratch.resolve("rootfs"));
            } catch (IOException e) {
                return new Outcome(List.of(), "cannot build the containers' root file system: " + e.getMessage()
                        + " (--busybox PATH names a static busybox)");
            }
            ScratchBackendContext context = new ScratchBackendContext(handler, scratch.resolve("ctx"));
            // As core's BackendProxy does: the plugin's class loader is the context class loader of its calls,
            // here of the checks' threads, which inherit it.
            Thread.currentThread().setContextClassLoader(type.classLoader());
            try {
                backend = type.factory().create(handler, options, context);
            } catch (RuntimeException | LinkageError e) {
                return new Outcome(List.of(), "the factory of type \"" + type.type() + "\" refused to create handler \""
                        + handler + "\" with options " + options + ": " + e);
            }
            BackendHealth health = backend.health();
            out.println("  handler " + handler + " (type " + type.type() + "): " + (health.ready() ? "READY" : "NOT READY"));
            for (var c : health.checks()) {
                out.println("      " + (c.ok() ? "OK   " : "FAIL ") + c.what()
                        + (c.ok() || c.advice().isEmpty() ? "" : " -> " + c.advice()));
            }
            for (ContractSuite.Check c : ContractSuite.checks()) {
                if (!c.appliesTo(backend)) {
                    out.println("  n/a   " + c.name() + ": the backend does not implement "
                            + c.capability().getSimpleName() + ", an optional capability");
                }
            }
            List<ContractSuite.Result> results = new ArrayList<>(ContractSuite.runAll(
                    new RootfsFixture(backend, context, rootfs), r -> out.println("  " + line(r))));
            try {
                backend.close();
            } catch (RuntimeException e) {
                results.add(new ContractSuite.Result("close", ContractSuite.Outcome.FAILED,
                        "close() threw " + e, e));
                out.println("  " + line(results.getLast()));
            }
            backend = null;
            ContractSuite.Result left = leftovers(scratch);
            results.add(left);
            out.println("  " + line(left));
            return new Outcome(results, "");
        } finally {
            Thread.currentThread().setContextClassLoader(previous);
            if (backend != null) {
                try {
                    backend.close();
                } catch (RuntimeException e) {
                    out.println("  close() threw " + e);
                }
            }
            Sweep.sweep(scratch, out);
        }
    }

    /** Mounts below the scratch dir and processes naming it, once every check removed what it created. */
    static ContractSuite.Result leftovers(Path scratch) {
        List<String> problems = new ArrayList<>();
        // A stopped process may take a moment to be reaped by its supervisor.
        long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        List<String> procs = Leftovers.processesNaming(scratch);
        while (!procs.isEmpty() && System.nanoTime() < until) {
            sleep();
            procs = Leftovers.processesNaming(scratch);
        }
        List<String> mounts = Leftovers.mountsBelow(scratch);
        if (!mounts.isEmpty()) {
            problems.add("mounts left: " + mounts);
        }
        if (!procs.isEmpty()) {
            problems.add("processes left: " + procs);
        }
        return new ContractSuite.Result(LEFTOVERS, problems.isEmpty() ? ContractSuite.Outcome.PASSED
                : ContractSuite.Outcome.FAILED, String.join("; ", problems), null);
    }

    static String line(ContractSuite.Result r) {
        return switch (r.outcome()) {
            case PASSED -> "ok    " + r.name();
            case SKIPPED -> "SKIP  " + r.name() + ": " + r.reason();
            case FAILED -> "FAIL  " + r.name() + ": " + r.reason();
        };
    }

    private static void sleep() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
