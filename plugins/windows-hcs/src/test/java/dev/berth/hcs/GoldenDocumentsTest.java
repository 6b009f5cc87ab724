package dev.berth.hcs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.hcs.fake.FakeHcs;
import dev.berth.hcs.schema.Documents;
import dev.berth.hcs.schema.HcsJson;
import dev.berth.spi.ContainerMount;
import dev.berth.spi.ContainerSecurity;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.DnsConfig;
import dev.berth.spi.LinuxResources;
import dev.berth.spi.SandboxSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The documents berth sends to HCS for CRI-shaped specs, compared with golden files under
 * {@code src/test/resources/golden}. The documents are taken from what the backend really passed to the fake
 * ({@code HcsCreateComputeSystem}'s configuration, {@code HcsCreateProcess}'s parameters), except the utility VM
 * and the TTY exec, which the backend does not send yet and which come from the builder.
 *
 * <p>Field names and shapes were checked against microsoft/hcsshim: the structs in
 * {@code internal/hcs/schema2/} ({@code compute_system.go}, {@code container.go}, {@code storage.go},
 * {@code layer.go}, {@code mapped_directory.go}, {@code mapped_pipe.go}, {@code networking.go},
 * {@code processor.go}, {@code memory.go}, {@code guest_os.go}, {@code process_parameters.go},
 * {@code virtual_machine.go}, {@code chipset.go}, {@code uefi.go}, {@code uefi_boot_entry.go}, {@code topology.go},
 * {@code virtual_machine_memory.go}, {@code virtual_machine_processor.go}, {@code devices.go},
 * {@code virtual_smb.go}, {@code virtual_smb_share.go}, {@code virtual_smb_share_options.go},
 * {@code hv_socket_2.go}, {@code hv_socket_system_config.go}); the container builder
 * {@code internal/hcsoci/hcsdoc_wcow.go} (GuestOs.HostName, MappedDirectories with ReadOnly, Processor
 * Count/Maximum/Weight, Memory.SizeInMB, Networking.Namespace and DnsSearchList, Storage.Layers and the volume
 * Path) and {@code internal/hcsoci/create.go} (Owner, SchemaVersion 2.1); the utility VM builder
 * {@code internal/uvm/create_wcow.go} ({@code prepareCommonConfigDoc}, {@code prepareConfigDoc}); the process
 * builder {@code internal/cmd/cmd.go} (CommandLine from escaped args, User, WorkingDirectory, Environment,
 * EmulateConsole for a terminal, one CreateStd*Pipe per stream, ConsoleSize as {height, width}).
 * One deliberate difference: berth leaves out ShouldTerminateOnLastHandleClosed (see {@link Documents}).
 *
 * <p>Run with {@code -Dgolden.update=true} to rewrite the files after an intended change, then review the diff.
 */
class GoldenDocumentsTest {
    private static final Path GOLDEN = Path.of("src/test/resources/golden");
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String POD = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2";
    static final String CTR = "f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f";
    static final String NAMESPACE = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";

    @TempDir
    Path dir;
    private Fixtures.Rig rig;
    private HcsBackend backend;

    @BeforeEach
    void setUp() {
        rig = new Fixtures.Rig(dir);
        backend = rig.backend(Map.of());
    }

    @AfterEach
    void tearDown() {
        backend.removeSandbox(POD);
        backend.close();
        assertThat(rig.hcs.violations()).isEmpty();
    }

    static SandboxSpec pod(String hostname, List<String> dnsSearches) {
        SandboxSpec s = Fixtures.sandbox(POD);
        return new SandboxSpec(s.id(), s.metadata(), hostname, s.logDirectory(),
                new DnsConfig(List.of("10.0.0.10"), dnsSearches, List.of()), s.portMappings(), s.labels(),
                s.annotations(), s.cgroupParent(), s.sysctls(), s.security(), s.overhead(), s.resources(),
                Path.of("hns", NAMESPACE), s.rootfs(), s.image(), null, null, null, null);
    }

    static ContainerSpec ctr(List<ContainerMount> mounts, LinuxResources resources, Map<String, String> annotations,
                             String workingDir, List<String> env, ContainerSecurity security) {
        return new ContainerSpec(CTR, POD, "app", 0,
                Fixtures.nanoserver(List.of("cmd", "/c", "echo hello & ping -t localhost")),
                List.of(), List.of(), workingDir, env, mounts, List.of(), Map.of(), annotations, "", false, false,
                false, resources, security, Fixtures.rootfs(CTR), null);
    }

    /** Runs the pod and the container through the backend; the documents the fake received. */
    private Map<String, String> run(SandboxSpec pod, ContainerSpec ctr) {
        backend.createSandbox(pod);
        backend.startSandbox(POD);
        backend.createContainer(ctr);
        backend.startContainer(CTR);
        FakeHcs.Sys sandbox = rig.hcs.system(POD);
        FakeHcs.Sys container = rig.hcs.system(CTR);
        return Map.of("sandbox", portable(sandbox.configuration), "container", portable(container.configuration),
                "sandbox-process", processOf(POD), "container-process", processOf(CTR));
    }

