package dev.berth.core.image;

import java.nio.file.Path;
import java.time.Instant;

/**
 * Disk use of one container's writable layer (its overlay upper directory), for CRI's
 * {@code ContainerStats.writable_layer}.
 *
 * @param timestamp when the directory was measured
 * @param mountpoint the file system identifier: the same directory {@code ImageFsInfo} reports for container
 *     file systems ({@link FsUsage#containerFsMountpoint()})
 * @param usedBytes bytes of the regular files in the upper directory
 * @param inodesUsed files, directories and other entries in it, the directory itself included
 */
public record WritableLayerUsage(Instant timestamp, Path mountpoint, long usedBytes, long inodesUsed) {
}
