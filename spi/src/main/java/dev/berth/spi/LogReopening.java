package dev.berth.spi;

/** Optional: make a container's log writer reopen its log file, after the kubelet rotated it. */
public interface LogReopening {
    /** Reopens the log. {@code FAILED_PRECONDITION} if the container is not running. */
    void reopenLog(String containerId);
}
