package dev.berth.core.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A JVM started with SIGHUP ignored (as under {@code nohup}) still reloads on SIGHUP: a child JVM is started by
 * {@code sh} after {@code trap '' HUP}, and sent SIGHUP with {@code kill}.
 */
@Timeout(120)
class ReloadSignalTest {

    /** The child: "plain" registers with the JVM alone, "berth" through {@link ReloadSignal}. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            if (args[0].equals("plain")) {
                var old = sun.misc.Signal.handle(new sun.misc.Signal("HUP"), sig -> { });
                System.out.println("plain " + (old == sun.misc.SignalHandler.SIG_IGN ? "ignored" : "handled"));
                System.out.flush();
                return;
            }
            Object lock = new Object();
            boolean handled = ReloadSignal.handle(() -> {
                System.out.println("reloaded");
                System.out.flush();
                synchronized (lock) {
                    lock.notifyAll();
                }
            });
            System.out.println("ready " + handled);
            System.out.flush();
            synchronized (lock) {
                lock.wait(60_000);
            }
        }
    }

    private static Process startIgnoringHup(String mode) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> cmd = new ArrayList<>(List.of("sh", "-c", "trap '' HUP; exec \"$@\"", "sh", java,
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Child.class.getName(), mode));
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    @Test
    void aJvmStartedWithHupIgnoredDeclinesItOnItsOwn() throws Exception {
        Process p = startIgnoringHup("plain");
        var out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        assertThat(out.readLine()).isEqualTo("plain ignored");
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void reloadSignalHandlesHupEvenWhenItWasIgnoredAtStart() throws Exception {
        Process p = startIgnoringHup("berth");
        try {
            var out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = out.readLine()) != null && !line.startsWith("ready")) {
                // the log line saying SIGHUP was ignored comes first
            }
            assertThat(line).isEqualTo("ready true");
            Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(p.pid())).inheritIO().start();
            assertThat(kill.waitFor()).isZero();
            while ((line = out.readLine()) != null && !line.equals("reloaded")) {
                // skip
            }
            assertThat(line).isEqualTo("reloaded");
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).isZero();
        } finally {
            p.destroyForcibly();
        }
    }
}
