package dev.berth.spi;

import java.time.Duration;
import java.util.List;

/**
 * One handler's backend: it runs pod sandboxes and their containers.
 *
 * <h2>Contract for every method</h2>
 * <ul>
 *   <li><b>Threading.</b> Every method is thread-safe. Core calls methods concurrently, for different pods and
 *       for the same pod. A backend serialises what must be serialised (e.g. per-container operations) itself.
 *       Calls may run on virtual threads: never hold a monitor across blocking I/O; use
 *       {@code java.util.concurrent.locks}.</li>
 *   <li><b>Errors.</b> Only {@link BackendException}. Its message is shown to the kubelet and to operators. Any
 *       method that touches the host may throw {@link BackendException.Kind#UNAVAILABLE UNAVAILABLE} (a
 *       dependency is missing or down), {@link BackendException.Kind#DEADLINE_EXCEEDED DEADLINE_EXCEEDED} (an
 *       external program, shim or guest did not answer in time) and {@link BackendException.Kind#INTERNAL
 *       INTERNAL} (a bug or an unexpected failure of an external program); each method lists the kinds it
 *       throws beyond these. Core maps any other exception to INTERNAL.</li>
 *   <li><b>Cleanup.</b> A create that fails leaves nothing behind: no runtime state, processes, mounts or
 *       cgroups. Core does not call remove after a failed create. After a create succeeded, core owns the
 *       object's cleanup: whatever fails later, it calls remove.</li>
 *   <li><b>Idempotency.</b> Stops and removes are idempotent and succeed for unknown ids, so that core can
 *       retry them after a crash. Creates are not: core never calls them twice for one id.</li>
 *   <li><b>Lifetime.</b> Sandboxes and containers outlive berth: a backend never ties a container's life to
 *       the JVM. See {@link Recoverable}.</li>
 * </ul>
 * Ids are unique per node and chosen by core. Core only calls container methods for containers created through
 * this backend, and only sandbox methods for its sandboxes.
 */
public interface RuntimeBackend extends AutoCloseable {

    /**
     * What this handler supports and needs. Cheap and free of side effects (compute once and cache anything
     * that probes the host); core calls it on every {@code Status} call and for every pod and container it
     * prepares. The answer must not change during the backend's life. Throws nothing.
     */
    BackendFeatures features();

    /**
     * What {@link #createSandbox} needs from core for this pod: whether it runs from the sandbox image and whether
     * the pod network must be in place first (see {@link BackendFeatures.Pod}). One method answering from the
     * spec, rather than fixed fields of {@link #features()}, because the answers depend on the pod in ways only
     * the backend knows.
     *
     * <p>Cheap and free of side effects; core may ask more than once for one pod, first with a spec that has no
     * {@link SandboxSpec#rootfs() root file system} and {@link SandboxSpec#image() image config} yet. The answer
     * must not depend on those two; everything else in the spec, the network namespace's path included, is what
     * {@code createSandbox} will get. Throws nothing: a pod the backend cannot run is refused by
     * {@code createSandbox}. The default is {@link BackendFeatures.Pod#of BackendFeatures.Pod.of(features())}.
     */
    default BackendFeatures.Pod podFeatures(SandboxSpec spec) {
        return BackendFeatures.Pod.of(features());
    }

    /**
     * Checks the host for what this handler needs (binaries, kernel features). Cheap enough for
     * {@code berth doctor}, startup and a periodic health check; must not change anything. Reports problems in
     * the result instead of throwing.
     */
    BackendHealth health();

    /**
     * Creates the sandbox (e.g. the pause container and the pod cgroup) without necessarily starting it.
     * Not idempotent: core never calls it twice for one id. On failure nothing is left behind; on success core
     * calls {@link #removeSandbox} whatever fails later, {@link #startSandbox} included.
     *
     * @throws BackendException {@code ALREADY_EXISTS} if the id is taken; {@code INVALID_ARGUMENT} for a spec the
     *     backend refuses (e.g. a sysctl it does not allow); {@code UNIMPLEMENTED} for an option it does not
     *     support
     */
    SandboxStatus createSandbox(SandboxSpec spec);

    /**
     * Starts a created sandbox; on return the sandbox is READY. Core calls it once, right after
     * {@link #createSandbox}; on failure core removes the sandbox.
     *
     * @throws BackendException {@code NOT_FOUND} if unknown
     */
    void startSandbox(String sandboxId);

