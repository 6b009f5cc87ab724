package dev.berth.spi;

import java.nio.file.Path;

/**
 * Optional: checkpoint a running container to an archive, for CRI's {@code CheckpointContainer}. The common rules
 * of {@link RuntimeBackend} (threading, errors) apply.
 */
public interface Checkpointing {
    /**
     * Writes a checkpoint archive of the container to {@code location}, an absolute path whose parent may not
     * exist yet; the container keeps running. Core holds the container's lock meanwhile, so no other
     * checkpoint, start, stop or update of it runs at once. Repeatable: each call writes a new archive over
     * {@code location}. On failure the container keeps running and the backend removes its own working files; an
     * incomplete archive at {@code location} is the caller's to delete.
     *
     * @throws BackendException {@code NOT_FOUND} if the container is unknown; {@code FAILED_PRECONDITION} if it
     *     is not running; {@code UNIMPLEMENTED} if the host cannot checkpoint (e.g. CRIU missing or broken), with
     *     the reason
     */
    void checkpoint(String containerId, Path location);
}
