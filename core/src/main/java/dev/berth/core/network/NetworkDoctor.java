package dev.berth.core.network;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The network checks behind {@code berth doctor}: one line each, starting with {@code ok:} or {@code problem:}. */
final class NetworkDoctor {
    private NetworkDoctor() {}

    static List<String> check(NetworkSettings settings, CniConfigWatcher.Loaded loaded, CniPluginExecutor executor,
                              int podCount) {
        List<String> lines = new ArrayList<>();
        Path confDir = settings.cniConfDir();
        if (loaded.config() == null) {
            lines.add("problem: " + loaded.problem() + " (pods cannot start; install a config, e.g. berth's default "
                    + PodNetworking.DEFAULT_CONFIG_NAME + ")");
        } else {
            CniConfig config = loaded.config();
            lines.add("ok: CNI network \"" + config.name() + "\" (cniVersion " + config.cniVersion() + ") from "
                    + config.source() + ", plugins " + String.join(", ", config.pluginTypes()));
            for (String type : config.pluginTypes()) {
                lines.add(executor.find(type).map(p -> "ok: CNI plugin \"" + type + "\" at " + p)
                        .orElseGet(() -> "problem: CNI plugin \"" + type + "\" not found in [" + executor.binPath()
                                + "]"));
            }
            for (ObjectNode plugin : config.plugins()) {
                String bridge = plugin.path("bridge").asText("");
                if (plugin.path("type").asText().equals("bridge") && !bridge.isEmpty()) {
                    lines.add(bridgeCheck(bridge));
                }
            }
            boolean needsIptables = config.plugins().stream().anyMatch(p -> p.path("type").asText().equals("portmap")
                    || p.path("ipMasq").asBoolean(false));
            if (needsIptables) {
                lines.add(onPath("iptables").map(p -> "ok: iptables at " + p + " (for portmap / ipMasq)")
                        .orElse("problem: iptables not found on PATH; portmap and ipMasq need it"));
            }
        }
        for (Path dir : settings.cniBinDirs()) {
            if (!Files.isDirectory(dir)) {
                lines.add("problem: CNI bin dir " + dir + " does not exist");
            }
        }
        if (!Files.isDirectory(confDir)) {
            lines.add("problem: CNI conf dir " + confDir + " does not exist yet (it is watched)");
        }
        lines.add("ok: " + podCount + " pod network(s) in " + settings.stateDir());
        return List.copyOf(lines);
    }

    /**
     * The bridge plugin (1.1.1) cannot add pods to a bridge whose MAC is all zeros, which is what a bridge becomes when
     * its last port leaves before the plugin ever pinned its MAC (a first ADD that failed after attaching a veth).
     */
    private static String bridgeCheck(String bridge) {
        Path address = Path.of("/sys/class/net", bridge, "address");
        try {
            String mac = Files.readString(address).strip();
            if (mac.equals("00:00:00:00:00:00")) {
                return "problem: bridge " + bridge + " has MAC 00:00:00:00:00:00; the bridge plugin fails every ADD on it "
                        + "(\"could not set bridge's mac\"); delete it (ip link del " + bridge + ") and the next pod "
                        + "recreates it";
            }
            return "ok: bridge " + bridge + " exists (MAC " + mac + ")";
        } catch (IOException e) {
            return "ok: bridge " + bridge + " does not exist yet; the first pod creates it";
        }
    }

    private static Optional<Path> onPath(String program) {
        String path = System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        for (String dir : path.split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
                return Optional.of(Path.of(dir, program));
            }
        }
        return Optional.empty();
    }
}
