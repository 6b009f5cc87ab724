package dev.berth.oci.spec;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * JSON of the {@link RuntimeSpec} records: null components are left out; reading ignores fields the model does not
 * have (a {@code config.json} another tool wrote). One configured Jackson mapper, shared and thread-safe.
 */
public final class OciJson {
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .serializationInclusion(JsonInclude.Include.NON_NULL)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    private OciJson() {}

    /** The mapper, for callers that read or write other JSON (a shim's output, a seccomp profile). */
    public static ObjectMapper mapper() {
        return MAPPER;
    }

    public static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static byte[] writeBytes(Object value) {
        return write(value).getBytes(StandardCharsets.UTF_8);
    }

    /** Writes {@code spec} to {@code file} (a bundle's {@code config.json}). */
    public static void write(Path file, RuntimeSpec spec) throws IOException {
        Files.writeString(file, write(spec), StandardCharsets.UTF_8);
    }

    /** Reads a bundle's {@code config.json}. */
    public static RuntimeSpec read(Path file) throws IOException {
        return MAPPER.readValue(file.toFile(), RuntimeSpec.class);
    }

    /** {@code value} (maps, lists, numbers, as a JSON reader returns them) as a model record. */
    public static <T> T convert(Object value, Class<T> type) {
        return MAPPER.convertValue(value, type);
    }
}
