package dev.berth.core.cri;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.environment.Node;
import dev.berth.core.store.SandboxRecord;
import dev.berth.cri.v1.ListPodSandboxRequest;
import dev.berth.cri.v1.PodSandbox;
import dev.berth.cri.v1.PodSandboxState;
import dev.berth.cri.v1.PodSandboxStatusRequest;
import dev.berth.cri.v1.RemovePodSandboxRequest;
import dev.berth.cri.v1.RunPodSandboxRequest;
import dev.berth.cri.v1.StopPodSandboxRequest;
import dev.berth.spi.BackendContext;
import dev.berth.spi.BackendEvent;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.SandboxEventSource;
import dev.berth.spi.SandboxStatus;
import dev.berth.spi.testing.FakeBackend;
import dev.berth.spi.testing.FakeBackendFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PodSandboxStatus answers from memory for a backend that reports the end of its sandboxes' processes
 * ({@link SandboxEventSource}), and ListPodSandbox shows such a sandbox NOTREADY from the event on, as a kubelet's
 * relist must see; a backend without those events (or a sandbox it does not report) is asked on every status.
 */
class SandboxFromMemoryTest {
    static final AtomicInteger STATUS_CALLS = new AtomicInteger();
    /** Sandboxes whose end the evented fake does not report. */
    static final Set<String> UNREPORTED = ConcurrentHashMap.newKeySet();

    static class Counting extends FakeBackend {
        final BackendContext context;

        Counting(BackendContext context, Map<String, Object> options) {
            super(context, options);
            this.context = context;
        }

        @Override
        public SandboxStatus sandboxStatus(String sandboxId) {
            STATUS_CALLS.incrementAndGet();
            return super.sandboxStatus(sandboxId);
        }

        /** The sandbox's own process ends: the fake's state says so, and the end is published. */
        void end(String sandboxId) {
            super.stopSandbox(sandboxId, Duration.ZERO);
            context.events().publish(new BackendEvent(BackendEvent.Type.STOPPED, sandboxId, sandboxId, null));
        }
    }

    static final class Evented extends Counting implements SandboxEventSource {
        static volatile Evented last;

        Evented(BackendContext context, Map<String, Object> options) {
            super(context, options);
            last = this;
        }

        @Override
        public boolean reportsEnd(String sandboxId) {
            return !UNREPORTED.contains(sandboxId);
        }
    }

    static final class Polled extends Counting {
        static volatile Polled last;

        Polled(BackendContext context, Map<String, Object> options) {
            super(context, options);
            last = this;
        }
    }

    static final class Factory extends FakeBackendFactory {
        private final String type;

        Factory(String type) {
            this.type = type;
        }

        @Override
        public String type() {
            return type;
        }

        @Override
        public RuntimeBackend create(String handlerName, Map<String, Object> options, BackendContext context) {
            return type.equals("evented") ? new Evented(context, options) : new Polled(context, options);
        }
    }

    static final String CONFIG = """
            default_runtime = "evented"
            [runtimes.evented]
            type = "evented"
            [runtimes.polled]
            type = "polled"
            """;

    @TempDir
    Path dir;

    CriTestHarness h;

    @AfterEach
    void stop() {
        UNREPORTED.clear();
        if (h != null) {
            h.close();
        }
    }

