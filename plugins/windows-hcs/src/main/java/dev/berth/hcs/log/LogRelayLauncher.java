package dev.berth.hcs.log;

import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Starts a container's log relay ({@link LogRelayMain}) with the Java runtime berth runs on and the plugin's own
 * classes and {@code lib/}, and writes its {@link RelayRecord}. Its output goes to {@code <record>.log}.
 */
public final class LogRelayLauncher {
    private final String java;
    private final String classpath;

    public LogRelayLauncher(String java, String classpath) {
        this.java = java;
        this.classpath = classpath;
    }

    /** The runtime of this process and the classpath of the plugin that holds this class. */
    public static LogRelayLauncher forThisPlugin() {
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"),
                "bin", "java").toString());
        return new LogRelayLauncher(java, classpathOf(LogRelayLauncher.class));
    }

    /** The code source of {@code c} and the jars of the {@code lib/} folder beside it (a PF4J plugin's layout). */
    static String classpathOf(Class<?> c) {
        try {
            Path code = Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
            List<String> out = new ArrayList<>(List.of(code.toString()));
            Path lib = code.getParent() == null ? null : code.getParent().resolve("lib");
            if (lib != null && Files.isDirectory(lib)) {
                try (Stream<Path> jars = Files.list(lib)) {
                    jars.filter(p -> p.toString().endsWith(".jar")).sorted().forEach(p -> out.add(p.toString()));
                }
            }
            return String.join(File.pathSeparator, out);
        } catch (URISyntaxException | IOException e) {
            throw new IllegalStateException("cannot find the plugin's classes: " + e.getMessage(), e);
        }
    }

    /**
     * The relay's command line up to its sources ({@code --stdout}, {@code --stderr}, {@code --exit}), which the
     * hand-over of the pipes adds; {@code logPath} may be null (output drained).
     */
    public List<String> command(Path logPath, Path exitFile, Path control) {
        return List.of(java, "-Xmx16m", "-XX:+UseSerialGC", "-cp", classpath, LogRelayMain.class.getName(),
                "--log", logPath == null ? "" : logPath.toString(), "--exit-file", exitFile.toString(), "--control",
                control.toString());
    }

    /**
     * Starts a relay over sources named on its command line; {@code record} is where its record goes,
     * {@code logPath} may be null (output drained).
     */
    public RelayRecord start(Path record, Path logPath, Path exitFile, Path control, String stdout, String stderr,
                             String exit) throws IOException {
        List<String> cmd = new ArrayList<>(command(logPath, exitFile, control));
        cmd.addAll(List.of("--stdout", stdout, "--stderr", stderr, "--exit", exit));
        Path log = record.resolveSibling(record.getFileName() + ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File(File.separatorChar == '\\' ? "NUL"
                        : "/dev/null")))
                .start();
        RelayRecord r = RelayRecord.of(p.toHandle(), control);
        r.write(record);
        return r;
    }
}
