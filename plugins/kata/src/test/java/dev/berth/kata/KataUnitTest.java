package dev.berth.kata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import dev.berth.kata.oci.KataSpecs;
import dev.berth.kata.proto.cgroups.v1.CPUStat;
import dev.berth.kata.proto.cgroups.v1.CPUUsage;
import dev.berth.kata.proto.cgroups.v1.MemoryEntry;
import dev.berth.kata.proto.cgroups.v1.MemoryStat;
import dev.berth.kata.proto.cgroups.v1.PidsStat;
import dev.berth.kata.shim.CriLog;
import dev.berth.kata.shim.ShimLauncher;
import dev.berth.oci.Libc;
import dev.berth.oci.spec.OciJson;
import dev.berth.oci.spec.RuntimeSpec;
import dev.berth.oci.spec.SpecMapper;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendHealth;
import dev.berth.spi.ContainerSecurity;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.ImageConfig;
import dev.berth.spi.LinuxResources;
import dev.berth.spi.PodMetadata;
import dev.berth.spi.PodMetricsSource;
import dev.berth.spi.SandboxSpec;
import dev.berth.spi.SecurityProfile;
import dev.berth.spi.StatsProvider;
import dev.berth.spi.testing.TestingBackendContext;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pure parts of the plugin: options, OCI specs, shim output parsing, metrics, the CRI log format, packaging. */
class KataUnitTest {
    @TempDir
    Path dir;

