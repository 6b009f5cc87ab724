package dev.berth.core.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.admin.v1.AdminServiceGrpc;
import dev.berth.admin.v1.ExplainField;
import dev.berth.admin.v1.ExplainRequest;
import dev.berth.admin.v1.ExplainResponse;
import dev.berth.admin.v1.ExplainSection;
import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.explain.ObjectHistory;
import dev.berth.core.store.ContainerRecord;
import dev.berth.core.store.SandboxRecord;
import dev.berth.cri.v1.ContainerConfig;
import dev.berth.cri.v1.Mount;
import dev.berth.spi.BackendException;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.SandboxStatus;
import io.grpc.MethodDescriptor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * Everything berth knows about one pod or container, for an operator asking why it is stuck
 * ({@code berth explain}): the likely cause first, then its record, the backend's own view (its status and
 * whatever the backend puts in the status info map: processes, cgroup, bundle, conmon or shim pid), network
 * (namespace, addresses, the CNI result or error), mounts and image, the object's recent history and the last
 * errors of RPCs on it ({@link ObjectHistory}). Only asks: nothing is changed, and a backend that fails to answer
 * is reported in the answer rather than failing the call.
 */
public final class Explain implements UnaryRpc<ExplainRequest, ExplainResponse> {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int LOG_LINES = 5;

    private final CriRuntime cri;
    private final ObjectHistory history;
    private final Path cniState;

    /** @param cniState berth's per-pod CNI state directory ({@code <root>/network/cni}) */
    public Explain(CriRuntime cri, ObjectHistory history, Path cniState) {
        this.cri = cri;
        this.history = history;
        this.cniState = cniState;
    }

    @Override
    public MethodDescriptor<ExplainRequest, ExplainResponse> method() {
        return AdminServiceGrpc.getExplainMethod();
    }

    @Override
    public ExplainResponse call(ExplainRequest request, RpcContext ctx) {
        String q = request.getQuery().strip();
        if (q.isEmpty()) {
            throw BackendException.invalid("explain needs a pod or container id, id prefix or name");
        }
        List<SandboxRecord> pods = new ArrayList<>();
        List<ContainerRecord> containers = new ArrayList<>();
        for (SandboxRecord s : cri.sandboxes().all()) {
            if (s.id().startsWith(q) || s.name().equals(q) || (s.namespace() + "/" + s.name()).equals(q)
                    || s.nameKey().equals(q)) {
                pods.add(s);
            }
        }
        for (ContainerRecord c : cri.containers().all()) {
            if (c.id().startsWith(q) || c.name().equals(q) || c.nameKey().equals(q)) {
                containers.add(c);
            }
        }
        // An exact id wins over prefixes and names.
        pods.stream().filter(s -> s.id().equals(q)).findFirst().ifPresent(s -> { pods.clear(); pods.add(s); });
        containers.stream().filter(c -> c.id().equals(q)).findFirst()
                .ifPresent(c -> { containers.clear(); containers.add(c); });
        if (pods.size() + containers.size() > 1) {
            List<String> names = new ArrayList<>();
            pods.forEach(s -> names.add("pod " + s.id().substring(0, 13) + " (" + s.namespace() + "/" + s.name() + ")"));
            containers.forEach(c -> names.add("container " + c.id().substring(0, 13) + " (" + c.name() + ")"));
            throw BackendException.invalid("\"" + q + "\" matches " + names.size() + " objects: "
                    + String.join(", ", names) + "; give an id or a longer prefix");
        }
        if (pods.size() == 1) {
            ctx.pod(pods.getFirst().id());
            return pod(pods.getFirst());
        }
        if (containers.size() == 1) {
            ctx.container(containers.getFirst().id());
            return container(containers.getFirst());
        }
        List<ObjectHistory.View> failed = history.failed(q);
        if (!failed.isEmpty()) {
            return failedCreation(failed.getFirst(), failed.size());
        }
        throw BackendException.notFound("pod or container", q);
    }

