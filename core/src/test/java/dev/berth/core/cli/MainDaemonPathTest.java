package dev.berth.core.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@code berth daemon} takes picocli's model of the daemon command alone unless help or version is asked for. */
class MainDaemonPathTest {
    @Test
    void theDaemonAloneUnlessHelpOrVersion() {
        assertTrue(Main.daemonAlone("daemon"));
        assertTrue(Main.daemonAlone("daemon", "--config", "/etc/berth/config.toml", "--log-format", "json"));
        assertFalse(Main.daemonAlone());
        assertFalse(Main.daemonAlone("version"));
        assertFalse(Main.daemonAlone("daemon", "--help"));
        assertFalse(Main.daemonAlone("daemon", "-h"));
        assertFalse(Main.daemonAlone("daemon", "--version"));
        assertFalse(Main.daemonAlone("daemon", "-V"));
        assertFalse(Main.daemonAlone("daemon", "-hV"));
    }

    @Test
    void plainDaemonArgumentsAreReadWithoutPicocliAndAnythingElseIsLeftToIt() {
        DaemonCommand bare = DaemonCommand.fromPlainArgs("daemon");
        assertTrue(bare != null && bare.config.file == null && bare.logFormat == null && !bare.exitAfterStart);
        DaemonCommand all = DaemonCommand.fromPlainArgs("daemon", "--config=/etc/b.toml", "--log-format", "json",
                "--exit-after-start");
        assertEquals(java.nio.file.Path.of("/etc/b.toml"), all.config.file);
        assertEquals("json", all.logFormat);
        assertTrue(all.exitAfterStart);
        assertEquals(java.nio.file.Path.of("x.toml"), DaemonCommand.fromPlainArgs("daemon", "-c", "x.toml").config.file);
        assertEquals("text", DaemonCommand.fromPlainArgs("daemon", "--log-format=text").logFormat);
        for (String[] other : new String[][] {{"daemon", "--no-such-option"}, {"daemon", "-c"},
                {"daemon", "-c", "a", "--config", "b"}, {"daemon", "-cx.toml"}, {"daemon", "--config="},
                {"daemon", "--exit-after-start=true"}, {"daemon", "stray"}, {"daemon", "-c", "--log-format"}}) {
            assertEquals(null, DaemonCommand.fromPlainArgs(other), String.join(" ", other));
        }
    }

    @Test
    void aBadOptionOnTheDaemonPathIsAUsageError() {
        var err = new ByteArrayOutputStream();
        PrintStream old = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = Main.run("daemon", "--no-such-option");
        } finally {
            System.setErr(old);
        }
        assertEquals(2, code, "picocli's exit code for a usage error");
        String text = err.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("Unknown option: '--no-such-option'"), text);
        assertTrue(text.contains("Usage: berth daemon"), text);
    }

    @Test
    void aMissingConfigOnTheDaemonPathIsAConfigError() {
        assertEquals(Main.CONFIG_ERROR, Main.run("daemon", "--config", "/nonexistent/berth/config.toml"));
    }
}
