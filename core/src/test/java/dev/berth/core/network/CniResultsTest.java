package dev.berth.core.network;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CniResultsTest {
    private static CniResults.PodIps ips(String json) throws Exception {
        return CniResults.podIps(CniConfig.JSON.readTree(json), "eth0");
    }

    @Test
    void spec100DualStackPrefersIpv4AndSkipsHostInterfaces() throws Exception {
        CniResults.PodIps ips = ips("""
                {"cniVersion":"1.0.0",
                 "interfaces":[{"name":"cni0","mac":"aa"},{"name":"veth1","mac":"bb"},
                               {"name":"eth0","mac":"cc","sandbox":"/run/netns/x"}],
                 "ips":[{"address":"fd00::5/64","interface":2},{"address":"10.1.0.5/24","gateway":"10.1.0.1","interface":2},
                        {"address":"10.1.0.1/24","interface":0}]}
                """);
        assertThat(ips.ip()).isEqualTo("10.1.0.5");
        assertThat(ips.additionalIps()).containsExactly("fd00::5");
    }

    @Test
    void spec040WithoutInterfaceIndexTakesAll() throws Exception {
        CniResults.PodIps ips = ips("""
                {"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.2.0.7/16"}]}
                """);
        assertThat(ips.ip()).isEqualTo("10.2.0.7");
        assertThat(ips.additionalIps()).isEmpty();
    }

    @Test
    void ipv6Only() throws Exception {
        assertThat(ips("{\"ips\":[{\"address\":\"fd00::9/64\"}]}").ip()).isEqualTo("fd00::9");
    }

    @Test
    void spec020() throws Exception {
        CniResults.PodIps ips = ips("{\"cniVersion\":\"0.2.0\",\"ip4\":{\"ip\":\"10.3.0.2/24\"},"
                + "\"ip6\":{\"ip\":\"fd00::2/64\"}}");
        assertThat(ips.ip()).isEqualTo("10.3.0.2");
        assertThat(ips.additionalIps()).containsExactly("fd00::2");
    }

    @Test
    void noAddresses() throws Exception {
        assertThat(ips("{\"cniVersion\":\"1.0.0\"}").ip()).isEmpty();
    }
}
