package dev.berth.spi;

import java.time.Instant;

/** A container lifecycle event a backend observed, for CRI's {@code GetContainerEvents}. */
public record BackendEvent(Type type, String containerId, String sandboxId, Instant at) {
    public enum Type { CREATED, STARTED, STOPPED, DELETED }

    public BackendEvent {
        java.util.Objects.requireNonNull(type, "type is null");
        containerId = Checks.id(containerId, "container id");
        sandboxId = Checks.text(sandboxId);
        at = at == null ? Instant.now() : at;
    }
}
