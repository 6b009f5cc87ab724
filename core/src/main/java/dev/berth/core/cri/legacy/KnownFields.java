package dev.berth.core.cri.legacy;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.UnknownFieldSet;
import dev.berth.spi.BackendException;
import java.util.List;
import java.util.Map;

/**
 * A proto2 request reduced to the fields its contract defines, before it is mapped to runtime.v1.
 *
 * <p>A proto2 parser keeps what it does not recognise as unknown fields: numbers the contract does not define, and
 * values of defined fields it cannot take (a closed enum's value out of range, or a field sent with another wire
 * type, as a client of the first CRI draft sends some filter fields of the same number). The first kind is
 * dropped, as runtime.v1 ignores fields it does not know; the second is refused with INVALID_ARGUMENT naming the
 * field, as its value would otherwise be lost without a word. Nothing unknown reaches the runtime.v1 parser, which
 * would read those bytes as v1's fields of the same number.
 */
final class KnownFields {
    private KnownFields() {}

    /** {@code m} without unknown fields at any depth; INVALID_ARGUMENT for a defined field it could not read. */
    static Message strict(Message m) {
        return strip(m, "", true);
    }

    /** {@code m} without unknown fields at any depth: for responses, whose fields runtime.v1 has and 001 lacks. */
    static Message lenient(Message m) {
        return strip(m, "", false);
    }

    private static Message strip(Message m, String path, boolean strict) {
        if (strict) {
            for (int number : m.getUnknownFields().asMap().keySet()) {
                FieldDescriptor f = m.getDescriptorForType().findFieldByNumber(number);
                if (f != null) {
                    throw BackendException.invalid(at(path, f.getName()) + ": a value the field cannot take"
                            + (f.getJavaType() == FieldDescriptor.JavaType.ENUM ? " (not a " + f.getEnumType().getName()
                            + ")" : " (sent as another type)"));
                }
            }
        }
        Message.Builder b = m.toBuilder().setUnknownFields(UnknownFieldSet.getDefaultInstance());
        for (Map.Entry<FieldDescriptor, Object> e : m.getAllFields().entrySet()) {
            FieldDescriptor f = e.getKey();
            if (f.getJavaType() != FieldDescriptor.JavaType.MESSAGE || f.isMapField()) {
                continue; // a map's entries are string pairs in both contracts; their parser keeps nothing unknown
            }
            if (f.isRepeated()) {
                List<?> values = (List<?>) e.getValue();
                b.clearField(f);
                for (int i = 0; i < values.size(); i++) {
                    Message v = (Message) values.get(i);
                    b.addRepeatedField(f, strip(v, at(path, f.getName()) + "[" + i + "]", strict));
                }
            } else {
                b.setField(f, strip((Message) e.getValue(), at(path, f.getName()), strict));
            }
        }
        return b.build();
    }

    private static String at(String path, String name) {
        return path.isEmpty() ? name : path + "." + name;
    }
}
