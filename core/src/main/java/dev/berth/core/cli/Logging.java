package dev.berth.core.cli;

import java.util.logging.ConsoleHandler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * The logging backend, configured here and nowhere else: berth's code logs through {@link System.Logger}, which
 * the JDK routes to java.util.logging; this class gives it one-line records on stderr at the configured level.
 */
public final class Logging {
    /** JUL keeps loggers weakly: hold the ones whose level is set here, or the setting is lost on GC. */
    private static final Logger NETTY_BOOTSTRAP = Logger.getLogger("io.netty.bootstrap");
    private static final Logger PF4J = Logger.getLogger("org.pf4j");

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
        quietNetty();
        PF4J.setLevel(l.intValue() <= Level.FINE.intValue() ? Level.FINE : Level.WARNING);
    }

    /**
     * Netty probes socket options that unix sockets lack (SO_KEEPALIVE on a gRPC channel) and logs each probe;
     * nothing is wrong. Also for tools and tests that talk to the CRI socket without configuring logging.
     */
    public static void quietNetty() {
        NETTY_BOOTSTRAP.setLevel(Level.SEVERE);
    }
}
