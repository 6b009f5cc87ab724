package dev.berth.kata;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import com.google.protobuf.Timestamp;
import dev.berth.kata.proto.events.Envelope;
import dev.berth.kata.proto.events.TaskExit;
import dev.berth.kata.proto.events.TaskOOM;
import dev.berth.kata.shim.ShimLauncher;
import dev.berth.spi.BackendContext;
import dev.berth.spi.BackendEvent;
import dev.berth.spi.testing.TestingBackendContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shims' exit and OOM events, in either order: STOPPED is published once, and when it is, an OOM kill that came
 * with the exit is already known, so the status core reads on STOPPED says OOMKilled; an OOM later than the wait
 * publishes STOPPED again. The wait for a late OOM runs
 * on a timer the test fires by hand.
 */
class ShimEventsTest {
    static final String ID = "c".repeat(64);
    static final String POD = "p".repeat(64);
    static final Instant EXITED = Instant.parse("2026-12-03T15:00:00.123456789Z");

    @TempDir
    Path dir;

    /** A STOPPED as core saw it: the event, and the reason a status read at that moment would give. */
    record Seen(BackendEvent event, boolean oomKilled) {}

    final List<Seen> seen = new CopyOnWriteArrayList<>();
    final List<Runnable> timers = new ArrayList<>();
    final List<Duration> delays = new ArrayList<>();
    ShimRegistry registry;
    Container container;
    ShimEvents events;

    @BeforeEach
    void setUp() throws Exception {
        registry = new ShimRegistry();
        Path bundle = Files.createDirectories(dir.resolve("bundles").resolve(ID));
        container = new Container(ID, POD, bundle, new Properties());
        registry.containers.put(ID, container);
        TestingBackendContext base = new TestingBackendContext("kata", dir.resolve("handler"));
        BackendContext context = new BackendContext() {
            @Override
            public String handlerName() {
                return base.handlerName();
            }

            @Override
            public Path stateDir() {
                return base.stateDir();
            }

            @Override
            public Path rootDir() {
                return base.rootDir();
            }

            @Override
            public System.Logger logger() {
                return base.logger();
            }

            @Override
            public EventSink events() {
                return e -> seen.add(new Seen(e, registry.containers.get(e.containerId()).oomKilled));
            }
        };
        events = new ShimEvents(context, registry, (delay, task) -> {
            delays.add(delay);
            timers.add(task);
        });
    }

    static Envelope envelope(String topic, Message event) {
        return Envelope.newBuilder().setNamespace(ShimLauncher.NAMESPACE).setTopic(topic)
                .setEvent(Any.newBuilder().setTypeUrl("containerd.events." + event.getDescriptorForType().getName())
                        .setValue(event.toByteString()))
                .build();
    }

    static Envelope exit(String execId, int status) {
        return envelope("/tasks/exit", TaskExit.newBuilder().setContainerId(ID).setId(execId).setPid(4242)
                .setExitStatus(status)
                .setExitedAt(Timestamp.newBuilder().setSeconds(EXITED.getEpochSecond()).setNanos(EXITED.getNano()))
                .build());
    }

    static Envelope oom() {
        return envelope("/tasks/oom", TaskOOM.newBuilder().setContainerId(ID).build());
    }

    void fireTimers() {
        List<Runnable> due = List.copyOf(timers);
        timers.clear();
        due.forEach(Runnable::run);
    }

    @Test
    void anOomThatArrivesAfterTheExitIsKnownWhenStoppedIsPublished() throws Exception {
        events.accept(exit(ID, 137));
        assertThat(seen).as("the failed exit waits for a late OOM").isEmpty();
        assertThat(delays).containsExactly(ShimEvents.OOM_WAIT);

        events.accept(oom());
        assertThat(seen).singleElement().satisfies(s -> {
            assertThat(s.event()).isEqualTo(new BackendEvent(BackendEvent.Type.STOPPED, ID, POD, EXITED));
            assertThat(s.oomKilled()).as("the status read on STOPPED says OOMKilled").isTrue();
        });
        fireTimers();
        assertThat(seen).as("published once").hasSize(1);
        assertThat(BundleProperties.load(container.bundle).getProperty("oomKilled")).isEqualTo("true");
    }

    @Test
    void aFailedExitWithoutOomIsPublishedWhenTheWaitEnds() {
        events.accept(exit("", 1));
        assertThat(seen).isEmpty();
        fireTimers();
        assertThat(seen).singleElement().satisfies(s -> {
            assertThat(s.event().type()).isEqualTo(BackendEvent.Type.STOPPED);
            assertThat(s.event().at()).isEqualTo(EXITED);
            assertThat(s.oomKilled()).isFalse();
        });
        events.accept(oom()); // a very late one: STOPPED again, and the status core reads on it says OOMKilled
        assertThat(seen).hasSize(2);
        assertThat(seen.get(1).event()).isEqualTo(seen.get(0).event());
        assertThat(seen.get(1).oomKilled()).isTrue();
        assertThat(container.oomKilled).isTrue();
        events.accept(oom()); // a repeated OOM event publishes nothing more
        assertThat(seen).hasSize(2);
    }

    @Test
    void aCleanExitAndAnExitAfterItsOomArePublishedAtOnce() {
        events.accept(exit(ID, 0));
        assertThat(seen).singleElement().satisfies(s -> assertThat(s.oomKilled()).isFalse());
        assertThat(timers).isEmpty();

        seen.clear();
        events.accept(oom());
        assertThat(seen).as("an OOM alone publishes nothing").isEmpty();
        events.accept(exit(ID, 137));
        assertThat(seen).singleElement().satisfies(s -> assertThat(s.oomKilled()).isTrue());
        assertThat(timers).isEmpty();
    }

    @Test
    void execExitsRemovedContainersAndAClosedBackendPublishNothing() {
        events.accept(exit("exec-1", 137));
        assertThat(seen).isEmpty();
        assertThat(timers).as("an exec's exit is no container exit").isEmpty();

        events.accept(exit(ID, 137));
        registry.containers.remove(ID); // removed while its exit was held
        fireTimers();
        assertThat(seen).isEmpty();

        registry.containers.put(ID, container);
        events.accept(exit(ID, 2));
        events.close();
        fireTimers();
        events.accept(oom());
        assertThat(seen).isEmpty();
    }
}
