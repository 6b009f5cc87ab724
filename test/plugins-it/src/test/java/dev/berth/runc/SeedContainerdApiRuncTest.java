package dev.berth.runc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.core.testing.RealBackendDaemon;
import dev.berth.oci.ProcessRunner;
import dev.berth.seeds.containerd003.APIGrpc;
import dev.berth.seeds.containerd003.AddProcessRequest;
import dev.berth.seeds.containerd003.Checkpoint;
import dev.berth.seeds.containerd003.Container;
import dev.berth.seeds.containerd003.CreateCheckpointRequest;
import dev.berth.seeds.containerd003.CreateContainerRequest;
import dev.berth.seeds.containerd003.Event;
import dev.berth.seeds.containerd003.EventsRequest;
import dev.berth.seeds.containerd003.ListCheckpointRequest;
import dev.berth.seeds.containerd003.SignalRequest;
import dev.berth.seeds.containerd003.StateRequest;
import dev.berth.seeds.containerd003.StateResponse;
import dev.berth.seeds.containerd003.Stats;
import dev.berth.seeds.containerd003.StatsRequest;
import dev.berth.seeds.containerd003.UpdateContainerRequest;
import dev.berth.seeds.containerd003.User;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A client generated from the seed document of the containerd 0.2 API (core's test copy, package types) drives a
 * real busybox bundle through berth's daemon and the runc backend: created with its stdout on a file, an added
 * process, State with the machine and the processes, GetStats whose CPU usage moves, pause and resume, a
 * checkpoint refused with CRIU's reason where CRIU does not work, a restart of berth the container survives, and
 * a Signal whose exit arrives on Events. CRI lists never show the container, and bad input gets named statuses.
 */
class SeedContainerdApiRuncTest {
    private static final Duration LONG = Duration.ofSeconds(30);
    private static final String ID = "c02box";

    private Path dir;
    private RealBackendDaemon berth;
    private String handlers;

    @BeforeEach
    void setUp() throws Exception {
        Host.assumeRuntime("runc");
        do {
            dir = Path.of("/tmp", "cd" + ThreadLocalRandom.current().nextInt(10_000));
        } while (Files.exists(dir));
        Files.createDirectories(dir);
        berth = new RealBackendDaemon(dir, RealBackendDaemon.busyboxRootfs(dir.resolve("podroot")),
                List.of(new RuncBackendFactory()));
        handlers = """
                default_runtime = "runc"
                [runtimes.runc]
                type = "runc"
                [runtimes.runc.options]
                root = "%s"
                [legacy]
                containerd_api_socket = "%s"
                """.formatted(dir.resolve("runc-root"), dir.resolve("containerd.sock"));
        berth.start(handlers);
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            berth.stop();
        } finally {
            ProcessRunner.run(List.of(RuncOptions.resolveProgram("runc").toString(), "--root",
                    dir.resolve("runc-root").toString(), "delete", "--force", ID), null, Duration.ofSeconds(30));
            for (long pid : SeedApiRuncTest.conmonsUnder(dir)) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
            Host.deleteTree(dir);
        }
    }

    private APIGrpc.APIBlockingStub api() {
        return APIGrpc.newBlockingStub(berth.containerdChannel()).withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    /** The bundle: busybox, a main process that says hello, burns a little CPU until told to stop, exits 7 on TERM. */
    private Path bundle() throws IOException {
        Path bundle = dir.resolve("bundle");
        RealBackendDaemon.busyboxRootfs(bundle.resolve("rootfs"));
        ProcessRunner.Result spec = ProcessRunner.run(List.of(RuncOptions.resolveProgram("runc").toString(), "spec",
                "--bundle", bundle.toString()), null, Duration.ofSeconds(30));
        assertThat(spec.ok()).as("runc spec: " + spec.errorText()).isTrue();
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = (ObjectNode) json.readTree(bundle.resolve("config.json").toFile());
        ObjectNode process = (ObjectNode) config.get("process");
        process.put("terminal", false);
        var args = process.putArray("args");
        args.add("sh").add("-c").add("trap 'exit 7' TERM; echo hello from the bundle; "
                + "while true; do i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done; sleep 0.2; done");
        ((ObjectNode) config.get("root")).put("readonly", false);
        json.writeValue(bundle.resolve("config.json").toFile(), config);
        return bundle;
    }

    @Test
    void aBusyboxBundleRunsWithItsStreamsProcessesStatsAndEvents() throws Exception {
        BlockingQueue<Event> events = subscribe();
        Path bundle = bundle();
        Path out = dir.resolve("main.out");
        Path err = dir.resolve("main.err");
        int pid = api().createContainer(CreateContainerRequest.newBuilder().setId(ID)
                .setBundlePath(bundle.toString()).setStdout(out.toString()).setStderr(err.toString()).build())
                .getPid();
        assertThat(pid).isPositive();
        assertThat(RealBackendDaemon.await(() -> SeedApiRuncTest.read(out).contains("hello from the bundle\n"), LONG))
                .as("the container's stdout in " + out + ": " + SeedApiRuncTest.read(out)).isTrue();
        assertThat(next(events, "start-container").getPid()).isEqualTo(pid);

        StateResponse state = api().state(StateRequest.getDefaultInstance());
        assertThat(state.getMachine().getCpus()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(state.getMachine().getMemory()).isPositive();
        Container c = only(state);
        assertThat(c.getStatus()).isEqualTo("running");
        assertThat(c.getBundlePath()).isEqualTo(bundle.toString());
        assertThat(c.getProcessesList()).anySatisfy(p -> assertThat(p.getPid()).isEqualTo(pid));
        // Kept apart from CRI: no pod, no container.
        assertThat(berth.runtime().listPodSandbox(dev.berth.cri.v1.ListPodSandboxRequest.getDefaultInstance())
                .getItemsList()).isEmpty();
        assertThat(berth.runtime().listContainers(dev.berth.cri.v1.ListContainersRequest.getDefaultInstance())
                .getContainersList()).isEmpty();

        // The added process writes to a FIFO the client reads, as containerd 0.2's clients gave their streams.
        Path added = dir.resolve("added.fifo");
        dev.berth.oci.Libc.mkfifo(added, 0600);
        var line = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try (var r = Files.newBufferedReader(added)) {
                return r.readLine();
            } catch (IOException e) {
                return "unreadable: " + e;
            }
        });
        int extra = api().addProcess(AddProcessRequest.newBuilder().setId(ID).addArgs("sh").addArgs("-c")
                .addArgs("echo from the added process as $(busybox id -u); exit 3").addEnv("PATH=/bin")
                .setUser(User.newBuilder().setUid(1234).setGid(1234)).setCwd("/")
                .setStdout(added.toString()).build()).getPid();
        assertThat(extra).isPositive().isNotEqualTo(pid);
        assertThat(next(events, "start-process").getPid()).isEqualTo(extra);
        Event exited = next(events, "exit");
        assertThat(exited.getPid()).isEqualTo(extra);
        assertThat(exited.getStatus()).isEqualTo(3);
        assertThat(line.get(30, TimeUnit.SECONDS)).isEqualTo("from the added process as 1234");

        // GetStats: the CPU usage moves between the first and a later reading.
        Iterator<Stats> stats = api().getStats(StatsRequest.newBuilder().setId(ID).build());
        Stats first = stats.next();
        Stats later = first;
        for (int i = 0; i < 4; i++) {
            later = stats.next();
        }
        assertThat(first.getCgroupStats().getMemoryStats().getUsage().getUsage()).as(first.toString()).isPositive();
        assertThat(later.getCgroupStats().getCpuStats().getCpuUsage().getTotalUsage()).as(later.toString())
                .isGreaterThan(first.getCgroupStats().getCpuStats().getCpuUsage().getTotalUsage());
        assertThat(later.getTimestamp()).isGreaterThan(first.getTimestamp());

        api().updateContainer(UpdateContainerRequest.newBuilder().setId(ID).setStatus("paused").build());
        assertThat(only(api().state(StateRequest.getDefaultInstance())).getStatus()).isEqualTo("paused");
        assertThat(next(events, "pause").getId()).isEqualTo(ID);
        api().updateContainer(UpdateContainerRequest.newBuilder().setId(ID).setStatus("running").build());
        assertThat(only(api().state(StateRequest.getDefaultInstance())).getStatus()).isEqualTo("running");

        // CRIU: a checkpoint works, or is refused as a precondition of the host with CRIU's own reason.
        try {
            api().createCheckpoint(CreateCheckpointRequest.newBuilder().setId(ID)
                    .setCheckpoint(Checkpoint.newBuilder().setName("cp1")).build());
            assertThat(api().listCheckpoint(ListCheckpointRequest.newBuilder().setId(ID).build())
                    .getCheckpointsList()).extracting(Checkpoint::getName).containsExactly("cp1");
        } catch (StatusRuntimeException e) {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
            assertThat(e.getStatus().getDescription()).contains("CRIU does not work on this host").contains("criu");
        }

        // berth restarts; the container keeps running and is recovered.
        berth.stop();
        berth.start(handlers);
        events = subscribe();
        Container recovered = only(api().state(StateRequest.getDefaultInstance()));
        assertThat(recovered.getStatus()).isEqualTo("running");
        assertThat(recovered.getProcessesList()).anySatisfy(p -> assertThat(p.getPid()).isEqualTo(pid));

        api().signal(SignalRequest.newBuilder().setId(ID).setPid(pid).setSignal(15).build());
        Event exit = next(events, "exit");
        assertThat(exit.getId()).isEqualTo(ID);
        assertThat(exit.getPid()).isEqualTo(pid);
        assertThat(exit.getStatus()).isEqualTo(7);
        // As in containerd 0.2, the container goes with its main process.
        assertThat(api().state(StateRequest.getDefaultInstance()).getContainersList()).isEmpty();
        assertThat(berth.daemon().containerd().records().all()).isEmpty();
    }

    @Test
    void badInputGetsNamedStatuses() throws Exception {
        assertCode(() -> api().createContainer(CreateContainerRequest.newBuilder().setId("../x")
                .setBundlePath("/nowhere").build()), Status.Code.INVALID_ARGUMENT, "id");
        assertCode(() -> api().createContainer(CreateContainerRequest.newBuilder().setId("x")
                .setBundlePath("relative/bundle").build()), Status.Code.INVALID_ARGUMENT, "bundlePath");
        assertCode(() -> api().createContainer(CreateContainerRequest.newBuilder().setId("x")
                .setBundlePath(dir.resolve("no-bundle").toString()).build()), Status.Code.INVALID_ARGUMENT,
                "config.json");
        assertCode(() -> api().signal(SignalRequest.newBuilder().setId("nope").setSignal(9).build()),
                Status.Code.NOT_FOUND, "nope");
        assertCode(() -> api().updateContainer(UpdateContainerRequest.newBuilder().setId("").build()),
                Status.Code.INVALID_ARGUMENT, "id");
        assertCode(() -> api().getStats(StatsRequest.newBuilder().setId("nope").build()).next(),
                Status.Code.NOT_FOUND, "nope");
        assertThat(api().state(StateRequest.getDefaultInstance()).getContainersList()).isEmpty();
        assertThat(berth.daemon().containerd().records().all()).isEmpty();
    }

    private static void assertCode(Runnable call, Status.Code code, String mentions) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).contains(mentions);
        });
    }

    private BlockingQueue<Event> subscribe() {
        BlockingQueue<Event> q = new LinkedBlockingQueue<>();
        var ctx = Context.current().withCancellation();
        ctx.run(() -> APIGrpc.newStub(berth.containerdChannel()).events(EventsRequest.getDefaultInstance(),
                new StreamObserver<>() {
                    @Override
                    public void onNext(Event e) {
                        q.add(e);
                    }

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted() {}
                }));
        assertThat(RealBackendDaemon.await(() -> berth.daemon().containerd().subscribers() > 0, LONG))
                .as("the Events call subscribed").isTrue();
        return q;
    }

    private static Event next(BlockingQueue<Event> events, String type) throws InterruptedException {
        List<Event> skipped = new ArrayList<>();
        long end = System.nanoTime() + LONG.toNanos();
        while (System.nanoTime() < end) {
            Event e = events.poll(1, TimeUnit.SECONDS);
            if (e != null && e.getType().equals(type)) {
                return e;
            }
            if (e != null) {
                skipped.add(e);
            }
        }
        throw new AssertionError("no " + type + " event; saw " + skipped);
    }

    private static Container only(StateResponse state) {
        assertThat(state.getContainersList()).hasSize(1);
        return state.getContainers(0);
    }
}
