package dev.berth.spi;

/**
 * Optional: make a container's log writer reopen its log file, after the kubelet rotated it. The common rules of
 * {@link RuntimeBackend} (threading, errors) apply.
 */
public interface LogReopening {
    /**
     * Reopens the log: the writer closes its file and opens the path again. Repeatable: reopening an
     * unrotated log just reopens the same file. Nothing to clean up on failure; the writer keeps its old file.
     *
     * @throws BackendException {@code NOT_FOUND} if the container is unknown; {@code FAILED_PRECONDITION} if it
     *     is not running
     */
    void reopenLog(String containerId);
}
