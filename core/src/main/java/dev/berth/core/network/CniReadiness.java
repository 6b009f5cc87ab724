package dev.berth.core.network;

import dev.berth.core.network.CniPluginExecutor.CniPluginException;
import dev.berth.core.util.NonBlocking;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/** The pod network's readiness for the Status RPC, checked off the RPC path and kept ({@link PodNetworking#readiness}). */
final class CniReadiness {
    /** How old an answer may be before a check runs again (in the background). */
    static final Duration MAX_AGE = Duration.ofSeconds(5);

    private final CniConfigWatcher watcher;
    private final CniClient client;
    private final AtomicBoolean checking = new AtomicBoolean();
    private volatile Answer answer;

    CniReadiness(CniConfigWatcher watcher, CniClient client) {
        this.watcher = watcher;
        this.client = client;
    }

    /**
     * The CRI {@code NetworkReady} condition: not ready (reason {@code NetworkPluginNotReady}) while there is no usable
     * config, a plugin it names is missing from the bin dirs, or (spec 1.1 and later) a plugin's STATUS fails.
     *
     * <p>The answer is the last check's, so the Status RPC the kubelet polls never stats the bin dirs or starts a
     * plugin itself: a config change (the watcher loads a new one) is checked at once, and an answer older than
     * {@link #MAX_AGE} starts one check in the background while the caller gets the last answer.
     */
    NetworkReadiness get() {
        CniConfigWatcher.Loaded loaded = watcher.loaded();
        Answer last = answer;
        if (last == null || last.loaded() != loaded) {
            NonBlocking.beforeBlocking(); // the check looks for the plugins' files
            return check(loaded);
        }
        if (System.nanoTime() - last.checkedAt() > MAX_AGE.toNanos()
                && checking.compareAndSet(false, true)) {
            Thread.ofVirtual().name("cni-readiness").start(() -> {
                try {
                    check(watcher.loaded());
                } finally {
                    checking.set(false);
                }
            });
        }
        return last.readiness();
    }

    private NetworkReadiness check(CniConfigWatcher.Loaded loaded) {
        NetworkReadiness r = answerFor(loaded);
        answer = new Answer(loaded, r, System.nanoTime());
        return r;
    }

    private NetworkReadiness answerFor(CniConfigWatcher.Loaded loaded) {
        if (loaded.config() == null) {
            return NetworkReadiness.notReady(loaded.problem());
        }
        CniConfig config = loaded.config();
        for (String type : config.pluginTypes()) {
            if (client.executor().find(type).isEmpty()) {
                return NetworkReadiness.notReady("CNI plugin \"" + type + "\" of network \"" + config.name()
                        + "\" (" + config.source() + ") not found in [" + client.executor().binPath() + "]");
            }
        }
        try {
            client.status(config);
        } catch (CniPluginException e) {
            return NetworkReadiness.notReady("network \"" + config.name() + "\": " + e.getMessage());
        }
        return NetworkReadiness.isReady();
    }

    /** A readiness answer, the config it was checked against, and when ({@link System#nanoTime}). */
    private record Answer(CniConfigWatcher.Loaded loaded, NetworkReadiness readiness, long checkedAt) {}
}
