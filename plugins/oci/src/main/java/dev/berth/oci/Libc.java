package dev.berth.oci;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The one FFM binding of libc for the Linux backends: the calls the JDK has no API for. mount and umount2,
 * unshare, setns and sethostname (a pod's pinned namespaces), mkfifo (conmon's pipes, a shim's stdio), signals to
 * processes that are not our children, SOCK_SEQPACKET unix sockets (conmon's attach socket), pidfd_open and epoll
 * (the end of a process that is not our child, as it happens); pseudo-terminals are in {@link Terminals}, on the
 * same helpers.
 * Calling the system directly keeps forks of mount, umount and mkfifo off the container start path. Errors become
 * IOExceptions "{@code what}: strerror(errno)". The daemon runs with {@code --enable-native-access}.
 */
@SuppressWarnings("restricted") // FFM downcalls; the daemon runs with --enable-native-access
public final class Libc {
    public static final int O_RDONLY = 0;
    public static final int O_CLOEXEC = 02000000;
    public static final int AF_UNIX = 1;
    public static final int SOCK_SEQPACKET = 5;
    public static final int SOCK_CLOEXEC = 02000000;
    public static final int SHUT_WR = 1;

    static final Linker LINKER = Linker.nativeLinker();
    static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(
            java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
    static final Linker.Option ERRNO_OPT = Linker.Option.captureCallState("errno");

    private static final MethodHandle OPEN = fn("open", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
            ValueLayout.JAVA_INT));
    private static final MethodHandle CLOSE = fn("close", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle KILL = fn("kill", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT));
    private static final MethodHandle SOCKET = fn("socket", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle CONNECT = fn("connect", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle READ = fn("read", FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    private static final MethodHandle WRITE = fn("write", FunctionDescriptor.of(ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    private static final MethodHandle SHUTDOWN = fn("shutdown", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    public static final int O_RDWR = 2;
    public static final int SIGHUP = 1;
    public static final int SIGKILL = 9;
    public static final int SIGTERM = 15;
    public static final int SIGWINCH = 28;

    private static final MethodHandle MOUNT = fn("mount", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
    private static final MethodHandle UMOUNT2 = fn("umount2", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    public static final int MNT_DETACH = 2;
    public static final long MS_RDONLY = 1;
    public static final long MS_NOSUID = 2;
    public static final long MS_NODEV = 4;
    public static final long MS_NOEXEC = 8;
    public static final long MS_SYNCHRONOUS = 16;
    public static final long MS_REMOUNT = 32;
    public static final long MS_DIRSYNC = 128;
    public static final long MS_NOATIME = 1024;
    public static final long MS_NODIRATIME = 2048;
    public static final long MS_BIND = 4096;
    public static final long MS_REC = 16384;
    public static final long MS_UNBINDABLE = 1 << 17;
    public static final long MS_PRIVATE = 1 << 18;
    public static final long MS_SLAVE = 1 << 19;
    public static final long MS_SHARED = 1 << 20;
    public static final long MS_RELATIME = 1 << 21;
    public static final long MS_STRICTATIME = 1 << 24;
    public static final int EINVAL = 22;

    private static final MethodHandle UNSHARE = fn("unshare", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT));
    private static final MethodHandle SETNS = fn("setns", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle SETHOSTNAME = fn("sethostname", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    public static final int CLONE_NEWUTS = 0x04000000;
    public static final int CLONE_NEWIPC = 0x08000000;
    public static final int CLONE_NEWNET = 0x40000000;

    private static final MethodHandle MKFIFO = fn("mkfifo", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.JAVA_INT));

    // pidfd_open(2) has no libc wrapper in older glibc: syscall(2), whose arguments after the number are variadic.
    private static final MethodHandle SYSCALL_2 = LINKER.downcallHandle(
            LINKER.defaultLookup().find("syscall").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG), ERRNO_OPT, Linker.Option.firstVariadicArg(1));
    private static final long SYS_PIDFD_OPEN = pidfdOpenNumber();
    private static final MethodHandle EPOLL_CREATE1 = fn("epoll_create1", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT));
    private static final MethodHandle EPOLL_CTL = fn("epoll_ctl", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    private static final MethodHandle EPOLL_WAIT = fn("epoll_wait", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle EVENTFD = fn("eventfd", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final int EPOLL_CTL_ADD = 1;
    private static final int EPOLL_CTL_DEL = 2;
    private static final int EPOLLIN = 1;
    private static final int EINTR = 4;
    /** struct epoll_event: {uint32 events; uint64 data}, packed on x86-64 (12 bytes), aligned elsewhere (16). */
    private static final boolean EPOLL_PACKED = "amd64".equals(System.getProperty("os.arch"))
            || "x86_64".equals(System.getProperty("os.arch"));
    private static final long EPOLL_EVENT_SIZE = EPOLL_PACKED ? 12 : 16;
    private static final long EPOLL_DATA_OFFSET = EPOLL_PACKED ? 4 : 8;

    private static final MethodHandle STRERROR = LINKER.downcallHandle(
            LINKER.defaultLookup().find("strerror").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT));

    private Libc() {}

    static MethodHandle fn(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), fd, ERRNO_OPT);
    }

    static IOException error(String what, MemorySegment state) {
        int errno = (int) ERRNO.get(state, 0L);
        String msg;
        try {
            MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
            msg = s.reinterpret(256).getString(0, StandardCharsets.UTF_8);
        } catch (Throwable t) {
            msg = "errno " + errno;
        }
        return new IOException(what + ": " + msg);
    }

    static RuntimeException rethrow(Throwable t) {
        return t instanceof RuntimeException r ? r : new IllegalStateException(t);
    }

    /** A libc call that returns 0 on success and -1 with errno set; it may allocate its arguments in the arena. */
    @FunctionalInterface
    interface Call {
        int invoke(Arena arena, MemorySegment state) throws Throwable;
    }

    /** Runs {@code call}; a non-zero result becomes an IOException "{@code what}: strerror(errno)". */
    static void check(String what, Call call) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE);
            if (call.invoke(a, st) != 0) {
                throw error(what, st);
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int open(String path, int flags) throws IOException {
        return fdCall("open " + path, (a, st) -> (int) OPEN.invokeExact(st, a.allocateFrom(path), flags | O_CLOEXEC));
    }

    private static long pidfdOpenNumber() {
        return switch (System.getProperty("os.arch")) {
            case "amd64", "x86_64", "aarch64", "arm64", "riscv64", "ppc64le", "s390x" -> 434;
            default -> -1;
        };
    }

    /**
     * pidfd_open(2): a descriptor of process {@code pid} (any process, not only a child) that polls readable once
     * the process has ended (Linux 5.3 and later).
     */
    public static int pidfdOpen(long pid) throws IOException {
        if (SYS_PIDFD_OPEN < 0) {
            throw new IOException("pidfd_open: not known on " + System.getProperty("os.arch"));
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE);
            long fd = (long) SYSCALL_2.invokeExact(st, SYS_PIDFD_OPEN, pid, 0L);
            if (fd < 0) {
                throw error("pidfd_open " + pid, st);
            }
            return (int) fd;
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** epoll_create1(EPOLL_CLOEXEC). */
    public static int epollCreate() throws IOException {
        return fdCall("epoll_create1", (a, st) -> (int) EPOLL_CREATE1.invokeExact(st, O_CLOEXEC));
    }

    /** eventfd(0, EFD_CLOEXEC): a descriptor that polls readable once {@link #write} added to its counter. */
    public static int eventfd() throws IOException {
        return fdCall("eventfd", (a, st) -> (int) EVENTFD.invokeExact(st, 0, O_CLOEXEC));
    }

    /** Watches {@code fd} for reading on epoll instance {@code epfd}; {@link #epollWait} returns {@code data}. */
    public static void epollAdd(int epfd, int fd, long data) throws IOException {
        check("epoll_ctl add", (a, st) -> {
            MemorySegment ev = a.allocate(EPOLL_EVENT_SIZE, 8);
            ev.set(ValueLayout.JAVA_INT, 0, EPOLLIN);
            ev.set(ValueLayout.JAVA_LONG_UNALIGNED, EPOLL_DATA_OFFSET, data);
            return (int) EPOLL_CTL.invokeExact(st, epfd, EPOLL_CTL_ADD, fd, ev);
        });
    }

    /** Stops watching {@code fd} (errors ignored: the descriptor is closed next anyway). */
    public static void epollDelete(int epfd, int fd) {
        try (Arena a = Arena.ofConfined()) {
            int rc = (int) EPOLL_CTL.invokeExact(a.allocate(CALL_STATE), epfd, EPOLL_CTL_DEL, fd,
                    a.allocate(EPOLL_EVENT_SIZE, 8));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * epoll_wait(2): blocks until at least one watched descriptor is ready (or {@code timeoutMillis}, -1 for none)
     * and returns the {@code data} of each ready one; none when interrupted by a signal.
     */
    public static long[] epollWait(int epfd, int max, int timeoutMillis) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE);
            MemorySegment evs = a.allocate(EPOLL_EVENT_SIZE * max, 8);
            int n = (int) EPOLL_WAIT.invokeExact(st, epfd, evs, max, timeoutMillis);
            if (n < 0) {
                if ((int) ERRNO.get(st, 0L) == EINTR) {
                    return new long[0];
                }
                throw error("epoll_wait", st);
            }
            long[] out = new long[n];
            for (int i = 0; i < n; i++) {
                out[i] = evs.get(ValueLayout.JAVA_LONG_UNALIGNED, i * EPOLL_EVENT_SIZE + EPOLL_DATA_OFFSET);
            }
            return out;
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A call that returns a new descriptor, or -1 with errno set. */
    private static int fdCall(String what, Call call) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE);
            int fd = call.invoke(a, st);
            if (fd < 0) {
                throw error(what, st);
            }
            return fd;
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void close(int fd) {
        try (Arena a = Arena.ofConfined()) {
            int rc = (int) CLOSE.invokeExact(a.allocate(CALL_STATE), fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * mount(2). {@code source}, {@code type} and {@code data} may be null. Saves forking the mount program,
     * which costs milliseconds on every container start.
     */
    public static void mount(String source, String target, String type, long flags, String data) throws IOException {
        check("mount " + (type == null ? "" : "-t " + type + " ") + (source == null ? "" : source + " ") + target,
                (a, st) -> (int) MOUNT.invokeExact(st, str(a, source), a.allocateFrom(target), str(a, type), flags,
                        str(a, data)));
    }

    /**
     * umount2(2); {@code flags} 0 or {@link #MNT_DETACH} (a lazy unmount, as {@code umount -l}). Returns false
     * when {@code target} is not a mount point (EINVAL).
     */
    public static boolean umount(String target, int flags) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE);
            if ((int) UMOUNT2.invokeExact(st, a.allocateFrom(target), flags) != 0) {
                if ((int) ERRNO.get(st, 0L) == EINVAL) {
                    return false;
                }
                throw error("umount " + target, st);
            }
            return true;
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * unshare(2) of namespaces that the kernel lets one thread of a multi-threaded process leave (UTS, IPC, net):
     * only the calling thread moves.
     */
    public static void unshare(int flags) throws IOException {
        check("unshare", (a, st) -> (int) UNSHARE.invokeExact(st, flags));
    }

    /** setns(2) of the calling thread into the namespace open at {@code fd}. */
    public static void setns(int fd, int type) throws IOException {
        check("setns", (a, st) -> (int) SETNS.invokeExact(st, fd, type));
    }

    /** sethostname(2), in the calling thread's UTS namespace. */
    public static void sethostname(String name) throws IOException {
        byte[] b = name.getBytes(StandardCharsets.UTF_8);
        check("sethostname " + name, (a, st) -> {
            MemorySegment s = a.allocate(b.length + 1L);
            MemorySegment.copy(b, 0, s, ValueLayout.JAVA_BYTE, 0, b.length);
            return (int) SETHOSTNAME.invokeExact(st, s, (long) b.length);
        });
    }

    private static MemorySegment str(Arena a, String s) {
        return s == null ? MemorySegment.NULL : a.allocateFrom(s);
    }

    /** mkfifo(3): a FIFO at {@code path} with {@code mode} (before the umask), e.g. {@code 0600}. */
    public static void mkfifo(Path path, int mode) throws IOException {
        check("mkfifo " + path, (a, st) -> (int) MKFIFO.invokeExact(st, a.allocateFrom(path.toString()), mode));
    }

    /** kill(2): sends {@code signal} to {@code pid}, which need not be a child of this process. */
    public static void kill(long pid, int signal) throws IOException {
        check("kill " + pid, (a, st) -> (int) KILL.invokeExact(st, (int) pid, signal));
    }

    /** Connects a SOCK_SEQPACKET unix socket to {@code path}; returns its fd. */
    public static int connectSeqpacket(String path) throws IOException {
        byte[] p = path.getBytes(StandardCharsets.UTF_8);
        if (p.length >= 108) {
            throw new IOException("socket path too long: " + path);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE);
            int fd = (int) SOCKET.invokeExact(st, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                throw error("socket", st);
            }
            MemorySegment addr = a.allocate(110);
            addr.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
            MemorySegment.copy(p, 0, addr, ValueLayout.JAVA_BYTE, 2, p.length);
            if ((int) CONNECT.invokeExact(st, fd, addr, 2 + p.length + 1) != 0) {
                IOException e = error("connect " + path, st);
                close(fd);
                throw e;
            }
            return fd;
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** One read(2); returns the byte count, 0 at EOF. */
    public static int read(int fd, byte[] buf) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE);
            MemorySegment seg = a.allocate(buf.length);
            long n = (long) READ.invokeExact(st, fd, seg, (long) buf.length);
            if (n < 0) {
                throw error("read", st);
            }
            MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, 0, buf, 0, (int) n);
            return (int) n;
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void write(int fd, byte[] buf, int off, int len) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE);
            MemorySegment seg = a.allocate(Math.max(1, len));
            MemorySegment.copy(buf, off, seg, ValueLayout.JAVA_BYTE, 0, len);
            long done = 0;
            while (done < len) {
                long n = (long) WRITE.invokeExact(st, fd, seg.asSlice(done), len - done);
                if (n < 0) {
                    throw error("write", st);
                }
                done += n;
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void shutdownWrite(int fd) {
        try (Arena a = Arena.ofConfined()) {
            int rc = (int) SHUTDOWN.invokeExact(a.allocate(CALL_STATE), fd, SHUT_WR);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}
