package dev.berth.core.cri;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.metrics.Metrics;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * runtime.v1 and the admin service are built at start; the older contracts (runtime.v1alpha2, the proto2 CRI and the
 * draft) on the first call to one of them, and together the two serve exactly what {@link CriServer#services()} has.
 */
class CriServerServedTest {
    private static Stream<String> names(List<ServerServiceDefinition> services) {
        return services.stream().flatMap(s -> s.getMethods().stream())
                .map(m -> m.getMethodDescriptor().getFullMethodName());
    }

    @Test
    void olderContractsAreBuiltOnTheirFirstCallAndNothingIsLostOrServedTwice() {
        CriServer cri = new CriServer(List.of(), List.of(), Metrics.disabled());
        CriServer.Served served = cri.served();
        var later = (CriServer.OnFirstCall) served.onFirstCall();

        assertThat(names(served.now())).contains("runtime.v1.RuntimeService/Version", "runtime.v1.ImageService/PullImage")
                .noneMatch(n -> n.startsWith("runtime.v1alpha2.") || n.startsWith("runtime.RuntimeService/"));
        assertThat(later.built()).isFalse();

        ServerMethodDefinition<?, ?> alpha = later.lookupMethod("runtime.v1alpha2.RuntimeService/Version", null);
        assertThat(alpha).isNotNull();
        assertThat(later.built()).isTrue();
        assertThat(later.lookupMethod("runtime.RuntimeService/RunPodSandbox", null)).isNotNull();
        assertThat(later.lookupMethod("runtime.v1alpha2.RuntimeService/Version", null)).isSameAs(alpha);
        assertThat(later.lookupMethod("runtime.v1.RuntimeService/Version", null)).isNull();
        assertThat(later.lookupMethod("no.Such/Method", null)).isNull();

        List<String> both = Stream.concat(names(served.now()), names(later.getServices())).sorted().toList();
        assertThat(both).doesNotHaveDuplicates().containsExactlyElementsOf(names(cri.services()).sorted().toList());
    }
}
