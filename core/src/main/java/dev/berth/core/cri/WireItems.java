package dev.berth.core.cri;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import com.google.protobuf.MessageLite;
import com.google.protobuf.UnknownFieldSet;
import dev.berth.core.store.RecordStore;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The items of a list response (ListContainers, ListPodSandbox) kept in their wire form, so that a relist, which the
 * kubelet sends every second, does not build and encode every item's labels and annotations again.
 *
 * <p>An item is encoded once per record and state: the cache holds, per id, the record it was built from (by
 * identity; a store replaces a record when it changes) and the state it was built with, and builds it again when
 * either differs. An item is forgotten when its record is removed from the store.
 *
 * <p>The response carries the encoded items as its repeated field in {@link UnknownFieldSet} form: a message's
 * unknown fields are written out byte for byte, and a repeated message field is on the wire nothing but its items,
 * each length-delimited under the field's number, so clients read an ordinary list. Code in berth that reads such a
 * response as a message sees the items only after a parse of its bytes. grpc's marshaller hands a response
 * object to an in-process client without encoding it; {@link #encodingUnknownFields} makes every response that
 * carries unknown fields go as its bytes, so that such a client reads the items too.
 */
public final class WireItems<T> {
    private record Entry(Object record, Object state, ByteString bytes) {}

    private final RecordStore<T> store;
    private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();

    /** Items of the records in {@code store}, whose ids {@code idOf} gives. */
    public WireItems(RecordStore<T> store, Function<T, String> idOf) {
        this.store = store;
        store.listen((before, after) -> {
            if (after == null && before != null) {
                entries.remove(idOf.apply(before));
            }
        });
    }

    /** The encoded item for {@code id}, built from {@code record} in {@code state} unless cached for both. */
    public ByteString item(String id, T record, Object state, Supplier<? extends MessageLite> build) {
        Entry e = entries.get(id);
        if (e != null && e.record == record && e.state.equals(state)) {
            return e.bytes;
        }
        Entry fresh = new Entry(record, state, build.get().toByteString());
        entries.put(id, fresh);
        if (store.get(id).isEmpty()) {
            entries.remove(id, fresh); // removed while this call built it: its listener has already run
        }
        return fresh.bytes;
    }

    /** How many items are cached (for tests). */
    int size() {
        return entries.size();
    }

    /** Field {@code number} holding {@code items}, each a length-delimited encoded message. */
    public static UnknownFieldSet repeated(int number, List<ByteString> items) {
        var field = UnknownFieldSet.Field.newBuilder();
        items.forEach(field::addLengthDelimited);
        return UnknownFieldSet.newBuilder().addField(number, field.build()).build();
    }

    /**
     * {@code marshaller}, except that a response carrying unknown fields (items in wire form) is streamed as its
     * encoded bytes: grpc-java's protobuf marshaller otherwise passes the message object itself to a client in the
     * same process, which would not see the items.
     */
    public static <R> io.grpc.MethodDescriptor.Marshaller<R> encodingUnknownFields(
            io.grpc.MethodDescriptor.Marshaller<R> marshaller) {
        return new io.grpc.MethodDescriptor.PrototypeMarshaller<>() {
            @Override
            public java.io.InputStream stream(R value) {
                if (value instanceof Message m && !m.getUnknownFields().asMap().isEmpty()) {
                    return new Encoded(m);
                }
                return marshaller.stream(value);
            }

            @Override
            public R parse(java.io.InputStream stream) {
                return marshaller.parse(stream);
            }

            @Override
            @SuppressWarnings("unchecked")
            public R getMessagePrototype() {
                return marshaller instanceof io.grpc.MethodDescriptor.PrototypeMarshaller<?> p
                        ? (R) p.getMessagePrototype() : null;
            }

            @Override
            @SuppressWarnings("unchecked")
            public Class<R> getMessageClass() {
                return marshaller instanceof io.grpc.MethodDescriptor.PrototypeMarshaller<?> p
                        ? (Class<R>) p.getMessageClass() : null;
            }
        };
    }

    /**
     * A message as grpc wants its stream: of known length, and drained by writing the message straight into the
     * transport's buffer (its kept items copied once). Read byte by byte (as an in-process client does), it is
     * encoded first.
     */
    private static final class Encoded extends java.io.InputStream implements io.grpc.KnownLength, io.grpc.Drainable {
        private Message message;
        private ByteString bytes;
        private int pos;

        Encoded(Message message) {
            this.message = message;
        }

        @Override
        public int drainTo(java.io.OutputStream target) throws java.io.IOException {
            if (message != null) {
                int n = message.getSerializedSize();
                message.writeTo(target);
                message = null;
                bytes = ByteString.EMPTY;
                return n;
            }
            int n = bytes.size() - pos;
            bytes.substring(pos).writeTo(target);
            pos = bytes.size();
            return n;
        }

        private ByteString bytes() {
            if (message != null) {
                bytes = message.toByteString();
                message = null;
            }
            return bytes;
        }

        @Override
        public int available() {
            return message != null ? message.getSerializedSize() : bytes.size() - pos;
        }

        @Override
        public int read() {
            ByteString b = bytes();
            return pos < b.size() ? b.byteAt(pos++) & 0xff : -1;
        }

        @Override
        public int read(byte[] out, int off, int len) {
            ByteString b = bytes();
            if (pos >= b.size()) {
                return len == 0 ? 0 : -1;
            }
            int n = Math.min(len, b.size() - pos);
            b.copyTo(out, pos, off, n);
            pos += n;
            return n;
        }
    }
}
