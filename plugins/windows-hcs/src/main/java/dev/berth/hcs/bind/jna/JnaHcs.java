package dev.berth.hcs.bind.jna;

import static dev.berth.hcs.bind.jna.Jna.handle;
import static dev.berth.hcs.bind.jna.Jna.takeString;
import static dev.berth.hcs.bind.jna.Jna.value;
import static dev.berth.hcs.bind.jna.Jna.w;

import com.sun.jna.platform.win32.Kernel32;
import com.sun.jna.platform.win32.WinError;
import com.sun.jna.platform.win32.WinNT.HANDLE;
import com.sun.jna.platform.win32.WinNT.HANDLEByReference;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.PointerByReference;
import dev.berth.hcs.bind.Hcs;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** {@link Hcs} over computecore.dll. */
final class JnaHcs implements Hcs {
    private final ComputeCore cc;
    /** The registered callbacks, by system or process handle: JNA frees a callback's native stub once unreachable. */
    private final Map<Long, ComputeCore.EventCallback> callbacks = new ConcurrentHashMap<>();

    JnaHcs(ComputeCore cc) {
        this.cc = cc;
    }

    @Override
    public long createOperation() {
        return value(cc.HcsCreateOperation(null, null));
    }

    @Override
    public void closeOperation(long operation) {
        cc.HcsCloseOperation(handle(operation));
    }

    @Override
    public Result waitForOperationResult(long operation, int timeoutMs) {
        PointerByReference doc = new PointerByReference();
        int hr = cc.HcsWaitForOperationResult(handle(operation), timeoutMs, doc);
        return new Result(hr, takeString(doc));
    }

    @Override
    public ProcessResult waitForOperationResultAndProcessInfo(long operation, int timeoutMs) {
        PointerByReference doc = new PointerByReference();
        ComputeCore.ProcessInformation info = new ComputeCore.ProcessInformation();
        int hr = cc.HcsWaitForOperationResultAndProcessInfo(handle(operation), timeoutMs, info, doc);
        info.read();
        return new ProcessResult(hr, takeString(doc), new ProcessInformation(info.ProcessId, value(info.StdInput),
                value(info.StdOutput), value(info.StdError)));
    }

    @Override
    public int cancelOperation(long operation) {
        return cc.HcsCancelOperation(handle(operation));
    }

    @Override
    public HandleResult createComputeSystem(String id, String configuration, long operation) {
        HANDLEByReference out = new HANDLEByReference();
        int hr = cc.HcsCreateComputeSystem(w(id), w(configuration), handle(operation), null, out);
        return new HandleResult(hr, value(out.getValue()));
    }

    @Override
    public HandleResult openComputeSystem(String id, int requestedAccess) {
        HANDLEByReference out = new HANDLEByReference();
        int hr = cc.HcsOpenComputeSystem(w(id), requestedAccess, out);
        return new HandleResult(hr, value(out.getValue()));
    }

    @Override
    public void closeComputeSystem(long system) {
        cc.HcsCloseComputeSystem(handle(system));
        callbacks.remove(system);
    }

    @Override
    public int startComputeSystem(long system, long operation, String options) {
        return cc.HcsStartComputeSystem(handle(system), handle(operation), w(options));
    }

    @Override
    public int shutDownComputeSystem(long system, long operation, String options) {
        return cc.HcsShutDownComputeSystem(handle(system), handle(operation), w(options));
    }

    @Override
    public int terminateComputeSystem(long system, long operation, String options) {
        return cc.HcsTerminateComputeSystem(handle(system), handle(operation), w(options));
    }

    @Override
    public int getComputeSystemProperties(long system, long operation, String propertyQuery) {
        return cc.HcsGetComputeSystemProperties(handle(system), handle(operation), w(propertyQuery));
    }

    private ComputeCore.EventCallback callback(EventListener listener) {
        return (event, context) -> listener.onEvent(new Event(event.Type,
                event.EventData == null ? null : event.EventData.toString()));
    }

