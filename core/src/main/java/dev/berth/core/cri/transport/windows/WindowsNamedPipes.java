package dev.berth.core.cri.transport.windows;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.WString;
import com.sun.jna.platform.win32.WinBase;
import com.sun.jna.platform.win32.WinDef;
import com.sun.jna.platform.win32.WinNT;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.PointerByReference;
import dev.berth.core.cri.transport.DuplexStream;
import dev.berth.core.cri.transport.StreamDialer;
import dev.berth.core.cri.transport.StreamListener;
import java.io.IOException;

/**
 * Named pipes through kernel32, for {@link dev.berth.core.cri.transport.StreamBridge}: a listener (the server side
 * of {@code \\.\pipe\NAME}) and a dialer (the client side). Construct only on Windows: the constructor loads
 * kernel32 and advapi32.
 *
 * <p><b>Overlapped handles, one blocking thread per direction.</b> A pipe handle opened without
 * {@code FILE_FLAG_OVERLAPPED} serializes I/O: a {@code ReadFile} waiting for the client blocks a {@code WriteFile} on
 * the same handle from another thread, and HTTP/2 needs both at once (the server answers while the client may
 * still send). So every handle here is overlapped, every operation has its own OVERLAPPED and event, and the thread
 * that starts an operation waits for it with {@code GetOverlappedResult(bWait=TRUE)}. The bridge has one reader and
 * one writer thread per connection, so each handle has at most one read and one write in flight. An I/O completion
 * port would save those two threads per connection; the kubelet holds one or two connections, so the simpler form
 * wins. {@link #close} cancels what is in flight ({@code CancelIoEx}) and the handle is closed once the last
 * operation has returned, never under a waiting thread.
 *
 * <p>Not run on Windows yet: what is tested on Linux is the bridge above this class and the signatures of the calls
 * ({@code KernelApiSignatureTest}).
 */
public final class WindowsNamedPipes {
    private static final int BUFFER = 64 * 1024;

    private final Kernel32Pipes k32;
    private final Advapi32Sddl advapi;

    public WindowsNamedPipes() {
        this.k32 = Native.load("kernel32", Kernel32Pipes.class);
        this.advapi = Native.load("advapi32", Advapi32Sddl.class);
    }

    /**
     * Creates the first instance of {@code pipe} ({@code \\.\pipe\NAME}) with the security descriptor {@code sddl};
     * fails if the pipe exists already (another process created it first).
     */
    public StreamListener listen(String pipe, String sddl) throws IOException {
        PointerByReference sd = new PointerByReference();
        if (!advapi.ConvertStringSecurityDescriptorToSecurityDescriptorW(new WString(sddl),
                Advapi32Sddl.SDDL_REVISION_1, sd, null)) {
            throw failure("cannot build the security descriptor " + sddl, Native.getLastError());
        }
        Listener l = new Listener(pipe, sd.getValue());
        try {
            l.next = l.instance(true);
        } catch (IOException e) {
            k32.LocalFree(sd.getValue());
            throw e;
        }
        return l;
    }

    /** Connects to {@code pipe}, waiting (up to five seconds, a few times) while every instance is busy. */
    public StreamDialer dialer(String pipe) {
        return () -> {
            for (int attempt = 0; ; attempt++) {
                WinNT.HANDLE h = k32.CreateFileW(new WString(pipe),
                        Kernel32Pipes.GENERIC_READ | Kernel32Pipes.GENERIC_WRITE, 0, null, Kernel32Pipes.OPEN_EXISTING,
                        Kernel32Pipes.FILE_FLAG_OVERLAPPED | Kernel32Pipes.SECURITY_SQOS_PRESENT
                                | Kernel32Pipes.SECURITY_IDENTIFICATION, null);
                if (!WinBase.INVALID_HANDLE_VALUE.equals(h)) {
                    return new PipeStream(h);
                }
                int err = Native.getLastError();
                if (err == Kernel32Pipes.ERROR_PIPE_BUSY && attempt < 5) {
                    k32.WaitNamedPipeW(new WString(pipe), 5000);
                    continue;
                }
                if (err == Kernel32Pipes.ERROR_FILE_NOT_FOUND) {
                    throw new IOException("nothing serves " + pipe);
                }
                throw failure("cannot open " + pipe, err);
            }
        };
    }

