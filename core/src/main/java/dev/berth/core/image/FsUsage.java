package dev.berth.core.image;

import java.nio.file.Path;
import java.time.Instant;

/**
 * Disk use for CRI's {@code ImageFsInfo}.
 *
 * @param imageFsMountpoint where image content and layer snapshots live
 * @param imageBytes bytes used by blobs and unpacked layers
 * @param imageInodes inodes used by blobs and unpacked layers
 * @param containerFsMountpoint where container upper directories live
 * @param containerBytes bytes written by containers (their upper directories)
 * @param containerInodes inodes used by containers' upper directories
 */
public record FsUsage(Instant timestamp, Path imageFsMountpoint, long imageBytes, long imageInodes,
                      Path containerFsMountpoint, long containerBytes, long containerInodes) {
}
