package dev.berth.core.image;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.core.environment.WindowsHost;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendException.Kind;
import java.util.ArrayList;
import java.util.List;

/**
 * Picks the manifest of an image index that this node runs: {@code linux/<arch>} on Linux, {@code windows/amd64} on
 * Windows, with the variant matching when the node has one (an entry without a variant is the fallback).
 *
 * <p>On Windows an index usually carries one manifest per Windows build (its {@code platform.os.version}, e.g.
 * {@code 10.0.20348.2227} and {@code 10.0.17763.5329}), and a process-isolated container must share the host's kernel
 * build. The rule is Microsoft's published compatibility policy: the major and minor version must be the host's;
 * a host before Windows Server 2022 (build 20348) runs only its own build; a host from 20348 on runs builds from
 * 20348 up to its own (the stable ABI of Windows Server 2022 and later). An entry without {@code os.version} is
 * accepted. Among the acceptable entries the host's own build wins, then the newest version (build, then
 * revision). When the host's version is unknown every Windows entry is acceptable and the newest wins.
 * Hyper-V isolation could run older builds too; the image service does not know the pod's isolation, so it picks
 * for process isolation, which is what Hyper-V can run as well.
 */
public final class PlatformMatcher {
    /** The first build of Windows Server 2022, from which newer hosts run older (down to this) container builds. */
    static final int STABLE_ABI_BUILD = 20348;

    private final String os;
    private final String architecture;
    private final String variant;
    private final int[] hostVersion;

    private PlatformMatcher(String os, String architecture, String variant, String hostOsVersion) {
        this.os = os;
        this.architecture = architecture;
        this.variant = variant == null ? "" : variant;
        this.hostVersion = os.equals("windows") ? version(hostOsVersion) : null;
    }

    /** A matcher for an explicit platform; {@code hostOsVersion} counts only for windows (empty: unknown). */
    public static PlatformMatcher of(String os, String architecture, String variant, String hostOsVersion) {
        return new PlatformMatcher(os, architecture, variant, hostOsVersion == null ? "" : hostOsVersion);
    }

    /** The node's matcher: on a windows platform with the running host's version ({@link WindowsHost}). */
    public static PlatformMatcher forNode(String os, String architecture, String variant) {
        return of(os, architecture, variant, os.equals("windows") ? WindowsHost.hostOsVersion() : "");
    }

    /** The node's platform, as error messages name it. */
    public String describe() {
        return os + "/" + architecture + (variant.isEmpty() ? "" : "/" + variant)
                + (hostVersion == null || hostVersion.length == 0 ? "" : " (os.version " + join(hostVersion) + ")");
    }

    /**
     * The digest of the index entry this node runs; FAILED_PRECONDITION naming the index's platforms if none.
     *
     * @param ref the image, for the message
     */
    public String select(Object ref, JsonNode index) {
        String best = null;
        long bestScore = -1;
        List<String> seen = new ArrayList<>();
        for (JsonNode d : index.path("manifests")) {
            JsonNode p = d.path("platform");
            String eOs = p.path("os").asText("");
            String eArch = p.path("architecture").asText("");
            String eVariant = p.path("variant").asText("");
            String eVersion = p.path("os.version").asText("");
            seen.add(eOs + "/" + eArch + (eVariant.isEmpty() ? "" : "/" + eVariant)
                    + (eVersion.isEmpty() ? "" : " " + eVersion));
            long score = score(eOs, eArch, eVariant, eVersion);
            if (score > bestScore) {
                bestScore = score;
                best = d.path("digest").asText("");
            }
        }
        if (best == null) {
            throw new BackendException(Kind.FAILED_PRECONDITION, "failed to pull image \"" + ref
                    + "\": no manifest for platform " + describe() + " (the index has " + String.join(", ", seen) + ")");
        }
        ContentStore.checkDigest(best);
        return best;
    }

    /**
     * Refuses an image whose config names another os or architecture than this node's, or, on a Windows node whose
     * build is known, a Windows build ({@code os.version}) this host cannot run (the rule of {@link #select}).
     */
    public void checkConfig(Object ref, JsonNode config) {
        String cOs = config.path("os").asText("");
        String cArch = config.path("architecture").asText("");
        if (!cOs.isEmpty() && !cOs.equals(os) || !cArch.isEmpty() && !cArch.equals(architecture)) {
            throw new BackendException(Kind.FAILED_PRECONDITION, "failed to pull image \"" + ref
                    + "\": the image is for " + cOs + "/" + cArch + ", this node is " + describe());
        }
        String cVersion = config.path("os.version").asText("");
        int[] v = version(cVersion);
        if (hostVersion != null && hostVersion.length >= 3 && v.length > 0 && !runsBuild(v)) {
            throw new BackendException(Kind.FAILED_PRECONDITION, "failed to pull image \"" + ref
                    + "\": the image is for Windows os.version " + cVersion + ", which this host (os.version "
                    + join(hostVersion) + ") cannot run with process isolation"
                    + (hostVersion[2] < STABLE_ABI_BUILD ? " (it runs only its own build)"
                    : " (it runs builds " + STABLE_ABI_BUILD + " to " + hostVersion[2] + " of "
                    + hostVersion[0] + "." + hostVersion[1] + ")"));
        }
    }

    /** Whether this Windows host (its version known) runs a container of build {@code v} (at least 3 parts). */
    private boolean runsBuild(int[] v) {
        if (v.length < 3 || v[0] != hostVersion[0] || v[1] != hostVersion[1]) {
            return false;
        }
        int host = hostVersion[2];
        return host < STABLE_ABI_BUILD ? v[2] == host : v[2] >= STABLE_ABI_BUILD && v[2] <= host;
    }

    /** How well an entry fits: negative for not at all; higher is better. */
    long score(String eOs, String eArch, String eVariant, String eVersion) {
        if (!eOs.equals(os) || !eArch.equals(architecture)) {
            return -1;
        }
        long variantScore;
        if (eVariant.equals(variant)) {
            variantScore = 2;
        } else if (eVariant.isEmpty()) {
            variantScore = 1;
        } else {
            return -1;
        }
        if (hostVersion == null) {
            return variantScore;
        }
        int[] v = version(eVersion);
        if (v.length == 0) {
            return variantScore << 40; // no os.version: acceptable, below every versioned match
        }
        if (hostVersion.length >= 3 && !runsBuild(v)) {
            return -1;
        }
        boolean ownBuild = hostVersion.length >= 3 && v.length >= 3 && v[2] == hostVersion[2];
        long build = v.length >= 3 ? Math.min(v[2], 0xFFFF) : 0;
        long revision = v.length >= 4 ? Math.min(v[3], 0xFFFFF) : 0;
        return (variantScore << 40) | ((ownBuild ? 1L : 0L) << 39) | (1L << 38) | (build << 20) | revision;
    }

    /** {@code major.minor.build[.revision]} as numbers; empty when it does not parse. */
    static int[] version(String s) {
        if (s == null || s.isBlank()) {
            return new int[0];
        }
        String[] parts = s.strip().split("\\.");
        if (parts.length < 3) {
            return new int[0];
        }
        int[] out = new int[Math.min(parts.length, 4)];
        try {
            for (int i = 0; i < out.length; i++) {
                out[i] = Integer.parseInt(parts[i]);
            }
        } catch (NumberFormatException e) {
            return new int[0];
        }
        return out;
    }

    private static String join(int[] v) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < v.length; i++) {
            b.append(i == 0 ? "" : ".").append(v[i]);
        }
        return b.toString();
    }
}
