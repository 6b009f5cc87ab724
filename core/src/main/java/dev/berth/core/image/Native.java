package dev.berth.core.image;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;

/**
 * The few syscalls the JDK lacks, through the FFM API: {@code mknod}, {@code lchown}, {@code chmod} with the
 * set-id and sticky bits, and {@code lsetxattr}. Every call takes a path that the caller has already checked
 * contains no symlink in its parents; {@code lchown} and {@code lsetxattr} do not follow a final symlink.
 */
@SuppressWarnings("restricted")
final class Native {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayoutPath.ERRNO);
    private static final Linker.Option CCS = Linker.Option.captureCallState("errno");
    private static final MethodHandle MKNOD = handle("mknod",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
    private static final MethodHandle LCHOWN = handle("lchown",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle CHMOD = handle("chmod",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle LSETXATTR = handle("lsetxattr",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
    private static final MethodHandle LGETXATTR = handle("lgetxattr",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                    ValueLayout.JAVA_LONG));
    private static final MethodHandle STRERROR = LINKER.downcallHandle(
            LINKER.defaultLookup().find("strerror").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT));

    static final int EPERM = 1;
    static final int E2BIG = 7;
    static final int ENOSPC = 28;
    static final int ERANGE = 34;
    static final int EOPNOTSUPP = 95;

    /** A failed call, with the {@code errno} it set. */
    static final class ErrnoException extends IOException {
        private static final long serialVersionUID = 1L;
        private final int errno;
        private final String reason;

        ErrnoException(String message, int errno, String reason) {
            super(message);
            this.errno = errno;
            this.reason = reason;
        }

        /** The {@code errno} value. */
        int errno() {
            return errno;
        }

        /** The C library's text for the errno ("No space left on device"). */
        String reason() {
            return reason;
        }
    }

    static final int S_IFCHR = 0020000;
    static final int S_IFBLK = 0060000;
    static final int S_IFIFO = 0010000;

    private Native() {
    }

    private static final class MemoryLayoutPath {
        static final java.lang.foreign.MemoryLayout.PathElement ERRNO =
                java.lang.foreign.MemoryLayout.PathElement.groupElement("errno");
    }

    private static MethodHandle handle(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), fd, CCS);
    }

    static long makedev(long major, long minor) {
        return ((major & 0xfffff000L) << 32) | ((major & 0xfffL) << 8) | ((minor & 0xffffff00L) << 12)
                | (minor & 0xffL);
    }

    static void mknod(Path path, int mode, long major, long minor) throws IOException {
        call("mknod", path, a -> (int) MKNOD.invokeExact(a.state, a.path, mode, makedev(major, minor)));
    }

    static void lchown(Path path, int uid, int gid) throws IOException {
        call("lchown", path, a -> (int) LCHOWN.invokeExact(a.state, a.path, uid, gid));
    }

    static void chmod(Path path, int mode) throws IOException {
        call("chmod", path, a -> (int) CHMOD.invokeExact(a.state, a.path, mode & 07777));
    }

    static void lsetxattr(Path path, String name, byte[] value) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment n = arena.allocateFrom(name);
            MemorySegment v = arena.allocate(Math.max(1, value.length));
            MemorySegment.copy(value, 0, v, ValueLayout.JAVA_BYTE, 0, value.length);
            call("lsetxattr " + name, path, a -> (int) LSETXATTR.invokeExact(a.state, a.path, n, v,
                    (long) value.length, 0));
        }
    }

    /** The xattr's value, or null when the file has no such xattr (or it is larger than 4 KiB). */
    static byte[] lgetxattr(Path path, String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment v = arena.allocate(4096);
            long n = (long) LGETXATTR.invokeExact(state, arena.allocateFrom(path.toString()), arena.allocateFrom(name),
                    v, 4096L);
            return n < 0 ? null : v.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
        } catch (Throwable t) {
            return null;
        }
    }

    private record Args(MemorySegment state, MemorySegment path) {
    }

    @FunctionalInterface
    private interface Call {
        int invoke(Args a) throws Throwable;
    }

    private static void call(String what, Path path, Call call) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment p = arena.allocateFrom(path.toString());
            int rc;
            try {
                rc = call.invoke(new Args(state, p));
            } catch (Throwable t) {
                throw new IOException(what + " " + path + ": " + t, t);
            }
            if (rc != 0) {
                int errno = (int) ERRNO.get(state, 0L);
                String reason = strerror(errno);
                throw new ErrnoException(what + " " + path + ": " + reason, errno, reason);
            }
        }
    }

    private static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
            return s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }
}
