package dev.berth.runc;

import dev.berth.spi.ContainerSecurity;
import dev.berth.spi.PodSecurity;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.testing.TestingBackendContext;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A stand-in for the berth daemon in {@link GvisorBackendTest}: creates a gVisor pod (in the network namespace
 * pinned at {@code netns}) with two long-running containers and one that exits with 7 a few seconds later,
 * prints the ids, then waits to be killed with SIGKILL.
 * Arguments: the backend's base directory, the rootfs, the network namespace pin.
 */
public final class GvisorDriver {
    private GvisorDriver() {}

    public static void main(String[] args) throws Exception {
        Path base = Path.of(args[0]);
        Path rootfs = Path.of(args[1]);
        RuntimeBackend backend = new RuncBackendFactory().create("gvisor", GvisorBackendTest.OPTIONS,
                new TestingBackendContext("gvisor", base));
        String sb = RuncBackendTest.newId();
        backend.createSandbox(Host.sandbox(sb, rootfs, PodSecurity.DEFAULT, Path.of(args[2]), Map.of()));
        backend.startSandbox(sb);
        String first = RuncBackendTest.newId();
        backend.createContainer(Host.container(first, sb, rootfs, List.of("sh", "-c",
                "echo hello from gvisor; exec sleep 3600"), base.resolve("logs/first.log"), null,
                ContainerSecurity.DEFAULT));
        backend.startContainer(first);
        String second = RuncBackendTest.newId();
        backend.createContainer(Host.container(second, sb, rootfs, List.of("sleep", "3600"), null, null,
                ContainerSecurity.DEFAULT));
        backend.startContainer(second);
        String exiting = RuncBackendTest.newId();
        backend.createContainer(Host.container(exiting, sb, rootfs, List.of("sh", "-c",
                "echo before; sleep 3; echo while berth is down; exit 7"), base.resolve("logs/exiting.log"), null,
                ContainerSecurity.DEFAULT));
        backend.startContainer(exiting);
        System.out.println(sb + " " + first + " " + second + " " + exiting);
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
