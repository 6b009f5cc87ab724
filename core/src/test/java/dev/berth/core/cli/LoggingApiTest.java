package dev.berth.core.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** berth's code logs through System.Logger; java.util.logging is only the backend, configured in {@link Logging}. */
class LoggingApiTest {
    private static final Path SOURCES = Path.of(System.getProperty("basedir", "")).toAbsolutePath()
            .resolve("src/main/java");

    @Test
    void onlyLoggingUsesJavaUtilLogging() throws IOException {
        List<String> users;
        try (Stream<Path> files = Files.walk(SOURCES)) {
            users = files.filter(p -> p.toString().endsWith(".java"))
                    .filter(p -> read(p).contains("java.util.logging"))
                    .map(p -> SOURCES.relativize(p).toString())
                    .sorted()
                    .toList();
        }
        assertThat(users).containsExactly("dev/berth/core/cli/Logging.java");
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