    /** The layer folders are under this test's directories: named by placeholders in the golden files. */
    private String portable(String doc) {
        return doc.replace(dir.toString(), "<backend>").replace(Fixtures.DIR.toString(), "<core>");
    }

    private String processOf(String systemId) {
        return rig.hcs.processParameters(systemId).getFirst();
    }

    static Stream<Arguments> backendCases() {
        LinuxResources none = LinuxResources.NONE;
        return Stream.of(
                Arguments.of("nanoserver-pod", pod("web-0", List.of("default.svc.cluster.local", "svc.cluster.local")),
                        ctr(List.of(), none, Map.of(), "", List.of(), null)),
                Arguments.of("mounts", pod("", List.of()), ctr(List.of(
                        new ContainerMount("C:\\data", "C:\\var\\lib\\kubelet\\pods\\uid-1\\volumes\\data", true, false,
                                null, false, ""),
                        new ContainerMount("C:\\scratch", "C:\\var\\lib\\kubelet\\pods\\uid-1\\volumes\\scratch", false,
                                false, null, false, ""),
                        new ContainerMount("\\\\.\\pipe\\docker_engine", "\\\\.\\pipe\\docker_engine", false, false,
                                null, false, "")), none, Map.of(), "", List.of(), null)),
                Arguments.of("limits-count-memory", pod("", List.of()), ctr(List.of(),
                        new LinuxResources(0, 0, 0, 512L << 20, 0, "", "", Map.of(), Map.of(), 0),
                        Map.of(Documents.ANNOTATION_PROCESSOR_COUNT, "2"), "", List.of(), null)),
                Arguments.of("limits-quota-shares", pod("", List.of()), ctr(List.of(),
                        new LinuxResources(100_000, 50_000, 0, 300_000_000L, 0, "", "", Map.of(), Map.of(), 0),
                        Map.of(), "", List.of(), null)),
                Arguments.of("process-user-env-cwd", pod("api-7", List.of()), ctr(List.of(), none, Map.of(),
                        "C:\\app", List.of("GREETING=hello world", "PATH=C:\\app;C:\\Windows\\system32", "EMPTY="),
                        new ContainerSecurity(List.of(), List.of(), false, null, java.util.OptionalLong.empty(),
                                java.util.OptionalLong.empty(), "ContainerAdministrator", false, List.of(), false,
                                List.of(), List.of(), null, null, null, null))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backendCases")
    void backendDocumentsMatchGoldenFiles(String name, SandboxSpec pod, ContainerSpec ctr) throws Exception {
        Map<String, String> docs = run(pod, ctr);
        for (var e : docs.entrySet()) {
            // The pod's own documents do not change with the container's spec: kept once, for the first case.
            if (e.getKey().startsWith("sandbox") && !name.equals("nanoserver-pod")) {
                continue;
            }
            golden(name + "." + e.getKey() + ".json", e.getValue());
        }
    }

    @Test
    void hyperVUtilityVm() throws Exception {
        backend.createSandbox(pod("", List.of())); // for tearDown
        golden("hyperv-uvm.json", HcsJson.write(Documents.utilityVm(
                "C:\\ProgramData\\berth\\snapshots\\1\\UtilityVM\\Files", 1024, 2)));
        golden("hyperv-container.json", HcsJson.write(Documents.container(new Documents.ContainerInput("web-0",
                new dev.berth.hcs.schema.Schema.Storage(List.of(new dev.berth.hcs.schema.Schema.Layer(
                        "7f5e5a3c-3a9b-5d47-9c1c-2f8e4d6b1a00", "C:\\ProgramData\\berth\\snapshots\\2", null)),
                        "C:\\c\\" + CTR.substring(0, 12)), List.of(), LinuxResources.NONE, Map.of(), NAMESPACE,
                DnsConfig.NONE, 2, POD + "@vm"))));
    }

    @Test
    void execWithTtyAndConsoleSize() throws Exception {
        backend.createSandbox(pod("", List.of()));
        golden("exec-tty.json", HcsJson.write(Documents.process(new Documents.ProcessInput(
                List.of("powershell.exe", "-NoLogo", "-Command", "Write-Host \"a b\""), "ContainerUser", "C:\\",
                List.of("TERM=xterm"), true, true, true, 40, 120))));
    }

    private void golden(String file, String actual) throws Exception {
        Path f = GOLDEN.resolve(file);
        JsonNode got = JSON.readTree(actual);
        if (Boolean.getBoolean("golden.update")) {
            Files.createDirectories(GOLDEN);
            Files.writeString(f, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(got) + "\n",
                    StandardCharsets.UTF_8);
        }
        assertThat(Files.exists(f)).as("golden file %s exists (run with -Dgolden.update=true)", file).isTrue();
        JsonNode want = JSON.readTree(Files.readString(f, StandardCharsets.UTF_8));
        assertThat(got).as("%s", file).isEqualTo(want);
    }
}
