package dev.berth.oci;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

/**
 * Pseudo-terminals through libc, for an exec with a TTY: open one, put it in raw mode, set its size. Calls and
 * errors as in {@link Libc}.
 */
@SuppressWarnings("restricted") // FFM downcalls; the daemon runs with --enable-native-access
public final class Terminals {
    public static final int O_NOCTTY = 0400;
    public static final long TIOCSWINSZ = 0x5414;

    private static final MethodHandle POSIX_OPENPT = Libc.fn("posix_openpt", FunctionDescriptor.of(
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle GRANTPT = Libc.fn("grantpt", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT));
    private static final MethodHandle UNLOCKPT = Libc.fn("unlockpt", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT));
    private static final MethodHandle PTSNAME_R = Libc.fn("ptsname_r", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    private static final MethodHandle TCGETATTR = Libc.fn("tcgetattr", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    private static final MethodHandle TCSETATTR = Libc.fn("tcsetattr", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    private static final MethodHandle CFMAKERAW = Libc.LINKER.downcallHandle(
            Libc.LINKER.defaultLookup().find("cfmakeraw").orElseThrow(),
            FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
    private static final MethodHandle IOCTL_PTR = Libc.LINKER.downcallHandle(
            Libc.LINKER.defaultLookup().find("ioctl").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                    ValueLayout.ADDRESS), Libc.ERRNO_OPT, Linker.Option.firstVariadicArg(2));
    /** Room for glibc's struct termios (60 bytes on Linux), with some to spare. */
    private static final long TERMIOS_BYTES = 128;

    private Terminals() {}

    /** A pseudo-terminal: the master fd, and the slave's path for a child's stdio. */
    public record Pty(int master, String slave) {}

    public static Pty openPty() throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(Libc.CALL_STATE);
            int fd = (int) POSIX_OPENPT.invokeExact(st, Libc.O_RDWR | O_NOCTTY | Libc.O_CLOEXEC);
            if (fd < 0) {
                throw Libc.error("posix_openpt", st);
            }
            MemorySegment name = a.allocate(128);
            if ((int) GRANTPT.invokeExact(st, fd) != 0 || (int) UNLOCKPT.invokeExact(st, fd) != 0
                    || (int) PTSNAME_R.invokeExact(st, fd, name, 128L) != 0) {
                IOException e = Libc.error("pty", st);
                Libc.close(fd);
                throw e;
            }
            return new Pty(fd, name.getString(0, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * Puts a terminal in raw mode, as {@code cfmakeraw(3)} has it: no echo, no line editing, no signals from
     * characters, no output processing. On a pseudo-terminal's master fd it sets the pair's mode.
     */
    public static void makeRaw(int fd) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment termios = a.allocate(TERMIOS_BYTES, 8);
            Libc.check("tcgetattr", (x, st) -> (int) TCGETATTR.invokeExact(st, fd, termios));
            Libc.check("tcsetattr", (x, st) -> {
                CFMAKERAW.invokeExact(termios);
                return (int) TCSETATTR.invokeExact(st, fd, 0 /* TCSANOW */, termios);
            });
        }
    }

    /** Sets a terminal's size (TIOCSWINSZ). */
    public static void setWindowSize(int fd, int rows, int cols) throws IOException {
        Libc.check("TIOCSWINSZ", (a, st) -> {
            MemorySegment ws = a.allocate(8);
            ws.set(ValueLayout.JAVA_SHORT, 0, (short) rows);
            ws.set(ValueLayout.JAVA_SHORT, 2, (short) cols);
            return (int) IOCTL_PTR.invokeExact(st, fd, TIOCSWINSZ, ws);
        });
    }
}
