package dev.berth.runc;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.oci.ProcessRunner;
import dev.berth.spi.BackendFeatures;
import dev.berth.spi.BackendHealth;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** What the host and the runtime support ({@code features()}) and whether a handler can serve ({@code health()}). */
final class HostChecks {
    private HostChecks() {}

    /** Recursive read-only mounts need {@code rro} from the runtime (runc >= 1.1) and mount_setattr (5.12). */
    static BackendFeatures features(RuncOptions options) {
        boolean rro = runtimeSupportsRro(options.binary()) && kernelAtLeast(5, 12);
        return new BackendFeatures(rro, false, options.systemdCgroup() ? BackendFeatures.CgroupDriver.SYSTEMD
                : BackendFeatures.CgroupDriver.CGROUPFS, true, options.pauseImage().orElse(""));
    }

    private static boolean runtimeSupportsRro(Path binary) {
        ProcessRunner.Result r = ProcessRunner.run(List.of(binary.toString(), "features"), null, Duration.ofSeconds(20));
        if (!r.ok()) {
            return false; // crun 1.8 and runc < 1.1 have no "features" command
        }
        try {
            for (JsonNode o : OciSpecs.JSON.readTree(r.stdout()).path("mountOptions")) {
                if (o.asText().equals("rro")) {
                    return true;
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    static boolean kernelAtLeast(int major, int minor) {
        String[] v = System.getProperty("os.version", "0.0").split("[.-]");
        try {
            int ma = Integer.parseInt(v[0]);
            int mi = v.length > 1 ? Integer.parseInt(v[1]) : 0;
            return ma > major || (ma == major && mi >= minor);
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** Probes that passed, by command: a runsc probe starts a sandbox (half a second), and Status asks often. */
    private static final Map<List<String>, Boolean> PASSED = new ConcurrentHashMap<>();

    /**
     * gVisor: {@code runsc do true} with the handler's flags runs a sandbox on the configured platform and network
     * mode, so a platform that does not work on the host ({@code kvm} without /dev/kvm, or one that hangs) and a
     * network mode this runsc cannot use here (its netstack refuses a kernel that shows net.core sysctls in
     * every network namespace: "cannot run with network enabled in root network namespace") show up in doctor.
     */
    private static BackendHealth.Check runscProbe(RuncOptions options, String version) {
        String platform = options.runtimeFlag("platform").orElse("ptrace (runsc's default)");
        String network = options.runtimeFlag("network").orElse("sandbox (runsc's default)");
        String what = "gVisor " + version + ", platform " + platform + ", network " + network;
        List<String> cmd = new ArrayList<>(List.of(options.binary().toString(), "--root", options.root().toString()));
        cmd.addAll(options.runtimeArgs());
        cmd.addAll(List.of("do", "true"));
        if (PASSED.containsKey(cmd)) {
            return new BackendHealth.Check(true, what, "");
        }
        ProcessRunner.Result r = ProcessRunner.run(cmd, null, Duration.ofSeconds(20));
        if (r.ok()) {
            PASSED.put(cmd, true);
            return new BackendHealth.Check(true, what, "");
        }
        String err = r.timedOut() ? "\"runsc do true\" did not finish within 20 s" : r.errorText();
        String advice = err.contains("root network namespace")
                ? "this runsc cannot use its own network stack on this kernel; set the handler's network option to "
                        + "\"host\" (the pod's own network namespace through the host kernel's stack): " + err
                : "runsc cannot run a sandbox with these flags (try the platform \"ptrace\"): " + err;
        return new BackendHealth.Check(false, what, advice);
    }

    /** One of the plugin's own programs: there and executable, or turned off ({@code none}: what that means). */
    private static BackendHealth.Check helper(Optional<Path> program, String what, String name, String option,
                                              String none) {
        if (program.isEmpty()) {
            return new BackendHealth.Check(true, what + ": none (" + none + ")", "");
        }
        boolean ok = Files.isExecutable(program.get());
        return new BackendHealth.Check(ok, what + " " + program.get(), ok ? "" : "reinstall berth (the runc plugin "
                + "ships " + name + "), or set the handler's " + option + " option to its path, or to \"none\"");
    }

    /** The runtime, conmon, the log joiner, the pause process, cgroups, crun's hybrid-cgroup refusal and the systemd driver's needs. */
    static BackendHealth health(RuncOptions options) {
        List<BackendHealth.Check> checks = new ArrayList<>();
        ProcessRunner.Result v = RuntimeVersion.shared().of(options.binary());
        checks.add(new BackendHealth.Check(v.ok(), "runtime " + options.binary(),
                v.ok() ? "" : "install " + options.runtimeName() + " or set the handler's binary option: " + v.errorText()));
        if (v.ok() && options.runsc()) {
            checks.add(runscProbe(options, v.stdout().lines().findFirst().orElse("").strip()));
        }
        if (options.runsc()) {
            boolean shim = RunscShim.PATH.filter(Files::isExecutable).isPresent();
            checks.add(new BackendHealth.Check(shim, "gVisor's conmon runtime " + RunscShim.PATH
                    .map(Path::toString).orElse(RunscShim.PROGRAM), shim ? "" : "reinstall berth (the runc plugin "
                    + "ships " + RunscShim.PROGRAM + "): no container but the pause container can run without it"));
        }
        boolean conmon = Files.isExecutable(options.conmon());
        checks.add(new BackendHealth.Check(conmon, "conmon " + options.conmon(),
                conmon ? "" : "install conmon or set the handler's conmon option"));
        checks.add(helper(options.logJoiner(), "log joiner", LogJoiner.PROGRAM, "log_joiner",
                "conmon writes container logs itself; a line written in pieces may reach the log as partial records"));
        checks.add(helper(options.pauseProcess(), "pause process", PauseProcess.PROGRAM, "pause_process",
                "pods whose containers share a pid namespace get a pause container"));
        List<Cgroups.Hierarchy> hs = Cgroups.hierarchies();
        checks.add(new BackendHealth.Check(!hs.isEmpty(), "cgroups mounted",
                hs.isEmpty() ? "mount cgroup v2 at /sys/fs/cgroup (or the v1 hierarchies)" : ""));
        if (options.runtimeName().contains("crun")) {
            List<String> blocking = Cgroups.hybridV2Controllers(hs).stream()
                    .filter(c -> hs.stream().noneMatch(h -> !h.v2() && h.controllers().contains(c))).toList();
            checks.add(new BackendHealth.Check(blocking.isEmpty(), "crun on hybrid cgroups",
                    blocking.isEmpty() ? "" : "crun refuses hybrid hosts whose cgroup2 holds controllers ("
                            + String.join(",", blocking) + "); mount them as v1 hierarchies: "
                            + String.join("; ", blocking.stream().map(c -> "mkdir -p /sys/fs/cgroup/" + c
                            + " && mount -t cgroup -o " + c + " cgroup /sys/fs/cgroup/" + c).toList())));
        }
        if (options.systemdCgroup()) {
            boolean systemd = Files.isDirectory(Path.of("/run/systemd/system"));
            checks.add(new BackendHealth.Check(systemd, "systemd cgroup driver",
                    systemd ? "" : "PID 1 is not systemd: set systemd_cgroup = false"));
        }
        return BackendHealth.of(checks);
    }
}
