package dev.berth.core.cri.sandbox;

import dev.berth.cri.v1.PodSandboxConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A pod's hostname, the one rule for the pod's /etc/hostname, its /etc/hosts entry and its containers'
 * {@code HOSTNAME}: the node's for a pod on the host's network, else the config's {@code hostname}, else the
 * pod's name.
 */
public final class PodHostname {
    private PodHostname() {}

    public static String of(PodSandboxConfig config, boolean hostNetwork) {
        if (hostNetwork) {
            return node();
        }
        return config.getHostname().isEmpty() ? config.getMetadata().getName() : config.getHostname();
    }

    /** The node's hostname as the kernel has it (the host's UTS namespace, where berth runs). */
    public static String node() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        } catch (IOException e) {
            try {
                return InetAddress.getLocalHost().getHostName();
            } catch (IOException e2) {
                return "localhost";
            }
        }
    }
}
