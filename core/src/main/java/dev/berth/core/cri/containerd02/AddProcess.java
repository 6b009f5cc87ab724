package dev.berth.core.cri.containerd02;

import dev.berth.containerd.v02.APIGrpc;
import dev.berth.containerd.v02.AddProcessRequest;
import dev.berth.containerd.v02.AddProcessResponse;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.spi.BackendException;
import dev.berth.spi.BundleRunning;
import java.util.concurrent.atomic.AtomicLong;

/**
 * AddProcess runs one more process in a running container, its streams on the given paths; a {@code start-process}
 * event follows. The request names no process id, so berth gives each one its own.
 */
public final class AddProcess implements UnaryRpc<AddProcessRequest, AddProcessResponse> {
    private static final AtomicLong NEXT = new AtomicLong(System.currentTimeMillis());
    private final ContainerdRuntime runtime;

    public AddProcess(ContainerdRuntime runtime) {
        this.runtime = runtime;
    }

    @Override
    public io.grpc.MethodDescriptor<AddProcessRequest, AddProcessResponse> method() {
        return APIGrpc.getAddProcessMethod();
    }

    @Override
    public AddProcessResponse call(AddProcessRequest request, RpcContext ctx) {
        BundleRecord rec = runtime.require(request.getId());
        ctx.container(rec.id());
        if (request.getArgsCount() == 0 || request.getArgs(0).isEmpty()) {
            throw BackendException.invalid("args must name the program to run");
        }
        if (!request.getCwd().isEmpty()) {
            Paths.optional(request.getCwd(), "cwd");
        }
        for (String e : request.getEnvList()) {
            if (!e.contains("=") || e.startsWith("=")) {
                throw BackendException.invalid("env entries must be NAME=value, got \"" + e + "\"");
            }
        }
        var stdio = new BundleRunning.Stdio(Paths.optional(request.getStdin(), "stdin"),
                Paths.optional(request.getStdout(), "stdout"), Paths.optional(request.getStderr(), "stderr"),
                Paths.optional(request.getConsole(), "console"));
        var user = request.getUser();
        var spec = new BundleRunning.ProcessSpec(request.getArgsList(), request.getEnvList(), request.getCwd(),
                Integer.toUnsignedLong(user.getUid()), Integer.toUnsignedLong(user.getGid()),
                user.getAdditionalGidsList().stream().map(Integer::toUnsignedLong).toList(), request.getTerminal(),
                stdio);
        String processId = Long.toString(NEXT.incrementAndGet(), 36);
        long pid = runtime.backend(rec).addProcess(rec.id(), processId, spec);
        runtime.publish(ContainerdRuntime.event("start-process", rec).setPid((int) pid).build());
        return AddProcessResponse.newBuilder().setPid((int) pid).build();
    }
}
