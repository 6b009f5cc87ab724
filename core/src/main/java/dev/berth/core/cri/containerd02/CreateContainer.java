package dev.berth.core.cri.containerd02;

import dev.berth.containerd.v02.APIGrpc;
import dev.berth.containerd.v02.CreateContainerRequest;
import dev.berth.containerd.v02.CreateContainerResponse;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.cri.Validation;
import dev.berth.core.dispatch.Handler;
import dev.berth.spi.BackendException;
import dev.berth.spi.BundleRunning;
import java.nio.file.Path;
import java.time.Instant;

/**
 * CreateContainer runs the client's OCI bundle: created and started at once, its streams on the given paths. The
 * record is written before the backend acts and dropped if it fails.
 */
public final class CreateContainer implements UnaryRpc<CreateContainerRequest, CreateContainerResponse> {
    private final ContainerdRuntime runtime;

    public CreateContainer(ContainerdRuntime runtime) {
        this.runtime = runtime;
    }

    @Override
    public io.grpc.MethodDescriptor<CreateContainerRequest, CreateContainerResponse> method() {
        return APIGrpc.getCreateContainerMethod();
    }

    @Override
    public CreateContainerResponse call(CreateContainerRequest request, RpcContext ctx) {
        String id = Validation.id(request.getId(), "id");
        ctx.container(id);
        Path bundle = Paths.absolute(request.getBundlePath(), "bundlePath");
        BundleRunning.Stdio stdio = new BundleRunning.Stdio(Paths.optional(request.getStdin(), "stdin"),
                Paths.optional(request.getStdout(), "stdout"), Paths.optional(request.getStderr(), "stderr"),
                Paths.optional(request.getConsole(), "console"));
        if (!request.getCheckpoint().isEmpty()) {
            throw BackendException.unimplemented("berth does not restore containers from checkpoints (checkpoint \""
                    + request.getCheckpoint() + "\")");
        }
        if (runtime.usedByCri(id)) {
            throw new BackendException(BackendException.Kind.ALREADY_EXISTS, "id \"" + id
                    + "\" is a CRI pod or container's");
        }
        BundleRecord rec;
        synchronized (runtime) {
            if (runtime.records().get(id).isPresent()) {
                throw new BackendException(BackendException.Kind.ALREADY_EXISTS, "container \"" + id
                        + "\" already exists");
            }
            Handler h = runtime.claim(id);
            ctx.handler(h);
            rec = new BundleRecord(id, bundle.toString(), h.name(), h.generation(), Instant.now().toString());
            runtime.records().put(rec);
        }
        long pid;
        try {
            pid = runtime.backend(rec).createBundle(id, bundle, stdio);
        } catch (RuntimeException e) {
            runtime.records().remove(id);
            runtime.release(rec);
            throw e;
        }
        runtime.publish(ContainerdRuntime.event("start-container", rec).setPid((int) pid).build());
        return CreateContainerResponse.newBuilder().setPid((int) pid).build();
    }
}
