package dev.berth.hcs.bind.jna;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.WString;
import com.sun.jna.platform.win32.WinBase;
import com.sun.jna.platform.win32.WinNT;
import com.sun.jna.platform.win32.WinNT.HANDLE;
import com.sun.jna.platform.win32.WinNT.HANDLEByReference;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.PointerByReference;
import dev.berth.hcs.bind.BackupFiles;
import java.io.IOException;
import java.nio.file.Path;

/**
 * {@link BackupFiles} on Windows, as go-winio's {@code BackupFileWriter}, {@code OpenForBackup},
 * {@code SetFileBasicInfo} and {@code RunWithPrivileges} do it: a file is created with {@code CreateFileW}
 * ({@code CREATE_NEW}, {@code FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT}, with {@code WRITE_DAC},
 * {@code WRITE_OWNER} and {@code ACCESS_SYSTEM_SECURITY} as hcsshim asks), a directory with
 * {@code CreateDirectoryW} and then opened the same way; the backup stream goes to {@code BackupWrite}, whose context
 * is kept between calls and released by a last call with {@code bAbort = TRUE}; {@code FILE_BASIC_INFO} is set with
 * {@code SetFileInformationByHandle}. {@code SeBackupPrivilege} and {@code SeRestorePrivilege} are enabled in the
 * process token before the first file (go-winio enables them on a thread token; berth's import runs on pooled
 * threads, so the process's is used).
 *
 * <p>Not run: no Windows host was available. Its prototypes are checked by {@code JnaSignaturesTest}.
 */
public final class JnaBackupFiles implements BackupFiles {
    private static final HANDLE INVALID = new HANDLE(Pointer.createConstant(-1L));
    private static final int ACCESS = Kernel32Backup.GENERIC_READ | Kernel32Backup.GENERIC_WRITE
            | Kernel32Backup.WRITE_DAC | Kernel32Backup.WRITE_OWNER | Kernel32Backup.ACCESS_SYSTEM_SECURITY;
    private static final int FLAGS = Kernel32Backup.FILE_FLAG_BACKUP_SEMANTICS
            | Kernel32Backup.FILE_FLAG_OPEN_REPARSE_POINT;

    private final Kernel32Backup k32;
    private final Advapi32Privileges advapi;
    private boolean privileged;

    JnaBackupFiles(Kernel32Backup k32, Advapi32Privileges advapi) {
        this.k32 = k32;
        this.advapi = advapi;
    }

    public static JnaBackupFiles load() {
        return new JnaBackupFiles(Native.load("kernel32", Kernel32Backup.class),
                Native.load("advapi32", Advapi32Privileges.class));
    }

    @Override
    public BackupFile create(Path path, boolean directory, boolean processSecurity) throws IOException {
        privileges();
        WString name = new WString(win32(path));
        HANDLE h;
        if (directory) {
            if (!k32.CreateDirectoryW(name, null)) {
                throw failure("CreateDirectoryW", path);
            }
            h = k32.CreateFileW(name, ACCESS, Kernel32Backup.FILE_SHARE_READ, null, Kernel32Backup.OPEN_EXISTING, FLAGS,
                    null);
        } else {
            h = k32.CreateFileW(name, ACCESS, Kernel32Backup.FILE_SHARE_READ, null, Kernel32Backup.CREATE_NEW, FLAGS,
                    null);
        }
        if (h == null || INVALID.equals(h)) {
            throw failure("CreateFileW", path);
        }
        return new Open(h, path, processSecurity);
    }

    @Override
    public void setBasicInfo(Path path, BasicInfo info) throws IOException {
        privileges();
        HANDLE h = k32.CreateFileW(new WString(win32(path)), Kernel32Backup.GENERIC_READ | Kernel32Backup.GENERIC_WRITE,
                Kernel32Backup.FILE_SHARE_READ, null, Kernel32Backup.OPEN_EXISTING, FLAGS, null);
        if (h == null || INVALID.equals(h)) {
            throw failure("CreateFileW", path);
        }
        try {
            basicInfo(h, path, info);
        } finally {
            k32.CloseHandle(h);
        }
    }

    @Override
    public void createHardLink(Path link, Path target) throws IOException {
        privileges();
        if (!k32.CreateHardLinkW(new WString(win32(link)), new WString(win32(target)), null)) {
            throw failure("CreateHardLinkW", link);
        }
    }

