package dev.berth.core.cdi;

import dev.berth.spi.BackendException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The CDI devices of this node: the spec files ({@code *.json}, {@code *.yaml}) in the configured directories, read
 * when a container asks for a device, so that a spec a device plugin or DRA driver has just written is found. A spec
 * in a later directory overrides one of the same device in an earlier directory; two files of one directory that
 * define the same device make it unresolvable, as in the CDI specification. A file that does not parse or check is
 * left out, and a request for one of its devices says which file and why.
 */
public final class CdiRegistry {
    private static final System.Logger LOG = System.getLogger(CdiRegistry.class.getName());
    /** The annotations by which device plugins hand out CDI devices: {@code cdi.k8s.io/<name>: kind=dev,kind=dev}. */
    public static final String ANNOTATION_PREFIX = "cdi.k8s.io/";

    private final List<Path> dirs;

    public CdiRegistry(List<Path> dirs) {
        this.dirs = List.copyOf(dirs);
    }

    /** The directories read, lowest priority first. */
    public List<Path> dirs() {
        return dirs;
    }

    /** One device's edits, from the spec file that defines it. */
    public record Resolved(String device, Path file, CdiSpec.Edits edits) {}

    /**
     * The devices a container asks for: CRI's {@code CDI_devices} field, then the {@code cdi.k8s.io/} annotations'
     * comma-separated lists (by key), each device once, in that order.
     */
    public static List<String> requested(List<String> field, Map<String, String> annotations) {
        Set<String> out = new LinkedHashSet<>(field);
        annotations.entrySet().stream().filter(e -> e.getKey().startsWith(ANNOTATION_PREFIX))
                .sorted(Map.Entry.comparingByKey())
                .forEach(e -> {
                    for (String d : e.getValue().split(",", -1)) {
                        out.add(d.strip());
                    }
                });
        return List.copyOf(out);
    }

    /**
     * The edits for {@code devices} (qualified names, {@code vendor/class=name}), in the order they apply: for each
     * device, its spec's own edits the first time a device of that spec comes, then the device's.
     *
     * @param container the container's name, for the messages
     * @throws BackendException {@code INVALID_ARGUMENT} for a name that is not {@code vendor/class=name};
     *     {@code FAILED_PRECONDITION} when no spec of this node defines a device, or two define it, naming the
     *     directories read and the files left out
     */
    public List<Resolved> resolve(String container, List<String> devices) {
        for (String d : devices) {
            checkName(container, d);
        }
        if (dirs.isEmpty()) {
            throw new BackendException(BackendException.Kind.FAILED_PRECONDITION, "container \"" + container
                    + "\" asks for CDI devices " + devices + ", but CDI is turned off on this node (cdi_spec_dirs is "
                    + "empty)");
        }
        Scan scan = scan();
        List<String> missing = new ArrayList<>();
        List<String> conflicts = new ArrayList<>();
        for (String d : devices) {
            Defined def = scan.devices.get(d);
            if (def == null) {
                missing.add(d);
            } else if (def.conflict() != null) {
                conflicts.add(d + " (defined by both " + def.file() + " and " + def.conflict() + ")");
            }
        }
        if (!missing.isEmpty() || !conflicts.isEmpty()) {
            List<String> why = new ArrayList<>();
            if (!missing.isEmpty()) {
                why.add("no spec in " + dirs + " defines " + missing);
            }
            if (!conflicts.isEmpty()) {
                why.add("two specs of one directory define " + conflicts);
            }
            if (!scan.errors.isEmpty()) {
                why.add("spec files left out: " + String.join("; ", scan.errors.entrySet().stream()
                        .map(e -> e.getKey() + ": " + e.getValue()).toList()));
            }
            throw new BackendException(BackendException.Kind.FAILED_PRECONDITION, "container \"" + container
                    + "\" asks for CDI devices that cannot be resolved: " + String.join("; ", why));
        }
        List<Resolved> out = new ArrayList<>();
        Set<Path> specsApplied = new HashSet<>();
        for (String d : devices) {
            Defined def = scan.devices.get(d);
            if (specsApplied.add(def.file())) {
                out.add(new Resolved(d, def.file(), def.spec().containerEdits()));
            }
            out.add(new Resolved(d, def.file(), def.device().containerEdits()));
        }
        return out;
    }

    private static void checkName(String container, String qualified) {
        int eq = qualified.indexOf('=');
        String why = null;
        if (eq <= 0) {
            why = "it is not vendor/class=name";
        } else {
            try {
                CdiSpec.checkKind(qualified.substring(0, eq));
                if (!CdiSpec.validDeviceName(qualified.substring(eq + 1))) {
                    why = "the name after '=' is not valid";
                }
            } catch (IllegalArgumentException e) {
                why = e.getMessage();
            }
        }
        if (why != null) {
            throw BackendException.invalid("container \"" + container + "\": CDI device \"" + qualified + "\" is not "
                    + "valid: " + why);
        }
    }

    /** A spec file as read now: its spec, or why it is left out ({@code spec} null). */
    public record SpecFile(Path file, CdiSpec spec, String error) {}

    /** Every spec file of the directories, in the order they are read: what {@code berth doctor} shows. */
    public List<SpecFile> specFiles() {
        return dirs.stream().flatMap(d -> specFiles(d).stream()).toList();
    }

    /** The spec files of one directory, by name, each read now. */
    private static List<SpecFile> specFiles(Path dir) {
        List<SpecFile> out = new ArrayList<>();
        for (Path file : files(dir)) {
            try {
                out.add(new SpecFile(file, read(file), null));
            } catch (IOException | IllegalArgumentException e) {
                out.add(new SpecFile(file, null, e.getMessage()));
            }
        }
        return out;
    }

    private record Defined(CdiSpec spec, CdiSpec.Device device, Path file, int priority, Path conflict) {}

    private record Scan(Map<String, Defined> devices, Map<Path, String> errors) {}

    private Scan scan() {
        Map<String, Defined> devices = new HashMap<>();
        Map<Path, String> errors = new LinkedHashMap<>();
        for (int priority = 0; priority < dirs.size(); priority++) {
            for (SpecFile f : specFiles(dirs.get(priority))) {
                if (f.spec() == null) {
                    errors.put(f.file(), f.error());
                    LOG.log(System.Logger.Level.WARNING, "CDI spec {0} left out: {1}", f.file(), f.error());
                    continue;
                }
                for (CdiSpec.Device d : f.spec().devices()) {
                    String name = f.spec().kind() + "=" + d.name();
                    Defined before = devices.get(name);
                    if (before != null && before.priority() == priority) {
                        devices.put(name, new Defined(before.spec(), before.device(), before.file(), priority,
                                f.file()));
                    } else {
                        devices.put(name, new Defined(f.spec(), d, f.file(), priority, null));
                    }
                }
            }
        }
        return new Scan(devices, errors);
    }

    private static List<Path> files(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> {
                String n = p.getFileName().toString();
                return (n.endsWith(".json") || n.endsWith(".yaml")) && Files.isRegularFile(p);
            }).sorted().toList();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "CDI spec directory {0} cannot be read: {1}", dir, e.getMessage());
            return List.of();
        }
    }

    private static CdiSpec read(Path file) throws IOException {
        long size = Files.size(file);
        if (size > CdiSpec.MAX_BYTES) {
            throw new IllegalArgumentException("the file has " + size + " bytes, more than the " + CdiSpec.MAX_BYTES
                    + " a spec may have");
        }
        return CdiSpec.parse(file, Files.readString(file, StandardCharsets.UTF_8));
    }
}
