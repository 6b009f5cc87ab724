package dev.berth.core.cri;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.berth.core.store.RecordStore;
import dev.berth.cri.v1.Container;
import dev.berth.cri.v1.ContainerState;
import dev.berth.cri.v1.ListContainersResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** List items encoded once per record and state, forgotten with their record, and read back as ordinary items. */
class WireItemsTest {
    record Rec(String id, String label) {}

    @TempDir
    Path dir;

    private static Container container(Rec r, ContainerState state) {
        return Container.newBuilder().setId(r.id()).setState(state).putLabels("app", r.label())
                .putAnnotations("a", "b").build();
    }

    @Test
    void anItemIsEncodedOncePerRecordAndStateAndForgottenWithItsRecord() {
        RecordStore<Rec> store = new RecordStore<>(dir, Rec.class, Rec::id);
        WireItems<Rec> items = new WireItems<>(store, Rec::id);
        AtomicInteger builds = new AtomicInteger();
        Rec a = new Rec("a", "one");
        store.put(a);

        ByteString first = items.item("a", a, ContainerState.CONTAINER_RUNNING, () -> {
            builds.incrementAndGet();
            return container(a, ContainerState.CONTAINER_RUNNING);
        });
        ByteString again = items.item("a", a, ContainerState.CONTAINER_RUNNING, () -> {
            builds.incrementAndGet();
            return container(a, ContainerState.CONTAINER_RUNNING);
        });
        assertThat(again).isSameAs(first);
        assertThat(builds).hasValue(1);

        ByteString exited = items.item("a", a, ContainerState.CONTAINER_EXITED,
                () -> container(a, ContainerState.CONTAINER_EXITED));
        assertThat(exited).isNotEqualTo(first);

        Rec replaced = new Rec("a", "two");
        store.put(replaced);
        ByteString fresh = items.item("a", replaced, ContainerState.CONTAINER_EXITED,
                () -> container(replaced, ContainerState.CONTAINER_EXITED));
        assertThat(fresh).isNotEqualTo(exited);
        assertThat(items.size()).isEqualTo(1);

        store.remove("a");
        assertThat(items.size()).as("forgotten with its record").isZero();
        // Built for a record removed meanwhile (a list racing a remove): answered, not kept.
        items.item("a", replaced, ContainerState.CONTAINER_EXITED, () -> container(replaced,
                ContainerState.CONTAINER_EXITED));
        assertThat(items.size()).isZero();
    }

    @Test
    void itemsInWireFormAreAnOrdinaryListToAClient() throws Exception {
        List<Container> want = List.of(container(new Rec("x", "1"), ContainerState.CONTAINER_RUNNING),
                container(new Rec("y", "2"), ContainerState.CONTAINER_CREATED),
                container(new Rec("z", "3"), ContainerState.CONTAINER_EXITED));
        var resp = ListContainersResponse.newBuilder().setUnknownFields(WireItems.repeated(
                ListContainersResponse.CONTAINERS_FIELD_NUMBER, want.stream().map(Container::toByteString).toList()))
                .build();

        assertThat(ListContainersResponse.parseFrom(resp.toByteArray()).getContainersList())
                .containsExactlyElementsOf(want);
        assertThat(resp.toByteString()).isEqualTo(ListContainersResponse.newBuilder().addAllContainers(want).build()
                .toByteString());
        var empty = ListContainersResponse.newBuilder()
                .setUnknownFields(WireItems.repeated(ListContainersResponse.CONTAINERS_FIELD_NUMBER, List.of())).build();
        assertThat(empty.toByteArray()).isEmpty();
    }

    @Test
    void aResponseWithItemsInWireFormIsStreamedAsItsBytesDrainedOrRead() throws Exception {
        List<Container> want = List.of(container(new Rec("x", "1"), ContainerState.CONTAINER_RUNNING),
                container(new Rec("y", "2"), ContainerState.CONTAINER_EXITED));
        var resp = ListContainersResponse.newBuilder().setUnknownFields(WireItems.repeated(
                ListContainersResponse.CONTAINERS_FIELD_NUMBER, want.stream().map(Container::toByteString).toList()))
                .build();
        var marshaller = WireItems.encodingUnknownFields(
                io.grpc.protobuf.ProtoUtils.marshaller(ListContainersResponse.getDefaultInstance()));
        byte[] expected = ListContainersResponse.newBuilder().addAllContainers(want).build().toByteArray();

        var drained = marshaller.stream(resp);
        assertThat(drained).isInstanceOf(io.grpc.KnownLength.class);
        assertThat(drained.available()).isEqualTo(expected.length);
        var out = new java.io.ByteArrayOutputStream();
        assertThat(((io.grpc.Drainable) drained).drainTo(out)).isEqualTo(expected.length);
        assertThat(out.toByteArray()).isEqualTo(expected);
        assertThat(drained.available()).isZero();

        // Read, as an in-process client does: the items, not the object with its unknown fields.
        assertThat(marshaller.parse(marshaller.stream(resp)).getContainersList()).containsExactlyElementsOf(want);
        // A response without unknown fields keeps grpc's own stream.
        var plain = ListContainersResponse.newBuilder().addAllContainers(want).build();
        assertThat(marshaller.parse(marshaller.stream(plain))).isSameAs(plain);
    }
}
