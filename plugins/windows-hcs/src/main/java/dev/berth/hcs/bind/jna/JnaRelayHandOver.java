package dev.berth.hcs.bind.jna;

import static dev.berth.hcs.bind.jna.Jna.handle;
import static dev.berth.hcs.bind.jna.Jna.value;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.platform.win32.WinBase;
import com.sun.jna.platform.win32.WinNT.HANDLE;
import com.sun.jna.platform.win32.WinNT.HANDLEByReference;
import com.sun.jna.ptr.IntByReference;
import dev.berth.hcs.bind.RelayHandOver;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The hand-over on Windows. The relay is created with {@code CreateProcessW} and {@code CREATE_BREAKAWAY_FROM_JOB},
 * so that it is not in berth's job object (a service manager that kills berth's job would kill it too), with the
 * read end of a fresh pipe as its stdin and no console. Then the init's stdout and stderr handles are duplicated
 * into it ({@code OpenProcess(PROCESS_DUP_HANDLE)}, {@code DuplicateHandle} with {@code DUPLICATE_CLOSE_SOURCE},
 * which closes berth's copies whatever the outcome), and their values in the relay's handle table are written to
 * its stdin as one line {@code <stdout> <stderr>}; the relay's sources are {@code handle:-} and its exit source
 * {@code hcs:SYSTEM-ID:PID}.
 *
 * <p>Where berth's job forbids breakaway, {@code CreateProcessW} fails with {@code ERROR_ACCESS_DENIED}; the relay
 * is then started inside the job (it still outlives a restart of berth that does not close the job) and a warning
 * says so. Starts are serialised: the relay's stdin is created inheritable, and another child created meanwhile
 * would inherit it too.
 *
 * <p>Not run: written from the Win32 reference, without a Windows host.
 */
public final class JnaRelayHandOver implements RelayHandOver {
    private static final System.Logger LOG = System.getLogger(JnaRelayHandOver.class.getName());
    private final Kernel32Relay k;

    JnaRelayHandOver(Kernel32Relay k) {
        this.k = k;
    }

    public static JnaRelayHandOver load() {
        return new JnaRelayHandOver(Native.load("kernel32", Kernel32Relay.class));
    }

    @Override
    public synchronized ProcessHandle start(List<String> command, Path diagnostics, String systemId, int pid,
                                            long stdout, long stderr) throws IOException {
        List<String> cmd = new ArrayList<>(command);
        cmd.addAll(List.of("--diagnostics", diagnostics.toString(), "--stdout", stdout == 0 ? "none" : "handle:-",
                "--stderr", stderr == 0 ? "none" : "handle:-", "--exit", "hcs:" + systemId + ":" + pid));
        long[] owned = {stdout, stderr}; // berth's copies, closed on every path
        HANDLEByReference stdinRead = new HANDLEByReference();
        HANDLEByReference stdinWrite = new HANDLEByReference();
        WinBase.PROCESS_INFORMATION pi = new WinBase.PROCESS_INFORMATION();
        HANDLE target = null;
        boolean started = false;
        try {
            WinBase.SECURITY_ATTRIBUTES inheritable = new WinBase.SECURITY_ATTRIBUTES();
            inheritable.bInheritHandle = true;
            if (!k.CreatePipe(stdinRead, stdinWrite, inheritable, 0)) {
                throw failure("CreatePipe");
            }
            if (!k.SetHandleInformation(stdinWrite.getValue(), Kernel32Relay.HANDLE_FLAG_INHERIT, 0)) {
                throw failure("SetHandleInformation");
            }
            WinBase.STARTUPINFO si = new WinBase.STARTUPINFO();
            si.dwFlags = Kernel32Relay.STARTF_USESTDHANDLES;
            si.hStdInput = stdinRead.getValue();
            int flags = Kernel32Relay.CREATE_BREAKAWAY_FROM_JOB | Kernel32Relay.CREATE_NO_WINDOW;
            if (!k.CreateProcessW(null, commandLine(cmd), null, null, true, flags, null, null, si, pi)) {
                int err = Native.getLastError();
                if (err != Kernel32Relay.ERROR_ACCESS_DENIED) {
                    throw failure("CreateProcessW", err);
                }
                LOG.log(System.Logger.Level.WARNING, "berth's job object does not allow breakaway: the log relay of "
                        + systemId + " runs inside it and ends if the job is closed");
                if (!k.CreateProcessW(null, commandLine(cmd), null, null, true, Kernel32Relay.CREATE_NO_WINDOW, null,
                        null, si, pi)) {
                    throw failure("CreateProcessW");
                }
            }
            started = true;
            k.CloseHandle(pi.hThread);
            close(stdinRead);
            int relayPid = pi.dwProcessId.intValue();
            target = k.OpenProcess(Kernel32Relay.PROCESS_DUP_HANDLE, false, relayPid);
            if (target == null) {
                throw failure("OpenProcess " + relayPid);
            }
            long[] inRelay = new long[2];
            for (int i = 0; i < 2; i++) {
                if (owned[i] == 0) {
                    continue;
                }
                HANDLEByReference dup = new HANDLEByReference();
                long source = owned[i];
                owned[i] = 0; // DUPLICATE_CLOSE_SOURCE closes it, even when the call fails
                if (!k.DuplicateHandle(k.GetCurrentProcess(), handle(source), target, dup, 0, false,
                        Kernel32Relay.DUPLICATE_SAME_ACCESS | Kernel32Relay.DUPLICATE_CLOSE_SOURCE)) {
                    throw failure("DuplicateHandle into the relay");
                }
                inRelay[i] = value(dup.getValue());
            }
            byte[] line = (inRelay[0] + " " + inRelay[1] + "\n").getBytes(StandardCharsets.US_ASCII);
            Memory buf = new Memory(line.length);
            buf.write(0, line, 0, line.length);
            IntByReference written = new IntByReference();
            if (!k.WriteFile(stdinWrite.getValue(), buf, line.length, written, null)
                    || written.getValue() != line.length) {
                throw failure("WriteFile to the relay's stdin");
            }
            ProcessHandle relay = ProcessHandle.of(relayPid)
                    .orElseThrow(() -> new IOException("the log relay (pid " + relayPid + ") ended at once"));
            started = false; // handed over: nothing to undo
            return relay;
        } finally {
            if (started) {
                k.TerminateProcess(pi.hProcess, 1);
            }
            if (pi.hProcess != null) {
                k.CloseHandle(pi.hProcess);
            }
            if (target != null) {
                k.CloseHandle(target);
            }
            close(stdinRead);
            close(stdinWrite); // the relay sees the end of its stdin after the line
            for (long h : owned) {
                if (h != 0) {
                    k.CloseHandle(handle(h));
                }
            }
        }
    }

    private void close(HANDLEByReference h) {
        if (h.getValue() != null) {
            k.CloseHandle(h.getValue());
            h.setValue(null);
        }
    }

    private static IOException failure(String call) {
        return failure(call, Native.getLastError());
    }

    private static IOException failure(String call, int err) {
        return new IOException(call + " failed: Win32 error " + err);
    }

    /** {@code CreateProcessW} may write into its command line: a writable, NUL-terminated UTF-16 buffer. */
    private static Memory commandLine(List<String> args) {
        String s = quote(args);
        Memory m = new Memory((s.length() + 1) * 2L);
        m.setWideString(0, s);
        return m;
    }

    /**
     * The command line as the C runtime of the relay's {@code java.exe} splits it again: an argument with a space,
     * a tab or a quote, or an empty one, is quoted; backslashes before a quote (or before the closing quote) are
     * doubled and the quote escaped.
     */
    static String quote(List<String> args) {
        StringBuilder out = new StringBuilder();
        for (String a : args) {
            if (!out.isEmpty()) {
                out.append(' ');
            }
            if (!a.isEmpty() && a.chars().noneMatch(c -> c == ' ' || c == '\t' || c == '"')) {
                out.append(a);
                continue;
            }
            out.append('"');
            int backslashes = 0;
            for (char c : a.toCharArray()) {
                if (c == '\\') {
                    backslashes++;
                } else if (c == '"') {
                    out.append("\\".repeat(backslashes * 2 + 1)).append('"');
                    backslashes = 0;
                } else {
                    out.append("\\".repeat(backslashes)).append(c);
                    backslashes = 0;
                }
            }
            out.append("\\".repeat(backslashes * 2)).append('"');
        }
        return out.toString();
    }
}
