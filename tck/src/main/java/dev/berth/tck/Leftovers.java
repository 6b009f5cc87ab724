package dev.berth.tck;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * What a backend left on a Linux host below a directory once everything it created was removed and it was closed:
 * mounts below the directory and live processes whose command line names it. The contract's "nothing left
 * behind" for the parts the tck can see from outside.
 */
public final class Leftovers {
    private Leftovers() {}

    /** Mount points below {@code dir}, deepest first (from /proc/self/mountinfo). */
    public static List<String> mountsBelow(Path dir) {
        String prefix = dir.toAbsolutePath().normalize().toString() + "/";
        List<String> found = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] f = line.split(" ");
                if (f.length > 4) {
                    String mountPoint = unescape(f[4]);
                    if (mountPoint.startsWith(prefix)) {
                        found.add(mountPoint);
                    }
                }
            }
        } catch (IOException e) {
            return List.of();
        }
        found.sort((a, b) -> b.length() - a.length());
        return found;
    }

    /** Live processes (not zombies) other than this JVM whose command line contains {@code dir}. */
    public static List<String> processesNaming(Path dir) {
        String needle = dir.toAbsolutePath().normalize().toString();
        List<String> found = new ArrayList<>();
        try (Stream<Path> s = Files.list(Path.of("/proc"))) {
            for (Path p : s.toList()) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit) || Long.parseLong(name) == ProcessHandle.current().pid()) {
                    continue;
                }
                try {
                    String cmd = Files.readString(p.resolve("cmdline")).replace('\0', ' ').strip();
                    String stat = Files.readString(p.resolve("stat"));
                    boolean zombie = stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
                    if (!zombie && cmd.contains(needle)) {
                        found.add(name + " " + (cmd.length() > 120 ? cmd.substring(0, 120) + "…" : cmd));
                    }
                } catch (IOException | RuntimeException e) {
                    // raced with an exiting process
                }
            }
        } catch (IOException e) {
            return List.of();
        }
        return found;
    }

    private static String unescape(String s) {
        return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }
}