    private ExplainResponse pod(SandboxRecord s) {
        var out = ExplainResponse.newBuilder().setKind("pod").setId(s.id())
                .setName(s.namespace() + "/" + s.name());
        List<String> cause = new ArrayList<>();
        var view = history.of(s.id());
        Handler h = cri.dispatcher().forSandboxOrNull(s);

        var record = section("record");
        field(record, "name", s.namespace() + "/" + s.name() + " (uid " + s.uid() + ", attempt " + s.attempt() + ")");
        field(record, "state", s.state().name());
        field(record, "created", s.createdAt().toString());
        field(record, "handler", s.handler() + " (generation " + s.generation() + ", type " + s.backendType()
                + ", plugin " + s.pluginId() + ")");
        if (h == null) {
            cause.add("its handler \"" + s.handler() + "\" (generation " + s.generation() + ") is not configured: "
                    + "berth cannot reach the pod's backend; restore the handler or remove the pod");
        } else if (cri.dispatcher().registry().drains().isDrained(h.name())) {
            field(record, "handler drained", "yes: new pods on " + h.name() + " are refused");
        }

        var backend = section("backend");
        SandboxStatus st = null;
        if (h != null) {
            try {
                st = h.backend().sandboxStatus(s.id());
                field(backend, "state", st.state().name());
                if (st.pid() > 0) {
                    field(backend, "pid", Long.toString(st.pid()));
                }
                new TreeMap<>(st.info()).forEach((k, v) -> field(backend, k, v));
            } catch (RuntimeException e) {
                field(backend, "error", e.getMessage());
                cause.add("the backend cannot tell its state: " + e.getMessage());
            }
        }

        var network = section("network");
        if (s.hostNetwork()) {
            field(network, "mode", "host network");
        } else {
            field(network, "netns", orNone(s.netnsPath()));
            field(network, "ip", orNone(s.ip()));
            if (!s.additionalIps().isEmpty()) {
                field(network, "additional ips", String.join(", ", s.additionalIps()));
            }
            cni(network, s.id(), cause);
        }

        var members = section("containers");
        for (ContainerRecord c : cri.containers().all()) {
            if (!c.sandboxId().equals(s.id())) {
                continue;
            }
            String state = "?";
            if (h != null) {
                try {
                    ContainerStatus cs = h.backend().containerStatus(c.id());
                    state = describe(cs);
                    if (cs.state() == ContainerStatus.State.EXITED && cs.exitCode() != 0) {
                        cause.add("container " + c.name() + " " + state);
                    }
                } catch (RuntimeException e) {
                    state = "unknown: " + e.getMessage();
                }
            }
            field(members, c.name() + " " + c.id().substring(0, 13), state);
        }

        var image = section("image");
        field(image, "sandbox image", cri.config().images().sandboxImage());

        if (view.isPresent() && !view.get().errors().isEmpty() && s.state() != SandboxRecord.State.READY) {
            cause.addFirst(view.get().errors().getLast().what());
        }
        if (cause.isEmpty()) {
            cause.add(switch (s.state()) {
                case READY -> "ready" + (st == null ? "" : "; the backend says " + st.state());
                case CREATING -> "being created (RunPodSandbox has not finished)";
                case NOTREADY -> "not ready: stopped" + (view.isPresent() && !view.get().errors().isEmpty()
                        ? "; last error: " + view.get().errors().getLast().what() : "");
            });
        }
        out.addAllCause(cause);
        out.addSections(record).addSections(backend).addSections(network).addSections(members).addSections(image);
        view.ifPresent(v -> history(out, v));
        return out.build();
    }

