package dev.berth.runc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.oci.Capabilities;
import dev.berth.oci.spec.RuntimeSpec;
import dev.berth.oci.spec.RuntimeSpec.DeviceRule;
import dev.berth.oci.spec.RuntimeSpec.Process;
import dev.berth.oci.spec.SpecMapper;
import dev.berth.spi.BackendException;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.NamespaceMode;
import dev.berth.spi.Namespaces;
import dev.berth.spi.SandboxSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * The runc plugin's OCI runtime specs ({@code config.json}) for pause and workload containers: berth-oci's one
 * mapping ({@link SpecMapper}) with runc's {@link #CONVENTIONS}, fed from the plugin's host facts ({@link Host}),
 * its sandbox records ({@link Pod}) and resolved devices ({@link dev.berth.oci.spec.Devices}). What runc adds of
 * its own is here: the cgroups path of the cgroup driver ({@link OciResources}) and the refusal of user namespaces.
 */
public final class OciSpecs {
    static final String DEFAULT_PATH = SpecMapper.DEFAULT_PATH;

    /** The capabilities a non-privileged container gets unless it adds or drops some (containerd's set). */
    static final List<String> DEFAULT_CAPS = Capabilities.DEFAULT;

    /** Every capability Linux 5.9+ knows, for privileged containers and for "ALL". */
    static final List<String> ALL_CAPS = Capabilities.ALL;

    static final List<String> DEFAULT_MASKED = SpecMapper.MASKED_WITH_POWERCAP;

    static final List<String> DEFAULT_READONLY = SpecMapper.READONLY;

    /** The pause process when the sandbox image names none. */
    static final List<String> DEFAULT_PAUSE = SpecMapper.DEFAULT_PAUSE;

    /**
     * How runc's specs are written where the Linux plugins differ in form: namespaces mount first, only the two
     * grouping annotations, containerd 1.7's masked paths (with powercap) also on the pause container, which gets
     * the pod's files too; the cgroup file system mounted; no {@code /etc/hostname} for a container on the host's
     * network (it is in the node's UTS namespace); {@code ro} stated, {@code rw} left to the default; and a
     * privileged container's device cgroup allowing all.
     */
    static final SpecMapper.Conventions CONVENTIONS = new SpecMapper.Conventions(
            List.of("mount", "uts", "network", "ipc", "pid"), List.of("mount", "network", "uts", "ipc", "pid"),
            List.of(SpecMapper.CONTAINER_TYPE, SpecMapper.SANDBOX_ID), DEFAULT_MASKED,
            Set.of(SpecMapper.Option.CONFINED_PAUSE, SpecMapper.Option.CGROUP_MOUNT),
            new DeviceRule(true, null, null, null, "rwm"));

    /**
     * What the spec needs from the host.
     *
     * @param ownOomScoreAdj berth's own oom_score_adj: without CAP_SYS_RESOURCE nothing lower can be set
     * @param recursiveReadOnly whether runtime and kernel support {@code rro}
     * @param systemdCgroup whether the systemd cgroup driver is used
     * @param seccompLoader reads a Localhost seccomp profile file (tests pass a fake)
     * @param grantableCaps the capabilities berth itself holds in its bounding set; a container can get no others
     *     (runc fails with "unable to apply caps" if asked). Null means all.
     */
    public record Host(int ownOomScoreAdj, boolean recursiveReadOnly, boolean systemdCgroup,
                       Function<Path, JsonNode> seccompLoader, Set<String> grantableCaps) {
        public Host(int ownOomScoreAdj, boolean recursiveReadOnly, boolean systemdCgroup,
                    Function<Path, JsonNode> seccompLoader) {
            this(ownOomScoreAdj, recursiveReadOnly, systemdCgroup, seccompLoader, null);
        }

        /** The capabilities in this process's bounding set, from /proc/self/status; null when unreadable. */
        public static Set<String> boundingSet() {
            return Capabilities.boundingSet();
        }

        /** The mapping's view: runc applies oom scores, AppArmor and, where supported, {@code rro}. */
        SpecMapper mapper() {
            return new SpecMapper(CONVENTIONS, new SpecMapper.Host(grantableCaps, ref -> {
                JsonNode profile = seccompLoader.apply(Path.of(ref));
                return profile == null ? null : JSON.convertValue(profile, Object.class);
            }, ownOomScoreAdj, recursiveReadOnly, true));
        }
    }

