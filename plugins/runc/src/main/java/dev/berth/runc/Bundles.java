package dev.berth.runc;

import dev.berth.oci.DurableFiles;
import dev.berth.oci.FileTrees;
import dev.berth.oci.spec.OciJson;
import dev.berth.oci.spec.RuntimeSpec;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendException.Kind;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Deque;
import java.util.List;

/**
 * Bundle directories under {@code <state>/b/<id>}: making one (replacing a leftover), mounting its root file system
 * and writing its config.json, each with its undo registered first, and taking one down again.
 */
final class Bundles {
    /** A file in a sandbox bundle naming the pod cgroup (cgroupfs driver). */
    static final String CGROUP = "cgroup";

    private final HandlerState state;
    private final System.Logger log;

    Bundles(HandlerState state) {
        this.state = state;
        this.log = state.log;
    }

    /** Creates an empty bundle directory, replacing a leftover one; registers its undo first. */
    void newBundle(String what, String id, Deque<Runnable> undo) {
        Path bundle = state.bundle(id);
        try {
            if (Files.exists(bundle)) {
                FileTrees.unmountAll(bundle);
                FileTrees.deleteTree(bundle);
            }
            Files.createDirectories(bundle);
            undo.push(() -> {
                try {
                    FileTrees.unmountAll(bundle);
                    FileTrees.deleteTree(bundle);
                } catch (IOException e) {
                    log.log(Level.WARNING, "cannot clean up bundle {0}: {1}", bundle, e.getMessage());
                }
            });
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to create " + what + " \"" + id + "\": "
                    + e.getMessage());
        }
    }

    /** Creates the bundle: directory, mounted rootfs, config.json; registers their undo first. */
    void prepareBundle(String what, String id, List<dev.berth.spi.MountSpec> rootfs, RuntimeSpec config,
                               Deque<Runnable> undo) {
        newBundle(what, id, undo);
        fillBundle(what, id, rootfs, config);
    }

    /** Mounts the root file system into a new bundle and writes its config.json. */
    void fillBundle(String what, String id, List<dev.berth.spi.MountSpec> rootfs, RuntimeSpec config) {
        Path bundle = state.bundle(id);
        try {
            if (rootfs.isEmpty()) {
                throw BackendException.invalid("failed to create " + what + " \"" + id + "\": no root file system");
            }
            Mounts.mountAll(rootfs, bundle.resolve("rootfs"));
            DurableFiles.write(bundle.resolve("config.json"), OciJson.mapper().writerWithDefaultPrettyPrinter()
                    .writeValueAsBytes(config));
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to create " + what + " \"" + id + "\": "
                    + e.getMessage());
        }
    }

    /** Notes the pod cgroup in the bundle, for {@link Recovery#removeLeftovers} should berth die before the record. */
    void noteCgroup(String id, String podCgroup) {
        if (podCgroup.isEmpty()) {
            return;
        }
        try {
            Files.writeString(state.bundle(id).resolve(CGROUP), podCgroup);
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to create sandbox \"" + id + "\": " + e.getMessage());
        }
    }

    void cleanupBundle(String verb, String id) {
        cleanupBundle(verb, id, null);
    }

    /**
     * Takes a bundle down once its container has exited. {@code alongside} (the runtime's delete and conmon's end),
     * when given, runs while the root file system is unmounted: the two touch different things (the runtime's state
     * and cgroup; the mount in berth's namespace) and each is some milliseconds of waiting on the kernel or on a
     * process. The bundle's files go once both are done.
     */
    void cleanupBundle(String verb, String id, Runnable alongside) {
        Path bundle = state.bundle(id);
        try {
            if (alongside == null) {
                FileTrees.unmountAll(bundle);
            } else {
                var failure = new java.util.concurrent.atomic.AtomicReference<IOException>();
                Thread unmount = Thread.ofVirtual().name("unmount " + id).start(() -> {
                    try {
                        FileTrees.unmountAll(bundle);
                    } catch (IOException e) {
                        failure.set(e);
                    }
                });
                try {
                    alongside.run();
                } finally {
                    joinUninterruptibly(unmount);
                }
                if (failure.get() != null) {
                    throw failure.get();
                }
            }
            FileTrees.deleteTree(bundle);
            Files.deleteIfExists(state.exits.resolve(id));
            Files.deleteIfExists(state.attach.resolve(id));
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to " + verb + " \"" + id + "\": " + e.getMessage());
        }
    }

    private static void joinUninterruptibly(Thread t) {
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
