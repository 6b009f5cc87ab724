package dev.berth.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.spi.BackendException;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.ExecResult;
import dev.berth.spi.LinuxResources;
import dev.berth.spi.Recoverable;
import dev.berth.spi.SandboxSpec;
import dev.berth.spi.SandboxStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link LinuxBackend} hands each SPI call to the part the plugin gave for it, with its arguments. */
class LinuxBackendTest {
    private final List<String> calls = new ArrayList<>();
    private final ExecResult execResult = new ExecResult(new byte[0], new byte[0], 3);
    private final Recoverable.Report report = new Recoverable.Report(List.of("gone"));

    private final class FakeSandboxes implements LinuxBackend.Sandboxes {
        @Override
        public SandboxStatus create(SandboxSpec spec) {
            calls.add("sandbox create");
            return null;
        }

        @Override
        public void start(String sandboxId) {
            calls.add("sandbox start " + sandboxId);
        }

        @Override
        public void stop(String sandboxId, Duration timeout) {
            calls.add("sandbox stop " + sandboxId + " " + timeout.toSeconds());
        }

        @Override
        public SandboxStatus status(String sandboxId) {
            calls.add("sandbox status " + sandboxId);
            return null;
        }

        @Override
        public void remove(String sandboxId) {
            calls.add("sandbox remove " + sandboxId);
        }
    }

    private final class FakeContainers implements LinuxBackend.Containers {
        @Override
        public ContainerStatus create(ContainerSpec spec) {
            calls.add("container create");
            return null;
        }

        @Override
        public void start(String containerId) {
            calls.add("container start " + containerId);
        }

        @Override
        public void stop(String containerId, Duration timeout) {
            calls.add("container stop " + containerId + " " + timeout.toSeconds());
        }

        @Override
        public ContainerStatus status(String containerId) {
            calls.add("container status " + containerId);
            return null;
        }

        @Override
        public void remove(String containerId) {
            calls.add("container remove " + containerId);
        }

        @Override
        public void update(String containerId, LinuxResources resources) {
            calls.add("container update " + containerId + " " + resources.cpuShares());
        }
    }

    private final class FakeUsage implements LinuxBackend.PodUsage {
        @Override
        public ContainerUsage containerStats(String containerId) {
            calls.add("container stats " + containerId);
            return null;
        }

        @Override
        public SandboxUsage sandboxStats(String sandboxId) {
            calls.add("sandbox stats " + sandboxId);
            return null;
        }

        @Override
        public PodMetrics podMetrics(String sandboxId) {
            calls.add("pod metrics " + sandboxId);
            return null;
        }
    }

    private LinuxBackend backend() {
        return new LinuxBackend(new LinuxBackend.Parts(() -> {
            calls.add("features");
            return null;
        }, () -> {
            calls.add("health");
            return null;
        }, new FakeSandboxes(), new FakeContainers(), (id, cmd, timeout) -> {
            calls.add("exec sync " + id + " " + cmd + " " + timeout.toSeconds());
            return execResult;
        }, (id, cmd, io) -> {
            calls.add("exec " + id + " " + cmd);
            return 7;
        }, (id, io) -> calls.add("attach " + id), id -> calls.add("reopen log " + id), (id, port) -> {
            calls.add("connect " + id + " " + port);
            return null;
        }, new FakeUsage(), (sandboxIds, containerIds) -> {
            calls.add("recover " + sandboxIds + " " + containerIds);
            return report;
        }, () -> calls.add("close"))) {};
    }

    @Test
    void everyCallReachesItsPart() {
        LinuxBackend b = backend();
        b.features();
        b.health();
        b.startSandbox("p");
        b.stopSandbox("p", Duration.ofSeconds(2));
        b.sandboxStatus("p");
        b.removeSandbox("p");
        b.startContainer("c");
        b.stopContainer("c", Duration.ofSeconds(3));
        b.containerStatus("c");
        b.updateContainer("c", new LinuxResources(0, 0, 5, 0, 0, "", "", Map.of(), Map.of(), 0));
        b.removeContainer("c");
        assertThat(b.execSync("c", List.of("ls"), Duration.ofSeconds(4))).isSameAs(execResult);
        assertThat(b.exec("c", List.of("sh"), null)).isEqualTo(7);
        b.attach("c", null);
        b.reopenLog("c");
        b.connect("p", 8080);
        b.containerStats("c");
        b.sandboxStats("p");
        b.podMetrics("p");
        assertThat(b.recover(List.of("p"), List.of("c"))).isSameAs(report);
        b.close();
        assertThat(calls).containsExactly("features", "health", "sandbox start p", "sandbox stop p 2",
                "sandbox status p", "sandbox remove p", "container start c", "container stop c 3",
                "container status c", "container update c 5", "container remove c", "exec sync c [ls] 4",
                "exec c [sh]", "attach c", "reopen log c", "connect p 8080", "container stats c", "sandbox stats p",
                "pod metrics p", "recover [p] [c]", "close");
    }

    @Test
    void lookupsFailNotFoundNamingWhatWasAskedFor() {
        assertThat(Lookups.require(Map.of("a", 1), "container", "a")).isEqualTo(1);
        assertThatThrownBy(() -> Lookups.require(Map.of("a", 1), "sandbox", "b"))
                .isInstanceOfSatisfying(BackendException.class, e -> {
                    assertThat(e.kind()).isEqualTo(BackendException.Kind.NOT_FOUND);
                    assertThat(e.getMessage()).contains("sandbox").contains("\"b\"");
                });
    }

    @Test
    void anInterruptedCallIsUnavailableAndKeepsTheInterrupt() {
        try {
            BackendException e = Failures.interrupted("exec in container", "c1");
            assertThat(e.kind()).isEqualTo(BackendException.Kind.UNAVAILABLE);
            assertThat(e.getMessage()).isEqualTo("failed to exec in container \"c1\": interrupted");
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    void aPodsNetworkNamespaceIsItsPinElseItsLiveProcesssElseNone() {
        Path pin = Path.of("/run/netns/p");
        assertThat(NetworkNamespaces.ofPod(true, pin, ProcessHandle.current().pid())).as("host network").isNull();
        assertThat(NetworkNamespaces.ofPod(false, pin, 0)).isEqualTo(pin);
        long self = ProcessHandle.current().pid();
        assertThat(NetworkNamespaces.ofPod(false, null, self)).isEqualTo(Path.of("/proc/" + self + "/ns/net"));
        assertThat(NetworkNamespaces.ofPod(false, null, 0)).isNull();
        assertThat(NetworkNamespaces.podInterfaces("p", null)).isEmpty();
    }
}
