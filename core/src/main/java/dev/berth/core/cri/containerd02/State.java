package dev.berth.core.cri.containerd02;

import dev.berth.containerd.v02.APIGrpc;
import dev.berth.containerd.v02.Container;
import dev.berth.containerd.v02.Machine;
import dev.berth.containerd.v02.Process;
import dev.berth.containerd.v02.StateRequest;
import dev.berth.containerd.v02.StateResponse;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.spi.BackendException;
import dev.berth.spi.BundleRunning;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * State: the machine (host name, CPUs, memory) and every container of this API with its processes; never a CRI pod
 * or container. A container its backend cannot answer for is listed with status "unknown".
 */
public final class State implements UnaryRpc<StateRequest, StateResponse> {
    private static final System.Logger LOG = System.getLogger(State.class.getName());
    private final ContainerdRuntime runtime;

    public State(ContainerdRuntime runtime) {
        this.runtime = runtime;
    }

    @Override
    public io.grpc.MethodDescriptor<StateRequest, StateResponse> method() {
        return APIGrpc.getStateMethod();
    }

    @Override
    public StateResponse call(StateRequest request, RpcContext ctx) {
        var out = StateResponse.newBuilder().setMachine(Machine.newBuilder().setId(hostname())
                .setCpus(Runtime.getRuntime().availableProcessors()).setMemory(memory()));
        for (BundleRecord rec : runtime.all()) {
            var c = Container.newBuilder().setId(rec.id()).setName(rec.id()).setBundlePath(rec.bundlePath());
            try {
                BundleRunning.BundleStatus st = runtime.backend(rec).bundleStatus(rec.id());
                c.setStatus(st.state().name().toLowerCase(Locale.ROOT));
                for (BundleRunning.ProcessState p : st.processes()) {
                    if (p.exitCode() == null) {
                        c.addProcesses(Process.newBuilder().setPid((int) p.pid()).addAllArgs(p.args()));
                    }
                }
            } catch (BackendException e) {
                LOG.log(System.Logger.Level.DEBUG, "state of containerd 0.2 container {0}: {1}", rec.id(),
                        e.getMessage());
                c.setStatus("unknown");
            }
            out.addContainers(c);
        }
        return out.build();
    }

    private static String hostname() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        } catch (IOException e) {
            return "";
        }
    }

    /** MemTotal of /proc/meminfo, in bytes; 0 if unknown. */
    static long memory() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }
}