    /**
     * The sandbox a container joins, as the plugin records it.
     *
     * @param pausePid the pause process, whose namespaces containers join; 0 if none. In a pod with {@code pins}
     *     it is the {@link PauseProcess} whose pid namespace is pinned at {@code pins/pid}
     * @param targetPid the pid of the TARGET container for a shared pid namespace; 0 if none
     * @param shm the pod's shared /dev/shm on the host, or null for a private one per container
     * @param pins the directory of the pod's pinned UTS and IPC (and pid) namespaces when it has no pause
     *     container, else null
     */
    public record Pod(String id, String cgroupParent, long pausePid, Path netnsPath, Namespaces namespaces,
                      Path resolvConf, Path hostsFile, Path hostnameFile, List<Long> supplementalGroups,
                      long targetPid, Path shm, Path pins) {
        /** A pod with a pause process, whose namespaces its containers join. */
        public Pod(String id, String cgroupParent, long pausePid, Path netnsPath, Namespaces namespaces,
                   Path resolvConf, Path hostsFile, Path hostnameFile, List<Long> supplementalGroups, long targetPid,
                   Path shm) {
            this(id, cgroupParent, pausePid, netnsPath, namespaces, resolvConf, hostsFile, hostnameFile,
                    supplementalGroups, targetPid, shm, null);
        }

        /** A pod without a shared /dev/shm: each container gets its own. */
        public Pod(String id, String cgroupParent, long pausePid, Path netnsPath, Namespaces namespaces,
                   Path resolvConf, Path hostsFile, Path hostnameFile, List<Long> supplementalGroups, long targetPid) {
            this(id, cgroupParent, pausePid, netnsPath, namespaces, resolvConf, hostsFile, hostnameFile,
                    supplementalGroups, targetPid, null);
        }

        /** The pod as the mapping sees it: runc writes no pod names, so those stay null. */
        SpecMapper.PodRef ref() {
            return new SpecMapper.PodRef(id, null, null, null, pausePid, netnsPath,
                    namespaces.network() == NamespaceMode.NODE, namespaces.pid() == NamespaceMode.NODE,
                    namespaces.ipc() == NamespaceMode.NODE, resolvConf, hostsFile, hostnameFile, supplementalGroups,
                    shm, pins);
        }
    }

    private OciSpecs() {}

    /** The pause container's spec: it owns the pod's namespaces and sysctls. */
    public static RuntimeSpec sandbox(SandboxSpec spec, Host host) {
        return sandbox(spec, host, null);
    }

    /** The pause container's spec, with the pod's shared /dev/shm at {@code shm} when not null. */
    public static RuntimeSpec sandbox(SandboxSpec spec, Host host, Path shm) {
        return host.mapper().sandbox(spec,
                OciResources.cgroupsPath(host.systemdCgroup(), spec.cgroupParent(), spec.id(), spec.id()), shm);
    }

    /** A workload container's spec, joining the pod's namespaces. */
    public static RuntimeSpec container(ContainerSpec spec, Pod pod, Host host, List<SpecMapper.HostDevice> devices) {
        if (spec.security().namespaces().userNamespace() != null) {
            throw BackendException.unimplemented("failed to create container \"" + spec.id()
                    + "\": user namespaces are not supported by the runc backend yet");
        }
        return host.mapper().container(spec, pod.ref(), pod.targetPid(),
                OciResources.cgroupsPath(host.systemdCgroup(), pod.cgroupParent(), pod.id(), spec.id()), devices);
    }

    /** A process spec for {@code exec}: the container's process with new args and no terminal unless asked. */
    public static Process execProcess(Process containerProcess, List<String> args, boolean tty) {
        return SpecMapper.execProcess(containerProcess, args, tty);
    }

    /** A mapper for the state files and the runtime's JSON output. */
    static final ObjectMapper JSON = new ObjectMapper();
}
