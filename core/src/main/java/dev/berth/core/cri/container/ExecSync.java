package dev.berth.core.cri.container;

import com.google.protobuf.ByteString;
import dev.berth.core.UnixSockets;
import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.ExecPreconditions;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.store.ContainerRecord;
import dev.berth.cri.v1.ExecSyncRequest;
import dev.berth.cri.v1.ExecSyncResponse;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.spi.BackendException;
import dev.berth.spi.ExecResult;
import io.grpc.MethodDescriptor;
import java.time.Duration;

/**
 * ExecSync runs a command in a container and returns its output and exit code; {@code timeout} is honoured. The
 * kubelet's exec probes send it every few seconds per container, so whether the container runs is checked once: a
 * state kept in memory other than RUNNING refuses it in core, and otherwise the backend's execSync, which the SPI
 * requires to refuse a container that does not run, is the check. Only when the backend fails is the container's
 * status asked, to answer FAILED_PRECONDITION naming its state as Exec and Attach do.
 *
 * <p>The answer fits in one message the kubelet will take: it receives at most 16 MiB, and backends keep up to 16 MiB
 * of output, so a command that writes that much would otherwise fail the kubelet's probe with a transport error
 * instead of its exit code. Output beyond {@link #OUTPUT_ROOM} is cut ({@link #kept}).
 */
public final class ExecSync implements UnaryRpc<ExecSyncRequest, ExecSyncResponse> {
    /**
     * The output one answer carries at most: the message limit less room for the answer's own fields (two tags
     * and lengths, the exit code).
     */
    static final int OUTPUT_ROOM = UnixSockets.MAX_MESSAGE_BYTES - 32;

    private final CriRuntime cri;

    public ExecSync(CriRuntime cri) {
        this.cri = cri;
    }

    @Override
    public MethodDescriptor<ExecSyncRequest, ExecSyncResponse> method() {
        return RuntimeServiceGrpc.getExecSyncMethod();
    }

    @Override
    public ExecSyncResponse call(ExecSyncRequest req, RpcContext ctx) {
        ContainerRecord c = cri.container(req.getContainerId());
        ctx.container(c.id()).pod(c.sandboxId());
        ExecPreconditions.requireCommand(req.getCmdList());
        if (req.getTimeout() < 0) {
            throw BackendException.invalid("timeout must not be negative, got " + req.getTimeout());
        }
        Handler h = cri.handlerOf(c);
        ctx.handler(h);
        ExecPreconditions.refuseKeptNotRunning(cri, c, "exec in");
        ExecResult r;
        try {
            r = cri.onContainer(c, h, "exec in",
                    () -> h.backend().execSync(c.id(), req.getCmdList(), Duration.ofSeconds(req.getTimeout())));
        } catch (BackendException e) {
            // The backend's refusal is the running check (the exec probes' path asks nothing twice); the status
            // names the state in the same words whatever the backend, as for Exec and Attach. Any other answer
            // keeps the exec's own failure (a probe's DEADLINE_EXCEEDED stays one).
            throw notRunningOr(c, h, e);
        }
        byte[] stdout = r.stdout();
        byte[] stderr = r.stderr();
        Kept kept = kept(stdout.length, stderr.length, OUTPUT_ROOM);
        return ExecSyncResponse.newBuilder().setStdout(ByteString.copyFrom(stdout, 0, kept.stdout()))
                .setStderr(ByteString.copyFrom(stderr, 0, kept.stderr())).setExitCode(r.exitCode()).build();
    }

    /** How many of each stream's first bytes an answer keeps. */
    record Kept(int stdout, int stderr) {}

    /**
     * What of {@code stdout} and {@code stderr} bytes fits in {@code room}: all of both if they fit; else a stream
     * within half the room is kept whole (a probe's short error beside a flood of output) and the other is cut to
     * what is left; else each is cut to half.
     */
    static Kept kept(int stdout, int stderr, int room) {
        if ((long) stdout + stderr <= room) {
            return new Kept(stdout, stderr);
        }
        int half = room / 2;
        if (stderr <= half) {
            return new Kept(room - stderr, stderr);
        }
        if (stdout <= half) {
            return new Kept(stdout, room - stdout);
        }
        return new Kept(half, room - half);
    }

    /** FAILED_PRECONDITION naming the state if the container does not run, else {@code failure} as it is. */
    private BackendException notRunningOr(ContainerRecord c, Handler h, BackendException failure) {
        try {
            ExecPreconditions.requireRunning(cri, c, h, "exec in");
        } catch (BackendException s) {
            if (s.kind() == BackendException.Kind.FAILED_PRECONDITION) {
                return s;
            }
        }
        return failure;
    }
}
