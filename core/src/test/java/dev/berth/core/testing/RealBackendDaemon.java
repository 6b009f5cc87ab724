package dev.berth.core.testing;

import dev.berth.core.Daemon;
import dev.berth.core.config.ConfigLoader;
import dev.berth.core.cri.container.ContainerEnvironment;
import dev.berth.core.cri.sandbox.RunPodSandbox;
import dev.berth.core.cri.sandbox.SandboxEnvironment;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.environment.Node;
import dev.berth.core.mapping.SpiMapper;
import dev.berth.core.plugin.PluginHost;
import dev.berth.core.store.SandboxRecord;
import dev.berth.cri.v1.ContainerConfig;
import dev.berth.cri.v1.ContainerMetadata;
import dev.berth.cri.v1.CreateContainerRequest;
import dev.berth.cri.v1.ImageSpec;
import dev.berth.cri.v1.PodSandboxConfig;
import dev.berth.cri.v1.PodSandboxMetadata;
import dev.berth.cri.v1.RemovePodSandboxRequest;
import dev.berth.cri.v1.RunPodSandboxRequest;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.cri.v1.StartContainerRequest;
import dev.berth.cri.v1.StopPodSandboxRequest;
import dev.berth.spi.BackendEvent;
import dev.berth.spi.ImageConfig;
import dev.berth.spi.MountSpec;
import dev.berth.spi.RuntimeBackendFactory;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * berth's daemon over real backends, served in-process, for the plugins' tests of what core does with them
 * (reloads and restarts). The node has no image service and no CNI: every pod and container gets a busybox root
 * file system from the test, and pods make their own network namespace. Every event berth publishes is kept, in
 * order, across restarts of the daemon.
 */
public final class RealBackendDaemon implements AutoCloseable {
    /** The sandbox image every pod gets: busybox sleeping, for backends that run a pause container. */
    public static final ImageConfig PAUSE = new ImageConfig("sha256:pause", "busybox-pause", List.of("sleep"),
            List.of("100000"), List.of("PATH=/bin"), "", "", 0, 0, List.of(), "", Map.of());

    private final Path dir;
    private final Path rootfs;
    private final List<RuntimeBackendFactory> factories;
    private final List<BackendEvent> events = new CopyOnWriteArrayList<>();
    private Daemon daemon;
    private ManagedChannel channel;
    private ManagedChannel containerdChannel;
    private Thread pump;
    private BlockingQueue<BackendEvent> queue;
    private RuntimeServiceGrpc.RuntimeServiceBlockingStub runtime;
    private dev.berth.core.streaming.StreamingSettings streaming;

    /**
     * @param dir the test's directory, short (see {@link #stateDir}): config, state, root, logs
     * @param rootfs a busybox root file system (see {@link #busyboxRootfs}); bind-mounted read-write, so a test can
     *     signal its containers with files in it
     */
    public RealBackendDaemon(Path dir, Path rootfs, List<RuntimeBackendFactory> factories) {
        this.dir = dir;
        this.rootfs = rootfs;
        this.factories = List.copyOf(factories);
    }

    /** Starts (or restarts) the daemon with {@code handlers}, TOML for {@code default_runtime} and its tables. */
    /** Serves the streaming RPCs' URLs too (on a free loopback port) from the next {@link #start}. */
    public RealBackendDaemon withStreaming() {
        streaming = dev.berth.core.streaming.StreamingSettings.defaults();
        return this;
    }

    public RealBackendDaemon start(String handlers) throws IOException {
        daemon = Daemon.create(config(handlers), PluginHost.of(factories), new Node(new Pods(), new Containers(),
                null, streaming, List.of()));
        queue = daemon.cri().events().subscribe();
        BlockingQueue<BackendEvent> q = queue;
        pump = Thread.ofVirtual().start(() -> {
            try {
                while (true) {
                    events.add(q.take());
                }
            } catch (InterruptedException e) {
                // stopped
            }
        });
        String name = InProcessServerBuilder.generateName();
        daemon.serve(InProcessServerBuilder.forName(name));
        channel = InProcessChannelBuilder.forName(name).build();
        runtime = RuntimeServiceGrpc.newBlockingStub(channel);
        if (daemon.containerd() != null) {
            String legacy = InProcessServerBuilder.generateName();
            daemon.serveLegacy(InProcessServerBuilder.forName(legacy));
            containerdChannel = InProcessChannelBuilder.forName(legacy).build();
        }
        return this;
    }

    /** Reloads the handler table, as SIGHUP does. */
    public void reload(String handlers) throws IOException {
        daemon.reload(config(handlers));
    }

    /** Stops the daemon as berth stops: pods and containers keep running. */
    public void stop() {
        if (channel != null) {
            channel.shutdownNow();
            channel = null;
        }
        if (containerdChannel != null) {
            containerdChannel.shutdownNow();
            containerdChannel = null;
        }
        if (daemon != null) {
            daemon.close();
            daemon.cri().events().unsubscribe(queue);
            pump.interrupt();
            daemon = null;
        }
    }

    private ConfigLoader.Loaded config(String handlers) throws IOException {
        Path file = dir.resolve("config.toml");
        Files.writeString(file, "state = \"" + stateDir() + "\"\nroot = \"" + dir.resolve("root") + "\"\n"
                + handlers);
        return ConfigLoader.load(file, true);
    }

    /** berth's state directory: {@code <dir>/s}, short, as conmon's attach socket paths must stay under 108 bytes. */
    public Path stateDir() {
        return dir.resolve("s");
    }

    public Daemon daemon() {
        return daemon;
    }