    @Test
    void bundlePropertiesWrittenFromManyThreadsAtOnceStayWhole() throws Exception {
        java.util.Properties props = new java.util.Properties();
        props.setProperty("kind", "container");
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(4)) {
            List<java.util.concurrent.Future<?>> writes = new java.util.ArrayList<>();
            for (int i = 0; i < 400; i++) {
                int n = i;
                writes.add(pool.submit(() -> {
                    props.setProperty("k" + n, Integer.toString(n));
                    BundleProperties.store(dir, props);
                    return null;
                }));
            }
            for (var w : writes) {
                w.get(); // a writer whose temporary file another one renamed away would fail here
            }
        }
        java.util.Properties read = BundleProperties.load(dir);
        assertThat(read).isNotNull();
        assertThat(read.getProperty("kind")).isEqualTo("container");
        assertThat(read).hasSize(401);
        try (var files = Files.list(dir)) {
            assertThat(files.map(f -> f.getFileName().toString())).as("no temp file left")
                    .containsExactly(BundleProperties.FILE);
        }
    }

    @Test
    void anExitKeptInTheBundleIsReadBackAndADamagedOneIsLeftToTheShim() throws Exception {
        java.util.Properties props = new java.util.Properties();
        props.setProperty("kind", "container");
        assertThat(Container.Exit.stored(props)).isNull();
        Container.Exit exit = new Container.Exit(137, Instant.parse("2026-12-06T03:00:00.123456789Z"));
        exit.putInto(props);
        BundleProperties.store(dir, props);
        assertThat(Container.Exit.stored(BundleProperties.load(dir))).isEqualTo(exit);

        props.setProperty("exitCode", "137x");
        assertThat(Container.Exit.stored(props)).isNull();
        exit.putInto(props);
        props.setProperty("exitedAt", "yesterday");
        assertThat(Container.Exit.stored(props)).isNull();
        props.remove("exitedAt");
        assertThat(Container.Exit.stored(props)).isNull();
    }

    @Test
    void aContainerBeingRemovedGetsNothingWrittenIntoItsBundle() throws Exception {
        Path bundle = Files.createDirectories(dir.resolve("bundle"));
        Container c = new Container("c1", "p1", bundle, new java.util.Properties());
        c.props.setProperty("exitCode", "0");
        c.record();
        assertThat(BundleProperties.load(bundle)).containsEntry("exitCode", "0");
        Files.delete(bundle.resolve(BundleProperties.FILE));
        c.discard();
        c.props.setProperty("oomKilled", "true");
        c.record(); // an event that comes while the bundle is being deleted
        assertThat(bundle).isEmptyDirectory();
    }

    @Test
    void optionsHaveDefaultsAndRejectUnknownKeysByName() {
        KataOptions d = KataOptions.parse("kata-qemu", Map.of());
        assertThat(d.shim()).isEqualTo("containerd-shim-kata-v2");
        assertThat(d.isKataShim()).isTrue();
        assertThat(d.createTimeout()).isEqualTo(Duration.ofSeconds(60));
        KataOptions o = KataOptions.parse("kata-fc", Map.of("config_path", "/opt/kata/share/defaults/kata-containers/configuration-fc.toml",
                "create_timeout", "2m", "exec_timeout", 45, "stop_timeout", "1500ms", "sandbox_image", "registry.k8s.io/pause:3.10"));
        assertThat(o.createTimeout()).isEqualTo(Duration.ofMinutes(2));
        assertThat(o.execTimeout()).isEqualTo(Duration.ofSeconds(45));
        assertThat(o.stopTimeout()).isEqualTo(Duration.ofMillis(1500));
        assertThat(o.sandboxImage()).isEqualTo("registry.k8s.io/pause:3.10");
        assertThatThrownBy(() -> KataOptions.parse("kata-clh", Map.of("hypervisor", "clh")))
                .isInstanceOfSatisfying(BackendException.class, e -> {
                    assertThat(e.kind()).isEqualTo(BackendException.Kind.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).contains("\"hypervisor\"").contains("kata-clh");
                });
        assertThatThrownBy(() -> KataOptions.parse("k", Map.of("start_timeout", "soon")))
                .isInstanceOfSatisfying(BackendException.class,
                        e -> assertThat(e.getMessage()).contains("\"start_timeout\""));
        assertThatThrownBy(() -> KataOptions.parse("k", Map.of("shim", 3)))
                .isInstanceOfSatisfying(BackendException.class, e -> assertThat(e.getMessage()).contains("\"shim\""));
    }

    @Test
    void factoryIsAnIndexedPf4jExtensionOfTypeKata() throws Exception {
        assertThat(new KataBackendFactory().type()).isEqualTo("kata");
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("META-INF/extensions.idx")) {
            assertThat(in).as("PF4J extension index").isNotNull();
            assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).contains(KataBackendFactory.class.getName());
        }
    }

    private static SandboxSpec pod(String id, LinuxResources overhead, LinuxResources resources) {
        return new SandboxSpec(id, new PodMetadata("web", "uid-1", "prod", 0), "web-0", "/var/log/pods/x", null,
                List.of(), Map.of(), Map.of("team", "a"), "", Map.of("net.ipv4.ip_forward", "1"), null, overhead,
                resources, Path.of("/var/run/netns/cni-1"), List.of(), null, Path.of("/r/resolv.conf"), null, null,
                null);
    }

    @Test
    void sandboxSpecCarriesGroupingAndSizingAnnotations() throws Exception {
        var overhead = new LinuxResources(100000, 25000, 0, 128L << 20, 0, "", "", Map.of(), Map.of(), 0);
        var resources = new LinuxResources(100000, 200000, 1024, 512L << 20, 0, "", "", Map.of(), Map.of(), 0);
        RuntimeSpec spec = KataSpecs.sandbox(pod("sb1", overhead, resources), "/berth-kata-sb1");
        assertThat(spec.annotations()).containsEntry("io.kubernetes.cri.container-type", "sandbox")
                .containsEntry("io.kubernetes.cri.sandbox-id", "sb1")
                .containsEntry("io.kubernetes.cri.sandbox-cpu-period", "100000")
                .containsEntry("io.kubernetes.cri.sandbox-cpu-quota", "225000")
                .containsEntry("io.kubernetes.cri.sandbox-cpu-shares", "1024")
                .containsEntry("io.kubernetes.cri.sandbox-memory", Long.toString(640L << 20))
                .containsEntry("team", "a");
        assertThat(spec.linux().namespaces()).contains(new RuntimeSpec.Namespace("network", "/var/run/netns/cni-1"));
        assertThat(spec.linux().sysctl()).isEqualTo(Map.of("net.ipv4.ip_forward", "1"));
        assertThat(spec.process().args()).isEqualTo(List.of("/pause"));
        assertThat(spec.hostname()).isEqualTo("web-0");
        // and it is JSON that reads back the same
        assertThat(OciJson.mapper().readValue(OciJson.write(spec), RuntimeSpec.class)).isEqualTo(spec);
    }

    private static ContainerSpec secured(ContainerSecurity sec, List<dev.berth.spi.ContainerMount> mounts) {
        ImageConfig image = new ImageConfig("id", "busybox", List.of("sh"), List.of(), List.of(), "", "", 0, 0,
                List.of(), "", Map.of());
        return new ContainerSpec("c2", "sb1", "c", 0, image, List.of(), List.of(), "", List.of(), mounts, List.of(),
                Map.of(), Map.of(), "", false, false, false, LinuxResources.NONE, sec, List.of(), null);
    }

    private static ContainerSecurity security(boolean privileged, List<String> add, SecurityProfile seccomp) {
        var d = ContainerSecurity.DEFAULT;
        return new ContainerSecurity(add, List.of(), privileged, d.namespaces(), d.runAsUser(), d.runAsGroup(), "",
                false, List.of(), false, List.of(), List.of(), seccomp, d.apparmor(), d.selinux(),
                d.supplementalGroupsPolicy());
    }

    @Test
    void capabilitiesSeccompAndPropagationFollowTheRequestWithinWhatTheHostGrants() {
        var sb = SpecMapper.podRef(pod("sb1", LinuxResources.NONE, LinuxResources.NONE), 4242);
        var host = new SpecMapper.Host(java.util.Set.of("CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_KILL"),
                ref -> ref.equals("/profiles/deny-hostname.json") ? Map.of("defaultAction", "SCMP_ACT_ALLOW",
                        "syscalls", List.of(Map.of("names", List.of("sethostname"), "action", "SCMP_ACT_ERRNO")))
                        : null);

        RuntimeSpec all = KataSpecs.container(secured(security(false, List.of("ALL"),
                SecurityProfile.RUNTIME_DEFAULT), List.of()), sb, 0, "/c", host);
        assertThat(all.process().capabilities().bounding()).as("ALL, within the host's bounding set")
                .containsExactlyInAnyOrder("CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_KILL");
        RuntimeSpec.Seccomp seccomp = all.linux().seccomp();
        assertThat(seccomp).as("RuntimeDefault, with the calls CAP_SYS_ADMIN covers allowed").isNotNull();
        assertThat(seccomp.syscalls().getFirst().names()).contains("keyctl").doesNotContain("unshare");

        RuntimeSpec local = KataSpecs.container(secured(security(false, List.of(),
                new SecurityProfile(SecurityProfile.Type.LOCALHOST, "/profiles/deny-hostname.json")),
                List.of(new dev.berth.spi.ContainerMount("/m", "/host/m", false, false,
                        dev.berth.spi.ContainerMount.Propagation.BIDIRECTIONAL, false, ""))), sb, 0, "/c", host);
        assertThat(local.linux().seccomp().syscalls().getFirst().names()).containsExactly("sethostname");
        assertThat(local.linux().rootfsPropagation()).isEqualTo("rshared");

        RuntimeSpec privileged = KataSpecs.container(secured(security(true, List.of(),
                SecurityProfile.RUNTIME_DEFAULT), List.of()), sb, 0, "/c", host);
        assertThat(privileged.linux().seccomp()).as("privileged: no seccomp").isNull();

        assertThatThrownBy(() -> KataSpecs.container(secured(security(false, List.of(),
                new SecurityProfile(SecurityProfile.Type.LOCALHOST, "/profiles/missing.json")), List.of()), sb, 0,
                "/c", host)).isInstanceOf(BackendException.class)
                .hasMessageContaining("failed to create container \"c2\"").hasMessageContaining("/profiles/missing.json");
    }

    @Test
    void aDeviceTheContainerAsksForIsInItsSpecButAPrivilegedOneGetsNoHostDevices() {
        var sb = pod("sb1", LinuxResources.NONE, LinuxResources.NONE);
        ImageConfig image = new ImageConfig("id", "docker.io/library/busybox:1", List.of("sh"), List.of(),
                List.of(), "", "", 0, 0, List.of(), "", Map.of());
        for (boolean privileged : new boolean[] {false, true}) {
            ContainerSpec c = new ContainerSpec("c1", "sb1", "dev", 0, image, List.of(), List.of(), "", List.of(),
                    List.of(), List.of(new dev.berth.spi.DeviceSpec("/dev/mynull", "/dev/null", "rw")), Map.of(),
                    Map.of(), "", false, false, false, LinuxResources.NONE,
                    security(privileged, List.of(), SecurityProfile.RUNTIME_DEFAULT), List.of(), null);
            RuntimeSpec spec = KataSpecs.container(c, SpecMapper.podRef(sb, 4242), 0, "/berth-kata-c1",
                    SpecMapper.Host.UNRESTRICTED);
            assertThat(spec.linux().devices()).as("privileged " + privileged).extracting(RuntimeSpec.Device::path,
                    RuntimeSpec.Device::type, RuntimeSpec.Device::major, RuntimeSpec.Device::minor)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("/dev/mynull", "c", 1L, 3L));
            if (!privileged) {
                assertThat(spec.linux().resources().devices()).as("its cgroup rule").contains(
                        new RuntimeSpec.DeviceRule(true, "c", 1L, 3L, "rw"));
            }
        }
    }

    @Test
    void containerSpecJoinsThePodAndMergesImageAndRequest() {
        var sb = pod("sb1", LinuxResources.NONE, LinuxResources.NONE);
        ImageConfig image = new ImageConfig("id", "docker.io/library/nginx:1", List.of("/entry"), List.of("a"),
                List.of("IMG=1"), "/srv", "", 101, 102, List.of(7L), "SIGQUIT", Map.of());
        ContainerSpec c = new ContainerSpec("c1", "sb1", "nginx", 0, image, List.of(), List.of("b"), "",
                List.of("REQ=2"), List.of(new dev.berth.spi.ContainerMount("/data", "/host/data", true, false, null, false, "")),
                List.of(), Map.of(), Map.of(), "", false, false, false,
                new LinuxResources(100000, 50000, 2, 1L << 30, 0, "0-1", "", Map.of(), Map.of(), 0), null, List.of(), null);
        RuntimeSpec spec = KataSpecs.container(c, SpecMapper.podRef(sb, 4242), 0, "/berth-kata-c1",
                SpecMapper.Host.UNRESTRICTED);
        RuntimeSpec.Process process = spec.process();
        assertThat(process.args()).isEqualTo(List.of("/entry", "b"));
        assertThat(process.env()).containsSubsequence("IMG=1", "REQ=2");
        assertThat(process.cwd()).isEqualTo("/srv");
        assertThat(process.user()).isEqualTo(new RuntimeSpec.User(101, 102, null, List.of(102L, 7L)));
        assertThat(spec.annotations()).containsEntry("io.kubernetes.cri.container-type", "container")
                .containsEntry("io.kubernetes.cri.sandbox-id", "sb1")
                .containsEntry("io.kubernetes.cri.container-name", "nginx")
                .containsEntry("io.kubernetes.cri.image-name", "docker.io/library/nginx:1");
        assertThat(spec.linux().namespaces()).contains(
                new RuntimeSpec.Namespace("ipc", "/proc/4242/ns/ipc"),
                new RuntimeSpec.Namespace("uts", "/proc/4242/ns/uts"),
                new RuntimeSpec.Namespace("network", "/var/run/netns/cni-1"),
                new RuntimeSpec.Namespace("pid", null), new RuntimeSpec.Namespace("mount", null));
        RuntimeSpec.Resources res = spec.linux().resources();
        assertThat(res.cpu()).isEqualTo(new RuntimeSpec.Cpu(2L, 50000L, 100000L, "0-1", null));
        assertThat(res.memory()).isEqualTo(new RuntimeSpec.Memory(1L << 30, null, null, null));
        assertThat(spec.mounts()).anyMatch(m -> m.destination().equals("/data") && m.options().contains("ro"));
        assertThat(spec.mounts()).anyMatch(m -> m.destination().equals("/etc/resolv.conf")
                && m.source().equals("/r/resolv.conf"));
        assertThat(Signals.parse(image.stopSignal())).isEqualTo(3);
        assertThat(Signals.parse("")).isEqualTo(15);
        assertThat(Signals.parse("9")).isEqualTo(9);

        RuntimeSpec.Process exec = SpecMapper.execProcess(process, List.of("ls", "-l"), false);
        assertThat(exec.args()).isEqualTo(List.of("ls", "-l"));
        assertThat(exec.terminal()).isFalse();
        assertThat(exec.env()).isEqualTo(process.env());
    }

    @Test
    void shimStartOutputIsParsedInEveryForm() throws Exception {
        assertThat(ShimLauncher.socketOf("unix:///run/containerd/s/abc\n")).isEqualTo(Path.of("/run/containerd/s/abc"));
        assertThat(ShimLauncher.socketOf("{\"version\":2,\"address\":\"unix:///run/x.sock\",\"protocol\":\"ttrpc\"}"))
                .isEqualTo(Path.of("/run/x.sock"));
        assertThatThrownBy(() -> ShimLauncher.socketOf("{\"version\":2,\"address\":\"unix:///x\",\"protocol\":\"grpc\"}"))
                .hasMessageContaining("grpc");
        assertThatThrownBy(() -> ShimLauncher.socketOf("")).hasMessageContaining("no unix socket");
        assertThatThrownBy(() -> ShimLauncher.socketOf("{\"address\":")).hasMessageContaining("malformed JSON");
    }

    @Test
    void cgroupV1AndV2MetricsDecode() throws Exception {
        var v1 = dev.berth.kata.proto.cgroups.v1.Metrics.newBuilder()
                .setPids(PidsStat.newBuilder().setCurrent(3))
                .setCpu(CPUStat.newBuilder().setUsage(CPUUsage.newBuilder().setTotal(21_000_000)))
                .setMemory(MemoryStat.newBuilder().setUsage(MemoryEntry.newBuilder().setUsage(700_000))
                        .setTotalInactiveFile(100_000).setTotalRss(400_000).setTotalPgFault(9).setTotalPgMajFault(1))
                .build();
        Instant now = Instant.now();
        StatsProvider.Usage u = Metrics.decode(Any.newBuilder().setTypeUrl("io.containerd.cgroups.v1.Metrics")
                .setValue(v1.toByteString()).build(), now);
        assertThat(u).isEqualTo(new StatsProvider.Usage(now, 21_000_000, 600_000, 700_000, 400_000, 9, 1, 3));
        var v2 = dev.berth.kata.proto.cgroups.v2.Metrics.newBuilder()
                .setCpu(dev.berth.kata.proto.cgroups.v2.CPUStat.newBuilder().setUsageUsec(5))
                .setMemory(dev.berth.kata.proto.cgroups.v2.MemoryStat.newBuilder().setUsage(1000).setInactiveFile(300).setAnon(600))
                .build();
        StatsProvider.Usage u2 = Metrics.decode(Any.newBuilder().setTypeUrl("types.googleapis.com/io.containerd.cgroups.v2.Metrics")
                .setValue(v2.toByteString()).build(), now);
        assertThat(u2.cpuUsageCoreNanoSeconds()).isEqualTo(5000);
        assertThat(u2.memoryWorkingSetBytes()).isEqualTo(700);
        assertThat(u2.processCount()).isEqualTo(-1);
        assertThatThrownBy(() -> Metrics.decode(Any.newBuilder().setTypeUrl("x.Other").build(), now))
                .hasMessageContaining("x.Other");
    }

    @Test
    void podMetricsDecodeUserSystemCacheThreadsAndTheGuestsInterfaces() throws Exception {
        var v1 = dev.berth.kata.proto.cgroups.v1.Metrics.newBuilder()
                .setPids(PidsStat.newBuilder().setCurrent(4))
                .setCpu(CPUStat.newBuilder().setUsage(CPUUsage.newBuilder().setTotal(30).setUser(20).setKernel(10)))
                .setMemory(MemoryStat.newBuilder().setUsage(MemoryEntry.newBuilder().setUsage(700)).setTotalCache(250)
                        .setTotalRss(400))
                .addNetwork(dev.berth.kata.proto.cgroups.v1.NetworkStat.newBuilder().setName("eth0").setRxBytes(1)
                        .setRxPackets(2).setRxErrors(3).setRxDropped(4).setTxBytes(5).setTxPackets(6).setTxErrors(7)
                        .setTxDropped(8))
                .build();
        Instant now = Instant.now();
        Any any1 = Any.newBuilder().setTypeUrl("io.containerd.cgroups.v1.Metrics").setValue(v1.toByteString()).build();
        PodMetricsSource.ContainerMetrics m = Metrics.containerMetrics("c1", any1, now);
        assertThat(m.usage().cpuUsageCoreNanoSeconds()).isEqualTo(30);
        assertThat(m.cpuUserNanoSeconds()).isEqualTo(20);
        assertThat(m.cpuSystemNanoSeconds()).isEqualTo(10);
        assertThat(m.memoryCacheBytes()).isEqualTo(250);
        assertThat(m.threadCount()).as("the shim's task count").isEqualTo(4);
        assertThat(m.usage().processCount()).as("no process count apart from tasks").isEqualTo(-1);
        assertThat(Metrics.interfaces(any1)).containsExactly(
                new PodMetricsSource.InterfaceMetrics("eth0", 1, 2, 3, 4, 5, 6, 7, 8));

        var v2 = dev.berth.kata.proto.cgroups.v2.Metrics.newBuilder()
                .setCpu(dev.berth.kata.proto.cgroups.v2.CPUStat.newBuilder().setUsageUsec(9).setUserUsec(6)
                        .setSystemUsec(3))
                .setMemory(dev.berth.kata.proto.cgroups.v2.MemoryStat.newBuilder().setUsage(1000).setFile(300))
                .build();
        Any any2 = Any.newBuilder().setTypeUrl("types.googleapis.com/io.containerd.cgroups.v2.Metrics")
                .setValue(v2.toByteString()).build();
        PodMetricsSource.ContainerMetrics m2 = Metrics.containerMetrics("c2", any2, now);
        assertThat(m2.cpuUserNanoSeconds()).isEqualTo(6000);
        assertThat(m2.cpuSystemNanoSeconds()).isEqualTo(3000);
        assertThat(m2.memoryCacheBytes()).isEqualTo(300);
        assertThat(m2.threadCount()).as("no pids in the reply").isEqualTo(-1);
        assertThat(Metrics.interfaces(any2)).isEmpty();
    }

    @Test
    void criLogWritesTimestampedRecordsAndSplitsLongLines() throws Exception {
        Path out = dir.resolve("out");
        Path err = dir.resolve("err");
        Libc.mkfifo(out, 0600);
        Libc.mkfifo(err, 0600);
        Path logFile = dir.resolve("c.log");
        try (CriLog log = CriLog.start(logFile, out, err, "t")) {
            try (FileChannel w = FileChannel.open(out, StandardOpenOption.WRITE);
                 FileChannel e = FileChannel.open(err, StandardOpenOption.WRITE)) {
                w.write(java.nio.ByteBuffer.wrap(("one\ntw").getBytes(StandardCharsets.UTF_8)));
                w.write(java.nio.ByteBuffer.wrap(("o\n" + "x".repeat(16 * 1024 + 5) + "\nlast").getBytes(StandardCharsets.UTF_8)));
                e.write(java.nio.ByteBuffer.wrap("oops\n".getBytes(StandardCharsets.UTF_8)));
            }
            assertThat(log.awaitEnd(Duration.ofSeconds(20))).isTrue();
        }
        List<String> lines = Files.readAllLines(logFile);
        String ts = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z ";
        assertThat(lines).filteredOn(l -> l.contains(" stdout ")).hasSize(5);
        assertThat(lines).filteredOn(l -> l.contains(" stdout ")).satisfiesExactly(
                l -> assertThat(l).matches(ts + "stdout F one"),
                l -> assertThat(l).matches(ts + "stdout F two"),
                l -> assertThat(l).matches(ts + "stdout P x{16384}"),
                l -> assertThat(l).matches(ts + "stdout F xxxxx"),
                l -> assertThat(l).matches(ts + "stdout F last"));
        assertThat(lines).anyMatch(l -> l.matches(ts + "stderr F oops"));
    }

    @Test
    void healthNamesWhatIsMissingForAKataShim() {
        var ctx = new TestingBackendContext("kata-qemu", dir);
        try (var b = new KataBackendFactory().create("kata-qemu",
                Map.of("shim", "/nonexistent/containerd-shim-kata-v2", "config_path", "/nonexistent/configuration.toml"), ctx)) {
            BackendHealth h = b.health();
            assertThat(h.ready()).isFalse();
            assertThat(h.checks()).anySatisfy(c -> {
                assertThat(c.what()).contains("containerd-shim-kata-v2");
                assertThat(c.ok()).isFalse();
                assertThat(c.advice()).contains("Kata");
            });
            assertThat(h.checks()).anySatisfy(c -> assertThat(c.what()).isEqualTo("/dev/kvm"));
            assertThat(h.checks()).anySatisfy(c -> assertThat(c.what()).isEqualTo("/dev/vhost-vsock"));
            assertThat(h.checks()).anySatisfy(c -> {
                assertThat(c.what()).contains("configuration.toml");
                assertThat(c.ok()).isFalse();
            });
            assertThat(b.features().recursiveReadOnlyMounts()).isFalse();
            assertThat(b.features().userNamespaces()).isFalse();
            assertThat(b.features().sandboxImage()).isEmpty();
        }
        var ctx2 = new TestingBackendContext("shimv2-runc", dir.resolve("b"));
        try (var b = new KataBackendFactory().create("shimv2-runc", Map.of("shim", "containerd-shim-runc-v2"), ctx2)) {
            assertThat(b.health().checks()).noneMatch(c -> c.what().equals("/dev/kvm"));
        }
    }
}
