package dev.berth.runc;

import dev.berth.oci.DurableFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The backend's records on disk, one JSON file per sandbox or container, each written atomically (temp file,
 * fsync, rename) so that a crash leaves either the old or the new record, never half of one.
 */
final class StateStore {
    /**
     * What berth must remember about a sandbox to serve it after a restart. {@code pins} is the directory holding
     * the pod's pinned UTS and IPC namespaces when it has no pause container, else empty. {@code pausePid} is the
     * pause container's process, or in a pod with pins its {@link PauseProcess} (0 if it has none).
     */
    record SandboxRecord(String id, String createdAt, String cgroupParent, String podCgroup, String netnsPath,
                         String network, String pid, String ipc, String resolvConf, String hostsFile,
                         String hostnameFile, List<Long> supplementalGroups, long pausePid, String shm,
                         String pins) {
        SandboxRecord {
            shm = shm == null ? "" : shm; // records written before the shared /dev/shm have none
            pins = pins == null ? "" : pins; // nor had records written before pods without a pause container
            supplementalGroups = supplementalGroups == null ? List.of() : List.copyOf(supplementalGroups);
        }
    }

    /** What berth must remember about a container. */
    record ContainerRecord(String id, String sandboxId, String name, String createdAt, String startedAt,
                           String logPath, String stopSignal, String cgroupsPath, long pid) {
        ContainerRecord started(Instant at) {
            return new ContainerRecord(id, sandboxId, name, createdAt, at.toString(), logPath, stopSignal, cgroupsPath, pid);
        }

        /** The container's pid if berth started it (its status then needs no runtime call), else 0. */
        long startedPid() {
            return startedAt != null ? pid : 0;
        }
    }

    /** Times are kept as ISO-8601 text: no extra Jackson module needed. */
    static Instant time(String s) {
        if (s == null || s.isEmpty()) {
            return null;
        }
        // Every status call reads its object's creation time, and Instant.parse was most of PodSandboxStatus's own
        // CPU: parsed times are kept, a bounded number of them.
        Instant t = PARSED.get(s);
        if (t == null) {
            t = Instant.parse(s);
            if (PARSED.size() >= PARSED_MAX) {
                PARSED.clear();
            }
            PARSED.put(s, t);
        }
        return t;
    }

    private static final int PARSED_MAX = 4096;
    private static final java.util.concurrent.ConcurrentHashMap<String, Instant> PARSED =
            new java.util.concurrent.ConcurrentHashMap<>();

    private final Path sandboxes;
    private final Path containers;

    StateStore(Path stateDir) throws IOException {
        this.sandboxes = Files.createDirectories(stateDir.resolve("sandboxes"));
        this.containers = Files.createDirectories(stateDir.resolve("containers"));
        DurableFiles.removeStaleTemps(sandboxes);
        DurableFiles.removeStaleTemps(containers);
    }

    void put(SandboxRecord r) throws IOException {
        DurableFiles.write(sandboxes.resolve(r.id() + ".json"), OciSpecs.JSON.writeValueAsBytes(r));
    }

    void put(ContainerRecord r) throws IOException {
        DurableFiles.write(containers.resolve(r.id() + ".json"), OciSpecs.JSON.writeValueAsBytes(r));
    }

    void deleteSandbox(String id) throws IOException {
        Files.deleteIfExists(sandboxes.resolve(id + ".json"));
    }

    void deleteContainer(String id) throws IOException {
        Files.deleteIfExists(containers.resolve(id + ".json"));
    }

    Optional<SandboxRecord> sandbox(String id) {
        return read(sandboxes.resolve(id + ".json"), SandboxRecord.class);
    }

    Optional<ContainerRecord> container(String id) {
        return read(containers.resolve(id + ".json"), ContainerRecord.class);
    }

    List<String> sandboxIds() {
        return ids(sandboxes);
    }

    List<String> containerIds() {
        return ids(containers);
    }

    private static List<String> ids(Path dir) {
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".json"))
                    .forEach(n -> out.add(n.substring(0, n.length() - 5)));
        } catch (IOException e) {
            return List.of();
        }
        return out;
    }

    private static <T> Optional<T> read(Path file, Class<T> type) {
        try {
            return Optional.of(OciSpecs.JSON.readValue(Files.readAllBytes(file), type));
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
