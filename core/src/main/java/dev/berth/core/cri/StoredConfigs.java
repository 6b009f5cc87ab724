package dev.berth.core.cri;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import dev.berth.cri.v1.ContainerConfig;
import dev.berth.cri.v1.PodSandboxConfig;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The CRI configs that core's records keep as bytes, parsed once per record rather than on every status call the
 * kubelet polls. Entries are keyed by the record's byte array itself (arrays compare by identity) and held
 * weakly, so an entry goes when its record is replaced or removed; a record's array is never changed in place.
 * Bytes that do not parse read as the default config, as before.
 */
public final class StoredConfigs {
    private static final Map<byte[], Message> PARSED = Collections.synchronizedMap(new WeakHashMap<>());

    private StoredConfigs() {}

    public static ContainerConfig container(byte[] stored) {
        return parsed(stored, ContainerConfig.class, ContainerConfig.parser(), ContainerConfig.getDefaultInstance());
    }

    public static PodSandboxConfig sandbox(byte[] stored) {
        return parsed(stored, PodSandboxConfig.class, PodSandboxConfig.parser(),
                PodSandboxConfig.getDefaultInstance());
    }

    private static <T extends Message> T parsed(byte[] stored, Class<T> type, Parser<T> parser, T empty) {
        Message kept = PARSED.get(stored);
        if (type.isInstance(kept)) {
            return type.cast(kept);
        }
        T config;
        try {
            config = parser.parseFrom(stored);
        } catch (InvalidProtocolBufferException e) {
            config = empty;
        }
        PARSED.put(stored, config);
        return config;
    }
}
