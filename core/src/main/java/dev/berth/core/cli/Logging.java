package dev.berth.core.cli;

import java.util.logging.ConsoleHandler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/** One-line log records on stderr, at the configured level. */
public final class Logging {
    private Logging() {}

    public static void configure(String level) {
        System.setProperty("java.util.logging.SimpleFormatter.format",
                "%1$tFT%1$tT.%1$tLZ %4$-7s %3$s: %5$s%6$s%n");
        LogManager.getLogManager().reset();
        Logger root = Logger.getLogger("");
        ConsoleHandler h = new ConsoleHandler();
        h.setFormatter(new SimpleFormatter());
        Level l = switch (level) {
            case "error" -> Level.SEVERE;
            case "warn" -> Level.WARNING;
            case "debug" -> Level.FINE;
            default -> Level.INFO;
        };
        h.setLevel(l);
        root.setLevel(l);
        root.addHandler(h);
        // Netty probes socket options that unix sockets lack and logs each probe; nothing is wrong.
        Logger.getLogger("io.grpc.netty.shaded.io.netty.bootstrap").setLevel(Level.SEVERE);
        Logger.getLogger("org.pf4j").setLevel(l.intValue() <= Level.FINE.intValue() ? Level.FINE : Level.WARNING);
    }
}
