package dev.berth.core.network;

/**
 * The CRI {@code NetworkReady} condition as berth sees it.
 *
 * @param ready   whether pods can get a network now
 * @param reason  a CamelCase reason when not ready ({@code NetworkPluginNotReady}), empty when ready
 * @param message an operator-readable explanation when not ready, empty when ready
 */
public record NetworkReadiness(boolean ready, String reason, String message) {
    /** The reason CRI runtimes report while the network plugin cannot be used. */
    public static final String NOT_READY_REASON = "NetworkPluginNotReady";

    public NetworkReadiness {
        reason = reason == null ? "" : reason;
        message = message == null ? "" : message;
    }

    static NetworkReadiness isReady() {
        return new NetworkReadiness(true, "", "");
    }

    static NetworkReadiness notReady(String message) {
        return new NetworkReadiness(false, NOT_READY_REASON, message);
    }
}
