package dev.berth.core.cdi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.berth.spi.BackendException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CdiRegistryTest {
    @TempDir
    Path dir;

    private static final String GPU_JSON = """
            {"cdiVersion": "0.6.0", "kind": "vendor.example/gpu",
             "containerEdits": {"env": ["SPEC=gpu"]},
             "devices": [
               {"name": "0", "containerEdits": {"env": ["GPU=0"], "deviceNodes": [{"path": "/dev/gpu0", "hostPath": "/dev/null"}]}},
               {"name": "1", "containerEdits": {"env": ["GPU=1"]}}]}
            """;

    private Path write(String sub, String name, String text) throws Exception {
        Path d = dir.resolve(sub);
        Files.createDirectories(d);
        return Files.writeString(d.resolve(name), text);
    }

    private CdiRegistry registry(String... subs) {
        return new CdiRegistry(java.util.Arrays.stream(subs).map(dir::resolve).toList());
    }

    @Test
    void aJsonSpecsEditsComeOncePerSpecThenEachDevicesOwn() throws Exception {
        Path f = write("etc", "gpu.json", GPU_JSON);
        List<CdiRegistry.Resolved> r = registry("etc").resolve("c", List.of("vendor.example/gpu=1",
                "vendor.example/gpu=0"));
        assertThat(r).extracting(x -> x.edits().env()).containsExactly(List.of("SPEC=gpu"), List.of("GPU=1"),
                List.of("GPU=0"));
        assertThat(r).extracting(CdiRegistry.Resolved::file).containsOnly(f);
        assertThat(r.get(2).edits().deviceNodes()).extracting(CdiSpec.DeviceNode::hostPath).containsExactly("/dev/null");
    }

    @Test
    void aYamlSpecIsReadToo() throws Exception {
        write("etc", "nic.yaml", """
                cdiVersion: "1.1.0"
                kind: nic.example.com/port
                annotations: {owner: test}
                devices:
                  - name: eth-1
                    containerEdits:
                      env: ["PORT=1"]
                      mounts:
                        - {hostPath: /opt/lib, containerPath: /usr/lib/nic, options: [ro, rbind, rslave]}
                      additionalGids: [0, 44]
                """);
        var r = registry("etc").resolve("c", List.of("nic.example.com/port=eth-1"));
        assertThat(r).hasSize(2);
        assertThat(r.get(1).edits().mounts()).singleElement().satisfies(m -> {
            assertThat(m.containerPath()).isEqualTo("/usr/lib/nic");
            assertThat(m.options()).containsExactly("ro", "rbind", "rslave");
        });
        assertThat(r.get(1).edits().additionalGids()).containsExactly(0L, 44L);
    }

    @Test
    void aLaterDirectoryOverridesAnEarlierOne() throws Exception {
        write("etc", "gpu.json", GPU_JSON);
        Path run = write("run", "gpu.yaml", """
                cdiVersion: 0.5.0
                kind: vendor.example/gpu
                devices: [{name: "0", containerEdits: {env: [FROM=run]}}]
                """);
        var r = registry("etc", "run").resolve("c", List.of("vendor.example/gpu=0"));
        assertThat(r).extracting(CdiRegistry.Resolved::file).containsOnly(run);
        assertThat(r.get(1).edits().env()).containsExactly("FROM=run");
        // Devices only the earlier directory defines are still found there.
        assertThat(registry("etc", "run").resolve("c", List.of("vendor.example/gpu=1")).get(1).edits().env())
                .containsExactly("GPU=1");
    }

    @Test
    void twoSpecsOfOneDirectoryDefiningADeviceMakeItUnresolvable() throws Exception {
        Path a = write("etc", "a.json", GPU_JSON);
        Path b = write("etc", "b.json", GPU_JSON);
        var e = refused(registry("etc"), "vendor.example/gpu=0");
        assertThat(e.kind()).isEqualTo(BackendException.Kind.FAILED_PRECONDITION);
        assertThat(e.getMessage()).contains("two specs of one directory define [vendor.example/gpu=0 (defined by "
                + "both " + a + " and " + b + ")]");
    }

    @Test
    void aDeviceNoSpecDefinesNamesTheDirectoriesAndTheFilesLeftOut() throws Exception {
        write("etc", "gpu.json", GPU_JSON);
        Path bad = write("etc", "broken.json", GPU_JSON.replace("\"env\": [\"GPU=1\"]", "\"environment\": [1]"));
        var e = refused(registry("etc", "run"), "vendor.example/gpu=7");
        assertThat(e.kind()).isEqualTo(BackendException.Kind.FAILED_PRECONDITION);
        assertThat(e.getMessage()).startsWith("container \"c\" asks for CDI devices that cannot be resolved: no spec in ["
                + dir.resolve("etc") + ", " + dir.resolve("run") + "] defines [vendor.example/gpu=7]")
                .contains("spec files left out: " + bad + ": ").contains("\"environment\"");
        // The good spec's devices still resolve.
        assertThat(registry("etc").resolve("c", List.of("vendor.example/gpu=0"))).hasSize(2);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "\"cdiVersion\": \"0.6.0\", \"kind\": \"vendor.example/gpu\", \"devices\": []|the spec has no devices",
        "\"cdiVersion\": \"2.0.0\", \"kind\": \"vendor.example/gpu\"|cdiVersion 2.0.0 is newer than berth reads (1.1.0)",
        "\"cdiVersion\": \"v1\", \"kind\": \"vendor.example/gpu\"|cdiVersion \"v1\" is not a version",
        "\"kind\": \"vendor.example/gpu\"|cdiVersion is missing",
        "\"cdiVersion\": \"0.6.0\", \"kind\": \"gpu\"|kind \"gpu\" is not vendor/class",
        "\"cdiVersion\": \"0.6.0\", \"kind\": \"ven_dor/gpu\"|vendor \"ven_dor\" is not a DNS subdomain",
        "\"cdiVersion\": \"0.6.0\", \"kind\": \"vendor.example/gpu/x\"|class \"gpu/x\" is not valid",
    })
    void aSpecThatDoesNotCheckIsLeftOutWithItsReason(String fields, String why) throws Exception {
        String text = "{" + fields + (fields.contains("devices") ? "" : ", \"devices\": [{\"name\": \"0\"}]") + "}";
        write("etc", "x.json", text);
        assertThat(refused(registry("etc"), "vendor.example/gpu=0").getMessage()).contains(why);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "{\"name\": \"-0\"}|device name \"-0\" is not valid",
        "{\"name\": \"0\", \"containerEdits\": {\"env\": [\"NOVALUE\"]}}|env entry \"NOVALUE\" is not NAME=value",
        "{\"name\": \"0\", \"containerEdits\": {\"deviceNodes\": [{\"path\": \"dev/x\"}]}}|deviceNodes path \"dev/x\" is not an absolute path",
        "{\"name\": \"0\", \"containerEdits\": {\"deviceNodes\": [{\"path\": \"/dev/x\", \"permissions\": \"rx\"}]}}|permissions \"rx\" are not made of r, w and m",
        "{\"name\": \"0\", \"containerEdits\": {\"mounts\": [{\"hostPath\": \"/a\", \"containerPath\": \"b\"}]}}|mounts containerPath \"b\" is not an absolute path",
        "{\"name\": \"0\", \"containerEdits\": {\"hooks\": [{\"hookName\": \"later\", \"path\": \"/bin/true\"}]}}|hook name \"later\" is not one of",
        "{\"name\": \"0\", \"containerEdits\": {\"deviceNode\": []}}|\"deviceNode\"",
        "{\"name\": \"0\"}, {\"name\": \"0\"}|device \"0\" is defined twice",
    })
    void aDeviceThatDoesNotCheckLeavesItsSpecOut(String devices, String why) throws Exception {
        write("etc", "x.json", "{\"cdiVersion\": \"0.6.0\", \"kind\": \"vendor.example/gpu\", \"devices\": ["
                + devices + "]}");
        assertThat(refused(registry("etc"), "vendor.example/gpu=0").getMessage()).contains(why);
    }

    @Test
    void anOversizedOrUnreadableSpecIsLeftOut() throws Exception {
        write("etc", "big.json", " ".repeat((int) CdiSpec.MAX_BYTES + 1) + GPU_JSON);
        write("etc", "bytes.yaml", "\u0000");
        Files.write(dir.resolve("etc").resolve("latin1.json"), new byte[] {(byte) 0xff, (byte) 0xfe, '{'});
        String m = refused(registry("etc"), "vendor.example/gpu=0").getMessage();
        assertThat(m).contains("big.json: the file has 1048" ).contains("more than the 1048576 a spec may have")
                .contains("bytes.yaml: ").contains("latin1.json: ");
    }

    @Test
    void theSpecFilesAreListedWithTheirSpecOrWhyTheyAreLeftOut() throws Exception {
        Path good = write("etc", "gpu.json", GPU_JSON);
        Path bad = write("run", "bad.yaml", "cdiVersion: 0.6.0\nkind: gpu\ndevices: [{name: a}]\n");
        var files = registry("etc", "run").specFiles();
        assertThat(files).extracting(CdiRegistry.SpecFile::file).containsExactly(good, bad);
        assertThat(files.get(0).spec().devices()).hasSize(2);
        assertThat(files.get(0).error()).isNull();
        assertThat(files.get(1).spec()).isNull();
        assertThat(files.get(1).error()).isEqualTo("kind \"gpu\" is not vendor/class");
    }

    @Test
    void filesOfOtherNamesAndMissingDirectoriesAreIgnored() throws Exception {
        write("etc", "gpu.json.bak", "not a spec");
        write("etc", "README", "not a spec");
        write("etc", "gpu.json", GPU_JSON);
        assertThat(registry("missing", "etc").resolve("c", List.of("vendor.example/gpu=0"))).hasSize(2);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "gpu0|it is not vendor/class=name",
        "vendor.example/gpu=|the name after '=' is not valid",
        "vendor.example/gpu=a b|the name after '=' is not valid",
        "=0|it is not vendor/class=name",
        "vendor_example/gpu=0|is not a DNS subdomain",
    })
    void aMalformedNameIsInvalidArgument(String name, String why) {
        var e = refused(registry("etc"), name);
        assertThat(e.kind()).isEqualTo(BackendException.Kind.INVALID_ARGUMENT);
        assertThat(e.getMessage()).startsWith("container \"c\": CDI device \"" + name + "\" is not valid: ")
                .contains(why);
    }

    @Test
    void noDirectoryMeansCdiIsOff() {
        var e = catchThrowableOfType(BackendException.class,
                () -> new CdiRegistry(List.of()).resolve("c", List.of("vendor.example/gpu=0")));
        assertThat(e.kind()).isEqualTo(BackendException.Kind.FAILED_PRECONDITION);
        assertThat(e.getMessage()).contains("CDI is turned off on this node (cdi_spec_dirs is empty)");
    }

    @Test
    void theRequestedDevicesAreTheFieldsThenTheAnnotationsEachOnce() {
        assertThat(CdiRegistry.requested(List.of("v.example/a=1", "v.example/a=2"), Map.of(
                "cdi.k8s.io/z", "v.example/a=3",
                "cdi.k8s.io/plugin_x", "v.example/a=1, v.example/b=9",
                "other/annotation", "v.example/a=4"))).containsExactly("v.example/a=1", "v.example/a=2",
                "v.example/b=9", "v.example/a=3");
        assertThat(CdiRegistry.requested(List.of(), Map.of("app", "x"))).isEmpty();
    }

    private static BackendException refused(CdiRegistry r, String device) {
        return catchThrowableOfType(BackendException.class, () -> r.resolve("c", List.of(device)));
    }
}
