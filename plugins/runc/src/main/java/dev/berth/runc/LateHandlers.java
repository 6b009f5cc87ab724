package dev.berth.runc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A stop signal sent to a container's first process before it has set its handler. That process is the init of
 * its pid namespace, and the kernel drops a signal sent to such an init from outside its namespace unless it
 * catches it (SIGKILL and SIGSTOP apart). A container stopped a few milliseconds after its start (critest's
 * "removing stopped container" does that: {@code sh -c top}, stopped right away) would then wait out the whole
 * grace period. So the stop notes whether the signal was dropped, and sends it once more when the process has
 * caught up and catches it. (Only a process that sets its handler in the instant between that check and the
 * signal gets it twice.)
 */
final class LateHandlers {
    private static final Map<String, Integer> NUMBERS = Map.ofEntries(Map.entry("HUP", 1), Map.entry("INT", 2),
            Map.entry("QUIT", 3), Map.entry("KILL", 9), Map.entry("USR1", 10), Map.entry("USR2", 12),
            Map.entry("TERM", 15), Map.entry("WINCH", 28), Map.entry("PWR", 30));

    private LateHandlers() {}

    /** The number of a signal named {@code SIGTERM}, {@code TERM} or {@code 15}; 0 when unknown. */
    static int number(String signal) {
        if (signal == null || signal.isBlank()) {
            return 15;
        }
        String s = signal.strip().toUpperCase(java.util.Locale.ROOT);
        if (s.chars().allMatch(Character::isDigit)) {
            return Integer.parseInt(s);
        }
        return NUMBERS.getOrDefault(s.startsWith("SIG") ? s.substring(3) : s, 0);
    }

    /**
     * Whether a signal sent now would be dropped: per {@code /proc/<pid>/status} lines, the process is the init of
     * its pid namespace (its innermost {@code NSpid} is 1) and neither catches ({@code SigCgt}) nor ignores
     * ({@code SigIgn}) {@code signal}.
     */
    static boolean dropped(List<String> status, int signal) {
        if (signal <= 0 || signal > 64 || signal == 9 || signal == 19) {
            return false;
        }
        boolean init = false;
        long caught = -1;
        long ignored = -1;
        for (String line : status) {
            if (line.startsWith("NSpid:")) {
                String[] f = line.substring(6).strip().split("\\s+");
                init = f.length > 1 && f[f.length - 1].equals("1");
            } else if (line.startsWith("SigCgt:")) {
                caught = Long.parseUnsignedLong(line.substring(7).strip(), 16);
            } else if (line.startsWith("SigIgn:")) {
                ignored = Long.parseUnsignedLong(line.substring(7).strip(), 16);
            }
        }
        if (!init || caught < 0 || ignored < 0) {
            return false;
        }
        long bit = 1L << (signal - 1);
        return (caught & bit) == 0 && (ignored & bit) == 0;
    }

    /** {@link #dropped(List, int)} for a live process; false when it is gone or unreadable. */
    static boolean dropped(long pid, int signal) {
        if (pid <= 0) {
            return false;
        }
        try {
            return dropped(Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")), signal);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Whether the process now catches {@code signal}. */
    static boolean catches(long pid, int signal) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("SigCgt:")) {
                    return (Long.parseUnsignedLong(line.substring(7).strip(), 16) & (1L << (signal - 1))) != 0;
                }
            }
        } catch (IOException | RuntimeException e) {
            return false;
        }
        return false;
    }
}
