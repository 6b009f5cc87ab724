package dev.berth.core.cri.stats;

import dev.berth.core.cri.Protos;
import dev.berth.core.image.WritableLayerUsage;
import dev.berth.core.store.ContainerRecord;
import dev.berth.core.store.SandboxRecord;
import dev.berth.cri.v1.ContainerAttributes;
import dev.berth.cri.v1.ContainerMetadata;
import dev.berth.cri.v1.CpuUsage;
import dev.berth.cri.v1.FilesystemIdentifier;
import dev.berth.cri.v1.FilesystemUsage;
import dev.berth.cri.v1.MemoryUsage;
import dev.berth.cri.v1.PodSandboxAttributes;
import dev.berth.cri.v1.PodSandboxMetadata;
import dev.berth.cri.v1.ProcessUsage;
import dev.berth.cri.v1.UInt64Value;
import dev.berth.spi.StatsProvider;
import java.util.Optional;

/** Maps the SPI's usage records to CRI stats messages; a value the backend could not measure (-1) is left out. */
final class StatsMapper {
    private StatsMapper() {}

    static dev.berth.cri.v1.ContainerStats container(ContainerRecord c, StatsProvider.Usage u,
                                                     Optional<WritableLayerUsage> layer) {
        var b = dev.berth.cri.v1.ContainerStats.newBuilder()
                .setAttributes(ContainerAttributes.newBuilder().setId(c.id())
                        .setMetadata(ContainerMetadata.newBuilder().setName(c.name()).setAttempt(c.attempt()))
                        .putAllLabels(c.labels()).putAllAnnotations(c.annotations()))
                .setCpu(cpu(u)).setMemory(memory(u));
        layer.ifPresent(l -> b.setWritableLayer(writableLayer(l)));
        return b.build();
    }

    /** The writable layer, on the file system {@code ImageFsInfo} names for container file systems. */
    static FilesystemUsage writableLayer(WritableLayerUsage l) {
        return FilesystemUsage.newBuilder().setTimestamp(Protos.nanos(l.timestamp()))
                .setFsId(FilesystemIdentifier.newBuilder().setMountpoint(l.mountpoint().toString()))
                .setUsedBytes(v(l.usedBytes())).setInodesUsed(v(l.inodesUsed())).build();
    }

    static PodSandboxAttributes attributes(SandboxRecord s) {
        return PodSandboxAttributes.newBuilder().setId(s.id())
                .setMetadata(PodSandboxMetadata.newBuilder().setName(s.name()).setUid(s.uid())
                        .setNamespace(s.namespace()).setAttempt(s.attempt()))
                .putAllLabels(s.labels()).putAllAnnotations(s.annotations()).build();
    }

    static CpuUsage cpu(StatsProvider.Usage u) {
        var b = CpuUsage.newBuilder().setTimestamp(Protos.nanos(u.at()));
        if (u.cpuUsageCoreNanoSeconds() >= 0) {
            b.setUsageCoreNanoSeconds(v(u.cpuUsageCoreNanoSeconds()));
        }
        return b.build();
    }

    static MemoryUsage memory(StatsProvider.Usage u) {
        var b = MemoryUsage.newBuilder().setTimestamp(Protos.nanos(u.at()));
        if (u.memoryWorkingSetBytes() >= 0) {
            b.setWorkingSetBytes(v(u.memoryWorkingSetBytes()));
        }
        if (u.memoryUsageBytes() >= 0) {
            b.setUsageBytes(v(u.memoryUsageBytes()));
        }
        if (u.memoryRssBytes() >= 0) {
            b.setRssBytes(v(u.memoryRssBytes()));
        }
        if (u.pageFaults() >= 0) {
            b.setPageFaults(v(u.pageFaults()));
        }
        if (u.majorPageFaults() >= 0) {
            b.setMajorPageFaults(v(u.majorPageFaults()));
        }
        return b.build();
    }

    static ProcessUsage process(StatsProvider.Usage u) {
        var b = ProcessUsage.newBuilder().setTimestamp(Protos.nanos(u.at()));
        if (u.processCount() >= 0) {
            b.setProcessCount(v(u.processCount()));
        }
        return b.build();
    }

    static UInt64Value v(long value) {
        return UInt64Value.newBuilder().setValue(value).build();
    }
}
