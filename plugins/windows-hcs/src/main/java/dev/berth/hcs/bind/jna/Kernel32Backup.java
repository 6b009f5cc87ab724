package dev.berth.hcs.bind.jna;

import com.sun.jna.Library;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import com.sun.jna.WString;
import com.sun.jna.platform.win32.WinBase;
import com.sun.jna.platform.win32.WinNT.HANDLE;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.PointerByReference;

/**
 * The kernel32.dll functions that write a layer's files with Win32 backup semantics ({@link JnaBackupFiles}), with
 * the prototypes of Microsoft's Win32 reference. {@code GetLastError} is JNA's {@code Native.getLastError()}.
 */
public interface Kernel32Backup extends Library {
    int GENERIC_READ = 0x80000000;
    int GENERIC_WRITE = 0x40000000;
    int WRITE_DAC = 0x00040000;
    int WRITE_OWNER = 0x00080000;
    int ACCESS_SYSTEM_SECURITY = 0x01000000;
    int FILE_SHARE_READ = 0x1;
    int CREATE_NEW = 1;
    int OPEN_EXISTING = 3;
    int FILE_FLAG_BACKUP_SEMANTICS = 0x02000000;
    int FILE_FLAG_OPEN_REPARSE_POINT = 0x00200000;
    /** {@code FILE_INFO_BY_HANDLE_CLASS.FileBasicInfo}. */
    int FILE_BASIC_INFO_CLASS = 0;

    HANDLE CreateFileW(WString fileName, int desiredAccess, int shareMode, WinBase.SECURITY_ATTRIBUTES attributes,
                       int creationDisposition, int flagsAndAttributes, HANDLE templateFile);

    boolean CreateDirectoryW(WString pathName, WinBase.SECURITY_ATTRIBUTES attributes);

    boolean BackupWrite(HANDLE file, Pointer buffer, int numberOfBytesToWrite, IntByReference numberOfBytesWritten,
                        boolean abort, boolean processSecurity, PointerByReference context);

    boolean SetFileInformationByHandle(HANDLE file, int fileInformationClass, FileBasicInfo fileInformation,
                                       int bufferSize);

    boolean CreateHardLinkW(WString fileName, WString existingFileName, Pointer securityAttributes);

    boolean CloseHandle(HANDLE handle);

    HANDLE GetCurrentProcess();

    /**
     * {@code FILE_BASIC_INFO { LARGE_INTEGER CreationTime, LastAccessTime, LastWriteTime, ChangeTime;
     * DWORD FileAttributes; }}, 40 bytes with its padding.
     */
    @Structure.FieldOrder({"CreationTime", "LastAccessTime", "LastWriteTime", "ChangeTime", "FileAttributes"})
    class FileBasicInfo extends Structure {
        public long CreationTime;
        public long LastAccessTime;
        public long LastWriteTime;
        public long ChangeTime;
        public int FileAttributes;
    }
}
