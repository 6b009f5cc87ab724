package dev.berth.core;

import dev.berth.core.cdi.CdiRegistry;
import dev.berth.core.config.ConfigLoader;
import dev.berth.core.config.CriEndpoint;
import dev.berth.core.cri.transport.CriTransports;
import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.CriServer;
import dev.berth.core.cri.WarmUp;
import dev.berth.core.cri.StreamingRpc;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.cri.container.CheckpointContainer;
import dev.berth.core.cri.containerd02.ContainerdApi;
import dev.berth.core.cri.containerd02.ContainerdRuntime;
import dev.berth.core.cri.container.ContainerEnvironment;
import dev.berth.core.cri.container.ContainerStatus;
import dev.berth.core.cri.container.CreateContainer;
import dev.berth.core.cri.container.ExecSync;
import dev.berth.core.cri.container.ListContainers;
import dev.berth.core.cri.container.RemoveContainer;
import dev.berth.core.cri.container.ReopenContainerLog;
import dev.berth.core.cri.container.StartContainer;
import dev.berth.core.cri.container.StopContainer;
import dev.berth.core.cri.container.UpdateContainerResources;
import dev.berth.core.cri.runtime.GetContainerEvents;
import dev.berth.core.cri.runtime.RuntimeConfig;
import dev.berth.core.cri.runtime.Status;
import dev.berth.core.cri.runtime.UpdateRuntimeConfig;
import dev.berth.core.cri.runtime.Version;
import dev.berth.core.cri.sandbox.ListPodSandbox;
import dev.berth.core.cri.sandbox.PodSandboxStatus;
import dev.berth.core.cri.sandbox.RemovePodSandbox;
import dev.berth.core.cri.sandbox.RunPodSandbox;
import dev.berth.core.cri.sandbox.SandboxEnvironment;
import dev.berth.core.cri.sandbox.StopPodSandbox;
import dev.berth.core.cri.sandbox.UpdatePodSandboxResources;
import dev.berth.core.cri.stats.ContainerStats;
import dev.berth.core.cri.stats.ListContainerStats;
import dev.berth.core.cri.stats.ListMetricDescriptors;
import dev.berth.core.cri.stats.ListPodSandboxMetrics;
import dev.berth.core.cri.stats.ListPodSandboxStats;
import dev.berth.core.cri.stats.PodSandboxStats;
import dev.berth.core.cri.image.ImageFsInfo;
import dev.berth.core.cri.image.ImageStatus;
import dev.berth.core.cri.image.ListImages;
import dev.berth.core.cri.image.PullImage;
import dev.berth.core.cri.image.RemoveImage;
import dev.berth.core.cri.streaming.Attach;
import dev.berth.core.cri.streaming.CriStreamTargets;
import dev.berth.core.cri.streaming.Exec;
import dev.berth.core.cri.streaming.PortForward;
import dev.berth.core.dispatch.Dispatcher;
import dev.berth.core.environment.Node;
import dev.berth.core.metrics.Metrics;
import dev.berth.core.metrics.ObjectGauges;
import dev.berth.core.streaming.StreamingServer;
import dev.berth.core.dispatch.EventHub;
import dev.berth.core.dispatch.HandlerHealth;
import dev.berth.core.dispatch.HandlerRegistry;
import dev.berth.core.admin.AdminState;
import dev.berth.core.admin.DrainHandler;
import dev.berth.core.admin.Explain;
import dev.berth.core.explain.ObjectHistory;
import dev.berth.core.tracing.Tracing;
import dev.berth.core.admin.ListHandlers;
import dev.berth.core.admin.ListPlugins;
import dev.berth.core.admin.UndrainHandler;
import dev.berth.core.plugin.PluginHost;
import dev.berth.core.store.ContainerRecord;
import dev.berth.core.store.RecordStore;
import dev.berth.core.store.SandboxRecord;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerServiceDefinition;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The berth daemon: loads state, creates the handlers, recovers pods from before a restart, and serves CRI.
 *
 * <p>Recovery assumptions, in order:
 * <ol>
 *   <li>Core's records are the list of what exists; they are written before the backend acts, so a crash can
 *       leave a record whose backend object never existed, but never the reverse.</li>
 *   <li>A record left in CREATING was cut off mid-RunPodSandbox: it is marked NOTREADY, so the kubelet stops and
 *       removes it, which cleans up whatever part was made.</li>
 *   <li>Each handler that can recover is handed the ids it owns before any RPC is served. Ids it cannot find
 *       stay listed, in an unknown state, rather than being dropped.</li>
 *   <li>Each record names the handler generation that created it. Every generation that still owns a record is
 *       re-created with the type and options it was created with, even when the config changed or dropped the
 *       handler meanwhile. A record whose generation cannot be re-created (its plugin is gone, or the record
 *       predates generations and its handler is no longer configured) stays listed as NOTREADY/UNKNOWN.</li>
 * </ol>
 */
