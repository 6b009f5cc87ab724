package dev.berth.core.cli;

import dev.berth.admin.v1.ListHandlersRequest;
import dev.berth.admin.v1.ListPluginsRequest;
import dev.berth.core.cdi.CdiRegistry;
import dev.berth.core.config.BerthConfig;
import dev.berth.core.config.ConfigLoader;
import dev.berth.core.config.HostOs;
import dev.berth.core.environment.WindowsHost;
import dev.berth.core.dispatch.GenerationStore;
import dev.berth.core.dispatch.HandlerDrains;
import dev.berth.core.plugin.PluginHost;
import dev.berth.core.store.RecordStore;
import dev.berth.core.store.SandboxRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code berth doctor}: checks the host for what the configured handlers need. Each line says OK or what to
 * install or change. With a running daemon, plugins and handlers come from it (failed plugins, unhealthy and
 * drained handlers); without one, each handler is created in a scratch directory to check it. Exit code 1 if
 * anything is missing or unhealthy.
 */
@Command(name = "doctor", description = "Check the host for what berth and its configured handlers need.")
final class DoctorCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;

    private boolean ok = true;

    @Override
    public Integer call() throws Exception {
        ConfigLoader.Loaded loaded = config.load();
        BerthConfig c = loaded.config();
        System.out.println("host:");
        if (HostOs.isWindows()) {
            windows(WindowsHost.checks(HostOs.current(), WindowsHost.hostProbe()));
        } else {
            cgroups();
            check(isRoot(), "running as root", "berth must run as root to manage namespaces, mounts and cgroups");
            windows(WindowsHost.checks(HostOs.current(), null));
        }
        cni(c);
        cdi(c);
        if (!live(c)) {
            try (PluginHost plugins = ConfigOption.plugins(loaded)) {
                for (var p : plugins.plugins()) {
                    check(!p.state().equals("failed"), "plugin " + p.path().getFileName() + " loads", p.error());
                }
                if (PluginsCommand.printHandlers(loaded, plugins) != 0) {
                    ok = false;
                }
            }
            for (String name : new HandlerDrains(c.root()).names()) {
                System.out.println("  WARN handler \"" + name + "\" is drained: new pods on it are refused (berth "
                        + "handler undrain " + name + ")");
            }
        }
        generations(c).forEach(System.out::println);
        return ok ? 0 : 1;
    }

    /**
     * The running daemon's view, when one answers: plugins that failed to load, handlers whose cached health
     * checks fail, drained handlers. False when no daemon answers (the caller then checks offline).
     */
    private boolean live(BerthConfig c) {
        try (AdminClient daemon = AdminClient.connect(c.socket())) {
            if (daemon == null) {
                return false;
            }
            var plugins = daemon.call(s -> s.listPlugins(ListPluginsRequest.getDefaultInstance()));
            var handlers = daemon.call(s -> s.listHandlers(ListHandlersRequest.getDefaultInstance()));
            if (plugins == null || handlers == null) {
                return false;
            }
            System.out.println("daemon (live on " + c.socket() + "):");
            for (var p : plugins.getPluginsList()) {
                boolean failed = p.getState().equals("failed");
                check(!failed, "plugin " + p.getArchive() + (failed ? "" : " (" + p.getId() + " " + p.getVersion()
                        + ", " + p.getState() + ")") + " loads", p.getMessage());
            }
            for (var h : handlers.getHandlersList()) {
                if (!h.getActive()) {
                    continue;
                }
                String failing = h.getChecksList().stream().filter(x -> !x.getOk())
                        .map(x -> x.getWhat() + (x.getAdvice().isEmpty() ? "" : " -> " + x.getAdvice()))
                        .collect(java.util.stream.Collectors.joining("; "));
                check(h.getReady(), "handler \"" + h.getName() + "\" healthy (type " + h.getType() + " from "
                        + h.getPluginId() + " " + h.getPluginVersion() + ")", "unhealthy: " + failing);
                if (h.getDrained()) {
                    System.out.println("  WARN handler \"" + h.getName() + "\" is drained: new pods on it are refused "
                            + "(berth handler undrain " + h.getName() + ")");
                }
            }
            return true;
        }
    }

    /**
     * The backend generations in the state directory that a config reload or change left serving their pods with
     * options the config no longer has. Informational: they close when their last pod is removed.
     */
    static List<String> generations(BerthConfig c) {
        List<GenerationStore.Entry> entries = new GenerationStore(c.state()).load();
        Path dir = c.state().resolve("records").resolve("sandboxes");
        if (entries.isEmpty() || !Files.isDirectory(dir)) {
            return List.of();
        }
        var records = new RecordStore<>(dir, SandboxRecord.class, SandboxRecord::id);
        records.load((f, e) -> {});
        List<String> lines = new ArrayList<>();
        for (GenerationStore.Entry e : entries) {
            long pods = records.all().stream()
                    .filter(r -> r.handler().equals(e.handler()) && r.generation() == e.generation()).count();
            BerthConfig.Handler now = c.runtimes().get(e.handler());
            boolean current = now != null && now.type().equals(e.type()) && now.options().equals(e.options());
            if (current || pods == 0) {
                continue;
            }
            lines.add("  WARN handler \"" + e.handler() + "\" generation " + e.generation() + " still serves " + pods
                    + " pod(s) with " + (now == null ? "a handler no longer configured" : "options the config no "
                    + "longer has") + "; new pods get the config's; it closes when those pods are removed");
        }
        if (!lines.isEmpty()) {
            lines.addFirst("handler generations:");
        }
        return lines;
    }

    private void cgroups() throws IOException {
        Path unified = Path.of("/sys/fs/cgroup/cgroup.controllers");
        if (Files.exists(unified)) {
            check(true, "cgroup v2 (unified hierarchy)", "");
            return;
        }
        Path hybrid = Path.of("/sys/fs/cgroup/unified/cgroup.controllers");
        if (Files.exists(hybrid)) {
            String ctrls = Files.readString(hybrid).strip();
            System.out.println("  OK   cgroup v1 with a cgroup2 hierarchy at /sys/fs/cgroup/unified (hybrid)"
                    + (ctrls.isEmpty() ? "" : "; controllers on cgroup2: " + ctrls));
            if (!ctrls.isEmpty()) {
                System.out.println("  WARN crun 1.8 refuses hybrid hosts whose cgroup2 holds controllers (\"cgroups in "
                        + "hybrid mode not supported\"). Move them to v1, e.g. for hugetlb: mkdir -p "
                        + "/sys/fs/cgroup/hugetlb && mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb");
            }
        } else {
            check(Files.isDirectory(Path.of("/sys/fs/cgroup/memory")), "cgroup v1", "no cgroup hierarchy found "
                    + "under /sys/fs/cgroup");
        }
        String pid1 = Files.readString(Path.of("/proc/1/comm")).strip();
        System.out.println("  OK   PID 1 is " + pid1 + (pid1.equals("systemd") ? " (systemd cgroup driver available)"
                : " (use the cgroupfs driver)"));
    }

    private void cni(BerthConfig c) throws IOException {
        Path conf = c.network().cniConfDir();
        boolean hasConf = false;
        if (Files.isDirectory(conf)) {
            try (Stream<Path> s = Files.list(conf)) {
                hasConf = s.anyMatch(p -> p.toString().endsWith(".conflist") || p.toString().endsWith(".conf")
                        || p.toString().endsWith(".json"));
            }
        }
        check(hasConf, "CNI config in " + conf, "no network config: pods get no network and NetworkReady stays "
                + "false; install one (e.g. a bridge conflist) into " + conf);
        if (HostOs.isWindows()) {
            // Windows CNI plugins (microsoft/windows-container-networking, containernetworking/plugins' win-*).
            List<String> any = List.of("sdnbridge.exe", "nat.exe", "win-bridge.exe", "win-overlay.exe", "sdnoverlay.exe");
            boolean found = c.network().cniBinDirs().stream().anyMatch(d -> any.stream()
                    .anyMatch(p -> Files.isRegularFile(d.resolve(p))));
            check(found, "a Windows CNI plugin (" + String.join(", ", any) + ") in " + c.network().cniBinDirs(),
                    "install the Windows CNI plugins into " + c.network().cniBinDirs().getFirst());
            return;
        }
        for (String plugin : List.of("bridge", "host-local", "loopback", "portmap")) {
            boolean found = c.network().cniBinDirs().stream().anyMatch(d -> Files.isExecutable(d.resolve(plugin)));
            check(found, "CNI plugin " + plugin + " in " + c.network().cniBinDirs(),
                    "install Debian's containernetworking-plugins (apt-get install containernetworking-plugins)");
        }
    }

    /**
     * Each CDI spec file. One that does not parse or check is a warning, not a failure: the daemon runs without it
     * (only containers asking for its devices fail), and the unit's preflight must not keep berth from starting.
     */
    private void cdi(BerthConfig c) {
        if (c.cdiSpecDirs().isEmpty()) {
            System.out.println("  --   CDI devices: off (cdi_spec_dirs is empty)");
            return;
        }
        var files = new CdiRegistry(c.cdiSpecDirs()).specFiles();
        if (files.isEmpty()) {
            System.out.println("  --   CDI specs: none in " + c.cdiSpecDirs());
        }
        for (var f : files) {
            if (f.spec() == null) {
                System.out.println("  WARN CDI spec " + f.file() + " is left out: " + f.error() + " -> containers "
                        + "asking for its devices fail until the file is fixed or removed");
            } else {
                int n = f.spec().devices().size();
                check(true, "CDI spec " + f.file() + " (" + f.spec().kind() + ", " + n + (n == 1 ? " device)"
                        : " devices)"), "");
            }
        }
    }

    private static boolean isRoot() {
        try {
            return Files.readString(Path.of("/proc/self/status")).lines()
                    .filter(l -> l.startsWith("Uid:")).findFirst().map(l -> l.split("\\s+")[1].equals("0"))
                    .orElse(false);
        } catch (IOException e) {
            return false;
        }
    }

    /** The Windows host checks; off Windows, one line saying they do not apply. */
    private void windows(List<WindowsHost.Check> checks) {
        for (WindowsHost.Check c : checks) {
            switch (c.level()) {
                case OK, FAIL -> check(c.level() == WindowsHost.Level.OK, c.what(), c.advice());
                case WARN -> System.out.println("  WARN " + c.what() + (c.advice().isEmpty() ? "" : " -> " + c.advice()));
                case SKIP -> System.out.println("  --   " + c.what());
            }
        }
    }

    private void check(boolean good, String what, String advice) {
        ok &= good;
        System.out.println("  " + (good ? "OK   " : "FAIL ") + what + (good || advice.isEmpty() ? "" : " -> " + advice));
    }
}
