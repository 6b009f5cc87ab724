package dev.berth.runc;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.oci.Lookups;
import dev.berth.runc.StateStore.ContainerRecord;
import dev.berth.runc.StateStore.SandboxRecord;
import dev.berth.spi.BackendContext;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendException.Kind;
import dev.berth.spi.BackendFeatures;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Collectors;

/**
 * What every part of one runc handler shares: its options and runtime command line, its directories under the
 * state dir ({@code b/<id>} bundles, conmon's {@code exits} and attach sockets in {@code a}), the sandbox and
 * container records (mirrored from {@link StateStore}), and the per-id locks that serialise operations on one id.
 */
final class HandlerState {
    /** The ids core hands out; only such an id names a bundle that a removal may clean up. */
    static final java.util.regex.Pattern HEX_ID = java.util.regex.Pattern.compile("[0-9a-f]{64}");
    /** Capabilities added since Linux 5.8, which runsc 2022-12 refuses ("unknown capability \"CAP_PERFMON\""). */
    private static final Set<String> UNKNOWN_TO_RUNSC = Set.of("CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE");

    final String handler;
    final RuncOptions options;
    final BackendContext context;
    final System.Logger log;
    final StateStore store;
    final Path bundles;
    final Path exits;
    /** Wakes the calls waiting for an exit file in {@link #exits}. */
    final ExitSignals exitSignals = new ExitSignals();
    /** The berth-pause processes whose end is reported (see {@link PauseWatcher}); closed with the backend. */
    final PauseWatcher pauses;
    final Path attach;
    final RuntimeCli cli;
    final Map<String, SandboxRecord> sandboxes = new ConcurrentHashMap<>();
    final Map<String, ContainerRecord> containers = new ConcurrentHashMap<>();
    final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();
    /**
     * The containers this daemon created and has not yet tried to start or stop: while conmon supervises one and has
     * written no exit file it is created for certain, and its status needs no {@code runtime state}. Not persisted:
     * after a restart the runtime is asked, since berth may have died after a start it did not get to record.
     */
    final Set<String> createdHere = ConcurrentHashMap.newKeySet();
    private final OciSpecs.Host host;
    private volatile BackendFeatures features;
    private volatile String systemdRoot;
    /** The pod slices berth made with the systemd driver: systemd made them for its scopes ({@link PodSlices}). */
    final PodSlices slices;
    /** The process specs of the execs run in this handler's containers, kept per container and command. */
    final ExecSpecs execSpecs = new ExecSpecs();

    HandlerState(String handler, RuncOptions options, BackendContext context) {
        this.handler = handler;
        this.options = options;
        this.context = context;
        this.log = context.logger();
        this.pauses = new PauseWatcher(log);
        Path state = context.stateDir();
        try {
            this.store = new StateStore(state);
            this.bundles = Files.createDirectories(state.resolve("b"));
            this.exits = Files.createDirectories(state.resolve("exits"));
            this.attach = Files.createDirectories(state.resolve("a"));
            Files.createDirectories(options.root());
        } catch (IOException e) {
            throw new BackendException(Kind.UNAVAILABLE, "failed to prepare state directory for runtime handler \""
                    + handler + "\": " + e.getMessage());
        }
        this.cli = new RuntimeCli(options);
        this.slices = new PodSlices(this, state.resolve("slices"));
        this.host = new OciSpecs.Host(ownOomScoreAdj(), false, options.systemdCgroup(), HandlerState::readJson,
                grantable(options));
        load();
    }

    /**
     * The capabilities a container may get: the host's bounding set; for runsc without those its gVisor kernel
     * does not know (a privileged or ALL-capabilities container would not start at all).
     */
    private static Set<String> grantable(RuncOptions options) {
        Set<String> caps = OciSpecs.Host.boundingSet();
        if (!options.runsc()) {
            return caps;
        }
        return caps.stream().filter(c -> !UNKNOWN_TO_RUNSC.contains(c)).collect(Collectors.toUnmodifiableSet());
    }

    /** Reads the records of the store into memory. */
    void load() {
        for (String id : store.sandboxIds()) {
            store.sandbox(id).ifPresent(r -> sandboxes.put(id, r));
        }
        for (String id : store.containerIds()) {
            store.container(id).ifPresent(r -> containers.put(id, r));
        }
    }

    BackendFeatures features() {
        BackendFeatures f = features;
        if (f == null) {
            f = HostChecks.features(options);
            features = f;
        }
        return f;
    }

    /** The host facts for spec generation, with rro support known once features() has been asked. */
    OciSpecs.Host host() {
        return new OciSpecs.Host(host.ownOomScoreAdj(), features().recursiveReadOnlyMounts(), host.systemdCgroup(),
                host.seccompLoader(), host.grantableCaps());
    }

    int ownOomScoreAdjustment() {
        return host.ownOomScoreAdj();
    }

