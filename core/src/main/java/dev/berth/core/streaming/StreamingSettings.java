package dev.berth.core.streaming;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of the streaming server that serves exec, attach and port-forward sessions.
 *
 * @param address          the address to bind; {@code 127.0.0.1} by default
 * @param port             the TCP port; {@code 0} picks a free one
 * @param tlsCert          PEM certificate chain; with {@code tlsKey} the server speaks TLS only, null for plain HTTP
 * @param tlsKey           PEM private key (PKCS#8) for {@code tlsCert}
 * @param tokenTtl         how long an unused session URL stays valid
 * @param idleTimeout      a session with no traffic in either direction for this long is closed
 * @param maxBufferedBytes how many bytes one connection may hold in flight towards a client before the backend's
 *                         writes block, and how many bytes of client input it queues before it stops reading
 */
public record StreamingSettings(String address, int port, Path tlsCert, Path tlsKey, Duration tokenTtl,
                                Duration idleTimeout, int maxBufferedBytes) {

    public static final String DEFAULT_ADDRESS = "127.0.0.1";
    public static final Duration DEFAULT_TOKEN_TTL = Duration.ofMinutes(1);
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofHours(4);
    public static final int DEFAULT_MAX_BUFFERED_BYTES = 256 * 1024;

    public StreamingSettings {
        address = address == null || address.isBlank() ? DEFAULT_ADDRESS : address;
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("streaming port " + port + " is out of range");
        }
        if ((tlsCert == null) != (tlsKey == null)) {
            throw new IllegalArgumentException("streaming TLS needs both a certificate and a key");
        }
        tokenTtl = positive(tokenTtl, DEFAULT_TOKEN_TTL, "token TTL");
        idleTimeout = positive(idleTimeout, DEFAULT_IDLE_TIMEOUT, "idle timeout");
        if (maxBufferedBytes == 0) {
            maxBufferedBytes = DEFAULT_MAX_BUFFERED_BYTES;
        }
        if (maxBufferedBytes < 16 * 1024) {
            throw new IllegalArgumentException("streaming buffer of " + maxBufferedBytes + " bytes is below 16 KiB");
        }
    }

    /** Localhost, a random port, no TLS, and the defaults above. */
    public static StreamingSettings defaults() {
        return new StreamingSettings(DEFAULT_ADDRESS, 0, null, null, null, null, 0);
    }

    public StreamingSettings withTokenTtl(Duration ttl) {
        return new StreamingSettings(address, port, tlsCert, tlsKey, Objects.requireNonNull(ttl), idleTimeout,
                maxBufferedBytes);
    }

    public StreamingSettings withIdleTimeout(Duration idle) {
        return new StreamingSettings(address, port, tlsCert, tlsKey, tokenTtl, Objects.requireNonNull(idle),
                maxBufferedBytes);
    }

    public StreamingSettings withMaxBufferedBytes(int bytes) {
        return new StreamingSettings(address, port, tlsCert, tlsKey, tokenTtl, idleTimeout, bytes);
    }

    public StreamingSettings withTls(Path cert, Path key) {
        return new StreamingSettings(address, port, cert, key, tokenTtl, idleTimeout, maxBufferedBytes);
    }

    public boolean tls() {
        return tlsCert != null;
    }

    private static Duration positive(Duration value, Duration fallback, String what) {
        if (value == null) {
            return fallback;
        }
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException("streaming " + what + " must be positive, not " + value);
        }
        return value;
    }
}
