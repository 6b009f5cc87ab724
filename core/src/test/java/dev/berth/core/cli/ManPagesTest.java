package dev.berth.core.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Every command of {@code berth} has a section 8 page that says what its {@code --help} says. */
class ManPagesTest {
    @TempDir
    Path dir;

    /** Walks picocli's tree independently of ManPages.commands, so a command the generator skipped fails here. */
    private static void collect(String prefix, CommandLine c, List<CommandLine> out, List<String> names) {
        out.add(c);
        names.add(prefix);
        for (Map.Entry<String, CommandLine> e : c.getSubcommands().entrySet()) {
            if (!e.getValue().getCommandSpec().usageMessage().hidden()
                    && e.getKey().equals(e.getValue().getCommandName())) {
                collect(prefix + "-" + e.getKey(), e.getValue(), out, names);
            }
        }
    }

    @Test
    void everyCommandHasAPage() throws IOException {
        List<Path> written = ManPages.write(dir, "1.2.3", "2026-01-02");
        List<CommandLine> commands = new ArrayList<>();
        List<String> names = new ArrayList<>();
        collect("berth", new CommandLine(new Main()), commands, names);
        assertThat(names).contains("berth", "berth-daemon", "berth-config", "berth-config-validate", "berth-doctor",
                "berth-plugins", "berth-handler", "berth-handler-drain", "berth-explain", "berth-tck",
                "berth-network", "berth-version", "berth-help", "berth-generate-completion");
        assertThat(written).map(p -> p.getFileName().toString())
                .containsExactlyInAnyOrderElementsOf(names.stream().map(n -> n + ".8").toList());

        for (int i = 0; i < names.size(); i++) {
            String name = names.get(i);
            CommandLine c = commands.get(i);
            String page = Files.readString(dir.resolve(name + ".8"), StandardCharsets.UTF_8);
            String roffName = name.replace("-", "\\-");
            assertThat(page).as(name)
                    .contains(".TH \"" + roffName.toUpperCase(java.util.Locale.ROOT) + "\" \"8\" \"2026-01-02\" \"berth 1.2.3\"");
            // whatis: "name \- summary" on the one line after .SH NAME
            String[] lines = page.split("\n");
            int at = java.util.Arrays.asList(lines).indexOf(".SH NAME");
            assertThat(at).as(name).isNotNegative();
            assertThat(lines[at + 1]).as(name).startsWith(roffName + " \\- ").hasSizeGreaterThan(roffName.length() + 6);
            assertThat(page).as(name).contains(".SH SYNOPSIS", ".SH DESCRIPTION", ".SH SEE ALSO");
            for (var o : c.getCommandSpec().options()) {
                if (!o.hidden()) {
                    assertThat(page).as(name + " " + o.longestName())
                            .contains("\\fB" + o.longestName().replace("-", "\\-") + "\\fR");
                }
            }
            for (var p : c.getCommandSpec().positionalParameters()) {
                assertThat(page).as(name).contains("\\fI" + p.paramLabel().replace("-", "\\-") + "\\fR");
            }
            for (String line : lines) {
                assertThat(line.chars()).as(name + ": " + line).allMatch(ch -> ch >= 0x20 && ch < 0x7f);
            }
        }
        String daemon = Files.readString(dir.resolve("berth-daemon.8"));
        assertThat(daemon).contains("\\fB\\-\\-log\\-format\\fR=\\fIFORMAT\\fR").doesNotContain("exit\\-after\\-start");
        String top = Files.readString(dir.resolve("berth.8"));
        assertThat(top).contains(".SH COMMANDS", "\\fBdaemon\\fR", "\\fBberth\\-daemon\\fR(8)");
    }

    @Test
    void textIsEscapedForRoff() {
        assertThat(ManPages.escape("a\\b --x é")).isEqualTo("a\\eb \\-\\-x \\[u00E9]");
        assertThat(ManPages.escapeLine(".TH not a request")).startsWith("\\&.");
        assertThat(ManPages.escapeLine("'quoted")).startsWith("\\&'");
    }

    /** groff, where installed, must read every page without a warning (lintian's manpage-has-errors-from-man). */
    @Test
    void groffReadsThePagesWithoutWarnings() throws Exception {
        dev.berth.spi.testing.HostRequirements.require(Files.isExecutable(Path.of("/usr/bin/groff")),
                "groff (to check the man pages)");
        for (Path p : ManPages.write(dir, "1.2.3", "2026-01-02")) {
            Process pr = new ProcessBuilder("groff", "-man", "-Tutf8", "-ww", "-z", p.toString())
                    .redirectErrorStream(true).start();
            String out = new String(pr.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(pr.waitFor()).as(p + ": " + out).isZero();
            assertThat(out).as(p.toString()).isEmpty();
        }
    }
}
