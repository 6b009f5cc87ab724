package dev.berth.core.cli;

import dev.berth.core.config.ConfigLoader;
import dev.berth.core.network.PodNetworking;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code berth network}: pod network helpers for operators. */
@Command(name = "network", description = "Pod network helpers.", subcommands = NetworkCommand.InstallDefault.class)
final class NetworkCommand implements Runnable {
    @Override
    public void run() {
        System.out.println("usage: berth network install-default-cni [--dir DIR]");
    }

    @Command(name = "install-default-cni", description = "Install berth's default bridge network (berth0, "
            + "10.88.0.0/16, portmap) into the CNI config dir, unless the dir already has a network config.")
    static final class InstallDefault implements Callable<Integer> {
        @Mixin
        ConfigOption config;

        @Option(names = "--dir", description = "CNI config dir (default: network.cni_conf_dir from the config)")
        Path dir;

        @Override
        public Integer call() {
            ConfigLoader.Loaded loaded = config.load();
            Path target = dir != null ? dir : loaded.config().network().cniConfDir();
            if (PodNetworking.installDefaultConfig(target)) {
                System.out.println("installed " + target.resolve(PodNetworking.DEFAULT_CONFIG_NAME));
            } else {
                System.out.println(target + " already has a network config; left it as it is");
            }
            return 0;
        }
    }
}
