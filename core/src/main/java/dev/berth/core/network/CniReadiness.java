package dev.berth.core.network;

import dev.berth.core.network.CniPluginExecutor.CniPluginException;
import dev.berth.core.util.NonBlocking;
import java.time.Duration;

/** The pod network's readiness for the Status RPC, checked off the RPC path and kept ({@link PodNetworking#readiness}). */
final class CniReadiness {
    /** How often the answer is checked again, in the background (the kubelet asks for Status every 5 s). */
    static final Duration MAX_AGE = Duration.ofSeconds(5);
    private static final System.Logger LOG = System.getLogger(CniReadiness.class.getName());

    private final CniConfigWatcher watcher;
    private final CniClient client;
    private final Thread refresher;
    private volatile Answer answer;

    CniReadiness(CniConfigWatcher watcher, CniClient client) {
        this.watcher = watcher;
        this.client = client;
        this.refresher = Thread.ofVirtual().name("berth-cni-readiness").unstarted(this::refreshEvery);
    }

    /** Starts the background checks, every {@link #MAX_AGE}. */
    void start() {
        refresher.start();
    }

    /** Stops the background checks. */
    void close() {
        refresher.interrupt();
    }

    /**
     * Checks again every {@link #MAX_AGE}, on a thread of its own: a Status call neither waits for a check nor
     * starts one (starting a thread and checking beside the call made the call about 1.5 ms slower on two cores).
     */
    private void refreshEvery() {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                Thread.sleep(MAX_AGE);
            } catch (InterruptedException e) {
                return;
            }
            try {
                check(watcher.loaded());
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "pod network readiness not checked: " + e);
            }
        }
    }

    /**
     * The CRI {@code NetworkReady} condition: not ready (reason {@code NetworkPluginNotReady}) while there is no usable
     * config, a plugin it names is missing from the bin dirs, or (spec 1.1 and later) a plugin's STATUS fails.
     *
     * <p>The answer is the last check's, so the Status RPC the kubelet polls never stats the bin dirs or starts a
     * plugin itself: a config change (the watcher loads a new one) is checked at once, and the answer is checked
     * again in the background every {@link #MAX_AGE} ({@link #start}).
     */
    NetworkReadiness get() {
        CniConfigWatcher.Loaded loaded = watcher.loaded();
        Answer last = answer;
        if (last == null || last.loaded() != loaded) {
            NonBlocking.beforeBlocking(); // the check looks for the plugins' files
            return check(loaded);
        }
        return last.readiness();
    }

    private NetworkReadiness check(CniConfigWatcher.Loaded loaded) {
        NetworkReadiness r = answerFor(loaded);
        answer = new Answer(loaded, r);
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

    /** A readiness answer and the config it was checked against. */
    private record Answer(CniConfigWatcher.Loaded loaded, NetworkReadiness readiness) {}
}
