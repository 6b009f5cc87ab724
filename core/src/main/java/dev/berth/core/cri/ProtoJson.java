package dev.berth.core.cri;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * A CRI message as JSON for a verbose status's {@code config}: the field names of the proto file ({@code log_path},
 * {@code security_context}), fields left at their defaults left out, numbers as numbers, enums by name, maps as
 * objects, bytes as their text when it is UTF-8 (an environment value) and in base64 otherwise. That is the shape
 * containerd shows in {@code crictl inspect} and {@code inspectp}, where people read a container's or pod's request
 * back ({@code .info.config.envs}, {@code .info.config.mounts}).
 */
public final class ProtoJson {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private ProtoJson() {}

    public static ObjectNode of(Message m) {
        ObjectNode out = NODES.objectNode();
        for (Map.Entry<FieldDescriptor, Object> e : m.getAllFields().entrySet()) {
            FieldDescriptor f = e.getKey();
            if (f.isMapField()) {
                ObjectNode map = out.putObject(f.getName());
                FieldDescriptor key = f.getMessageType().findFieldByName("key");
                FieldDescriptor value = f.getMessageType().findFieldByName("value");
                for (Object entry : (List<?>) e.getValue()) {
                    Message kv = (Message) entry;
                    map.set(String.valueOf(kv.getField(key)), value(value, kv.getField(value)));
                }
            } else if (f.isRepeated()) {
                ArrayNode list = out.putArray(f.getName());
                for (Object v : (List<?>) e.getValue()) {
                    list.add(value(f, v));
                }
            } else {
                out.set(f.getName(), value(f, e.getValue()));
            }
        }
        return out;
    }

    private static JsonNode value(FieldDescriptor f, Object v) {
        return switch (f.getJavaType()) {
            case MESSAGE -> of((Message) v);
            case ENUM -> NODES.textNode(((com.google.protobuf.Descriptors.EnumValueDescriptor) v).getName());
            case BYTE_STRING -> {
                ByteString b = (ByteString) v; // berth's KeyValue carries its value as bytes
                yield NODES.textNode(b.isValidUtf8() ? b.toStringUtf8() : Base64.getEncoder().encodeToString(
                        b.toByteArray()));
            }
            case STRING -> NODES.textNode((String) v);
            case BOOLEAN -> NODES.booleanNode((Boolean) v);
            case INT -> NODES.numberNode((Integer) v);
            case LONG -> NODES.numberNode((Long) v);
            case FLOAT -> NODES.numberNode((Float) v);
            case DOUBLE -> NODES.numberNode((Double) v);
        };
    }
}
