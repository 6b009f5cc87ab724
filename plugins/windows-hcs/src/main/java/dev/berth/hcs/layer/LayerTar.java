package dev.berth.hcs.layer;

import com.github.luben.zstd.ZstdInputStream;
import dev.berth.hcs.bind.BackupFiles;
import dev.berth.hcs.bind.BackupFiles.BasicInfo;
import dev.berth.hcs.bind.BackupStream;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * A Windows layer blob written out as the folder the layer API imports from: the blob is decompressed (gzip, zstd
 * or plain, told by its first bytes), checked against its diff id, and its entries under {@code Files/},
 * {@code Hives/} and {@code UtilityVM/} are written below the folder. A whiteout ({@code .wh.<name>}) is not
 * written; it becomes a line of {@code tombstones.txt}, the list of paths the layer deletes from its parents.
 *
 * <p>Each file, directory and link is written as hcsshim's base layer writer writes it
 * ({@code internal/wclayer/baselayerwriter.go}, fed by {@code pkg/ociwclayer/import.go}): created with backup
 * semantics, its {@code FILE_BASIC_INFO} set, then its Win32 backup stream written, which {@link BackupEntry} makes
 * from the entry's {@code MSWINDOWS.*} PAX headers and data (streamed, never held whole); the tar entries
 * {@code file:stream} that follow a file are its alternate data streams, appended to its backup stream. A hard link
 * is made to a file written before it. Directories' times are set again at the end, innermost first, because
 * creating their children changed them. The security descriptor is applied ({@code bProcessSecurity}) to every
 * file of a base layer, and in an import folder to all but those under {@code Hives/}, as hcsshim does. An entry
 * whose attributes say directory (a directory, or a link to one) is created as a directory.
 *
 * <p>The import folder of a layer that is not a base layer ({@link Layout#IMPORT}) has, under {@code Files/} and
 * {@code Hives/}, the layout hcsshim's legacy layer writer gives {@code ImportLayer}
 * ({@code internal/wclayer/legacy.go}): a directory is a plain directory with a file {@code <name>.$wcidirs$} next
 * to it that stands for it; under {@code Files/} each file or link, or that file, is a plain file holding its
 * attributes (a little-endian DWORD) followed by its backup stream, not written with {@code BackupWrite}; under
 * {@code Hives/} it is written with {@code BackupWrite} without its security; either way its times are set with no
 * attributes. {@code UtilityVM/} is written as in a base layer. A hard link there is not made in the import folder but
 * returned ({@link Written#links}) to be made in the layer once it is imported.
 */
public final class LayerTar {
    /** The top-level folders of a Windows layer. */
    static final List<String> TOP = List.of("Files", "Hives", "UtilityVM");
    static final String TOMBSTONES = "tombstones.txt";
    private static final String WHITEOUT = ".wh.";

    private LayerTar() {}

    /** Which folder is written: a base layer's own, or the import folder of a layer over parents. */
    public enum Layout { BASE, IMPORT }

    /** The marker file hcsshim's legacy layout keeps next to a directory: its attributes and backup stream. */
    static final String WCIDIRS = ".$wcidirs$";

    /** What was written: whether the layer has a utility VM image, and the paths it deletes. */
    public record Written(boolean utilityVm, List<String> tombstones, List<Link> links) {}

    /**
     * A hard link under {@code Files/} of an import folder, made after {@code ImportLayer} in the imported layer, as
     * hcsshim's legacy writer does ({@code AddLink}, its pending links): to a file of this layer when
     * {@code inLayer}, else to the file of the nearest parent that has it.
     */
    public record Link(String name, String target, boolean inLayer) {}

    /** Writes the base layer {@code blob} (whose uncompressed tar must hash to {@code diffId}) below {@code folder}. */
    public static Written write(Path blob, String diffId, Path folder, BackupFiles files) throws IOException {
        return write(blob, diffId, folder, files, Layout.BASE);
    }

    /** Writes the layer {@code blob} (whose uncompressed tar must hash to {@code diffId}) below {@code folder}. */
    public static Written write(Path blob, String diffId, Path folder, BackupFiles files, Layout layout)
            throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        boolean uvm = false;
        List<String> tombstones = new ArrayList<>();
        List<Link> links = new ArrayList<>();
        Set<String> added = new HashSet<>();
        List<Map.Entry<Path, BasicInfo>> directories = new ArrayList<>();
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(blob));
             DigestInputStream tarBytes = new DigestInputStream(decompressed(raw), sha);
             TarArchiveInputStream tar = new TarArchiveInputStream(tarBytes);
             Current current = new Current()) {
            TarArchiveEntry e = null;
            while ((e = next(tar, e)) != null) {
                String name = relative(e.getName());
                if (name.isEmpty()) {
                    continue;
                }
                String top = name.contains("/") ? name.substring(0, name.indexOf('/')) : name;
                if (!TOP.contains(top)) {
                    throw new IOException("entry \"" + e.getName() + "\" is outside Files/, Hives/ and UtilityVM/: "
                            + "not a Windows layer");
                }
                uvm |= top.equals("UtilityVM");
                String base = name.substring(name.lastIndexOf('/') + 1);
                if (base.indexOf(':') >= 0) {
                    current.alternate(e, name, tar);
                    continue;
                }
                current.close();
                if (base.startsWith(WHITEOUT)) {
                    String parent = name.substring(0, name.length() - base.length());
                    tombstones.add(parent + base.substring(WHITEOUT.length()));
                    continue;
                }
                Path target = inside(folder, name);
                if (e.isLink() && layout == Layout.IMPORT && top.equals("Files")) {
                    String linked = relative(e.getLinkName());
                    inside(folder, linked);
                    if (!linked.startsWith("Files/")) {
                        throw new IOException("entry \"" + e.getName() + "\" is a hard link under Files/ to \""
                                + e.getLinkName() + "\", outside Files/");
                    }
                    links.add(new Link(name, linked, added.contains(linked)));
                    added.add(name);
                    continue;
                }
                added.add(name);
                if (e.isLink()) {
                    Files.createDirectories(target.getParent());
                    Files.deleteIfExists(target);
                    files.createHardLink(target, inside(folder, relative(e.getLinkName())));
                    continue;
                }
                BackupEntry be = BackupEntry.of(e, name);
                Files.createDirectories(target.getParent());
                boolean directory = be.info().directory();
                boolean legacy = layout == Layout.IMPORT && !top.equals("UtilityVM");
                if (directory) {
                    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                        throw new IOException("entry \"" + e.getName() + "\" is a directory that is already there "
                                + "(a second entry for it, or one after its contents)");
                    }
                    if (!legacy) {
                        directories.add(Map.entry(target, be.info()));
                    }
                } else if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                    throw new IOException("entry \"" + e.getName() + "\" would replace a directory");
                } else {
                    Files.deleteIfExists(target);
                }
                if (legacy) {
                    Path plain = target;
                    if (directory) {
                        Files.createDirectory(target);
                        plain = target.resolveSibling(target.getFileName() + WCIDIRS);
                        Files.deleteIfExists(plain);
                    }
                    if (top.equals("Hives")) {
                        current.open(files.create(plain, false, false), name);
                        current.file.setBasicInfo(withoutAttributes(be.info()));
                    } else {
                        current.openPlain(plain, name, files, be.info());
                    }
                } else {
                    boolean security = layout == Layout.BASE || !top.equals("Hives");
                    current.open(files.create(target, directory, security), name);
                    current.file.setBasicInfo(be.info());
                }
                be.writeHead(current.out);
                if (be.kind() == BackupEntry.Kind.FILE) {
                    copy(tar, current.out, be.size(), e);
                }
            }
            current.close();
            tarBytes.transferTo(OutputStream.nullOutputStream());
        }
        for (int i = directories.size() - 1; i >= 0; i--) {
            files.setBasicInfo(directories.get(i).getKey(), directories.get(i).getValue());
        }
        String got = "sha256:" + HexFormat.of().formatHex(sha.digest());
        if (!got.equals(diffId)) {
            throw new IOException("the layer " + blob.getFileName() + " is not diff id " + diffId + " (it is " + got
                    + ")");
        }
        if (!tombstones.isEmpty()) {
            // as hcsshim's legacy layer writer wrote it until 2018: a UTF-8 byte order mark, then the version line
            StringBuilder sb = new StringBuilder("\uFEFFVersion 1.0\n");
            for (String t : tombstones) {
                sb.append('\\').append(t.replace('/', '\\')).append('\n');
            }
            Files.writeString(folder.resolve(TOMBSTONES), sb.toString(), StandardCharsets.UTF_8);
        }
        return new Written(uvm, List.copyOf(tombstones), List.copyOf(links));
    }

    /** The file whose backup stream is being written, open until the next entry that is not one of its streams. */
    private static final class Current implements AutoCloseable {
        BackupFiles.BackupFile file;
        OutputStream out;
        String name;

        /** hcsshim's legacy layout: a plain file, its attributes then its backup stream; times set when closed. */
        void openPlain(Path plain, String n, BackupFiles files, BasicInfo info) throws IOException {
            OutputStream o = Files.newOutputStream(plain, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            BasicInfo stripped = withoutAttributes(info);
            open(new BackupFiles.BackupFile() {
                @Override
                public void setBasicInfo(BasicInfo i) {}

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    o.write(b, off, len);
                }

                @Override
                public void close() throws IOException {
                    o.close();
                    files.setBasicInfo(plain, stripped);
                }
            }, n);
            out.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(info.attributes()).array());
        }

        void open(BackupFiles.BackupFile f, String n) {
            file = f;
            name = n;
            out = new BufferedOutputStream(new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    f.write(b, off, len);
                }
            }, 1 << 16);
        }

        /** Tar entry {@code file:stream}: an alternate data stream of the file just written. */
        void alternate(TarArchiveEntry e, String entryName, InputStream tar) throws IOException {
            int colon = entryName.lastIndexOf('/') + entryName.substring(entryName.lastIndexOf('/') + 1).indexOf(':')
                    + 1;
            String stream = entryName.substring(colon + 1);
            if (file == null || !entryName.substring(0, colon).equals(name)) {
                throw new IOException("entry \"" + e.getName() + "\" is an alternate data stream with no file before "
                        + "it");
            }
            if (!e.isFile() || e.isLink() || stream.isEmpty() || stream.length() > 255 || stream.indexOf(':') >= 0
                    || stream.indexOf('\\') >= 0 || stream.indexOf('\0') >= 0) {
                throw new IOException("entry \"" + e.getName() + "\" is not an alternate data stream a Windows "
                        + "layer holds");
            }
            BackupStream.writeHeader(out, BackupEntry.alternate(stream, e.getSize()));
            copy(tar, out, e.getSize(), e);
        }

        @Override
        public void close() throws IOException {
            if (file == null) {
                return;
            }
            BackupFiles.BackupFile f = file;
            file = null;
            try (f) {
                out.flush();
            }
        }
    }

    private static BasicInfo withoutAttributes(BasicInfo i) {
        return new BasicInfo(i.creationTime(), i.lastAccessTime(), i.lastWriteTime(), i.changeTime(), 0);
    }

    /** The next entry; a header the tar reader refuses is named by the entry before it. */
    private static TarArchiveEntry next(TarArchiveInputStream tar, TarArchiveEntry previous) throws IOException {
        try {
            return tar.getNextEntry();
        } catch (IOException | IllegalArgumentException x) {
            throw new IOException("the entry after " + (previous == null ? "the start of the tar" : "entry \""
                    + previous.getName() + "\"") + " has a header that cannot be read: " + x.getMessage(), x);
        }
    }

    private static void copy(InputStream tar, OutputStream out, long size, TarArchiveEntry e) throws IOException {
        long n = tar.transferTo(out);
        if (n != size) {
            throw new IOException("entry \"" + e.getName() + "\" has " + n + " bytes where its header says " + size);
        }
    }

    /** gzip, zstd or a plain tar, by the first bytes. */
    static InputStream decompressed(InputStream in) throws IOException {
        in.mark(4);
        byte[] magic = in.readNBytes(4);
        in.reset();
        if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
            return new GZIPInputStream(in, 1 << 16);
        }
        if (magic.length == 4 && (magic[0] & 0xff) == 0x28 && (magic[1] & 0xff) == 0xb5 && (magic[2] & 0xff) == 0x2f
                && (magic[3] & 0xff) == 0xfd) {
            return new ZstdInputStream(in);
        }
        return in;
    }

    private static String relative(String name) {
        String n = name.replace('\\', '/');
        while (n.startsWith("./") || n.startsWith("/")) {
            n = n.startsWith("./") ? n.substring(2) : n.substring(1);
        }
        return n.endsWith("/") ? n.substring(0, n.length() - 1) : n;
    }

    static Path inside(Path folder, String name) throws IOException {
        Path p = folder.resolve(name).normalize();
        if (!p.startsWith(folder.normalize()) || p.equals(folder.normalize())) {
            throw new IOException("entry \"" + name + "\" leaves the layer");
        }
        return p;
    }
}
