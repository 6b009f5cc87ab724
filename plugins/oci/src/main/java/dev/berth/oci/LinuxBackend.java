package dev.berth.oci;

import dev.berth.spi.BackendFeatures;
import dev.berth.spi.BackendHealth;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.EventSource;
import dev.berth.spi.ExecResult;
import dev.berth.spi.LinuxResources;
import dev.berth.spi.LogReopening;
import dev.berth.spi.PodMetricsSource;
import dev.berth.spi.PortForwarding;
import dev.berth.spi.Recoverable;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.SandboxSpec;
import dev.berth.spi.SandboxStatus;
import dev.berth.spi.StatsProvider;
import dev.berth.spi.StreamingIo;
import java.nio.channels.ByteChannel;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;

/**
 * The SPI's face of a Linux plugin (runc, kata): the calls and capabilities both offer, each handed to the part of
 * the plugin that does the work ({@link Parts}). A plugin's backend extends it with its wiring and what only it
 * offers (runc: checkpoints, pod resizing, per-pod features). Nothing here decides anything: what a call does is
 * the part's.
 */
public abstract class LinuxBackend implements RuntimeBackend, Recoverable, StatsProvider, PodMetricsSource,
        EventSource, StreamingIo, LogReopening, PortForwarding {

    /** A plugin's pods: the sandbox lifecycle of {@link RuntimeBackend}. */
    public interface Sandboxes {
        SandboxStatus create(SandboxSpec spec);

        void start(String sandboxId);

        void stop(String sandboxId, Duration timeout);

        SandboxStatus status(String sandboxId);

        void remove(String sandboxId);
    }

    /** A plugin's containers: the container lifecycle of {@link RuntimeBackend}, and updates. */
    public interface Containers {
        ContainerStatus create(ContainerSpec spec);

        void start(String containerId);

        void stop(String containerId, Duration timeout);

        ContainerStatus status(String containerId);

        void remove(String containerId);

        void update(String containerId, LinuxResources resources);
    }

    /** A plugin's usage and metrics readings. */
    public interface PodUsage extends StatsProvider, PodMetricsSource {}

    /** {@link RuntimeBackend#execSync}. */
    @FunctionalInterface
    public interface ExecSync {
        ExecResult execSync(String containerId, List<String> command, Duration timeout);
    }

    /** {@link StreamingIo#exec}. */
    @FunctionalInterface
    public interface Exec {
        int exec(String containerId, List<String> command, Streams io);
    }

    /** {@link StreamingIo#attach}. */
    @FunctionalInterface
    public interface Attach {
        void attach(String containerId, Streams io);
    }

    /**
     * What a Linux plugin's backend is made of: one part per group of SPI calls.
     *
     * @param close stops what the backend runs of its own (watchers, servers); what it started for pods outlives it
     */
    public record Parts(Supplier<BackendFeatures> features, Supplier<BackendHealth> health, Sandboxes sandboxes,
                        Containers containers, ExecSync execSync, Exec exec, Attach attach, LogReopening logs,
                        PortForwarding ports, PodUsage usage, Recoverable recovery, Runnable close) {}

    private final Parts parts;

    protected LinuxBackend(Parts parts) {
        this.parts = parts;
    }

    @Override
    public BackendFeatures features() {
        return parts.features().get();
    }

    @Override
    public BackendHealth health() {
        return parts.health().get();
    }

    @Override
    public SandboxStatus createSandbox(SandboxSpec spec) {
        return parts.sandboxes().create(spec);
    }

    @Override
    public void startSandbox(String sandboxId) {
        parts.sandboxes().start(sandboxId);
    }

    @Override
    public void stopSandbox(String sandboxId, Duration timeout) {
        parts.sandboxes().stop(sandboxId, timeout);
    }

    @Override
    public SandboxStatus sandboxStatus(String sandboxId) {
        return parts.sandboxes().status(sandboxId);
    }

    @Override
    public void removeSandbox(String sandboxId) {
        parts.sandboxes().remove(sandboxId);
    }

    @Override
    public ContainerStatus createContainer(ContainerSpec spec) {
        return parts.containers().create(spec);
    }

    @Override
    public void startContainer(String containerId) {
        parts.containers().start(containerId);
    }

    @Override
    public void stopContainer(String containerId, Duration timeout) {
        parts.containers().stop(containerId, timeout);
    }

    @Override
    public ContainerStatus containerStatus(String containerId) {
        return parts.containers().status(containerId);
    }

    @Override
    public void removeContainer(String containerId) {
        parts.containers().remove(containerId);
    }

    @Override
    public void updateContainer(String containerId, LinuxResources resources) {
        parts.containers().update(containerId, resources);
    }

    @Override
    public ExecResult execSync(String containerId, List<String> command, Duration timeout) {
        return parts.execSync().execSync(containerId, command, timeout);
    }

    @Override
    public int exec(String containerId, List<String> command, Streams io) {
        return parts.exec().exec(containerId, command, io);
    }

    @Override
    public void attach(String containerId, Streams io) {
        parts.attach().attach(containerId, io);
    }

    @Override
    public void reopenLog(String containerId) {
        parts.logs().reopenLog(containerId);
    }

    @Override
    public ByteChannel connect(String sandboxId, int port) {
        return parts.ports().connect(sandboxId, port);
    }

    @Override
    public ContainerUsage containerStats(String containerId) {
        return parts.usage().containerStats(containerId);
    }

    @Override
    public SandboxUsage sandboxStats(String sandboxId) {
        return parts.usage().sandboxStats(sandboxId);
    }

    @Override
    public PodMetrics podMetrics(String sandboxId) {
        return parts.usage().podMetrics(sandboxId);
    }

    @Override
    public Report recover(List<String> sandboxIds, List<String> containerIds) {
        return parts.recovery().recover(sandboxIds, containerIds);
    }

    @Override
    public void close() {
        parts.close().run();
    }
}
