package dev.berth.hcs;

import static dev.berth.hcs.Failures.backend;

import dev.berth.hcs.bind.HResults;
import dev.berth.hcs.bind.Hcn;
import dev.berth.hcs.handle.ComputeSystem;
import dev.berth.hcs.handle.HcsException;
import dev.berth.hcs.handle.HcsProcess;
import dev.berth.hcs.schema.Documents;
import dev.berth.hcs.schema.HcsJson;
import dev.berth.hcs.schema.Schema;
import dev.berth.spi.BackendException;
import dev.berth.spi.SandboxSpec;
import dev.berth.spi.SandboxStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Pods: the holder compute system run from the sandbox image, and the HNS namespace it holds. When core hands over
 * an HNS namespace (the netns path's last element is its GUID) the pod uses it; otherwise one is created here and
 * deleted with the pod. Stopping or removing a pod first stops or removes its containers.
 */
final class HcsPods {
    private static final Pattern GUID = Pattern.compile(
            "^\\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\\}?$");
    /** The command a Windows pause image that only says {@code cmd.exe} gets instead (hcsshim's pod.go). */
    static final List<String> HOLD = List.of("cmd", "/c", "ping -t 127.0.0.1 > nul");

    private final HcsEnv env;
    private final HcsRegistry registry;
    private final HcsContainers containers;

    HcsPods(HcsEnv env, HcsRegistry registry, HcsContainers containers) {
        this.env = env;
        this.registry = registry;
        this.containers = containers;
    }

    SandboxStatus create(SandboxSpec spec) {
        String what = "failed to create pod sandbox \"" + spec.id() + "\"";
        env.requireAvailable(what);
        if (spec.security().namespaces().userNamespace() != null) {
            throw BackendException.unimplemented(what + ": Windows containers have no user namespaces");
        }
        if (env.options().isolation().equals("hyperv")) {
            throw BackendException.unimplemented(what + ": Hyper-V isolation is not implemented by the windows-hcs "
                    + "plugin yet (the utility VM document is built, sharing the layers into it is not)");
        }
        if (registry.pods.containsKey(spec.id())) {
            throw new BackendException(BackendException.Kind.ALREADY_EXISTS, "pod sandbox \"" + spec.id()
                    + "\" already exists");
        }
        WindowsLayers.Rootfs rootfs = WindowsLayers.parse(spec.rootfs(), what);
        String namespace = null;
        boolean owns = false;
        List<Runnable> undo = new ArrayList<>();
        try {
            if (!spec.hostNetwork()) {
                String given = spec.netnsPath() == null ? null : spec.netnsPath().getFileName().toString();
                if (given != null && GUID.matcher(given).matches()) {
                    namespace = given.replace("{", "").replace("}", "").toLowerCase(java.util.Locale.ROOT);
                } else {
                    namespace = createNamespace();
                    owns = true;
                    String ns = namespace;
                    undo.add(() -> deleteNamespace(ns));
                }
            }
            Schema.Storage storage = WindowsLayers.prepare(env.layerStore(), env.bindings().layers(), spec.id(),
                    rootfs);
            undo.add(() -> WindowsLayers.release(env.layerStore(), env.bindings().layers(), spec.id(),
                    rootfs.scratch()));
            Schema.ComputeSystem doc = Documents.container(new Documents.ContainerInput(spec.hostname(), storage,
                    List.of(), spec.resources(), spec.annotations(), namespace, spec.dns(), env.hostProcessors(),
                    null));
            Pod.PodRecord rec = new Pod.PodRecord(spec.id(), namespace, owns, rootfs.scratch(), env.clock().instant(),
                    spec.hostname(), spec.dns().searches(), holdArgs(spec));
            Pod pod = new Pod(rec);
            pod.system = ComputeSystem.create(env.hcs(), spec.id(), doc, env.options().operationTimeout());
            ComputeSystem created = pod.system;
            undo.add(() -> {
                created.terminate();
                created.close();
            });
            pod.lock.lock();
            try {
                pod.hold = null;
                env.state().save("pods", spec.id(), rec);
                registry.pods.put(spec.id(), pod);
            } finally {
                pod.lock.unlock();
            }
            return status(pod);
        } catch (RuntimeException e) {
            for (int i = undo.size() - 1; i >= 0; i--) {
                try {
                    undo.get(i).run();
                } catch (RuntimeException ignored) {
                    // best effort: the first failure is the one reported
                }
            }
            throw backend(what, e);
        }
    }

    /** The holder's command: the sandbox image's, with a cmd.exe-only image kept alive the way hcsshim does. */
    static List<String> holdArgs(SandboxSpec spec) {
        List<String> args = new ArrayList<>(spec.image().entrypoint());
        args.addAll(spec.image().cmd());
        if (args.isEmpty() || args.equals(List.of("cmd.exe")) || args.equals(List.of("cmd"))) {
            return HOLD;
        }
        return List.copyOf(args);
    }

    private String createNamespace() {
        String id = UUID.randomUUID().toString();
        Hcn.Result r = env.bindings().hcn().createNamespace(id, HcsJson.write(Documents.namespace(id)));
        if (HResults.failed(r.hresult())) {
            throw new HcsException("HcnCreateNamespace " + id, r.hresult(), r.errorRecord());
        }
        env.bindings().hcn().closeNamespace(r.handle());
        return id;
    }

    private void deleteNamespace(String id) {
        Hcn.Result r = env.bindings().hcn().deleteNamespace(id);
        if (HResults.failed(r.hresult()) && HcsException.kindOf(r.hresult()) != BackendException.Kind.NOT_FOUND) {
            throw new HcsException("HcnDeleteNamespace " + id, r.hresult(), r.errorRecord());
        }
    }

    void start(String sandboxId) {
        Pod pod = registry.pod(sandboxId);
        String what = "failed to start pod sandbox \"" + sandboxId + "\"";
        pod.lock.lock();
        try {
            pod.system.start(env.options().operationTimeout());
            pod.hold = pod.system.createProcess(Documents.process(new Documents.ProcessInput(pod.rec.holdArgs(), "",
                    "", List.of(), false, false, false, 0, 0)), env.options().operationTimeout());
            pod.ready = true;
        } catch (RuntimeException e) {
            throw backend(what, e);
        } finally {
            pod.lock.unlock();
        }
    }

    void stop(String sandboxId, Duration timeout) {
        Pod pod = registry.pods.get(sandboxId);
        if (pod == null) {
            return;
        }
        for (Ctr c : registry.containers.values()) {
            if (c.rec.sandboxId().equals(sandboxId)) {
                containers.stop(c.rec.id(), timeout);
            }
        }
        pod.lock.lock();
        try {
            HcsProcess hold = pod.hold;
            if (hold != null) {
                hold.stop(timeout);
                hold.close();
                pod.hold = null;
            }
            if (pod.system != null) {
                pod.system.shutdownThenTerminate(env.options().shutdownTimeout());
            }
            pod.ready = false;
        } catch (HcsException e) {
            throw backend("failed to stop pod sandbox \"" + sandboxId + "\"", e);
        } finally {
            pod.lock.unlock();
        }
    }

    SandboxStatus status(String sandboxId) {
        return status(registry.pod(sandboxId));
    }

    private SandboxStatus status(Pod pod) {
        HcsProcess hold = pod.hold;
        boolean ready = pod.ready && (pod.system == null || !pod.system.exited().isDone());
        Map<String, String> info = new java.util.TreeMap<>();
        info.put("isolation", "process");
        if (pod.rec.namespace() != null) {
            info.put("hnsNamespace", pod.rec.namespace());
        }
        return new SandboxStatus(pod.rec.id(), ready ? SandboxStatus.State.READY : SandboxStatus.State.NOTREADY,
                pod.rec.createdAt(), hold == null ? 0 : hold.pid(), info);
    }

    void remove(String sandboxId) {
        Pod pod = registry.pods.get(sandboxId);
        if (pod == null) {
            env.state().delete("pods", sandboxId);
            return;
        }
        for (Ctr c : registry.containers.values()) {
            if (c.rec.sandboxId().equals(sandboxId)) {
                containers.remove(c.rec.id());
            }
        }
        stop(sandboxId, Duration.ZERO);
        pod.lock.lock();
        try {
            if (pod.system != null) {
                pod.system.close();
            }
            HcsException layers = WindowsLayers.release(env.layerStore(), env.bindings().layers(), sandboxId,
                    pod.rec.scratch());
            if (layers != null) {
                throw layers;
            }
            if (pod.rec.ownsNamespace() && pod.rec.namespace() != null) {
                deleteNamespace(pod.rec.namespace());
            }
            env.state().delete("pods", sandboxId);
            registry.pods.remove(sandboxId);
        } catch (HcsException e) {
            throw backend("failed to remove pod sandbox \"" + sandboxId + "\"", e);
        } finally {
            pod.lock.unlock();
        }
    }
}
