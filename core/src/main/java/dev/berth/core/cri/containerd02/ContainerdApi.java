package dev.berth.core.cri.containerd02;

import dev.berth.containerd.v02.APIGrpc;
import dev.berth.core.config.BerthConfig;
import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.CriServer;
import dev.berth.core.cri.StreamingRpc;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.dispatch.HandlerRegistry;
import dev.berth.core.metrics.Metrics;
import dev.berth.core.store.RecordStore;
import io.grpc.ServerServiceDefinition;
import java.nio.file.Path;
import java.util.List;

/**
 * The containerd 0.2 API ({@code types.API}) as berth serves it on its own socket: its RPC classes over a
 * {@link ContainerdRuntime}, bound by a {@link CriServer} of their own (the same parsing, checks, error mapping,
 * log lines and metrics as CRI, with API version label {@code containerd-0.2}).
 */
public final class ContainerdApi {
    /** The {@code api_version} label of this API's RPCs. */
    public static final String VERSION = "containerd-0.2";

    private final Path socket;
    private final ContainerdRuntime runtime;
    private final ServerServiceDefinition service;

    private ContainerdApi(Path socket, ContainerdRuntime runtime, ServerServiceDefinition service) {
        this.socket = socket;
        this.runtime = runtime;
        this.service = service;
    }

    /**
     * The API if the config has a {@code [legacy] containerd_api_socket}, else null: loads its records
     * ({@code <state>/records/containerd02}) and recovers its containers.
     */
    /**
     * Loads core's records of the API's containers, whether or not the config serves the API now: the handler
     * generations they run on must outlive a restart ({@link HandlerRegistry.Owner}). Returns whether all were read.
     */
    public static boolean loadRecords(RecordStore<BundleRecord> records) {
        var complete = new java.util.concurrent.atomic.AtomicBoolean(true);
        records.load((f, e) -> {
            System.getLogger(ContainerdApi.class.getName()).log(System.Logger.Level.ERROR,
                    "unreadable containerd 0.2 record {0}: {1}", f, e.getMessage());
            complete.set(false);
        });
        return complete.get();
    }

    /** The handler generations the recorded containers run on. */
    public static List<HandlerRegistry.Owner> owners(RecordStore<BundleRecord> records) {
        return records.all().stream().map(r -> new HandlerRegistry.Owner(r.handler(), r.generation())).toList();
    }

    /** The store of core's records of the API's containers. */
    public static RecordStore<BundleRecord> store(BerthConfig config, Metrics metrics) {
        return new RecordStore<>(config.state().resolve("records").resolve("containerd02"),
                BundleRecord.class, BundleRecord::id, nanos -> metrics.recordWrite("containerd02", nanos));
    }

    /** The API over {@code records} (loaded by {@link #loadRecords}), or null when the config names no socket. */
    public static ContainerdApi create(BerthConfig config, HandlerRegistry registry, CriRuntime cri, Metrics metrics,
                                       RecordStore<BundleRecord> records) {
        Path socket = config.legacy().containerdApiSocket();
        if (socket == null) {
            if (!records.all().isEmpty()) {
                System.getLogger(ContainerdApi.class.getName()).log(System.Logger.Level.WARNING,
                        "{0} containerd 0.2 API container(s) are recorded but [legacy] containerd_api_socket is not set:"
                        + " they keep running, and their handler generations are kept, until the API is served again",
                        records.all().size());
            }
            return null;
        }
        var runtime = new ContainerdRuntime(registry, config.legacy().containerdApiHandler(), records, cri);
        runtime.recover();
        List<UnaryRpc<?, ?>> unary = List.of(new CreateContainer(runtime), new UpdateContainer(runtime),
                new Signal(runtime), new AddProcess(runtime), new CreateCheckpoint(runtime),
                new DeleteCheckpoint(runtime), new ListCheckpoint(runtime), new State(runtime));
        List<StreamingRpc<?, ?>> streaming = List.of(new Events(runtime), new GetStats(runtime));
        var service = new CriServer(unary, streaming, metrics).service(APIGrpc.getServiceDescriptor(), VERSION);
        return new ContainerdApi(socket, runtime, service);
    }

    public Path socket() {
        return socket;
    }

    public ContainerdRuntime runtime() {
        return runtime;
    }

    public ServerServiceDefinition service() {
        return service;
    }
}
