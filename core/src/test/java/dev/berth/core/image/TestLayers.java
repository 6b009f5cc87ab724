package dev.berth.core.image;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/** Builds layer tars and images for tests, and pushes them to a registry through the distribution API. */
final class TestLayers {
    static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    static final String DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private TestLayers() {
    }

    static String sha(byte[] data) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] gzip(byte[] data) {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bos)) {
            gz.write(data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bos.toByteArray();
    }

    /** A layer: tar entries in order, and what the unpacked directory must look like. */
    static final class Layer {
        private final ByteArrayOutputStream bos = new ByteArrayOutputStream();
        private final TarArchiveOutputStream tar;
        /** expected description (as {@link TestTrees#entry}) per path. */
        final Map<String, String> expected = new TreeMap<>();
        private final Map<String, String> files = new LinkedHashMap<>();

        Layer() {
            tar = new TarArchiveOutputStream(bos, "UTF-8");
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            tar.setAddPaxHeadersForNonAsciiNames(true);
        }

        private void put(TarArchiveEntry e, byte[] data) {
            e.setModTime(1_600_000_000_000L); // deterministic layers: the same content gives the same digest
            try {
                tar.putArchiveEntry(e);
                if (data != null) {
                    tar.write(data);
                }
                tar.closeArchiveEntry();
            } catch (IOException x) {
                throw new UncheckedIOException(x);
            }
        }

        private void parents(String name) {
            String[] parts = name.split("/");
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < parts.length - 1; i++) {
                sb.append(i == 0 ? "" : "/").append(parts[i]);
                expected.putIfAbsent(sb.toString(), "dir 0755 0:0");
            }
        }

        Layer dir(String name, int mode, int uid, int gid) {
            TarArchiveEntry e = new TarArchiveEntry(name + "/");
            e.setMode(040000 | mode);
            e.setIds(uid, gid);
            put(e, null);
            parents(name);
            expected.put(name, "dir " + String.format("%04o", mode) + " " + uid + ":" + gid);
            return this;
        }

        Layer file(String name, String content) {
            return file(name, content.getBytes(StandardCharsets.UTF_8), 0644, 0, 0);
        }

        Layer file(String name, byte[] data, int mode, int uid, int gid) {
            TarArchiveEntry e = new TarArchiveEntry(name);
            e.setMode(0100000 | mode);
            e.setIds(uid, gid);
            e.setSize(data.length);
            put(e, data);
            parents(name);
            String d = "file " + String.format("%04o", mode) + " " + uid + ":" + gid + " " + sha(data);
            expected.put(name, d);
            files.put(name, d);
            return this;
        }

        Layer fileWithXattr(String name, String content, String xattr, String value) {
            byte[] data = content.getBytes(StandardCharsets.UTF_8);
            TarArchiveEntry e = new TarArchiveEntry(name);
            e.setMode(0100644);
            e.setSize(data.length);
            e.addPaxHeader("SCHILY.xattr." + xattr, value);
            put(e, data);
            parents(name);
            expected.put(name, "file 0644 0:0 " + sha(data));
            return this;
        }

        Layer symlink(String name, String target) {
            TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_SYMLINK);
            e.setLinkName(target);
            put(e, null);
            parents(name);
            expected.put(name, "symlink 0:0 -> " + target);
            return this;
        }

        Layer hardlink(String name, String target) {
            TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_LINK);
            e.setLinkName(target);
            put(e, null);
            parents(name);
            expected.put(name, expected.get(target));
            return this;
        }

        Layer chr(String name, int major, int minor) {
            TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_CHR);
            e.setDevMajor(major);
            e.setDevMinor(minor);
            e.setMode(0020666);
            put(e, null);
            parents(name);
            expected.put(name, "chr 0666 0:0 " + major + "/" + minor);
            return this;
        }

        Layer whiteout(String name) {
            int slash = name.lastIndexOf('/');
            String wh = slash < 0 ? ".wh." + name : name.substring(0, slash + 1) + ".wh." + name.substring(slash + 1);
            TarArchiveEntry e = new TarArchiveEntry(wh);
            e.setSize(0);
            put(e, new byte[0]);
            parents(name);
            expected.put(name, "whiteout");
            return this;
        }

        Layer opaque(String dir) {
            TarArchiveEntry e = new TarArchiveEntry(dir + "/.wh..wh..opq");
            e.setSize(0);
            put(e, new byte[0]);
            parents(dir + "/x");
            return this;
        }

        /** An entry written with its name as given: "../x", "/abs" and the like. */
        Layer raw(String name, byte type, String linkName, byte[] data) {
            TarArchiveEntry e = new TarArchiveEntry(name, type, true);
            if (linkName != null) {
                e.setLinkName(linkName);
            }
            e.setMode(type == TarConstants.LF_DIR ? 040755 : 0100644);
            if (data != null) {
                e.setSize(data.length);
            }
            put(e, data);
            return this;
        }

        byte[] tar() {
            try {
                tar.finish();
                tar.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return bos.toByteArray();
        }
    }

    /** A pushed image: digests of what is in the registry. */
    record Pushed(String manifestDigest, String configDigest, byte[] manifest, String mediaType, long size) {
    }

    /** Pushes blobs, configs and manifests to a registry (monolithic uploads). */
    static final class Pusher {
        private final String base;
        private final HttpClient http = HttpClient.newHttpClient();
        private final String auth;

        Pusher(String registryUrl, String user, String password) {
            this.base = registryUrl;
            this.auth = user == null ? null : "Basic " + Base64.getEncoder().encodeToString(
                    (user + ":" + password).getBytes(StandardCharsets.UTF_8));
        }

        Pusher(String registryUrl) {
            this(registryUrl, null, null);
        }

        private HttpRequest.Builder req(URI uri) {
            HttpRequest.Builder b = HttpRequest.newBuilder(uri);
            if (auth != null) {
                b.header("Authorization", auth);
            }
            return b;
        }

        String blob(String repo, byte[] data) throws IOException, InterruptedException {
            String digest = sha(data);
            HttpResponse<Void> head = http.send(req(URI.create(base + "/v2/" + repo + "/blobs/" + digest))
                    .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
            if (head.statusCode() == 200) {
                return digest;
            }
            HttpResponse<String> start = http.send(req(URI.create(base + "/v2/" + repo + "/blobs/uploads/"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            check(start, 202, "start upload");
            String location = start.headers().firstValue("Location").orElseThrow();
            URI upload = URI.create(base).resolve(location);
            String sep = upload.getQuery() == null ? "?" : "&";
            HttpResponse<String> put = http.send(req(URI.create(upload + sep + "digest=" + digest))
                    .header("Content-Type", "application/octet-stream")
                    .PUT(HttpRequest.BodyPublishers.ofByteArray(data)).build(), HttpResponse.BodyHandlers.ofString());
            check(put, 201, "upload blob");
            return digest;
        }

        String manifest(String repo, String ref, String mediaType, byte[] body) throws IOException, InterruptedException {
            HttpResponse<String> put = http.send(req(URI.create(base + "/v2/" + repo + "/manifests/" + ref))
                    .header("Content-Type", mediaType).PUT(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            check(put, 201, "put manifest");
            return sha(body);
        }

        private static void check(HttpResponse<String> r, int want, String what) throws IOException {
            if (r.statusCode() != want) {
                throw new IOException(what + ": " + r.statusCode() + " " + r.body());
            }
        }

        /** Pushes an image whose layers are given as (compressed blob, uncompressed tar) pairs. */
        Pushed image(String repo, String tag, boolean oci, String arch, Map<String, Object> runConfig,
                     List<byte[][]> layers) throws IOException, InterruptedException {
            return image(repo, tag, oci, "linux", arch, "", runConfig, layers);
        }

        /** As above, for an image config naming {@code os} and (when not empty) {@code os.version}. */
        Pushed image(String repo, String tag, boolean oci, String os, String arch, String osVersion,
                     Map<String, Object> runConfig, List<byte[][]> layers) throws IOException, InterruptedException {
            ObjectNode config = JSON.createObjectNode();
            config.put("architecture", arch);
            config.put("os", os);
            if (!osVersion.isEmpty()) {
                config.put("os.version", osVersion);
            }
            config.set("config", JSON.valueToTree(runConfig));
            ObjectNode rootfs = config.putObject("rootfs");
            rootfs.put("type", "layers");
            ArrayNode diffIds = rootfs.putArray("diff_ids");
            layers.forEach(l -> diffIds.add(sha(l[1])));
            byte[] cfg = JSON.writeValueAsBytes(config);
            String cfgDigest = blob(repo, cfg);
            ObjectNode m = JSON.createObjectNode();
            m.put("schemaVersion", 2);
            String mt = oci ? OCI_MANIFEST : DOCKER_MANIFEST;
            m.put("mediaType", mt);
            ObjectNode c = m.putObject("config");
            c.put("mediaType", oci ? "application/vnd.oci.image.config.v1+json"
                    : "application/vnd.docker.container.image.v1+json");
            c.put("size", cfg.length);
            c.put("digest", cfgDigest);
            ArrayNode ls = m.putArray("layers");
            long size = cfg.length;
            for (byte[][] l : layers) {
                ObjectNode d = ls.addObject();
                boolean zstd = (l[0][0] & 0xff) == 0x28;
                boolean plain = java.util.Arrays.equals(l[0], l[1]);
                d.put("mediaType", oci ? "application/vnd.oci.image.layer.v1.tar" + (plain ? "" : zstd ? "+zstd" : "+gzip")
                        : plain ? "application/vnd.docker.image.rootfs.diff.tar"
                        : "application/vnd.docker.image.rootfs.diff.tar.gzip");
                d.put("size", l[0].length);
                d.put("digest", blob(repo, l[0]));
                size += l[0].length;
            }
            byte[] manifest = JSON.writeValueAsBytes(m);
            String digest = manifest(repo, tag == null ? sha(manifest) : tag, mt, manifest);
            return new Pushed(digest, cfgDigest, manifest, mt, size);
        }

        /** Pushes an index (OCI) or manifest list (Docker) over already pushed manifests. */
        String index(String repo, String tag, boolean oci, List<Pushed> manifests, List<String> platforms)
                throws IOException, InterruptedException {
            ObjectNode idx = JSON.createObjectNode();
            idx.put("schemaVersion", 2);
            String mt = oci ? OCI_INDEX : DOCKER_LIST;
            idx.put("mediaType", mt);
            ArrayNode ms = idx.putArray("manifests");
            for (int i = 0; i < manifests.size(); i++) {
                Pushed p = manifests.get(i);
                ObjectNode d = ms.addObject();
                d.put("mediaType", p.mediaType());
                d.put("size", p.manifest().length);
                d.put("digest", p.manifestDigest());
                String[] plat = platforms.get(i).split("/");
                ObjectNode pl = d.putObject("platform");
                pl.put("os", plat[0]);
                pl.put("architecture", plat[1]);
                if (plat.length > 2) {
                    pl.put("variant", plat[2]);
                }
            }
            return manifest(repo, tag, mt, JSON.writeValueAsBytes(idx));
        }
    }

    /**
     * A tar of {@code depth} nested directories {@code d/d/d/...}, each with its own entry and a PAX {@code path}
     * record. Written by hand: the tar library's writer takes minutes for thousands of long names.
     */
    static byte[] nestedDirs(int depth) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringBuilder name = new StringBuilder();
        for (int i = 0; i < depth; i++) {
            name.append(i == 0 ? "d" : "/d");
            byte[] record = paxRecord("path", name + "/");
            out.writeBytes(header("PaxHeader", 'x', record.length));
            out.writeBytes(record);
            out.writeBytes(new byte[(512 - record.length % 512) % 512]);
            out.writeBytes(header("d/", '5', 0));
        }
        out.writeBytes(new byte[1024]);
        return out.toByteArray();
    }

    private static byte[] paxRecord(String key, String value) {
        int body = key.length() + value.getBytes(StandardCharsets.UTF_8).length + 3; // ' ', '=', '\n'
        int len = body + Integer.toString(body).length();
        if (Integer.toString(len).length() != Integer.toString(body).length()) {
            len++;
        }
        return (len + " " + key + "=" + value + "\n").getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] header(String name, char type, long size) {
        byte[] h = new byte[512];
        field(h, 0, name);
        field(h, 100, type == '5' ? "0000755" : "0000644");
        field(h, 108, "0000000");
        field(h, 116, "0000000");
        field(h, 124, String.format("%011o", size));
        field(h, 136, String.format("%011o", 1_600_000_000L));
        h[156] = (byte) type;
        field(h, 257, "ustar");
        field(h, 263, "00");
        java.util.Arrays.fill(h, 148, 156, (byte) ' ');
        int sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        field(h, 148, String.format("%06o", sum));
        h[155] = ' ';
        return h;
    }

    private static void field(byte[] h, int at, String value) {
        byte[] b = value.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, h, at, b.length);
    }

    /** A gzip layer pair {compressed, tar}. */
    static byte[][] gz(Layer layer) {
        byte[] tar = layer.tar();
        return new byte[][] {gzip(tar), tar};
    }

    static List<byte[][]> layers(Layer... layers) {
        List<byte[][]> out = new ArrayList<>();
        for (Layer l : layers) {
            out.add(gz(l));
        }
        return out;
    }
}