    /**
     * The cgroup a container's usage is read from: its record's with the cgroupfs driver; with the systemd driver
     * the cgroup systemd made for its scope ({@link SystemdCgroups#cgroup}) or crun's subgroup of it, or empty
     * when its pod is gone.
     */
    String cgroupOf(ContainerRecord c) {
        if (!options.systemdCgroup()) {
            return c.cgroupsPath();
        }
        SandboxRecord sb = sandboxes.get(c.sandboxId());
        if (sb == null) {
            return "";
        }
        String scope;
        try {
            scope = SystemdCgroups.cgroup(systemdRoot(), SystemdCgroups.cgroupsPath(sb.cgroupParent(), c.id()));
        } catch (IllegalArgumentException e) {
            return "";
        }
        // crun puts the process in a subgroup of its scope, "container" unless told otherwise; the scope's own
        // cgroup.procs is then empty.
        String sub = scope + "/" + SystemdCgroups.CRUN_SUBGROUP;
        for (Cgroups.Hierarchy h : Cgroups.hierarchies()) {
            if (Files.isDirectory(h.mountPoint().resolve(Cgroups.relative(sub)))) {
                return sub;
            }
        }
        return scope;
    }

    /**
     * A pod's cgroup, for its usage: the pod cgroup with the cgroupfs driver; with the systemd driver its slice,
     * or its pause container's scope when the slice is one of systemd's own (no cgroup parent) and holds more.
     */
    String podCgroupOf(SandboxRecord sb) {
        if (!options.systemdCgroup()) {
            return sb.podCgroup();
        }
        try {
            String slice = SystemdCgroups.slice(sb.cgroupParent());
            return SystemdCgroups.stoppable(slice) ? SystemdCgroups.sliceCgroup(systemdRoot(), slice)
                    : SystemdCgroups.cgroup(systemdRoot(), SystemdCgroups.cgroupsPath(sb.cgroupParent(), sb.id()));
        } catch (IllegalArgumentException e) {
            return "";
        }
    }

    /** systemd's root cgroup ({@link SystemdCgroups#root()}), read once. */
    String systemdRoot() {
        String r = systemdRoot;
        if (r == null) {
            r = SystemdCgroups.root();
            systemdRoot = r;
        }
        return r;
    }

    /** The id's lock, made if need be: for a create, and for a removal (which drops it again when done). */
    ReentrantLock lock(String id) {
        return locks.computeIfAbsent(id, k -> new ReentrantLock());
    }

    /**
     * The lock of a sandbox or container berth has a record of, or null once it is removed. For work that finds an
     * id before it takes the lock (an exit, a stop): a removal may finish in between, and {@link #lock} would then
     * make an entry that nothing removes. A removal takes the lock (making the entry) before it drops the record, and
     * drops the entry only after, so an id with a record always finds its entry here, and one without never adds one.
     * The caller re-checks the record under the lock.
     */
    ReentrantLock lockIfKnown(String id) {
        return locks.compute(id, (k, l) -> l != null || !sandboxes.containsKey(k) && !containers.containsKey(k) ? l
                : new ReentrantLock());
    }

    /** Ends a create: unlocks, and drops the lock it made if the create left no record (as a removal drops it). */
    void endCreate(String id, ReentrantLock lock) {
        lock.unlock();
        if (!sandboxes.containsKey(id) && !containers.containsKey(id)) {
            locks.remove(id, lock);
        }
    }

    Path bundle(String id) {
        return bundles.resolve(id);
    }

    List<ContainerRecord> containersOf(String sandboxId) {
        return containers.values().stream().filter(c -> c.sandboxId().equals(sandboxId)).toList();
    }

    SandboxRecord requireSandbox(String id) {
        return Lookups.require(sandboxes, "sandbox", id);
    }

    ContainerRecord requireContainer(String id) {
        return Lookups.require(containers, "container", id);
    }

    void persist(SandboxRecord r, String verb) {
        try {
            store.put(r);
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to " + verb + " \"" + r.id() + "\": " + e.getMessage());
        }
    }

    void persist(ContainerRecord r, String verb) {
        try {
            store.put(r);
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to " + verb + " \"" + r.id() + "\": " + e.getMessage());
        }
    }

    /** Runs the undo steps a failed create registered, last first; a failing step is logged and skipped. */
    void rollback(Deque<Runnable> undo) {
        while (!undo.isEmpty()) {
            try {
                undo.pop().run();
            } catch (RuntimeException e) {
                log.log(Level.WARNING, "rollback step failed: {0}", e.getMessage());
            }
        }
    }

    /** Fails unless the runtime and conmon are installed. */
    void requirePrograms(String verb, String id) {
        for (Path p : List.of(options.binary(), options.conmon())) {
            if (!Files.isExecutable(p)) {
                throw new BackendException(Kind.UNAVAILABLE, "failed to " + verb + " \"" + id + "\": " + p
                        + " is not installed or not executable");
            }
        }
    }

    static String str(Path p) {
        return p == null ? "" : p.toString();
    }

    static Path path(String s) {
        return s == null || s.isEmpty() ? null : Path.of(s);
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BackendException(Kind.INTERNAL, "interrupted");
        }
    }

    private static int ownOomScoreAdj() {
        try {
            return Integer.parseInt(Files.readString(Path.of("/proc/self/oom_score_adj")).strip());
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    private static JsonNode readJson(Path file) {
        try {
            return OciSpecs.JSON.readTree(file.toFile());
        } catch (IOException e) {
            return null; // OciSpecs names the container and the file
        }
    }
}
