package dev.berth.runc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.spi.BackendException;
import dev.berth.spi.NamespaceMode;
import dev.berth.spi.Namespaces;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Which sysctls a pod may set, as a table: only those in a namespace of the pod's own. */
class PodSysctlsTest {
    static final Namespaces OWN = new Namespaces(NamespaceMode.POD, NamespaceMode.CONTAINER, NamespaceMode.POD, "",
            null);
    static final Namespaces HOST_NET = new Namespaces(NamespaceMode.NODE, NamespaceMode.CONTAINER, NamespaceMode.POD,
            "", null);
    static final Namespaces HOST_IPC = new Namespaces(NamespaceMode.POD, NamespaceMode.CONTAINER, NamespaceMode.NODE,
            "", null);

    static Stream<Arguments> allowed() {
        return Stream.of(
                Arguments.of("net.ipv4.ip_unprivileged_port_start", OWN),
                Arguments.of("net.ipv4.conf.eth0/100.forwarding", OWN),
                Arguments.of("kernel.shm_rmid_forced", OWN),
                Arguments.of("kernel.shm_rmid_forced", HOST_NET),
                Arguments.of("fs.mqueue.msg_max", OWN),
                Arguments.of("kernel.domainname", HOST_IPC));
    }

    @ParameterizedTest
    @MethodSource
    void allowed(String key, Namespaces ns) {
        assertThatCode(() -> PodSysctls.validate("sb", Map.of(key, "1"), ns)).doesNotThrowAnyException();
    }

    static Stream<Arguments> refused() {
        return Stream.of(
                Arguments.of("vm.swappiness", OWN, "is not in a namespace of the pod's own"),
                Arguments.of("kernel.pid_max", OWN, "is not in a namespace of the pod's own"),
                Arguments.of("net.ipv4.ip_forward", HOST_NET, "is not allowed with host networking"),
                Arguments.of("kernel.hostname", OWN, "conflicts with the pod's hostname"),
                Arguments.of("kernel.hostname", HOST_NET, "conflicts with the pod's hostname"),
                Arguments.of("kernel.domainname", HOST_NET, "is not allowed with host networking"),
                Arguments.of("kernel.shm_rmid_forced", HOST_IPC, "is not allowed with the host's IPC namespace"),
                Arguments.of("net.//.vm.swappiness", OWN, "is not a sysctl name"),
                Arguments.of("net.ipv4..x", OWN, "is not a sysctl name"),
                Arguments.of("net.ipv4.x/../../..", OWN, "is not a sysctl name"),
                Arguments.of("net", OWN, "is not a sysctl name"),
                Arguments.of("net.ipv4.a b", OWN, "is not a sysctl name"));
    }

    @ParameterizedTest
    @MethodSource
    void refused(String key, Namespaces ns, String why) {
        assertThatThrownBy(() -> PodSysctls.validate("sb", Map.of(key, "1"), ns))
                .isInstanceOfSatisfying(BackendException.class, e -> {
                    assertThat(e.kind()).isEqualTo(BackendException.Kind.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).isEqualTo("failed to create sandbox \"sb\": sysctl \"" + key + "\" "
                            + why + (why.startsWith("is not in") ? ", so setting it would change the node" : "")
                            + (key.equals("kernel.domainname") ? " (the pod uses the host's UTS namespace)" : "")
                            + (key.equals("kernel.hostname") ? ", which sets it (the pod's hostname field)" : ""));
                });
    }

    @Test
    void aValueMayNotCarryALineBreak() {
        assertThatThrownBy(() -> PodSysctls.validate("sb", Map.of("net.ipv4.ip_unprivileged_port_start", "0\n1"),
                OWN)).hasMessageContaining("has a value with a line break");
    }

    @Test
    void aNameMapsToItsFileWithDotsAndSlashesSwapped() {
        assertThat(PodSysctls.file("net.ipv4.ip_unprivileged_port_start"))
                .isEqualTo(Path.of("/proc/sys/net/ipv4/ip_unprivileged_port_start"));
        assertThat(PodSysctls.file("net.ipv4.conf.eth0/100.forwarding"))
                .isEqualTo(Path.of("/proc/sys/net/ipv4/conf/eth0.100/forwarding"));
    }
}
