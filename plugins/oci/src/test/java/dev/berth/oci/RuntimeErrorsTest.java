package dev.berth.oci;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.spi.BackendException.Kind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** What runc and the kernel said about a request's values, as the kind of failure the client gets. */
class RuntimeErrorsTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        // runc update on a cgroup v1 node, with unified settings (the fuzzer's seed 10)
        "level=error msg=\"invalid configuration: cannot use unified on cgroup v1\"|FAILED_PRECONDITION",
        // runc update with CPUs the node does not have
        "failed to write \"7-9\": write /sys/fs/cgroup/cpuset/berth/p/c/cpuset.cpus: invalid argument|INVALID_ARGUMENT",
        // runc update with a CPU past the kernel's NR_CPUS (ERANGE)
        "failed to write \"4000\": write /sys/fs/cgroup/cpuset/berth/p/c/cpuset.cpus: numerical result out of range|INVALID_ARGUMENT",
        // runc update with a memory limit below the use (EBUSY, in runc's words)
        "level=error msg=\"unable to set memory limit to 4096 (current usage: 417792, peak usage: 2027520)\"|FAILED_PRECONDITION",
        // a pod cgroup write the kernel refused (Cgroups.write)
        "cannot write 4 to cpu.cfs_period_us: Invalid argument|INVALID_ARGUMENT",
        "cannot write 4 to memory.limit_in_bytes: Device or resource busy|FAILED_PRECONDITION",
        // ExecSync of a program the image does not have (the fuzzer's seed 10: true in the pause image)
        "msg=\"exec failed: unable to start container process: exec: \\\"true\\\": executable file not found in $PATH\"|FAILED_PRECONDITION",
        "exec failed: unable to start container process: exec: \"/nonexistent\": stat /nonexistent: no such file or directory|FAILED_PRECONDITION",
        // crun's words for the same
        "failed to exec in container \"c1\": executable file `/no/such/program` not found in $PATH: No such file or directory|FAILED_PRECONDITION",
        // a program the kernel will not execute: a directory, a file without the execute bit (runc; crun)
        "msg=\"runc create failed: unable to start container process: exec: \\\"/\\\": permission denied\"|FAILED_PRECONDITION",
        "open executable: Operation not permitted|FAILED_PRECONDITION",
        "open executable: Permission denied|FAILED_PRECONDITION",
        // a permission denied elsewhere is not the program's
        "error mounting \"/h\" to rootfs at \"/m\": open /h: permission denied|INTERNAL",
        // CreateContainer with a working directory or a mount target that is a file in the image
        "msg=\"runc create failed: unable to start container process: error during container init: mkdir /bin/sh: not a directory\"|FAILED_PRECONDITION",
        "error mounting \"/h/file\" to rootfs at \"/etc\": mount /h/file:/etc (via /proc/self/fd/6), flags: 0x5000: not a directory|FAILED_PRECONDITION",
        // CreateContainer with a mount inside /proc
        "error mounting \"/h/dir\" to rootfs at \"/proc/foo\": \"/b/rootfs/proc/foo\" cannot be mounted because it is inside /proc|INVALID_ARGUMENT",
        // anything else stays a fault of the node or of berth
        "conmon exited with 1 before it reported|INTERNAL",
        "open /run/runc/x/state.json: no such file or directory|INTERNAL",
        "|INTERNAL"})
    void theKindNamesWhatWasWrong(String text, Kind kind) {
        assertThat(RuntimeErrors.kindOf(text)).isEqualTo(kind);
    }

    @Test
    void theMessageIsRuncsOwnWithoutItsLogLineFrame() {
        String runc = "time=\"2026-12-06T19:47:11Z\" level=error msg=\"runc create failed: unable to start container "
                + "process: exec: \\\"/bin/nope\\\": stat /bin/nope: no such file or directory\"\n";
        assertThat(RuntimeErrors.message(runc)).isEqualTo("runc create failed: unable to start container process: "
                + "exec: \"/bin/nope\": stat /bin/nope: no such file or directory");
        assertThat(RuntimeErrors.message("crun: first line\nsecond line\n")).isEqualTo("crun: first line second line");
        assertThat(RuntimeErrors.message(" \n")).isNull();
    }
}
