package dev.berth.core.network;

import dev.berth.spi.DnsConfig;
import dev.berth.spi.PortMapping;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What {@link PodNetworking#setUp} needs to know about a pod.
 *
 * @param sandboxId    the sandbox id; also the CNI container id and the name of the netns pin. Must be a plain file name.
 * @param podName      the pod's name ({@code K8S_POD_NAME})
 * @param podNamespace the pod's namespace ({@code K8S_POD_NAMESPACE})
 * @param podUid       the pod's uid ({@code K8S_POD_UID})
 * @param portMappings ports to publish on the host ({@code portMappings} capability); entries with no host port are skipped
 * @param dns          the pod's DNS config ({@code dns} capability)
 * @param annotations  pod annotations; {@code kubernetes.io/ingress-bandwidth} and {@code kubernetes.io/egress-bandwidth}
 *                     become the {@code bandwidth} capability
 * @param cgroupParent the pod's cgroup parent ({@code cgroupPath} capability), may be empty
 */
public record PodNetworkRequest(String sandboxId, String podName, String podNamespace, String podUid,
                                List<PortMapping> portMappings, DnsConfig dns, Map<String, String> annotations,
                                String cgroupParent) {
    public PodNetworkRequest {
        Objects.requireNonNull(sandboxId, "sandboxId is null");
        podName = podName == null ? "" : podName;
        podNamespace = podNamespace == null ? "" : podNamespace;
        podUid = podUid == null ? "" : podUid;
        portMappings = portMappings == null ? List.of() : List.copyOf(portMappings);
        dns = dns == null ? DnsConfig.NONE : dns;
        annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
        cgroupParent = cgroupParent == null ? "" : cgroupParent;
    }
}
