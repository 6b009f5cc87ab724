package dev.berth.runc;

import dev.berth.oci.RuntimeErrors;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The runtime's own error, when its exec failed before the command ran. */
class RuntimeExecTest {
    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void runcsErrorIsItsMessageUnquoted() {
        String stderr = "time=\"2026-12-05T03:40:04Z\" level=error msg=\"exec failed: unable to start container "
                + "process: exec: \\\"/no/such/program\\\": stat /no/such/program: no such file or directory\"\n";
        String message = RuntimeExec.runtimeError(bytes(stderr), new byte[0], 255);
        assertThat(message).isEqualTo("exec failed: unable to start container process: exec: \"/no/such/program\": "
                + "stat /no/such/program: no such file or directory");
        assertThat(RuntimeErrors.kindOf(message)).isEqualTo(dev.berth.spi.BackendException.Kind.FAILED_PRECONDITION);
    }

    @Test
    void theLastOfSeveralRuncErrorsIsTheOneThatEndedIt() {
        String stderr = "time=\"t\" level=warning msg=\"cgroup: something\"\n"
                + "time=\"t\" level=error msg=\"first\"\ntime=\"t\" level=error msg=\"exec failed: container does not "
                + "exist\"\n";
        assertThat(RuntimeExec.runtimeError(bytes(stderr), new byte[0], 255))
                .isEqualTo("exec failed: container does not exist");
    }

    @Test
    void crunsErrorIsItsTextOnOneLine() {
        String stderr = "executable file `/no/such/program` not found in $PATH: No such file or directory\n";
        assertThat(RuntimeExec.runtimeError(bytes(stderr), new byte[0], 255))
                .isEqualTo("executable file `/no/such/program` not found in $PATH: No such file or directory");
    }

    @Test
    void aSilentRuntimeIsNamedWithItsStatus() {
        assertThat(RuntimeExec.runtimeError(new byte[0], new byte[0], 1))
                .isEqualTo("the runtime exited with status 1 before starting the command");
        assertThat(RuntimeExec.runtimeError(new byte[0], bytes("on stdout\nsecond line\n"), 1))
                .isEqualTo("on stdout second line");
    }
}
