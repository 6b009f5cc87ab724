package dev.berth.hcs.schema;

import dev.berth.hcs.schema.Schema.ComputeSystem;
import dev.berth.hcs.schema.Schema.Container;
import dev.berth.hcs.schema.Schema.MappedDirectory;
import dev.berth.hcs.schema.Schema.MappedPipe;
import dev.berth.hcs.schema.Schema.ProcessParameters;
import dev.berth.spi.ContainerMount;
import dev.berth.spi.DnsConfig;
import dev.berth.spi.LinuxResources;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Builds the documents berth sends to HCS from what the SPI gives it. The shapes follow hcsshim's builders
 * ({@code internal/hcsoci/hcsdoc_wcow.go} for containers, {@code internal/uvm/create_wcow.go} for the utility VM,
 * {@code internal/cmd/cmd.go} for processes), with one deliberate difference: berth never sets
 * {@code ShouldTerminateOnLastHandleClosed}, because a container must outlive berth (the SPI's lifetime rule);
 * berth's own handles close when it restarts, and it opens the systems again by id.
 */
public final class Documents {
    private Documents() {}

    /** The owner HCS records for every system berth creates. */
    public static final String OWNER = "berth";
    /** hcsshim's annotations for Windows limits that CRI's Linux resources cannot carry. */
    public static final String ANNOTATION_PROCESSOR_COUNT = "io.microsoft.container.processor.count";
    public static final String ANNOTATION_PROCESSOR_WEIGHT = "io.microsoft.container.processor.weight";
    public static final String ANNOTATION_MEMORY_MB = "io.microsoft.container.memory.sizeinmb";
    /** A process-isolated container's volume: {@code \\?\Volume{GUID}\} (hcsdoc_wcow.go checks the same). */
    public static final Pattern VOLUME_PATH = Pattern.compile(
            "^\\\\\\\\\\?\\\\Volume\\{"
                    + "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\\}(\\\\)?$");
    private static final String PIPE_PREFIX = "\\\\.\\pipe\\";

    /**
     * What a container's compute system is made of.
     *
     * @param hostname the pod's hostname, or empty
     * @param storage the read-only layers (nearest parent first) and the writable layer's volume
     * @param mounts CRI mounts; a host path {@code \\.\pipe\NAME} becomes a mapped pipe
     * @param networkNamespace the pod's HNS namespace id, or null for none (host network)
     * @param hostProcessors the host's logical processors, to turn a CFS quota into {@code Processor.Maximum}
     */
    public record ContainerInput(String hostname, Schema.Storage storage, List<ContainerMount> mounts,
                                 LinuxResources resources, Map<String, String> annotations, String networkNamespace,
                                 DnsConfig dns, int hostProcessors, String hostingSystemId) {}

    /** The compute system of a process-isolated container (the pod's holder or an app container). */
    public static ComputeSystem container(ContainerInput in) {
        if (in.hostingSystemId() == null && !VOLUME_PATH.matcher(in.storage().path()).matches()) {
            throw new IllegalArgumentException("the container's storage path \"" + in.storage().path()
                    + "\" is not a volume path \\\\?\\Volume{GUID}\\");
        }
        List<MappedDirectory> dirs = new ArrayList<>();
        List<MappedPipe> pipes = new ArrayList<>();
        for (ContainerMount m : in.mounts()) {
            if (m.hostPath().regionMatches(true, 0, PIPE_PREFIX, 0, PIPE_PREFIX.length())) {
                String name = m.containerPath().regionMatches(true, 0, PIPE_PREFIX, 0, PIPE_PREFIX.length())
                        ? m.containerPath().substring(PIPE_PREFIX.length()) : m.containerPath();
                pipes.add(new MappedPipe(name, m.hostPath()));
            } else {
                dirs.add(new MappedDirectory(m.hostPath(), m.containerPath(), m.readOnly() ? Boolean.TRUE : null));
            }
        }
        Schema.Networking net = null;
        if (in.networkNamespace() != null) {
            String search = in.dns().searches().isEmpty() ? null : String.join(",", in.dns().searches());
            net = new Schema.Networking(null, search, in.networkNamespace(), null);
        }
        Container c = new Container(
                in.hostname().isEmpty() ? null : new Schema.GuestOs(in.hostname()),
                in.storage(),
                dirs.isEmpty() ? null : List.copyOf(dirs),
                pipes.isEmpty() ? null : List.copyOf(pipes),
                memory(in.resources(), in.annotations()),
                processor(in.resources(), in.annotations(), in.hostProcessors()),
                net);
        return new ComputeSystem(OWNER, Schema.Version.V2_1, in.hostingSystemId(), c, null, null);
    }

    static Schema.Memory memory(LinuxResources r, Map<String, String> annotations) {
        long mb = positive(annotations, ANNOTATION_MEMORY_MB);
        if (mb == 0 && r.memoryLimitBytes() > 0) {
            mb = (r.memoryLimitBytes() + (1 << 20) - 1) >> 20;
        }
        return mb == 0 ? null : new Schema.Memory(mb);
    }

    /**
     * Count (annotation), else Maximum (from a CFS quota: quota/period of the host's processors, in 1/10000),
     * else Weight (annotation, else CPU shares clamped to 1..10000): the three are mutually exclusive in HCS.
     */
    static Schema.Processor processor(LinuxResources r, Map<String, String> annotations, int hostProcessors) {
        long count = positive(annotations, ANNOTATION_PROCESSOR_COUNT);
        if (count > 0) {
            return new Schema.Processor((int) Math.min(count, hostProcessors), null, null);
        }
        if (r.cpuQuota() > 0 && r.cpuPeriod() > 0) {
            long max = r.cpuQuota() * 10_000L / (r.cpuPeriod() * Math.max(1, hostProcessors));
            return new Schema.Processor(null, (int) Math.clamp(max, 1, 10_000), null);
        }
        long weight = positive(annotations, ANNOTATION_PROCESSOR_WEIGHT);
        if (weight == 0 && r.cpuShares() > 0) {
            weight = r.cpuShares();
        }
        return weight == 0 ? null : new Schema.Processor(null, null, (int) Math.clamp(weight, 1, 10_000));
    }

    private static long positive(Map<String, String> annotations, String key) {
        String v = annotations.get(key);
        if (v == null) {
            return 0;
        }
        try {
            return Math.max(0, Long.parseLong(v.trim()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("annotation " + key + " is not a number: \"" + v + "\"");
        }
    }

    /**
     * The utility VM of a Hyper-V isolated pod, booted from the base image's {@code UtilityVM\Files} over VSMB
     * (create_wcow.go's {@code prepareConfigDoc} for VmbFS boot).
     */
    public static ComputeSystem utilityVm(String osFilesPath, long memoryMb, int processors) {
        var share = new Schema.VirtualSmbShare("os", osFilesPath,
                new Schema.VirtualSmbShareOptions(true, true, true, true, true));
        var vm = new Schema.VirtualMachine(true,
                new Schema.Chipset(new Schema.Uefi(new Schema.UefiBootEntry("\\EFI\\Microsoft\\Boot\\bootmgfw.efi",
                        "VmbFs"))),
                new Schema.Topology(new Schema.VirtualMachineMemory(memoryMb, true),
                        new Schema.VirtualMachineProcessor(processors)),
                new Schema.Devices(new Schema.VirtualSmb(List.of(share), 1024L),
                        new Schema.HvSocket2(new Schema.HvSocketSystemConfig("D:P(A;;FA;;;SY)(A;;FA;;;BA)"))));
        return new ComputeSystem(OWNER, Schema.Version.V2_1, null, null, vm, null);
    }

    /**
     * A process to start: CRI's argv, user, working directory and {@code KEY=value} environment; {@code output}
     * asks for stdout (and, without a TTY, stderr) pipes; the console size only counts with a TTY.
     */
    public record ProcessInput(List<String> args, String user, String workingDirectory, List<String> env,
                               boolean tty, boolean stdin, boolean output, int consoleHeight, int consoleWidth) {}

    /** {@code ProcessParameters} as cmd.go fills them for a Windows container. */
    public static ProcessParameters process(ProcessInput in) {
        Map<String, String> env = new LinkedHashMap<>();
        for (String kv : in.env()) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
                env.put(kv.substring(0, eq), kv.substring(eq + 1));
            } else if (eq < 0 && !kv.isEmpty()) {
                env.put(kv, "");
            }
        }
        List<Integer> size = in.tty() && in.consoleHeight() > 0 && in.consoleWidth() > 0
                ? List.of(in.consoleHeight(), in.consoleWidth()) : null;
        return new ProcessParameters(null, commandLine(in.args()), blankToNull(in.user()),
                blankToNull(in.workingDirectory()), env.isEmpty() ? null : env, in.tty() ? Boolean.TRUE : null,
                in.stdin() ? Boolean.TRUE : null, in.output() ? Boolean.TRUE : null,
                in.output() && !in.tty() ? Boolean.TRUE : null, size);
    }

    private static String blankToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    /**
     * argv joined into one Windows command line, each argument quoted the way the C runtime's parser reads it
     * back (the rule of Go's {@code syscall.EscapeArg}, which hcsshim's {@code escapeArgs} applies): an empty
     * argument is {@code ""}; one with a space or tab is wrapped in quotes; a quote is preceded by a backslash, and
     * backslashes that precede a quote (or the closing quote) are doubled.
     */
    public static String commandLine(List<String> args) {
        StringBuilder sb = new StringBuilder();
        for (String a : args) {
            if (!sb.isEmpty()) {
                sb.append(' ');
            }
            sb.append(escape(a));
        }
        return sb.toString();
    }

    static String escape(String s) {
        if (s.isEmpty()) {
            return "\"\"";
        }
        boolean space = s.indexOf(' ') >= 0 || s.indexOf('\t') >= 0;
        if (!space && s.indexOf('"') < 0) {
            return s;
        }
        StringBuilder out = new StringBuilder();
        if (space) {
            out.append('"');
        }
        int slashes = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\') {
                slashes++;
            } else if (c == '"') {
                out.append("\\".repeat(slashes)).append('\\');
                slashes = 0;
            } else {
                slashes = 0;
            }
            out.append(c);
        }
        if (space) {
            out.append("\\".repeat(slashes)).append('"');
        }
        return out.toString();
    }

    /** The HNS namespace berth creates for a pod when CNI gave it none. */
    public static Schema.HostComputeNamespace namespace(String id) {
        return new Schema.HostComputeNamespace(id.toLowerCase(Locale.ROOT), "HostDefault", new Schema.Version(2, 0));
    }
}
