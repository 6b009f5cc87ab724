package dev.berth.kata;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Empty;
import dev.berth.kata.proto.runtimeoptions.Options;
import dev.berth.kata.proto.task.ConnectResponse;
import dev.berth.kata.proto.task.CreateTaskRequest;
import dev.berth.kata.proto.task.CreateTaskResponse;
import dev.berth.kata.proto.task.DeleteResponse;
import dev.berth.kata.proto.task.StartResponse;
import dev.berth.kata.proto.task.StateRequest;
import dev.berth.kata.proto.task.StateResponse;
import dev.berth.kata.proto.task.WaitResponse;
import dev.berth.kata.proto.types.Status;
import dev.berth.kata.shim.TaskClient;
import dev.berth.kata.ttrpc.TtrpcException;
import dev.berth.kata.ttrpc.TtrpcServer;
import dev.berth.spi.SandboxStatus;
import dev.berth.spi.testing.TestingBackendContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kata's own habits, played by a fake shim: a script that answers {@code start} with the JSON form of the
 * address, and an in-JVM Task service that checks the runtime options and, like Kata, exits inside Shutdown
 * (closing the connection instead of answering). Runs without root.
 */
class FakeKataShimTest {
    @TempDir
    Path dir;

    @Test
    void configPathOptionsJsonStartAndShutdownWithoutAnswer() throws Exception {
        Path socket = dir.resolve("fake-kata.sock");
        Map<String, Status> tasks = new ConcurrentHashMap<>();
        List<CreateTaskRequest> creates = new CopyOnWriteArrayList<>();
        CountDownLatch shutdown = new CountDownLatch(1);
        TtrpcServer[] server = new TtrpcServer[1];
        Map<String, TtrpcServer.Handler> h = new HashMap<>();
        String svc = TaskClient.SERVICE + "/";
        h.put(svc + "Connect", r -> ConnectResponse.newBuilder().setShimPid(0).build().toByteArray());
        h.put(svc + "Create", r -> {
            CreateTaskRequest c = CreateTaskRequest.parseFrom(r.getPayload());
            creates.add(c);
            tasks.put(c.getId(), Status.CREATED);
            return CreateTaskResponse.newBuilder().setPid(4242).build().toByteArray();
        });
        h.put(svc + "Start", r -> {
            tasks.put(StateRequest.parseFrom(r.getPayload()).getId(), Status.RUNNING);
            return StartResponse.newBuilder().setPid(4242).build().toByteArray();
        });
        h.put(svc + "State", r -> {
            String id = StateRequest.parseFrom(r.getPayload()).getId();
            Status s = tasks.get(id);
            if (s == null) {
                throw new TtrpcException(TtrpcException.NOT_FOUND, id + ": not found");
            }
            return StateResponse.newBuilder().setId(id).setStatus(s).setPid(4242).build().toByteArray();
        });
        h.put(svc + "Kill", r -> {
            tasks.put(StateRequest.parseFrom(r.getPayload()).getId(), Status.STOPPED);
            return Empty.getDefaultInstance().toByteArray();
        });
        h.put(svc + "Wait", r -> WaitResponse.newBuilder().setExitStatus(137).build().toByteArray());
        h.put(svc + "Delete", r -> {
            tasks.remove(StateRequest.parseFrom(r.getPayload()).getId());
            return DeleteResponse.getDefaultInstance().toByteArray();
        });
        h.put(svc + "Shutdown", r -> {
            shutdown.countDown();
            server[0].close(); // Kata calls os.Exit inside the handler: the client sees the connection drop
            Thread.sleep(Duration.ofSeconds(30));
            return new byte[0];
        });
        server[0] = TtrpcServer.start(socket, h);

        Path shim = dir.resolve("containerd-shim-kata-v2");
        Files.writeString(shim, """
                #!/bin/sh
                for a in "$@"; do last="$a"; done
                if [ "$last" = start ]; then
                  printf 'unix://%s' '%SOCK%' > address
                  printf '{"version":2,"address":"unix://%s","protocol":"ttrpc"}\\n' '%SOCK%'
                fi
                exit 0
                """.replace("%SOCK%", socket.toString()));
        Files.setPosixFilePermissions(shim, PosixFilePermissions.fromString("rwx------"));

        var ctx = new TestingBackendContext("kata-qemu", dir.resolve("handler"));
        try (var backend = new KataBackendFactory().create("kata-qemu", Map.of("shim", shim.toString(),
                "config_path", "/opt/kata/share/defaults/kata-containers/configuration-qemu.toml"), ctx)) {
            String id = "a".repeat(64);
            backend.createSandbox(ShimHost.sandbox(id, dir));
            backend.startSandbox(id);
            assertThat(backend.sandboxStatus(id).state()).isEqualTo(SandboxStatus.State.READY);

            CreateTaskRequest create = creates.getFirst();
            assertThat(create.getOptions().getTypeUrl()).isEqualTo("runtimeoptions.v1.Options");
            assertThat(Options.parseFrom(create.getOptions().getValue()).getConfigPath())
                    .isEqualTo("/opt/kata/share/defaults/kata-containers/configuration-qemu.toml");
            assertThat(create.getBundle()).endsWith("/bundles/" + id);
            assertThat(create.getRootfsList()).singleElement().satisfies(m -> assertThat(m.getType()).isEqualTo("bind"));
            String config = Files.readString(Path.of(create.getBundle(), "config.json"));
            assertThat(config).contains("\"io.kubernetes.cri.container-type\":\"sandbox\"")
                    .contains("\"io.kubernetes.cri.sandbox-id\":\"" + id + "\"");

            backend.removeSandbox(id); // must treat the dropped connection after Shutdown as success
            assertThat(shutdown.getCount()).isZero();
            assertThat(tasks).isEmpty();
            assertThat(ctx.stateDir().resolve("bundles").resolve(id)).doesNotExist();
        } finally {
            server[0].close();
        }
    }
}
