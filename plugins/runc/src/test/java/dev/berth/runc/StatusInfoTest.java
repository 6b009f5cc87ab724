package dev.berth.runc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.runc.StateStore.ContainerRecord;
import dev.berth.runc.StateStore.SandboxRecord;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.SandboxStatus;
import dev.berth.spi.testing.TestingBackendContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The keys of the status info maps (verbose status, {@code berth explain}), for exited containers and pods whose
 * records and files a restarted backend finds: no runtime runs here, the exit files say they are gone.
 */
class StatusInfoTest {
    @TempDir
    Path dir;

    static final String POD = "a".repeat(64);
    static final String PINNED = "b".repeat(64);
    static final String CTR = "c".repeat(64);
    static final String SYSTEMD_CTR = "d".repeat(64);

    /** A pod's record as create writes it; its pause process {@code pid} (0: none), its pinned namespaces. */
    private static SandboxRecord pod(String id, String cgroupParent, String cgroupPath, long pid, String pinned) {
        return new SandboxRecord(id, "2026-12-03T15:00:00Z", cgroupParent, cgroupPath, "", "POD", "CONTAINER", "POD",
                "", "", "", List.of(), pid, "", pinned);
    }

    /** The exit files that say these pods' and containers' processes are gone. */
    private static void exited(Path state, String... ids) throws java.io.IOException {
        Files.createDirectories(state.resolve("exits"));
        for (String id : ids) {
            Files.writeString(state.resolve("exits").resolve(id), "0");
        }
    }

    @Test
    void containersAndPodsNameTheirConmonRuntimePidBundleAndCgroup() throws Exception {
        TestingBackendContext context = new TestingBackendContext("runc", dir);
        Path state = context.stateDir();
        StateStore store = new StateStore(state);
        store.put(pod(POD, "/kubepods", "/kubepods/pod-a", 3100, ""));
        store.put(pod(PINNED, "/kubepods", "/kubepods/pod-b", 0, state.resolve("b").resolve(PINNED).resolve("ns")
                .toString()));
        store.put(new ContainerRecord(CTR, POD, "app", "2026-12-03T15:00:01Z", "2026-12-03T15:00:02Z", "", "",
                "/kubepods/pod-a/" + CTR, 3200));
        // With the systemd driver the record keeps no cgroups path: the bundle's config.json has it.
        store.put(new ContainerRecord(SYSTEMD_CTR, POD, "sd", "2026-12-03T15:00:01Z", null, "", "", "", 0));
        for (String id : List.of(POD, PINNED, CTR, SYSTEMD_CTR)) {
            Files.createDirectories(state.resolve("b").resolve(id));
        }
        Files.writeString(state.resolve("b").resolve(POD).resolve("conmon.pid"), "3099\n");
        Files.writeString(state.resolve("b").resolve(CTR).resolve("conmon.pid"), "3199\n");
        Files.writeString(state.resolve("b").resolve(SYSTEMD_CTR).resolve("config.json"),
                "{\"linux\":{\"cgroupsPath\":\"kubepods.slice:berth:" + SYSTEMD_CTR + "\"}}");
        exited(state, POD, CTR, SYSTEMD_CTR);

        try (RuntimeBackend backend = new RuncBackendFactory().create("runc", Map.of(), context)) {
            String runtime = RuncOptions.parse("runc", Map.of(), state).binary().toString();

            ContainerStatus c = backend.containerStatus(CTR);
            assertThat(c.state()).isEqualTo(ContainerStatus.State.EXITED);
            assertThat(c.info()).containsExactlyInAnyOrderEntriesOf(Map.of(
                    "runtime", runtime,
                    "bundle", state.resolve("b").resolve(CTR).toString(),
                    "conmon_pid", "3199",
                    "runtime_pid", "3200",
                    "cgroup", "/kubepods/pod-a/" + CTR));

            ContainerStatus sd = backend.containerStatus(SYSTEMD_CTR);
            assertThat(sd.info()).as("never created: no conmon, no pid")
                    .doesNotContainKeys("conmon_pid", "runtime_pid")
                    .containsEntry("cgroup", "kubepods.slice:berth:" + SYSTEMD_CTR);

            SandboxStatus pod = backend.sandboxStatus(POD);
            assertThat(pod.state()).isEqualTo(SandboxStatus.State.NOTREADY);
            assertThat(pod.info()).containsExactlyInAnyOrderEntriesOf(Map.of(
                    "runtime", runtime,
                    "bundle", state.resolve("b").resolve(POD).toString(),
                    "conmon_pid", "3099",
                    "runtime_pid", "3100",
                    "cgroup", "/kubepods/pod-a"));

            SandboxStatus pinned = backend.sandboxStatus(PINNED);
            assertThat(pinned.info()).as("no pause container: no conmon")
                    .containsEntry("bundle", state.resolve("b").resolve(PINNED).toString())
                    .containsEntry("cgroup", "/kubepods/pod-b")
                    .containsEntry("pause", "none (namespaces pinned)")
                    .doesNotContainKeys("conmon_pid", "runtime_pid");
        }
    }

    @Test
    void withTheSystemdDriverTheCgroupIsMadeFromThePodNotReadFromTheBundle() throws Exception {
        TestingBackendContext context = new TestingBackendContext("runc", dir);
        Path state = context.stateDir();
        StateStore store = new StateStore(state);
        store.put(pod(POD, "kubepods-besteffort.slice", "", 3100, ""));
        store.put(new ContainerRecord(SYSTEMD_CTR, POD, "sd", "2026-12-03T15:00:01Z", null, "", "", "", 0));
        // No config.json in the bundle: the cgroups path comes from the pod's cgroup parent, as create made it.
        Files.createDirectories(state.resolve("b").resolve(SYSTEMD_CTR));
        exited(state, SYSTEMD_CTR);

        try (RuntimeBackend backend = new RuncBackendFactory().create("runc", Map.of("systemd_cgroup", true),
                context)) {
            assertThat(backend.containerStatus(SYSTEMD_CTR).info())
                    .containsEntry("cgroup", OciResources.cgroupsPath(true, "kubepods-besteffort.slice", POD,
                            SYSTEMD_CTR))
                    .containsEntry("cgroup", "kubepods-besteffort.slice:berth:" + SYSTEMD_CTR);
        }
    }
}
