package dev.berth.core.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Reads metrics as a scraper does, from the Prometheus text format, for tests. */
public final class MetricsScrape {
    private MetricsScrape() {}

    /** The registry of {@code metrics} in the Prometheus text format. */
    public static String text(Metrics metrics) {
        var out = new ByteArrayOutputStream();
        try {
            PrometheusTextFormatWriter.create().write(out, metrics.registry().scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** The sample lines of {@code name} (exactly that name) whose labels include every one of {@code labels}. */
    public static List<String> lines(String text, String name, String... labels) {
        List<String> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("#") || !(line.startsWith(name + "{") || line.startsWith(name + " "))) {
                continue;
            }
            String labelPart = line.startsWith(name + "{") ? line.substring(0, line.lastIndexOf('}') + 1) : "";
            boolean all = true;
            for (String l : labels) {
                all &= labelPart.contains("{" + l + ",") || labelPart.contains("," + l + ",")
                        || labelPart.contains("," + l + "}") || labelPart.contains("{" + l + "}");
            }
            if (all) {
                out.add(line);
            }
        }
        return out;
    }

    /** The value of the one sample of {@code name} with {@code labels}. */
    public static double value(String text, String name, String... labels) {
        List<String> found = lines(text, name, labels);
        assertThat(found).as("samples of %s with %s", name, List.of(labels)).hasSize(1);
        String line = found.getFirst();
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
    }
}
