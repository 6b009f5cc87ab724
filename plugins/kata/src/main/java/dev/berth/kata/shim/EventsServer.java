package dev.berth.kata.shim;

import com.google.protobuf.Empty;
import dev.berth.kata.proto.events.Envelope;
import dev.berth.kata.proto.events.ForwardRequest;
import dev.berth.kata.ttrpc.TtrpcServer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;

/**
 * berth's events sink for shims: the ttrpc service {@code containerd.services.events.ttrpc.v1.Events} with its
 * one method {@code Forward}, served on the socket shims get as {@code TTRPC_ADDRESS}. The runc shim (v2) and
 * Kata's shim publish here directly over ttrpc (each event one call, with a 5 s deadline and a few retries);
 * neither execs a publish binary. While berth is down, publishing fails and the shim drops those events after
 * its retries: state is then read back with the Task API's State call.
 */
public final class EventsServer implements AutoCloseable {
    public static final String SERVICE = "containerd.services.events.ttrpc.v1.Events";

    private final TtrpcServer server;

    private EventsServer(TtrpcServer server) {
        this.server = server;
    }

    public static EventsServer start(Path socket, Consumer<Envelope> sink) throws IOException {
        TtrpcServer s = TtrpcServer.start(socket, Map.of(SERVICE + "/Forward", req -> {
            ForwardRequest f = ForwardRequest.parseFrom(req.getPayload());
            sink.accept(f.getEnvelope());
            return Empty.getDefaultInstance().toByteArray();
        }));
        return new EventsServer(s);
    }

    public Path socket() {
        return server.socket();
    }

    @Override
    public void close() {
        server.close();
    }
}
