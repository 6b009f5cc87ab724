package dev.berth.core.cli;

import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import dev.berth.core.config.ConfigLoader;
import dev.berth.core.config.EffectiveConfig;
import dev.berth.core.dispatch.HandlerRegistry;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code berth config} prints the effective config; {@code berth config validate} checks it. */
@Command(name = "config", description = "Print the effective config (defaults, file and drop-ins merged).",
        subcommands = ConfigCommand.Validate.class)
final class ConfigCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;

    @Override
    public Integer call() throws Exception {
        ConfigLoader.Loaded loaded = config.load();
        System.out.print("# files: " + (loaded.files().isEmpty() ? "none (built-in defaults)" : loaded.files()) + "\n");
        System.out.print(new TomlMapper().writeValueAsString(EffectiveConfig.toMap(loaded.config())));
        return 0;
    }

    @Command(name = "validate", description = "Check the config and that every handler's type is provided "
            + "by a plugin; exit 2 with the reason if not.")
    static final class Validate implements Callable<Integer> {
        @Mixin
        ConfigOption config;

        @Override
        public Integer call() {
            ConfigLoader.Loaded loaded = config.load();
            try (var plugins = ConfigOption.plugins(loaded)) {
                new HandlerRegistry(plugins.types(), Path.of("/nonexistent"), Path.of("/nonexistent"), e -> {})
                        .validateTypes(loaded);
            }
            System.out.println("config OK: " + loaded.config().runtimes().size() + " handler(s), default "
                    + loaded.config().defaultRuntime());
            return 0;
        }
    }
}
