package dev.berth.core;

import dev.berth.core.cri.CriRuntime;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.store.ContainerRecord;
import dev.berth.core.store.SandboxRecord;
import dev.berth.spi.BackendException;
import dev.berth.spi.Recoverable;
import java.util.ArrayList;
import java.util.List;

/**
 * What a start does with the records of an earlier berth before anything is served: a pod that was being created is
 * marked NOTREADY, every pod is bound to the handler generation that created it, and each handler that can recover
 * is handed the ids it owns; a pod whose handler is not configured stays listed as NOTREADY.
 */
final class StartupRecovery {
    private static final System.Logger LOG = System.getLogger(Daemon.class.getName());

    private StartupRecovery() {}

    static void recover(CriRuntime cri) {
        for (SandboxRecord s : cri.sandboxes().all()) {
            if (s.state() == SandboxRecord.State.CREATING) {
                LOG.log(System.Logger.Level.WARNING, "pod sandbox {0} was being created when berth stopped; marking it "
                        + "NOTREADY for the kubelet to remove", s.id());
                cri.sandboxes().put(s.withState(SandboxRecord.State.NOTREADY));
            }
        }
        for (Handler h : cri.dispatcher().registry().generations()) {
            List<String> sandboxIds = new ArrayList<>();
            for (SandboxRecord s : cri.sandboxes().all()) {
                if (s.handler().equals(h.name()) && s.generation() == h.generation()) {
                    sandboxIds.add(s.id());
                    cri.dispatcher().bind(s.id(), h);
                }
            }
            List<String> containerIds = cri.containers().all().stream()
                    .filter(c -> sandboxIds.contains(c.sandboxId())).map(ContainerRecord::id).toList();
            if (sandboxIds.isEmpty() || !(h.backend() instanceof Recoverable r)) {
                continue;
            }
            try {
                var report = r.recover(sandboxIds, containerIds);
                LOG.log(System.Logger.Level.INFO, "handler \"{0}\" recovered {1} pods and {2} containers; {3} lost",
                        h.label(), sandboxIds.size(), containerIds.size(), report.lost().size());
                for (String lost : report.lost()) {
                    LOG.log(System.Logger.Level.WARNING, "handler \"{0}\" could not recover {1}; it stays listed in an "
                            + "unknown state", h.label(), lost);
                }
            } catch (BackendException e) {
                LOG.log(System.Logger.Level.ERROR, "handler \"{0}\" failed to recover: {1}", h.label(), e.getMessage());
            }
        }
        for (SandboxRecord s : cri.sandboxes().all()) {
            if (cri.dispatcher().forSandboxOrNull(s) == null) {
                LOG.log(System.Logger.Level.WARNING, "pod sandbox {0} belongs to handler \"{1}\", which is not "
                        + "configured; it stays listed as NOTREADY", s.id(), s.handler());
            }
        }
    }
}
