package dev.berth.oci;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.spi.PodMetricsSource.InterfaceMetrics;
import org.junit.jupiter.api.Test;

/** Parsing /proc/net/dev; reading a real pod namespace is covered by the runc and kata plugins' tests. */
class NetworkNamespacesTest {
    static final String NET_DEV = """
            Inter-|   Receive                                                |  Transmit
             face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
                lo:     840      10    0    0    0     0          0         0      840      10    0    0    0     0       0          0
              eth0: 1234567    8901    2    3    0     0          0        17   765432    4321    4    5    0     0       0          0
            """;

    @Test
    void parsesEveryInterfaceReceiveThenTransmit() {
        assertThat(NetworkNamespaces.parseNetDev(NET_DEV)).containsExactly(
                new InterfaceMetrics("lo", 840, 10, 0, 0, 840, 10, 0, 0),
                new InterfaceMetrics("eth0", 1234567, 8901, 2, 3, 765432, 4321, 4, 5));
        assertThat(NetworkNamespaces.parseNetDev("")).isEmpty();
    }
}
