package dev.berth.core.cri.transport.windows;

import com.sun.jna.Pointer;
import com.sun.jna.WString;
import com.sun.jna.platform.win32.WinBase;
import com.sun.jna.platform.win32.WinNT;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.win32.StdCallLibrary;

/**
 * The kernel32.dll calls of berth's named pipes, by their exported (wide) names. Loaded by
 * {@link WindowsNamedPipes} only, and only on Windows. {@code KernelApiSignatureTest} checks every method against the
 * documented C prototypes (name, argument count, argument kinds).
 *
 * <p>Every {@code LPOVERLAPPED} is a {@link Pointer} to memory the caller owns (a {@link WinBase.OVERLAPPED}'s),
 * never the structure itself: JNA would copy a structure argument in and out around each call, and an overlapped
 * operation still pending after the call must find its OVERLAPPED untouched until it completes. Buffers are
 * native {@link com.sun.jna.Memory} for the same reason.
 */
public interface Kernel32Pipes extends StdCallLibrary {
    int PIPE_ACCESS_DUPLEX = 0x00000003;
    int FILE_FLAG_FIRST_PIPE_INSTANCE = 0x00080000;
    int FILE_FLAG_OVERLAPPED = 0x40000000;
    int PIPE_TYPE_BYTE = 0x00000000;
    int PIPE_READMODE_BYTE = 0x00000000;
    int PIPE_WAIT = 0x00000000;
    int PIPE_REJECT_REMOTE_CLIENTS = 0x00000008;
    int PIPE_UNLIMITED_INSTANCES = 255;
    int GENERIC_READ = 0x80000000;
    int GENERIC_WRITE = 0x40000000;
    int OPEN_EXISTING = 3;
    int SECURITY_SQOS_PRESENT = 0x00100000;
    int SECURITY_IDENTIFICATION = 0x00010000;

    int ERROR_FILE_NOT_FOUND = 2;
    int ERROR_BROKEN_PIPE = 109;
    int ERROR_PIPE_BUSY = 231;
    int ERROR_NO_DATA = 232;
    int ERROR_PIPE_CONNECTED = 535;
    int ERROR_OPERATION_ABORTED = 995;
    int ERROR_IO_PENDING = 997;

    /** HANDLE CreateNamedPipeW(LPCWSTR, DWORD, DWORD, DWORD, DWORD, DWORD, DWORD, LPSECURITY_ATTRIBUTES). */
    WinNT.HANDLE CreateNamedPipeW(WString lpName, int dwOpenMode, int dwPipeMode, int nMaxInstances,
                                  int nOutBufferSize, int nInBufferSize, int nDefaultTimeOut,
                                  WinBase.SECURITY_ATTRIBUTES lpSecurityAttributes);

    /** BOOL ConnectNamedPipe(HANDLE, LPOVERLAPPED). */
    boolean ConnectNamedPipe(WinNT.HANDLE hNamedPipe, Pointer lpOverlapped);

    /** HANDLE CreateFileW(LPCWSTR, DWORD, DWORD, LPSECURITY_ATTRIBUTES, DWORD, DWORD, HANDLE). */
    WinNT.HANDLE CreateFileW(WString lpFileName, int dwDesiredAccess, int dwShareMode,
                             WinBase.SECURITY_ATTRIBUTES lpSecurityAttributes, int dwCreationDisposition,
                             int dwFlagsAndAttributes, WinNT.HANDLE hTemplateFile);

    /** BOOL WaitNamedPipeW(LPCWSTR, DWORD). */
    boolean WaitNamedPipeW(WString lpNamedPipeName, int nTimeOut);

    /** BOOL ReadFile(HANDLE, LPVOID, DWORD, LPDWORD, LPOVERLAPPED). */
    boolean ReadFile(WinNT.HANDLE hFile, Pointer lpBuffer, int nNumberOfBytesToRead,
                     IntByReference lpNumberOfBytesRead, Pointer lpOverlapped);

    /** BOOL WriteFile(HANDLE, LPCVOID, DWORD, LPDWORD, LPOVERLAPPED). */
    boolean WriteFile(WinNT.HANDLE hFile, Pointer lpBuffer, int nNumberOfBytesToWrite,
                      IntByReference lpNumberOfBytesWritten, Pointer lpOverlapped);

    /** BOOL GetOverlappedResult(HANDLE, LPOVERLAPPED, LPDWORD, BOOL). */
    boolean GetOverlappedResult(WinNT.HANDLE hFile, Pointer lpOverlapped,
                                IntByReference lpNumberOfBytesTransferred, boolean bWait);

    /** BOOL CancelIoEx(HANDLE, LPOVERLAPPED). */
    boolean CancelIoEx(WinNT.HANDLE hFile, Pointer lpOverlapped);

    /** HANDLE CreateEventW(LPSECURITY_ATTRIBUTES, BOOL, BOOL, LPCWSTR). */
    WinNT.HANDLE CreateEventW(WinBase.SECURITY_ATTRIBUTES lpEventAttributes, boolean bManualReset,
                              boolean bInitialState, WString lpName);

    /** BOOL CloseHandle(HANDLE). */
    boolean CloseHandle(WinNT.HANDLE hObject);

    /** HLOCAL LocalFree(HLOCAL). */
    Pointer LocalFree(Pointer hMem);
}
