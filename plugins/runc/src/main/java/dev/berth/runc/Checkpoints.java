package dev.berth.runc;

import dev.berth.oci.FileTrees;
import dev.berth.oci.ProcessRunner;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendException.Kind;
import dev.berth.spi.BundleRunning;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Checkpoints a running container with CRIU through the runtime ({@code checkpoint --leave-running}) into a
 * tar.gz archive. Where CRIU is missing or {@code criu check} fails on this kernel, callers answer
 * UNIMPLEMENTED with CRIU's own reason.
 */
final class Checkpoints {
    private Checkpoints() {}

    /** Why CRIU cannot checkpoint here, or null when {@code criu check} passes. */
    static String criuProblem() {
        Path criu = RuncOptions.resolveProgram("criu");
        if (!Files.isExecutable(criu)) {
            return "criu is not installed";
        }
        ProcessRunner.Result r = ProcessRunner.run(List.of(criu.toString(), "check"), null, Duration.ofSeconds(60));
        return r.ok() ? null : "criu check: " + r.errorText();
    }

    static void checkpoint(RuntimeCli cli, Path bundle, String id, Path location) {
        Path work = bundle.resolve("checkpoint-" + System.nanoTime());
        try {
            Files.createDirectories(work.resolve("image"));
            ProcessRunner.Result r = cli.run(List.of("checkpoint", "--leave-running", "--image-path",
                    work.resolve("image").toString(), "--work-path", work.toString(), id));
            if (!r.ok()) {
                throw new BackendException(Kind.INTERNAL, "failed to checkpoint container \"" + id + "\": "
                        + r.errorText());
            }
            if (location.getParent() != null) {
                Files.createDirectories(location.getParent());
            }
            ProcessRunner.Result tar = ProcessRunner.run(List.of("tar", "-C", work.resolve("image").toString(), "-czf",
                    location.toString(), "."), null, Duration.ofMinutes(10));
            if (!tar.ok()) {
                throw new BackendException(Kind.INTERNAL, "failed to checkpoint container \"" + id
                        + "\": cannot write " + location + ": " + tar.errorText());
            }
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to checkpoint container \"" + id + "\": "
                    + e.getMessage());
        } finally {
            try {
                FileTrees.deleteTree(work);
            } catch (IOException ignored) {
                // a leftover work dir goes with the bundle on remove
            }
        }
    }

    /**
     * Checkpoints a bundle a client prepared (the containerd 0.2 API) into {@code image}, a directory of CRIU
     * images, with the client's options; the runtime's own refusal is FAILED_PRECONDITION with its words.
     */
    static void bundle(RuntimeCli cli, String id, Path image, BundleRunning.CheckpointOptions options) {
        List<String> args = new ArrayList<>(List.of("checkpoint", "--image-path", image.toString(),
                "--work-path", image.resolve("criu.work").toString()));
        if (!options.exit()) {
            args.add("--leave-running");
        }
        if (options.tcp()) {
            args.add("--tcp-established");
        }
        if (options.unixSockets()) {
            args.add("--ext-unix-sk");
        }
        if (options.shell()) {
            args.add("--shell-job");
        }
        args.add(id);
        try {
            Files.createDirectories(image);
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to checkpoint container \"" + id + "\": "
                    + e.getMessage());
        }
        ProcessRunner.Result r = cli.run(args);
        if (!r.ok()) {
            throw new BackendException(Kind.FAILED_PRECONDITION, "failed to checkpoint container \"" + id + "\": "
                    + r.errorText());
        }
    }
}
