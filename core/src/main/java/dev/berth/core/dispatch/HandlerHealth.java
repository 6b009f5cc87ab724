package dev.berth.core.dispatch;

import dev.berth.core.util.NonBlocking;
import dev.berth.spi.BackendFeatures;
import dev.berth.spi.BackendHealth;
import java.time.Duration;
import java.time.Instant;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Each active handler's health: its backend's own {@code health()} checks, run on a timer and cached, so that
 * readers (the Status RPC, {@code berth plugins}, {@code berth doctor}) never start a check of their own. A
 * generation not checked yet (just created by a reload) is checked on first read.
 *
 * <p>It also keeps each active handler's {@link BackendFeatures}, asked once per generation with its first check:
 * a backend may find them out by running its runtime (the runc plugin runs {@code runc features}), which a Status
 * call should not wait for.
 */
public final class HandlerHealth implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(HandlerHealth.class.getName());
    /** How often the checks run when the config does not say. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(10);

    /** One cached result and when it was taken. */
    public record Result(BackendHealth health, Instant checkedAt) {}

    private final HandlerRegistry registry;
    private final Map<Handler, Result> cache = new IdentityHashMap<>();
    private final Map<Handler, BackendFeatures> features = new IdentityHashMap<>();
    private ScheduledExecutorService timer;

    public HandlerHealth(HandlerRegistry registry) {
        this.registry = registry;
    }

    /** Starts checking every {@code interval}, the first round at once. */
    public synchronized void start(Duration interval) {
        if (timer != null) {
            return;
        }
        timer = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("berth-health")
                .factory());
        long ms = Math.max(100, interval.toMillis());
        timer.scheduleWithFixedDelay(this::checkAll, 0, ms, TimeUnit.MILLISECONDS);
    }

    /** Checks every active handler now, and forgets the results of generations that are no longer active. */
    public void checkAll() {
        List<Handler> active = List.copyOf(registry.active().values());
        for (Handler h : active) {
            store(h, check(h));
            try {
                features(h);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "handler \"{0}\" could not tell its features: {1}", h.label(),
                        e.getMessage());
            }
        }
        synchronized (cache) {
            cache.keySet().removeIf(h -> active.stream().noneMatch(a -> a == h));
            features.keySet().removeIf(h -> active.stream().noneMatch(a -> a == h));
        }
    }

    /** {@code h}'s features, asked of its backend once. */
    public BackendFeatures features(Handler h) {
        synchronized (cache) {
            BackendFeatures f = features.get(h);
            if (f != null) {
                return f;
            }
        }
        NonBlocking.beforeBlocking(); // a backend may run its runtime to find out
        BackendFeatures f = h.backend().features();
        synchronized (cache) {
            features.put(h, f);
        }
        return f;
    }

    /** The cached health of {@code h}; checked now if it has none yet. */
    public Result health(Handler h) {
        synchronized (cache) {
            Result r = cache.get(h);
            if (r != null) {
                return r;
            }
        }
        NonBlocking.beforeBlocking(); // a check may start a process
        Result r = check(h);
        store(h, r);
        return r;
    }

    /**
     * The health of {@code h} for work about to start on it: the cached result if ready, else checked again now (a
     * handler that just recovered is not refused on a stale answer).
     */
    public Result healthBeforeWork(Handler h) {
        Result r = health(h);
        if (r.health().ready()) {
            return r;
        }
        r = check(h);
        store(h, r);
        return r;
    }

    /** The failed checks of {@code health}, as one line: "what (advice); what". */
    public static String failures(BackendHealth health) {
        return health.checks().stream().filter(c -> !c.ok())
                .map(c -> c.what() + (c.advice().isEmpty() ? "" : " (" + c.advice() + ")"))
                .collect(java.util.stream.Collectors.joining("; "));
    }

    /** Rechecks at once in the background (after a reload), when the timer runs. */
    public synchronized void refresh() {
        if (timer != null) {
            timer.execute(this::checkAll);
        }
    }

    private void store(Handler h, Result r) {
        synchronized (cache) {
            cache.put(h, r);
        }
    }

    private static Result check(Handler h) {
        BackendHealth health;
        try {
            health = h.backend().health();
            if (health == null) {
                health = BackendHealth.of(List.of(new BackendHealth.Check(false, "health check",
                        "the backend returned no health")));
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "health check of handler \"{0}\" failed: {1}", h.label(),
                    e.getMessage());
            health = BackendHealth.of(List.of(new BackendHealth.Check(false, "health check",
                    "the check itself failed: " + e.getMessage())));
        }
        return new Result(health, Instant.now());
    }

    @Override
    public synchronized void close() {
        if (timer != null) {
            timer.shutdownNow();
            timer = null;
        }
    }
}
