package dev.berth.spi;

import java.time.Instant;
import java.util.Map;

/**
 * What the backend knows about a container. Times that have not happened are {@code null}.
 *
 * @param reason a short CamelCase reason once exited: {@code Completed}, {@code Error}, {@code OOMKilled}
 * @param message a human-readable message, e.g. the runtime's error when the start failed
 */
public record ContainerStatus(
        String id,
        State state,
        Instant createdAt,
        Instant startedAt,
        Instant finishedAt,
        int exitCode,
        String reason,
        String message,
        long pid,
        Map<String, String> info) {

    public enum State { CREATED, RUNNING, EXITED, UNKNOWN }

    public ContainerStatus {
        id = Checks.id(id, "container id");
        state = state == null ? State.UNKNOWN : state;
        reason = Checks.text(reason);
        message = Checks.text(message);
        info = Checks.map(info);
    }
}
