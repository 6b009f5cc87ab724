package dev.berth.core.network;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.core.store.AtomicFiles;
import dev.berth.spi.BackendException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Keeps one JSON file per pod under {@code <stateDir>/cni}: everything DEL needs (the config list as used for ADD,
 * the CNI args, the capability arguments and the final ADD result), so teardown works after a berth restart or
 * {@code kill -9}, and after the operator changed the CNI config. Files are replaced atomically (temp file, fsync,
 * rename, fsync of the directory).
 */
final class NetworkStateStore {
    private static final System.Logger LOG = System.getLogger(NetworkStateStore.class.getName());
    private static final String SUFFIX = ".json";

    /** Where a pod's network setup got to. */
    enum Phase {
        /** Written before the netns and ADD: whatever exists must be torn down. */
        SETTING_UP,
        /** ADD completed; {@code result} is the final result. */
        READY
    }

    /** The persisted network state of one pod. */
    record PodNetworkState(String sandboxId, Phase phase, String netnsPath, String ifName, String cniArgs,
                           String configSource, ObjectNode config, ObjectNode runtimeConfig, ObjectNode result) {
        /** The capability args sent with ADD, for DEL and CHECK too; records without any get an empty object. */
        ObjectNode runtimeArgs() {
            return runtimeConfig == null ? CniConfig.JSON.createObjectNode() : runtimeConfig;
        }

        PodNetworkState withResult(ObjectNode newResult) {
            return new PodNetworkState(sandboxId, Phase.READY, netnsPath, ifName, cniArgs, configSource, config,
                    runtimeConfig, newResult);
        }
    }

    private final Path dir;

    NetworkStateStore(Path dir) {
        this.dir = dir;
        removeStaleTemps();
    }

    /** Deletes the temp files of writes that a killed berth (another process) left half done. */
    private void removeStaleTemps() {
        try {
            AtomicFiles.removeStaleTemps(dir);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot clean up temp files in {0}: {1}", dir, e.getMessage());
        }
    }

    void write(PodNetworkState state) {
        try {
            AtomicFiles.write(file(state.sandboxId()),
                    CniConfig.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(state));
        } catch (IOException e) {
            throw BackendException.internal("failed to write network state of pod \"" + state.sandboxId() + "\": "
                    + e.getMessage(), e);
        }
    }

    /** The state of a pod; empty if there is none or the file is unreadable (which is logged). */
    Optional<PodNetworkState> read(String sandboxId) {
        Path file = file(sandboxId);
        try {
            return Optional.of(CniConfig.JSON.readValue(Files.readAllBytes(file), PodNetworkState.class));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "ignoring unreadable network state {0}: {1}", file, e.getMessage());
            return Optional.empty();
        }
    }

    void delete(String sandboxId) {
        try {
            Files.deleteIfExists(file(sandboxId));
            AtomicFiles.syncDirectory(dir);
        } catch (IOException e) {
            throw BackendException.internal("failed to delete network state of pod \"" + sandboxId + "\": "
                    + e.getMessage(), e);
        }
    }

    /** The ids of all pods with persisted network state. */
    Set<String> ids() {
        Set<String> ids = new TreeSet<>();
        try (Stream<Path> files = Files.list(dir)) {
            files.map(f -> f.getFileName().toString())
                    .filter(n -> n.endsWith(SUFFIX) && !n.startsWith("."))
                    .forEach(n -> ids.add(n.substring(0, n.length() - SUFFIX.length())));
        } catch (IOException e) {
            // no state dir yet: no pods
        }
        return ids;
    }

    private Path file(String sandboxId) {
        return dir.resolve(sandboxId + SUFFIX);
    }
}
