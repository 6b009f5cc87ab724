package dev.berth.core.network;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.core.tracing.Tracing;
import dev.berth.core.network.CniClient.Attachment;
import dev.berth.core.network.CniPluginExecutor.CniPluginException;
import dev.berth.core.network.NetworkStateStore.Phase;
import dev.berth.core.network.NetworkStateStore.PodNetworkState;
import dev.berth.spi.BackendException;
import dev.berth.spi.DnsConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;

/**
 * Pod networking through CNI: one network namespace per pod, pinned under the state dir, set up by the plugin list of
 * the first config file in the CNI conf dir.
 *
 * <p>Lifecycle of a pod's network:
 * <ol>
 *   <li>{@link #setUp} persists a record, creates and pins the netns (loopback up), and runs CNI ADD. If anything
 *       fails it rolls back (CNI DEL, unpin, forget) and throws; nothing is left unless the rollback itself failed,
 *       in which case the record stays so that a later {@link #tearDown} retries.</li>
 *   <li>{@link #tearDown} runs CNI DEL with the config, arguments and result persisted at setup (so it works after a
 *       berth restart or {@code kill -9}, and after the conf dir changed), then unpins the netns and forgets the
 *       pod. It is idempotent: an unknown pod is a no-op, as CRI expects of Stop and Remove.</li>
 * </ol>
 *
 * <p>Thread-safety: all methods may be called concurrently from any thread; calls for the same sandbox id are
 * serialised. Errors are {@link BackendException}s: UNAVAILABLE when there is no usable config or a plugin fails
 * (the message carries the plugin's own), DEADLINE_EXCEEDED when a plugin outlives the timeout and is killed,
 * INVALID_ARGUMENT for a bad id or annotation, INTERNAL when a namespace system call or the state store fails.
 *
 * <p>The JVM needs {@code --enable-native-access=ALL-UNNAMED} (namespaces use {@code java.lang.foreign}) and must
 * run as root (CAP_SYS_ADMIN and CAP_NET_ADMIN).
 */
public final class PodNetworking implements AutoCloseable {
    /** The pod's interface name inside its netns. */
    public static final String INTERFACE_NAME = "eth0";
    /** The file name {@link #installDefaultConfig} writes. */
    public static final String DEFAULT_CONFIG_NAME = "10-berth-bridge.conflist";

    private static final System.Logger LOG = System.getLogger(PodNetworking.class.getName());
    private static final Pattern SANDBOX_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
    private static final int LOCK_STRIPES = 64;

    private final NetworkSettings settings;
    private final CniConfigWatcher watcher;
    private final CniClient client;
    private final NetworkStateStore store;
    private final ReentrantLock[] locks = new ReentrantLock[LOCK_STRIPES];
    private volatile String podCidr = "";
    private final CniReadiness readiness;
    private final dev.berth.core.metrics.Metrics metrics;

    /** Creates the state dirs and starts watching the CNI conf dir (which need not exist yet). */
    public PodNetworking(NetworkSettings settings) {
        this(settings, dev.berth.core.metrics.Metrics.disabled());
    }

    /** With each CNI ADD and DEL timed, and its failures counted, in {@code metrics}. */
    public PodNetworking(NetworkSettings settings, dev.berth.core.metrics.Metrics metrics) {
        this.settings = settings;
        this.metrics = metrics;
        try {
            Files.createDirectories(settings.netnsDir());
            Files.createDirectories(settings.cniStateDir());
        } catch (IOException e) {
            throw BackendException.internal("failed to create network state dir " + settings.stateDir() + ": "
                    + e.getMessage(), e);
        }
        for (int i = 0; i < locks.length; i++) {
            locks[i] = new ReentrantLock();
        }
        this.store = new NetworkStateStore(settings.cniStateDir());
        this.client = new CniClient(new CniPluginExecutor(settings.cniBinDirs(), settings.pluginTimeout()));
        this.watcher = new CniConfigWatcher(settings.cniConfDir());
        this.readiness = new CniReadiness(watcher, client);
        readiness.start();
    }

    public NetworkSettings settings() {
        return settings;
    }

