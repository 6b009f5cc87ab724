package dev.berth.kata;

import java.util.Locale;
import java.util.Map;

/** Linux signal numbers for the stop signals images name. */
final class Signals {
    static final int SIGKILL = 9;
    static final int SIGTERM = 15;
    private static final Map<String, Integer> BY_NAME = Map.ofEntries(Map.entry("HUP", 1), Map.entry("INT", 2),
            Map.entry("QUIT", 3), Map.entry("ABRT", 6), Map.entry("KILL", 9), Map.entry("USR1", 10),
            Map.entry("USR2", 12), Map.entry("PIPE", 13), Map.entry("ALRM", 14), Map.entry("TERM", 15),
            Map.entry("CONT", 18), Map.entry("STOP", 19), Map.entry("TSTP", 20), Map.entry("WINCH", 28),
            Map.entry("PWR", 30), Map.entry("SYS", 31));

    private Signals() {}

    /** The number for {@code SIGTERM}, {@code TERM} or {@code 15}; SIGTERM when empty or unknown. */
    static int parse(String s) {
        if (s == null || s.isBlank()) {
            return SIGTERM;
        }
        String u = s.strip().toUpperCase(Locale.ROOT);
        if (u.chars().allMatch(Character::isDigit)) {
            int n = Integer.parseInt(u);
            return n > 0 && n < 65 ? n : SIGTERM;
        }
        if (u.startsWith("SIG")) {
            u = u.substring(3);
        }
        return BY_NAME.getOrDefault(u, SIGTERM);
    }
}
