package dev.berth.spi;

import java.util.Map;
import org.pf4j.ExtensionPoint;

/**
 * The extension point a plugin implements, once per backend <em>type</em> it provides (e.g. {@code runc}).
 * Handler names come from the operator's config, so one type serves many handlers: {@code runc} and
 * {@code crun} are both handlers of type {@code runc} with different options.
 *
 * <p>Instances are cheap and stateless; core calls {@link #create} once per generation of a configured handler
 * (at startup, and on a config reload that adds the handler or changes its options) and caches the backend. Two
 * backends of one handler may be live at once, each with its own state directory; the older one is closed when
 * its pods are gone (see {@link BackendContext#stateDir()}).
 */
public interface RuntimeBackendFactory extends ExtensionPoint {

    /**
     * The backend type name operators write as {@code type = "..."}. Lower case, stable across releases; cheap and
     * constant. Throws nothing.
     */
    String type();

    /**
     * Creates the backend for one handler.
     *
     * <p>Validates {@code options} and throws {@link BackendException} of kind {@code INVALID_ARGUMENT} whose
     * message names the bad key, so that the daemon refuses to start (or a reload changes nothing) with a clear
     * reason. It must not start long-lived work that a failed validation would leak: on any failure it
     * releases what it acquired, and core neither uses nor closes the half-made backend. It checks no host
     * program (that is {@link RuntimeBackend#health()}'s job), so a handler whose runtime is missing still loads
     * and reports itself unhealthy.
     *
     * <p>Thread-safe: it may be called while backends it made earlier serve calls. Not idempotent: each call
     * makes a new backend, which core closes when it is done with it. {@code context.stateDir()} may hold the
     * state of a previous run with the same options (after a restart of berth); the backend takes it over, see
     * {@link Recoverable}.
     *
     * @param handlerName the handler name from config, e.g. {@code crun} or {@code kata-qemu}
     * @param options the handler's {@code [runtimes.NAME.options]} table: strings, numbers, booleans, lists
     *     and nested maps as parsed from TOML
     * @param context what core offers the backend
     * @throws BackendException {@code INVALID_ARGUMENT} for bad options; {@code UNAVAILABLE} if it cannot set
     *     itself up (its state directory, a socket it serves)
     */
    RuntimeBackend create(String handlerName, Map<String, Object> options, BackendContext context);
}