    /**
     * Stops every process of the sandbox, containers first, each with at most {@code timeout} before it is
     * killed. Idempotent: stopping a stopped or unknown sandbox succeeds. The sandbox and its containers stay
     * known (in state NOTREADY and EXITED) until removed.
     */
    void stopSandbox(String sandboxId, Duration timeout);

    /**
     * The sandbox's current status. Read-only; may be called at any time, also while other calls for the
     * sandbox run.
     *
     * @throws BackendException {@code NOT_FOUND} if unknown
     */
    SandboxStatus sandboxStatus(String sandboxId);

    /**
     * Removes the sandbox and everything the backend created for it, stopping it first if needed. Idempotent:
     * removing an unknown or half-removed sandbox succeeds, so a failed removal is retried by calling it again.
     * Core removes the sandbox's containers before calling this.
     */
    void removeSandbox(String sandboxId);

    /**
     * Creates a container in a ready sandbox. Not idempotent: core never calls it twice for one id. On failure
     * nothing is left behind; on success core calls {@link #removeContainer} whatever fails later.
     *
     * @throws BackendException {@code ALREADY_EXISTS} if the id is taken; {@code NOT_FOUND} if the sandbox is
     *     unknown; {@code FAILED_PRECONDITION} if it is not ready; {@code INVALID_ARGUMENT} for a spec the backend
     *     refuses; {@code UNIMPLEMENTED} for an option it does not support
     */
    ContainerStatus createContainer(ContainerSpec spec);

    /**
     * Starts a created container. Not idempotent: a second start fails. If the process cannot be started, the
     * container stays known (EXITED, with the reason in its status) until core removes it.
     *
     * @throws BackendException {@code NOT_FOUND} if unknown; {@code FAILED_PRECONDITION} if it is not in state
     *     CREATED
     */
    void startContainer(String containerId);

    /**
     * Stops a container: its stop signal, then SIGKILL after {@code timeout} (zero means kill at once).
     * Idempotent: stopping an exited or unknown container succeeds. The container stays known (EXITED) until
     * removed.
     *
     * <p>Core does not serialise stops: the kubelet sends a second stop with a shorter timeout when a pod's
     * deletion is forced. A stop waiting out its grace period must not hold up other calls for the container: a
     * later stop kills it at that stop's own deadline, a remove kills it at once, and every waiting stop then
     * returns. A later stop need not send the stop signal again.
     */
    void stopContainer(String containerId, Duration timeout);

    /**
     * The container's current status. Read-only; may be called at any time, also while other calls for the
     * container run.
     *
     * @throws BackendException {@code NOT_FOUND} if unknown
     */
    ContainerStatus containerStatus(String containerId);

    /**
     * Removes a container and everything the backend created for it, stopping it first if it runs. Idempotent:
     * removing an unknown or half-removed container succeeds.
     */
    void removeContainer(String containerId);

    /**
     * Applies new resource limits to a running or created container. A field left at its "unset" value keeps
     * the limit in force. Repeatable: applying the same limits again changes nothing. A failed update may have
     * applied part of the limits; core reports the failure and the kubelet retries.
     *
     * @throws BackendException {@code NOT_FOUND} if unknown; {@code FAILED_PRECONDITION} if the container
     *     exited; {@code INVALID_ARGUMENT} for a value the kernel refuses; {@code UNIMPLEMENTED} if the backend
     *     cannot change limits
     */
    void updateContainer(String containerId, LinuxResources resources);

    /**
     * Runs a command in a running container and waits for it. On {@code timeout} (zero means none) the command
     * is killed and {@link BackendException.Kind#DEADLINE_EXCEEDED} is thrown; the container is unaffected. Not
     * idempotent (it runs the command each time); leaves no process behind, whatever the outcome. A non-zero
     * exit code is a result, not an error. A backend keeps at most 16 MiB of output and drops the rest, as the
     * field's runtimes do; core cuts the answer further to fit the CRI's message with its other fields.
     *
     * @throws BackendException {@code NOT_FOUND} if unknown; {@code FAILED_PRECONDITION} if the container is
     *     not running
     */
    ExecResult execSync(String containerId, List<String> command, Duration timeout);

    /**
     * Releases the backend's resources in the JVM (threads, connections). Containers keep running. Core calls it
     * once, when the handler's generation has lost its last pod or berth shuts down; it must not throw, and
     * calls still running then may fail.
     */
    @Override
    void close();
}
