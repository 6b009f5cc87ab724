package dev.berth.hcs;

import dev.berth.hcs.handle.ComputeSystem;
import dev.berth.hcs.handle.HcsException;
import dev.berth.hcs.handle.HcsProcess;
import dev.berth.hcs.log.ExitFile;
import dev.berth.hcs.log.RelayRecord;
import dev.berth.hcs.schema.Schema;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.Recoverable.Report;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * After a restart of berth: every pod and container with a record is opened again by id, and every running init
 * process by pid. An exit seen while berth ran is in the container's exit file; one that happened while berth was
 * down has an unknown exit code, unless the container's log relay, which outlives berth, wrote it. A log relay
 * found running is adopted: it keeps writing the log, and reopening the log is asked of it. Imported layers that
 * no recovered pod or container uses are removed.
 */
final class HcsRecovery {
    private final HcsEnv env;
    private final HcsRegistry registry;
    private final HcsInit init;

    HcsRecovery(HcsEnv env, HcsRegistry registry, HcsInit init) {
        this.env = env;
        this.registry = registry;
        this.init = init;
    }

    Report recover(List<String> sandboxIds, List<String> containerIds) {
        if (!env.bindings().available()) {
            List<String> lost = new ArrayList<>(sandboxIds);
            lost.addAll(containerIds);
            return new Report(lost);
        }
        List<String> lost = new ArrayList<>();
        for (String id : sandboxIds) {
            if (registry.pods.containsKey(id)) {
                continue;
            }
            Pod.PodRecord rec = env.state().load("pods", id, Pod.PodRecord.class);
            if (rec == null) {
                lost.add(id);
                continue;
            }
            Pod pod = new Pod(rec);
            try {
                pod.system = ComputeSystem.open(env.hcs(), id);
                pod.ready = running(pod.system);
            } catch (HcsException e) {
                pod.ready = false;
            }
            registry.pods.put(id, pod);
        }
        for (String id : containerIds) {
            if (registry.containers.containsKey(id)) {
                continue;
            }
            Ctr.CtrRecord rec = env.state().load("containers", id, Ctr.CtrRecord.class);
            if (rec == null) {
                lost.add(id);
                continue;
            }
            Ctr c = new Ctr(rec);
            c.startedAt = rec.startedAt();
            try {
                c.system = ComputeSystem.open(env.hcs(), id);
            } catch (HcsException e) {
                c.system = null;
            }
            Path exitFile = env.state().file("containers", id + ".exit");
            var relay = RelayRecord.read(env.state().file("containers", id + ".relay"));
            boolean relayGone = false;
            if (relay.isPresent()) {
                if (relay.get().adopt(exitFile) instanceof RelayRecord.Running) {
                    c.relay = relay.get();
                } else {
                    relayGone = true;
                }
            }
            var exit = ExitFile.read(exitFile);
            if (exit.isPresent()) {
                c.exitSeen.set(true);
                c.state = ContainerStatus.State.EXITED;
                c.exitCode = exit.get().code();
                c.finishedAt = exit.get().finishedAt();
                c.reason = c.exitCode == 0 ? "Completed" : "Error";
            } else if (rec.pid() != 0 && c.system != null) {
                try {
                    HcsProcess process = c.system.openProcess(rec.pid());
                    c.init = process;
                    c.state = ContainerStatus.State.RUNNING;
                    init.watch(c, process);
                } catch (HcsException e) {
                    init.onExit(c, -1);
                    c.message = "exited while berth was down; its exit code is unknown";
                }
                if (relayGone && c.state == ContainerStatus.State.RUNNING) {
                    c.message = "its log relay is gone: its output is no longer logged";
                }
            } else if (rec.pid() != 0) {
                init.onExit(c, -1);
                c.message = "its compute system is gone; exit code unknown";
            }
            registry.containers.put(id, c);
        }
        collectLayers();
        return new Report(lost);
    }

    /**
     * The layers no pod or container uses any more (their owners were removed while berth was down, or an import
     * was cut short) are destroyed. A failure is logged: it costs disk, not correctness.
     */
    private void collectLayers() {
        java.util.Set<String> live = new java.util.HashSet<>(registry.pods.keySet());
        live.addAll(registry.containers.keySet());
        try {
            List<String> removed = env.layerStore().gc(live);
            if (!removed.isEmpty()) {
                env.context().logger().log(System.Logger.Level.INFO, "removed " + removed.size()
                        + " unused Windows layer(s) from " + env.layerStore().root());
            }
        } catch (RuntimeException e) {
            env.context().logger().log(System.Logger.Level.WARNING, "cannot remove unused Windows layers: "
                    + e.getMessage());
        }
    }

    /**
     * Whether a system opened after a restart still runs: its State property (no property types asked for gives
     * the basic properties). A system that stopped while berth was down sends no SystemExited to a new handle.
     */
    private boolean running(ComputeSystem system) {
        try {
            Schema.Properties p = system.properties(new Schema.PropertyQuery(List.of()),
                    env.options().operationTimeout());
            return p.state() == null || p.state().equals("Running");
        } catch (HcsException e) {
            return false;
        }
    }
}