    private ExplainResponse container(ContainerRecord c) {
        var out = ExplainResponse.newBuilder().setKind("container").setId(c.id()).setName(c.name());
        List<String> cause = new ArrayList<>();
        var view = history.of(c.id());
        SandboxRecord pod = cri.sandboxes().get(c.sandboxId()).orElse(null);
        Handler h = pod == null ? null : cri.dispatcher().forSandboxOrNull(pod);

        var record = section("record");
        field(record, "name", c.name() + " (attempt " + c.attempt() + ")");
        field(record, "pod", c.sandboxId() + (pod == null ? " (no such pod)"
                : " (" + pod.namespace() + "/" + pod.name() + ", " + pod.state() + ")"));
        field(record, "created", c.createdAt().toString());
        field(record, "handler", pod == null ? "?" : pod.handler() + " (generation " + pod.generation()
                + ", plugin " + pod.pluginId() + ")");
        field(record, "log", c.logPath());

        var backend = section("backend");
        ContainerStatus cs = null;
        if (h == null) {
            cause.add(pod == null ? "its pod " + c.sandboxId() + " has no record"
                    : "its pod's handler \"" + pod.handler() + "\" is not configured: berth cannot reach the backend");
        } else {
            try {
                cs = h.backend().containerStatus(c.id());
                field(backend, "state", cs.state().name());
                at(backend, "started", cs.startedAt());
                at(backend, "finished", cs.finishedAt());
                if (cs.state() == ContainerStatus.State.EXITED) {
                    field(backend, "exit code", Integer.toString(cs.exitCode()));
                }
                if (!cs.reason().isEmpty()) {
                    field(backend, "reason", cs.reason());
                }
                if (!cs.message().isEmpty()) {
                    field(backend, "message", cs.message());
                }
                if (cs.pid() > 0) {
                    field(backend, "pid", Long.toString(cs.pid()));
                }
                new TreeMap<>(cs.info()).forEach((k, v) -> field(backend, k, v));
            } catch (BackendException e) {
                field(backend, "error", e.getMessage());
                cause.add(e.kind() == BackendException.Kind.NOT_FOUND
                        ? "the backend has no such container (CONTAINER_UNKNOWN): was berth stopped while creating "
                                + "it? Remove it with RemoveContainer"
                        : "the backend cannot tell its state: " + e.getMessage());
            } catch (RuntimeException e) {
                field(backend, "error", String.valueOf(e.getMessage()));
                cause.add("the backend cannot tell its state: " + e.getMessage());
            }
        }
        if (cs != null) {
            if (cs.state() == ContainerStatus.State.EXITED && cs.exitCode() != 0) {
                cause.add(describe(cs));
            } else if (cs.state() == ContainerStatus.State.UNKNOWN) {
                cause.add("the backend reports its state as unknown" + (cs.message().isEmpty() ? ""
                        : ": " + cs.message()));
            }
        }
        view.ifPresent(v -> {
            if (!v.errors().isEmpty()) {
                cause.add("last error: " + v.errors().getLast().what());
            }
        });
        List<String> tail = tail(Path.of(c.logPath()));
        if (cs != null && cs.state() == ContainerStatus.State.EXITED && cs.exitCode() != 0 && !tail.isEmpty()) {
            cause.add("its log ends: " + tail.getLast());
        }
        if (cause.isEmpty()) {
            cause.add(cs == null ? "state unknown" : describe(cs));
        }

        var mounts = section("mounts");
        var image = section("image");
        field(image, "image", c.image());
        field(image, "image id", c.imageId());
        try {
            ContainerConfig config = ContainerConfig.parseFrom(c.config());
            for (Mount m : config.getMountsList()) {
                field(mounts, m.getContainerPath(), m.getHostPath() + (m.getReadonly() ? " (ro)" : " (rw)"));
            }
            if (!config.getCommandList().isEmpty() || !config.getArgsList().isEmpty()) {
                List<String> argv = new ArrayList<>(config.getCommandList());
                argv.addAll(config.getArgsList());
                field(record, "command", String.join(" ", argv));
            }
        } catch (IOException e) {
            field(mounts, "error", "the stored config does not parse: " + e.getMessage());
        }
        var logs = section("log tail");
        for (String line : tail) {
            field(logs, "", line);
        }

        out.addAllCause(cause);
        out.addSections(record).addSections(backend).addSections(mounts).addSections(image).addSections(logs);
        view.ifPresent(v -> history(out, v));
        return out.build();
    }

