package dev.berth.core.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every subcommand answers {@code --help} with its own usage and exit code 0, as operators and scripts expect. */
class HelpTest {

    @ParameterizedTest
    @ValueSource(strings = {"daemon", "config", "plugins", "doctor", "handler", "tck", "network", "version"})
    void everySubcommandHasHelp(String command) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream old = System.out;
        int code;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            code = Main.run(command, "--help");
        } finally {
            System.setOut(old);
        }
        assertThat(code).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("Usage: berth " + command);
    }
}
