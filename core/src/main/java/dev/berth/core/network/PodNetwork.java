package dev.berth.core.network;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A pod's network as set up by CNI.
 *
 * @param sandboxId     the sandbox id
 * @param netnsPath     the pinned network namespace, to hand to the backend ({@code SandboxSpec.netnsPath})
 * @param ip            the pod IP ({@code PodSandboxStatus.network.ip}): the first IPv4 address of the pod interface,
 *                      else its first address; empty if the plugins returned none
 * @param additionalIps the pod interface's other addresses ({@code additional_ips}, dual stack)
 * @param interfaceName the pod interface inside the netns ({@code eth0})
 * @param cniResultJson the final CNI result, as the last plugin printed it
 */
public record PodNetwork(String sandboxId, Path netnsPath, String ip, List<String> additionalIps, String interfaceName,
                         String cniResultJson) {
    public PodNetwork {
        Objects.requireNonNull(sandboxId, "sandboxId is null");
        Objects.requireNonNull(netnsPath, "netnsPath is null");
        ip = ip == null ? "" : ip;
        additionalIps = additionalIps == null ? List.of() : List.copyOf(additionalIps);
        interfaceName = interfaceName == null ? "" : interfaceName;
        cniResultJson = cniResultJson == null ? "" : cniResultJson;
    }
}
