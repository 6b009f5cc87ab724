package dev.berth.hcs.bind.jna;

import com.sun.jna.Library;
import com.sun.jna.Pointer;
import com.sun.jna.WString;
import com.sun.jna.platform.win32.WinNT;
import com.sun.jna.platform.win32.WinNT.HANDLE;
import com.sun.jna.platform.win32.WinNT.HANDLEByReference;
import com.sun.jna.ptr.IntByReference;

/**
 * The advapi32.dll functions that enable {@code SeBackupPrivilege} and {@code SeRestorePrivilege} in berth's process
 * token, which {@code BackupWrite} needs to set owners and system ACLs and to write over access checks; with the
 * prototypes of Microsoft's Win32 reference.
 */
public interface Advapi32Privileges extends Library {
    int TOKEN_ADJUST_PRIVILEGES = 0x0020;
    int TOKEN_QUERY = 0x0008;
    int SE_PRIVILEGE_ENABLED = 0x00000002;
    int ERROR_NOT_ALL_ASSIGNED = 1300;

    boolean OpenProcessToken(HANDLE processHandle, int desiredAccess, HANDLEByReference tokenHandle);

    boolean LookupPrivilegeValueW(WString systemName, WString name, WinNT.LUID luid);

    boolean AdjustTokenPrivileges(HANDLE tokenHandle, boolean disableAllPrivileges, WinNT.TOKEN_PRIVILEGES newState,
                                  int bufferLength, Pointer previousState, IntByReference returnLength);
}
