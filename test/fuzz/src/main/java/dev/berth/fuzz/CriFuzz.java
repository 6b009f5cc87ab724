package dev.berth.fuzz;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.berth.core.UnixSockets;
import dev.berth.core.cli.Logging;
import dev.berth.cri.v1.ContainerStatusRequest;
import dev.berth.cri.v1.CreateContainerResponse;
import dev.berth.cri.v1.ListContainersRequest;
import dev.berth.cri.v1.ListPodSandboxRequest;
import dev.berth.cri.v1.PullImageRequest;
import dev.berth.cri.v1.RemoveContainerRequest;
import dev.berth.cri.v1.RemovePodSandboxRequest;
import dev.berth.cri.v1.RunPodSandboxResponse;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.cri.v1.StatusRequest;
import dev.berth.cri.v1.StopPodSandboxRequest;
import dev.berth.cri.v1.VersionRequest;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * A seeded fuzzer of berth's CRI edge. It sends random bytes and spoiled valid requests (bit flips, truncation,
 * huge length prefixes, unknown fields, invalid UTF-8, a NUL in every string) as raw gRPC calls to every method
 * of runtime.v1, runtime.v1alpha2 and the proto2 runtime CRI (RuntimeService and ImageService, and the first
 * draft's CreatePodSandbox), checks the daemon's health every few
 * hundred calls, and at the end removes every pod and container it can list. It fails on any UNKNOWN status, any
 * status whose description holds a Java exception's class name or a stack frame, any call that outlives its
 * deadline, an unhealthy daemon, and anything that cannot be removed.
 *
 * <p>With {@code --containerd-socket PATH}, the methods of the containerd 0.2 API ({@code types.API}) on that
 * socket are among the targets too, its {@code State} is part of each health check, and at the end it must list
 * no container it did not list at the start.
 *
 * <p>Usage: {@code CriFuzz --socket PATH [--seed N] [--calls N] [--image REF] [--pull-prefix REGISTRY]
 * [--handler NAME] [--scratch DIR] [--containerd-socket PATH]}. A PullImage request whose bytes parse and name an image is only sent when
 * that image is under {@code --pull-prefix} (a local registry, or a host the daemon mirrors to one); without the
 * option none is, so the run never reaches a public registry. {@code --image} names an image the daemon has (or
 * will have: the sandbox image once a pod ran) for CreateContainer. Prints one summary line; exit status 0 when
 * nothing failed, 1 otherwise.
 */
public final class CriFuzz {
    private static final long CALL_DEADLINE_MS = 20_000;
    private static final long STREAM_DEADLINE_MS = 500;
    private static final int HEALTH_EVERY = 200;
    private static final int MAX_PODS = 6;
    private static final int MAX_CONTAINERS = 12;
    private static final java.util.Set<String> LIFECYCLE = java.util.Set.of("RunPodSandbox", "CreateContainer",
            "StartContainer", "StopContainer", "RemoveContainer", "StopPodSandbox", "RemovePodSandbox", "ExecSync",
            "ContainerStatus", "PodSandboxStatus", "UpdateContainerResources", "ContainerStats", "Exec", "Attach",
            "PortForward", "CreatePodSandbox");

    private final Map<String, String> opts;
    private final long seed;
    private final Random random;
    private final ManagedChannel channel;
    /** The containerd 0.2 API's socket, or null when it is not fuzzed. */
    private final ManagedChannel containerd;
    private final RuntimeServiceGrpc.RuntimeServiceBlockingStub runtime;
    private final List<String> pods = new ArrayList<>();
    private final List<String> containers = new ArrayList<>();
    private final Map<String, Integer> codes = new TreeMap<>();
    private final List<String> failures = new ArrayList<>();
    /** The containerd 0.2 API's containers before the run. */
    private final List<String> containerdBefore = new ArrayList<>();
    private int skipped;

    private CriFuzz(Map<String, String> opts) {
        this.opts = opts;
        this.seed = opts.containsKey("seed") ? Long.parseLong(opts.get("seed")) : System.nanoTime();
        this.random = new Random(seed);
        this.channel = UnixSockets.channel(Path.of(opts.get("socket")));
        this.runtime = RuntimeServiceGrpc.newBlockingStub(channel);
        this.containerd = opts.containsKey("containerd-socket")
                ? UnixSockets.channel(Path.of(opts.get("containerd-socket"))) : null;
    }

    public static void main(String[] args) throws Exception {
        Logging.quietNetty(); // Netty warns that a unix socket has no SO_KEEPALIVE
        System.exit(run(args));
    }

    /** Runs the fuzzer with command-line style arguments; returns the exit status (0 pass, 1 fail, 2 usage). */
    public static int run(String... args) throws InterruptedException {
        Map<String, String> opts = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                return usage();
            }
            opts.put(args[i].substring(2), args[i + 1]);
        }
        if (!opts.containsKey("socket") || args.length % 2 != 0) {
            return usage();
        }
        CriFuzz fuzz = new CriFuzz(opts);
        try {
            return fuzz.run();
        } finally {
            fuzz.channel.shutdownNow();
            fuzz.channel.awaitTermination(5, TimeUnit.SECONDS);
            if (fuzz.containerd != null) {
                fuzz.containerd.shutdownNow();
                fuzz.containerd.awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    private static int usage() {
        System.err.println("usage: CriFuzz --socket PATH [--seed N] [--calls N] [--image REF] "
                + "[--pull-prefix HOST:PORT] [--handler NAME] [--scratch DIR] [--containerd-socket PATH]");
        return 2;
    }

    private int run() {
        int calls = Integer.parseInt(opts.getOrDefault("calls", "5000"));
        String pullPrefix = opts.get("pull-prefix");
        String image = opts.getOrDefault("image", "127.0.0.1:1/fuzz-missing:latest");
        System.out.println("fuzz: seed=" + seed + " calls=" + calls + " image=" + image + " (rerun with --seed "
                + seed + ")");
        Seeds seeds = new Seeds(random, this::somePod, this::someContainer, image,
                pullPrefix == null ? "127.0.0.1:1" : pullPrefix,
                opts.getOrDefault("handler", ""), opts.getOrDefault("scratch", "/tmp/berth-fuzz"));
        Mutator mutator = new Mutator(random);
        List<Target> targets = targets(containerd != null);
        List<Target> lifecycleTargets = targets.stream().filter(t -> LIFECYCLE.contains(t.bare()) && !t.containerd())
                .toList();
        long start = System.nanoTime();
        if (containerd != null) {
            containerdBefore.addAll(containerdIds()); // the daemon's own, which the run must leave as they are
        }
        if (!healthy("start")) {
            return report(0, start);
        }
        int sent = 0;
        while (sent < calls) {
            // A quarter of the calls drive the pod and container lifecycle, half of those with valid requests,
            // so that there are live pods and containers for the spoiled requests to hit.
            // Every choice draws the same numbers whatever the daemon answered, so that a seed replays the run.
            boolean lifecycle = random.nextInt(4) == 0;
            boolean unspoiled = random.nextBoolean();
            boolean randomBytes = random.nextInt(5) == 0;
            List<Target> pool = lifecycle ? lifecycleTargets : targets;
            Target t = pool.get(random.nextInt(pool.size()));
            Message seedMessage = seeds.seed(t.bare(), t.prototype());
            Mutator.Mutation m = lifecycle && unspoiled ? new Mutator.Mutation("valid", seedMessage.toByteArray())
                    : randomBytes ? mutator.randomBytes() : mutator.mutate(seedMessage);
            if (t.bare().equals("PullImage") && !safePull(m.bytes(), pullPrefix)) {
                skipped++;
                continue;
            }
            call(t, m);
            sent++;
            if (sent % HEALTH_EVERY == 0) {
                if (!healthy("after call " + sent)) {
                    return report(sent, start);
                }
                trim();
            }
        }
        try {
            cleanUp();
        } catch (StatusRuntimeException e) {
            failures.add("clean-up failed: " + e.getStatus());
        }
        healthy("end");
        return report(sent, start);
    }

    /** One method to call: how it is named and what its request type is. */
    private record Target(MethodDescriptor<?, ?> method, String bare, Message prototype, boolean containerd) {
        Target(MethodDescriptor<?, ?> method, String bare, Message prototype) {
            this(method, bare, prototype, false);
        }
    }

    private static List<Target> targets(boolean withContainerd) {
        Map<String, Message> prototypes = new LinkedHashMap<>();
        for (ServiceDescriptor sd : List.of(dev.berth.cri.v1.RuntimeServiceGrpc.getServiceDescriptor(),
                dev.berth.cri.v1.ImageServiceGrpc.getServiceDescriptor())) {
            for (MethodDescriptor<?, ?> m : sd.getMethods()) {
                var marshaller = (MethodDescriptor.PrototypeMarshaller<?>) m.getRequestMarshaller();
                prototypes.put(m.getBareMethodName(), (Message) marshaller.getMessagePrototype());
            }
        }
        List<Target> out = new ArrayList<>();
        for (ServiceDescriptor sd : List.of(dev.berth.cri.v1.RuntimeServiceGrpc.getServiceDescriptor(),
                dev.berth.cri.v1.ImageServiceGrpc.getServiceDescriptor(),
                dev.berth.cri.v1alpha2.RuntimeServiceGrpc.getServiceDescriptor(),
                dev.berth.cri.v1alpha2.ImageServiceGrpc.getServiceDescriptor())) {
            for (MethodDescriptor<?, ?> m : sd.getMethods()) {
                // v1alpha2 shares field numbers with v1 for every field it has; berth parses both as v1.
                out.add(new Target(m, m.getBareMethodName(), prototypes.get(m.getBareMethodName())));
            }
        }
        // The proto2 CRI (package runtime) and the first draft's CreatePodSandbox: their own request messages.
        List<MethodDescriptor<?, ?>> proto2 = new ArrayList<>();
        proto2.addAll(dev.berth.cri.proto2.RuntimeServiceGrpc.getServiceDescriptor().getMethods());
        proto2.addAll(dev.berth.cri.proto2.ImageServiceGrpc.getServiceDescriptor().getMethods());
        proto2.add(dev.berth.cri.draft.RuntimeServiceGrpc.getCreatePodSandboxMethod());
        for (MethodDescriptor<?, ?> m : proto2) {
            var marshaller = (MethodDescriptor.PrototypeMarshaller<?>) m.getRequestMarshaller();
            out.add(new Target(m, m.getBareMethodName(), (Message) marshaller.getMessagePrototype()));
        }
        if (withContainerd) {
            for (MethodDescriptor<?, ?> m : dev.berth.containerd.v02.APIGrpc.getServiceDescriptor().getMethods()) {
                var marshaller = (MethodDescriptor.PrototypeMarshaller<?>) m.getRequestMarshaller();
                out.add(new Target(m, m.getBareMethodName(), (Message) marshaller.getMessagePrototype(), true));
            }
        }
        return out;
    }

    private void call(Target t, Mutator.Mutation m) {
        MethodDescriptor<byte[], byte[]> raw = MethodDescriptor.<byte[], byte[]>newBuilder(RAW, RAW)
                .setType(t.method().getType()).setFullMethodName(t.method().getFullMethodName()).build();
        boolean streaming = t.method().getType() != MethodDescriptor.MethodType.UNARY;
        CallOptions options = CallOptions.DEFAULT.withDeadlineAfter(streaming ? STREAM_DEADLINE_MS
                : CALL_DEADLINE_MS, TimeUnit.MILLISECONDS);
        Status.Code code;
        String description = "";
        try {
            if (streaming) {
                var it = ClientCalls.blockingServerStreamingCall(t.containerd() ? containerd : channel, raw, options,
                        m.bytes());
                while (it.hasNext()) {
                    it.next();
                }
            } else {
                byte[] response = ClientCalls.blockingUnaryCall(t.containerd() ? containerd : channel, raw, options,
                        m.bytes());
                if (!t.containerd()) {
                    remember(t.bare(), response);
                }
            }
            code = Status.Code.OK;
        } catch (StatusRuntimeException e) {
            code = e.getStatus().getCode();
            description = String.valueOf(e.getStatus().getDescription());
        }
        codes.merge(code.name(), 1, Integer::sum);
        boolean hang = code == Status.Code.DEADLINE_EXCEEDED && !streaming;
        if (code == Status.Code.UNKNOWN || hang || code == Status.Code.UNAVAILABLE && !channelUp()
                || leaksInternals(description)) {
            failures.add(code + " from " + t.method().getFullMethodName() + " (" + m.kind() + ", "
                    + m.bytes().length + " bytes " + HexFormat.of().formatHex(m.bytes(), 0,
                    Math.min(48, m.bytes().length)) + "): " + description);
        }
        if (code == Status.Code.INTERNAL) {
            // Not a failure of the run, but bad input should get a named status: show the request to rerun it.
            System.out.println("fuzz: INTERNAL from " + t.method().getFullMethodName() + " (" + m.kind() + "): "
                    + requestText(t, m.bytes()) + ": " + description);
        }
    }

    /**
     * Java's exception class names or a stack frame in a status description: what a client can do nothing with, and
     * what tells a hostile one about the daemon's insides. A named status says what was wrong in the request's terms.
     */
    private static final java.util.regex.Pattern INTERNALS = java.util.regex.Pattern.compile(
            "\\b(?:java|javax|jdk|sun|com\\.google|com\\.fasterxml|io\\.grpc|io\\.netty|org\\.pf4j|dev\\.berth)\\."
                    + "[\\w.$]*(?:Exception|Error)\\b|\\n\\s*at [\\w.$]+\\(");

    static boolean leaksInternals(String description) {
        return description != null && INTERNALS.matcher(description).find();
    }

    /** The request as one line of protobuf text, or its first bytes in hex if it does not parse. */
    private static String requestText(Target t, byte[] bytes) {
        try {
            return com.google.protobuf.TextFormat.shortDebugString(t.prototype().getParserForType().parseFrom(bytes));
        } catch (InvalidProtocolBufferException e) {
            return HexFormat.of().formatHex(bytes, 0, Math.min(48, bytes.length));
        }
    }

    /** Keeps the ids of what the calls made, to aim later calls at them. */
    private void remember(String bare, byte[] response) {
        try {
            switch (bare) {
                // The proto2 CRI's and the draft's responses have the pod's id at the same number.
                case "RunPodSandbox", "CreatePodSandbox" ->
                        pods.add(RunPodSandboxResponse.parseFrom(response).getPodSandboxId());
                case "CreateContainer" ->
                        containers.add(CreateContainerResponse.parseFrom(response).getContainerId());
                default -> { }
            }
        } catch (InvalidProtocolBufferException e) {
            failures.add("unreadable " + bare + " response: " + e.getMessage());
        }
    }

    private String somePod() {
        return pick(pods, "0123456789abcdef");
    }

    private String someContainer() {
        return pick(containers, "fedcba9876543210");
    }

    /** A live id, or now and then (or when there is none) an unknown one; draws two numbers either way. */
    private String pick(List<String> ids, String unknown) {
        boolean useUnknown = random.nextInt(8) == 0;
        int index = random.nextInt(Integer.MAX_VALUE);
        return ids.isEmpty() || useUnknown ? unknown : ids.get(index % ids.size());
    }

    /**
     * Only pulls from the allowed prefix: a request that parses and names an image elsewhere is not sent. Without
     * a prefix no request that names an image is sent (a pull from a closed port is retried for seconds).
     */
    private static boolean safePull(byte[] bytes, String prefix) {
        try {
            String ref = PullImageRequest.parseFrom(bytes).getImage().getImage().strip();
            return ref.isEmpty() || prefix != null && ref.startsWith(prefix + "/");
        } catch (InvalidProtocolBufferException e) {
            return true; // the daemon cannot read it either
        }
    }

    /** Keeps the number of live pods and containers bounded by removing the oldest through the API. */
    private void trim() {
        while (containers.size() > MAX_CONTAINERS) {
            String id = containers.removeFirst();
            quietly(() -> runtime.withDeadlineAfter(CALL_DEADLINE_MS, TimeUnit.MILLISECONDS)
                    .removeContainer(RemoveContainerRequest.newBuilder().setContainerId(id).build()));
        }
        while (pods.size() > MAX_PODS) {
            String id = pods.removeFirst();
            quietly(() -> runtime.withDeadlineAfter(CALL_DEADLINE_MS, TimeUnit.MILLISECONDS)
                    .removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(id).build()));
        }
    }

    private static void quietly(Runnable r) {
        try {
            r.run();
        } catch (StatusRuntimeException ignored) {
            // Whatever stays is found and removed (or reported) by cleanUp.
        }
    }

    private boolean healthy(String when) {
        try {
            var stub = runtime.withDeadlineAfter(CALL_DEADLINE_MS, TimeUnit.MILLISECONDS);
            String name = stub.version(VersionRequest.getDefaultInstance()).getRuntimeName();
            var status = stub.status(StatusRequest.getDefaultInstance()).getStatus();
            boolean ready = status.getConditionsList().stream()
                    .anyMatch(c -> c.getType().equals("RuntimeReady") && c.getStatus());
            if (!name.equals("berth") || !ready) {
                failures.add("health check " + when + ": runtime " + name + ", RuntimeReady " + ready);
                return false;
            }
            if (containerd != null) {
                dev.berth.containerd.v02.APIGrpc.newBlockingStub(containerd)
                        .withDeadlineAfter(CALL_DEADLINE_MS, TimeUnit.MILLISECONDS)
                        .state(dev.berth.containerd.v02.StateRequest.getDefaultInstance());
            }
            return true;
        } catch (StatusRuntimeException e) {
            failures.add("health check " + when + " failed: " + e.getStatus());
            return false;
        }
    }

    /** Removes every pod and container the daemon lists; anything left is a failure. */
    private void cleanUp() {
        var stub = runtime.withDeadlineAfter(120, TimeUnit.SECONDS);
        for (var c : stub.listContainers(ListContainersRequest.getDefaultInstance()).getContainersList()) {
            removeContainer(c.getId());
        }
        for (var p : stub.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()) {
            try {
                stub.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(p.getId()).build());
            } catch (StatusRuntimeException e) {
                System.out.println("fuzz: stopping pod " + p.getId() + " failed: " + e.getStatus());
            }
            try {
                stub.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(p.getId()).build());
            } catch (StatusRuntimeException e) {
                failures.add("cannot remove pod " + p.getId() + " (" + p.getMetadata().getName() + "): "
                        + e.getStatus());
            }
        }
        var leftPods = stub.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList();
        var leftContainers = stub.listContainers(ListContainersRequest.getDefaultInstance()).getContainersList();
        if (containerd != null) {
            List<String> left = new ArrayList<>(containerdIds());
            left.removeAll(containerdBefore);
            if (!left.isEmpty()) {
                failures.add("left after clean-up: containerd 0.2 containers " + left);
            }
        }
        if (!leftPods.isEmpty() || !leftContainers.isEmpty()) {
            failures.add("left after clean-up: " + leftPods.size() + " pods, " + leftContainers.size()
                    + " containers");
        }
    }

    private void removeContainer(String id) {
        var stub = runtime.withDeadlineAfter(120, TimeUnit.SECONDS);
        try {
            stub.removeContainer(RemoveContainerRequest.newBuilder().setContainerId(id).build());
        } catch (StatusRuntimeException e) {
            String state = "";
            try {
                state = stub.containerStatus(ContainerStatusRequest.newBuilder().setContainerId(id).build())
                        .getStatus().getState().name();
            } catch (StatusRuntimeException ignored) {
                // reported below
            }
            failures.add("cannot remove container " + id + " (" + state + "): " + e.getStatus());
        }
    }

    /** The ids of the containerd 0.2 API's containers. */
    private List<String> containerdIds() {
        return dev.berth.containerd.v02.APIGrpc.newBlockingStub(containerd)
                .withDeadlineAfter(CALL_DEADLINE_MS, TimeUnit.MILLISECONDS)
                .state(dev.berth.containerd.v02.StateRequest.getDefaultInstance()).getContainersList().stream()
                .map(dev.berth.containerd.v02.Container::getId).toList();
    }

    private boolean channelUp() {
        try {
            runtime.withDeadlineAfter(5, TimeUnit.SECONDS).version(VersionRequest.getDefaultInstance());
            return true;
        } catch (StatusRuntimeException e) {
            return false;
        }
    }

    private int report(int sent, long start) {
        double seconds = (System.nanoTime() - start) / 1e9;
        failures.stream().limit(30).forEach(f -> System.out.println("fuzz: FAIL " + f));
        long unknown = codes.getOrDefault("UNKNOWN", 0);
        System.out.printf("fuzz: %s seed=%d calls=%d skipped-unsafe-pulls=%d codes=%s unknown=%d failures=%d "
                        + "time=%.1fs%n", failures.isEmpty() ? "PASS" : "FAIL", seed, sent, skipped, codes, unknown,
                failures.size(), seconds);
        return failures.isEmpty() ? 0 : 1;
    }

    private static final MethodDescriptor.Marshaller<byte[]> RAW = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };
}
