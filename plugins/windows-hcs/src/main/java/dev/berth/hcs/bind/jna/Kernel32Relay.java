package dev.berth.hcs.bind.jna;

import com.sun.jna.Library;
import com.sun.jna.Pointer;
import com.sun.jna.WString;
import com.sun.jna.platform.win32.WinBase;
import com.sun.jna.platform.win32.WinNT.HANDLE;
import com.sun.jna.platform.win32.WinNT.HANDLEByReference;
import com.sun.jna.ptr.IntByReference;

/**
 * The kernel32.dll functions that start a container's log relay outside berth's job object and hand it the init's
 * pipe handles ({@link JnaRelayHandOver}); declared here, with the prototypes of Microsoft's Win32 reference, because
 * {@code ProcessBuilder} can neither ask for {@code CREATE_BREAKAWAY_FROM_JOB} nor pass a handle to a child.
 * {@code GetLastError} is JNA's {@code Native.getLastError()}, which JNA saves after every call.
 */
public interface Kernel32Relay extends Library {
    int CREATE_BREAKAWAY_FROM_JOB = 0x01000000;
    int CREATE_NO_WINDOW = 0x08000000;
    int STARTF_USESTDHANDLES = 0x00000100;
    int HANDLE_FLAG_INHERIT = 0x00000001;
    int PROCESS_DUP_HANDLE = 0x0040;
    int DUPLICATE_CLOSE_SOURCE = 0x00000001;
    int DUPLICATE_SAME_ACCESS = 0x00000002;
    int ERROR_ACCESS_DENIED = 5;

    boolean CreateProcessW(WString applicationName, Pointer commandLine, WinBase.SECURITY_ATTRIBUTES processAttributes,
                           WinBase.SECURITY_ATTRIBUTES threadAttributes, boolean inheritHandles, int creationFlags,
                           Pointer environment, WString currentDirectory, WinBase.STARTUPINFO startupInfo,
                           WinBase.PROCESS_INFORMATION processInformation);

    HANDLE OpenProcess(int desiredAccess, boolean inheritHandle, int processId);

    HANDLE GetCurrentProcess();

    boolean DuplicateHandle(HANDLE sourceProcess, HANDLE sourceHandle, HANDLE targetProcess, HANDLEByReference target,
                            int desiredAccess, boolean inheritHandle, int options);

    boolean CreatePipe(HANDLEByReference readPipe, HANDLEByReference writePipe,
                       WinBase.SECURITY_ATTRIBUTES pipeAttributes, int size);

    boolean SetHandleInformation(HANDLE handle, int mask, int flags);

    boolean WriteFile(HANDLE file, Pointer buffer, int numberOfBytesToWrite, IntByReference numberOfBytesWritten,
                      Pointer overlapped);

    boolean TerminateProcess(HANDLE process, int exitCode);

    boolean CloseHandle(HANDLE handle);
}
