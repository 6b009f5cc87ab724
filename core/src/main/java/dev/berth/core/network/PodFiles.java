package dev.berth.core.network;

import dev.berth.spi.BackendException;
import dev.berth.spi.DnsConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/** Writes a pod's {@code resolv.conf}, {@code hosts} and {@code hostname} files (replaced atomically). */
final class PodFiles {
    static final Path HOST_RESOLV_CONF = Path.of("/etc/resolv.conf");

    private PodFiles() {}

    static String resolvConf(DnsConfig dns) {
        StringBuilder out = new StringBuilder();
        if (!dns.searches().isEmpty()) {
            out.append("search ").append(String.join(" ", dns.searches())).append('\n');
        }
        for (String server : dns.servers()) {
            out.append("nameserver ").append(server).append('\n');
        }
        if (!dns.options().isEmpty()) {
            out.append("options ").append(String.join(" ", dns.options())).append('\n');
        }
        return out.toString();
    }

    static void writeResolvConf(Path file, DnsConfig dns, Path hostResolvConf) {
        String content;
        if (dns == null || dns.isEmpty()) {
            try {
                content = Files.readString(hostResolvConf, StandardCharsets.UTF_8);
            } catch (NoSuchFileException e) {
                content = "";
            } catch (IOException e) {
                throw BackendException.internal("failed to read " + hostResolvConf + ": " + e.getMessage(), e);
            }
        } else {
            content = resolvConf(dns);
        }
        write(file, content);
    }

    static String hosts(String hostname, List<String> podIps) {
        StringBuilder out = new StringBuilder();
        out.append("127.0.0.1\tlocalhost\n");
        out.append("::1\tlocalhost ip6-localhost ip6-loopback\n");
        out.append("fe00::0\tip6-localnet\n");
        out.append("fe00::0\tip6-mcastprefix\n");
        out.append("fe00::1\tip6-allnodes\n");
        out.append("fe00::2\tip6-allrouters\n");
        if (hostname != null && !hostname.isBlank()) {
            for (String ip : podIps) {
                if (ip != null && !ip.isBlank()) {
                    out.append(ip).append('\t').append(hostname).append('\n');
                }
            }
        }
        return out.toString();
    }

    static void write(Path file, String content) {
        Path temp = file.resolveSibling("." + file.getFileName() + ".tmp");
        try {
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            Files.writeString(temp, content, StandardCharsets.UTF_8);
            try {
                Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw BackendException.internal("failed to write " + file + ": " + e.getMessage(), e);
        }
    }
}
