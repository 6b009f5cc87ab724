package dev.berth.kata;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.testing.RealBackendDaemon;
import dev.berth.cri.v1.ContainerState;
import dev.berth.cri.v1.ContainerStatusRequest;
import dev.berth.cri.v1.ListPodSandboxRequest;
import dev.berth.oci.FileTrees;
import dev.berth.spi.BackendEvent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A config reload that changes a kata handler's options while its pods run, through berth's daemon with the kata
 * backend on the real containerd-shim-runc-v2: each backend generation has its own events socket, so the old
 * pods' shims keep reporting to the generation that knows their pods (each exit once); new pods get the new
 * options; the old generation is closed with its last pod, also after a restart of berth in between.
 */
class KataReloadTest {
    private static final Duration LONG = Duration.ofSeconds(30);
    /** How long a second exit event of one container is waited for before it is taken as not coming. */
    private static final Duration DUPLICATE_WINDOW = Duration.ofSeconds(2);

    private Path dir;
    private RealBackendDaemon berth;
    private final List<String> pods = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        Assumptions.assumeTrue(ShimHost.usable(), "needs root, busybox, runc and containerd-shim-runc-v2");
        dir = Files.createTempDirectory("berth-kata-rl");
        berth = new RealBackendDaemon(dir, RealBackendDaemon.busyboxRootfs(dir.resolve("rootfs")),
                List.of(new KataBackendFactory()));
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
            ShimHost.sweep(berth.stateDir(), dir);
            FileTrees.deleteTree(dir);
        }
    }

    private static String config(boolean shimDebug) {
        return """
                default_runtime = "shimv2-runc"
                [runtimes.shimv2-runc]
                type = "kata"
                [runtimes.shimv2-runc.options]
                shim = "%s"
                stop_timeout = "20s"
                shim_debug = %s
                """.formatted(ShimHost.RUNC_SHIM, shimDebug);
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

    /** The command line of the pod's shim, which the handler's {@code shim_debug} option shows in. */
    private static String shimCommand(String pod) throws IOException {
        List<Long> shims = ShimHost.processesWith("-id " + pod).stream()
                .filter(pid -> command(pid).contains(ShimHost.RUNC_SHIM)).toList();
        assertThat(shims).as("shim of pod " + pod).hasSize(1);
        return command(shims.getFirst());
    }

    private static String command(long pid) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), "cmdline")).replace('\0', ' ');
        } catch (IOException e) {
            return "";
        }
    }

    /** Lets the container exit on its own and checks that berth reports the exit exactly once, with its code. */
    private void exitsOnceWithItsCode(String container, String name) throws IOException {
        assertThat(berth.runtime().containerStatus(ContainerStatusRequest.newBuilder().setContainerId(container)
                .build()).getStatus().getState()).as(name + " before it is let go")
                .isEqualTo(ContainerState.CONTAINER_RUNNING);
        berth.release(name);
        assertThat(RealBackendDaemon.await(() -> !berth.events(BackendEvent.Type.STOPPED, container).isEmpty(), LONG))
                .as("exit event of " + name + " from its shim").isTrue();
        var status = berth.runtime().containerStatus(ContainerStatusRequest.newBuilder().setContainerId(container)
                .build()).getStatus();
        assertThat(status.getState()).isEqualTo(ContainerState.CONTAINER_EXITED);
        assertThat(status.getExitCode()).isEqualTo(7);
        assertThat(RealBackendDaemon.await(() -> berth.events(BackendEvent.Type.STOPPED, container).size() > 1,
                DUPLICATE_WINDOW)).as("a second exit event of " + name + ": " + berth.events()).isFalse();
    }

    @Test
    void oldShimsKeepReportingToTheirGenerationAndNewPodsGetTheNewOptions() throws Exception {
        berth.start(config(false));
        String oldPod = pod("old");
        String oldCtr = berth.runWaitingContainer(oldPod, "old-app");

        berth.reload(config(true));
        String newPod = pod("new");
        String newCtr = berth.runWaitingContainer(newPod, "new-app");
        assertThat(shimCommand(newPod)).as("the new pod's shim, started with the new options").contains(" -debug");
        assertThat(shimCommand(oldPod)).doesNotContain("-debug");

        exitsOnceWithItsCode(oldCtr, "old-app");
        assertThat(handlerState("shimv2-runc@1").resolve("events.ttrpc")).as("the new generation's own socket")
                .exists();
        assertThat(handlerState("shimv2-runc").resolve("events.ttrpc")).as("the old generation's, still serving")
                .exists();
        remove(oldPod);
        assertThat(handlerState("shimv2-runc")).as("the old generation's state, deleted with its last pod")
                .doesNotExist();

        exitsOnceWithItsCode(newCtr, "new-app");
        remove(newPod);
        assertThat(ShimHost.processesWith(berth.stateDir().toString())).as("shims left").isEmpty();
        assertThat(FileTrees.mountsUnder(dir)).as("mounts left").isEmpty();
    }

    @Test
    void aRestartAfterAReloadRebindsEachGenerationsEventsSocket() throws Exception {
        berth.start(config(false));
        String oldPod = pod("old");
        String oldCtr = berth.runWaitingContainer(oldPod, "old-app");
        berth.reload(config(true));
        String newPod = pod("new");
        String newCtr = berth.runWaitingContainer(newPod, "new-app");

        berth.stop();
        berth.start(config(true));
        assertThat(berth.runtime().listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList())
                .extracting(p -> p.getState().name()).containsExactly("SANDBOX_READY", "SANDBOX_READY");

        // The old pod's shim publishes to the socket it was started with: its generation's, bound again.
        exitsOnceWithItsCode(oldCtr, "old-app");
        remove(oldPod);
        assertThat(handlerState("shimv2-runc")).doesNotExist();

        String later = pod("later");
        assertThat(shimCommand(later)).as("a pod after the restart gets the newest options").contains(" -debug");
        exitsOnceWithItsCode(newCtr, "new-app");
        remove(newPod);
        remove(later);
        assertThat(ShimHost.processesWith(berth.stateDir().toString())).as("shims left").isEmpty();
    }
}
