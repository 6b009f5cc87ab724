package dev.berth.runc;

import dev.berth.oci.Failures;
import dev.berth.oci.Processes;
import dev.berth.runc.StateStore.SandboxRecord;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendException.Kind;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.NamespaceMode;
import dev.berth.spi.SandboxStatus;
import dev.berth.spi.StreamingIo.Streams;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A running container's streams and log: interactive exec and attach, port-forward into its pod's network
 * namespace, and reopening its log file after rotation.
 */
final class ContainerIo {
    private final HandlerState state;
    private final RuncOptions options;
    private final RuntimeCli cli;
    private final ContainerProcesses processes;
    private final ConmonExec conmonExec;
    private final RuncSandboxes pods;

    ContainerIo(HandlerState state, ContainerProcesses processes, ConmonExec conmonExec, RuncSandboxes pods) {
        this.state = state;
        this.options = state.options;
        this.cli = state.cli;
        this.processes = processes;
        this.conmonExec = conmonExec;
        this.pods = pods;
    }

    void reopenLog(String containerId) {
        state.requireContainer(containerId);
        if (processes.containerStatus(containerId).state() != ContainerStatus.State.RUNNING
                || !processes.conmonAlive(containerId)) {
            throw new BackendException(Kind.FAILED_PRECONDITION, "failed to reopen log of container \""
                    + containerId + "\": it is not running");
        }
        if (Files.exists(state.bundle(containerId).resolve(LogJoiner.FIFO))) {
            // conmon writes into the joiner's FIFO: the joiner owns the file (never ask conmon to reopen a FIFO).
            try {
                if (!LogJoiner.reopen(state.bundle(containerId))) {
                    throw new BackendException(Kind.INTERNAL, "failed to reopen log of container \"" + containerId
                            + "\": its " + LogJoiner.PROGRAM + " is not running");
                }
            } catch (IOException e) {
                throw new BackendException(Kind.INTERNAL, "failed to reopen log of container \"" + containerId
                        + "\": " + e.getMessage());
            }
            awaitLogFile(containerId);
            return;
        }
        // No joiner: conmon writes the file. Read-write open never blocks on a FIFO; conmon holds the reading end.
        try (FileChannel ctl = FileChannel.open(state.bundle(containerId).resolve("ctl"), StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            ctl.write(ByteBuffer.wrap("2 0 0\n".getBytes(StandardCharsets.US_ASCII)));
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to reopen log of container \"" + containerId
                    + "\": " + e.getMessage());
        }
        awaitLogFile(containerId);
    }

    /** The joiner or conmon reopens asynchronously; CRI expects the new file to exist when the call returns. */
    private void awaitLogFile(String containerId) {
        String log = state.requireContainer(containerId).logPath();
        if (log != null && !log.isEmpty()) {
            Processes.await(() -> Files.exists(Path.of(log)), Duration.ofSeconds(2), Duration.ofMillis(5));
        }
    }

    int exec(String containerId, List<String> command, Streams io) {
        processes.requireRunning(containerId, "exec in");
        Path bundle = state.bundle(containerId);
        Path spec = bundle.resolve("exec-" + System.nanoTime() + ".json");
        try {
            Files.write(spec, state.execSpecs.spec(containerId, bundle, command, io.tty()));
            List<String> runtimeExec = cli.command(List.of("exec", "--process", spec.toString(), containerId));
            if (options.runsc() && io.tty()) {
                // runsc passes a host terminal through as plain stdio: berth-runsc has gVisor make the terminal.
                List<String> relay = new ArrayList<>(List.of(conmonExec.runtimeForConmon(),
                        "--runsc=" + options.binary(), "--console-relay"));
                relay.addAll(runtimeExec.subList(1, runtimeExec.size()));
                runtimeExec = relay;
            }
            return dev.berth.runc.Streams.exec(runtimeExec, io);
        } catch (IOException e) {
            throw Failures.io("exec in container", containerId, e);
        } catch (InterruptedException e) {
            throw Failures.interrupted("exec in container", containerId);
        } finally {
            Conmon.deleteQuietly(spec);
        }
    }

    void attach(String containerId, Streams io) {
        processes.requireRunning(containerId, "attach to");
        try {
            dev.berth.runc.Streams.attach(state.bundle(containerId), io, state.bundle(containerId).resolve("winsz"));
        } catch (IOException e) {
            throw new BackendException(Kind.UNAVAILABLE, "failed to attach to container \"" + containerId + "\": "
                    + e.getMessage());
        }
    }

    java.nio.channels.ByteChannel connect(String sandboxId, int port) {
        SandboxRecord rec = state.requireSandbox(sandboxId);
        Path netns = null;
        if (NamespaceMode.valueOf(rec.network()) != NamespaceMode.NODE) {
            if (!rec.netnsPath().isEmpty()) {
                netns = Path.of(rec.netnsPath());
            } else {
                SandboxStatus st = pods.status(sandboxId);
                if (st.state() != SandboxStatus.State.READY) {
                    throw new BackendException(Kind.FAILED_PRECONDITION, "failed to port-forward to sandbox \""
                            + sandboxId + "\": it is not ready");
                }
                netns = Path.of("/proc", Long.toString(st.pid()), "ns", "net");
            }
        }
        return dev.berth.oci.NetworkNamespaces.portForward(sandboxId, netns, port);
    }
}
