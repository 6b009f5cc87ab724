package dev.berth.kata;

import dev.berth.spi.testing.PluginLoading;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loads the plugin through PF4J's real plugin manager ({@link PluginLoading}, in the tck's test-jar). */
class KataPluginLoadingTest {
    @TempDir
    Path dir;

    @Test
    void pf4jLoadsThePluginAndFindsTheKataFactory() throws Exception {
        PluginLoading.assertLoadsWithFactory(dir, "kata", "kata");
    }
}