    private final class Open implements BackupFile {
        private final HANDLE handle;
        private final Path path;
        private final boolean processSecurity;
        private final PointerByReference context = new PointerByReference();
        private Memory buffer = new Memory(1 << 16);
        private boolean closed;

        Open(HANDLE handle, Path path, boolean processSecurity) {
            this.handle = handle;
            this.path = path;
            this.processSecurity = processSecurity;
        }

        @Override
        public void setBasicInfo(BasicInfo info) throws IOException {
            basicInfo(handle, path, info);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (len > buffer.size()) {
                buffer = new Memory(len);
            }
            buffer.write(0, b, off, len);
            IntByReference written = new IntByReference();
            if (!k32.BackupWrite(handle, buffer, len, written, false, processSecurity, context)) {
                throw failure("BackupWrite", path);
            }
            if (written.getValue() != len) {
                throw new IOException("BackupWrite " + path + ": " + written.getValue() + " of " + len
                        + " bytes written");
            }
        }

        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            try {
                if (context.getValue() != null) {
                    // frees the context BackupWrite keeps between calls
                    k32.BackupWrite(handle, null, 0, new IntByReference(), true, false, context);
                }
            } finally {
                if (!k32.CloseHandle(handle)) {
                    throw failure("CloseHandle", path);
                }
            }
        }
    }

    private void basicInfo(HANDLE h, Path path, BasicInfo info) throws IOException {
        Kernel32Backup.FileBasicInfo fbi = new Kernel32Backup.FileBasicInfo();
        fbi.CreationTime = info.creationTime();
        fbi.LastAccessTime = info.lastAccessTime();
        fbi.LastWriteTime = info.lastWriteTime();
        fbi.ChangeTime = info.changeTime();
        fbi.FileAttributes = info.attributes();
        fbi.write();
        if (!k32.SetFileInformationByHandle(h, Kernel32Backup.FILE_BASIC_INFO_CLASS, fbi, fbi.size())) {
            throw failure("SetFileInformationByHandle", path);
        }
    }

    /** Enables SeBackupPrivilege and SeRestorePrivilege in the process token, once. */
    private synchronized void privileges() throws IOException {
        if (privileged) {
            return;
        }
        HANDLEByReference token = new HANDLEByReference();
        if (!advapi.OpenProcessToken(k32.GetCurrentProcess(),
                Advapi32Privileges.TOKEN_ADJUST_PRIVILEGES | Advapi32Privileges.TOKEN_QUERY, token)) {
            throw new IOException("OpenProcessToken failed: error " + Native.getLastError());
        }
        try {
            String[] names = {"SeBackupPrivilege", "SeRestorePrivilege"};
            WinNT.TOKEN_PRIVILEGES tp = new WinNT.TOKEN_PRIVILEGES(names.length);
            for (int i = 0; i < names.length; i++) {
                WinNT.LUID luid = new WinNT.LUID();
                if (!advapi.LookupPrivilegeValueW(null, new WString(names[i]), luid)) {
                    throw new IOException("LookupPrivilegeValueW " + names[i] + " failed: error "
                            + Native.getLastError());
                }
                tp.Privileges[i] = new WinNT.LUID_AND_ATTRIBUTES(luid,
                        new com.sun.jna.platform.win32.WinDef.DWORD(Advapi32Privileges.SE_PRIVILEGE_ENABLED));
            }
            boolean ok = advapi.AdjustTokenPrivileges(token.getValue(), false, tp, 0, null, null);
            int err = Native.getLastError();
            if (!ok || err == Advapi32Privileges.ERROR_NOT_ALL_ASSIGNED) {
                throw new IOException("SeBackupPrivilege and SeRestorePrivilege could not be enabled (error " + err
                        + "): writing a Windows layer needs berth to run as an administrator");
            }
            privileged = true;
        } finally {
            k32.CloseHandle(token.getValue());
        }
    }

    /** The path as Win32 takes it, with the {@code \\?\} prefix that lifts MAX_PATH for an absolute path. */
    static String win32(Path path) {
        String p = path.toAbsolutePath().toString();
        return p.startsWith("\\\\") ? p : "\\\\?\\" + p;
    }

    private static IOException failure(String call, Path path) {
        return new IOException(call + " " + path + " failed: error " + Native.getLastError());
    }
}
