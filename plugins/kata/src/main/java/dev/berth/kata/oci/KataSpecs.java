package dev.berth.kata.oci;

import dev.berth.oci.spec.Devices;
import dev.berth.oci.spec.RuntimeSpec;
import dev.berth.oci.spec.SpecMapper;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.LinuxResources;
import dev.berth.spi.SandboxSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the kata plugin adds to berth's one OCI mapping ({@link SpecMapper}): its {@link #CONVENTIONS}, the pod
 * sizing annotations Kata reads
 * from the sandbox container's spec to size the VM ({@code io.kubernetes.cri.sandbox-cpu-period/-quota/-shares/
 * -memory}, overhead plus the containers' sum), and the type URLs under which the Task API carries spec parts.
 */
public final class KataSpecs {
    public static final String SANDBOX_CPU_PERIOD = "io.kubernetes.cri.sandbox-cpu-period";
    public static final String SANDBOX_CPU_QUOTA = "io.kubernetes.cri.sandbox-cpu-quota";
    public static final String SANDBOX_CPU_SHARES = "io.kubernetes.cri.sandbox-cpu-shares";
    public static final String SANDBOX_MEMORY = "io.kubernetes.cri.sandbox-memory";

    /** Process type_url of an exec spec in ExecProcessRequest. */
    public static final String PROCESS_TYPE_URL = "types.containerd.io/opencontainers/runtime-spec/1/Process";
    /** type_url of the resources in UpdateTaskRequest. */
    public static final String RESOURCES_TYPE_URL = "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources";

    /**
     * How kata's specs are written where the Linux plugins differ in form: namespaces pid first, all of
     * containerd's CRI annotations (the shim groups a pod's containers into one VM by them), containerd's masked
     * paths before powercap, a bare pause container; no cgroup file system mount (the agent sets up the guest's);
     * the pod's {@code /etc/hostname} also with host networking; {@code rw} stated, a bind's access before its
     * propagation; and no device cgroup rule for a privileged container.
     */
    public static final SpecMapper.Conventions CONVENTIONS = new SpecMapper.Conventions(
            List.of("pid", "ipc", "uts", "network", "mount"), List.of("pid", "ipc", "uts", "network", "mount"),
            List.of(SpecMapper.CONTAINER_TYPE, SpecMapper.SANDBOX_ID, SpecMapper.SANDBOX_NAME,
                    SpecMapper.SANDBOX_NAMESPACE, SpecMapper.SANDBOX_UID, SpecMapper.SANDBOX_LOG_DIR,
                    SpecMapper.CONTAINER_NAME, SpecMapper.IMAGE_NAME),
            SpecMapper.MASKED, Set.of(SpecMapper.Option.HOSTNAME_WITH_HOST_NETWORK,
                    SpecMapper.Option.STATES_READ_WRITE, SpecMapper.Option.ACCESS_BEFORE_PROPAGATION), null);

    private KataSpecs() {}

    /**
     * A workload container's spec: {@link SpecMapper#container} with kata's conventions and the devices the
     * container asks for (the shim passes them into the VM), but not the host's devices for a privileged one.
     */
    public static RuntimeSpec container(ContainerSpec c, SpecMapper.PodRef pod, long targetPid, String cgroupsPath,
                                        SpecMapper.Host host) {
        return new SpecMapper(CONVENTIONS, host).container(c, pod, targetPid, cgroupsPath,
                Devices.of(c.id(), c, true));
    }

    /** The sandbox container's spec: {@link SpecMapper#sandbox} with the sizing annotations. */
    public static RuntimeSpec sandbox(SandboxSpec s, String cgroupsPath) {
        RuntimeSpec spec = new SpecMapper(CONVENTIONS, SpecMapper.Host.UNRESTRICTED).sandbox(s, cgroupsPath, null);
        Map<String, String> ann = new LinkedHashMap<>(spec.annotations());
        ann.putAll(sizing(s.overhead(), s.resources()));
        return spec.withAnnotations(ann);
    }

    /** The pod sizing annotations Kata reads: overhead plus the containers' resources. */
    public static Map<String, String> sizing(LinuxResources overhead, LinuxResources resources) {
        Map<String, String> a = new LinkedHashMap<>();
        long period = resources.cpuPeriod() > 0 ? resources.cpuPeriod() : overhead.cpuPeriod();
        long quota = Math.max(0, overhead.cpuQuota()) + Math.max(0, resources.cpuQuota());
        long shares = overhead.cpuShares() + resources.cpuShares();
        long memory = overhead.memoryLimitBytes() + resources.memoryLimitBytes();
        if (period > 0) {
            a.put(SANDBOX_CPU_PERIOD, Long.toString(period));
        }
        if (quota > 0) {
            a.put(SANDBOX_CPU_QUOTA, Long.toString(quota));
        }
        if (shares > 0) {
            a.put(SANDBOX_CPU_SHARES, Long.toString(shares));
        }
        if (memory > 0) {
            a.put(SANDBOX_MEMORY, Long.toString(memory));
        }
        return a;
    }
}
