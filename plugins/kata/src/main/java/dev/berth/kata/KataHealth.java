package dev.berth.kata;

import dev.berth.spi.BackendFeatures;
import dev.berth.spi.BackendHealth;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What a kata handler offers core, and what it checks on the host without changing anything. */
final class KataHealth {
    private KataHealth() {}

    static BackendFeatures features(KataOptions options) {
        // Kata mounts volumes into the guest over virtio-fs without recursive read-only support, and berth
        // does not pass user namespaces to the shim.
        return new BackendFeatures(false, false, BackendFeatures.CgroupDriver.CGROUPFS, true, options.sandboxImage());
    }

    static BackendHealth health(KataOptions options) {
        List<BackendHealth.Check> checks = new ArrayList<>();
        Path shim = resolve(options.shim());
        checks.add(new BackendHealth.Check(shim != null, "shim binary " + options.shim(), shim != null ? ""
                : options.isKataShim()
                        ? "install Kata Containers (it ships containerd-shim-kata-v2) or set the handler's shim option"
                        : "install " + options.shim() + " or fix the handler's shim option"));
        if (!options.configPath().isEmpty()) {
            boolean ok = Files.isReadable(Path.of(options.configPath()));
            checks.add(new BackendHealth.Check(ok, "shim config " + options.configPath(),
                    ok ? "" : "create the file or fix the handler's config_path option"));
        }
        if (options.isKataShim()) {
            Path kvm = Path.of("/dev/kvm");
            boolean kvmOk = Files.isReadable(kvm) && Files.isWritable(kvm);
            checks.add(new BackendHealth.Check(kvmOk, "/dev/kvm", kvmOk ? ""
                    : "Kata needs hardware virtualisation: enable VT-x/AMD-V (or nested virtualisation) and load kvm_intel or kvm_amd"));
            boolean vsock = Files.exists(Path.of("/dev/vhost-vsock"));
            checks.add(new BackendHealth.Check(vsock, "/dev/vhost-vsock", vsock ? ""
                    : "Kata talks to its guest agent over vsock: load the vhost_vsock module (modprobe vhost_vsock)"));
        }
        return BackendHealth.of(checks);
    }

    /** The program's path: as given when it has a slash, else the first executable on PATH; null if none. */
    private static Path resolve(String program) {
        if (program.contains("/")) {
            Path p = Path.of(program);
            return Files.isExecutable(p) ? p : null;
        }
        String path = System.getenv().getOrDefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        for (String dir : path.split(":")) {
            if (!dir.isEmpty()) {
                Path p = Path.of(dir, program);
                if (Files.isExecutable(p)) {
                    return p;
                }
            }
        }
        return null;
    }
}
