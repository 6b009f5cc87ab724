package dev.berth.core.cri;

import static dev.berth.core.cri.CriServiceTest.assertCode;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.environment.Node;
import dev.berth.cri.v1.CDIDevice;
import dev.berth.cri.v1.ContainerConfig;
import dev.berth.cri.v1.CreateContainerRequest;
import dev.berth.cri.v1.ListContainersRequest;
import dev.berth.cri.v1.RunPodSandboxRequest;
import dev.berth.spi.BackendContext;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.DeviceSpec;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.testing.FakeBackend;
import dev.berth.spi.testing.FakeBackendFactory;
import io.grpc.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CDI devices a container asks for, by CRI's field or a device plugin's annotation, reach its backend as the SPI's
 * environment, devices, mounts and groups; one that cannot be resolved or applied fails CreateContainer, naming it,
 * before anything is reserved.
 */
class CdiDevicesCriTest {
    @TempDir
    Path dir;

    private CriTestHarness h;
    private final List<ContainerSpec> created = new CopyOnWriteArrayList<>();

    private final FakeBackendFactory factory = new FakeBackendFactory() {
        @Override
        public RuntimeBackend create(String handlerName, Map<String, Object> options, BackendContext context) {
            return new FakeBackend(context, options) {
                @Override
                public ContainerStatus createContainer(ContainerSpec spec) {
                    created.add(spec);
                    return super.createContainer(spec);
                }
            };
        }
    };

    @BeforeEach
    void start() throws Exception {
        Files.createDirectories(dir.resolve("cdi"));
        h = new CriTestHarness(dir, "cdi_spec_dirs = [\"" + dir.resolve("cdi") + "\"]\n" + CriTestHarness.CONFIG,
                Node.none(), List.of(factory));
    }

    @AfterEach
    void stop() {
        h.close();
    }

    private String pod() {
        return h.runtime.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(CriTestHarness.pod("p")).build())
                .getPodSandboxId();
    }

    private String create(String pod, ContainerConfig config) {
        return h.runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod).setConfig(config)
                .build()).getContainerId();
    }

    @Test
    void aDeviceAskedForByFieldOrAnnotationReachesTheBackend() throws Exception {
        Files.writeString(dir.resolve("cdi/gpu.yaml"), """
                cdiVersion: "0.7.0"
                kind: vendor.example/gpu
                containerEdits:
                  env: [VENDOR_DRIVER=1]
                devices:
                  - name: "0"
                    containerEdits:
                      env: [GPU=0]
                      deviceNodes: [{path: /dev/gpu0, hostPath: /dev/null}]
                      additionalGids: [44]
                  - name: "1"
                    containerEdits:
                      deviceNodes: [{path: /dev/gpu1, hostPath: /dev/zero, permissions: rw}]
                """);
        String pod = pod();
        create(pod, CriTestHarness.container("byfield").toBuilder()
                .addCDIDevices(CDIDevice.newBuilder().setName("vendor.example/gpu=0")).build());
        create(pod, CriTestHarness.container("byannotation").toBuilder()
                .putAnnotations("cdi.k8s.io/vendor.example_gpu", "vendor.example/gpu=0,vendor.example/gpu=1").build());
        assertThat(created).hasSize(2);
        ContainerSpec one = created.get(0);
        assertThat(one.env()).contains("VENDOR_DRIVER=1", "GPU=0");
        assertThat(one.devices()).containsExactly(new DeviceSpec("/dev/gpu0", "/dev/null", "rwm"));
        assertThat(one.security().supplementalGroups()).containsExactly(44L);
        assertThat(created.get(1).devices()).containsExactly(new DeviceSpec("/dev/gpu0", "/dev/null", "rwm"),
                new DeviceSpec("/dev/gpu1", "/dev/zero", "rw"));
        // The spec's own edits come once for the two devices of one spec.
        assertThat(created.get(1).env().stream().filter(e -> e.startsWith("VENDOR_DRIVER="))).hasSize(1);
    }

    @Test
    void aDeviceThatCannotBeResolvedOrAppliedFailsTheCreateAndReservesNothing() throws Exception {
        String pod = pod();
        ContainerConfig unknown = CriTestHarness.container("c").toBuilder()
                .addCDIDevices(CDIDevice.newBuilder().setName("vendor.example/gpu=0")).build();
        assertCode(() -> create(pod, unknown), Status.Code.FAILED_PRECONDITION, "no spec in [" + dir.resolve("cdi")
                + "] defines [vendor.example/gpu=0]");
        assertCode(() -> create(pod, CriTestHarness.container("c").toBuilder()
                .putAnnotations("cdi.k8s.io/x", "gpu0").build()), Status.Code.INVALID_ARGUMENT,
                "CDI device \"gpu0\" is not valid");
        Files.writeString(dir.resolve("cdi/gpu.json"), """
                {"cdiVersion": "0.6.0", "kind": "vendor.example/gpu", "devices": [{"name": "0", "containerEdits":
                  {"hooks": [{"hookName": "createContainer", "path": "/usr/bin/vendor-hook"}]}}]}
                """);
        assertCode(() -> create(pod, unknown), Status.Code.UNIMPLEMENTED, "asks for the OCI hook createContainer "
                + "/usr/bin/vendor-hook, and berth does not run CDI hooks");
        assertThat(created).isEmpty();
        assertThat(h.runtime.listContainers(ListContainersRequest.getDefaultInstance()).getContainersList()).isEmpty();
        // Nothing was reserved: the name is free for the container without the device.
        assertThat(create(pod, CriTestHarness.container("c"))).isNotEmpty();
    }
}
