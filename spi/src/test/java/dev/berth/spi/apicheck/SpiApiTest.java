package dev.berth.spi.apicheck;

import static org.assertj.core.api.Assertions.fail;

import dev.berth.spi.SpiVersion;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The guard of the SPI's compatibility: the public API of the compiled SPI package must be the one recorded in
 * {@code spi/api/berth-spi.api} for the build's SPI version. A difference fails the build with what changed and
 * which version bump it needs; {@value SpiApi#UPDATE_COMMAND} regenerates the file once the version allows it.
 */
class SpiApiTest {

    @Test
    void thePublicApiIsTheRecordedOne() throws Exception {
        Path classes = Path.of(SpiVersion.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        SpiApi.Dump now = SpiApi.compute(classes, SpiVersion.class.getClassLoader(), SpiVersion.CURRENT);
        Path file = Path.of(System.getProperty("basedir", "")).toAbsolutePath().resolve(SpiApi.FILE);
        boolean update = Boolean.parseBoolean(System.getProperty(SpiApi.UPDATE_PROPERTY, "false"));
        if (!Files.exists(file)) {
            if (update) {
                Files.createDirectories(file.getParent());
                Files.writeString(file, now.text());
                return;
            }
            fail(file + " is missing; create it with\n    " + SpiApi.UPDATE_COMMAND);
        }
        SpiApi.Dump recorded = SpiApi.Dump.parse(Files.readString(file));
        String problem = SpiApi.check(recorded, now, update);
        if (problem != null) {
            fail(problem);
        }
        if (update && !recorded.equals(now)) {
            Files.writeString(file, now.text());
        }
    }
}