    public RuntimeServiceGrpc.RuntimeServiceBlockingStub runtime() {
        return runtime;
    }

    /** The in-process channel to the daemon, for clients of other CRI versions. */
    public ManagedChannel channel() {
        return channel;
    }

    /**
     * The in-process channel to the containerd 0.2 API, when the handlers' TOML has a {@code [legacy]
     * containerd_api_socket}; else null.
     */
    public ManagedChannel containerdChannel() {
        return containerdChannel;
    }

    /** Every event published so far, in order. */
    public List<BackendEvent> events() {
        return List.copyOf(events);
    }

    /** The events of one type for one container so far. */
    public List<BackendEvent> events(BackendEvent.Type type, String containerId) {
        return events.stream().filter(e -> e.type() == type && e.containerId().equals(containerId)).toList();
    }

    /** Runs a pod on {@code handler} (empty: the default). */
    public String runPod(String name, String handler) {
        return runtime.runPodSandbox(RunPodSandboxRequest.newBuilder().setRuntimeHandler(handler)
                .setConfig(PodSandboxConfig.newBuilder()
                        .setMetadata(PodSandboxMetadata.newBuilder().setName(name).setNamespace("reload")
                                .setUid("uid-" + name))
                        .setHostname(name)
                        .setLogDirectory(dir.resolve("logs").resolve(name).toString()))
                .build()).getPodSandboxId();
    }

    /**
     * Creates and starts a container that waits until the file {@code /tmp/<name>} exists in the shared root file
     * system, then exits with code 7: it exits on its own when the test says so (see {@link #release}). The name
     * must be a plain word: it is written into the shell command.
     */
    public String runWaitingContainer(String podId, String name) {
        String id = runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(podId)
                .setConfig(ContainerConfig.newBuilder()
                        .setMetadata(ContainerMetadata.newBuilder().setName(name))
                        .setImage(ImageSpec.newBuilder().setImage("busybox"))
                        .addCommand("sh").addArgs("-c")
                        .addArgs("while [ ! -e /tmp/" + name + " ]; do sleep 0.1; done; exit 7")
                        .setLogPath(name + ".log"))
                .setSandboxConfig(PodSandboxConfig.getDefaultInstance())
                .build()).getContainerId();
        runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(id).build());
        return id;
    }

    /** Lets the container {@link #runWaitingContainer} made with {@code name} exit. */
    public void release(String name) throws IOException {
        Files.writeString(rootfs.resolve("tmp").resolve(name), "go");
    }

    public void stopAndRemovePod(String podId) {
        runtime.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(podId).build());
        runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(podId).build());
    }

    /** The record of a pod. */
    public SandboxRecord record(String podId) {
        return daemon.cri().sandbox(podId);
    }

    /** The handler generation a pod is bound to. */
    public Handler handlerOf(String podId) {
        return daemon.cri().dispatcher().forSandbox(record(podId));
    }

    /** Waits for {@code condition}, polling; false if it did not hold within {@code timeout}. */
    public static boolean await(java.util.function.BooleanSupplier condition, Duration timeout) {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            if (condition.getAsBoolean()) {
                return true;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return condition.getAsBoolean();
    }

    /** A busybox root file system under {@code dir}: the static binary, its applets, /etc files, mount points. */
    public static Path busyboxRootfs(Path dir) throws IOException {
        for (String d : List.of("bin", "proc", "sys", "dev", "etc", "tmp", "root")) {
            Files.createDirectories(dir.resolve(d));
        }
        Files.copy(Path.of("/bin/busybox"), dir.resolve("bin/busybox"));
        for (String applet : List.of("sh", "sleep", "echo", "cat", "true", "test", "[")) {
            Files.createSymbolicLink(dir.resolve("bin").resolve(applet), Path.of("busybox"));
        }
        for (String f : List.of("etc/hosts", "etc/resolv.conf", "etc/hostname")) {
            Files.writeString(dir.resolve(f), "");
        }
        Files.writeString(dir.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
        Files.writeString(dir.resolve("etc/group"), "root:x:0:\n");
        return dir;
    }

    private List<MountSpec> rootfsMounts() {
        return List.of(new MountSpec("bind", rootfs.toString(), "", List.of("rbind", "rw")));
    }

    /** Pods: the busybox root and the pause image, no network namespace of core's (the backend makes one). */
    private final class Pods implements SandboxEnvironment {
        @Override
        public SpiMapper.Prepared prepare(String sandboxId, PodSandboxConfig config, Handler handler,
                                          Deque<RunPodSandbox.Undo> undo) {
            return new SpiMapper.Prepared(null, "", List.of(), rootfsMounts(), PAUSE, null, null, null);
        }

        @Override
        public void releaseNetwork(String sandboxId) {}

        @Override
        public void release(String sandboxId) {}
    }

    /** Containers: the busybox root; the command comes from the request. */
    private final class Containers implements ContainerEnvironment {
        @Override
        public Prepared prepare(String containerId, ContainerConfig config, SandboxRecord sandbox, Handler handler,
                                Deque<RunPodSandbox.Undo> undo) {
            ImageConfig image = new ImageConfig("sha256:busybox", "busybox", List.of(), List.of("sh"),
                    List.of("PATH=/bin"), "", "", 0, 0, List.of(), "", Map.of());
            return new Prepared(image, "sha256:busybox", rootfsMounts(), "", config.getImage().getImage(),
                    "sha256:busybox");
        }

        @Override
        public void release(String rootfsKey) {}
    }

    @Override
    public void close() {
        stop();
    }
}