    @Override
    public int setComputeSystemCallback(long system, EventListener listener) {
        ComputeCore.EventCallback cb = listener == null ? null : callback(listener);
        int hr = cc.HcsSetComputeSystemCallback(handle(system), EVENT_OPTION_NONE, null, cb);
        if (hr >= 0) {
            if (cb == null) {
                callbacks.remove(system);
            } else {
                callbacks.put(system, cb);
            }
        }
        return hr;
    }

    @Override
    public HandleResult createProcess(long system, String processParameters, long operation) {
        HANDLEByReference out = new HANDLEByReference();
        int hr = cc.HcsCreateProcess(handle(system), w(processParameters), handle(operation), null, out);
        return new HandleResult(hr, value(out.getValue()));
    }

    @Override
    public HandleResult openProcess(long system, int processId, int requestedAccess) {
        HANDLEByReference out = new HANDLEByReference();
        int hr = cc.HcsOpenProcess(handle(system), processId, requestedAccess, out);
        return new HandleResult(hr, value(out.getValue()));
    }

    @Override
    public int signalProcess(long process, long operation, String options) {
        return cc.HcsSignalProcess(handle(process), handle(operation), w(options));
    }

    @Override
    public int terminateProcess(long process, long operation, String options) {
        return cc.HcsTerminateProcess(handle(process), handle(operation), w(options));
    }

    @Override
    public int getProcessInfo(long process, long operation) {
        return cc.HcsGetProcessInfo(handle(process), handle(operation));
    }

    @Override
    public int setProcessCallback(long process, EventListener listener) {
        ComputeCore.EventCallback cb = listener == null ? null : callback(listener);
        int hr = cc.HcsSetProcessCallback(handle(process), EVENT_OPTION_NONE, null, cb);
        if (hr >= 0) {
            if (cb == null) {
                callbacks.remove(process);
            } else {
                callbacks.put(process, cb);
            }
        }
        return hr;
    }

    @Override
    public void closeProcess(long process) {
        cc.HcsCloseProcess(handle(process));
        callbacks.remove(process);
    }

    @Override
    public InputStream readPipe(long h) {
        HANDLE pipe = handle(h);
        return new InputStream() {
            private boolean closed;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                int n = read(one, 0, 1);
                return n < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) {
                    return 0;
                }
                byte[] buf = off == 0 ? b : new byte[len];
                IntByReference read = new IntByReference();
                if (!Kernel32.INSTANCE.ReadFile(pipe, buf, len, read, null)) {
                    int err = Kernel32.INSTANCE.GetLastError();
                    if (err == WinError.ERROR_BROKEN_PIPE || err == WinError.ERROR_HANDLE_EOF) {
                        return -1;
                    }
                    throw new IOException("ReadFile failed: Win32 error " + err);
                }
                if (read.getValue() == 0) {
                    return -1;
                }
                if (buf != b) {
                    System.arraycopy(buf, 0, b, off, read.getValue());
                }
                return read.getValue();
            }

            @Override
            public synchronized void close() {
                if (!closed) {
                    closed = true;
                    Kernel32.INSTANCE.CloseHandle(pipe);
                }
            }
        };
    }

    @Override
    public OutputStream writePipe(long h) {
        HANDLE pipe = handle(h);
        return new OutputStream() {
            private boolean closed;

            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                byte[] buf = off == 0 ? b : java.util.Arrays.copyOfRange(b, off, off + len);
                int done = 0;
                while (done < len) {
                    byte[] part = done == 0 ? buf : java.util.Arrays.copyOfRange(buf, done, len);
                    IntByReference written = new IntByReference();
                    if (!Kernel32.INSTANCE.WriteFile(pipe, part, len - done, written, null)) {
                        throw new IOException("WriteFile failed: Win32 error " + Kernel32.INSTANCE.GetLastError());
                    }
                    done += written.getValue();
                }
            }

            @Override
            public synchronized void close() {
                if (!closed) {
                    closed = true;
                    Kernel32.INSTANCE.CloseHandle(pipe);
                }
            }
        };
    }
}