    /**
     * The CRI {@code NetworkReady} condition ({@link CniReadiness}): the last check's answer, so the Status RPC the
     * kubelet polls never stats the bin dirs or starts a plugin itself.
     */
    public NetworkReadiness readiness() {
        return readiness.get();
    }

    /**
     * Sets up the network of a pod: pins a new netns at {@code <stateDir>/netns/<sandboxId>} with loopback up and runs
     * CNI ADD for interface {@value #INTERFACE_NAME}. Calling it again for a pod that is already set up returns the
     * existing network; leftovers of an interrupted earlier attempt are torn down first.
     */
    public PodNetwork setUp(PodNetworkRequest request) {
        createNamespace(request);
        return connect(request.sandboxId());
    }

    /**
     * The first half of {@link #setUp}: persists the pod's record (config, CNI args and capability args as they are
     * now) and creates and pins its network namespace, loopback up. Cheap: no plugin runs. A backend can create
     * its sandbox in the namespace while {@link #connect} runs the plugins. Returns the pinned namespace.
     */
    public Path createNamespace(PodNetworkRequest request) {
        String id = checkId(request.sandboxId());
        ReentrantLock lock = lockFor(id);
        lock.lock();
        try {
            Path pin = pin(id);
            Optional<PodNetworkState> existing = store.read(id);
            if (existing.isPresent() && existing.get().phase() == Phase.READY && NetworkNamespaces.isPinned(pin)) {
                return pin;
            }
            if (existing.isPresent() || Files.exists(pin)) {
                tearDownLocked(id);
            }
            CniConfigWatcher.Loaded loaded = watcher.loaded();
            if (loaded.config() == null) {
                throw new BackendException(BackendException.Kind.UNAVAILABLE,
                        "failed to set up pod network \"" + id + "\": " + loaded.problem());
            }
            CniConfig config = loaded.config();
            ObjectNode runtimeConfig = CapabilityArgs.runtimeConfig(request, podCidr);
            String cniArgs = CapabilityArgs.cniArgs(request);
            PodNetworkState state = new PodNetworkState(id, Phase.SETTING_UP, pin.toString(), INTERFACE_NAME,
                    cniArgs, config.source().toString(), config.json(), runtimeConfig, null);
            store.write(state);
            try {
                NetworkNamespaces.create(pin);
            } catch (BackendException e) {
                store.delete(id);
                throw new BackendException(BackendException.Kind.INTERNAL,
                        "failed to set up pod network \"" + id + "\": " + e.getMessage(), e);
            }
            return pin;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The second half of {@link #setUp}: runs CNI ADD in the namespace {@link #createNamespace} pinned, with the
     * config and arguments persisted there. If a plugin fails it rolls back the whole pod network (CNI DEL, unpin,
     * forget) and throws. A pod that is set up already is returned as it is.
     */
    public PodNetwork connect(String sandboxId) {
        String id = checkId(sandboxId);
        ReentrantLock lock = lockFor(id);
        lock.lock();
        try {
            Path pin = pin(id);
            PodNetworkState state = store.read(id).orElseThrow(() -> new BackendException(
                    BackendException.Kind.FAILED_PRECONDITION, "failed to set up pod network \"" + id
                    + "\": its network namespace was not created or is already torn down"));
            if (state.phase() == Phase.READY) {
                return toPodNetwork(state);
            }
            CniConfig config;
            try {
                config = CniConfig.fromPersisted(Path.of(state.configSource()), state.config());
            } catch (CniConfig.InvalidConfigException e) {
                String cleanup = rollback(id);
                throw new BackendException(BackendException.Kind.INTERNAL,
                        "failed to set up pod network \"" + id + "\": " + e.getMessage() + cleanup);
            }
            ObjectNode runtimeConfig = state.runtimeArgs();
            Attachment attachment = new Attachment(id, pin.toString(), state.ifName(), state.cniArgs());
            ObjectNode result;
            try {
                result = cniAdd(config, attachment, runtimeConfig);
            } catch (CniPluginException e) {
                String cleanup = rollback(id);
                throw pluginFailure("set up", id, config, e, cleanup);
            }
            PodNetworkState ready = state.withResult(result);
            try {
                store.write(ready);
            } catch (BackendException e) {
                String cleanup = rollback(id);
                throw new BackendException(e.kind(), e.getMessage() + cleanup, e);
            }
            PodNetwork network = toPodNetwork(ready);
            LOG.log(System.Logger.Level.DEBUG, "pod network \"{0}\" set up: ip {1} netns {2}", id, network.ip(), pin);
            return network;
        } finally {
            lock.unlock();
        }
    }

    private ObjectNode cniAdd(CniConfig config, Attachment attachment, ObjectNode runtimeConfig)
            throws CniPluginException {
        long start = System.nanoTime();
        boolean failed = true;
        try (var span = Tracing.child("cni add").attr("berth.network", config.name())) {
            try {
                ObjectNode result = client.add(config, attachment, runtimeConfig);
                failed = false;
                return result;
            } catch (CniPluginException e) {
                throw span.fail(e);
            } catch (RuntimeException e) {
                throw span.fail(e);
            }
        } finally {
            metrics.cni("add", config.name(), failed, System.nanoTime() - start);
        }
    }

    private void cniDel(CniConfig config, Attachment attachment, ObjectNode runtimeConfig, JsonNode cached)
            throws CniPluginException {
        long start = System.nanoTime();
        boolean failed = true;
        try (var span = Tracing.child("cni del").attr("berth.network", config.name())) {
            try {
                client.del(config, attachment, runtimeConfig, cached);
                failed = false;
            } catch (CniPluginException e) {
                throw span.fail(e);
            } catch (RuntimeException e) {
                throw span.fail(e);
            }
        } finally {
            metrics.cni("del", config.name(), failed, System.nanoTime() - start);
        }
    }

    /** Undoes a failed setup; returns "" or a note on what could not be undone, to append to the error. */
    private String rollback(String id) {
        try {
            tearDownLocked(id);
            return "";
        } catch (BackendException e) {
            LOG.log(System.Logger.Level.WARNING, "rollback of pod network \"{0}\" failed: {1}", id, e.getMessage());
            return " (cleanup failed, kept for a later teardown: " + e.getMessage() + ")";
        }
    }

    /**
     * Tears down a pod's network: CNI DEL with what was persisted at setup, unpin and delete the netns, forget the
     * pod. Idempotent; an unknown id is a no-op. If DEL fails the pod is kept, so a later call retries.
     */
    public void tearDown(String sandboxId) {
        String id = checkId(sandboxId);
        ReentrantLock lock = lockFor(id);
        lock.lock();
        try {
            tearDownLocked(id);
        } finally {
            lock.unlock();
        }
    }

    private void tearDownLocked(String id) {
        Path pin = pin(id);
        Optional<PodNetworkState> state = store.read(id);
        if (state.isPresent()) {
            PodNetworkState s = state.get();
            CniConfig config;
            try {
                config = CniConfig.fromPersisted(Path.of(s.configSource()), s.config());
            } catch (CniConfig.InvalidConfigException | RuntimeException e) {
                config = null;
                LOG.log(System.Logger.Level.WARNING, "pod network \"{0}\": persisted config unusable, skipping CNI DEL: "
                        + "{1}", id, e.getMessage());
            }
            if (config != null) {
                if (Files.exists(pin) && !NetworkNamespaces.isPinned(pin)) {
                    // A plain file would make plugins fail with "not a network namespace"; a missing path is the
                    // case they treat as "already gone" and still release addresses and rules.
                    NetworkNamespaces.remove(pin);
                }
                Attachment attachment = new Attachment(id, pin.toString(), s.ifName(), s.cniArgs());
                ObjectNode runtimeConfig = s.runtimeArgs();
                try {
                    cniDel(config, attachment, runtimeConfig, s.result());
                } catch (CniPluginException e) {
                    if (s.phase() == Phase.READY || e.timedOut()) {
                        throw pluginFailure("tear down", id, config, e, "");
                    }
                    delUnfinished(id, pin, config, attachment, runtimeConfig, e);
                }
            }
        }
        try {
            NetworkNamespaces.remove(pin);
        } catch (BackendException e) {
            throw new BackendException(BackendException.Kind.INTERNAL,
                    "failed to tear down pod network \"" + id + "\": " + e.getMessage(), e);
        }
        store.delete(id);
    }

    /**
     * DEL failed for a pod whose ADD never completed. Plugins may refuse to delete what they never created (bridge
     * 1.1.1 with iptables-nft fails to remove a masquerade chain that ADD did not get to make), or refuse the config
     * for DEL as they did for ADD. Retry with the netns gone, which plugins treat as "already torn down" while still
     * releasing their address allocations. If that fails too (other than by timeout), give up and forget the pod:
     * retrying a DEL that can never succeed would block RemovePodSandbox forever.
     */
    private void delUnfinished(String id, Path pin, CniConfig config, Attachment attachment,
                               ObjectNode runtimeConfig, CniPluginException first) {
        NetworkNamespaces.remove(pin);
        try {
            cniDel(config, attachment, runtimeConfig, null);
        } catch (CniPluginException e) {
            if (e.timedOut()) {
                throw pluginFailure("tear down", id, config, e, "");
            }
            LOG.log(System.Logger.Level.WARNING, "pod network \"{0}\" never finished setting up and CNI DEL keeps "
                    + "failing; forgetting it: {1}; without netns: {2}", id, first.getMessage(), e.getMessage());
        }
    }

    /** The network of a pod that is set up, from the persisted state (so also after a restart). */
    public Optional<PodNetwork> find(String sandboxId) {
        String id = checkId(sandboxId);
        return store.read(id).filter(s -> s.phase() == Phase.READY).map(this::toPodNetwork);
    }

    /**
     * Runs CNI CHECK for a pod that is set up (spec 0.4.0 and later, unless the config disables it). Throws
     * NOT_FOUND for an unknown pod, UNAVAILABLE when a plugin reports a problem. Beware: portmap 1.1.1 (Debian 12)
     * fails CHECK for every IPv4-only pod with port mappings ("could not check ipv6 dnat", containernetworking/plugins
     * issue 819), so do not turn a CHECK failure into a pod failure on such hosts.
     */
    public void check(String sandboxId) {
        String id = checkId(sandboxId);
        PodNetworkState s = store.read(id).filter(x -> x.phase() == Phase.READY)
                .orElseThrow(() -> BackendException.notFound("pod network", id));
        try {
            CniConfig config = CniConfig.fromPersisted(Path.of(s.configSource()), s.config());
            ObjectNode runtimeConfig = s.runtimeArgs();
            client.check(config, new Attachment(id, s.netnsPath(), s.ifName(), s.cniArgs()), runtimeConfig,
                    s.result());
        } catch (CniConfig.InvalidConfigException e) {
            throw new BackendException(BackendException.Kind.INTERNAL,
                    "failed to check pod network \"" + id + "\": " + e.getMessage());
        } catch (CniPluginException e) {
            throw pluginFailure("check", id, null, e, "");
        }
    }

    /**
     * The ids of all pods with network state, including half set-up ones; after a restart, core tears down those it
     * no longer knows.
     */
    public Set<String> sandboxIds() {
        return store.ids();
    }

    /**
     * Sets the node's pod CIDR (CRI {@code UpdateRuntimeConfig}); pods set up afterwards pass it to plugins that
     * declare the {@code ipRanges} capability. Several CIDRs (dual stack) may be given comma-separated. Empty clears.
     */
    public void updatePodCidr(String cidr) {
        String value = cidr == null ? "" : cidr.strip();
        for (String part : value.split(",")) {
            if (!part.isBlank() && !part.strip().matches("[0-9A-Fa-f.:]+/[0-9]{1,3}")) {
                throw BackendException.invalid("invalid pod CIDR \"" + value + "\"");
            }
        }
        if (!value.equals(podCidr)) {
            LOG.log(System.Logger.Level.INFO, "pod CIDR is now \"{0}\"", value);
        }
        podCidr = value;
    }

    /** The pod CIDR last given to {@link #updatePodCidr}, or empty. */
    public String podCidr() {
        return podCidr;
    }

    /**
     * Human-readable checks of the network setup, one per line, each starting with {@code ok:} or {@code problem:}
     * (for {@code berth doctor}).
     */
    public List<String> doctor() {
        return NetworkDoctor.check(settings, watcher.reload(), client.executor(), store.ids().size());
    }

    /**
     * Installs berth's default bridge conflist ({@value #DEFAULT_CONFIG_NAME}: bridge {@code berth0},
     * 10.88.0.0/16 with host-local IPAM, gateway, masquerade, portmap) into {@code confDir}, but only if the dir has no
     * config file yet. Returns whether it wrote the file.
     */
    public static boolean installDefaultConfig(Path confDir) {
        if (CniConfig.firstConfigFile(confDir).isPresent()) {
            return false;
        }
        try (InputStream in = PodNetworking.class.getResourceAsStream(DEFAULT_CONFIG_NAME)) {
            if (in == null) {
                throw BackendException.internal("default CNI config resource is missing", null);
            }
            PodFiles.write(confDir.resolve(DEFAULT_CONFIG_NAME),
                    new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
            return true;
        } catch (IOException e) {
            throw BackendException.internal("failed to install default CNI config into " + confDir + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * Writes a pod's resolv.conf: {@code search}, {@code nameserver} and {@code options} lines from {@code dns}, or a
     * copy of the host's /etc/resolv.conf when {@code dns} is empty (as containerd does).
     */
    public static void writeResolvConf(Path file, DnsConfig dns) {
        PodFiles.writeResolvConf(file, dns, PodFiles.HOST_RESOLV_CONF);
    }

    /** Writes a pod's /etc/hosts: the localhost lines, then each pod IP with {@code hostname}. */
    public static void writeHosts(Path file, String hostname, List<String> podIps) {
        PodFiles.write(file, PodFiles.hosts(hostname, podIps == null ? List.of() : podIps));
    }

    /**
     * Rewrites an existing /etc/hosts of a pod in place, keeping its inode. Containers bind-mount the file; when CNI
     * finishes while the runtime is mounting it, a rename would swap the inode under the mount, and runc refuses
     * a source that was deleted meanwhile. Written in place, every mount sees the new content too.
     */
    public static void rewriteHosts(Path file, String hostname, List<String> podIps) {
        try {
            Files.writeString(file, PodFiles.hosts(hostname, podIps == null ? List.of() : podIps),
                    java.nio.charset.StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.WRITE,
                    java.nio.file.StandardOpenOption.TRUNCATE_EXISTING);
        } catch (java.io.IOException e) {
            throw BackendException.internal("failed to write " + file + ": " + e.getMessage(), e);
        }
    }

    /** Writes a pod's /etc/hostname. */
    public static void writeHostname(Path file, String hostname) {
        PodFiles.write(file, (hostname == null ? "" : hostname.strip()) + "\n");
    }

    /**
     * Stops watching the conf dir and checking the network's readiness. Pods keep their networks; pins and state stay
     * for the next instance.
     */
    @Override
    public void close() {
        readiness.close();
        watcher.close();
    }

    private PodNetwork toPodNetwork(PodNetworkState s) {
        ObjectNode result = s.result() == null ? CniConfig.JSON.createObjectNode() : s.result();
        CniResults.PodIps ips = CniResults.podIps(result, s.ifName());
        return new PodNetwork(s.sandboxId(), Path.of(s.netnsPath()), ips.ip(), ips.additionalIps(), s.ifName(),
                result.toString());
    }

    private Path pin(String id) {
        return settings.netnsDir().resolve(id);
    }

    private ReentrantLock lockFor(String id) {
        return locks[Math.floorMod(id.hashCode(), LOCK_STRIPES)];
    }

    private static String checkId(String id) {
        if (id == null || !SANDBOX_ID.matcher(id).matches()) {
            throw BackendException.invalid("invalid sandbox id \"" + id + "\"");
        }
        return id;
    }

    private static BackendException pluginFailure(String verb, String id, CniConfig config, CniPluginException e,
                                                  String suffix) {
        BackendException.Kind kind = e.timedOut() ? BackendException.Kind.DEADLINE_EXCEEDED
                : BackendException.Kind.UNAVAILABLE;
        String network = config == null ? "" : "network \"" + config.name() + "\": ";
        return new BackendException(kind, "failed to " + verb + " pod network \"" + id + "\": " + network
                + e.getMessage() + suffix);
    }
}
