package dev.berth.hcs.bind;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Files and directories written the way Windows restores them from a backup: created with backup semantics, their
 * content given as a Win32 backup stream (the {@code WIN32_STREAM_ID} headers, each followed by its data, that
 * {@code BackupWrite} takes: security descriptor, extended attributes, reparse data, data, alternate data streams),
 * and their times and attributes set as a {@code FILE_BASIC_INFO}. This is what hcsshim's layer writers do with
 * go-winio's {@code BackupFileWriter} and {@code SetFileBasicInfo} (hcsshim
 * {@code internal/wclayer/baselayerwriter.go}, {@code legacy.go}).
 *
 * <p>On Windows ({@code dev.berth.hcs.bind.jna.JnaBackupFiles}) the calls are {@code CreateFileW} with
 * {@code FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT}, {@code BackupWrite},
 * {@code SetFileInformationByHandle(FileBasicInfo)} and {@code CreateHardLinkW}, under {@code SeBackupPrivilege} and
 * {@code SeRestorePrivilege}. Elsewhere, and in the tests, {@link PortableBackupFiles} decodes the stream it is given,
 * writes the data stream to a plain file and records the rest.
 */
public interface BackupFiles {

    /**
     * A {@code FILE_BASIC_INFO}: four {@code FILETIME}s (100 ns intervals since 1601-01-01 UTC; 0 leaves the time as
     * the system sets it) and the {@code FILE_ATTRIBUTE_*} bits (0 leaves them unchanged).
     */
    record BasicInfo(long creationTime, long lastAccessTime, long lastWriteTime, long changeTime, int attributes) {
        public static final int FILE_ATTRIBUTE_READONLY = 0x1;
        public static final int FILE_ATTRIBUTE_HIDDEN = 0x2;
        public static final int FILE_ATTRIBUTE_SYSTEM = 0x4;
        public static final int FILE_ATTRIBUTE_DIRECTORY = 0x10;
        public static final int FILE_ATTRIBUTE_ARCHIVE = 0x20;
        public static final int FILE_ATTRIBUTE_NORMAL = 0x80;
        public static final int FILE_ATTRIBUTE_REPARSE_POINT = 0x400;

        public boolean directory() {
            return (attributes & FILE_ATTRIBUTE_DIRECTORY) != 0;
        }
    }

    /** A file or directory open for a backup stream. {@link #close} ends the stream and closes the file. */
    interface BackupFile extends Closeable {
        /** Sets its times and attributes ({@code SetFileInformationByHandle} with {@code FileBasicInfo}). */
        void setBasicInfo(BasicInfo info) throws IOException;

        /** Writes the next bytes of its backup stream ({@code BackupWrite}); a stream may come in any pieces. */
        void write(byte[] b, int off, int len) throws IOException;
    }

    /**
     * Creates {@code path}, which must not exist, as a file or a directory, and opens it for its backup stream.
     *
     * @param processSecurity whether a security descriptor in the stream is applied ({@code BackupWrite}'s
     *                        {@code bProcessSecurity})
     */
    BackupFile create(Path path, boolean directory, boolean processSecurity) throws IOException;

    /** Sets the times and attributes of an existing file or directory (hcsshim reapplies directories' times last). */
    void setBasicInfo(Path path, BasicInfo info) throws IOException;

    /** Creates {@code link} as a hard link to the existing file {@code target}. */
    void createHardLink(Path link, Path target) throws IOException;
}
