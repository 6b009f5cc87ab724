package dev.berth.spi;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * One handler's backend: it runs pod sandboxes and their containers.
 *
 * <h2>Contract for every method</h2>
 * <ul>
 *   <li><b>Threading.</b> Core calls methods concurrently, for different pods and for the same pod. A backend
 *       serialises what must be serialised (e.g. per-container operations) itself. Calls may run on virtual
 *       threads: never hold a monitor across blocking I/O; use {@code java.util.concurrent.locks}.</li>
 *   <li><b>Errors.</b> Only {@link BackendException}. Its message is shown to the kubelet and to operators.</li>
 *   <li><b>Cleanup.</b> A create that fails leaves nothing behind: no runtime state, processes, mounts or
 *       cgroups. Core does not call remove after a failed create.</li>
 *   <li><b>Lifetime.</b> Sandboxes and containers outlive berth: a backend never ties a container's life to
 *       the JVM. See {@link Recoverable}.</li>
 * </ul>
 * Ids are unique per node and chosen by core. Core only calls container methods for containers created through
 * this backend, and only sandbox methods for its sandboxes.
 */
public interface RuntimeBackend extends AutoCloseable {

    /** What this handler supports. Cheap; may be called on every {@code Status} call. */
    BackendFeatures features();

    /**
     * Checks the host for what this handler needs (binaries, kernel features). Cheap enough for
     * {@code berth doctor} and startup; must not change anything.
     */
    BackendHealth health();

    /**
     * The sandbox image this handler wants instead of core's default, if its options set one.
     * Core pulls and pins it.
     */
    default Optional<String> sandboxImage() {
        return Optional.empty();
    }

    /**
     * Whether this backend runs sandboxes and containers from images. A backend that does not (such as the test
     * fake) returns false: core then resolves no images and prepares no root file systems for its pods.
     */
    default boolean usesImages() {
        return true;
    }

    /**
     * Whether {@link #createSandbox} needs the pod network in place: the interfaces and addresses CNI puts in the
     * pod's network namespace. A VM backend reads them when it creates the VM, so this is true by default. A
     * backend that only has its sandbox join the namespace returns false; core then runs CNI while the backend
     * creates and starts the sandbox, and finishes it before RunPodSandbox returns. Either way the namespace exists and is
     * pinned at {@link SandboxSpec#netnsPath()} when {@code createSandbox} is called.
     *
     * @param spec the sandbox about to be created (some pods, e.g. with network sysctls, may need the order)
     * @since 1.1.0
     */
    default boolean needsNetworkBeforeCreate(SandboxSpec spec) {
        return true;
    }

    /**
     * Whether {@link #createSandbox} runs this pod's sandbox from the sandbox image, that is, uses
     * {@link SandboxSpec#rootfs()} and {@link SandboxSpec#image()}. A backend that runs some pods without a
     * sandbox process (the runc backend's pods without a pause container) returns false for those; core then still
     * pulls and pins the sandbox image, as the kubelet expects, but prepares no root file system for the pod, and
     * the spec carries none. The spec asked about has no root file system and image config yet; everything else
     * in it, the network namespace's path included, is what {@code createSandbox} will get.
     *
     * @since 1.2.0
     */
    default boolean usesSandboxImage(SandboxSpec spec) {
        return usesImages();
    }

    /**
     * Creates the sandbox (e.g. the pause container and the pod cgroup) without necessarily starting it.
     * Not idempotent: core never calls it twice for one id. On failure nothing is left behind.
     */
    SandboxStatus createSandbox(SandboxSpec spec);

    /** Starts a created sandbox; on return the sandbox is READY. */
    void startSandbox(String sandboxId);

    /**
     * Stops every process of the sandbox, containers first, each with at most {@code timeout} before it is
     * killed. Idempotent: stopping a stopped or unknown sandbox succeeds.
     */
    void stopSandbox(String sandboxId, Duration timeout);

    /** The sandbox's current status; {@link BackendException.Kind#NOT_FOUND} if unknown. */
    SandboxStatus sandboxStatus(String sandboxId);

    /**
     * Removes the sandbox and everything the backend created for it. Stops it first if needed. Idempotent:
     * removing an unknown sandbox succeeds. Core removes the sandbox's containers before calling this.
     */
    void removeSandbox(String sandboxId);

    /** Creates a container in a ready sandbox. Not idempotent; on failure nothing is left behind. */
    ContainerStatus createContainer(ContainerSpec spec);

    /** Starts a created container. {@code FAILED_PRECONDITION} if it is not in state CREATED. */
    void startContainer(String containerId);

    /**
     * Stops a container: its stop signal, then SIGKILL after {@code timeout} (zero means kill at once).
     * Idempotent: stopping an exited or unknown container succeeds.
     */
    void stopContainer(String containerId, Duration timeout);

    /** The container's current status; {@link BackendException.Kind#NOT_FOUND} if unknown. */
    ContainerStatus containerStatus(String containerId);

    /** Removes a container, stopping it first if it runs. Idempotent: removing an unknown container succeeds. */
    void removeContainer(String containerId);

    /** Applies new resource limits to a running or created container. */
    void updateContainer(String containerId, LinuxResources resources);

    /**
     * Runs a command in a running container and waits for it. On {@code timeout} (zero means none) the command
     * is killed and {@link BackendException.Kind#DEADLINE_EXCEEDED} is thrown; the container is unaffected.
     */
    ExecResult execSync(String containerId, List<String> command, Duration timeout);

    /** Releases the backend's resources in the JVM (threads, connections). Containers keep running. */
    @Override
    void close();
}
