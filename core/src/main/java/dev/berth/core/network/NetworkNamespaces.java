package dev.berth.core.network;

import dev.berth.spi.BackendException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Creates, pins and removes network namespaces without {@code ip netns} (whose directory is fixed at /run/netns).
 *
 * <p>How a namespace is made: a fresh platform thread calls {@code unshare(CLONE_NEWNET)}, which moves only that thread
 * into a new, empty network namespace. It brings the loopback interface up with two {@code ioctl}s, bind-mounts
 * {@code /proc/thread-self/ns/net} onto an empty pin file, switches back to the process's namespace with
 * {@code setns} and ends. The thread is never reused: it is a new platform thread whose OS thread exits with it, so
 * no other Java code can ever run in the new namespace even if {@code setns} failed. The bind mount keeps the
 * namespace alive without any process in it, including across a restart of berth; removing it is
 * {@code umount2(MNT_DETACH)} plus deleting the file.
 *
 * <p>Uses {@code java.lang.foreign}; the JVM needs {@code --enable-native-access=ALL-UNNAMED}.
 */
@SuppressWarnings("restricted")
final class NetworkNamespaces {
    private static final int CLONE_NEWNET = 0x40000000;
    private static final long MS_BIND = 4096;
    private static final int MNT_DETACH = 2;
    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 0x80000;
    private static final int AF_INET = 2;
    private static final int SOCK_DGRAM = 2;
    private static final long SIOCGIFFLAGS = 0x8913;
    private static final long SIOCSIFFLAGS = 0x8914;
    private static final short IFF_UP = 0x1;
    private static final int IFREQ_SIZE = 40;
    private static final int IFNAMSIZ = 16;
    private static final int EINVAL = 22;
    private static final int ENOENT = 2;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(StructLayout.PathElement.groupElement("errno"));
    private static final Linker.Option ERRNO_OPTION = Linker.Option.captureCallState("errno");

    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    private static final java.lang.foreign.AddressLayout PTR = ValueLayout.ADDRESS;

    private static final MethodHandle UNSHARE = downcall("unshare", FunctionDescriptor.of(INT, INT));
    private static final MethodHandle SETNS = downcall("setns", FunctionDescriptor.of(INT, INT, INT));
    private static final MethodHandle OPEN = downcall("open", FunctionDescriptor.of(INT, PTR, INT),
            Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = downcall("close", FunctionDescriptor.of(INT, INT));
    private static final MethodHandle MOUNT = downcall("mount", FunctionDescriptor.of(INT, PTR, PTR, PTR, LONG, PTR));
    private static final MethodHandle UMOUNT2 = downcall("umount2", FunctionDescriptor.of(INT, PTR, INT));
    private static final MethodHandle SOCKET = downcall("socket", FunctionDescriptor.of(INT, INT, INT, INT));
    private static final MethodHandle IOCTL = downcall("ioctl", FunctionDescriptor.of(INT, INT, LONG, PTR),
            Linker.Option.firstVariadicArg(2));
    private static final MethodHandle STRERROR = LINKER.downcallHandle(
            LIBC.find("strerror").orElseThrow(), FunctionDescriptor.of(PTR, INT));

    private NetworkNamespaces() {}

    private static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... extra) {
        Linker.Option[] options = new Linker.Option[extra.length + 1];
        options[0] = ERRNO_OPTION;
        System.arraycopy(extra, 0, options, 1, extra.length);
        MemorySegment symbol = LIBC.find(name).orElseThrow(() -> new IllegalStateException("libc has no " + name));
        // Every handle takes the errno capture segment as its first argument.
        return LINKER.downcallHandle(symbol, descriptor, options);
    }

    /**
     * Creates a new network namespace with loopback up and pins it at {@code pin} (created as an empty file; its
     * parent must exist). Throws {@link BackendException} INTERNAL when a system call fails; then nothing is left.
     */
    static void create(Path pin) {
        try {
            Files.deleteIfExists(pin);
            Files.createFile(pin);
        } catch (IOException e) {
            throw BackendException.internal("failed to create netns pin " + pin + ": " + e.getMessage(), e);
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread thread = Thread.ofPlatform().daemon().name("berth-netns-create").unstarted(() -> {
            try {
                createOnThisThread(pin);
                done.complete(null);
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        });
        thread.start();
        try {
            done.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            // The creating thread still runs to completion; clean up whatever it made.
            joinQuietly(thread);
            removeQuietly(pin);
            throw BackendException.internal("failed to create netns " + pin + ": interrupted", e);
        } catch (ExecutionException e) {
            removeQuietly(pin);
            if (e.getCause() instanceof BackendException be) {
                throw be;
            }
            throw BackendException.internal("failed to create netns " + pin + ": " + e.getCause(), e.getCause());
        }
    }

    private static void createOnThisThread(Path pin) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = arena.allocate(CAPTURE);
            int original = (int) OPEN.invokeExact(errno, arena.allocateFrom("/proc/thread-self/ns/net"),
                    O_RDONLY | O_CLOEXEC);
            if (original < 0) {
                throw failure("open the current netns", errno);
            }
            try {
                if ((int) UNSHARE.invokeExact(errno, CLONE_NEWNET) != 0) {
                    throw failure("unshare the network namespace", errno);
                }
                loopbackUp(arena, errno);
                int rc = (int) MOUNT.invokeExact(errno, arena.allocateFrom("/proc/thread-self/ns/net"),
                        arena.allocateFrom(pin.toString()), arena.allocateFrom("none"), MS_BIND, MemorySegment.NULL);
                if (rc != 0) {
                    throw failure("bind-mount the netns onto " + pin, errno);
                }
            } finally {
                // Best effort: this thread ends right after, so a failed setns cannot leak the namespace into
                // any other work.
                int ignored = (int) SETNS.invokeExact(errno, original, CLONE_NEWNET);
                int closed = (int) CLOSE.invokeExact(errno, original);
            }
        }
    }

