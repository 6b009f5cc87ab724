package dev.berth.core.cli;

import dev.berth.admin.v1.DrainHandlerRequest;
import dev.berth.admin.v1.ListHandlersRequest;
import dev.berth.admin.v1.UndrainHandlerRequest;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code berth handler drain|undrain|list}: asks the running daemon through its admin service. */
@Command(name = "handler", description = "Drain, undrain or list the running daemon's handlers.",
        subcommands = {HandlerCommand.Drain.class, HandlerCommand.Undrain.class, HandlerCommand.List.class})
final class HandlerCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    static AdminClient daemon(ConfigOption config) {
        var socket = config.load().config().socket();
        AdminClient c = AdminClient.connect(socket);
        if (c == null) {
            throw new IllegalStateException("no berth daemon answers on " + socket);
        }
        return c;
    }

    static <T> T required(T answer, ConfigOption config) {
        if (answer == null) {
            throw new IllegalStateException("no berth daemon answers on " + config.load().config().socket());
        }
        return answer;
    }

    @Command(name = "drain", description = "Refuse new pods on handler NAME (UNAVAILABLE); its existing pods keep "
            + "working. Persisted across restarts.")
    static final class Drain implements Callable<Integer> {
        @Mixin
        ConfigOption config;
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            try (AdminClient c = daemon(config)) {
                var r = required(c.call(s -> s.drainHandler(DrainHandlerRequest.newBuilder().setName(name)
                        .build())), config);
                System.out.println("handler " + name + (r.getChanged() ? " drained" : " was drained already")
                        + ": new pods on it are refused; its existing pods keep working");
                return 0;
            }
        }
    }

    @Command(name = "undrain", description = "Let handler NAME take new pods again.")
    static final class Undrain implements Callable<Integer> {
        @Mixin
        ConfigOption config;
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            try (AdminClient c = daemon(config)) {
                var r = required(c.call(s -> s.undrainHandler(UndrainHandlerRequest.newBuilder().setName(name)
                        .build())), config);
                System.out.println("handler " + name + (r.getChanged() ? " undrained" : " was not drained")
                        + ": it takes new pods");
                return 0;
            }
        }
    }

    @Command(name = "list", description = "The daemon's handler generations: pods, drain state, cached health.")
    static final class List implements Callable<Integer> {
        @Mixin
        ConfigOption config;

        @Override
        public Integer call() {
            try (AdminClient c = daemon(config)) {
                var r = required(c.call(s -> s.listHandlers(ListHandlersRequest.getDefaultInstance())), config);
                return PluginsCommand.printLiveHandlers(r) ? 0 : 1;
            }
        }
    }
}
