package dev.berth.core.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code berth} command. */
// --help and --version are inherited: every subcommand answers --help with its usage.
@Command(name = "berth", mixinStandardHelpOptions = true, scope = CommandLine.ScopeType.INHERIT,
        versionProvider = VersionCommand.Provider.class,
        description = "A Kubernetes container runtime (CRI) with pluggable backends.",
        subcommands = {DaemonCommand.class, ConfigCommand.class, PluginsCommand.class, DoctorCommand.class,
                HandlerCommand.class, ExplainCommand.class, TckCommand.class, NetworkCommand.class, VersionCommand.class,
                CommandLine.HelpCommand.class,
                picocli.AutoComplete.GenerateCompletion.class})
public final class Main implements Runnable {
    /** Exit code for configuration errors. */
    public static final int CONFIG_ERROR = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        Logging.configure("info");
        System.exit(run(args));
    }

    /** Runs the CLI and returns the exit code (for tests). */
    public static int run(String... args) {
        return new CommandLine(new Main()).setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (ex instanceof dev.berth.core.config.ConfigException ce) {
                cmd.getErr().println("berth: " + ce.getMessage());
                return CONFIG_ERROR;
            }
            if (ex instanceof dev.berth.core.store.StateFormat.Refused refused) {
                cmd.getErr().println("berth: " + refused.getMessage());
                return 1;
            }
            cmd.getErr().println("berth: " + ex.getClass().getSimpleName() + ": " + ex.getMessage());
            return 1;
        }).execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