    private static void loopbackUp(Arena arena, MemorySegment errno) throws Throwable {
        int fd = (int) SOCKET.invokeExact(errno, AF_INET, SOCK_DGRAM, 0);
        if (fd < 0) {
            throw failure("open a socket to bring loopback up", errno);
        }
        try {
            MemorySegment ifreq = arena.allocate(IFREQ_SIZE);
            byte[] name = "lo".getBytes(StandardCharsets.US_ASCII);
            MemorySegment.copy(name, 0, ifreq, ValueLayout.JAVA_BYTE, 0, name.length);
            if ((int) IOCTL.invokeExact(errno, fd, SIOCGIFFLAGS, ifreq) != 0) {
                throw failure("read the loopback flags", errno);
            }
            short flags = ifreq.get(ValueLayout.JAVA_SHORT, IFNAMSIZ);
            ifreq.set(ValueLayout.JAVA_SHORT, IFNAMSIZ, (short) (flags | IFF_UP));
            if ((int) IOCTL.invokeExact(errno, fd, SIOCSIFFLAGS, ifreq) != 0) {
                throw failure("bring loopback up", errno);
            }
        } finally {
            int closed = (int) CLOSE.invokeExact(errno, fd);
        }
    }

    /**
     * Unpins and deletes the netns pin at {@code pin}. Idempotent: a missing pin or one that is not mounted is fine.
     */
    static void remove(Path pin) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = arena.allocate(CAPTURE);
            MemorySegment path = arena.allocateFrom(pin.toString());
            // A pin could have been mounted over more than once; peel until it is a plain file again.
            for (int i = 0; i < 8; i++) {
                int rc = (int) UMOUNT2.invokeExact(errno, path, MNT_DETACH);
                if (rc == 0) {
                    continue;
                }
                int err = (int) ERRNO.get(errno, 0L);
                if (err == EINVAL || err == ENOENT) {
                    break;
                }
                throw failure("unmount netns pin " + pin, errno);
            }
        } catch (BackendException e) {
            throw e;
        } catch (Throwable t) {
            throw BackendException.internal("failed to unmount netns pin " + pin + ": " + t, t);
        }
        try {
            Files.deleteIfExists(pin);
        } catch (NoSuchFileException e) {
            // already gone
        } catch (IOException e) {
            throw BackendException.internal("failed to delete netns pin " + pin + ": " + e.getMessage(), e);
        }
    }

    /** Whether {@code pin} is currently a mount point (that is, a pinned namespace) in berth's mount namespace. */
    static boolean isPinned(Path pin) {
        try {
            String wanted = pin.toAbsolutePath().normalize().toString();
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] fields = line.split(" ");
                if (fields.length > 4 && unescape(fields[4]).equals(wanted)) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            return false;
        }
    }

    private static String unescape(String mountinfoField) {
        if (mountinfoField.indexOf('\\') < 0) {
            return mountinfoField;
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < mountinfoField.length(); i++) {
            char c = mountinfoField.charAt(i);
            if (c == '\\' && i + 3 < mountinfoField.length()) {
                out.append((char) Integer.parseInt(mountinfoField.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static void removeQuietly(Path pin) {
        try {
            remove(pin);
        } catch (BackendException ignored) {
            // the original failure is what matters
        }
    }

    private static void joinQuietly(Thread thread) {
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static BackendException failure(String what, MemorySegment errno) {
        int err = (int) ERRNO.get(errno, 0L);
        return BackendException.internal("failed to " + what + ": " + strerror(err) + " (errno " + err + ")", null);
    }

    private static String strerror(int err) {
        try {
            MemorySegment text = (MemorySegment) STRERROR.invokeExact(err);
            return text.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "errno " + err;
        }
    }
}
