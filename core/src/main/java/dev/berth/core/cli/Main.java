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
        CommandLine cli;
        String[] rest = args;
        if (daemonAlone(args)) {
            DaemonCommand plain = DaemonCommand.fromPlainArgs(args);
            if (plain != null) {
                // The daemon as service units start it: picocli is not loaded at all (its classes, compiled for
                // Java 5, cannot come from the AOT cache and are verified and interpreted at every start, about
                // 0.1 s).
                try {
                    return plain.call();
                } catch (Exception e) {
                    return failed(e, System.err);
                }
            }
            // Other daemon arguments (and their errors): picocli's model of the daemon command alone, not of the
            // whole command tree. Help and version still go through the whole tree.
            cli = new CommandLine(new DaemonCommand()).setCommandName("berth daemon");
            rest = java.util.Arrays.copyOfRange(args, 1, args.length);
        } else {
            cli = new CommandLine(new Main());
        }
        return cli.setExecutionExceptionHandler((ex, cmd, parsed) -> failed(ex, cmd.getErr())).execute(rest);
    }

    /** The exit code for a command that threw {@code ex}, after saying why on {@code err}. */
    private static int failed(Exception ex, java.io.PrintWriter err) {
        if (ex instanceof dev.berth.core.config.ConfigException ce) {
            err.println("berth: " + ce.getMessage());
            return CONFIG_ERROR;
        }
        if (ex instanceof dev.berth.core.store.StateFormat.Refused refused) {
            err.println("berth: " + refused.getMessage());
            return 1;
        }
        err.println("berth: " + ex.getClass().getSimpleName() + ": " + ex.getMessage());
        return 1;
    }

    private static int failed(Exception ex, java.io.PrintStream err) {
        var w = new java.io.PrintWriter(err, true);
        int code = failed(ex, w);
        w.flush();
        return code;
    }

    /** {@code berth daemon ...} without a help or version option. */
    static boolean daemonAlone(String... args) {
        if (args.length == 0 || !args[0].equals("daemon")) {
            return false;
        }
        for (String a : args) {
            // also any short-option cluster that may hold h or V: those take the whole tree, which is always right
            boolean shortCluster = a.startsWith("-") && !a.startsWith("--");
            if (a.equals("--help") || a.equals("--version") || shortCluster && (a.contains("h") || a.contains("V"))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
