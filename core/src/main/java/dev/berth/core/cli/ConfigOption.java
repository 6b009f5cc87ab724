package dev.berth.core.cli;

import dev.berth.core.config.ConfigLoader;
import dev.berth.core.plugin.PluginHost;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The {@code --config} option shared by the subcommands, and what follows from it. */
final class ConfigOption {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "Main config file (default: /etc/berth/config.toml; drop-ins: config.d/*.toml beside it).")
    Path file;

    ConfigLoader.Loaded load() {
        return file == null ? ConfigLoader.load(ConfigLoader.DEFAULT_FILE, false) : ConfigLoader.load(file, true);
    }

    /** The plugins directory: the config's {@code plugins_dir}, else {@code plugins/} in the installation. */
    static Path pluginsDir(ConfigLoader.Loaded loaded) {
        if (loaded.config().pluginsDir() != null) {
            return loaded.config().pluginsDir();
        }
        String home = System.getProperty("berth.home");
        return home == null ? Path.of("plugins") : Path.of(home, "plugins");
    }

    static PluginHost plugins(ConfigLoader.Loaded loaded) {
        return PluginHost.load(pluginsDir(loaded));
    }
}
