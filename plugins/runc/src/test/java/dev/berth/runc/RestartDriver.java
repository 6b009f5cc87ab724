package dev.berth.runc;

import dev.berth.spi.ContainerSecurity;
import dev.berth.spi.PodSecurity;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.testing.TestingBackendContext;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A stand-in for the berth daemon in {@link RestartTest}: creates a pod (without a pause container, the default)
 * with a long-running container and one that exits with 5 a few seconds later, and a pod with a shared pid
 * namespace (its init a pause process) with a long-running container and one that ends a few seconds later,
 * leaving a child running, prints the ids and the child's sleep time, then waits to be killed with SIGKILL.
 * Arguments: the backend's base directory, the rootfs, the runtime binary.
 */
public final class RestartDriver {
    private RestartDriver() {}

    public static void main(String[] args) throws Exception {
        Path base = Path.of(args[0]);
        Path rootfs = Path.of(args[1]);
        RuntimeBackend backend = new RuncBackendFactory().create(args[2], Map.of("binary", args[2]),
                new TestingBackendContext(args[2], base));
        String sb = RuncBackendTest.newId();
        // In a pinned network namespace, as core gives one: the pod has no pause container, only pinned namespaces.
        Path netns = Host.netns(base.resolve("netns"));
        backend.createSandbox(Host.sandbox(sb, rootfs, PodSecurity.DEFAULT, netns, Map.of()));
        backend.startSandbox(sb);
        String running = RuncBackendTest.newId();
        backend.createContainer(Host.container(running, sb, rootfs, List.of("sleep", "3600"), null, null,
                ContainerSecurity.DEFAULT));
        backend.startContainer(running);
        String exiting = RuncBackendTest.newId();
        // Logs through its berth-logjoin: one line before berth is killed, one while it is down.
        backend.createContainer(Host.container(exiting, sb, rootfs, List.of("sh", "-c",
                "echo before; sleep 3; echo while berth is down; exit 5"), base.resolve("logs/exiting.log"), null,
                ContainerSecurity.DEFAULT));
        backend.startContainer(exiting);
        // A pod whose containers share a pid namespace: berth-pause is its init, and outlives berth too.
        String shared = RuncBackendTest.newId();
        backend.createSandbox(Host.sandbox(shared, rootfs, RuncBackendTest.SHARED_PID_POD,
                Host.netns(base.resolve("netns2")), Map.of()));
        backend.startSandbox(shared);
        String sharing = RuncBackendTest.newId();
        backend.createContainer(Host.container(sharing, shared, rootfs, List.of("sleep", "3600"), null, null,
                RuncBackendTest.SHARED_PID_CONTAINER));
        backend.startContainer(sharing);
        // And one that ends while berth is down, leaving a child in the pod's pid namespace.
        String leaving = RuncBackendTest.newId();
        String child = Long.toString(1_000_000 + ProcessHandle.current().pid());
        backend.createContainer(Host.container(leaving, shared, rootfs, List.of("sh", "-c",
                "sleep " + child + " & sleep 3"), null, null, RuncBackendTest.SHARED_PID_CONTAINER));
        backend.startContainer(leaving);
        System.out.println(sb + " " + running + " " + exiting + " " + shared + " " + sharing + " " + leaving + " "
                + child);
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