    private static ExplainResponse failedCreation(ObjectHistory.View v, int attempts) {
        String name = v.name();
        String[] key = name.split("_", -1); // a pod's name key: name_namespace_uid_attempt
        if ("pod".equals(v.kind()) && key.length == 4) {
            name = key[1] + "/" + key[0] + " (uid " + key[2] + ", attempt " + key[3] + ")";
        }
        var out = ExplainResponse.newBuilder().setKind(v.kind()).setId(v.id()).setName(name);
        if (!v.errors().isEmpty()) {
            out.addCause(v.errors().getLast().what());
        }
        out.addCause("the " + v.kind() + " does not exist: its creation failed and was rolled back"
                + (attempts > 1 ? " (" + attempts + " failed attempts remembered; this is the newest)" : ""));
        history(out, v);
        return out.build();
    }

    private void cni(ExplainSection.Builder network, String id, List<String> cause) {
        Path f = cniState.resolve(id + ".json");
        if (!Files.isRegularFile(f)) {
            field(network, "cni", "no CNI state (not set up, or released)");
            return;
        }
        try {
            JsonNode n = JSON.readTree(f.toFile());
            String phase = n.path("phase").asText();
            field(network, "cni phase", phase);
            JsonNode config = n.path("config");
            if (config.has("name")) {
                field(network, "cni network", config.path("name").asText() + " (" + n.path("configSource").asText()
                        + ")");
            }
            if (n.hasNonNull("result")) {
                field(network, "cni result", JSON.writeValueAsString(n.get("result")));
            } else if ("SETTING_UP".equals(phase)) {
                cause.add("its network setup (CNI ADD) did not finish");
            }
        } catch (IOException e) {
            field(network, "cni", "state file unreadable: " + e.getMessage());
        }
    }

    private static void history(ExplainResponse.Builder out, ObjectHistory.View v) {
        var events = section("history");
        for (var e : v.events()) {
            field(events, e.at().toString(), e.what());
        }
        var errors = section("last errors");
        for (var e : v.errors()) {
            field(errors, e.at().toString(), e.what());
        }
        out.addSections(events).addSections(errors);
    }

    private static List<String> tail(Path log) {
        try {
            if (!Files.isRegularFile(log) || Files.size(log) > 64L << 20) {
                return List.of();
            }
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return lines.subList(Math.max(0, lines.size() - LOG_LINES), lines.size());
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }

    private static String describe(ContainerStatus cs) {
        return switch (cs.state()) {
            case EXITED -> "exited with code " + cs.exitCode() + (cs.reason().isEmpty() ? "" : " (" + cs.reason() + ")")
                    + (cs.finishedAt() == null ? "" : " at " + cs.finishedAt())
                    + (cs.message().isEmpty() ? "" : ": " + cs.message());
            case RUNNING -> "running" + (cs.pid() > 0 ? " (pid " + cs.pid() + ")" : "");
            case CREATED -> "created, not started";
            case UNKNOWN -> "unknown";
        };
    }

    private static String orNone(String s) {
        return s == null || s.isEmpty() ? "(none)" : s;
    }

    private static ExplainSection.Builder section(String title) {
        return ExplainSection.newBuilder().setTitle(title);
    }

    private static void field(ExplainSection.Builder b, String key, String value) {
        b.addFields(ExplainField.newBuilder().setKey(key).setValue(value == null ? "" : value));
    }

    private static void at(ExplainSection.Builder b, String key, Instant t) {
        if (t != null) {
            field(b, key, t.toString());
        }
    }
}