    private static IOException failure(String what, int error) {
        return new IOException(what + ": Windows error " + error);
    }

    /** One OVERLAPPED with its manual-reset event, reused by one operation at a time. */
    private final class Overlapped {
        private final WinBase.OVERLAPPED ov = new WinBase.OVERLAPPED();
        private final WinNT.HANDLE event;

        Overlapped() throws IOException {
            event = k32.CreateEventW(null, true, false, null);
            if (event == null) {
                throw failure("cannot create an event", Native.getLastError());
            }
        }

        /** A zeroed OVERLAPPED naming the event, written to its native memory once, before the operation. */
        Pointer fresh() {
            ov.getPointer().clear(ov.size());
            ov.read();
            ov.hEvent = event;
            ov.write();
            return ov.getPointer();
        }

        void close() {
            k32.CloseHandle(event);
        }
    }

    /** Starts an overlapped operation; false and a last error as the Win32 call reports them. */
    @FunctionalInterface
    private interface Start {
        boolean start(Pointer overlapped);
    }

    /**
     * Runs one overlapped operation on {@code h} to its end: the byte count, or the Win32 error as a negative
     * number. {@code closing} is checked after the start so that a close racing the start still cancels it.
     */
    private int run(WinNT.HANDLE h, Overlapped op, Start start, java.util.function.BooleanSupplier closing) {
        Pointer p = op.fresh();
        if (!start.start(p)) {
            int err = Native.getLastError();
            if (err != Kernel32Pipes.ERROR_IO_PENDING) {
                return -err;
            }
            if (closing.getAsBoolean()) {
                k32.CancelIoEx(h, p);
            }
        }
        IntByReference n = new IntByReference();
        if (!k32.GetOverlappedResult(h, p, n, true)) {
            return -Native.getLastError();
        }
        return n.getValue();
    }

    /** The server side: one pipe instance waits for the next client at any time. */
    private final class Listener implements StreamListener {
        private final String pipe;
        private final Pointer securityDescriptor;
        private final Overlapped connect;
        private WinNT.HANDLE next;
        private boolean accepting;
        private volatile boolean closed;

        Listener(String pipe, Pointer securityDescriptor) throws IOException {
            this.pipe = pipe;
            this.securityDescriptor = securityDescriptor;
            this.connect = new Overlapped();
        }

        WinNT.HANDLE instance(boolean first) throws IOException {
            WinBase.SECURITY_ATTRIBUTES sa = new WinBase.SECURITY_ATTRIBUTES();
            sa.dwLength = new WinDef.DWORD(sa.size());
            sa.lpSecurityDescriptor = securityDescriptor;
            sa.bInheritHandle = false;
            WinNT.HANDLE h = k32.CreateNamedPipeW(new WString(pipe),
                    Kernel32Pipes.PIPE_ACCESS_DUPLEX | Kernel32Pipes.FILE_FLAG_OVERLAPPED
                            | (first ? Kernel32Pipes.FILE_FLAG_FIRST_PIPE_INSTANCE : 0),
                    Kernel32Pipes.PIPE_TYPE_BYTE | Kernel32Pipes.PIPE_READMODE_BYTE | Kernel32Pipes.PIPE_WAIT
                            | Kernel32Pipes.PIPE_REJECT_REMOTE_CLIENTS,
                    Kernel32Pipes.PIPE_UNLIMITED_INSTANCES, BUFFER, BUFFER, 0, sa);
            if (WinBase.INVALID_HANDLE_VALUE.equals(h)) {
                int err = Native.getLastError();
                throw failure(first ? "cannot create " + pipe + " (does another process serve it?)"
                        : "cannot create another instance of " + pipe, err);
            }
            return h;
        }

