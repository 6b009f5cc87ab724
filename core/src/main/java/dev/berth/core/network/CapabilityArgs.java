package dev.berth.core.network;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.spi.BackendException;
import dev.berth.spi.DnsConfig;
import dev.berth.spi.PortMapping;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Builds the per-pod CNI inputs Kubernetes runtimes send: {@code CNI_ARGS} and the {@code runtimeConfig} capability
 * arguments ({@code portMappings}, {@code bandwidth}, {@code ipRanges}, {@code dns}, {@code cgroupPath}).
 */
final class CapabilityArgs {
    static final String INGRESS_BANDWIDTH = "kubernetes.io/ingress-bandwidth";
    static final String EGRESS_BANDWIDTH = "kubernetes.io/egress-bandwidth";
    /** Kubernetes passes no burst; 2^31-1 bits is in practice "no burst limit" (kubelet does the same). */
    private static final long UNLIMITED_BURST = Integer.MAX_VALUE;
    private static final Pattern QUANTITY = Pattern.compile(
            "^([+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?[0-9]+|[numkMGTPE])?$");

    private CapabilityArgs() {}

    /** {@code IgnoreUnknown=1;K8S_POD_NAMESPACE=…;K8S_POD_NAME=…;K8S_POD_INFRA_CONTAINER_ID=…;K8S_POD_UID=…}. */
    static String cniArgs(PodNetworkRequest request) {
        return "IgnoreUnknown=1"
                + ";K8S_POD_NAMESPACE=" + request.podNamespace()
                + ";K8S_POD_NAME=" + request.podName()
                + ";K8S_POD_INFRA_CONTAINER_ID=" + request.sandboxId()
                + ";K8S_POD_UID=" + request.podUid();
    }

    /** All capability arguments for the pod; {@link CniClient} passes each plugin only those it declares. */
    static ObjectNode runtimeConfig(PodNetworkRequest request, String podCidr) {
        ObjectNode rc = CniConfig.JSON.createObjectNode();
        ArrayNode ports = rc.putArray("portMappings");
        for (PortMapping mapping : request.portMappings()) {
            if (mapping.hostPort() <= 0) {
                continue; // no host port: nothing to publish
            }
            ObjectNode port = ports.addObject();
            port.put("hostPort", mapping.hostPort());
            port.put("containerPort", mapping.containerPort());
            port.put("protocol", mapping.protocol().name().toLowerCase(Locale.ROOT));
            if (!mapping.hostIp().isEmpty()) {
                port.put("hostIP", mapping.hostIp());
            }
        }
        if (ports.isEmpty()) {
            rc.remove("portMappings");
        }
        ObjectNode bandwidth = bandwidth(request.annotations());
        if (bandwidth != null) {
            rc.set("bandwidth", bandwidth);
        }
        if (podCidr != null && !podCidr.isBlank()) {
            ArrayNode ranges = rc.putArray("ipRanges");
            for (String cidr : podCidr.split(",")) {
                if (!cidr.isBlank()) {
                    ranges.addArray().addObject().put("subnet", cidr.strip());
                }
            }
        }
        DnsConfig dns = request.dns();
        if (!dns.isEmpty()) {
            ObjectNode node = rc.putObject("dns");
            dns.servers().forEach(node.putArray("servers")::add);
            dns.searches().forEach(node.putArray("searches")::add);
            dns.options().forEach(node.putArray("options")::add);
        }
        if (!request.cgroupParent().isEmpty()) {
            rc.put("cgroupPath", request.cgroupParent());
        }
        return rc;
    }

    private static ObjectNode bandwidth(Map<String, String> annotations) {
        String ingress = annotations.get(INGRESS_BANDWIDTH);
        String egress = annotations.get(EGRESS_BANDWIDTH);
        if (ingress == null && egress == null) {
            return null;
        }
        ObjectNode node = CniConfig.JSON.createObjectNode();
        if (ingress != null) {
            node.put("ingressRate", bitsPerSecond(INGRESS_BANDWIDTH, ingress));
            node.put("ingressBurst", UNLIMITED_BURST);
        }
        if (egress != null) {
            node.put("egressRate", bitsPerSecond(EGRESS_BANDWIDTH, egress));
            node.put("egressBurst", UNLIMITED_BURST);
        }
        return node;
    }

    /**
     * Parses a Kubernetes resource quantity ({@code 10M}, {@code 1Gi}, {@code 500k}, {@code 1e6}) as bits per second,
     * rounding up as {@code Quantity.Value()} does.
     */
    static long bitsPerSecond(String annotation, String quantity) {
        Matcher m = QUANTITY.matcher(quantity.strip());
        if (!m.matches()) {
            throw BackendException.invalid("invalid " + annotation + " annotation \"" + quantity + "\"");
        }
        BigDecimal value = new BigDecimal(m.group(1));
        String suffix = m.group(2) == null ? "" : m.group(2);
        BigDecimal factor = switch (suffix) {
            case "" -> BigDecimal.ONE;
            case "n" -> new BigDecimal("1e-9");
            case "u" -> new BigDecimal("1e-6");
            case "m" -> new BigDecimal("1e-3");
            case "k" -> new BigDecimal("1e3");
            case "M" -> new BigDecimal("1e6");
            case "G" -> new BigDecimal("1e9");
            case "T" -> new BigDecimal("1e12");
            case "P" -> new BigDecimal("1e15");
            case "E" -> new BigDecimal("1e18");
            case "Ki" -> BigDecimal.valueOf(1L << 10);
            case "Mi" -> BigDecimal.valueOf(1L << 20);
            case "Gi" -> BigDecimal.valueOf(1L << 30);
            case "Ti" -> BigDecimal.valueOf(1L << 40);
            case "Pi" -> BigDecimal.valueOf(1L << 50);
            case "Ei" -> BigDecimal.valueOf(1L << 60);
            default -> new BigDecimal("1" + suffix.toLowerCase(Locale.ROOT)); // e<n>
        };
        BigDecimal bits = value.multiply(factor).setScale(0, RoundingMode.CEILING);
        if (bits.signum() <= 0 || bits.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
            throw BackendException.invalid("invalid " + annotation + " annotation \"" + quantity
                    + "\": must be a positive rate");
        }
        return bits.longValueExact();
    }
}
