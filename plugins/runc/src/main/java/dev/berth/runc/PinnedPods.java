package dev.berth.runc;

import dev.berth.runc.StateStore.SandboxRecord;
import dev.berth.spi.BackendException;
import dev.berth.spi.NamespaceMode;
import dev.berth.spi.SandboxSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Pods without a pause container: whether a pod can go without one, the namespaces it pins
 * ({@link PodNamespaces}) and whether they still hold, its sysctls, and when it is ready.
 */
final class PinnedPods {
    private PinnedPods() {}

    /**
     * Whether a pod can go without a pause container: the handler allows it, and nothing needs one. Its network
     * namespace is core's (or the host's); its UTS and IPC namespaces are pinned ({@link PodNamespaces}), and its
     * sysctls written into them ({@link PodNamespaces#writeSysctls}). A pod-wide pid namespace needs an init
     * process: {@link PauseProcess} (with the cgroupfs driver, which puts it in the pod cgroup). A pod without a
     * pinned network namespace keeps a pause container.
     */
    static boolean withoutPause(RuncOptions options, SandboxSpec spec) {
        return options.dropInfraContainer()
                && (spec.security().namespaces().pid() != NamespaceMode.POD
                        || (options.pauseProcess().isPresent() && !options.systemdCgroup()))
                && (spec.hostNetwork() || spec.netnsPath() != null);
    }

    /** Writes a pod's (validated) sysctls into its pinned namespaces; the kernel's refusal is the caller's error. */
    static void writeSysctls(String id, Path pins, Path netns, Map<String, String> sysctls) {
        try {
            PodNamespaces.writeSysctls(pins, netns, sysctls);
        } catch (IOException e) {
            throw BackendException.invalid("failed to create sandbox \"" + id + "\": " + e.getMessage());
        }
    }

    /** The namespaces a pod without a pause container pins: UTS unless host network, IPC unless host IPC. */
    static List<PodNamespaces.Kind> pinKinds(NamespaceMode network, NamespaceMode ipc) {
        List<PodNamespaces.Kind> kinds = new ArrayList<>();
        if (network != NamespaceMode.NODE) {
            kinds.add(PodNamespaces.Kind.UTS);
        }
        if (ipc != NamespaceMode.NODE) {
            kinds.add(PodNamespaces.Kind.IPC);
        }
        return kinds;
    }

    /** Whether the namespaces a pod without a pause container pinned are still there (a reboot drops them). */
    static boolean pinsHold(SandboxRecord rec) {
        return PodNamespaces.pinned(Path.of(rec.pins()),
                pinKinds(NamespaceMode.valueOf(rec.network()), NamespaceMode.valueOf(rec.ipc())));
    }

    /**
     * A pod without a pause container is ready from its start until its stop, while its namespaces are pinned and
     * its pause process, if it has one, lives.
     */
    static boolean pinnedReady(HandlerState state, SandboxRecord rec) {
        return Files.exists(state.bundle(rec.id()).resolve(RuncSandboxes.STARTED)) && pinsHold(rec)
                && pauseProcessLives(rec);
    }

    /** Whether a pod without a pause container has no pause process or has it still running. */
    static boolean pauseProcessLives(SandboxRecord rec) {
        return rec.pausePid() == 0 || PauseProcess.alive(rec.pausePid(), Path.of(rec.pins()));
    }
}
