package dev.berth.core.network;

import dev.berth.spi.DnsConfig;
import dev.berth.spi.PortMapping;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A stand-in for a berth process, for crash tests: sets up one pod network, prints {@code READY <ip>}, then waits to
 * be killed. Arguments: conf dir, bin dirs (colon-separated), state dir, sandbox id, host port (0 for none).
 */
public final class NetworkHolderMain {
    private NetworkHolderMain() {}

    public static void main(String[] args) throws Exception {
        List<Path> binDirs = java.util.Arrays.stream(args[1].split(":")).map(Path::of).toList();
        PodNetworking networking = new PodNetworking(new NetworkSettings(Path.of(args[0]), binDirs, Path.of(args[2]),
                Duration.ofSeconds(120)));
        int hostPort = Integer.parseInt(args[4]);
        List<PortMapping> ports = hostPort > 0
                ? List.of(new PortMapping(PortMapping.Protocol.TCP, 80, hostPort, "")) : List.of();
        System.out.println("SETTING_UP");
        System.out.flush();
        PodNetwork pod = networking.setUp(new PodNetworkRequest(args[3], "crash", "berth-test", "uid", ports,
                DnsConfig.NONE, Map.of(), ""));
        System.out.println("READY " + pod.ip());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