    private String pod(String name, String handler) {
        return h.runtime.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(CriTestHarness.pod(name))
                .setRuntimeHandler(handler).build()).getPodSandboxId();
    }

    private PodSandboxState status(String id) {
        return h.runtime.podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(id).build())
                .getStatus().getState();
    }

    private PodSandboxState listed(String id) {
        return h.runtime.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList().stream()
                .filter(p -> p.getId().equals(id)).map(PodSandbox::getState).findFirst().orElseThrow();
    }

    @Test
    void anEventedSandboxIsAnsweredFromMemoryAndItsEndShowsInTheRelist() throws Exception {
        h = new CriTestHarness(dir, CONFIG, Node.none(), List.of(new Factory("evented"), new Factory("polled")));
        String p = pod("p", "");
        String q = pod("q", "");
        int calls = STATUS_CALLS.get();
        for (int i = 0; i < 5; i++) {
            assertThat(status(p)).isEqualTo(PodSandboxState.SANDBOX_READY);
        }
        assertThat(STATUS_CALLS.get()).as("the status kept after the start answers every read").isEqualTo(calls);
        assertThat(listed(p)).isEqualTo(PodSandboxState.SANDBOX_READY);

        Evented.last.end(p);
        assertThat(listed(p)).as("the relist sees the end at once, asking nothing")
                .isEqualTo(PodSandboxState.SANDBOX_NOTREADY);
        assertThat(listed(q)).isEqualTo(PodSandboxState.SANDBOX_READY);
        assertThat(STATUS_CALLS.get()).isEqualTo(calls);
        assertThat(status(p)).isEqualTo(PodSandboxState.SANDBOX_NOTREADY);
        assertThat(status(p)).isEqualTo(PodSandboxState.SANDBOX_NOTREADY);
        assertThat(STATUS_CALLS.get()).as("asked once after the end, then kept").isEqualTo(calls + 1);

        h.runtime.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(q).build());
        assertThat(listed(q)).isEqualTo(PodSandboxState.SANDBOX_NOTREADY);
        assertThat(status(q)).isEqualTo(PodSandboxState.SANDBOX_NOTREADY);
        assertThat(STATUS_CALLS.get()).as("a stop drops the kept status: asked once").isEqualTo(calls + 2);

        h.runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(p).build());
        h.runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(q).build());
        assertThat(h.daemon().cri().sandboxStates().size()).as("nothing kept for removed sandboxes").isZero();
    }

    @Test
    void aSandboxWithoutReportedEndsIsAskedOnEveryStatus() throws Exception {
        h = new CriTestHarness(dir, CONFIG, Node.none(), List.of(new Factory("evented"), new Factory("polled")));
        String polled = pod("polled", "polled");
        int calls = STATUS_CALLS.get();
        for (int i = 0; i < 3; i++) {
            assertThat(status(polled)).isEqualTo(PodSandboxState.SANDBOX_READY);
        }
        assertThat(STATUS_CALLS.get()).isEqualTo(calls + 3);
        Polled.last.end(polled);
        assertThat(status(polled)).isEqualTo(PodSandboxState.SANDBOX_NOTREADY);

        // An evented backend that does not report this sandbox's end.
        RunPodSandboxRequest req = RunPodSandboxRequest.newBuilder().setConfig(CriTestHarness.pod("unreported"))
                .build();
        h.daemon().cri().sandboxes().listen((before, after) -> {
            if (before == null && after != null) {
                UNREPORTED.add(after.id());
            }
        });
        String unreported = h.runtime.runPodSandbox(req).getPodSandboxId();
        calls = STATUS_CALLS.get();
        for (int i = 0; i < 3; i++) {
            assertThat(status(unreported)).isEqualTo(PodSandboxState.SANDBOX_READY);
        }
        assertThat(STATUS_CALLS.get()).isEqualTo(calls + 3);
        assertThat(h.daemon().cri().sandboxStates().settled(unreported)).isFalse();
    }

    /** A fake source over records made by hand. */
    private static final class Source implements SandboxStateCache.Source {
        final AtomicReference<SandboxStatus.State> state = new AtomicReference<>(SandboxStatus.State.READY);
        final AtomicInteger fetches = new AtomicInteger();
        volatile Runnable duringFetch = () -> { };

        @Override
        public boolean evented(SandboxRecord s) {
            return true;
        }

        @Override
        public SandboxStatus fetch(SandboxRecord s) {
            fetches.incrementAndGet();
            duringFetch.run();
            return new SandboxStatus(s.id(), state.get(), Instant.EPOCH, 0, Map.of());
        }
    }

    private static SandboxRecord ready(String id) {
        return new SandboxRecord(id, "n_ns", "n", "u", "ns", 0, "runc", "runc", "runc", Map.of(), Map.of(),
                Instant.EPOCH, new byte[0], null, null, List.of(), false, SandboxRecord.State.READY, 0);
    }

    @Test
    void anAnswerThatRacedAnEndIsNotKept() {
        Source source = new Source();
        SandboxStateCache cache = new SandboxStateCache(source);
        String id = "a".repeat(64);
        cache.track(id);
        SandboxRecord r = ready(id);
        source.duringFetch = () -> cache.accept(new BackendEvent(BackendEvent.Type.STOPPED, id, id, null));
        assertThat(cache.status(r).state()).isEqualTo(SandboxStatus.State.READY);
        assertThat(cache.settled(id)).as("asked before the end, answered after: not kept").isFalse();
        assertThat(cache.notReady(id)).isTrue();
        source.duringFetch = () -> { };
        source.state.set(SandboxStatus.State.NOTREADY);
        assertThat(cache.status(r).state()).isEqualTo(SandboxStatus.State.NOTREADY);
        assertThat(cache.settled(id)).isTrue();
        // A container's STOPPED in the pod is not the sandbox's end.
        String other = "b".repeat(64);
        cache.track(other);
        cache.accept(new BackendEvent(BackendEvent.Type.STOPPED, "c".repeat(64), other, null));
        assertThat(cache.notReady(other)).isFalse();
    }

    @Test
    void theRefreshAfterARestartFindsASandboxThatEndedMeanwhile() {
        Source source = new Source();
        SandboxStateCache cache = new SandboxStateCache(source);
        String id = "d".repeat(64);
        cache.track(id);
        source.state.set(SandboxStatus.State.NOTREADY);
        assertThat(cache.notReady(id)).as("nothing known before the refresh: the record says").isFalse();
        assertThat(cache.refresh(x -> ready(id))).as("nothing was kept, so nothing changed").isZero();
        assertThat(cache.notReady(id)).isTrue();
        int fetches = source.fetches.get();
        cache.refresh(x -> ready(id));
        assertThat(source.fetches.get()).as("a kept status is asked again by the minute's refresh")
                .isEqualTo(fetches + 1);
        cache.forget(id);
        assertThat(cache.size()).isZero();
    }
}
