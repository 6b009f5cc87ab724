package dev.berth.core.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.LogManager;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The logging backend, configured here and nowhere else: berth's code logs through {@link System.Logger}, which
 * the JDK routes to java.util.logging; this class gives it one-line records on stderr at the configured level:
 * text, or one JSON object per line ({@code log_format = "json"}, {@link JsonFormatter}).
 */
public final class Logging {
    /** JUL keeps loggers weakly: hold the ones whose level is set here, or the setting is lost on GC. */
    private static final Logger NETTY_BOOTSTRAP = Logger.getLogger("io.netty.bootstrap");
    private static final Logger PF4J = Logger.getLogger("org.pf4j");

    private Logging() {}

    public static void configure(String level) {
        configure(level, "text");
    }

    /** {@code format}: {@code text} or {@code json}, as {@code log_format} in the config. */
    public static void configure(String level, String format) {
        System.setProperty("java.util.logging.SimpleFormatter.format",
                "%1$tFT%1$tT.%1$tLZ %4$-7s %3$s: %5$s%6$s%n");
        LogManager.getLogManager().reset();
        Logger root = Logger.getLogger("");
        ConsoleHandler h = new ConsoleHandler();
        h.setFormatter("json".equals(format) ? new JsonFormatter() : new SimpleFormatter());
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

    /**
     * One JSON object per line: {@code time} (RFC 3339, UTC, milliseconds), {@code level} (error, warn, info, debug,
     * trace), {@code logger}, {@code msg}, and {@code exception} ({@code class}, {@code message}, {@code stack}) when
     * the record has one. The RPC log line's key=value fields (CriServer's {@code berth.rpc} logger) are also
     * fields of their own. Non-ASCII is escaped, so a line is ASCII whatever stderr's encoding.
     */
    static final class JsonFormatter extends Formatter {
        private static final JsonFactory JSON = JsonFactory.builder()
                .enable(JsonWriteFeature.ESCAPE_NON_ASCII).build();
        private static final DateTimeFormatter TIME =
                DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX").withZone(ZoneOffset.UTC);
        /** CriServer's line: rpc=NAME[ pod=ID][ container=ID][ handler=H plugin=P] code=CODE[ msg="..."] took=N.Nms */
        private static final Pattern RPC = Pattern.compile("rpc=(\\S+)(?: pod=(\\S+))?(?: container=(\\S+))?"
                + "(?: handler=(\\S*) plugin=(\\S*))? code=(\\S+)(?: msg=\"(.*)\")?(?: took=(\\S+)ms)?",
                Pattern.DOTALL);

        @Override
        public String format(LogRecord r) {
            StringWriter out = new StringWriter(256);
            String msg = formatMessage(r);
            try (JsonGenerator g = JSON.createGenerator(out)) {
                g.writeStartObject();
                g.writeStringField("time", TIME.format(r.getInstant()));
                g.writeStringField("level", level(r.getLevel()));
                g.writeStringField("logger", r.getLoggerName());
                g.writeStringField("msg", msg);
                Matcher m = "berth.rpc".equals(r.getLoggerName()) && msg != null ? RPC.matcher(msg) : null;
                if (m != null && m.matches()) {
                    String[] names = {"rpc", "pod", "container", "handler", "plugin", "code", "status_msg"};
                    for (int i = 0; i < names.length; i++) {
                        if (m.group(i + 1) != null) {
                            g.writeStringField(names[i], m.group(i + 1));
                        }
                    }
                    if (m.group(8) != null) {
                        g.writeStringField("took", m.group(8) + "ms");
                        try {
                            g.writeNumberField("took_ms", Double.parseDouble(m.group(8).replace(',', '.')));
                        } catch (NumberFormatException e) {
                            // took stays as text
                        }
                    }
                }
                Throwable t = r.getThrown();
                if (t != null) {
                    StringWriter stack = new StringWriter();
                    t.printStackTrace(new PrintWriter(stack));
                    g.writeObjectFieldStart("exception");
                    g.writeStringField("class", t.getClass().getName());
                    g.writeStringField("message", t.getMessage());
                    g.writeStringField("stack", stack.toString());
                    g.writeEndObject();
                }
                g.writeEndObject();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return out.append(System.lineSeparator()).toString();
        }

        /** System.Logger's names for the levels that map onto JUL's. */
        private static String level(Level l) {
            int v = l.intValue();
            return v >= Level.SEVERE.intValue() ? "error"
                    : v >= Level.WARNING.intValue() ? "warn"
                    : v >= Level.INFO.intValue() ? "info"
                    : v >= Level.FINE.intValue() ? "debug"
                    : "trace";
        }
    }
}