public final class Daemon implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Daemon.class.getName());

    private final HandlerRegistry registry;
    private final PluginHost plugins;
    private final HandlerHealth health;
    private final CriRuntime cri;
    private final CriServer.Served services;
    private static final java.time.Duration STATE_REFRESH = java.time.Duration.ofMinutes(1);
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private Server server;
    private UnixSockets.EventLoops eventLoops;
    /** The named-pipe or TCP transport, closed after the server; null on a unix socket or in-process. */
    private CriTransports.Serving transport;

    private final StreamingServer streamingServer;
    private final Node node;
    private final Metrics metrics;
    private Tracing tracing = Tracing.off();
    private WarmUp warmUp = new WarmUp(0);
    /** The containerd 0.2 API ({@code [legacy] containerd_api_socket}), null when it is not served. */
    private final ContainerdApi containerd;
    private Server containerdServer;
    private UnixSockets.EventLoops containerdEventLoops;

    private Daemon(HandlerRegistry registry, PluginHost plugins, HandlerHealth health, CriRuntime cri,
                   CriServer.Served services, StreamingServer streamingServer, Node node,
                   Metrics metrics, ContainerdApi containerd) {
        this.containerd = containerd;
        this.registry = registry;
        this.plugins = plugins;
        this.health = health;
        this.cri = cri;
        this.services = services;
        this.streamingServer = streamingServer;
        this.node = node;
        this.metrics = metrics;
    }

    /**
     * Builds the daemon from a loaded config and plugin host, creates handlers and recovers state; with metrics
     * if the config has a {@code [metrics] address} (the node's own parts then record none).
     */
    public static Daemon create(ConfigLoader.Loaded loaded, PluginHost plugins, Node node) {
        return create(loaded, plugins, node, Metrics.fromConfig(loaded.config().metrics()));
    }

    /**
     * Builds the daemon, recording into {@code metrics} (the same instance the node's image service and
     * networking record into); its listener starts when the daemon serves.
     */
    public static Daemon create(ConfigLoader.Loaded loaded, PluginHost plugins, Node node, Metrics metrics) {
        SandboxEnvironment sandboxEnv = node.sandboxes();
        ContainerEnvironment containerEnv = node.containers();
        var config = loaded.config();
        EventHub events = new EventHub();
        Path records = config.state().resolve("records");
        var sandboxes = new RecordStore<>(records.resolve("sandboxes"), SandboxRecord.class, SandboxRecord::id,
                nanos -> metrics.recordWrite("sandboxes", nanos));
        var containers = new RecordStore<>(records.resolve("containers"), ContainerRecord.class, ContainerRecord::id,
                nanos -> metrics.recordWrite("containers", nanos));
        ObjectHistory history = new ObjectHistory();
        sandboxes.listen(history.sandboxes());
        containers.listen(history.containers());
        events.listen(history.events());
        var states = ObjectGauges.register(metrics, sandboxes, containers);
        if (states != null) {
            events.listen(states);
        }
        dev.berth.core.metrics.PluginGauges.register(metrics, plugins);
        var unreadable = new AtomicBoolean();
        sandboxes.load((f, e) -> {
            LOG.log(System.Logger.Level.ERROR, "unreadable sandbox record {0}: {1}", f, e.getMessage());
            unreadable.set(true);
        });
        containers.load((f, e) -> LOG.log(System.Logger.Level.ERROR, "unreadable container record {0}: {1}", f,
                e.getMessage()));
        // The records say which handler generations still own pods: those are re-created with their own options.
        HandlerRegistry registry = new HandlerRegistry(plugins.types(), config.state(), config.root(), events,
                metrics.backendObserver());
        var bundleRecords = ContainerdApi.store(config, metrics); // its containers own generations too, served or not
        boolean bundlesComplete = ContainerdApi.loadRecords(bundleRecords);
        registry.open(loaded, sandboxes.all(), !unreadable.get() && bundlesComplete,
                ContainerdApi.owners(bundleRecords));
        // A retiring plugin (removed or replaced archive) is unloaded when the last generation using it closes.
        registry.onGenerationClosed(() -> plugins.sweep(registry.loadersInUse()));
        HandlerHealth health = new HandlerHealth(registry);
        var cri = new CriRuntime(config, new Dispatcher(registry), sandboxes, containers, events);
        StartupRecovery.recover(cri);
        if (states != null) {
            cri.containerStates().onRefreshChange((id, status) -> states.observed(id, status.state()));
            // The gauge counts containers by state: the ones from before the start get theirs once the daemon serves.
            cri.containerStates().onSettledAfterStart((id, status) -> states.recovered(id, status.state()));
        }
        sandboxEnv.reconcile(cri.sandboxes().all().stream().map(SandboxRecord::id)
                .collect(java.util.stream.Collectors.toSet()));
        containerEnv.reconcile(cri.containers().all().stream().map(ContainerRecord::rootfsKey)
                .collect(java.util.stream.Collectors.toSet()));

        RemoveContainer removeContainer = new RemoveContainer(cri, containerEnv);
        List<UnaryRpc<?, ?>> unary = new ArrayList<>(List.of(
                new Version(),
                new Status(cri, sandboxEnv, health),
                new RuntimeConfig(cri),
                new UpdateRuntimeConfig(cri, sandboxEnv),
                new RunPodSandbox(cri, sandboxEnv, health),
                new StopPodSandbox(cri, sandboxEnv),
                new RemovePodSandbox(cri, sandboxEnv, removeContainer),
                new PodSandboxStatus(cri),
                new ListPodSandbox(cri),
                new CreateContainer(cri, containerEnv, new CdiRegistry(config.cdiSpecDirs())),
                new StartContainer(cri),
                new StopContainer(cri),
                removeContainer,
                new ListContainers(cri),
                new ContainerStatus(cri),
                new UpdateContainerResources(cri),
                new ReopenContainerLog(cri),
                new CheckpointContainer(cri),
                new UpdatePodSandboxResources(cri),
                new ExecSync(cri),
                new ContainerStats(cri, containerEnv),
                new ListContainerStats(cri, containerEnv),
                new PodSandboxStats(cri, containerEnv),
                new ListPodSandboxStats(cri, containerEnv),
                new ListMetricDescriptors(cri),
                new ListPodSandboxMetrics(cri, containerEnv)));
        if (node.images() != null) {
            unary.addAll(List.of(new ListImages(node.images()), new ImageStatus(node.images()),
                    new PullImage(node.images()), new RemoveImage(node.images()), new ImageFsInfo(node.images())));
        }
        StreamingServer streamingServer = null;
        if (node.streaming() != null) {
            streamingServer = new StreamingServer(node.streaming(), new CriStreamTargets(cri));
            streamingServer.start();
            dev.berth.core.metrics.StreamingGauges.register(metrics, streamingServer.stats());
            LOG.log(System.Logger.Level.INFO, "streaming server at {0}", streamingServer.baseUrl());
            unary.addAll(List.of(new Exec(cri, streamingServer), new Attach(cri, streamingServer),
                    new PortForward(cri, streamingServer)));
        }
        AdminState admin = new AdminState(plugins, plugins.dir(), registry, health);
        unary.addAll(List.of(new ListPlugins(admin), new ListHandlers(admin), new DrainHandler(admin),
                new UndrainHandler(admin), new Explain(cri, history, config.root().resolve("network").resolve("cni"))));
        List<StreamingRpc<?, ?>> streaming = List.of(new GetContainerEvents(cri));
        health.start(config.healthInterval());
        return new Daemon(registry, plugins, health, cri, new CriServer(unary, streaming, metrics, history).served(),
                streamingServer, node, metrics, ContainerdApi.create(config, registry, cri, metrics, bundleRecords));
    }

    /**
     * Traces RPCs with {@code tracing} (call before serving); the daemon closes it. Off by default, so that no
     * SDK is started unless the config or the environment ask for tracing.
     */
    public Daemon tracing(Tracing t) {
        this.tracing = t;
        return this;
    }

    /**
     * Makes {@code rounds} of the kubelet's polled calls to this daemon over its own unix socket once it serves
     * there ({@link WarmUp}); call before serving. None by default (in tests and for the image's training run).
     */
    public Daemon warmUp(int rounds) {
        this.warmUp = new WarmUp(rounds);
        return this;
    }

    /** Serves on {@code builder} (in-process in tests). */
    public Daemon serve(ServerBuilder<?> builder) throws IOException {
        metrics.listen(); // first: a metrics address that cannot be bound stops the start before CRI is served
        // The polling reads (InlineRead) run on the transport's thread; every other call on a virtual thread.
        builder.directExecutor().callExecutor(services.inlineReads().callExecutor(executor));
        // The warm-up's calls are marked, and are not traced; every other call goes on to tracing's interceptor.
        builder.intercept(warmUp.interceptor(tracing.interceptor()));
        services.now().forEach(builder::addService);
        builder.fallbackHandlerRegistry(services.onFirstCall());
        server = builder.build().start();
        // After a restart every container is unsettled, and the first relist would ask each one's backend: ask
        // them now, in the background, while the daemon already serves from its records.
        executor.execute(this::settleContainerStates);
        executor.execute(this::refreshContainerStates);
        // And from now on each container's state soon after a change drops it (a Start, a Stop, an exit).
        cri.containerStates().settleInBackground(executor, id -> cri.containers().get(id).orElse(null));
        // Likewise the pod network's readiness, which the first Status would otherwise check itself (the CNI
        // plugins' STATUS): the answer is kept for Status to read.
        executor.execute(this::checkNetworkReadiness);
        return this;
    }

    /**
     * Serves on the configured endpoint: a unix socket ({@link #serveUnix}), a Windows named pipe or TCP
     * ({@link CriTransports}).
     */
    public Daemon serve(CriEndpoint endpoint) throws IOException {
        if (endpoint instanceof CriEndpoint.Unix u) {
            return serveUnix(u.path());
        }
        CriTransports.Serving serving = CriTransports.server(endpoint);
        transport = serving;
        serve(serving.builder());
        serving.started();
        LOG.log(System.Logger.Level.INFO, "serving CRI runtime.v1, runtime.v1alpha2 and runtime (proto2) on {0}", endpoint);
        return this;
    }

    /**
     * Every minute, asks the backends again for the containers and sandboxes whose status core keeps (off the RPC
     * path): a safety net against an exit a backend failed to report. Ends when the daemon closes.
     */
    private void refreshContainerStates() {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                Thread.sleep(STATE_REFRESH.toMillis());
                int changed = cri.containerStates().refresh(id -> cri.containers().get(id).orElse(null));
                if (changed > 0) {
                    LOG.log(System.Logger.Level.WARNING, "{0} container(s) changed state without an event from "
                            + "their backend", changed);
                }
                int pods = cri.sandboxStates().refresh(id -> cri.sandboxes().get(id).orElse(null));
                if (pods > 0) {
                    LOG.log(System.Logger.Level.WARNING, "{0} sandbox(es) changed state without an event from "
                            + "their backend", pods);
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "container state refresh failed: " + e);
            }
        }
    }

    private void checkNetworkReadiness() {
        try {
            node.sandboxes().networkReadiness();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "pod network readiness not checked after the start: " + e);
        }
    }

    private void settleContainerStates() {
        try {
            // Sandboxes first (a file read each for runc): one whose process ended while berth was down shows
            // NOTREADY in the first relist that follows.
            cri.sandboxStates().refresh(id -> cri.sandboxes().get(id).orElse(null));
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "sandbox states not settled after the start: " + e);
        }
        try {
            int asked = cri.containerStates().settleUnsettled(id -> cri.containers().get(id).orElse(null));
            if (asked > 0) {
                LOG.log(System.Logger.Level.DEBUG, "asked the backends for the state of {0} container(s)", asked);
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "container states not settled after the start: " + e);
        }
    }

    /** Serves on a unix socket that only root can use (mode 0660, owner root). */
    public Daemon serveUnix(Path socket) throws IOException {
        Files.createDirectories(socket.toAbsolutePath().getParent());
        Files.deleteIfExists(socket);
        UnixSockets.Server unix = UnixSockets.server(socket);
        eventLoops = unix.eventLoops();
        serve(unix.builder());
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw----"));
        warmUp.start(() -> UnixSockets.channel(socket));
        LOG.log(System.Logger.Level.INFO, "serving CRI runtime.v1, runtime.v1alpha2 and runtime (proto2) on unix://{0}", socket);
        return this;
    }

    /**
     * Serves the containerd 0.2 API on its own socket ({@code [legacy] containerd_api_socket}, mode 0660), if the
     * config names one. Call after {@link #serve}.
     */
    public Daemon serveLegacy() throws IOException {
        if (containerd == null) {
            return this;
        }
        Path socket = containerd.socket();
        Files.createDirectories(socket.toAbsolutePath().getParent());
        Files.deleteIfExists(socket);
        UnixSockets.Server unix = UnixSockets.server(socket);
        containerdEventLoops = unix.eventLoops();
        serveLegacy(unix.builder());
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw----"));
        LOG.log(System.Logger.Level.INFO, "serving the containerd 0.2 API (types.API) on unix://{0}", socket);
        return this;
    }

    /** Serves the containerd 0.2 API on {@code builder} (in-process in tests); fails if the config has no socket. */
    public Daemon serveLegacy(ServerBuilder<?> builder) throws IOException {
        if (containerd == null) {
            throw new IllegalStateException("the config has no [legacy] containerd_api_socket");
        }
        builder.executor(executor);
        builder.addService(containerd.service());
        containerdServer = builder.build().start();
        return this;
    }

    /** The containerd 0.2 API's runtime, or null when it is not configured; for tests. */
    public ContainerdRuntime containerd() {
        return containerd == null ? null : containerd.runtime();
    }

    /**
     * Rescans the plugins directory, then re-reads the handler table: adds handlers, gives changed ones (new
     * options, or their type now from a newer plugin archive) a new generation, retires changed and removed ones;
     * existing pods keep their generation, which is closed when its last pod is removed. A plugin that fails to
     * load is reported and changes nothing; a handler table that fails to apply leaves the running one. Retiring
     * plugins no generation uses are unloaded either way. Reloads run one at a time (each SIGHUP has a thread).
     */
    public synchronized void reload(ConfigLoader.Loaded loaded) {
        var changes = plugins.rescan();
        if (changes.any()) {
            LOG.log(System.Logger.Level.INFO, "plugins rescanned: {0}", changes);
        }
        try {
            registry.apply(loaded, plugins.types());
            LOG.log(System.Logger.Level.INFO, "reloaded handlers: {0} (default {1})",
                    String.join(", ", registry.active().keySet()), registry.defaultName());
        } finally {
            plugins.sweep(registry.loadersInUse());
            health.refresh();
        }
    }

    /** The handlers' cached health. */
    public HandlerHealth health() {
        return health;
    }

    public HandlerRegistry registry() {
        return registry;
    }

    public CriRuntime cri() {
        return cri;
    }

    public Metrics metrics() {
        return metrics;
    }

    /** The warm-up's end, with the number of calls it made; for tests. */
    java.util.concurrent.CompletionStage<Integer> warmUpFinished() {
        return warmUp.finished();
    }

    /** The event loops of the unix socket server, or null when serving in-process; for tests. */
    UnixSockets.EventLoops eventLoops() {
        return eventLoops;
    }

    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    @Override
    public void close() {
        warmUp.close();
        if (containerdServer != null) {
            containerdServer.shutdownNow();
        }
        if (containerdEventLoops != null) {
            containerdEventLoops.close();
        }
        if (server != null) {
            server.shutdown();
            try {
                if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
                    server.shutdownNow();
                }
            } catch (InterruptedException e) {
                server.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
        if (eventLoops != null) {
            eventLoops.close();
        }
        if (transport != null) {
            transport.close();
        }
        if (streamingServer != null) {
            streamingServer.close();
        }
        health.close();
        metrics.close();
        tracing.close();
        registry.close();
        node.close();
        executor.shutdownNow();
    }
}
