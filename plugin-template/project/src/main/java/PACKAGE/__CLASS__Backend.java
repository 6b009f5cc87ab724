package __PACKAGE__;

import dev.berth.spi.BackendContext;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendFeatures;
import dev.berth.spi.BackendHealth;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.ExecResult;
import dev.berth.spi.LinuxResources;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.SandboxSpec;
import dev.berth.spi.SandboxStatus;
import java.time.Duration;
import java.util.List;

/**
 * A skeleton: every method refuses with UNIMPLEMENTED, so the contract tests in
 * {@code __CLASS__ContractTest} fail until each is implemented. Read the contract on {@link RuntimeBackend} (threads,
 * idempotency, cleanup) before filling them in.
 */
final class __CLASS__Backend implements RuntimeBackend {
    private final BackendContext context;

    __CLASS__Backend(BackendContext context) {
        this.context = context;
    }

    private BackendException todo(String method) {
        return BackendException.unimplemented("__PLUGIN_ID__ (handler " + context.handlerName() + "): " + method
                + " is not implemented yet");
    }

    @Override
    public BackendFeatures features() {
        throw todo("features");
    }

    @Override
    public BackendHealth health() {
        return BackendHealth.of(List.of(new BackendHealth.Check(false, "__PLUGIN_ID__ backend",
                "the skeleton generated from berth's plugin template is not implemented yet")));
    }

    @Override
    public SandboxStatus createSandbox(SandboxSpec spec) {
        throw todo("createSandbox");
    }

    @Override
    public void startSandbox(String sandboxId) {
        throw todo("startSandbox");
    }

    @Override
    public void stopSandbox(String sandboxId, Duration timeout) {
        throw todo("stopSandbox");
    }

    @Override
    public SandboxStatus sandboxStatus(String sandboxId) {
        throw todo("sandboxStatus");
    }

    @Override
    public void removeSandbox(String sandboxId) {
        throw todo("removeSandbox");
    }

    @Override
    public ContainerStatus createContainer(ContainerSpec spec) {
        throw todo("createContainer");
    }

    @Override
    public void startContainer(String containerId) {
        throw todo("startContainer");
    }

    @Override
    public void stopContainer(String containerId, Duration timeout) {
        throw todo("stopContainer");
    }

    @Override
    public ContainerStatus containerStatus(String containerId) {
        throw todo("containerStatus");
    }

    @Override
    public void removeContainer(String containerId) {
        throw todo("removeContainer");
    }

    @Override
    public void updateContainer(String containerId, LinuxResources resources) {
        throw todo("updateContainer");
    }

    @Override
    public ExecResult execSync(String containerId, List<String> command, Duration timeout) {
        throw todo("execSync");
    }

    @Override
    public void close() {
        // Nothing to release yet: close threads and connections the backend opens here. Containers keep running.
    }
}
