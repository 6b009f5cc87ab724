package dev.berth.core.streaming;

import java.util.List;
import java.util.Objects;

/** What a session URL was issued for. The token in the URL maps to exactly one of these. */
sealed interface StreamRequest {

    /** The URL path segment that serves this kind of request. */
    String kind();

    /** An interactive command in a running container. */
    record Exec(String containerId, List<String> command, boolean tty, boolean stdin, boolean stdout,
                boolean stderr) implements StreamRequest {
        public Exec {
            Objects.requireNonNull(containerId, "containerId");
            command = List.copyOf(command);
            if (command.isEmpty()) {
                throw new IllegalArgumentException("exec needs a command");
            }
        }

        @Override
        public String kind() {
            return "exec";
        }
    }

    /** The stdio of a container's main process. */
    record Attach(String containerId, boolean tty, boolean stdin, boolean stdout, boolean stderr)
            implements StreamRequest {
        public Attach {
            Objects.requireNonNull(containerId, "containerId");
        }

        @Override
        public String kind() {
            return "attach";
        }
    }

    /** Connections to ports inside a pod; an empty list allows any port the client names. */
    record PortForward(String sandboxId, List<Integer> ports) implements StreamRequest {
        public PortForward {
            Objects.requireNonNull(sandboxId, "sandboxId");
            ports = List.copyOf(ports);
            for (int port : ports) {
                if (port <= 0 || port > 65535) {
                    throw new IllegalArgumentException("port " + port + " is out of range");
                }
            }
        }

        @Override
        public String kind() {
            return "portforward";
        }
    }
}