        /**
         * Waits for the next client. A connection that fails before it is handed over (a client that went away
         * between connecting and {@code ConnectNamedPipe}, {@code ERROR_NO_DATA}) costs only that instance: a fresh
         * one takes its place and the wait goes on. Throws once closed, or when no new instance can be created.
         */
        @Override
        public DuplexStream accept() throws IOException {
            while (true) {
                WinNT.HANDLE h;
                synchronized (this) {
                    if (closed || next == null) {
                        throw new IOException(pipe + " is closed");
                    }
                    accepting = true;
                    h = next;
                }
                int r;
                try {
                    r = run(h, connect, p -> k32.ConnectNamedPipe(h, p), () -> closed);
                    if (r == -Kernel32Pipes.ERROR_PIPE_CONNECTED) {
                        r = 0; // the client connected between CreateNamedPipe and ConnectNamedPipe
                    }
                } catch (RuntimeException | Error e) {
                    synchronized (this) {
                        accepting = false;
                    }
                    throw e;
                }
                synchronized (this) {
                    // In the same step as the closed check: a close() in between would close h as well.
                    accepting = false;
                    if (closed) {
                        k32.CloseHandle(h);
                        releaseLocked();
                        throw new IOException(pipe + " is closed");
                    }
                    // The next client must find an instance waiting before this one is handed over or dropped.
                    try {
                        next = instance(false);
                    } catch (IOException e) {
                        next = null; // nothing left to wait on; close() has no instance to close
                        k32.CloseHandle(h);
                        throw e;
                    }
                    if (r < 0) {
                        k32.CloseHandle(h);
                        System.getLogger("berth.transport").log(System.Logger.Level.DEBUG,
                                "ConnectNamedPipe on {0} failed (Windows error {1}); waiting for the next client",
                                pipe, -r);
                        continue;
                    }
                }
                return new PipeStream(h);
            }
        }

        @Override
        public void close() {
            synchronized (this) {
                if (closed) {
                    return;
                }
                closed = true;
                if (next == null) {
                    releaseLocked();
                } else if (accepting) {
                    k32.CancelIoEx(next, null); // accept() closes the handle once ConnectNamedPipe has returned
                } else {
                    k32.CloseHandle(next);
                    releaseLocked();
                }
            }
        }

        private void releaseLocked() {
            connect.close();
            k32.LocalFree(securityDescriptor);
        }
    }

    /** One connected pipe handle: reads and writes may be in flight at the same time, one of each. */
    private final class PipeStream implements DuplexStream {
        private final WinNT.HANDLE handle;
        private final Overlapped reading;
        private final Overlapped writing;
        private final Memory readBuffer = new Memory(BUFFER);
        private final Memory writeBuffer = new Memory(BUFFER);
        private int inFlight;
        private volatile boolean closed;
        private boolean released;

        PipeStream(WinNT.HANDLE handle) throws IOException {
            this.handle = handle;
            try {
                this.reading = new Overlapped();
                this.writing = new Overlapped();
            } catch (IOException e) {
                k32.CloseHandle(handle);
                throw e;
            }
        }

        private synchronized void enter() throws IOException {
            if (closed) {
                throw new IOException("pipe closed");
            }
            inFlight++;
        }

        private synchronized void exit() {
            inFlight--;
            if (closed && inFlight == 0) {
                releaseLocked();
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            enter();
            try {
                int want = Math.min(len, BUFFER);
                int n = run(handle, reading, p -> k32.ReadFile(handle, readBuffer, want, null, p), () -> closed);
                if (n == -Kernel32Pipes.ERROR_BROKEN_PIPE) {
                    return -1; // the other end closed its handle
                }
                if (n < 0) {
                    throw closed ? new IOException("pipe closed") : failure("ReadFile failed", -n);
                }
                readBuffer.read(0, b, off, n);
                return n;
            } finally {
                exit();
            }
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            enter();
            try {
                while (len > 0) {
                    int chunk = Math.min(len, BUFFER);
                    writeBuffer.write(0, b, off, chunk);
                    int n = run(handle, writing, p -> k32.WriteFile(handle, writeBuffer, chunk, null, p), () -> closed);
                    if (n < 0) {
                        throw closed ? new IOException("pipe closed")
                                : n == -Kernel32Pipes.ERROR_NO_DATA || n == -Kernel32Pipes.ERROR_BROKEN_PIPE
                                        ? new IOException("the other end closed the pipe")
                                        : failure("WriteFile failed", -n);
                    }
                    off += n;
                    len -= n;
                }
            } finally {
                exit();
            }
        }

        @Override
        public synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            if (inFlight == 0) {
                releaseLocked();
            } else {
                k32.CancelIoEx(handle, null); // the last operation to return closes the handle
            }
        }

        private void releaseLocked() {
            if (!released) {
                released = true;
                k32.CloseHandle(handle);
                reading.close();
                writing.close();
            }
        }
    }
}
