package dev.berth.hcs;

import dev.berth.spi.testing.PluginLoading;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loads the plugin through PF4J's real plugin manager ({@link PluginLoading}, in the tck's test-jar). */
class HcsPluginLoadingTest {
    @TempDir
    Path dir;

    @Test
    void pf4jLoadsThePluginAndFindsTheWindowsHcsFactory() throws Exception {
        PluginLoading.assertLoadsWithFactory(dir, "windows-hcs", "windows-hcs");
    }
}
