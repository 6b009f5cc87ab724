package dev.berth.core.environment;

import dev.berth.core.cri.Cleanup;
import dev.berth.core.cri.sandbox.PodHostname;
import dev.berth.core.cri.sandbox.RunPodSandbox;
import dev.berth.core.cri.sandbox.SandboxEnvironment;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.image.Image;
import dev.berth.core.image.ImageService;
import dev.berth.core.image.RegistryCredentials;
import dev.berth.core.mapping.SpiMapper;
import dev.berth.core.network.PodNetwork;
import dev.berth.core.network.PodNetworkRequest;
import dev.berth.core.network.PodNetworking;
import dev.berth.core.util.FileTrees;
import dev.berth.cri.v1.NamespaceMode;
import dev.berth.cri.v1.PodSandboxConfig;
import dev.berth.spi.BackendFeatures;
import dev.berth.spi.DnsConfig;
import dev.berth.spi.ImageConfig;
import dev.berth.spi.MountSpec;
import dev.berth.spi.PortMapping;
import dev.berth.spi.SandboxSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Deque;
import java.util.List;
import java.util.stream.Stream;

/**
 * The sandbox environment on a real node: pod network through CNI (unless the pod uses the host network), the
 * pod's resolv.conf, hosts and hostname files, and the sandbox image's root file system.
 */
public final class NodeSandboxEnvironment implements SandboxEnvironment {
    private static final System.Logger LOG = System.getLogger(NodeSandboxEnvironment.class.getName());
    /** The prefix of a sandbox root file system's key in the image service (container roots use the bare id). */
    static final String ROOTFS_PREFIX = "sandbox-";
    private final PodNetworking network;
    private final ImageService images;
    private final String defaultSandboxImage;
    private final Path podsDir;

    public NodeSandboxEnvironment(PodNetworking network, ImageService images, String defaultSandboxImage, Path podsDir) {
        this.network = network;
        this.images = images;
        this.defaultSandboxImage = defaultSandboxImage;
        this.podsDir = podsDir;
    }

    @Override
    public SpiMapper.Prepared prepare(String id, PodSandboxConfig config, Handler handler,
                                      Deque<RunPodSandbox.Undo> undo) {
        boolean hostNetwork = config.getLinux().getSecurityContext().getNamespaceOptions().getNetwork()
                == NamespaceMode.NODE;
        DnsConfig dns = new DnsConfig(config.getDnsConfig().getServersList(), config.getDnsConfig().getSearchesList(),
                config.getDnsConfig().getOptionsList());

        Path netns = null;
        if (!hostNetwork) {
            undo.push(new RunPodSandbox.Undo("tear down the pod network", () -> network.tearDown(id)));
            netns = network.createNamespace(networkRequest(id, config, dns));
        }

        // The sandbox image is pulled and pinned for every pod, as the kubelet expects; its root file system is
        // prepared only for a pod whose backend runs it.
        List<MountSpec> rootfs = List.of();
        ImageConfig imageConfig = ImageConfig.NONE;
        BackendFeatures features = handler.backend().features();
        if (features.usesImages()) {
            String ref = features.sandboxImage().isEmpty() ? defaultSandboxImage : features.sandboxImage();
            Image image = images.find(ref).orElseGet(() -> images.pull(ref, RegistryCredentials.NONE));
            images.pin(image.id(), true);
            SandboxSpec asked = SpiMapper.sandbox(id, config, new SpiMapper.Prepared(netns, "", List.of(), List.of(),
                    ImageConfig.NONE, null, null, null));
            if (handler.backend().podFeatures(asked).runsSandboxImage()) {
                String key = rootfsKey(id);
                rootfs = images.prepareRootfs(key, image.id());
                undo.push(new RunPodSandbox.Undo("release the sandbox root file system",
                        () -> images.releaseRootfs(key)));
                imageConfig = images.imageConfig(image.id(), "");
            }
        }

        Path dir = podsDir.resolve(id);
        undo.push(new RunPodSandbox.Undo("delete the pod's files", () -> FileTrees.deleteTreeUnchecked(dir)));
        String hostname = hostname(config, hostNetwork);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
        Path resolv = dir.resolve("resolv.conf");
        Path hosts = dir.resolve("hosts");
        Path hostnameFile = dir.resolve("hostname");
        PodNetworking.writeResolvConf(resolv, dns);
        PodNetworking.writeHosts(hosts, hostname, List.of());
        PodNetworking.writeHostname(hostnameFile, hostname);
        return new SpiMapper.Prepared(netns, "", List.of(), rootfs, imageConfig, resolv, hosts, hostnameFile);
    }

