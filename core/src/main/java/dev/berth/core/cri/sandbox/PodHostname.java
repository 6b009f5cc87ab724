package dev.berth.core.cri.sandbox;

import dev.berth.cri.v1.PodSandboxConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A pod's hostname, the one rule for the pod's UTS hostname, its /etc/hostname, its /etc/hosts entry and its
 * containers' {@code HOSTNAME}: the node's for a pod on the host's network, else the config's {@code hostname},
 * else the pod's name cut to {@value #MAX_DEFAULT} characters without a trailing {@code -} or {@code .}, as the
 * kubelet makes a hostname of a long pod name (the kernel takes at most 64).
 */
public final class PodHostname {
    /** The longest hostname the kernel takes ({@code HOST_NAME_MAX}). */
    public static final int MAX = 64;
    static final int MAX_DEFAULT = 63;

    private PodHostname() {}

    public static String of(PodSandboxConfig config, boolean hostNetwork) {
        if (hostNetwork) {
            return node();
        }
        if (!config.getHostname().isEmpty()) {
            return config.getHostname();
        }
        String name = config.getMetadata().getName();
        if (name.length() <= MAX_DEFAULT) {
            return name;
        }
        return name.substring(0, MAX_DEFAULT).replaceAll("[-.]+$", "");
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
