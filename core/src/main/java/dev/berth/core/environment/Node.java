package dev.berth.core.environment;

import dev.berth.core.config.BerthConfig;
import dev.berth.core.cri.container.ContainerEnvironment;
import dev.berth.core.cri.sandbox.SandboxEnvironment;
import dev.berth.core.image.ImageService;
import dev.berth.core.image.ImageSettings;
import dev.berth.core.network.NetworkSettings;
import dev.berth.core.network.PodNetworking;
import dev.berth.core.streaming.StreamingSettings;
import java.util.ArrayList;
import java.util.List;

/**
 * The node-level services around the backends: the image store, pod networking, and the streaming server's
 * settings. {@link #none()} has none of them, for tests of the CRI edge over fake backends.
 *
 * @param images the image service, or null when there is none (the image RPCs then answer UNIMPLEMENTED)
 * @param streaming the streaming server's settings, or null for no streaming server
 */
public record Node(SandboxEnvironment sandboxes, ContainerEnvironment containers, ImageService images,
                   StreamingSettings streaming, List<AutoCloseable> resources) implements AutoCloseable {

    public static Node none() {
        return new Node(SandboxEnvironment.NONE, ContainerEnvironment.NONE, null, null, List.of());
    }

    /** The real thing, from config: images under {@code root}, pod networking state under {@code root/network}. */
    public static Node fromConfig(BerthConfig c) {
        return fromConfig(c, dev.berth.core.metrics.Metrics.disabled());
    }

    /** As {@link #fromConfig(BerthConfig)}, with the image service and pod networking recording into {@code metrics}. */
    public static Node fromConfig(BerthConfig c, dev.berth.core.metrics.Metrics metrics) {
        List<AutoCloseable> resources = new ArrayList<>();
        var images = new ImageService(ImageSettings.defaults(c.root().resolve("images"))
                .withRegistryConfigPath(c.images().registryConfigPath())
                .withSandboxImage(c.images().sandboxImage())
                .withLimits(c.images().maxConcurrentDownloads(), c.images().pullProgressTimeout(), 16L << 30)
                .withVolatileRootfs(c.images().volatileRootfs()),
                metrics);
        resources.add(images);
        try {
            var network = new PodNetworking(new NetworkSettings(c.network().cniConfDir(), c.network().cniBinDirs(),
                    c.root().resolve("network"), c.network().pluginTimeout()), metrics);
            resources.add(network);
            var streaming = StreamingSettings.defaults()
                    .withIdleTimeout(c.streaming().idleTimeout());
            streaming = new StreamingSettings(c.streaming().address(), c.streaming().port(), null, null,
                    streaming.tokenTtl(), streaming.idleTimeout(), streaming.maxBufferedBytes());
            if (c.streaming().tlsCert() != null) {
                streaming = streaming.withTls(c.streaming().tlsCert(), c.streaming().tlsKey());
            }
            return new Node(new NodeSandboxEnvironment(network, images, c.images().sandboxImage(),
                    c.state().resolve("pods")), new ImageContainerEnvironment(images), images, streaming,
                    List.copyOf(resources));
        } catch (RuntimeException e) {
            images.close();
            throw e;
        }
    }

    @Override
    public void close() {
        for (AutoCloseable r : resources.reversed()) {
            try {
                r.close();
            } catch (Exception e) {
                System.getLogger(Node.class.getName()).log(System.Logger.Level.WARNING, "closing {0}: {1}", r,
                        e.getMessage());
            }
        }
    }
}
