package dev.berth.core.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.core.config.BerthConfig;
import dev.berth.core.metrics.Metrics;
import dev.berth.core.metrics.MetricsScrape;
import dev.berth.spi.BackendException;
import dev.berth.spi.DnsConfig;
import dev.berth.spi.PortMapping;
import dev.berth.spi.testing.HostRequirements;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pod networking with the real CNI plugins (bridge, host-local, portmap) and real network namespaces. Needs root and
 * the plugins in /usr/lib/cni. Uses its own bridges and subnet ({@value #BRIDGE} and two more, {@value #SUBNET}) and keeps every
 * file (conf dir, IPAM data dir, netns pins, state) under a temp dir, so a real node's network config is untouched.
 */
class PodNetworkingCniTest {
    private static final String BRIDGE = "berthtest0";
    private static final String CIDR_BRIDGE = "berthtest1";
    private static final String REJECT_BRIDGE = "berthtest2";
    private static final String DUAL_STACK_BRIDGE = "berthtest3";
    private static final String SUBNET = "10.99.0.0/16";
    private static final String NETWORK = "berthtest";

    @TempDir
    static Path shared;
    private static Path ipamDir;

    @TempDir
    Path temp;
    private final List<PodNetworking> instances = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();
    private Path confDir;
    private Path binDir;
    private Path stateDir;

    @BeforeAll
    static void ipamDir() throws IOException {
        HostRequirements.require(CniTestSupport.realPluginsAvailable(), "needs root and the CNI plugins bridge, "
                + "host-local and portmap in " + CniTestSupport.SYSTEM_CNI_BIN);
        ipamDir = Files.createDirectories(shared.resolve("ipam"));
    }

    @BeforeEach
    void setUpDirs() throws IOException {
        confDir = Files.createDirectories(temp.resolve("net.d"));
        binDir = Files.createDirectories(temp.resolve("bin"));
        stateDir = temp.resolve("state");
        Files.writeString(confDir.resolve("10-test.conflist"), CniTestSupport.resource("test-bridge.conflist",
                Map.of("BRIDGE", BRIDGE, "SUBNET", SUBNET, "DATADIR", ipamDir.toString())));
    }

    @AfterEach
    void cleanUp() throws Exception {
        killSleepers();
        for (Process p : processes) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor();
        }
        // Tear down whatever a test left, with a fresh instance (as after a restart), then unpin any stray pin.
        try (PodNetworking cleaner = new PodNetworking(settings(Duration.ofSeconds(60)))) {
            for (String id : cleaner.sandboxIds()) {
                try {
                    cleaner.tearDown(id);
                } catch (BackendException e) {
                    System.err.println("cleanup of " + id + " failed: " + e.getMessage());
                }
            }
        }
        for (PodNetworking n : instances) {
            n.close();
        }
        Path netnsDir = stateDir.resolve("netns");
        if (Files.isDirectory(netnsDir)) {
            try (Stream<Path> pins = Files.list(netnsDir)) {
                pins.forEach(NetworkNamespaces::remove);
            }
        }
    }

    @AfterAll
    static void removeBridge() throws Exception {
        for (String bridge : List.of(BRIDGE, CIDR_BRIDGE, REJECT_BRIDGE, DUAL_STACK_BRIDGE)) {
            CniTestSupport.run(30, "ip", "link", "del", bridge);
        }
    }

    private NetworkSettings settings(Duration timeout) {
        return new NetworkSettings(confDir, List.of(binDir, CniTestSupport.SYSTEM_CNI_BIN), stateDir, timeout);
    }

    private PodNetworking networking() {
        PodNetworking n = new PodNetworking(settings(Duration.ofSeconds(60)));
        instances.add(n);
        return n;
    }

    private static PodNetworkRequest pod(String id, List<PortMapping> ports, DnsConfig dns) {
        return new PodNetworkRequest(id, "pod-" + id, "berth-test", "uid-" + id, ports, dns, Map.of(), "");
    }

    private static String newId(String prefix) {
        return prefix + Long.toHexString(System.nanoTime());
    }

    @Test
    void twoPodsGetDistinctIpsAndReachEachOther() throws Exception {
        PodNetworking net = networking();
        assertThat(net.readiness().ready()).isTrue();
        assertThat(net.doctor()).noneMatch(l -> l.startsWith("problem:"))
                .anyMatch(l -> l.startsWith("ok: CNI plugin \"portmap\" at " + CniTestSupport.SYSTEM_CNI_BIN));
        String a = newId("a");
        String b = newId("b");

        PodNetwork podA = net.setUp(pod(a, List.of(), DnsConfig.NONE));
        PodNetwork podB = net.setUp(pod(b, List.of(), DnsConfig.NONE));

        assertThat(podA.ip()).startsWith("10.99.").isNotEqualTo(podB.ip());
        assertThat(podB.ip()).startsWith("10.99.");
        assertThat(podA.interfaceName()).isEqualTo("eth0");
        assertThat(podA.netnsPath()).isEqualTo(stateDir.resolve("netns").resolve(a));
        assertThat(NetworkNamespaces.isPinned(podA.netnsPath())).isTrue();
        assertThat(net.find(a)).contains(podA);

        CniTestSupport.Run addr = CniTestSupport.inNetns(podA.netnsPath(), 30, "ip", "-o", "addr", "show");
        assertThat(addr.output()).contains("lo ").contains("127.0.0.1/8").contains("eth0").contains(podA.ip() + "/16");
        CniTestSupport.Run lo = CniTestSupport.inNetns(podA.netnsPath(), 30, "ip", "link", "show", "lo");
        assertThat(lo.output()).contains("UP");

        CniTestSupport.Run ping = CniTestSupport.inNetns(podA.netnsPath(), 60,
                "/bin/busybox", "ping", "-c", "1", "-W", "10", podB.ip());
        assertThat(ping.exit()).as("ping from A to B: %s", ping.output()).isZero();
        CniTestSupport.Run pingBack = CniTestSupport.inNetns(podB.netnsPath(), 60,
                "/bin/busybox", "ping", "-c", "1", "-W", "10", podA.ip());
        assertThat(pingBack.exit()).as("ping from B to A: %s", pingBack.output()).isZero();

        net.tearDown(a);
        net.tearDown(b);
        assertNothingLeft(a, podA);
        assertNothingLeft(b, podB);
        // Teardown is idempotent.
        net.tearDown(a);
        net.tearDown("never-set-up");
    }

    @Test
    void hostPortAnswersOnLocalhost() throws Exception {
        PodNetworking net = networking();
        String id = newId("hp");
        int hostPort = freePort();
        PodNetwork pod = net.setUp(pod(id, List.of(new PortMapping(PortMapping.Protocol.TCP, 80, hostPort, "")),
                DnsConfig.NONE));

        Process listener = new ProcessBuilder("nsenter", "--net=" + pod.netnsPath(), "/bin/busybox", "nc", "-ll",
                "-p", "80", "-e", "/bin/echo", "hello-from-" + id).redirectErrorStream(true).start();
        processes.add(listener);

        // portmap (snat on by default) lets 127.0.0.1 be DNATed by enabling route_localnet on the bridge itself.
        assertThat(Files.readString(Path.of("/proc/sys/net/ipv4/conf", BRIDGE, "route_localnet")).strip())
                .isEqualTo("1");
        String answer = pollConnect("127.0.0.1", hostPort, Duration.ofSeconds(60));
        assertThat(answer).contains("hello-from-" + id);
        String direct = pollConnect(pod.ip(), 80, Duration.ofSeconds(30));
        assertThat(direct).contains("hello-from-" + id);

        CniTestSupport.Run rules = CniTestSupport.run(30, "iptables-save", "-t", "nat");
        assertThat(rules.output()).contains(id).contains("--dport " + hostPort);

        listener.destroyForcibly();
        listener.waitFor();
        net.tearDown(id);
        assertNothingLeft(id, pod);
    }

    @Test
    void cniAddAndDelAreTimedByNetworkInTheMetrics() throws Exception {
        Metrics metrics = Metrics.fromConfig(new BerthConfig.Metrics("127.0.0.1:0"));
        PodNetworking net = new PodNetworking(settings(Duration.ofSeconds(60)), metrics);
        instances.add(net);
        String id = newId("m");
        net.setUp(pod(id, List.of(), DnsConfig.NONE));
        String text = MetricsScrape.text(metrics);
        assertThat(MetricsScrape.value(text, "berth_cni_operation_duration_seconds_count", "operation=\"add\"",
                "network=\"berthtest\"")).isEqualTo(1);
        assertThat(MetricsScrape.lines(text, "berth_cni_operation_duration_seconds_count", "operation=\"del\""))
                .isEmpty();
        net.tearDown(id);
        text = MetricsScrape.text(metrics);
        assertThat(MetricsScrape.value(text, "berth_cni_operation_duration_seconds_count", "operation=\"del\"",
                "network=\"berthtest\"")).isEqualTo(1);
        assertThat(MetricsScrape.lines(text, "berth_cni_operation_failures_total")).isEmpty();
    }

    @Test
    void failingPluginFailsSetUpWithItsMessageAndLeavesNothing() throws Exception {
        CniTestSupport.installPlugin(binDir, "berth-test-fail", "failing-plugin.sh", Map.of());
        // bridge succeeds first, so the rollback has real work to undo.
        String conf = CniTestSupport.resource("test-bridge.conflist",
                        Map.of("BRIDGE", BRIDGE, "SUBNET", SUBNET, "DATADIR", ipamDir.toString()))
                .replace("\"type\": \"portmap\"", "\"type\": \"berth-test-fail\"");
        Files.writeString(confDir.resolve("10-test.conflist"), conf);
        Metrics metrics = Metrics.fromConfig(new BerthConfig.Metrics("127.0.0.1:0"));
        PodNetworking net = new PodNetworking(settings(Duration.ofSeconds(60)), metrics);
        instances.add(net);
        String id = newId("f");

        assertThatThrownBy(() -> net.setUp(pod(id, List.of(), DnsConfig.NONE)))
                .isInstanceOfSatisfying(BackendException.class, e -> {
                    assertThat(e.kind()).isEqualTo(BackendException.Kind.UNAVAILABLE);
                    assertThat(e.getMessage()).startsWith("failed to set up pod network \"" + id + "\"")
                            .contains("berth-test-fail")
                            .contains("berth test plugin refuses ADD: on purpose");
                });
        assertNothingLeft(id, null);
        assertThat(net.find(id)).isEmpty();
        assertThat(MetricsScrape.value(MetricsScrape.text(metrics), "berth_cni_operation_failures_total",
                "operation=\"add\"", "network=\"berthtest\"")).isEqualTo(1);
    }

    @Test
    void aNulInThePodNamespaceFailsSetUpWithoutAnIllegalArgumentAndLeavesNothing() throws Exception {
        // CNI_ARGS carries the namespace, and no process environment can carry a NUL (issue 16): ADD fails as a
        // plugin failure naming it, and the rollback's DEL, which fails the same way, does not keep the pod.
        PodNetworking net = networking();
        String id = newId("nul");
        var request = new PodNetworkRequest(id, "pod-" + id, "a\0b", "uid-" + id, List.of(), DnsConfig.NONE, Map.of(),
                "");
        assertThatThrownBy(() -> net.setUp(request)).isInstanceOfSatisfying(BackendException.class, e -> {
            assertThat(e.kind()).isEqualTo(BackendException.Kind.UNAVAILABLE);
            assertThat(e.getMessage()).contains("CNI_ARGS contains a NUL byte");
        });
        assertNothingLeft(id, null);
        assertThat(net.sandboxIds()).doesNotContain(id);
        net.tearDown(id); // idempotent
    }

    @Test
    void aConfigThePluginRejectsForAddAndDelFailsSetUpAndLeavesNothing() throws Exception {
        // host-local prepends runtime ipRanges to its configured ranges; overlapping ones fail ADD and DEL alike.
        // Its own bridge: bridge 1.1.1 fails every later ADD ("could not set bridge's mac: invalid argument") on a
        // bridge whose first ADD failed after attaching a veth, because the port-less bridge is left with MAC 0.
        String conf = CniTestSupport.resource("test-bridge.conflist",
                        Map.of("BRIDGE", REJECT_BRIDGE, "SUBNET", SUBNET, "DATADIR", ipamDir.toString()))
                .replace("\"hairpinMode\": true,", "\"hairpinMode\": true, \"capabilities\": {\"ipRanges\": true},");
        Files.writeString(confDir.resolve("10-test.conflist"), conf);
        PodNetworking net = networking();
        net.updatePodCidr("10.99.5.0/24");
        String id = newId("rej");
        assertThatThrownBy(() -> net.setUp(pod(id, List.of(), DnsConfig.NONE)))
                .isInstanceOfSatisfying(BackendException.class, e -> {
                    assertThat(e.kind()).isEqualTo(BackendException.Kind.UNAVAILABLE);
                    assertThat(e.getMessage()).contains("plugin type=\"bridge\" failed (add): range set 0 overlaps")
                            .doesNotContain("cleanup failed");
                });
        assertNothingLeft(id, null);
        // The bridge is now in the state bridge 1.1.1 cannot recover from; doctor says so.
        assertThat(net.doctor()).anyMatch(l -> l.startsWith("problem: bridge " + REJECT_BRIDGE + " has MAC 00:00"));
    }

    @Test
    void spec040ConfigsWork() throws Exception {
        String conf = CniTestSupport.resource("test-bridge.conflist",
                        Map.of("BRIDGE", BRIDGE, "SUBNET", SUBNET, "DATADIR", ipamDir.toString()))
                .replace("\"cniVersion\": \"1.0.0\"", "\"cniVersion\": \"0.4.0\"");
        Files.writeString(confDir.resolve("10-test.conflist"), conf);
        PodNetworking net = networking();
        String id = newId("v04");
        PodNetwork pod = net.setUp(pod(id, List.of(), DnsConfig.NONE));
        JsonNode result = CniConfig.JSON.readTree(pod.cniResultJson());
        assertThat(result.path("cniVersion").asText()).isEqualTo("0.4.0");
        assertThat(result.path("ips").get(0).path("version").asText()).isEqualTo("4");
        assertThat(pod.ip()).startsWith("10.99.");
        net.check(id);
        net.tearDown(id);
        assertNothingLeft(id, pod);
    }

    @Test
    void dualStackPodGetsAnAdditionalIpv6Address() throws Exception {
        HostRequirements.require(ipv6Enabled(), "IPv6 is disabled on this host (net.ipv6.conf.all.disable_ipv6)");
        String conf = CniTestSupport.resource("test-bridge.conflist",
                        Map.of("BRIDGE", DUAL_STACK_BRIDGE, "SUBNET", "10.96.0.0/16", "DATADIR", ipamDir.toString()))
                .replace("[[{ \"subnet\": \"10.96.0.0/16\" }]]",
                        "[[{ \"subnet\": \"10.96.0.0/16\" }], [{ \"subnet\": \"fd99:b0::/64\" }]]")
                .replace("{ \"dst\": \"0.0.0.0/0\" }", "{ \"dst\": \"0.0.0.0/0\" }, { \"dst\": \"::/0\" }");
        Files.writeString(confDir.resolve("10-test.conflist"), conf);
        PodNetworking net = networking();
        String id = newId("ds");
        PodNetwork pod = net.setUp(pod(id, List.of(new PortMapping(PortMapping.Protocol.TCP, 80, freePort(), "")),
                DnsConfig.NONE));
        assertThat(pod.ip()).startsWith("10.96.");
        assertThat(pod.additionalIps()).singleElement().asString().startsWith("fd99:b0:");
        CniTestSupport.Run addr = CniTestSupport.inNetns(pod.netnsPath(), 30, "ip", "-o", "addr", "show", "eth0");
        assertThat(addr.output()).contains(pod.ip() + "/16").contains(pod.additionalIps().getFirst() + "/64");
        net.tearDown(id);
        assertNothingLeft(id, pod);
        assertThat(CniTestSupport.run(30, "ip6tables-save").output()).doesNotContain(id);
    }

    static boolean ipv6Enabled() {
        try {
            return Files.readString(Path.of("/proc/sys/net/ipv6/conf/all/disable_ipv6")).strip().equals("0");
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void afterARebootThePlainPinFileIsRemovedAndTheAddressReleased() throws Exception {
        // No masquerade: after a real reboot the iptables rules are gone anyway, and bridge DEL without a netns
        // only releases the address.
        String conf = CniTestSupport.resource("test-bridge.conflist",
                        Map.of("BRIDGE", BRIDGE, "SUBNET", SUBNET, "DATADIR", ipamDir.toString()))
                .replace("\"ipMasq\": true", "\"ipMasq\": false");
        Files.writeString(confDir.resolve("10-test.conflist"), conf);
        String id = newId("boot");
        try (PodNetworking before = new PodNetworking(settings(Duration.ofSeconds(60)))) {
            before.setUp(pod(id, List.of(), DnsConfig.NONE));
        }
        Path pin = stateDir.resolve("netns").resolve(id);
        // What a reboot leaves: the pin is a plain file again, the namespace (and its veth) is gone.
        CniTestSupport.Run umount = CniTestSupport.run(30, "umount", pin.toString());
        assertThat(umount.exit()).as(umount.output()).isZero();
        assertThat(pin).exists();
        assertThat(allocationsOf(id)).isNotEmpty();

        PodNetworking after = networking();
        after.tearDown(id);
        assertNothingLeft(id, null);
    }

    @Test
    void hangingPluginIsKilledAtTheTimeout() throws Exception {
        CniTestSupport.installPlugin(binDir, "berth-test-sleep", "sleeping-plugin.sh", Map.of());
        String conf = CniTestSupport.resource("test-bridge.conflist",
                        Map.of("BRIDGE", BRIDGE, "SUBNET", SUBNET, "DATADIR", ipamDir.toString()))
                .replace("\"type\": \"portmap\"", "\"type\": \"berth-test-sleep\"");
        Files.writeString(confDir.resolve("10-test.conflist"), conf);
        // Per plugin: the real bridge before it must fit too, on a loaded node.
        PodNetworking net = new PodNetworking(settings(Duration.ofSeconds(10)));
        instances.add(net);
        String id = newId("t");

        assertThatThrownBy(() -> net.setUp(pod(id, List.of(), DnsConfig.NONE)))
                .isInstanceOfSatisfying(BackendException.class, e -> {
                    assertThat(e.kind()).isEqualTo(BackendException.Kind.DEADLINE_EXCEEDED);
                    assertThat(e.getMessage()).contains("berth-test-sleep").contains("timed out");
                });
        assertNothingLeft(id, null);
        // The plugin's child (sleep 3607) was killed too.
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (sleeperAlive() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(sleeperAlive()).as("plugin child still running").isFalse();
    }

    @Test
    void aRestartedInstanceTearsDownPodsOfThePreviousOne() throws Exception {
        String id = newId("r");
        PodNetwork pod;
        try (PodNetworking first = new PodNetworking(settings(Duration.ofSeconds(60)))) {
            pod = first.setUp(pod(id, List.of(new PortMapping(PortMapping.Protocol.TCP, 8080, freePort(), "")),
                    DnsConfig.NONE));
        }
        // The operator even replaced the config meanwhile: teardown must use what setup used.
        Files.delete(confDir.resolve("10-test.conflist"));

        PodNetworking second = networking();
        assertThat(second.sandboxIds()).contains(id);
        assertThat(second.find(id)).contains(pod);
        second.tearDown(id);
        assertNothingLeft(id, pod);
        assertThat(second.sandboxIds()).doesNotContain(id);
    }

    @Test
    void setUpIsIdempotentAndCapabilityArgsReachPlugins() throws Exception {
        PodNetworking net = networking();
        net.updatePodCidr("10.99.0.0/16");
        String id = newId("i");
        DnsConfig dns = new DnsConfig(List.of("10.99.0.10"), List.of("svc.cluster.local"), List.of("ndots:5"));
        PodNetwork first = net.setUp(pod(id, List.of(), dns));
        PodNetwork again = net.setUp(pod(id, List.of(), dns));
        assertThat(again).isEqualTo(first);
        net.check(id); // no port mappings: portmap 1.1.1's CHECK fails on IPv4-only pods with ports (plugins#819)
        JsonNode result = CniConfig.JSON.readTree(first.cniResultJson());
        assertThat(result.path("cniVersion").asText()).isEqualTo("1.0.0");
        assertThat(result.path("ips").get(0).path("address").asText()).isEqualTo(first.ip() + "/16");
        net.tearDown(id);
        assertNothingLeft(id, first);
    }

    @Test
    void afterKillMinus9OfTheOwnerARestartCleansUp() throws Exception {
        String id = newId("k");
        int hostPort = freePort();
        Process owner = startHolder(id, hostPort);
        String ready = awaitLine(owner, "READY ");
        owner.destroyForcibly(); // SIGKILL: no shutdown hooks, no cleanup
        owner.waitFor();

        Path pin = stateDir.resolve("netns").resolve(id);
        assertThat(NetworkNamespaces.isPinned(pin)).as("pin survives its creator").isTrue();
        PodNetworking restarted = networking();
        PodNetwork pod = restarted.find(id).orElseThrow();
        assertThat(pod.ip()).isEqualTo(ready.substring("READY ".length()).strip());
        assertThat(CniTestSupport.run(30, "iptables-save", "-t", "nat").output()).contains(id);

        restarted.tearDown(id);
        assertNothingLeft(id, pod);
    }

    @Test
    void afterKillMinus9InTheMiddleOfAddARestartCleansUp() throws Exception {
        CniTestSupport.installPlugin(binDir, "berth-test-sleep", "sleeping-plugin.sh", Map.of());
        String conf = CniTestSupport.resource("test-bridge.conflist",
                        Map.of("BRIDGE", BRIDGE, "SUBNET", SUBNET, "DATADIR", ipamDir.toString()))
                .replace("\"type\": \"portmap\"", "\"type\": \"berth-test-sleep\"");
        Files.writeString(confDir.resolve("10-test.conflist"), conf);
        String id = newId("m");
        Process owner = startHolder(id, 0);
        awaitLine(owner, "SETTING_UP");
        // Wait until bridge ADD is done and the second plugin hangs, then kill the owner.
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!sleeperAlive() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(sleeperAlive()).isTrue();
        owner.destroyForcibly();
        owner.waitFor();
        killSleepers(); // the orphaned plugin outlives its runtime, as it would on a real node

        PodNetworking restarted = networking();
        assertThat(restarted.sandboxIds()).contains(id);
        assertThat(restarted.find(id)).as("half set-up pods are not reported as set up").isEmpty();
        assertThat(allocationsOf(id)).as("bridge ADD had allocated an address").isNotEmpty();
        restarted.tearDown(id);
        assertNothingLeft(id, null);
    }

    @Test
    void bandwidthAnnotationsShapeTraffic() throws Exception {
        String conf = CniTestSupport.resource("test-bridge.conflist",
                        Map.of("BRIDGE", BRIDGE, "SUBNET", SUBNET, "DATADIR", ipamDir.toString()))
                .replace("\"type\": \"portmap\",", "\"type\": \"bandwidth\",")
                .replace("\"portMappings\": true", "\"bandwidth\": true");
        Files.writeString(confDir.resolve("10-test.conflist"), conf);
        PodNetworking net = networking();
        String id = newId("bw");
        PodNetwork pod = net.setUp(new PodNetworkRequest(id, "bw", "berth-test", "uid", List.of(), DnsConfig.NONE,
                Map.of(CapabilityArgs.INGRESS_BANDWIDTH, "1M", CapabilityArgs.EGRESS_BANDWIDTH, "2M"), ""));
        String hostVeth = hostVeth(pod);
        CniTestSupport.Run qdisc = CniTestSupport.run(30, "tc", "qdisc", "show", "dev", hostVeth);
        assertThat(qdisc.output()).as(qdisc.output()).contains("tbf").contains("rate 1Mbit");
        CniTestSupport.Run all = CniTestSupport.run(30, "tc", "qdisc", "show");
        assertThat(all.output()).contains("rate 2Mbit");
        net.tearDown(id);
        assertNothingLeft(id, pod);
        assertThat(CniTestSupport.run(30, "tc", "qdisc", "show").output()).doesNotContain("rate 2Mbit");
    }

    @Test
    void podCidrFromUpdateRuntimeConfigReachesIpam() throws Exception {
        // Its own bridge: a bridge keeps its first gateway address, and this test uses another range.
        String conf = CniTestSupport.resource("test-bridge.conflist",
                        Map.of("BRIDGE", CIDR_BRIDGE, "SUBNET", SUBNET, "DATADIR", ipamDir.toString()))
                .replace("\"hairpinMode\": true,", "\"hairpinMode\": true, \"capabilities\": {\"ipRanges\": true},")
                .replace("\"ranges\": [[{ \"subnet\": \"" + SUBNET + "\" }]],", "");
        Files.writeString(confDir.resolve("10-test.conflist"), conf);
        PodNetworking net = networking();
        net.updatePodCidr("10.97.77.0/24");
        assertThat(net.podCidr()).isEqualTo("10.97.77.0/24");
        String id = newId("cidr");
        PodNetwork pod = net.setUp(pod(id, List.of(), DnsConfig.NONE));
        assertThat(pod.ip()).startsWith("10.97.77.");
        net.tearDown(id);
        assertNothingLeft(id, pod);
        assertThatThrownBy(() -> net.updatePodCidr("not-a-cidr")).isInstanceOf(BackendException.class);
    }

    @Test
    void concurrentSetUpsGetDistinctAddresses() throws Exception {
        PodNetworking net = networking();
        List<String> ids = List.of(newId("c1"), newId("c2"), newId("c3"), newId("c4"));
        List<PodNetwork> pods;
        try (var executor = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            List<java.util.concurrent.Future<PodNetwork>> futures = new ArrayList<>();
            for (String id : ids) {
                futures.add(executor.submit(() -> net.setUp(pod(id, List.of(), DnsConfig.NONE))));
            }
            pods = new ArrayList<>();
            for (var f : futures) {
                pods.add(f.get());
            }
        }
        assertThat(pods.stream().map(PodNetwork::ip).distinct()).hasSize(ids.size());
        try (var executor = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            for (String id : ids) {
                executor.submit(() -> net.tearDown(id));
            }
        }
        for (PodNetwork pod : pods) {
            assertNothingLeft(pod.sandboxId(), pod);
        }
    }

    @Test
    void measureSetUpAndTearDown() throws Exception {
        PodNetworking net = networking();
        int rounds = 10;
        long[] up = new long[rounds];
        long[] down = new long[rounds];
        for (int i = 0; i < rounds; i++) {
            String id = newId("perf");
            long t0 = System.nanoTime();
            PodNetwork pod = net.setUp(pod(id, List.of(new PortMapping(PortMapping.Protocol.TCP, 80, 20000 + i, "")),
                    DnsConfig.NONE));
            long t1 = System.nanoTime();
            net.tearDown(id);
            long t2 = System.nanoTime();
            up[i] = t1 - t0;
            down[i] = t2 - t1;
            assertNothingLeft(id, pod);
        }
        long[] ns = new long[rounds];
        for (int i = 0; i < rounds; i++) {
            Path pin = stateDir.resolve("netns").resolve("perf-ns");
            long t0 = System.nanoTime();
            NetworkNamespaces.create(pin);
            ns[i] = System.nanoTime() - t0;
            assertThat(NetworkNamespaces.isPinned(pin)).isTrue();
            NetworkNamespaces.remove(pin);
            assertThat(pin).doesNotExist();
        }
        java.util.Arrays.sort(ns);
        System.out.printf("netns create+pin+loopback up: median %.2f ms (min %.2f, max %.2f)%n",
                ns[rounds / 2] / 1e6, ns[0] / 1e6, ns[rounds - 1] / 1e6);
        java.util.Arrays.sort(up);
        java.util.Arrays.sort(down);
        System.out.printf("pod network (bridge+host-local+portmap, 1 hostPort): setUp median %.1f ms (min %.1f, "
                        + "max %.1f), tearDown median %.1f ms (min %.1f, max %.1f), %d rounds%n",
                up[rounds / 2] / 1e6, up[0] / 1e6, up[rounds - 1] / 1e6,
                down[rounds / 2] / 1e6, down[0] / 1e6, down[rounds - 1] / 1e6, rounds);
    }

    private static String hostVeth(PodNetwork pod) throws IOException {
        for (JsonNode iface : CniConfig.JSON.readTree(pod.cniResultJson()).path("interfaces")) {
            String name = iface.path("name").asText();
            if (iface.path("sandbox").asText("").isEmpty() && name.startsWith("veth")) {
                return name;
            }
        }
        fail("no host veth in " + pod.cniResultJson());
        return "";
    }

    private Process startHolder(String id, int hostPort) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", classpath,
                NetworkHolderMain.class.getName(), confDir.toString(), binDir + ":" + CniTestSupport.SYSTEM_CNI_BIN,
                stateDir.toString(), id, Integer.toString(hostPort)).redirectErrorStream(true).start();
        processes.add(p);
        return p;
    }

    /** Reads the process's output until a line starting with {@code prefix}; fails with the output otherwise. */
    private static String awaitLine(Process p, String prefix) throws IOException {
        java.io.BufferedReader reader = p.inputReader(StandardCharsets.UTF_8);
        StringBuilder seen = new StringBuilder();
        String line;
        while ((line = reader.readLine()) != null) {
            if (line.startsWith(prefix)) {
                return line;
            }
            seen.append(line).append('\n');
        }
        fail("process ended before printing " + prefix + ": " + seen);
        return "";
    }

    private static void killSleepers() throws InterruptedException {
        ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").contains("sleep 3607"))
                .forEach(ProcessHandle::destroyForcibly);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (sleeperAlive() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
    }

    private static List<Path> allocationsOf(String id) throws IOException {
        Path allocations = ipamDir.resolve(NETWORK);
        if (!Files.isDirectory(allocations)) {
            return List.of();
        }
        List<Path> found = new ArrayList<>();
        try (Stream<Path> files = Files.list(allocations)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                if (Files.readString(f).contains(id)) {
                    found.add(f);
                }
            }
        }
        return found;
    }

    private static boolean sleeperAlive() {
        return ProcessHandle.allProcesses().anyMatch(p -> p.info().commandLine().orElse("").contains("sleep 3607"));
    }

    /** After teardown: no pin (file or mount), no state, no host veth, no iptables rule, no IP allocation. */
    private void assertNothingLeft(String id, PodNetwork pod) throws Exception {
        Path pin = stateDir.resolve("netns").resolve(id);
        assertThat(pin).doesNotExist();
        assertThat(NetworkNamespaces.isPinned(pin)).isFalse();
        assertThat(stateDir.resolve("cni").resolve(id + ".json")).doesNotExist();
        if (pod != null) {
            JsonNode result = CniConfig.JSON.readTree(pod.cniResultJson());
            for (JsonNode iface : result.path("interfaces")) {
                String name = iface.path("name").asText();
                if (iface.path("sandbox").asText("").isEmpty() && name.startsWith("veth")) {
                    assertThat(Path.of("/sys/class/net", name)).as("host veth %s", name).doesNotExist();
                }
            }
        }
        CniTestSupport.Run rules = CniTestSupport.run(30, "iptables-save");
        assertThat(rules.exit()).isZero();
        assertThat(rules.output()).doesNotContain(id);
        assertThat(allocationsOf(id)).as("IPAM allocations").isEmpty();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Connects until the listener answers with some bytes; returns them. */
    private static String pollConnect(String host, int port, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(host, port), 2000);
                socket.setSoTimeout(5000);
                try (InputStream in = socket.getInputStream()) {
                    String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                    if (!text.isEmpty()) {
                        return text;
                    }
                }
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(200);
        }
        fail("no answer from " + host + ":" + port + " within " + timeout + ": " + last);
        return "";
    }
}
