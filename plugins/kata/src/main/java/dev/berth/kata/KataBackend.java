package dev.berth.kata;

import dev.berth.kata.shim.EventsServer;
import dev.berth.kata.shim.ShimLauncher;
import dev.berth.oci.BundleSpecs;
import dev.berth.oci.LinuxBackend;
import dev.berth.spi.BackendContext;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendException.Kind;
import dev.berth.spi.Recoverable;
import dev.berth.spi.SandboxEventSource;
import dev.berth.spi.SpecReading;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A kata handler: each pod is one shim v2 process (for Kata, one VM) that runs the pod's sandbox (pause)
 * container and all its containers, driven over one ttrpc connection. This class wires the parts behind the SPI
 * face the Linux plugins share ({@link LinuxBackend}): {@link ShimPods} (pods, their shims, recovery),
 * {@link ShimContainers} (containers), {@link ShimEvents}, {@link ShimExec} (exec, exec sync), {@link ShimAttach},
 * {@link ShimStats} and {@link KataHealth}; {@link ShimRegistry} holds what they share. It reports each pod's
 * end by itself ({@link SandboxEventSource}), so core answers the pod's status from memory.
 *
 * <h2>On-disk state</h2>
 * Every task has a bundle {@code <stateDir>/bundles/<id>} (shims require the directory name to be the id):
 * {@code config.json}, {@code rootfs/} (the shim mounts the {@link dev.berth.spi.MountSpec}s there),
 * {@code berth.properties} ({@link BundleProperties}: what berth needs after a restart), FIFOs
 * {@code stdout}/{@code stderr}; the sandbox bundle also has the shim's {@code log} FIFO and the {@code address}
 * file the shim writes. Nothing else is needed to recover: the shim keeps the truth about tasks, read back with
 * {@code State}.
 *
 * <h2>Locks</h2>
 * One lock per pod serialises lifecycle changes of that pod and its containers (create, stop, remove);
 * status, stats and exec calls run concurrently over the shared connection.
 */
final class KataBackend extends LinuxBackend implements SandboxEventSource, SpecReading {
    private final ShimRegistry registry;

    KataBackend(KataOptions options, BackendContext context) {
        ShimRegistry registry = new ShimRegistry();
        super(parts(options, context, registry));
        this.registry = registry;
    }

    /**
     * Every pod's end is published: its sandbox task's exit (the shim's event), or its shim going away (the
     * connection closing; {@link ShimEvents#shimLost}).
     */
    @Override
    public boolean reportsEnd(String sandboxId) {
        registry.pod(sandboxId);
        return true;
    }

    /** The bundle's config.json, as the shim was given it at create. */
    @Override
    public Optional<String> containerRuntimeSpec(String containerId) {
        return BundleSpecs.read(registry.container(containerId).bundle, "container \"" + containerId + "\"");
    }

    /** The sandbox task's config.json. */
    @Override
    public Optional<String> sandboxRuntimeSpec(String sandboxId) {
        return BundleSpecs.read(registry.pod(sandboxId).bundle, "sandbox \"" + sandboxId + "\"");
    }

    private static Parts parts(KataOptions options, BackendContext context, ShimRegistry registry) {
        Path bundles = context.stateDir().resolve("bundles");
        Path execs = context.stateDir().resolve("execs");
        Path eventsSocket = context.stateDir().resolve("events.ttrpc");
        ShimLauncher launcher = new ShimLauncher(options.shim(),
                context.stateDir().resolve("berth-shim.sock").toString(), eventsSocket, options.shimDebug());
        ShimEvents shimEvents = new ShimEvents(context, registry);
        ShimContainers containers = new ShimContainers(options, context.logger(), bundles, launcher, registry);
        ShimPods pods = new ShimPods(options, context.logger(), bundles, launcher, registry, containers,
                shimEvents::shimLost);
        ShimExec exec = new ShimExec(options, context.logger(), execs, registry);
        ShimAttach attach = new ShimAttach(context.logger(), registry, containers);
        EventsServer events;
        try {
            Files.createDirectories(bundles);
            Files.createDirectories(execs);
            events = EventsServer.start(eventsSocket, shimEvents::accept);
        } catch (IOException e) {
            throw new BackendException(Kind.UNAVAILABLE, "failed to start the events server of kata handler \""
                    + options.handler() + "\": " + e.getMessage());
        }
        return new Parts(() -> KataHealth.features(options), () -> KataHealth.health(options), pods, containers,
                exec::execSync, exec::exec, attach::attach, containers::reopenLog, pods::connect,
                new ShimStats(registry), (sandboxIds, containerIds) -> {
                    List<String> lost = new ArrayList<>();
                    pods.recover(sandboxIds, lost);
                    containers.recover(containerIds, lost);
                    return new Recoverable.Report(lost);
                }, () -> {
                    events.close();
                    shimEvents.close();
                    pods.close();
                    containers.close();
                });
    }
}
