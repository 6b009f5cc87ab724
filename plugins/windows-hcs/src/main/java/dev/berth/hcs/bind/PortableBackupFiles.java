package dev.berth.hcs.bind;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@link BackupFiles} on any host: the backup stream a file is given is spooled next to it and decoded when the
 * file is closed. Its {@code BACKUP_DATA} stream becomes the file's content; everything Windows keeps besides (the
 * security descriptor, extended attributes, reparse data, alternate data streams) and the {@code FILE_BASIC_INFO}
 * are recorded per path ({@link #recorded}), and the last-write time is set on the file. A reparse point stays the
 * plain file or directory it was created as. A stream that is not well formed (a header or data cut short, a data
 * stream on a directory, a stream id {@code BackupWrite} would not take here) fails the close.
 *
 * <p>This is what runs on Linux (where no layer is imported for real) and in the tests, which read the records.
 */
public final class PortableBackupFiles implements BackupFiles {
    /** The largest security descriptor, extended attributes or reparse buffer taken (all are far smaller). */
    static final int MAX_METADATA = 1 << 16;
    /** The largest alternate data stream kept in memory for the record. */
    static final int MAX_ALTERNATE = 1 << 24;

    private final Map<Path, Recorded> recorded = new ConcurrentHashMap<>();

    /** What a file was given, besides its data, which is in the file. Arrays are null where no stream came. */
    public record Recorded(boolean directory, BasicInfo info, byte[] securityDescriptor, boolean processSecurity,
                           byte[] extendedAttributes, byte[] reparse, Map<String, byte[]> alternateStreams,
                           long dataSize, String hardLinkTarget) {}

    /** The records by absolute, normalised path. */
    public Map<Path, Recorded> recorded() {
        return Collections.unmodifiableMap(recorded);
    }

    /** The record of {@code path}, or null. */
    public Recorded recorded(Path path) {
        return recorded.get(key(path));
    }

    @Override
    public BackupFile create(Path path, boolean directory, boolean processSecurity) throws IOException {
        if (Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw new FileAlreadyExistsException(path.toString());
        }
        if (directory) {
            Files.createDirectory(path);
        } else {
            Files.createFile(path);
        }
        Path spool = Files.createTempFile(path.getParent(), ".backup-", ".tmp");
        OutputStream out = Files.newOutputStream(spool, StandardOpenOption.WRITE);
        return new BackupFile() {
            private BasicInfo info;
            private boolean closed;

            @Override
            public void setBasicInfo(BasicInfo i) {
                info = i;
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                if (closed) {
                    return;
                }
                closed = true;
                out.close();
                try (InputStream in = Files.newInputStream(spool)) {
                    Recorded r = decode(path, directory, processSecurity, new BackupStream.Reader(in));
                    recorded.put(key(path), new Recorded(directory, info, r.securityDescriptor(), processSecurity,
                            r.extendedAttributes(), r.reparse(), r.alternateStreams(), r.dataSize(), null));
                } finally {
                    Files.deleteIfExists(spool);
                }
                applyTimes(path, info);
            }
        };
    }

    private static Recorded decode(Path path, boolean directory, boolean processSecurity, BackupStream.Reader in)
            throws IOException {
        byte[] sd = null;
        byte[] ea = null;
        byte[] reparse = null;
        long dataSize = 0;
        Map<String, byte[]> ads = new LinkedHashMap<>();
        BackupStream.Header h;
        while ((h = in.next()) != null) {
            switch (h.id()) {
                case BackupStream.BACKUP_SECURITY_DATA -> sd = in.readAll(MAX_METADATA);
                case BackupStream.BACKUP_EA_DATA -> ea = in.readAll(MAX_METADATA);
                case BackupStream.BACKUP_REPARSE_DATA -> reparse = in.readAll(MAX_METADATA);
                case BackupStream.BACKUP_DATA -> {
                    if (directory) {
                        throw new IOException(path + ": a data stream for a directory");
                    }
                    try (OutputStream f = Files.newOutputStream(path, StandardOpenOption.APPEND)) {
                        dataSize += in.data().transferTo(f);
                    }
                }
                case BackupStream.BACKUP_ALTERNATE_DATA -> {
                    if (!h.name().startsWith(":") || !h.name().endsWith(":$DATA") || h.name().length() < 8) {
                        throw new IOException(path + ": an alternate data stream named \"" + h.name() + "\"");
                    }
                    ads.put(h.name(), in.readAll(MAX_ALTERNATE));
                }
                default -> throw new IOException(path + ": stream id " + h.id() + " is not written by berth");
            }
        }
        return new Recorded(directory, null, sd, processSecurity, ea, reparse, Map.copyOf(ads), dataSize, null);
    }

    @Override
    public void setBasicInfo(Path path, BasicInfo info) throws IOException {
        if (!Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw new java.nio.file.NoSuchFileException(path.toString());
        }
        Recorded r = recorded.getOrDefault(key(path), new Recorded(Files.isDirectory(path), null, null, false, null,
                null, Map.of(), Files.isDirectory(path) ? 0 : Files.size(path), null));
        recorded.put(key(path), new Recorded(r.directory(), info, r.securityDescriptor(), r.processSecurity(),
                r.extendedAttributes(), r.reparse(), r.alternateStreams(), r.dataSize(), r.hardLinkTarget()));
        applyTimes(path, info);
    }

    @Override
    public void createHardLink(Path link, Path target) throws IOException {
        Files.createLink(link, target);
        recorded.put(key(link), new Recorded(false, null, null, false, null, null, Map.of(), Files.size(link),
                key(target).toString()));
    }

    /** A FILETIME (100 ns since 1601-01-01 UTC) as an instant. */
    public static Instant instant(long filetime) {
        long sinceUnix = filetime - 116_444_736_000_000_000L;
        return Instant.ofEpochSecond(Math.floorDiv(sinceUnix, 10_000_000L),
                Math.floorMod(sinceUnix, 10_000_000L) * 100);
    }

    private static void applyTimes(Path path, BasicInfo info) throws IOException {
        if (info != null && info.lastWriteTime() != 0) {
            Files.setLastModifiedTime(path, FileTime.from(instant(info.lastWriteTime())));
        }
    }

    private static Path key(Path p) {
        return p.toAbsolutePath().normalize();
    }
}
