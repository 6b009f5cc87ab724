package dev.berth.core.streaming;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Base64;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Single-use, expiring tokens for session URLs. A token is 32 random bytes, so it cannot be guessed; it is
 * removed when it is used or when it expires, whichever comes first.
 */
final class TokenRegistry {

    /** At most this many unused tokens; more means a client asks for URLs it never opens. */
    static final int MAX_PENDING = 4096;

    private record Entry(StreamRequest request, Instant expires) {}

    private final SecureRandom random = new SecureRandom();
    private final Map<String, Entry> pending = new ConcurrentHashMap<>();
    private final InstantSource clock;
    private final Duration ttl;

    TokenRegistry(InstantSource clock, Duration ttl) {
        this.clock = clock;
        this.ttl = ttl;
    }

    String issue(StreamRequest request) {
        if (pending.size() >= MAX_PENDING) {
            purgeExpired();
            if (pending.size() >= MAX_PENDING) {
                throw new IllegalStateException("too many unused streaming sessions (" + MAX_PENDING + ")");
            }
        }
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        pending.put(token, new Entry(request, clock.instant().plus(ttl)));
        return token;
    }

    /**
     * Takes the request for {@code token} if it exists, is unexpired and is of {@code kind}. A token of another
     * kind is left alone, so probing paths cannot burn someone else's session.
     */
    Optional<StreamRequest> consume(String kind, String token) {
        Entry[] taken = new Entry[1];
        pending.computeIfPresent(token, (key, entry) -> {
            if (!entry.request().kind().equals(kind) && !expired(entry)) {
                return entry;
            }
            taken[0] = entry;
            return null;
        });
        Entry entry = taken[0];
        if (entry == null || expired(entry) || !entry.request().kind().equals(kind)) {
            return Optional.empty();
        }
        return Optional.of(entry.request());
    }

    void purgeExpired() {
        for (Iterator<Entry> it = pending.values().iterator(); it.hasNext(); ) {
            if (expired(it.next())) {
                it.remove();
            }
        }
    }

    int size() {
        return pending.size();
    }

    private boolean expired(Entry entry) {
        return !clock.instant().isBefore(entry.expires());
    }
}
