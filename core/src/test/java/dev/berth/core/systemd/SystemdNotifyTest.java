package dev.berth.core.systemd;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** sd_notify datagrams, received by a real SOCK_DGRAM socket (python3's, as the JDK has none). */
class SystemdNotifyTest {
    @TempDir
    Path dir;

    /** A receiver bound to {@code name} that prints each datagram it gets as one line. */
    private static Process receiver(String name, int count) throws Exception {
        String script = """
                import socket, sys
                s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                name = sys.argv[1]
                s.bind("\\0" + name[1:] if name.startswith("@") else name)
                print("bound", flush=True)
                for _ in range(int(sys.argv[2])):
                    print(s.recv(4096).decode().replace("\\n", "|"), flush=True)
                """;
        return new ProcessBuilder("python3", "-c", script, name, Integer.toString(count))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    @Test
    void readyAndStoppingReachAPathSocket() throws Exception {
        String path = dir.resolve("notify.sock").toString();
        Process p = receiver(path, 2);
        try {
            var in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            assertThat(in.readLine()).isEqualTo("bound");
            var notify = new SystemdNotify(Map.of("NOTIFY_SOCKET", path));
            assertThat(notify.enabled()).isTrue();
            notify.ready("serving on /run/berth/berth.sock");
            notify.stopping();
            assertThat(in.readLine()).isEqualTo("READY=1|STATUS=serving on /run/berth/berth.sock|MAINPID="
                    + ProcessHandle.current().pid());
            assertThat(in.readLine()).startsWith("STOPPING=1|");
            assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        } finally {
            p.destroyForcibly();
        }
    }

    /** As the launcher passes them: under BERTH_ names, so that runc and conmon do not inherit them. */
    @Test
    void anAbstractSocketAndTheWatchdog() throws Exception {
        String name = "@berth-notify-test-" + ProcessHandle.current().pid();
        Process p = receiver(name, 2);
        try (var notify = new SystemdNotify(Map.of("BERTH_NOTIFY_SOCKET", name, "BERTH_WATCHDOG_USEC", "200000",
                "BERTH_WATCHDOG_PID", Long.toString(ProcessHandle.current().pid())))) {
            var in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            assertThat(in.readLine()).isEqualTo("bound");
            notify.ready("up");
            assertThat(in.readLine()).startsWith("READY=1|");
            assertThat(in.readLine()).isEqualTo("WATCHDOG=1");
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void withoutAManagerNothingIsSentAndAWatchdogForAnotherPidIsIgnored() {
        var none = new SystemdNotify(Map.of());
        assertThat(none.enabled()).isFalse();
        assertThat(none.send("READY=1")).isFalse();
        assertThat(new SystemdNotify(Map.of("NOTIFY_SOCKET", "/x", "WATCHDOG_USEC", "1000", "WATCHDOG_PID", "1"))
                .watchdogInterval()).isEmpty();
        assertThat(new SystemdNotify(Map.of("NOTIFY_SOCKET", "/x", "WATCHDOG_USEC", "30000000"))
                .watchdogInterval()).hasValue(java.time.Duration.ofSeconds(30));
        assertThat(new SystemdNotify(Map.of("NOTIFY_SOCKET", dir.resolve("nobody-listens").toString()))
                .send("READY=1")).as("a socket nobody bound: logged, not thrown").isFalse();
    }
}
