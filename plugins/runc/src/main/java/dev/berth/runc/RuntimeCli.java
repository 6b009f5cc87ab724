package dev.berth.runc;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.oci.ProcessRunner;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The OCI runtime's command line (runc and crun agree on the subcommands berth uses). */
final class RuntimeCli {
    private static final Duration TIMEOUT = Duration.ofSeconds(120);
    private final RuncOptions options;

    RuntimeCli(RuncOptions options) {
        this.options = options;
    }

    /** The full command for {@code args}, with the global flags. */
    List<String> command(List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(options.binary().toString(), "--root", options.root().toString()));
        if (options.systemdCgroup()) {
            cmd.add("--systemd-cgroup");
        }
        cmd.addAll(options.runtimeArgs());
        cmd.addAll(args);
        return cmd;
    }

    ProcessRunner.Result run(List<String> args) {
        return ProcessRunner.run(command(args), null, TIMEOUT);
    }

    /** {@code state <id>} as JSON, or null when the runtime does not know the container. */
    JsonNode state(String id) {
        ProcessRunner.Result r = run(List.of("state", id));
        if (!r.ok()) {
            return null;
        }
        try {
            return OciSpecs.JSON.readTree(r.stdout());
        } catch (IOException e) {
            return null;
        }
    }

    /** The same global flags, as conmon's {@code --runtime-arg}s. */
    List<String> conmonArgs() {
        List<String> args = new ArrayList<>(List.of("--runtime-arg", "--root=" + options.root()));
        if (options.systemdCgroup()) {
            args.add("--runtime-arg");
            args.add("--systemd-cgroup");
        }
        for (String a : options.runtimeArgs()) {
            args.add("--runtime-arg");
            args.add(a);
        }
        return args;
    }
}
