package dev.berth.core.tck;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading critest's summary, and the daemon config, CNI network and mirrors the stage writes. */
class CritestStageTest {
    @TempDir
    Path dir;

    static final String DIGEST_ONLY = """
            \u001b[1mSummarizing 1 Failure:\u001b[0m
              \u001b[38;5;9m[FAIL]\u001b[0m [k8s.io] Image Manager \u001b[38;5;9m\u001b[1m[It] public image with digest should be pulled and removed [Conformance]\u001b[0m
              /src/cri-tools/pkg/validate/image.go:90

            Ran 78 of 83 Specs in 76.102 seconds
            FAIL! -- 77 Passed | 1 Failed | 0 Pending | 5 Skipped
            """;

    @Test
    void onlyTheKnownOfflineFailurePasses() {
        var o = CritestStage.parse(DIGEST_ONLY, null);
        assertThat(o.ok()).isTrue();
        assertThat(o.summary()).isEqualTo("77/78");
        assertThat(o.failed()).singleElement().asString().contains("public image with digest");
    }

    @Test
    void anyOtherFailureFails() {
        String log = DIGEST_ONLY.replace("Summarizing 1 Failure:", "Summarizing 2 Failures:")
                .replace("  /src/cri-tools/pkg/validate/image.go:90",
                        "  /src/cri-tools/pkg/validate/image.go:90\n  [FAIL] [k8s.io] Container runtime should "
                                + "support exec\n")
                .replace("77 Passed | 1 Failed", "76 Passed | 2 Failed");
        var o = CritestStage.parse(log, null);
        assertThat(o.ok()).isFalse();
        assertThat(o.summary()).isEqualTo("76/78");
        assertThat(o.failed()).hasSize(2);
        assertThat(CritestStage.parse(log, 76).ok()).isTrue();
        assertThat(CritestStage.parse(log, 77).ok()).isFalse();
    }

    @Test
    void noSummaryIsAnError() {
        var o = CritestStage.parse("panic: cannot connect\n", null);
        assertThat(o.ok()).isFalse();
        assertThat(o.error()).contains("no summary");
    }

    @Test
    void theConfigHasOneHandlerWithTheGivenOptionsAndTheMirrors() throws Exception {
        Map<String, String> raw = new LinkedHashMap<>();
        raw.put("binary", "runc");
        raw.put("no_pivot", "true");
        raw.put("weird", "a \"quoted\" value");
        var s = new CritestStage.Settings(Path.of("/opt/berth"), Path.of("/bin/critest"), Path.of("/x/runc.zip"),
                "my-runc", "runc", HandlerOptions.parse(raw), "http://127.0.0.1:5000", "registry.k8s.io/pause:3.9",
                "berth-tck0", "10.234.0.0/16", List.of(Path.of("/usr/lib/cni")), java.time.Duration.ofMinutes(1),
                List.of(), null, dir, null);
        String config = CritestStage.config(dir, s);
        Path file = Files.writeString(dir.resolve("config.toml"), config);
        var loaded = dev.berth.core.config.ConfigLoader.load(file, true).config();
        assertThat(loaded.defaultRuntime()).isEqualTo("my-runc");
        assertThat(loaded.runtimes()).containsOnlyKeys("my-runc");
        assertThat(loaded.runtimes().get("my-runc").type()).isEqualTo("runc");
        assertThat(loaded.runtimes().get("my-runc").options())
                .containsEntry("binary", "runc").containsEntry("no_pivot", true)
                .containsEntry("weird", "a \"quoted\" value");
        assertThat(loaded.pluginsDir()).isEqualTo(dir.resolve("plugins"));
        assertThat(loaded.images().registryConfigPath()).isEqualTo(dir.resolve("certs.d"));

        CritestStage.writeMirrors(dir.resolve("certs.d"), "http://127.0.0.1:5000");
        assertThat(Files.readString(dir.resolve("certs.d/docker.io/hosts.toml")))
                .isEqualTo("server = \"http://127.0.0.1:5000\"\n[host.\"http://127.0.0.1:5000\"]\n"
                        + "  capabilities = [\"pull\", \"resolve\"]\n");
        assertThat(dir.resolve("certs.d")).isDirectoryContaining(p -> p.getFileName().toString().equals("quay.io"));
        CritestStage.writeCni(dir.resolve("cni"), "berth-tck0", "10.234.0.0/16");
        String cni = Files.readString(dir.resolve("cni/10-berth-tck.conflist"));
        assertThat(cni).contains("\"bridge\": \"berth-tck0\"").contains("\"subnet\": \"10.234.0.0/16\"");
        new com.fasterxml.jackson.databind.ObjectMapper().readTree(cni);
    }
}
