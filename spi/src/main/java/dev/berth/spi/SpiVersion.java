package dev.berth.spi;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** The semantic version of this SPI, independent of berth's own release version. */
public final class SpiVersion {
    /** The SPI version this jar implements, e.g. {@code 1.0.0}. */
    public static final String CURRENT = load();

    private SpiVersion() {}

    private static String load() {
        try (InputStream in = SpiVersion.class.getResourceAsStream("spi.properties")) {
            if (in == null) {
                throw new IllegalStateException("spi.properties missing from the SPI jar");
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
