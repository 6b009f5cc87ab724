package dev.berth.core.cri;

import dev.berth.core.store.NameIndex;
import dev.berth.spi.BackendException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/**
 * The pods and containers whose creator gave up waiting, kept for its retry.
 *
 * <p>The kubelet gives each RunPodSandbox and CreateContainer a deadline (its runtime request timeout, 2 minutes by
 * default). When a step takes longer (a slow CNI plugin, a large image volume, a loaded node), the kubelet gives up
 * and later sends the same request again. berth does not undo a creation because its caller left: the work is
 * finished, so that the retry does not start the same slow steps over and run out of time again. When the retry
 * comes, it gets the id of what the earlier request made, instead of ALREADY_EXISTS for the name that creation
 * holds. A retry that comes while the earlier creation still runs waits for it, for as long as its own caller
 * waits.
 *
 * <p>Only an equal request is handed what an earlier one made, and only when that earlier request's caller had gone
 * by the time it finished: two callers that each wait for their answer never share an object, and a second
 * request for a name in use is ALREADY_EXISTS as before. What nobody asks for again is dropped from here after
 * {@link #KEEP}; the object itself stays listed, and the kubelet removes it as it removes any object it does not
 * know.
 */
public final class AbandonedCreates {
    /** How long a creation whose caller gave up waits here for a retry. */
    static final Duration KEEP = Duration.ofMinutes(10);

    private static final System.Logger LOG = System.getLogger(AbandonedCreates.class.getName());

    private final Map<String, Attempt> attempts = new ConcurrentHashMap<>();
    private final NameIndex names;
    private final Clock clock;

    public AbandonedCreates(NameIndex names) {
        this(names, Clock.systemUTC());
    }

    AbandonedCreates(NameIndex names, Clock clock) {
        this.names = names;
        this.clock = clock;
    }

    /** One creation under a reserved name: its request, and its id once it is made (null if it failed). */
    public static final class Attempt {
        private final String name;
        private final Object request;
        private final CompletableFuture<String> made = new CompletableFuture<>();
        private volatile boolean abandoned;
        private volatile Instant endedAt;

        private Attempt(String name, Object request) {
            this.name = name;
            this.request = request;
        }
    }

    /** What a creation's request gets for its name. */
    public sealed interface Reservation {}

    /** The name is reserved for the new object; {@link #made} or {@link #failed} ends the attempt. */
    public record Reserved(Attempt attempt) implements Reservation {}

    /**
     * Reserves {@code name} for the new object {@code id} of {@code request}, or hands over what an earlier equal
     * request made whose caller gave up ({@link HandedOver}, a {@link Reservation} then).
     *
     * @param kind what is named, for the error: "pod sandbox" or "container"
     * @throws BackendException ALREADY_EXISTS naming the object that holds the name
     */
    public Reservation reserve(String name, String id, Object request, RpcContext ctx, String kind) {
        String holder = names.reserve(name, id);
        if (holder != null) {
            Earlier earlier = earlier(name, holder, request, ctx::callerGone);
            if (earlier instanceof HandedOver handedOver) {
                LOG.log(System.Logger.Level.INFO, "{0} {1} ({2}) is the answer to a retry: the caller of the request "
                        + "that made it had given up", kind, handedOver.id(), name);
                return handedOver;
            }
            holder = earlier instanceof Failed ? names.reserve(name, id) : holder;
            if (holder != null) {
                throw new BackendException(BackendException.Kind.ALREADY_EXISTS, kind + " name \"" + name
                        + "\" is already used by " + kind + " \"" + holder + "\"");
            }
        }
        return new Reserved(begin(name, request));
    }

    /** What a request that found its name held gets. */
    public sealed interface Earlier {}

    /** The earlier creation of the same request, whose caller gave up: its id is the answer. */
    public record HandedOver(String id) implements Earlier, Reservation {}

    /** The earlier creation of the same request failed and was undone; the name is free to reserve again. */
    public record Failed() implements Earlier {}

    /** Nothing to hand over: the name is in use (ALREADY_EXISTS). */
    public record InUse() implements Earlier {}

    /** Tracks the creation that has just reserved {@code name} for {@code request} (a protobuf message). */
    Attempt begin(String name, Object request) {
        Instant now = clock.instant();
        attempts.values().removeIf(a -> a.endedAt != null && now.isAfter(a.endedAt.plus(KEEP)));
        Attempt a = new Attempt(name, request);
        attempts.put(name, a);
        return a;
    }

    /** The creation made {@code id}; it is kept for a retry if its caller is gone by now. */
    public void made(Attempt a, String id, boolean callerGone) {
        a.abandoned = callerGone;
        a.endedAt = clock.instant();
        if (!callerGone) {
            attempts.remove(a.name, a);
        }
        a.made.complete(id);
    }

    /** The creation failed and was undone, its name released. */
    public void failed(Attempt a) {
        attempts.remove(a.name, a);
        a.made.complete(null);
    }

    /**
     * For {@code request}, which found {@code name} held by {@code holder}: the earlier creation of an equal
     * request, waited for while it runs and {@code callerGone} is false. An object is handed over once.
     */
    Earlier earlier(String name, String holder, Object request, BooleanSupplier callerGone) {
        Attempt a = attempts.get(name);
        if (a == null || !a.request.equals(request)) {
            return new InUse();
        }
        String id = await(a, callerGone);
        if (id == null) {
            return a.made.isDone() ? new Failed() : new InUse();
        }
        if (!a.abandoned || !id.equals(holder) || !attempts.remove(name, a)) {
            return new InUse();
        }
        return new HandedOver(id);
    }

    /** The attempt's id once it ended, or null if it failed or the waiting caller gave up first. */
    private static String await(Attempt a, BooleanSupplier callerGone) {
        while (true) {
            try {
                return a.made.get(200, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                if (callerGone.getAsBoolean()) {
                    return null;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            } catch (ExecutionException e) {
                return null; // never completed exceptionally
            }
        }
    }

    /** How many creations are tracked (running, or kept for a retry); for tests. */
    int size() {
        return attempts.size();
    }
}
