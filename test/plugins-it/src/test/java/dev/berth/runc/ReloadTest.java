package dev.berth.runc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.testing.RealBackendDaemon;
import dev.berth.cri.v1.ContainerState;
import dev.berth.cri.v1.ContainerStatusRequest;
import dev.berth.cri.v1.ListPodSandboxRequest;
import dev.berth.spi.BackendEvent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A config reload that changes a runc handler's options while its pods run, through berth's daemon with the real
 * runc backend: the old pods stay on the backend generation that created them (its runtime root, its exit
 * watcher), report each exit once, and are stopped and removed there; new pods get the new options; the old
 * generation is closed and its state deleted with its last pod, also after a restart of berth in between.
 */
class ReloadTest {
    private static final Duration LONG = Duration.ofSeconds(30);
    /** How long a second exit event of one container is waited for before it is taken as not coming. */
    private static final Duration DUPLICATE_WINDOW = Duration.ofSeconds(2);

    private Path dir;
    private RealBackendDaemon berth;
    private final List<String> pods = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        Host.assumeRuntime("runc");
        // Short: conmon's attach socket lives at <state>/handlers/<name>@<n>/a/<64-hex id>/attach.
        do {
            dir = Path.of("/tmp", "rl" + ThreadLocalRandom.current().nextInt(10_000));
        } while (Files.exists(dir));
        Files.createDirectories(dir);
        berth = new RealBackendDaemon(dir, RealBackendDaemon.busyboxRootfs(dir.resolve("rootfs")),
                List.of(new RuncBackendFactory()));
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            if (berth.daemon() != null) {
                for (String pod : pods) {
                    try {
                        berth.stopAndRemovePod(pod);
                    } catch (RuntimeException e) {
                        System.err.println("cleanup of pod " + pod + ": " + e.getMessage());
                    }
                }
            }
        } finally {
            berth.stop();
            for (long pid : conmonsUnder(dir)) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
            Host.deleteTree(dir);
        }
    }

    private String config(String root) {
        return """
                default_runtime = "runc"
                [runtimes.runc]
                type = "runc"
                [runtimes.runc.options]
                root = "%s"
                """.formatted(dir.resolve(root));
    }

    private String pod(String name) {
        String id = berth.runPod(name, "");
        pods.add(id);
        return id;
    }

    private void remove(String pod) {
        berth.stopAndRemovePod(pod);
        pods.remove(pod);
    }

    private Path handlerState(String name) {
        return berth.stateDir().resolve("handlers").resolve(name);
    }

    /** Lets the container exit on its own and checks that berth reports the exit exactly once, with its code. */
    private void exitsOnceWithItsCode(String container, String name) throws IOException {
        assertThat(berth.runtime().containerStatus(ContainerStatusRequest.newBuilder().setContainerId(container)
                .build()).getStatus().getState()).as(name + " before it is let go").isEqualTo(ContainerState.CONTAINER_RUNNING);
        berth.release(name);
        assertThat(RealBackendDaemon.await(() -> !berth.events(BackendEvent.Type.STOPPED, container).isEmpty(), LONG))
                .as("exit event of " + name).isTrue();
        var status = berth.runtime().containerStatus(ContainerStatusRequest.newBuilder().setContainerId(container)
                .build()).getStatus();
        assertThat(status.getState()).isEqualTo(ContainerState.CONTAINER_EXITED);
        assertThat(status.getExitCode()).isEqualTo(7);
        assertThat(RealBackendDaemon.await(() -> berth.events(BackendEvent.Type.STOPPED, container).size() > 1,
                DUPLICATE_WINDOW)).as("a second exit event of " + name + ": " + berth.events()).isFalse();
    }

    @Test
    void oldPodsStayOnTheirGenerationAndReportEachExitOnce() throws Exception {
        berth.start(config("root-one"));
        String oldPod = pod("old");
        String oldCtr = berth.runWaitingContainer(oldPod, "old-app");

        berth.reload(config("root-two"));
        String newPod = pod("new");
        String newCtr = berth.runWaitingContainer(newPod, "new-app");
        // The option took effect for the new pod only: runc keeps each container's state under its --root.
        assertThat(dir.resolve("root-two").resolve(newCtr)).isDirectory();
        assertThat(dir.resolve("root-one").resolve(newCtr)).doesNotExist();
        assertThat(dir.resolve("root-one").resolve(oldCtr)).isDirectory();

        exitsOnceWithItsCode(oldCtr, "old-app");
        assertThat(handlerState("runc@1")).as("the new generation's own state directory").isDirectory();
        remove(oldPod);
        assertThat(dir.resolve("root-one").resolve(oldCtr)).doesNotExist();
        assertThat(handlerState("runc")).as("the old generation's state, deleted with its last pod").doesNotExist();

        exitsOnceWithItsCode(newCtr, "new-app");
        remove(newPod);
        assertThat(handlerState("runc@1")).as("the newest generation stays").isDirectory();
        assertThat(conmonsUnder(dir)).as("conmon processes left").isEmpty();
        assertThat(dev.berth.oci.FileTrees.mountsUnder(dir)).as("mounts left").isEmpty();
    }

    @Test
    void aRestartAfterAReloadKeepsPodsOfBothGenerationsManageable() throws Exception {
        berth.start(config("root-one"));
        String oldPod = pod("old");
        String oldCtr = berth.runWaitingContainer(oldPod, "old-app");
        berth.reload(config("root-two"));
        String newPod = pod("new");
        String newCtr = berth.runWaitingContainer(newPod, "new-app");

        berth.stop();
        berth.start(config("root-two"));
        assertThat(berth.runtime().listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList())
                .extracting(p -> p.getState().name()).containsExactly("SANDBOX_READY", "SANDBOX_READY");
        var oldStatus = berth.runtime().containerStatus(ContainerStatusRequest.newBuilder().setContainerId(oldCtr)
                .build()).getStatus();
        assertThat(oldStatus.getState()).as(oldStatus.toString()).isEqualTo(ContainerState.CONTAINER_RUNNING);

        exitsOnceWithItsCode(oldCtr, "old-app");
        remove(oldPod);
        assertThat(dir.resolve("root-one").resolve(oldCtr)).as("removed by the generation that ran it")
                .doesNotExist();
        assertThat(handlerState("runc")).doesNotExist();

        // A new pod after the restart goes to the newest generation, with its options.
        String later = pod("later");
        String laterCtr = berth.runWaitingContainer(later, "later-app");
        assertThat(dir.resolve("root-two").resolve(laterCtr)).isDirectory();

        exitsOnceWithItsCode(newCtr, "new-app");
        remove(newPod);
        remove(later);
        assertThat(conmonsUnder(dir)).as("conmon processes left").isEmpty();
    }

    /** Live conmon processes whose command line names {@code dir}. */
    private static List<Long> conmonsUnder(Path dir) throws IOException {
        List<Long> found = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.toList()) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    String cmd = Files.readString(p.resolve("cmdline")).replace('\0', ' ');
                    if (cmd.contains("conmon") && cmd.contains(dir.toString() + "/")
                            && dev.berth.oci.Processes.live(Long.parseLong(name))) {
                        found.add(Long.parseLong(name));
                    }
                } catch (IOException | RuntimeException e) {
                    // raced with an exiting process
                }
            }
        }
        return found;
    }
}
