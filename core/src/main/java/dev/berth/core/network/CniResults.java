package dev.berth.core.network;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/** Reads pod addresses out of a CNI result (spec 0.2.0 through 1.x). */
final class CniResults {
    private CniResults() {}

    /** The pod IP and the additional IPs, as CRI reports them. */
    record PodIps(String ip, List<String> additionalIps) {}

    /**
     * Picks the addresses of the pod interface {@code ifName}: the {@code ips} entries whose {@code interface} index
     * names an interface with that name inside a sandbox; if no entry carries an interface index, all of them. The
     * first IPv4 address is the pod IP (as kubelet expects with dual stack), the others are additional, in result
     * order. Prefix lengths are dropped.
     */
    static PodIps podIps(JsonNode result, String ifName) {
        List<String> addresses = new ArrayList<>();
        JsonNode ips = result.path("ips");
        if (ips.isArray()) {
            JsonNode interfaces = result.path("interfaces");
            boolean anyIndexed = false;
            for (JsonNode ip : ips) {
                anyIndexed |= ip.has("interface");
            }
            for (JsonNode ip : ips) {
                if (anyIndexed) {
                    JsonNode iface = interfaces.path(ip.path("interface").asInt(-1));
                    boolean pod = iface.path("name").asText("").equals(ifName)
                            && !iface.path("sandbox").asText("").isEmpty();
                    if (!pod) {
                        continue;
                    }
                }
                String address = stripPrefix(ip.path("address").asText(""));
                if (!address.isEmpty() && !addresses.contains(address)) {
                    addresses.add(address);
                }
            }
        } else {
            // Spec 0.2.0: {"ip4": {"ip": "10.0.0.2/24"}, "ip6": {...}}
            for (String family : List.of("ip4", "ip6")) {
                String address = stripPrefix(result.path(family).path("ip").asText(""));
                if (!address.isEmpty()) {
                    addresses.add(address);
                }
            }
        }
        if (addresses.isEmpty()) {
            return new PodIps("", List.of());
        }
        String primary = addresses.stream().filter(a -> !a.contains(":")).findFirst().orElse(addresses.getFirst());
        List<String> rest = new ArrayList<>(addresses);
        rest.remove(primary);
        return new PodIps(primary, List.copyOf(rest));
    }

    private static String stripPrefix(String cidr) {
        int slash = cidr.indexOf('/');
        return slash < 0 ? cidr : cidr.substring(0, slash);
    }
}
