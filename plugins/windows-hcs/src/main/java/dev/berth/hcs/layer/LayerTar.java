package dev.berth.hcs.layer;

import com.github.luben.zstd.ZstdInputStream;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * A Windows layer blob written out as the folder the layer API imports from: the blob is decompressed (gzip, zstd
 * or plain, told by its first bytes), checked against its diff id, and its entries under {@code Files/},
 * {@code Hives/} and {@code UtilityVM/} are written below the folder. A whiteout ({@code .wh.<name>}) is not
 * written; it becomes a line of {@code tombstones.txt}, the list of paths the layer deletes from its parents.
 *
 * <p>This is the portable part of hcsshim's layer writer. What it does not do is write the files with Win32
 * backup semantics: the security descriptors, attributes and reparse points a Windows layer tar carries in its
 * {@code MSWINDOWS.*} PAX headers are not applied (see docs/windows.md).
 */
public final class LayerTar {
    /** The top-level folders of a Windows layer. */
    static final List<String> TOP = List.of("Files", "Hives", "UtilityVM");
    static final String TOMBSTONES = "tombstones.txt";
    private static final String WHITEOUT = ".wh.";

    private LayerTar() {}

    /** What was written: whether the layer has a utility VM image, and the paths it deletes. */
    public record Written(boolean utilityVm, List<String> tombstones) {}

    /** Writes the layer {@code blob} (whose uncompressed tar must hash to {@code diffId}) below {@code folder}. */
    public static Written write(Path blob, String diffId, Path folder) throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        boolean uvm = false;
        List<String> tombstones = new ArrayList<>();
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(blob));
             DigestInputStream tarBytes = new DigestInputStream(decompressed(raw), sha);
             TarArchiveInputStream tar = new TarArchiveInputStream(tarBytes)) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
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
                if (base.startsWith(WHITEOUT)) {
                    String parent = name.substring(0, name.length() - base.length());
                    tombstones.add(parent + base.substring(WHITEOUT.length()));
                    continue;
                }
                Path target = inside(folder, name);
                if (e.isDirectory()) {
                    Files.createDirectories(target);
                } else if (e.isLink()) {
                    Files.createDirectories(target.getParent());
                    Files.deleteIfExists(target);
                    Files.createLink(target, inside(folder, relative(e.getLinkName())));
                } else if (e.isSymbolicLink()) {
                    Files.createDirectories(target.getParent());
                    Files.deleteIfExists(target);
                    Files.createSymbolicLink(target, Path.of(e.getLinkName()));
                } else if (e.isFile()) {
                    Files.createDirectories(target.getParent());
                    Files.copy(tar, target, StandardCopyOption.REPLACE_EXISTING);
                } else {
                    throw new IOException("entry \"" + e.getName() + "\" is of a kind a Windows layer does not hold");
                }
            }
            tarBytes.transferTo(OutputStream.nullOutputStream());
        }
        String got = "sha256:" + HexFormat.of().formatHex(sha.digest());
        if (!got.equals(diffId)) {
            throw new IOException("the layer " + blob.getFileName() + " is not diff id " + diffId + " (it is " + got
                    + ")");
        }
        if (!tombstones.isEmpty()) {
            StringBuilder sb = new StringBuilder("Version 1.0\n");
            for (String t : tombstones) {
                sb.append('\\').append(t.replace('/', '\\')).append('\n');
            }
            Files.writeString(folder.resolve(TOMBSTONES), sb.toString(), StandardCharsets.UTF_8);
        }
        return new Written(uvm, List.copyOf(tombstones));
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

    private static Path inside(Path folder, String name) throws IOException {
        Path p = folder.resolve(name).normalize();
        if (!p.startsWith(folder.normalize()) || p.equals(folder.normalize())) {
            throw new IOException("entry \"" + name + "\" leaves the layer");
        }
        return p;
    }
}
