package dev.berth.runc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.runc.StateStore.ContainerRecord;
import dev.berth.runc.StateStore.SandboxRecord;
import dev.berth.spi.BackendEvent;
import dev.berth.spi.BackendException;
import dev.berth.spi.ContainerSecurity;
import dev.berth.spi.testing.TestingBackendContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The per-id locks leave no entry behind for an id that is gone: a late exit, stop or start of a removed container
 * or sandbox, or a create that failed, makes none. No runtime runs here: the records are put in place by hand.
 */
class HandlerLocksTest {
    @TempDir
    Path dir;
    TestingBackendContext context;
    HandlerState state;
    Recovery recovery;
    RuncContainers containers;
    RuncSandboxes sandboxes;

    @BeforeEach
    void setUp() {
        context = new TestingBackendContext("runc", dir);
        state = new HandlerState("runc", RuncOptions.parse("runc", Map.of(), context.stateDir()), context);
        ContainerProcesses processes = new ContainerProcesses(state);
        Bundles bundles = new Bundles(state);
        ConmonExec conmonExec = new ConmonExec(state, processes);
        recovery = new Recovery(state, processes, bundles);
        containers = new RuncContainers(state, processes, bundles, conmonExec, recovery);
        sandboxes = new RuncSandboxes(state, processes, bundles, conmonExec, containers, recovery);
    }

    /** A pod with a pause container that never started (pid 0): not ready. */
    SandboxRecord sandbox(String id) {
        SandboxRecord r = new SandboxRecord(id, "2026-12-03T15:00:00Z", "", "", "", "POD", "CONTAINER", "POD", "",
                "", "", List.of(), 0, "", "");
        state.sandboxes.put(id, r);
        return r;
    }

    ContainerRecord container(String id, String sandboxId) {
        ContainerRecord r = new ContainerRecord(id, sandboxId, "app", "2026-12-03T15:00:01Z",
                "2026-12-03T15:00:02Z", "", "", "", 4242);
        state.containers.put(id, r);
        return r;
    }

    /** What a removal leaves: no record, and it dropped the lock entry after taking it. */
    void removed(String id) {
        state.lock(id);
        state.containers.remove(id);
        state.sandboxes.remove(id);
        state.locks.remove(id);
    }

    @Test
    void aLateExitOfARemovedContainerLeavesNoLockBehind() {
        String sb = RuncBackendTest.newId();
        String id = RuncBackendTest.newId();
        sandbox(sb);
        container(id, sb);
        // The exit watcher saw the container (onExit found its record), then a removal ran to its end before the
        // exit's thread took the lock.
        removed(id);
        recovery.publishExit(id);
        assertThat(state.locks).doesNotContainKey(id);
        assertThat(context.published()).isEmpty();
    }

    @Test
    void anExitOfAKnownContainerIsPublishedUnderItsLock() throws Exception {
        String sb = RuncBackendTest.newId();
        String id = RuncBackendTest.newId();
        sandbox(sb);
        container(id, sb);
        Files.writeString(state.exits.resolve(id), "1");
        recovery.publishExit(id);
        assertThat(context.published()).singleElement().satisfies(e -> {
            assertThat(e.type()).isEqualTo(BackendEvent.Type.STOPPED);
            assertThat(e.containerId()).isEqualTo(id);
            assertThat(e.sandboxId()).isEqualTo(sb);
            assertThat(e.at()).isEqualTo(Files.getLastModifiedTime(state.exits.resolve(id)).toInstant());
        });
        assertThat(state.locks).containsKey(id); // until the container is removed
    }

    @Test
    void stopsAndStartsOfRemovedIdsLeaveNoLockBehind() {
        String sb = RuncBackendTest.newId();
        String id = RuncBackendTest.newId();
        sandbox(sb);
        container(id, sb);
        removed(id);
        removed(sb);
        containers.stop(id, Duration.ZERO);
        sandboxes.stop(sb, Duration.ZERO);
        assertThatThrownBy(() -> containers.start(id)).isInstanceOfSatisfying(BackendException.class,
                e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.NOT_FOUND));
        assertThatThrownBy(() -> sandboxes.start(sb)).isInstanceOfSatisfying(BackendException.class,
                e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.NOT_FOUND));
        assertThat(state.locks).isEmpty();
    }

    @Test
    void aFailedCreateLeavesNoLockBehind() {
        String sb = RuncBackendTest.newId();
        String id = RuncBackendTest.newId();
        sandbox(sb);
        // The pod is not ready (or, on a host without runc and conmon, they are missing): refused under the lock.
        assertThatThrownBy(() -> containers.create(Host.container(id, sb, dir.resolve("rootfs"),
                List.of("true"), null, null, ContainerSecurity.DEFAULT)))
                .isInstanceOfSatisfying(BackendException.class, e -> assertThat(e.kind())
                        .isIn(BackendException.Kind.FAILED_PRECONDITION, BackendException.Kind.UNAVAILABLE));
        assertThat(state.locks).doesNotContainKey(id);

        // A create refused because the id exists keeps that id's lock.
        container(id, sb);
        ContainerRecord before = state.containers.get(id);
        assertThatThrownBy(() -> containers.create(Host.container(id, sb, dir.resolve("rootfs"),
                List.of("true"), null, null, ContainerSecurity.DEFAULT)))
                .isInstanceOfSatisfying(BackendException.class,
                        e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.ALREADY_EXISTS));
        assertThat(state.locks).containsKey(id);
        assertThat(state.containers.get(id)).isSameAs(before);
    }
}
