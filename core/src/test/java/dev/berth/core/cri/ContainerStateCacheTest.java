package dev.berth.core.cri;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.core.store.ContainerRecord;
import dev.berth.core.util.NonBlocking;
import dev.berth.spi.BackendEvent;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.ContainerStatus.State;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ContainerStateCacheTest {
    /** A backend's answers, counted; {@code during} runs inside a fetch, as an event arriving meanwhile. */
    static final class Backend implements ContainerStateCache.Source {
        final Map<String, State> states = new HashMap<>();
        final AtomicInteger fetches = new AtomicInteger();
        boolean evented = true;
        Runnable during = () -> { };

        @Override
        public boolean evented(ContainerRecord c) {
            return evented;
        }

        @Override
        public ContainerStatus fetch(ContainerRecord c) {
            fetches.incrementAndGet();
            State s = states.getOrDefault(c.id(), State.UNKNOWN);
            Runnable r = during;
            during = () -> { };
            r.run();
            return new ContainerStatus(c.id(), s, Instant.EPOCH, null, null, s == State.EXITED ? 137 : 0, "", "", 0,
                    Map.of());
        }
    }

    private static ContainerRecord ctr(String id) {
        return new ContainerRecord(id, "pod", "k-" + id, id, 0, "busybox", "sha256:1", Map.of(), Map.of(),
                Instant.EPOCH, "", null, "");
    }

    private static BackendEvent event(BackendEvent.Type type, String id) {
        return new BackendEvent(type, id, "pod", null);
    }

    @Test
    void aStatusIsKeptUntilAnEventForTheContainer() {
        var backend = new Backend();
        var cache = new ContainerStateCache(backend);
        cache.track("c1");
        backend.states.put("c1", State.RUNNING);
        assertEquals(State.RUNNING, cache.status(ctr("c1")).state());
        assertEquals(State.RUNNING, cache.status(ctr("c1")).state());
        assertEquals(1, backend.fetches.get(), "the second read is answered from memory");

        backend.states.put("c1", State.EXITED); // the process exited: the backend reports it
        cache.accept(event(BackendEvent.Type.STOPPED, "c1"));
        ContainerStatus after = cache.status(ctr("c1"));
        assertEquals(State.EXITED, after.state());
        assertEquals(137, after.exitCode());
        assertEquals(2, backend.fetches.get());
        cache.status(ctr("c1"));
        assertEquals(2, backend.fetches.get());
    }

    @Test
    void anAnswerThatRacedAnEventIsNotKept() {
        var backend = new Backend();
        var cache = new ContainerStateCache(backend);
        cache.track("c1");
        backend.states.put("c1", State.RUNNING);
        // The exit happens and is reported while the read waits for the backend's (now stale) answer.
        backend.during = () -> {
            backend.states.put("c1", State.EXITED);
            cache.accept(event(BackendEvent.Type.STOPPED, "c1"));
        };
        assertEquals(State.RUNNING, cache.status(ctr("c1")).state());
        assertFalse(cache.settled("c1"));
        assertEquals(State.EXITED, cache.status(ctr("c1")).state());
        assertTrue(cache.settled("c1"));
    }

    @Test
    void unknownIsNeverKeptAndABackendWithoutEventsIsAlwaysAsked() {
        var backend = new Backend();
        var cache = new ContainerStateCache(backend);
        cache.track("c1");
        cache.status(ctr("c1")); // UNKNOWN: the backend could not say
        cache.status(ctr("c1"));
        assertEquals(2, backend.fetches.get());

        backend.evented = false;
        backend.states.put("c1", State.RUNNING);
        cache.status(ctr("c1"));
        cache.status(ctr("c1"));
        assertEquals(4, backend.fetches.get());
        assertFalse(cache.settled("c1"));
    }

    @Test
    void startAndStopCallsInvalidateAsEventsDo() {
        var backend = new Backend();
        var cache = new ContainerStateCache(backend);
        cache.track("c1");
        backend.states.put("c1", State.CREATED);
        assertEquals(State.CREATED, cache.status(ctr("c1")).state());
        backend.states.put("c1", State.RUNNING);
        cache.invalidate("c1"); // StartContainer ran (whether or not STARTED follows)
        assertEquals(State.RUNNING, cache.status(ctr("c1")).state());
    }

    @Test
    void stateCandidatesAreTheSettledOnesInTheStateAndEveryUnsettledOne() {
        var backend = new Backend();
        var cache = new ContainerStateCache(backend);
        for (String id : new String[] {"r1", "r2", "x1", "u1"}) {
            cache.track(id);
        }
        backend.states.putAll(Map.of("r1", State.RUNNING, "r2", State.RUNNING, "x1", State.EXITED));
        for (String id : new String[] {"r1", "r2", "x1"}) {
            cache.status(ctr(id));
        }
        assertEquals(Set.of("r1", "r2", "u1"), cache.candidates(State.RUNNING));
        assertEquals(Set.of("x1", "u1"), cache.candidates(State.EXITED));
        backend.states.put("r1", State.EXITED);
        cache.accept(event(BackendEvent.Type.STOPPED, "r1"));
        assertEquals(Set.of("r1", "r2", "u1"), cache.candidates(State.RUNNING), "r1 is unsettled now");
        cache.status(ctr("r1"));
        assertEquals(Set.of("r2", "u1"), cache.candidates(State.RUNNING));
        assertEquals(Set.of("x1", "r1", "u1"), cache.candidates(State.EXITED));
    }

    @Test
    void aRemovedContainerLeavesNothingBehindEvenWhenARaceReadsIt() {
        var backend = new Backend();
        var cache = new ContainerStateCache(backend);
        cache.track("c1");
        backend.states.put("c1", State.EXITED);
        backend.during = () -> cache.forget("c1"); // RemoveContainer while ListContainers asks the backend
        cache.status(ctr("c1"));
        assertEquals(0, cache.size());
        assertEquals(Set.of(), cache.candidates(State.EXITED));
        cache.track("c2");
        backend.states.put("c2", State.RUNNING);
        cache.status(ctr("c2"));
        cache.forget("c2");
        assertEquals(0, cache.size());
        assertEquals(Set.of(), cache.candidates(State.RUNNING));
        assertEquals(State.RUNNING, cache.status(ctr("c2")).state(), "an untracked container is still answered");
    }

    @Test
    void refreshCatchesAnExitNoEventReported() {
        var backend = new Backend();
        var cache = new ContainerStateCache(backend);
        cache.track("c1");
        cache.track("c2");
        backend.states.put("c1", State.RUNNING);
        backend.states.put("c2", State.RUNNING);
        cache.status(ctr("c1"));
        cache.status(ctr("c2"));
        var told = new java.util.concurrent.ConcurrentHashMap<String, State>();
        cache.onRefreshChange((id, status) -> told.put(id, status.state()));
        backend.states.put("c1", State.EXITED); // and the backend reported nothing
        assertEquals(State.RUNNING, cache.status(ctr("c1")).state());
        assertEquals(1, cache.refresh(ContainerStateCacheTest::ctr));
        assertEquals(java.util.Map.of("c1", State.EXITED), told, "the listener hears of the change, and only it");
        int fetches = backend.fetches.get();
        assertEquals(State.EXITED, cache.status(ctr("c1")).state());
        assertEquals(fetches, backend.fetches.get(), "the refreshed status is kept");
        assertEquals(0, cache.refresh(ContainerStateCacheTest::ctr));
    }

    @Test
    void settlingAfterARestartAsksOnceForEachUnsettledContainer() {
        var backend = new Backend();
        var cache = new ContainerStateCache(backend);
        cache.track("c1");
        cache.track("c2");
        backend.states.put("c1", State.RUNNING);
        backend.states.put("c2", State.EXITED);
        assertEquals(2, cache.settleUnsettled(ContainerStateCacheTest::ctr));
        assertTrue(cache.settled("c1"));
        assertTrue(cache.settled("c2"));
        assertEquals(Set.of("c1"), cache.candidates(State.RUNNING));
        assertEquals(0, cache.settleUnsettled(ContainerStateCacheTest::ctr), "nothing is left to ask");
        assertEquals(State.EXITED, cache.status(ctr("c2")).state());
        assertEquals(2, backend.fetches.get(), "the relist is answered from memory");
    }

    @Test
    void afterTheStartSettleEveryContainersStateIsToldWithOneBackendCallEach() {
        for (boolean evented : new boolean[] {true, false}) {
            var backend = new Backend();
            backend.evented = evented;
            var cache = new ContainerStateCache(backend);
            Map<String, State> told = new HashMap<>();
            cache.onSettledAfterStart((id, status) -> told.put(id, status.state()));
            cache.track("c1");
            cache.track("c2");
            backend.states.put("c1", State.RUNNING);
            backend.states.put("c2", State.EXITED);
            assertTrue(told.isEmpty(), "nothing is told before the settle");
            cache.settleUnsettled(ContainerStateCacheTest::ctr);
            assertEquals(Map.of("c1", State.RUNNING, "c2", State.EXITED), told, "evented=" + evented);
            assertEquals(2, backend.fetches.get(), "evented=" + evented);
        }
    }

    @Test
    void settlingSkipsContainersWithoutARecordOrWithoutEvents() {
        var backend = new Backend();
        backend.evented = false;
        var cache = new ContainerStateCache(backend);
        cache.track("c1");
        cache.track("gone");
        assertEquals(0, cache.settleUnsettled(id -> id.equals("gone") ? null : ctr(id)));
        assertEquals(0, backend.fetches.get(), "a backend without events is asked on each read anyway");
        assertFalse(cache.settled("c1"));
    }

    @Test
    void onAThreadThatMustNotBlockOnlyAKeptStatusIsAnswered() {
        var backend = new Backend();
        var cache = new ContainerStateCache(backend);
        cache.track("c1");
        backend.states.put("c1", State.RUNNING);
        // Unsettled: answering would ask the backend, so a non-blocking read gives up before it does.
        assertThrows(NonBlocking.WouldBlock.class, () -> NonBlocking.call(() -> cache.status(ctr("c1"))));
        assertEquals(0, backend.fetches.get());
        assertEquals(State.RUNNING, cache.status(ctr("c1")).state());
        assertEquals(State.RUNNING, NonBlocking.call(() -> cache.status(ctr("c1"))).state());
        assertEquals(1, backend.fetches.get());

        backend.evented = false; // a backend without events is asked on every read
        assertThrows(NonBlocking.WouldBlock.class, () -> NonBlocking.call(() -> cache.status(ctr("c1"))));
        assertEquals(1, backend.fetches.get());
    }

    @Test
    void changesInARowAreSettledInTheBackgroundWithOneBackendCall() {
        var backend = new Backend();
        var cache = new ContainerStateCache(backend);
        var queued = new java.util.ArrayList<Runnable>();
        cache.settleInBackground(queued::add, ContainerStateCacheTest::ctr);
        cache.track("c1");
        backend.states.put("c1", State.RUNNING);
        cache.invalidate("c1"); // core's Start
        cache.accept(event(BackendEvent.Type.STARTED, "c1")); // then the backend's event
        cache.invalidate("c1");
        assertEquals(1, queued.size(), "one settle is queued for the three changes");
        queued.removeFirst().run();
        assertEquals(1, backend.fetches.get());
        assertTrue(cache.settled("c1"));
        assertEquals(State.RUNNING, cache.kept("c1").state());
        assertEquals(Set.of("c1"), cache.candidates(State.RUNNING));
        assertTrue(cache.candidates(State.CREATED).isEmpty());
    }

    @Test
    void aChangeWhileTheBackgroundSettleAsksMakesItAskAgain() {
        var backend = new Backend();
        var cache = new ContainerStateCache(backend);
        var queued = new java.util.ArrayList<Runnable>();
        cache.settleInBackground(queued::add, ContainerStateCacheTest::ctr);
        cache.track("c1");
        backend.states.put("c1", State.RUNNING);
        cache.invalidate("c1");
        backend.during = () -> { // the process exits and its event arrives while the settle waits for its answer
            backend.states.put("c1", State.EXITED);
            cache.accept(event(BackendEvent.Type.STOPPED, "c1"));
        };
        queued.removeFirst().run();
        assertTrue(queued.isEmpty(), "the running settle asks again itself, rather than queue another");
        assertEquals(2, backend.fetches.get());
        assertEquals(State.EXITED, cache.kept("c1").state(), "the stale RUNNING answer is not kept");
        assertEquals(Set.of("c1"), cache.candidates(State.EXITED));
        assertTrue(cache.candidates(State.RUNNING).isEmpty());
    }

    @Test
    void aSettleThatFailsLetsTheNextChangeQueueAnother() {
        var backend = new Backend();
        var cache = new ContainerStateCache(backend);
        var queued = new java.util.ArrayList<Runnable>();
        cache.settleInBackground(queued::add, ContainerStateCacheTest::ctr);
        cache.track("c1");
        backend.states.put("c1", State.RUNNING);
        cache.invalidate("c1");
        backend.during = () -> {
            throw new IllegalStateException("the backend failed");
        };
        queued.removeFirst().run();
        assertFalse(cache.settled("c1"));
        cache.invalidate("c1");
        assertEquals(1, queued.size());
        queued.removeFirst().run();
        assertTrue(cache.settled("c1"));
    }

    /** The backend's next fetch counts {@code asking} down, then waits for {@code answer} before it answers. */
    private static void holdFirstFetch(Backend backend, java.util.concurrent.CountDownLatch asking,
                                       java.util.concurrent.CountDownLatch answer) {
        backend.during = () -> {
            asking.countDown();
            try {
                answer.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        };
    }

    @Test
    void aReadWhileTheBackgroundSettleAsksWaitsForItsAnswer() throws Exception {
        var backend = new Backend();
        var cache = new ContainerStateCache(backend);
        cache.settleInBackground(r -> Thread.ofVirtual().start(r), ContainerStateCacheTest::ctr);
        cache.track("c1");
        backend.states.put("c1", State.RUNNING);
        var asking = new java.util.concurrent.CountDownLatch(1);
        var answer = new java.util.concurrent.CountDownLatch(1);
        holdFirstFetch(backend, asking, answer);
        cache.invalidate("c1"); // core's Start: the background settle asks the backend
        assertTrue(asking.await(10, java.util.concurrent.TimeUnit.SECONDS));
        var read = new java.util.concurrent.atomic.AtomicReference<ContainerStatus>();
        Thread reader = Thread.ofPlatform().start(() -> read.set(cache.status(ctr("c1")))); // the kubelet's read
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (reader.getState() != Thread.State.TIMED_WAITING && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertEquals(Thread.State.TIMED_WAITING, reader.getState(), "the read waits for the settle's answer");
        answer.countDown();
        reader.join(10_000);
        assertEquals(State.RUNNING, read.get().state());
        assertEquals(1, backend.fetches.get(), "the backend was asked once, by the settle");
    }

    @Test
    void onAThreadThatMustNotBlockAReadDoesNotWaitForTheBackgroundSettle() throws Exception {
        var backend = new Backend();
        var cache = new ContainerStateCache(backend);
        cache.settleInBackground(r -> Thread.ofVirtual().start(r), ContainerStateCacheTest::ctr);
        cache.track("c1");
        backend.states.put("c1", State.RUNNING);
        var asking = new java.util.concurrent.CountDownLatch(1);
        var answer = new java.util.concurrent.CountDownLatch(1);
        holdFirstFetch(backend, asking, answer);
        cache.invalidate("c1");
        assertTrue(asking.await(10, java.util.concurrent.TimeUnit.SECONDS));
        try {
            assertThrows(NonBlocking.WouldBlock.class, () -> NonBlocking.call(() -> cache.status(ctr("c1"))));
        } finally {
            answer.countDown();
        }
    }

    @Test
    void aSettleThatStartsWhileAReadAsksTakesTheReadsAnswer() throws Exception {
        var backend = new Backend();
        var cache = new ContainerStateCache(backend);
        var queued = new java.util.ArrayList<Runnable>();
        cache.settleInBackground(queued::add, ContainerStateCacheTest::ctr);
        cache.track("c1");
        backend.states.put("c1", State.RUNNING);
        cache.invalidate("c1"); // core's Start queues a settle
        Runnable settle = queued.removeFirst();
        var settler = new java.util.concurrent.atomic.AtomicReference<Thread>();
        backend.during = () -> { // the kubelet's read asks first; the settle starts while it does
            Thread t = Thread.ofPlatform().start(settle);
            settler.set(t);
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
            while (t.getState() != Thread.State.TIMED_WAITING && t.isAlive() && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
        };
        assertEquals(State.RUNNING, cache.status(ctr("c1")).state());
        settler.get().join(10_000);
        assertFalse(settler.get().isAlive());
        assertEquals(1, backend.fetches.get(), "the settle waited for the read's answer instead of asking too");
        assertTrue(cache.settled("c1"));
        cache.invalidate("c1");
        assertEquals(1, queued.size(), "the settle ended: the next change queues another");
    }
}
