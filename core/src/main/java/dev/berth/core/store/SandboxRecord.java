package dev.berth.core.store;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What core remembers about a pod sandbox, persisted across restarts. The backend holds the live state; this
 * holds what core needs to route calls and answer List/Status without the backend.
 *
 * @param handler the runtime handler that created the sandbox; every later call routes through it
 * @param backendType the handler's backend type at creation
 * @param pluginId the plugin that provided that type
 * @param config the CRI {@code PodSandboxConfig} as sent (runtime.v1 wire format)
 * @param state core's view: CREATING until the backend started it, then READY, then NOTREADY after stop
 * @param generation the generation of {@code handler} that created the sandbox (0 in records from before
 *     generations existed); the pod stays on it across reloads and restarts
 */
public record SandboxRecord(
        String id,
        String nameKey,
        String name,
        String uid,
        String namespace,
        int attempt,
        String handler,
        String backendType,
        String pluginId,
        Map<String, String> labels,
        Map<String, String> annotations,
        Instant createdAt,
        byte[] config,
        String netnsPath,
        String ip,
        List<String> additionalIps,
        boolean hostNetwork,
        State state,
        int generation) {

    public enum State { CREATING, READY, NOTREADY }

    public SandboxRecord {
        labels = labels == null ? Map.of() : Map.copyOf(labels);
        annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
        additionalIps = additionalIps == null ? List.of() : List.copyOf(additionalIps);
        config = config == null ? new byte[0] : config;
    }

    public SandboxRecord withState(State newState) {
        return new SandboxRecord(id, nameKey, name, uid, namespace, attempt, handler, backendType, pluginId, labels,
                annotations, createdAt, config, netnsPath, ip, additionalIps, hostNetwork, newState, generation);
    }

    public SandboxRecord withNetwork(String netns, String podIp, List<String> extraIps) {
        return new SandboxRecord(id, nameKey, name, uid, namespace, attempt, handler, backendType, pluginId, labels,
                annotations, createdAt, config, netns, podIp, extraIps, hostNetwork, state, generation);
    }
}
