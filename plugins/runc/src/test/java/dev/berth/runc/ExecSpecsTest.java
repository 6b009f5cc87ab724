package dev.berth.runc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.oci.spec.OciJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExecSpecsTest {
    @TempDir
    Path bundle;

    private void config(String env) throws IOException {
        Path tmp = bundle.resolve("config.json.tmp");
        Files.writeString(tmp, """
                {"ociVersion": "1.0.2", "process": {"terminal": false, "user": {"uid": 1000, "gid": 1000},
                 "args": ["sleep", "3600"], "env": ["%s"], "cwd": "/work",
                 "capabilities": {"bounding": ["CAP_CHOWN"], "effective": ["CAP_CHOWN"], "permitted": ["CAP_CHOWN"]},
                 "noNewPrivileges": true, "apparmorProfile": "berth-default"},
                 "root": {"path": "rootfs"}}
                """.formatted(env));
        // As berth writes a bundle's config: a new file renamed over the old one.
        Files.move(tmp, bundle.resolve("config.json"), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
    }

    private byte[] fresh(List<String> args, boolean tty) throws IOException {
        return OciJson.writeBytes(OciSpecs.execProcess(OciJson.read(bundle.resolve("config.json")).process(), args,
                tty));
    }

    @Test
    void theSpecIsTheContainersProcessWithTheCommandAndIsKeptForTheNextExec() throws IOException {
        config("A=1");
        ExecSpecs specs = new ExecSpecs();
        byte[] first = specs.spec("c1", bundle, List.of("cat", "/tmp/healthy"), false);
        assertThat(first).isEqualTo(fresh(List.of("cat", "/tmp/healthy"), false));
        String json = new String(first, java.nio.charset.StandardCharsets.UTF_8);
        assertThat(json).contains("\"cat\"", "/tmp/healthy", "A=1", "/work", "CAP_CHOWN", "berth-default")
                .doesNotContain("3600");

        assertThat(specs.spec("c1", bundle, List.of("cat", "/tmp/healthy"), false)).isSameAs(first);
        byte[] tty = specs.spec("c1", bundle, List.of("cat", "/tmp/healthy"), true);
        assertThat(tty).isNotSameAs(first).isEqualTo(fresh(List.of("cat", "/tmp/healthy"), true));
        assertThat(specs.spec("c1", bundle, List.of("true"), false)).isEqualTo(fresh(List.of("true"), false));
    }

    @Test
    void aConfigReplacedSinceIsReadAgain() throws IOException {
        config("A=1");
        ExecSpecs specs = new ExecSpecs();
        byte[] before = specs.spec("c1", bundle, List.of("true"), false);
        config("A=2"); // the same size, perhaps the same modification time; another file
        byte[] after = specs.spec("c1", bundle, List.of("true"), false);
        assertThat(new String(after, java.nio.charset.StandardCharsets.UTF_8)).contains("A=2").doesNotContain("A=1");
        assertThat(after).isNotEqualTo(before);
    }

    @Test
    void aContainerWithoutConfigFailsAndNothingIsKept() {
        ExecSpecs specs = new ExecSpecs();
        assertThatThrownBy(() -> specs.spec("c1", bundle, List.of("true"), false))
                .isInstanceOf(NoSuchFileException.class);
        assertThat(specs.size()).isZero();
    }

    @Test
    void keptSpecsAreBoundedAndForgotten() throws IOException {
        config("A=1");
        ExecSpecs specs = new ExecSpecs();
        byte[] oldest = specs.spec("c1", bundle, List.of("cmd", "0"), false);
        for (int i = 1; i <= ExecSpecs.COMMANDS; i++) {
            specs.spec("c1", bundle, List.of("cmd", Integer.toString(i)), false);
        }
        // The command used least recently was dropped: it is made again (equal, but not the kept array).
        byte[] again = specs.spec("c1", bundle, List.of("cmd", "0"), false);
        assertThat(again).isEqualTo(oldest).isNotSameAs(oldest);

        for (int i = 0; i < ExecSpecs.CONTAINERS + 10; i++) {
            specs.spec("c" + i, bundle, List.of("true"), false);
        }
        assertThat(specs.size()).isEqualTo(ExecSpecs.CONTAINERS);
        specs.forget("c" + (ExecSpecs.CONTAINERS + 9));
        assertThat(specs.size()).isEqualTo(ExecSpecs.CONTAINERS - 1);
    }
}
