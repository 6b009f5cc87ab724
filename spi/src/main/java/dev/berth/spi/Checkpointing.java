package dev.berth.spi;

import java.nio.file.Path;

/** Optional: checkpoint a running container to an archive, for CRI's {@code CheckpointContainer}. */
public interface Checkpointing {
    /** Writes a checkpoint archive of the container to {@code location}. The container keeps running. */
    void checkpoint(String containerId, Path location);
}
