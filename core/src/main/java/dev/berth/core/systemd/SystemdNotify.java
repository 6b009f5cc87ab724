package dev.berth.core.systemd;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The service manager's notification protocol ({@code sd_notify}): one datagram per state change to the unix
 * socket named by {@code NOTIFY_SOCKET}, so that a {@code Type=notify} unit is started once berth serves, and
 * knows when it stops. When {@code WATCHDOG_USEC} is set for this process, a watchdog ping is sent at half that
 * interval. Without {@code NOTIFY_SOCKET} (not under systemd) every call does nothing.
 *
 * <p>The JDK's unix-domain channels are stream-only, and the protocol needs {@code SOCK_DGRAM}, so the few
 * socket calls go through the FFM API.
 */
@SuppressWarnings("restricted")
public final class SystemdNotify implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(SystemdNotify.class.getName());
    private static final int AF_UNIX = 1;
    private static final int SOCK_DGRAM_CLOEXEC = 2 | 02000000;
    private static final int MSG_NOSIGNAL = 0x4000;
    private static final int SUN_PATH_MAX = 108;

    private final String socket;
    private final String watchdogUsec;
    private final String watchdogPid;
    private ScheduledExecutorService watchdog;

    /** From this process's environment. */
    public static SystemdNotify fromEnvironment() {
        return new SystemdNotify(System.getenv());
    }

    SystemdNotify(Map<String, String> env) {
        this.socket = variable(env, "NOTIFY_SOCKET");
        this.watchdogUsec = variable(env, "WATCHDOG_USEC");
        this.watchdogPid = variable(env, "WATCHDOG_PID");
    }

    /**
     * The launcher ({@code bin/berth}) moves the service manager's variables to {@code BERTH_*} names so that
     * runc and conmon do not inherit them (runc would hand NOTIFY_SOCKET to the containers); a JVM started
     * otherwise reads the usual names.
     */
    private static String variable(Map<String, String> env, String name) {
        String moved = env.getOrDefault("BERTH_" + name, "");
        return moved.isEmpty() ? env.getOrDefault(name, "") : moved;
    }

    /** Whether a service manager listens. */
    public boolean enabled() {
        return !socket.isEmpty();
    }

    /** {@code READY=1} with a status line, and the watchdog from now on if the unit asks for one. */
    public void ready(String status) {
        send("READY=1\nSTATUS=" + status + "\nMAINPID=" + ProcessHandle.current().pid());
        watchdogInterval().ifPresent(this::startWatchdog);
    }

    /** {@code RELOADING=1}: a SIGHUP reload has begun; {@link #ready(String)} ends it. */
    public void reloading() {
        send("RELOADING=1");
    }

    /** {@code STOPPING=1}: shutdown has begun; containers keep running. */
    public void stopping() {
        send("STOPPING=1\nSTATUS=stopping; containers keep running");
    }

    /** The watchdog interval, when the unit sets {@code WatchdogSec=} and it is meant for this process. */
    Optional<Duration> watchdogInterval() {
        if (watchdogUsec.isEmpty()
                || !watchdogPid.isEmpty() && !watchdogPid.equals(Long.toString(ProcessHandle.current().pid()))) {
            return Optional.empty();
        }
        try {
            long usec = Long.parseLong(watchdogUsec);
            return usec > 0 ? Optional.of(Duration.ofNanos(usec * 1000)) : Optional.empty();
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private synchronized void startWatchdog(Duration interval) {
        if (watchdog != null) {
            return;
        }
        watchdog = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("sd-watchdog")
                .factory());
        long period = Math.max(1, interval.toMillis() / 2);
        watchdog.scheduleAtFixedRate(() -> send("WATCHDOG=1"), 0, period, TimeUnit.MILLISECONDS);
    }

    @Override
    public synchronized void close() {
        if (watchdog != null) {
            watchdog.shutdownNow();
            watchdog = null;
        }
    }

    /** Sends one message; a failure is logged, never thrown: the daemon runs the same without a manager. */
    boolean send(String message) {
        if (!enabled()) {
            return false;
        }
        try {
            sendDatagram(socket, message.getBytes(StandardCharsets.UTF_8));
            return true;
        } catch (RuntimeException | Error e) {
            LOG.log(System.Logger.Level.WARNING, "cannot notify the service manager at {0}: {1}", socket,
                    e.getMessage());
            return false;
        }
    }

    /** {@code path} may name an abstract socket with a leading {@code @}. */
    static void sendDatagram(String path, byte[] payload) {
        byte[] name = path.getBytes(StandardCharsets.UTF_8);
        if (name.length == 0 || name.length >= SUN_PATH_MAX) {
            throw new IllegalStateException("NOTIFY_SOCKET \"" + path + "\" is not a usable socket path");
        }
        if (name[0] == '@') {
            name[0] = 0;
        }
        Calls c = Calls.INSTANCE;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment addr = arena.allocate(2 + SUN_PATH_MAX);
            addr.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
            MemorySegment.copy(name, 0, addr, ValueLayout.JAVA_BYTE, 2, name.length);
            // An abstract name's length counts exactly; a path's includes its NUL.
            int addrLen = 2 + name.length + (name[0] == 0 ? 0 : 1);
            MemorySegment buf = arena.allocateFrom(ValueLayout.JAVA_BYTE, payload);
            int fd = (int) c.socket.invokeExact(AF_UNIX, SOCK_DGRAM_CLOEXEC, 0);
            if (fd < 0) {
                throw new IllegalStateException("socket(AF_UNIX, SOCK_DGRAM) failed");
            }
            try {
                long n = (long) c.sendto.invokeExact(fd, buf, (long) payload.length, MSG_NOSIGNAL, addr, addrLen);
                if (n != payload.length) {
                    throw new IllegalStateException("sendto " + path + " failed");
                }
            } finally {
                int ignored = (int) c.close.invokeExact(fd);
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** The libc calls, bound on first use. */
    private static final class Calls {
        static final Calls INSTANCE = new Calls();
        final MethodHandle socket;
        final MethodHandle sendto;
        final MethodHandle close;

        private Calls() {
            Linker linker = Linker.nativeLinker();
            var libc = linker.defaultLookup();
            socket = linker.downcallHandle(libc.find("socket").orElseThrow(), FunctionDescriptor.of(
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            sendto = linker.downcallHandle(libc.find("sendto").orElseThrow(), FunctionDescriptor.of(
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
            close = linker.downcallHandle(libc.find("close").orElseThrow(), FunctionDescriptor.of(
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        }
    }
}
