package dev.berth.core.streaming;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/** Names and messages of the Kubernetes streaming protocols (remotecommand and port-forward). */
final class KubeProtocol {

    private KubeProtocol() {}

    static final String HEADER_PROTOCOL_VERSION = "X-Stream-Protocol-Version";
    static final String SPDY_UPGRADE = "SPDY/3.1";
    static final String HEADER_STREAM_TYPE = "streamtype";
    static final String HEADER_PORT = "port";
    static final String HEADER_REQUEST_ID = "requestid";

    static final String STREAM_ERROR = "error";
    static final String STREAM_STDIN = "stdin";
    static final String STREAM_STDOUT = "stdout";
    static final String STREAM_STDERR = "stderr";
    static final String STREAM_RESIZE = "resize";
    static final String STREAM_DATA = "data";

    /** Channel numbers of the remotecommand protocols; SPDY stream types map onto them. */
    static final int CH_STDIN = 0;
    static final int CH_STDOUT = 1;
    static final int CH_STDERR = 2;
    static final int CH_ERROR = 3;
    static final int CH_RESIZE = 4;
    /** WebSocket v5: {@code [255, channel]} half-closes a channel. */
    static final int CH_CLOSE = 255;

    static final String PORT_FORWARD = "portforward.k8s.io";
    static final String WS_V1 = "channel.k8s.io";
    static final String WS_V4 = "v4.channel.k8s.io";
    static final String WS_V5 = "v5.channel.k8s.io";

    /** The remotecommand protocol versions, newest first (the server's preference). */
    enum Version {
        V5("v5.channel.k8s.io"), V4("v4.channel.k8s.io"), V3("v3.channel.k8s.io"), V2("v2.channel.k8s.io"),
        V1("channel.k8s.io");

        final String id;

        Version(String id) {
            this.id = id;
        }

        boolean atLeast(Version other) {
            return ordinal() <= other.ordinal();
        }

        static Optional<Version> of(String id) {
            for (Version v : values()) {
                if (v.id.equals(id)) {
                    return Optional.of(v);
                }
            }
            return Optional.empty();
        }
    }

    static int channelOf(String streamType) {
        return switch (streamType == null ? "" : streamType) {
            case STREAM_STDIN -> CH_STDIN;
            case STREAM_STDOUT -> CH_STDOUT;
            case STREAM_STDERR -> CH_STDERR;
            case STREAM_ERROR -> CH_ERROR;
            case STREAM_RESIZE -> CH_RESIZE;
            default -> -1;
        };
    }

    /**
     * Picks the first of the client's protocols (in its order) that the server supports, as Kubernetes does.
     * Header values may hold several comma-separated protocols.
     */
    static Optional<String> negotiate(List<String> clientHeaderValues, List<String> supported) {
        for (String value : clientHeaderValues) {
            for (String p : value.split(",")) {
                String candidate = p.trim();
                if (supported.contains(candidate)) {
                    return Optional.of(candidate);
                }
            }
        }
        return Optional.empty();
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The v4+ error-stream message for a command that ended with {@code exitCode}. */
    static byte[] exitStatus(int exitCode, List<String> command) {
        ObjectNode status = JSON.createObjectNode();
        status.putObject("metadata");
        if (exitCode == 0) {
            status.put("status", "Success");
        } else {
            status.put("status", "Failure");
            status.put("message", "command terminated with non-zero exit code: exit status " + exitCode);
            status.put("reason", "NonZeroExitCode");
            ArrayNode causes = status.putObject("details").putArray("causes");
            causes.addObject().put("reason", "ExitCode").put("message", Integer.toString(exitCode));
        }
        return bytes(status);
    }

    /** The v4+ error-stream message for a session that failed. */
    static byte[] failureStatus(String message) {
        ObjectNode status = JSON.createObjectNode();
        status.putObject("metadata");
        status.put("status", "Failure");
        status.put("message", message);
        status.put("reason", "InternalError");
        status.put("code", 500);
        status.putObject("details").putArray("causes").addObject().put("message", message);
        return bytes(status);
    }

    /** The v1–v3 error-stream message: plain text, empty on success. */
    static byte[] legacyExitMessage(int exitCode) {
        return exitCode == 0 ? new byte[0]
                : ("command terminated with non-zero exit code: exit status " + exitCode)
                        .getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] bytes(ObjectNode node) {
        try {
            return JSON.writeValueAsBytes(node);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot encode a status", e);
        }
    }
}
