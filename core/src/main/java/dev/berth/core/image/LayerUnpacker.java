package dev.berth.core.image;

import dev.berth.core.util.FileTrees;
import dev.berth.spi.BackendException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Unpacks one layer tar into an empty directory that becomes an overlayfs lower directory.
 *
 * <p>Safe against hostile archives: names are checked component by component and never resolved through a
 * symlink (an entry whose parent is a symlink is refused, and files are opened with {@code O_NOFOLLOW}), {@code ..}
 * and absolute names are refused, hard links must point at a non-directory already unpacked from this layer, and
 * the unpacked size is bounded. Each entry's path is checked before anything is written for it: at most
 * {@value #MAX_DEPTH} directories deep, every component within {@code NAME_MAX} and the full path under the
 * layer's directory within {@code PATH_MAX}, so a layer of thousands of nested directories is refused at once
 * rather than walked. Whiteouts become what overlayfs expects: {@code .wh.name} a 0/0 character device,
 * {@code .wh..wh..opq} the {@code trusted.overlay.opaque=y} xattr on the directory.
 *
 * <p>Each layer is unpacked on its own, so an entry under a directory that a lower layer made a symlink (for
 * example {@code lib/x} over {@code lib -> usr/lib}) lands in a real directory; image builders write real paths,
 * so this does not arise in practice.
 */
final class LayerUnpacker {
    private static final System.Logger LOG = System.getLogger(LayerUnpacker.class.getName());
    private static final String WHITEOUT = ".wh.";
    private static final String OPAQUE = ".wh..wh..opq";
    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;
    private static final long MAX_ENTRIES = 5_000_000;
    /** The deepest entry accepted, in path components; real images stay far below it. */
    static final int MAX_DEPTH = 512;
    /** Linux's {@code PATH_MAX}: bytes of a path, its terminating NUL included. */
    static final int PATH_MAX = 4096;
    /** Linux's {@code NAME_MAX}: bytes of one path component. */
    static final int NAME_MAX = 255;
    /** Linux's {@code XATTR_NAME_MAX} and {@code XATTR_SIZE_MAX}. */
    static final int XATTR_NAME_MAX = 255;
    static final int XATTR_SIZE_MAX = 65536;

    /** What the unpack produced. */
    record Stats(long bytes, long inodes) {
    }

    /**
     * Thrown for a broken or hostile archive, as opposed to a local I/O failure: INVALID_ARGUMENT, or
     * FAILED_PRECONDITION when the archive is well-formed but this node's file system cannot hold an entry.
     */
    static final class BadArchive extends IOException {
        private static final long serialVersionUID = 1L;
        private final BackendException.Kind kind;

        BadArchive(String message) {
            this(BackendException.Kind.INVALID_ARGUMENT, message);
        }

        BadArchive(BackendException.Kind kind, String message) {
            super(message);
            this.kind = kind;
        }

        BackendException.Kind kind() {
            return kind;
        }
    }

    private final Path root;
    private final int rootBytes;
    private final long maxBytes;
    private long bytes;
    private long inodes;
    private final List<Path> dirs = new ArrayList<>();
    private final List<FileTime> dirTimes = new ArrayList<>();

    private LayerUnpacker(Path root, long maxBytes) {
        this.root = root;
        this.rootBytes = utf8Length(root.toString());
        this.maxBytes = maxBytes;
    }

    /**
     * Unpacks the tar stream {@code tar} into {@code root}, which must exist and be empty.
     *
     * @throws BadArchive when the archive is corrupt, hostile or too large
     * @throws IOException when writing fails
     */
    static Stats unpack(InputStream tar, Path root, long maxBytes) throws IOException {
        LayerUnpacker u = new LayerUnpacker(root, maxBytes);
        try (TarArchiveInputStream in = new BoundedTarStream(new SourceStream(tar))) {
            TarArchiveEntry e;
            while ((e = nextEntry(in)) != null) {
                try {
                    u.apply(e, in);
                } catch (BadArchive x) {
                    throw x;
                } catch (IOException x) {
                    throw new IOException("failed to write entry \"" + shown(e.getName()) + "\": " + x.getMessage(), x);
                }
            }
        }
        for (int i = u.dirs.size() - 1; i >= 0; i--) {
            setTimes(u.dirs.get(i), u.dirTimes.get(i));
        }
        return new Stats(u.bytes, u.inodes);
    }

    private static TarArchiveEntry nextEntry(TarArchiveInputStream in) throws IOException {
        try {
            return in.getNextEntry();
        } catch (BadArchive e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new BadArchive("corrupt tar: " + e.getMessage());
        }
    }

    private void apply(TarArchiveEntry e, InputStream data) throws IOException {
        if (++inodes > MAX_ENTRIES) {
            throw new BadArchive("more than " + MAX_ENTRIES + " entries");
        }
        List<String> parts = components(e.getName());
        if (parts.isEmpty()) {
            return; // the layer root itself ("./")
        }
        checkPath(parts, "entry", e.getName());
        String base = parts.getLast();
        Path parent = parentDir(parts, e.getName());
        if (base.startsWith(WHITEOUT)) {
            whiteout(parent, base, e.getName());
            return;
        }
        Path target = parent.resolve(base);
        BasicFileAttributes existing = lstat(target);
        if (existing != null && !(e.isDirectory() && existing.isDirectory())) {
            FileTrees.deleteTree(target);
        }
        int mode = e.getMode() & 07777;
        if (e.isDirectory()) {
            if (existing == null || !existing.isDirectory()) {
                Files.createDirectory(target);
            }
            dirs.add(target);
            dirTimes.add(FileTime.from(e.getLastModifiedDate().toInstant()));
        } else if (e.isSymbolicLink()) {
            String link = e.getLinkName();
            if (link.isEmpty() || link.indexOf('\0') >= 0) {
                throw new BadArchive("symlink \"" + shown(e.getName()) + "\" has an empty or invalid target");
            }
            if (utf8Length(link) >= PATH_MAX) {
                throw new BadArchive("symlink \"" + shown(e.getName()) + "\" has a target of " + utf8Length(link)
                        + " bytes; the limit is " + (PATH_MAX - 1) + " (PATH_MAX)");
            }
            Files.createSymbolicLink(target, Path.of(link));
        } else if (e.isLink()) {
            List<String> lparts = components(e.getLinkName());
            if (lparts.isEmpty()) {
                throw new BadArchive("hard link \"" + shown(e.getName()) + "\" points at the layer root");
            }
            checkPath(lparts, "hard link target", e.getLinkName());
            Path source = parentDir(lparts, e.getLinkName()).resolve(lparts.getLast());
            BasicFileAttributes sa = lstat(source);
            if (sa == null || sa.isDirectory()) {
                throw new BadArchive("hard link \"" + shown(e.getName()) + "\" points at \"" + shown(e.getLinkName())
                        + "\", which is not a file earlier in this layer");
            }
            Files.createLink(target, source);
            return; // shares the inode, its owner and mode
        } else if (e.isCharacterDevice() || e.isBlockDevice() || e.isFIFO()) {
            int type = e.isCharacterDevice() ? Native.S_IFCHR : e.isBlockDevice() ? Native.S_IFBLK : Native.S_IFIFO;
            Native.mknod(target, type | mode, e.getDevMajor(), e.getDevMinor());
        } else if (e.isFile()) {
            long size = e.getSize();
            if (size < 0 || bytes + size > maxBytes) {
                throw new BadArchive("file \"" + shown(e.getName()) + "\" of " + size
                        + " bytes makes the layer larger than the limit of " + maxBytes + " bytes");
            }
            try (OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE, NOFOLLOW)) {
                byte[] buf = new byte[64 * 1024];
                while (true) {
                    int n;
                    try {
                        n = data.read(buf);
                    } catch (BadArchive x) {
                        throw x;
                    } catch (IOException | RuntimeException x) {
                        throw new BadArchive("corrupt tar at \"" + shown(e.getName()) + "\": " + x.getMessage());
                    }
                    if (n < 0) {
                        break;
                    }
                    out.write(buf, 0, n);
                    bytes += n;
                }
            }
        } else {
            LOG.log(System.Logger.Level.DEBUG, () -> "skipping tar entry \"" + e.getName() + "\" of unsupported type");
            return;
        }
        int uid = (int) e.getLongUserId();
        int gid = (int) e.getLongGroupId();
        if (uid != 0 || gid != 0) {
            Native.lchown(target, uid, gid);
        }
        if (!e.isSymbolicLink()) {
            Native.chmod(target, mode);
        }
        for (Map.Entry<String, String> x : e.getExtraPaxHeaders().entrySet()) {
            if (x.getKey().startsWith("SCHILY.xattr.")) {
                xattr(target, x.getKey().substring("SCHILY.xattr.".length()), x.getValue(), e.getName());
            }
        }
        if (!e.isDirectory()) {
            setTimes(target, FileTime.from(e.getLastModifiedDate().toInstant()));
        }
    }

    private void whiteout(Path parent, String base, String name) throws IOException {
        if (base.equals(OPAQUE)) {
            Native.lsetxattr(parent, "trusted.overlay.opaque", "y".getBytes(StandardCharsets.US_ASCII));
            return;
        }
        String hidden = base.substring(WHITEOUT.length());
        if (hidden.startsWith(WHITEOUT) || hidden.isEmpty() || hidden.equals(".") || hidden.equals("..")) {
            return; // aufs bookkeeping (.wh..wh.plnk and the like): nothing to apply
        }
        Path target = parent.resolve(hidden);
        if (lstat(target) != null) {
            FileTrees.deleteTree(target);
        }
        Native.mknod(target, Native.S_IFCHR, 0, 0);
    }

    private static void xattr(Path target, String name, String value, String entry) throws IOException {
        if (name.startsWith("trusted.overlay.")) {
            LOG.log(System.Logger.Level.WARNING,
                    () -> "ignoring overlay xattr \"" + name + "\" on \"" + entry + "\" in a layer");
            return;
        }
        if (value.indexOf('\uFFFD') >= 0) {
            LOG.log(System.Logger.Level.WARNING,
                    () -> "ignoring binary xattr \"" + name + "\" on \"" + entry + "\": not representable");
            return;
        }
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        String what = "entry \"" + shown(entry) + "\": xattr \"" + shown(name) + "\"";
        if (utf8Length(name) > XATTR_NAME_MAX || bytes.length > XATTR_SIZE_MAX) {
            throw new BadArchive(what + " has a name of " + utf8Length(name) + " bytes and a value of " + bytes.length
                    + " bytes; Linux allows " + XATTR_NAME_MAX + " and " + XATTR_SIZE_MAX);
        }
        try {
            Native.lsetxattr(target, name, bytes);
        } catch (Native.ErrnoException x) {
            switch (x.errno()) {
                case Native.ENOSPC, Native.E2BIG, Native.ERANGE, Native.EOPNOTSUPP, Native.EPERM ->
                        throw new BadArchive(BackendException.Kind.FAILED_PRECONDITION, what + " of " + bytes.length
                                + " bytes does not fit on this node's image file system (" + x.reason() + ")");
                default -> throw x;
            }
        }
    }

    /**
     * Refuses a path the kernel could not take, before anything is created for it: deeper than
     * {@link #MAX_DEPTH}, a component longer than {@code NAME_MAX}, or longer than {@code PATH_MAX} under the root.
     */
    private void checkPath(List<String> parts, String what, String name) throws BadArchive {
        if (parts.size() > MAX_DEPTH) {
            throw new BadArchive(what + " \"" + shown(name) + "\" is nested " + parts.size()
                    + " levels deep; the limit is " + MAX_DEPTH);
        }
        long bytes = rootBytes + 1; // the terminating NUL
        for (String p : parts) {
            int n = utf8Length(p);
            if (n > NAME_MAX) {
                throw new BadArchive(what + " \"" + shown(name) + "\" has a path component of " + n
                        + " bytes; the limit is " + NAME_MAX + " (NAME_MAX)");
            }
            bytes += 1 + n;
        }
        if (bytes > PATH_MAX) {
            throw new BadArchive(what + " \"" + shown(name) + "\" makes a path of " + bytes
                    + " bytes in the layer's directory; the limit is " + PATH_MAX + " (PATH_MAX)");
        }
    }

    private static int utf8Length(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    /** The name as messages show it: long names are cut in the middle, with their length. */
    static String shown(String name) {
        if (name.length() <= 200) {
            return name;
        }
        return name.substring(0, 120) + "..." + name.substring(name.length() - 60);
    }

    /** The name's components, after dropping "." and empty ones; refuses absolute names and "..". */
    static List<String> components(String name) throws BadArchive {
        if (name.indexOf('\0') >= 0) {
            throw new BadArchive("entry name contains a NUL byte");
        }
        if (name.startsWith("/")) {
            throw new BadArchive("entry \"" + shown(name) + "\" has an absolute path");
        }
        List<String> parts = new ArrayList<>();
        for (String p : name.split("/")) {
            if (p.isEmpty() || p.equals(".")) {
                continue;
            }
            if (p.equals("..")) {
                throw new BadArchive("entry \"" + shown(name) + "\" contains \"..\"");
            }
            parts.add(p);
        }
        return parts;
    }

    /** The directory holding the last component, created as needed; never goes through a symlink. */
    private Path parentDir(List<String> parts, String name) throws IOException {
        Path dir = root;
        for (int i = 0; i < parts.size() - 1; i++) {
            dir = dir.resolve(parts.get(i));
            BasicFileAttributes a = lstat(dir);
            if (a == null) {
                Files.createDirectory(dir);
                Native.chmod(dir, 0755);
                inodes++;
            } else if (a.isSymbolicLink()) {
                throw new BadArchive("entry \"" + shown(name) + "\" goes through the symlink \""
                        + String.join("/", parts.subList(0, i + 1)) + "\"");
            } else if (!a.isDirectory()) {
                throw new BadArchive("entry \"" + shown(name) + "\" goes through \""
                        + String.join("/", parts.subList(0, i + 1)) + "\", which is not a directory");
            }
        }
        return dir;
    }

    private static BasicFileAttributes lstat(Path p) throws IOException {
        try {
            return Files.readAttributes(p, BasicFileAttributes.class, NOFOLLOW);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    private static void setTimes(Path p, FileTime mtime) {
        try {
            Files.getFileAttributeView(p, BasicFileAttributeView.class, NOFOLLOW).setTimes(mtime, null, null);
        } catch (IOException | UnsupportedOperationException e) {
            // times are cosmetic
        }
    }

    /** The largest PAX or GNU long-name header accepted; the tar reader holds such headers in memory. */
    static final long MAX_METADATA_HEADER = 1 << 20;

    /**
     * A tar reader that refuses oversized PAX and GNU long-name headers before reading them: the library reads
     * those headers through this stream's {@code read} while the header is the current entry, and would hold the
     * whole value in memory.
     */
    private static final class BoundedTarStream extends TarArchiveInputStream {
        BoundedTarStream(InputStream in) {
            super(in, "UTF-8");
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            TarArchiveEntry e = getCurrentEntry();
            if (e != null && (e.isPaxHeader() || e.isGlobalPaxHeader() || e.isGNULongNameEntry()
                    || e.isGNULongLinkEntry()) && e.getSize() > MAX_METADATA_HEADER) {
                throw new BadArchive("a tar metadata header of " + e.getSize() + " bytes exceeds the limit of "
                        + MAX_METADATA_HEADER + " bytes");
            }
            return super.read(b, off, len);
        }
    }

    /** Marks read failures of the archive as {@link BadArchive}; leaves the caller's stream open. */
    private static final class SourceStream extends FilterInputStream {
        SourceStream(InputStream in) {
            super(in);
        }

        @Override
        public void close() {
            // the caller drains and closes the stream
        }

        @Override
        public int read() throws IOException {
            try {
                return super.read();
            } catch (BadArchive e) {
                throw e;
            } catch (IOException e) {
                throw new BadArchive("corrupt layer data: " + e.getMessage());
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                return super.read(b, off, len);
            } catch (BadArchive e) {
                throw e;
            } catch (IOException e) {
                throw new BadArchive("corrupt layer data: " + e.getMessage());
            }
        }
    }

    /** The refusal of layer {@code layer} (its digest) for what {@code e} found. */
    static BackendException rejected(String layer, BadArchive e) {
        return new BackendException(e.kind(), "layer " + layer + " is refused: " + e.getMessage(), e);
    }
}
