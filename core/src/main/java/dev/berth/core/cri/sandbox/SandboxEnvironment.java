package dev.berth.core.cri.sandbox;

import dev.berth.core.dispatch.Handler;
import dev.berth.core.mapping.SpiMapper;
import dev.berth.cri.v1.PodSandboxConfig;
import java.util.Deque;

/**
 * What core prepares around a sandbox before the backend sees it, and tears down after: the pod network
 * (network namespace and CNI) and the sandbox image's root file system. Implementations push an
 * {@link RunPodSandbox.Undo} for every step they complete, so that a later failure rolls them back.
 */
public interface SandboxEnvironment {

    /**
     * Prepares the environment up to the pod's network namespace, which it creates and pins, but runs no network
     * plugin: the returned addresses are empty until {@link #connect}. On failure, what was done is already on
     * {@code undo}.
     */
    SpiMapper.Prepared prepare(String sandboxId, PodSandboxConfig config, Handler handler,
                               Deque<RunPodSandbox.Undo> undo);

    /**
     * Connects the namespace {@link #prepare} pinned to the pod network (CNI ADD) and writes the pod's hosts file
     * with its address; returns {@code prepared} with the pod's addresses. Safe to run while the backend creates the
     * sandbox in that namespace. A failure has already undone the network; the rest stays on the undo stack.
     */
    default SpiMapper.Prepared connect(String sandboxId, PodSandboxConfig config, SpiMapper.Prepared prepared) {
        return prepared;
    }

    /** Releases the network (idempotent); called by Stop and Remove. */
    void releaseNetwork(String sandboxId);

    /** Releases everything else (idempotent); called by Remove. */
    void release(String sandboxId);

    /**
     * At startup, before serving: releases what this environment holds for pods core has no record of (berth was
     * killed between preparing and recording, or between releasing and forgetting). Logs what it releases.
     */
    default void reconcile(java.util.Set<String> sandboxIds) {}

    /** Whether pods can get a network now, for the NetworkReady condition. */
    default Readiness networkReadiness() {
        return Readiness.READY;
    }

    /** The node's pod CIDR, from UpdateRuntimeConfig. */
    default void updatePodCidr(String cidr) {}

    /** A condition: ready, or why not. */
    record Readiness(boolean ready, String reason, String message) {
        public static final Readiness READY = new Readiness(true, "", "");
    }

    /** No network setup and no image: the backend makes its own namespaces and root. */
    SandboxEnvironment NONE = new SandboxEnvironment() {
        @Override
        public SpiMapper.Prepared prepare(String sandboxId, PodSandboxConfig config, Handler handler,
                                          Deque<RunPodSandbox.Undo> undo) {
            return SpiMapper.Prepared.NONE;
        }

        @Override
        public void releaseNetwork(String sandboxId) {}

        @Override
        public void release(String sandboxId) {}
    };
}
