package dev.berth.core.tck;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.cli.Main;
import dev.berth.core.plugin.TestPluginJar;
import dev.berth.spi.SpiVersion;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code berth tck} end to end over a real plugin jar whose backend is the SPI's fake. */
class TckCommandTest {
    @TempDir
    Path dir;

    record Run(int code, String out) {
        String summary() {
            return out.lines().filter(l -> l.startsWith("tck: ")).reduce((a, b) -> b).orElse("");
        }
    }

    private Run tck(String... args) {
        PrintStream saved = System.out;
        var bytes = new ByteArrayOutputStream();
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            String[] all = new String[args.length + 3];
            all[0] = "tck";
            System.arraycopy(args, 0, all, 1, args.length);
            all[args.length + 1] = "--work-dir";
            all[args.length + 2] = dir.toString();
            int code = Main.run(all);
            return new Run(code, bytes.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(saved);
        }
    }

    private Path busyboxOrSkip() {
        Path busybox = Path.of("/bin/busybox");
        dev.berth.spi.testing.HostRequirements.require(Files.isExecutable(busybox), "busybox-static is not installed");
        return busybox;
    }

    @Test
    void aGoodPluginPassesPackagingAndTheContract() throws Exception {
        busyboxOrSkip();
        Path jar = TestPluginJar.build(dir, "goodfake", "fake", "^" + SpiVersion.CURRENT, false);
        Run r = tck(jar.toString(), "--handler", "f1", "--skip-critest");
        // The fake backend has no SpecReading: that check does not apply, and is listed as such.
        long checks = dev.berth.tck.ContractSuite.checks().stream().filter(c -> c.capability() == null).count() + 1;
        assertThat(r.summary()).as(r.out())
                .isEqualTo("tck: packaging ok, contract " + checks + "/" + checks + ", critest skipped");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("ok    container-lifecycle").contains("ok    nothing-left-behind")
                .contains("n/a   spec-reading: the backend does not implement SpecReading, an optional capability")
                .contains("== critest: skipped (--skip-critest)");
        try (var left = Files.list(dir)) {
            assertThat(left.filter(p -> p.getFileName().toString().startsWith("btck"))).isEmpty();
        }
    }

    @Test
    void aPluginBundlingTheSpiFailsPackagingAndRunsNothingElse() throws Exception {
        Path jar = TestPluginJar.build(dir, "spifake", "fake", "^" + SpiVersion.CURRENT, true);
        Run r = tck(jar.toString(), "--skip-critest");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.summary()).isEqualTo("tck: packaging FAILED");
        assertThat(r.out()).contains("FAIL  bundles classes core supplies")
                .contains("dev/berth/spi/RuntimeBackendFactory.class");
    }

    @Test
    void aPluginForAnotherSpiFailsPackaging() throws Exception {
        Path jar = TestPluginJar.build(dir, "oldfake", "fake", "^0.9.0", false);
        Run r = tck(jar.toString(), "--skip-critest");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).contains("Plugin-Requires ^0.9.0 is not satisfied by this berth's SPI "
                + SpiVersion.CURRENT);
    }

    @Test
    void anUnknownTypeOrARefusedOptionFails() throws Exception {
        busyboxOrSkip();
        Path jar = TestPluginJar.build(dir, "optfake", "fake", "^" + SpiVersion.CURRENT, false);
        Run wrongType = tck(jar.toString(), "--type", "nope", "--skip-critest");
        assertThat(wrongType.code()).isEqualTo(1);
        assertThat(wrongType.out()).contains("provides no type \"nope\" (it provides [fake])");

        Run badOption = tck(jar.toString(), "-o", "bogus=1", "--critest", "/bin/true");
        assertThat(badOption.code()).isEqualTo(1);
        assertThat(badOption.out()).contains("refused to create handler \"fake\"").contains("bogus");
        assertThat(badOption.summary()).startsWith("tck: packaging ok, contract 0/").endsWith(", critest not run");
    }

    @Test
    void aBrokenBackendFailsTheContractAndSaysWhich() throws Exception {
        busyboxOrSkip();
        Path jar = TestPluginJar.build(dir, "failfake", "fake", "^" + SpiVersion.CURRENT, false);
        // fail_stop: every stop throws an IllegalStateException, which the contract forbids.
        Run r = tck(jar.toString(), "-o", "fail_stop=true", "--skip-critest");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).contains("FAIL  sandbox-lifecycle: stopSandbox threw java.lang.IllegalStateException")
                .contains("ok    sandbox-unknown-status-not-found");
        assertThat(r.summary()).matches("tck: packaging ok, contract \\d+/\\d+, critest skipped")
                .doesNotContain("contract " + (dev.berth.tck.ContractSuite.checks().size() + 1) + "/");
    }

    @Test
    void aNamedCritestThatIsMissingFails() throws Exception {
        busyboxOrSkip();
        Path jar = TestPluginJar.build(dir, "nocritest", "fake", "^" + SpiVersion.CURRENT, false);
        Run r = tck(jar.toString(), "--critest", dir.resolve("no-critest").toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.summary()).endsWith("critest FAILED (not found)");
    }
}
