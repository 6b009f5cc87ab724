package dev.berth.core.cri.legacy;

import com.google.protobuf.Message;
import io.grpc.MethodDescriptor;
import java.util.function.Function;

/**
 * One method of an older CRI contract, served by the runtime.v1 RPC class named {@code v1Method}: its request is
 * mapped to that class's request, and the class's response back to the method's response.
 *
 * @param method the method as the older contract declares it (its full name and message types)
 * @param v1Method the bare name of the runtime.v1 method whose RPC class serves it
 * @param toV1 the older request (already parsed) to the runtime.v1 request; throws
 *     {@link dev.berth.spi.BackendException} for a value that has no runtime.v1 meaning
 * @param fromV1 the runtime.v1 response to the older response
 */
public record LegacyMethod(MethodDescriptor<? extends Message, ? extends Message> method, String v1Method,
                           Function<Message, Message> toV1, Function<Message, Message> fromV1) {
}
