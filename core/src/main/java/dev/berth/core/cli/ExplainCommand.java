package dev.berth.core.cli;

import dev.berth.admin.v1.ExplainRequest;
import dev.berth.admin.v1.ExplainResponse;
import dev.berth.admin.v1.ExplainSection;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code berth explain POD|CONTAINER}: why a pod or container is where it is, asked of the running daemon. */
@Command(name = "explain", description = "Print everything the running daemon knows about one pod or container, "
        + "the likely cause of trouble first: its record and state history, handler and plugin, the backend's own view "
        + "(processes, cgroup, bundle, conmon or shim pid), network (netns, IPs, CNI result or error), mounts and "
        + "image, recent events and the last errors of RPCs on it. A pod whose RunPodSandbox failed and was rolled "
        + "back is found by its name.")
final class ExplainCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;
    @Parameters(paramLabel = "POD|CONTAINER", description = "An id, a unique id prefix, or a name (a pod's name or "
            + "namespace/name, a container's name).")
    String query;

    @Override
    public Integer call() {
        try (AdminClient c = HandlerCommand.daemon(config)) {
            ExplainResponse r = HandlerCommand.required(c.call(s -> s.explain(ExplainRequest.newBuilder()
                    .setQuery(query).build())), config);
            print(r, System.out);
            return 0;
        } catch (io.grpc.StatusRuntimeException e) {
            System.err.println("berth: " + e.getStatus().getCode() + ": " + e.getStatus().getDescription());
            return 1;
        }
    }

    static void print(ExplainResponse r, PrintStream out) {
        out.println(r.getKind() + " " + r.getId() + (r.getName().isEmpty() ? "" : " (" + r.getName() + ")"));
        for (String line : r.getCauseList()) {
            out.println("  cause: " + line);
        }
        for (ExplainSection s : r.getSectionsList()) {
            if (s.getFieldsCount() == 0) {
                continue;
            }
            out.println();
            out.println(s.getTitle() + ":");
            int width = 0;
            for (var f : s.getFieldsList()) {
                width = Math.max(width, f.getKey().length());
            }
            for (var f : s.getFieldsList()) {
                out.println(f.getKey().isEmpty() ? "  " + f.getValue()
                        : "  " + f.getKey() + " ".repeat(width - f.getKey().length()) + "  " + f.getValue());
            }
        }
    }
}
