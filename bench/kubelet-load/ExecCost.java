import dev.berth.cri.v1.ExecSyncRequest;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.cri.v1.VersionRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What one exec probe costs a runtime: CALLS ExecSync calls of {@code true} in one running container, back to back on
 * one connection after WARM calls, and the CPU time per call of the daemon's own threads, of the children it reaped,
 * and of its live helpers with their reaped children (berth's exec helper; containerd's shim, which runs the probe's
 * {@code runc exec}); then Version as many times, the cost of a call with no work behind it.
 * KubeletLoad.java, beside it, reads /proc for it and holds the connection. Usage: java -cp 'distribution/target/berth/lib/*'
 * bench/kubelet-load/ExecCost.java SOCKET LABEL CONTAINER DAEMON_PID HELPERS_REGEX CALLS
 */
public final class ExecCost {
    private static final double MS_PER_TICK = 10; // USER_HZ 100
    private static final int WARM = 300;

    public static void main(String[] args) throws Exception {
        String socket = args[0];
        String label = args[1];
        String container = args[2];
        long daemon = Long.parseLong(args[3]);
        Pattern helpers = Pattern.compile(args[4]);
        int calls = Integer.parseInt(args[5]);
        try (var connection = KubeletLoad.Connection.open(socket)) {
            var rt = RuntimeServiceGrpc.newBlockingStub(connection.channel());
            var exec = ExecSyncRequest.newBuilder().setContainerId(container).addCmd("true").setTimeout(10).build();
            for (int i = 0; i < WARM; i++) {
                rt.execSync(exec);
                rt.version(VersionRequest.getDefaultInstance());
            }
            for (String what : List.of("ExecSync", "Version")) {
                long own0 = KubeletLoad.ticks(daemon, 0, 2);
                long reaped0 = KubeletLoad.ticks(daemon, 2, 4);
                long helpers0 = helperTicks(helpers);
                List<Long> times = new ArrayList<>();
                for (int i = 0; i < calls; i++) {
                    long t = System.nanoTime();
                    if (what.equals("ExecSync")) {
                        if (rt.execSync(exec).getExitCode() != 0) {
                            throw new IllegalStateException("the probe's command failed");
                        }
                    } else {
                        rt.version(VersionRequest.getDefaultInstance());
                    }
                    times.add(System.nanoTime() - t);
                }
                double own = (KubeletLoad.ticks(daemon, 0, 2) - own0) * MS_PER_TICK / calls;
                double reaped = (KubeletLoad.ticks(daemon, 2, 4) - reaped0) * MS_PER_TICK / calls;
                double helper = (helperTicks(helpers) - helpers0) * MS_PER_TICK / calls;
                times.sort(null);
                System.out.printf("COST %s %s daemon %.3f, its reaped children %.3f, helpers %.3f, all %.3f ms of "
                        + "CPU a call; p50 %.2f ms (%d calls back to back)%n", label, what, own, reaped, helper,
                        own + reaped + helper, times.get(times.size() / 2) / 1e6, calls);
            }
        }
    }

    /** The helpers' utime, stime, cutime and cstime: those alive now (one started in between counts in full). */
    private static long helperTicks(Pattern helpers) {
        return KubeletLoad.helperPids(helpers).stream().mapToLong(p -> KubeletLoad.ticks(p, 0, 4)).sum();
    }
}
