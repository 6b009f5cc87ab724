package dev.berth.core.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * How long each step of the daemon's start took, logged once it serves: the time since the process began (the JVM's
 * own start included), then each step's share. An operator reading a slow start sees where it went.
 */
final class StartPhases {
    private final long began = System.nanoTime();
    private long last = began;
    private final List<String> steps = new ArrayList<>();

    /** Ends the current step, named {@code name}. */
    void step(String name) {
        long now = System.nanoTime();
        steps.add(name + " " + (now - last) / 1_000_000 + " ms");
        last = now;
    }

    /** The line to log: the time since the process started, the JVM's share and each step's. */
    String summary() {
        long since = (System.nanoTime() - began) / 1_000_000;
        long ms = processAgeMillis();
        String process = ms < 0 ? "" : ms + " ms after the process started (the runtime's own start "
                + Math.max(0, ms - since) + " ms); ";
        return "started: " + process + String.join(", ", steps);
    }

    /**
     * The process's age from the kernel's clock ticks (its start time in /proc/self/stat against /proc/uptime; Linux
     * counts 100 ticks a second), or -1 where that cannot be read. The JDK's start instant is only as exact as the
     * boot time's whole seconds.
     */
    static long processAgeMillis() {
        try {
            String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/self/stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long startTicks = Long.parseLong(fields[19]); // field 22 of the whole line
            String uptime = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/uptime"));
            double up = Double.parseDouble(uptime.substring(0, uptime.indexOf(' ')));
            return Math.round(up * 1000 - startTicks * 10.0);
        } catch (java.io.IOException | RuntimeException e) {
            return -1;
        }
    }
}