    @Override
    public SpiMapper.Prepared connect(String id, PodSandboxConfig config, SpiMapper.Prepared prepared) {
        if (prepared.netnsPath() == null) {
            return prepared;
        }
        PodNetwork net = network.connect(id);
        if (prepared.hosts() != null && !net.ip().isEmpty()) {
            // In place: the backend may be bind-mounting this very file for the sandbox right now.
            PodNetworking.rewriteHosts(prepared.hosts(), hostname(config, false), List.of(net.ip()));
        }
        return prepared.withAddresses(net.ip(), net.additionalIps());
    }

    private static PodNetworkRequest networkRequest(String id, PodSandboxConfig config, DnsConfig dns) {
        List<PortMapping> ports = config.getPortMappingsList().stream().map(pm -> new PortMapping(
                switch (pm.getProtocol()) {
                    case UDP -> PortMapping.Protocol.UDP;
                    case SCTP -> PortMapping.Protocol.SCTP;
                    default -> PortMapping.Protocol.TCP;
                }, pm.getContainerPort(), pm.getHostPort(), pm.getHostIp())).toList();
        var md = config.getMetadata();
        return new PodNetworkRequest(id, md.getName(), md.getNamespace(), md.getUid(), ports, dns,
                config.getAnnotationsMap(), config.getLinux().getCgroupParent());
    }

    private static String hostname(PodSandboxConfig config, boolean hostNetwork) {
        return PodHostname.of(config, hostNetwork);
    }

    @Override
    public void releaseNetwork(String sandboxId) {
        network.tearDown(sandboxId);
    }

    /** Tears down the network, releases the root file system and deletes the pod's files, each even if one fails. */
    @Override
    public void release(String sandboxId) {
        Cleanup cleanup = new Cleanup("release pod sandbox \"" + sandboxId + "\"");
        cleanup.run("tear down the pod network", () -> network.tearDown(sandboxId));
        cleanup.run("release the sandbox root file system", () -> images.releaseRootfs(rootfsKey(sandboxId)));
        cleanup.run("delete the pod's files", () -> FileTrees.deleteTreeUnchecked(podsDir.resolve(sandboxId)));
        cleanup.throwIfFailed("");
    }

    @Override
    public Readiness networkReadiness() {
        var r = network.readiness();
        return new Readiness(r.ready(), r.reason(), r.message());
    }

    @Override
    public void updatePodCidr(String cidr) {
        network.updatePodCidr(cidr);
    }

    private static String rootfsKey(String sandboxId) {
        return ROOTFS_PREFIX + sandboxId;
    }

    /** Releases networks, sandbox roots and pod files of pods core has no record of. */
    @Override
    public void reconcile(java.util.Set<String> sandboxIds) {
        java.util.Set<String> orphans = new java.util.TreeSet<>(network.sandboxIds());
        images.rootfsKeys().stream().filter(k -> k.startsWith(ROOTFS_PREFIX))
                .map(k -> k.substring(ROOTFS_PREFIX.length())).forEach(orphans::add);
        if (Files.isDirectory(podsDir)) {
            try (Stream<Path> dirs = Files.list(podsDir)) {
                dirs.map(p -> p.getFileName().toString()).forEach(orphans::add);
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot list {0}: {1}", podsDir, e.getMessage());
            }
        }
        orphans.removeAll(sandboxIds);
        for (String id : orphans) {
            LOG.log(System.Logger.Level.WARNING, "releasing the network, root and files of pod sandbox {0}, which has "
                    + "no record", id);
            try {
                release(id);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "cannot release pod sandbox {0}: {1}", id, e.getMessage());
            }
        }
    }
}
