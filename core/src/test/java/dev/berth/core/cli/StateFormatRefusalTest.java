package dev.berth.core.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code berth daemon} on a directory a newer berth wrote: it refuses to start, before it serves or writes. */
class StateFormatRefusalTest {
    @TempDir
    Path dir;

    @Test
    void theDaemonRefusesStateFromANewerBerthAndNamesBothFormats() throws Exception {
        Path state = Files.createDirectories(dir.resolve("state"));
        Files.writeString(state.resolve("format"), "99\n");
        Path config = dir.resolve("berth.toml");
        Files.writeString(config, "socket = \"" + dir.resolve("berth.sock") + "\"\nstate = \"" + state
                + "\"\nroot = \"" + dir.resolve("root") + "\"\n");
        PrintStream saved = System.err;
        var err = new ByteArrayOutputStream();
        int code;
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            code = Main.run("daemon", "--config", config.toString());
        } finally {
            System.setErr(saved);
            Logging.configure("info"); // the daemon's log handler wrote to the captured stream
        }
        assertThat(code).isEqualTo(1);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("berth: " + state + " holds data in format 99")
                .contains("reads formats up to 1")
                .doesNotContain("Exception");
        assertThat(dir.resolve("berth.sock")).doesNotExist();
        try (var left = Files.list(state)) {
            assertThat(left.map(p -> p.getFileName().toString())).containsExactly("format");
        }
        assertThat(state.resolve("format")).hasContent("99");
    }
}
