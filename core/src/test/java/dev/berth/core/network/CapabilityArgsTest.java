package dev.berth.core.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.spi.BackendException;
import dev.berth.spi.DnsConfig;
import dev.berth.spi.PortMapping;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class CapabilityArgsTest {
    private static PodNetworkRequest request(List<PortMapping> ports, DnsConfig dns, Map<String, String> annotations,
                                             String cgroupParent) {
        return new PodNetworkRequest("sb1", "web", "default", "uid-1", ports, dns, annotations, cgroupParent);
    }

    @Test
    void cniArgsCarryTheKubernetesKeys() {
        assertThat(CapabilityArgs.cniArgs(request(List.of(), DnsConfig.NONE, Map.of(), "")))
                .isEqualTo("IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;"
                        + "K8S_POD_INFRA_CONTAINER_ID=sb1;K8S_POD_UID=uid-1");
    }

    @Test
    void emptyRequestHasNoCapabilityArgs() {
        assertThat(CapabilityArgs.runtimeConfig(request(List.of(), DnsConfig.NONE, Map.of(), ""), "")).isEmpty();
    }

    @Test
    void portMappingsSkipThoseWithoutHostPortAndLowerCaseTheProtocol() {
        ObjectNode rc = CapabilityArgs.runtimeConfig(request(List.of(
                new PortMapping(PortMapping.Protocol.TCP, 80, 8080, ""),
                new PortMapping(PortMapping.Protocol.UDP, 53, 5353, "127.0.0.1"),
                new PortMapping(PortMapping.Protocol.TCP, 9000, 0, "")), DnsConfig.NONE, Map.of(), ""), "");
        assertThat(rc.path("portMappings").toString()).isEqualTo(
                "[{\"hostPort\":8080,\"containerPort\":80,\"protocol\":\"tcp\"},"
                        + "{\"hostPort\":5353,\"containerPort\":53,\"protocol\":\"udp\",\"hostIP\":\"127.0.0.1\"}]");
    }

    @Test
    void dnsIpRangesCgroupAndBandwidth() {
        DnsConfig dns = new DnsConfig(List.of("10.0.0.10"), List.of("ns.svc.cluster.local"), List.of("ndots:5"));
        ObjectNode rc = CapabilityArgs.runtimeConfig(request(List.of(), dns,
                Map.of(CapabilityArgs.INGRESS_BANDWIDTH, "10M", CapabilityArgs.EGRESS_BANDWIDTH, "1Mi"),
                "/kubepods/pod1"), "10.244.1.0/24,fd00::/64");
        assertThat(rc.path("dns").toString()).isEqualTo(
                "{\"servers\":[\"10.0.0.10\"],\"searches\":[\"ns.svc.cluster.local\"],\"options\":[\"ndots:5\"]}");
        assertThat(rc.path("ipRanges").toString())
                .isEqualTo("[[{\"subnet\":\"10.244.1.0/24\"}],[{\"subnet\":\"fd00::/64\"}]]");
        assertThat(rc.path("cgroupPath").asText()).isEqualTo("/kubepods/pod1");
        assertThat(rc.path("bandwidth").path("ingressRate").asLong()).isEqualTo(10_000_000L);
        assertThat(rc.path("bandwidth").path("egressRate").asLong()).isEqualTo(1L << 20);
        assertThat(rc.path("bandwidth").path("ingressBurst").asLong()).isEqualTo(Integer.MAX_VALUE);
    }

    @ParameterizedTest
    @CsvSource({"100, 100", "1k, 1000", "10M, 10000000", "1.5M, 1500000", "1G, 1000000000", "2Ki, 2048",
            "1Gi, 1073741824", "1e6, 1000000", "1500m, 2"})
    void quantities(String quantity, long bits) {
        assertThat(CapabilityArgs.bitsPerSecond("a", quantity)).isEqualTo(bits);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "fast", "10 M", "-1M", "0", "1MB"})
    void badQuantitiesAreInvalidArguments(String quantity) {
        assertThatThrownBy(() -> CapabilityArgs.bitsPerSecond(CapabilityArgs.INGRESS_BANDWIDTH, quantity))
                .isInstanceOfSatisfying(BackendException.class,
                        e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.INVALID_ARGUMENT))
                .hasMessageContaining(CapabilityArgs.INGRESS_BANDWIDTH);
    }
}
