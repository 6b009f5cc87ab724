package dev.berth.runc;

import dev.berth.runc.ContainerProcesses.Exit;
import dev.berth.runc.StateStore.ContainerRecord;
import dev.berth.runc.StateStore.SandboxRecord;
import dev.berth.spi.BackendEvent;
import dev.berth.spi.Recoverable.Report;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * What survives a restart of berth: the records reloaded at recovery, the leftovers of a create that berth died
 * in the middle of, and the exits conmon reports while berth runs (published as STOPPED events).
 */
final class Recovery {
    private final HandlerState state;
    private final RuncOptions options;
    private final System.Logger log;
    private final ContainerProcesses processes;
    private final Bundles bundleFiles;

    Recovery(HandlerState state, ContainerProcesses processes, Bundles bundleFiles) {
        this.state = state;
        this.options = state.options;
        this.log = state.log;
        this.processes = processes;
        this.bundleFiles = bundleFiles;
    }

    Report recover(List<String> sandboxIds, List<String> containerIds) {
        state.load();
        // The berth-pause processes still running: their ends are reported from now on. The watcher checks that
        // the pid is still the sandbox's once it holds the process.
        for (SandboxRecord rec : state.sandboxes.values()) {
            if (!rec.pins().isEmpty() && rec.pausePid() > 0) {
                state.pauses.watch(rec.id(), rec.pausePid(), () -> PinnedPods.pauseProcessLives(rec));
            }
        }
        // A container whose first process ended while berth was down may have left processes running in a pid
        // namespace it shares (ContainerProcesses.killRemaining): they are killed now, off the start's path.
        List<String> exited = state.containers.keySet().stream().filter(id -> processes.exit(id).isPresent())
                .toList();
        if (!exited.isEmpty()) {
            Thread.ofVirtual().name("berth-runc-exited").start(() -> exited.forEach(id -> underLockIfKnown(id,
                    () -> processes.killRemaining(id))));
        }
        List<String> lost = new ArrayList<>();
        for (String id : sandboxIds) {
            if (!state.sandboxes.containsKey(id) || !Files.isDirectory(state.bundle(id))) {
                lost.add(id);
            }
        }
        for (String id : containerIds) {
            if (!state.containers.containsKey(id) || !Files.isDirectory(state.bundle(id))) {
                lost.add(id);
            }
        }
        if (!lost.isEmpty()) {
            log.log(Level.WARNING, "runtime handler {0}: could not recover {1}", state.handler, lost);
        }
        return new Report(lost);
    }

    /**
     * Removes what a create left when berth died between making the bundle and writing the record (core then
     * has the id, and the kubelet removes it): the runtime container and its conmon if any, the bundle's mounts
     * (root file system, /dev/shm, namespace pins) and files, and the cgroup the bundle names. Nothing is done
     * when there is no bundle, so removing an unknown id stays a no-op.
     */
    void removeLeftovers(String verb, String id) {
        if (!HandlerState.HEX_ID.matcher(id).matches() || !Files.isDirectory(state.bundle(id))) {
            return;
        }
        ReentrantLock lock = state.lock(id);
        lock.lock();
        try {
            if (state.sandboxes.containsKey(id) || state.containers.containsKey(id)
                    || !Files.isDirectory(state.bundle(id))) {
                return; // a create finished meanwhile, or another removal did this
            }
            log.log(Level.WARNING, "{0} \"{1}\": removing what an unfinished create left behind", verb, id);
            String cgroup = "";
            try {
                Path note = state.bundle(id).resolve(Bundles.CGROUP);
                Path config = state.bundle(id).resolve("config.json");
                if (Files.exists(note)) {
                    cgroup = Files.readString(note).strip();
                } else if (Files.exists(config) && !options.systemdCgroup()) {
                    cgroup = OciSpecs.JSON.readTree(config.toFile()).path("linux").path("cgroupsPath").asText("");
                }
            } catch (IOException e) {
                log.log(Level.WARNING, "cannot read the cgroup of {0}: {1}", id, e.getMessage());
            }
            processes.destroy(id);
            PauseProcess.kill(state.bundle(id), state.bundle(id).resolve(RuncSandboxes.PINS));
            bundleFiles.cleanupBundle(verb, id);
            if (!cgroup.isEmpty()) {
                Cgroups.remove(cgroup);
            }
        } finally {
            lock.unlock();
            state.locks.remove(id);
        }
    }

    void onExit(String id) {
        if (state.containers.containsKey(id)) {
            Thread.ofVirtual().start(() -> publishExit(id));
        } else if (state.sandboxes.containsKey(id)) {
            onSandboxEnd(id); // its pause container
        }
    }

    /** A sandbox's pause container or berth-pause process ended. */
    void onSandboxEnd(String id) {
        Thread.ofVirtual().start(() -> publishSandboxEnd(id));
    }

    /**
     * Publishes the end of a sandbox's pause container (the SPI's {@code SandboxEventSource}): STOPPED with the
     * sandbox's id as the container's, under the sandbox's lock, unless the sandbox was removed meanwhile.
     */
    void publishSandboxEnd(String id) {
        underLockIfKnown(id, () -> {
            if (state.sandboxes.containsKey(id)) {
                publishStopped(id, id);
            }
        });
    }

    /**
     * Publishes STOPPED for a container's exit, under the container's lock, so that STOPPED never overtakes the
     * STARTED of a quick process, and once its log is complete.
     */
    void publishExit(String id) {
        underLockIfKnown(id, () -> {
            processes.killRemaining(id); // first: what is left holds the log's pipe open
            LogJoiner.awaitDone(state.bundle(id), ContainerProcesses.JOIN_WAIT);
            ContainerRecord rec = state.containers.get(id);
            if (rec != null) {
                publishStopped(id, rec.sandboxId());
            }
        });
    }

    /**
     * Runs {@code publish} under the lock of container or sandbox {@code id}. It may have been removed since its
     * exit was seen: then there is nothing to publish, and no lock is made for it (it would stay in the map for
     * good).
     */
    private void underLockIfKnown(String id, Runnable publish) {
        ReentrantLock lock = state.lockIfKnown(id);
        if (lock == null) {
            return;
        }
        lock.lock();
        try {
            publish.run();
        } finally {
            lock.unlock();
        }
    }

    private void publishStopped(String id, String sandboxId) {
        state.context.events().publish(new BackendEvent(BackendEvent.Type.STOPPED, id, sandboxId,
                processes.exit(id).map(Exit::at).orElse(null)));
    }
}
