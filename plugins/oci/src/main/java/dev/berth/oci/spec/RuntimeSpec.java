package dev.berth.oci.spec;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;

/**
 * The OCI runtime spec's {@code config.json} (runtime-spec 1.x, Linux), as records: one record per JSON object,
 * components named and typed as the spec's fields, in the order berth writes them. A null component is left out of
 * the JSON ({@link OciJson}); so is every field berth does not set, which is why the boxed types. Only what the
 * backends write or read back is here; a field the spec has and berth never sets is added when a backend needs it.
 */
public record RuntimeSpec(String ociVersion, Process process, Root root, String hostname, List<Mount> mounts,
                          Hooks hooks, Map<String, String> annotations, Linux linux) {
    public static final String VERSION = "1.0.2";

    public RuntimeSpec withAnnotations(Map<String, String> a) {
        return new RuntimeSpec(ociVersion, process, root, hostname, mounts, hooks, a, linux);
    }

    public RuntimeSpec withLinux(Linux l) {
        return new RuntimeSpec(ociVersion, process, root, hostname, mounts, hooks, annotations, l);
    }

    /** {@code process}: what runs, as whom, with which privileges. */
    public record Process(Boolean terminal, ConsoleSize consoleSize, User user, List<String> args, List<String> env,
                          String cwd, Capabilities capabilities, List<Rlimit> rlimits, Boolean noNewPrivileges,
                          String apparmorProfile, Integer oomScoreAdj, String selinuxLabel) {
        /** This process with other args, terminal and console size: what an exec in the container runs. */
        public Process forExec(List<String> newArgs, boolean tty, ConsoleSize size) {
            return new Process(tty, size, user, List.copyOf(newArgs), env, cwd, capabilities, rlimits,
                    noNewPrivileges, apparmorProfile, oomScoreAdj, selinuxLabel);
        }
    }

    public record ConsoleSize(int height, int width) {}

    /** {@code process.user}; {@code additionalGids} null when there are none. */
    public record User(long uid, long gid, Integer umask, List<Long> additionalGids) {}

    /** {@code process.capabilities}: the five sets, by name ({@code CAP_...}). */
    public record Capabilities(List<String> bounding, List<String> effective, List<String> inheritable,
                               List<String> permitted, List<String> ambient) {
        /** The same names in bounding, effective and permitted, as containerd and CRI-O set them. */
        public static Capabilities of(List<String> caps) {
            List<String> c = List.copyOf(caps);
            return new Capabilities(c, c, null, c, null);
        }
    }

    /** {@code process.rlimits[]}: {@code type} as {@code RLIMIT_NOFILE}. */
    public record Rlimit(String type, long hard, long soft) {}

    /** {@code root}: the bundle-relative path of the root file system. */
    public record Root(String path, Boolean readonly) {}

    /** {@code mounts[]}. */
    public record Mount(String destination, String type, String source, List<String> options) {}

    /** {@code hooks}: programs the runtime runs at points of the container's life. */
    public record Hooks(List<Hook> prestart, List<Hook> createRuntime, List<Hook> createContainer,
                        List<Hook> startContainer, List<Hook> poststart, List<Hook> poststop) {}

    public record Hook(String path, List<String> args, List<String> env, Integer timeout) {}

    /** {@code linux}. */
    public record Linux(List<IdMapping> uidMappings, List<IdMapping> gidMappings, Resources resources,
                        String cgroupsPath, List<Namespace> namespaces, List<Device> devices,
                        Map<String, String> sysctl, List<String> maskedPaths, List<String> readonlyPaths,
                        Seccomp seccomp, String rootfsPropagation, String mountLabel) {}

    /** {@code linux.uidMappings[]} and {@code gidMappings[]}. */
    public record IdMapping(long containerID, long hostID, long size) {}

    /** {@code linux.namespaces[]}: {@code type} as {@code network}; a {@code path} joins an existing one. */
    public record Namespace(String type, String path) {}

    /** {@code linux.devices[]}: a device node created in the container. */
    public record Device(String path, String type, Long major, Long minor, Integer fileMode, Long uid, Long gid) {}

    /**
     * {@code linux.resources}, also the body of an update ({@code runc update}, the Task API's Update). Order as
     * berth writes it; a resource left null is not limited.
     */
    public record Resources(Cpu cpu, Memory memory, Pids pids, List<HugepageLimit> hugepageLimits,
                            Map<String, String> unified, List<DeviceRule> devices) {
        @JsonIgnore
        public boolean isEmpty() {
            return cpu == null && memory == null && pids == null && hugepageLimits == null && unified == null
                    && devices == null;
        }

        public Resources withDevices(List<DeviceRule> d) {
            return new Resources(cpu, memory, pids, hugepageLimits, unified, d);
        }
    }

    public record Cpu(Long shares, Long quota, Long period, String cpus, String mems) {}

    public record Memory(Long limit, Long reservation, Long swap, Boolean disableOOMKiller) {}

    public record Pids(long limit) {}

    public record HugepageLimit(String pageSize, long limit) {}

    /** {@code linux.resources.devices[]}: the device cgroup's allow and deny rules. */
    public record DeviceRule(boolean allow, String type, Long major, Long minor, String access) {}

    /** {@code linux.seccomp}. */
    public record Seccomp(String defaultAction, Integer defaultErrnoRet, List<String> architectures,
                          List<String> flags, String listenerPath, String listenerMetadata, List<Syscall> syscalls) {}

    public record Syscall(List<String> names, String action, Integer errnoRet, List<SeccompArg> args) {}

    /** {@code value} and {@code valueTwo} are the kernel's unsigned 64-bit numbers: BigInteger, as they can pass Long. */
    public record SeccompArg(int index, BigInteger value, BigInteger valueTwo, String op) {}
}
