package dev.berth.hcs.schema;

import java.util.List;
import java.util.Map;

/**
 * The HCS schema v2 documents berth sends and reads, as records named after hcsshim's
 * {@code internal/hcs/schema2} structs. Field names become PascalCase JSON names ({@link HcsJson}); a null field
 * is left out, as Go's {@code omitempty} does, so optional fields are boxed and set to null when unused.
 */
public final class Schema {
    private Schema() {}

    /** {@code Version} (version.go). */
    public record Version(Integer major, Integer minor) {
        public static final Version V2_1 = new Version(2, 1);
    }

    /** {@code ComputeSystem} (compute_system.go). */
    public record ComputeSystem(String owner, Version schemaVersion, String hostingSystemId, Container container,
                                VirtualMachine virtualMachine, Boolean shouldTerminateOnLastHandleClosed) {}

    /** {@code Container} (container.go). */
    public record Container(GuestOs guestOs, Storage storage, List<MappedDirectory> mappedDirectories,
                            List<MappedPipe> mappedPipes, Memory memory, Processor processor,
                            Networking networking) {}

    /** {@code GuestOs} (guest_os.go). */
    public record GuestOs(String hostName) {}

    /** {@code Storage} (storage.go): read-only parent layers and the container's volume. */
    public record Storage(List<Layer> layers, String path) {}

    /** {@code Layer} (layer.go). */
    public record Layer(String id, String path, String pathType) {}

    /** {@code MappedDirectory} (mapped_directory.go). */
    public record MappedDirectory(String hostPath, String containerPath, Boolean readOnly) {}

    /** {@code MappedPipe} (mapped_pipe.go). */
    public record MappedPipe(String containerPipeName, String hostPath) {}

    /** {@code Memory} (memory.go). */
    public record Memory(Long sizeInMB) {}

    /** {@code Processor} (processor.go): Count, Maximum (1/10000 of the host) and Weight are mutually exclusive. */
    public record Processor(Integer count, Integer maximum, Integer weight) {}

    /** {@code Networking} (networking.go). */
    public record Networking(Boolean allowUnqualifiedDnsQuery, String dnsSearchList, String namespace,
                             List<String> networkAdapters) {}

    /** {@code VirtualMachine} (virtual_machine.go), the parts a utility VM for Hyper-V isolation needs. */
    public record VirtualMachine(Boolean stopOnReset, Chipset chipset, Topology computeTopology, Devices devices) {}

    /** {@code Chipset} (chipset.go). */
    public record Chipset(Uefi uefi) {}

    /** {@code Uefi} (uefi.go). */
    public record Uefi(UefiBootEntry bootThis) {}

    /** {@code UefiBootEntry} (uefi_boot_entry.go). */
    public record UefiBootEntry(String devicePath, String deviceType) {}

    /** {@code Topology} (topology.go). */
    public record Topology(VirtualMachineMemory memory, VirtualMachineProcessor processor) {}

    /** {@code VirtualMachineMemory} (virtual_machine_memory.go). */
    public record VirtualMachineMemory(Long sizeInMB, Boolean allowOvercommit) {}

    /** {@code VirtualMachineProcessor} (virtual_machine_processor.go). */
    public record VirtualMachineProcessor(Integer count) {}

    /** {@code Devices} (devices.go), the parts berth sets. */
    public record Devices(VirtualSmb virtualSmb, HvSocket2 hvSocket) {}

    /** {@code VirtualSmb} (virtual_smb.go). */
    public record VirtualSmb(List<VirtualSmbShare> shares, Long directFileMappingInMB) {}

    /** {@code VirtualSmbShare} (virtual_smb_share.go). */
    public record VirtualSmbShare(String name, String path, VirtualSmbShareOptions options) {}

    /** {@code VirtualSmbShareOptions} (virtual_smb_share_options.go), the flags hcsshim sets for the OS share. */
    public record VirtualSmbShareOptions(Boolean readOnly, Boolean shareRead, Boolean cacheIo,
                                         Boolean pseudoOplocks, Boolean takeBackupPrivilege) {}

    /** {@code HvSocket2} (hv_socket_2.go). */
    public record HvSocket2(HvSocketSystemConfig hvSocketConfig) {}

    /** {@code HvSocketSystemConfig} (hv_socket_system_config.go). */
    public record HvSocketSystemConfig(String defaultBindSecurityDescriptor) {}

    /** {@code ProcessParameters} (process_parameters.go); {@code ConsoleSize} is {height, width}. */
    public record ProcessParameters(String applicationName, String commandLine, String user, String workingDirectory,
                                    Map<String, String> environment, Boolean emulateConsole,
                                    Boolean createStdInPipe, Boolean createStdOutPipe, Boolean createStdErrPipe,
                                    List<Integer> consoleSize) {}

    /** {@code ProcessStatus} (process_status.go): the data of a ProcessExited event. */
    public record ProcessStatus(Long processId, Boolean exited, Long exitCode, Integer lastWaitResult) {}

    /** The signal options of {@code HcsSignalProcess} (hcsshim {@code guestresource.SignalProcessOptionsWCOW}). */
    public record SignalOptions(String signal) {
        public static final SignalOptions CTRL_SHUTDOWN = new SignalOptions("CtrlShutdown");
        public static final SignalOptions CTRL_C = new SignalOptions("CtrlC");
    }

    /** {@code PropertyQuery} (property_query.go). */
    public record PropertyQuery(List<String> propertyTypes) {
        public static final PropertyQuery STATISTICS = new PropertyQuery(List.of("Statistics"));
    }

    /** {@code Properties} (properties.go), the parts berth reads. */
    public record Properties(String id, String systemType, String state, Boolean stopped, Statistics statistics) {}

    /** {@code Statistics} (statistics.go). */
    public record Statistics(String timestamp, String containerStartTime, Long uptime100ns, ProcessorStats processor,
                             MemoryStats memory, StorageStats storage) {}

    /** {@code ProcessorStats} (processor_stats.go). */
    public record ProcessorStats(Long totalRuntime100ns, Long runtimeUser100ns, Long runtimeKernel100ns) {}

    /** {@code MemoryStats} (memory_stats.go). */
    public record MemoryStats(Long memoryUsageCommitBytes, Long memoryUsageCommitPeakBytes,
                              Long memoryUsagePrivateWorkingSetBytes) {}

    /** {@code StorageStats} (storage_stats.go). */
    public record StorageStats(Long readCountNormalized, Long readSizeBytes, Long writeCountNormalized,
                               Long writeSizeBytes) {}

    /** The HNS namespace document (hcsshim {@code hcn.HostComputeNamespace}). */
    public record HostComputeNamespace(String id, String type, Version schemaVersion) {}
}
