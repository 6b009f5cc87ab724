package dev.berth.core.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

/** {@code log_format = "json"}: every line is one JSON object that parses back to what was logged. */
class JsonLoggingTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Logging.JsonFormatter formatter = new Logging.JsonFormatter();

    private JsonNode format(LogRecord r) throws IOException {
        String line = formatter.format(r);
        assertThat(line).endsWith(System.lineSeparator());
        String body = line.substring(0, line.length() - System.lineSeparator().length());
        assertThat(body).doesNotContain("\n").doesNotContain("\r");
        assertThat(body.chars()).allMatch(c -> c >= 0x20 && c < 0x7f);
        return JSON.readTree(body);
    }

    private static LogRecord record(Level level, String logger, String msg) {
        LogRecord r = new LogRecord(level, msg);
        r.setLoggerName(logger);
        r.setInstant(Instant.parse("2026-03-04T05:06:07.089123Z"));
        return r;
    }

    @Test
    void plainRecord() throws IOException {
        JsonNode n = format(record(Level.INFO, "dev.berth.core.Daemon", "serving CRI on /run/berth/berth.sock"));
        assertThat(n.get("time").asText()).isEqualTo("2026-03-04T05:06:07.089Z");
        assertThat(n.get("level").asText()).isEqualTo("info");
        assertThat(n.get("logger").asText()).isEqualTo("dev.berth.core.Daemon");
        assertThat(n.get("msg").asText()).isEqualTo("serving CRI on /run/berth/berth.sock");
        assertThat(n.has("exception")).isFalse();
        assertThat(n.has("rpc")).isFalse();
    }

    @Test
    void levelsUseSystemLoggerNames() throws IOException {
        assertThat(format(record(Level.SEVERE, "x", "m")).get("level").asText()).isEqualTo("error");
        assertThat(format(record(Level.WARNING, "x", "m")).get("level").asText()).isEqualTo("warn");
        assertThat(format(record(Level.FINE, "x", "m")).get("level").asText()).isEqualTo("debug");
        assertThat(format(record(Level.FINER, "x", "m")).get("level").asText()).isEqualTo("trace");
    }

    @Test
    void unicodeQuotesAndControlCharactersRoundTrip() throws IOException {
        String msg = "pulled \"nginx\" \\ ünïcödé 日本 😀\ttab\nnewline\r\u0000\u001b[31m end";
        assertThat(format(record(Level.INFO, "x", msg)).get("msg").asText()).isEqualTo(msg);
    }

    @Test
    void parametersAreFormattedIntoMsg() throws IOException {
        LogRecord r = record(Level.INFO, "x", "loaded {0} plugins from {1}");
        r.setParameters(new Object[] {3, "/usr/lib/berth/plugins"});
        assertThat(format(r).get("msg").asText()).isEqualTo("loaded 3 plugins from /usr/lib/berth/plugins");
    }

    @Test
    void exceptionWithCauseAsOneStackString() throws IOException {
        LogRecord r = record(Level.SEVERE, "x", "reload failed");
        r.setThrown(new IllegalStateException("bad \"table\"\nline two",
                new java.io.IOException("disk gone")));
        JsonNode e = format(r).get("exception");
        assertThat(e.get("class").asText()).isEqualTo("java.lang.IllegalStateException");
        assertThat(e.get("message").asText()).isEqualTo("bad \"table\"\nline two");
        assertThat(e.get("stack").asText())
                .startsWith("java.lang.IllegalStateException: bad \"table\"\nline two")
                .contains("\tat dev.berth.core.cli.JsonLoggingTest.exceptionWithCauseAsOneStackString")
                .contains("Caused by: java.io.IOException: disk gone");
    }

    @Test
    void exceptionWithoutMessage() throws IOException {
        LogRecord r = record(Level.WARNING, "x", "m");
        r.setThrown(new NullPointerException());
        JsonNode e = format(r).get("exception");
        assertThat(e.get("class").asText()).isEqualTo("java.lang.NullPointerException");
        assertThat(e.get("message").isNull()).isTrue();
    }

    @Test
    void rpcLineFieldsBecomeFields() throws IOException {
        // As CriServer.log writes it.
        String msg = "rpc=RunPodSandbox pod=0123456789abc container=fedcba9876543 handler=kata plugin=kata-shim"
                + " code=INTERNAL msg=\"shim said \"no\" took=3 took=x\" took=12.5ms";
        JsonNode n = format(record(Level.WARNING, "berth.rpc", msg));
        assertThat(n.get("msg").asText()).isEqualTo(msg);
        assertThat(n.get("rpc").asText()).isEqualTo("RunPodSandbox");
        assertThat(n.get("pod").asText()).isEqualTo("0123456789abc");
        assertThat(n.get("container").asText()).isEqualTo("fedcba9876543");
        assertThat(n.get("handler").asText()).isEqualTo("kata");
        assertThat(n.get("plugin").asText()).isEqualTo("kata-shim");
        assertThat(n.get("code").asText()).isEqualTo("INTERNAL");
        assertThat(n.get("status_msg").asText()).isEqualTo("shim said \"no\" took=3 took=x");
        assertThat(n.get("took").asText()).isEqualTo("12.5ms");
        assertThat(n.get("took_ms").asDouble()).isEqualTo(12.5);
    }

    @Test
    void rpcLineWithoutOptionalFields() throws IOException {
        JsonNode n = format(record(Level.INFO, "berth.rpc", "rpc=Version code=OK took=0.1ms"));
        assertThat(n.get("rpc").asText()).isEqualTo("Version");
        assertThat(n.get("code").asText()).isEqualTo("OK");
        assertThat(n.get("took_ms").asDouble()).isEqualTo(0.1);
        assertThat(n.has("pod")).isFalse();
        assertThat(n.has("handler")).isFalse();
        assertThat(n.has("status_msg")).isFalse();
        LogRecord r = record(Level.INFO, "berth.rpc", "rpc={0} code=UNIMPLEMENTED");
        r.setParameters(new Object[] {"/runtime.v1.RuntimeService/Nope"});
        JsonNode u = format(r);
        assertThat(u.get("rpc").asText()).isEqualTo("/runtime.v1.RuntimeService/Nope");
        assertThat(u.get("code").asText()).isEqualTo("UNIMPLEMENTED");
    }

    @Test
    void otherLoggersAreNotParsedForRpcFields() throws IOException {
        JsonNode n = format(record(Level.INFO, "dev.berth.core.Daemon", "rpc=Version code=OK took=0.1ms"));
        assertThat(n.has("rpc")).isFalse();
    }

    @Test
    void daemonRefusesAnUnknownLogFormatAsAConfigError(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws IOException {
        java.nio.file.Path config = java.nio.file.Files.writeString(dir.resolve("config.toml"),
                "socket = \"" + dir.resolve("b.sock") + "\"\nstate = \"" + dir.resolve("state") + "\"\n");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream old = System.err;
        int code;
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            code = Main.run("daemon", "--config", config.toString(), "--log-format", "xml");
        } finally {
            System.setErr(old);
        }
        assertThat(code).isEqualTo(Main.CONFIG_ERROR);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--log-format: expected text or json, got \"xml\"");
    }

    /** Through System.Logger, the API berth's code uses, with the backend configured as the daemon does. */
    @Test
    void systemLoggerWritesJsonLinesToStderr() throws IOException {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream old = System.err;
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            Logging.configure("debug", "json");
            System.Logger log = System.getLogger("berth.rpc");
            log.log(System.Logger.Level.INFO, "rpc=StopPodSandbox pod=abc code=OK took=1.0ms");
            log.log(System.Logger.Level.DEBUG, "rpc=ListPodSandbox code=OK took=0.2ms");
            System.getLogger("dev.berth.test").log(System.Logger.Level.ERROR, "boom ✓", new RuntimeException("why"));
        } finally {
            System.setErr(old); // first: the next handler writes to the real stderr again
            Logging.configure("info");
        }
        List<JsonNode> lines = new ArrayList<>();
        for (String line : err.toString(StandardCharsets.UTF_8).split("\\R")) {
            JsonNode node = JSON.readTree(line);
            // Only this test's loggers: a thread another test left running may log meanwhile.
            if (List.of("berth.rpc", "dev.berth.test").contains(node.get("logger").asText())) {
                lines.add(node);
            }
        }
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0).get("pod").asText()).isEqualTo("abc");
        assertThat(lines.get(1).get("level").asText()).isEqualTo("debug");
        assertThat(lines.get(1).get("rpc").asText()).isEqualTo("ListPodSandbox");
        assertThat(lines.get(2).get("msg").asText()).isEqualTo("boom ✓");
        assertThat(lines.get(2).get("level").asText()).isEqualTo("error");
        assertThat(lines.get(2).get("exception").get("message").asText()).isEqualTo("why");
        assertThat(lines.get(2).get("time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
    }
}
