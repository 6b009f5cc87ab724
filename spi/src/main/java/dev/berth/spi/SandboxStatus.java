package dev.berth.spi;

import java.time.Instant;
import java.util.Map;

/**
 * What the backend knows about a sandbox.
 *
 * @param pid the pid of the sandbox's init (pause) process on the host, or 0 when none or not applicable
 * @param info backend-specific details for verbose status (plain strings; core renders them as JSON)
 */
public record SandboxStatus(String id, State state, Instant createdAt, long pid, Map<String, String> info) {
    public enum State { READY, NOTREADY }

    public SandboxStatus {
        id = Checks.id(id, "sandbox id");
        state = state == null ? State.NOTREADY : state;
        createdAt = createdAt == null ? Instant.EPOCH : createdAt;
        info = Checks.map(info);
    }
}
