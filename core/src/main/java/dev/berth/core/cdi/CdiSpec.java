package dev.berth.core.cdi;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One CDI (Container Device Interface) spec file: a vendor's device class, its devices, and the edits to a
 * container that each device asks for. The format is the CDI specification's, up to its version 1.1.0: JSON or YAML,
 * and, as the specification asks, a field berth does not know fails the whole file, so that no edit a vendor wrote is
 * dropped unseen.
 *
 * @param containerEdits the edits made once for a container that asks for any device of this spec
 */
public record CdiSpec(String cdiVersion, String kind, Map<String, String> annotations, List<Device> devices,
                      Edits containerEdits) {

    /** The newest version of the CDI specification berth reads. */
    static final String NEWEST_VERSION = "1.1.0";
    /** A spec file larger than this is refused: specs are a few KiB, and the files are read at each request. */
    static final long MAX_BYTES = 1 << 20;

    private static final Pattern VERSION = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern CLASS = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?");
    private static final Pattern DEVICE = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9_.:-]*[A-Za-z0-9])?");
    private static final Set<String> HOOKS = Set.of("prestart", "createRuntime", "createContainer", "startContainer",
            "poststart", "poststop");

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES).build();
    private static final ObjectMapper YAML = YAMLMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES).build();

    public CdiSpec {
        annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
        devices = devices == null ? List.of() : List.copyOf(devices);
        containerEdits = containerEdits == null ? Edits.NONE : containerEdits;
    }

    /** {@code devices[]}: one device a container may ask for by {@code kind=name}. */
    public record Device(String name, Map<String, String> annotations, Edits containerEdits) {
        public Device {
            annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
            containerEdits = containerEdits == null ? Edits.NONE : containerEdits;
        }
    }

    /** {@code containerEdits}: what a device changes in the container that gets it. */
    public record Edits(List<String> env, List<DeviceNode> deviceNodes, List<Hook> hooks, List<Mount> mounts,
                        Map<String, Object> intelRdt, List<Long> additionalGids, List<Map<String, Object>> netDevices) {
        public static final Edits NONE = new Edits(null, null, null, null, null, null, null);

        public Edits {
            env = env == null ? List.of() : List.copyOf(env);
            deviceNodes = deviceNodes == null ? List.of() : List.copyOf(deviceNodes);
            hooks = hooks == null ? List.of() : List.copyOf(hooks);
            mounts = mounts == null ? List.of() : List.copyOf(mounts);
            intelRdt = intelRdt == null ? Map.of() : intelRdt;
            additionalGids = additionalGids == null ? List.of() : List.copyOf(additionalGids);
            netDevices = netDevices == null ? List.of() : List.copyOf(netDevices);
        }
    }

    /** {@code deviceNodes[]}: a device node made in the container at {@code path}, from {@code hostPath}. */
    public record DeviceNode(String path, String hostPath, String type, Long major, Long minor, Integer fileMode,
                             String permissions, Long uid, Long gid) {}

    /** {@code hooks[]}: an OCI hook. */
    public record Hook(String hookName, String path, List<String> args, List<String> env, Integer timeout) {}

    /** {@code mounts[]}: a mount of {@code hostPath} at {@code containerPath}. */
    public record Mount(String hostPath, String containerPath, String type, List<String> options) {
        public Mount {
            options = options == null ? List.of() : List.copyOf(options);
        }
    }

    /** The vendor part of {@link #kind()}, before the slash. */
    public String vendor() {
        return kind.substring(0, kind.indexOf('/'));
    }

    /**
     * Reads and checks a spec file's text; {@code file}'s name says the format ({@code .json}, else YAML, of which
     * JSON is a subset).
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    static CdiSpec parse(Path file, String text) {
        CdiSpec spec;
        try {
            spec = (file.getFileName().toString().endsWith(".json") ? JSON : YAML).readValue(text, CdiSpec.class);
        } catch (JacksonException e) {
            throw new IllegalArgumentException(e.getOriginalMessage());
        }
        if (spec == null) {
            throw new IllegalArgumentException("the file is empty");
        }
        spec.check();
        return spec;
    }

    private void check() {
        if (cdiVersion == null) {
            throw new IllegalArgumentException("cdiVersion is missing");
        }
        var v = VERSION.matcher(cdiVersion);
        if (!v.matches()) {
            throw new IllegalArgumentException("cdiVersion \"" + cdiVersion + "\" is not a version like 0.6.0");
        }
        if (compare(cdiVersion, NEWEST_VERSION) > 0) {
            throw new IllegalArgumentException("cdiVersion " + cdiVersion + " is newer than berth reads ("
                    + NEWEST_VERSION + ")");
        }
        checkKind(kind);
        if (devices.isEmpty()) {
            throw new IllegalArgumentException("the spec has no devices");
        }
        Set<String> names = new HashSet<>();
        for (Device d : devices) {
            if (d.name() == null || !DEVICE.matcher(d.name()).matches()) {
                throw new IllegalArgumentException("device name \"" + d.name() + "\" is not valid: letters, digits "
                        + "and - _ . : between a letter or digit at each end");
            }
            if (!names.add(d.name())) {
                throw new IllegalArgumentException("device \"" + d.name() + "\" is defined twice");
            }
            check(d.containerEdits(), "device \"" + d.name() + "\": ");
        }
        check(containerEdits, "");
    }

    private static void check(Edits e, String where) {
        for (String env : e.env()) {
            if (env == null || env.indexOf('=') <= 0) {
                throw new IllegalArgumentException(where + "env entry \"" + env + "\" is not NAME=value");
            }
        }
        for (DeviceNode n : e.deviceNodes()) {
            absolute(n.path(), where + "deviceNodes path");
            if (n.hostPath() != null) {
                absolute(n.hostPath(), where + "deviceNodes hostPath");
            }
            String p = n.permissions();
            if (p != null && !p.equals("none") && !p.chars().allMatch(c -> c == 'r' || c == 'w' || c == 'm')) {
                throw new IllegalArgumentException(where + "device node " + n.path() + ": permissions \"" + p
                        + "\" are not made of r, w and m");
            }
        }
        for (Mount m : e.mounts()) {
            absolute(m.hostPath(), where + "mounts hostPath");
            absolute(m.containerPath(), where + "mounts containerPath");
        }
        for (Hook h : e.hooks()) {
            if (h.hookName() == null || !HOOKS.contains(h.hookName())) {
                throw new IllegalArgumentException(where + "hook name \"" + h.hookName() + "\" is not one of "
                        + HOOKS.stream().sorted().toList());
            }
            absolute(h.path(), where + "hook path");
        }
    }

    private static void absolute(String path, String what) {
        if (path == null || !path.startsWith("/")) {
            throw new IllegalArgumentException(what + " \"" + path + "\" is not an absolute path");
        }
    }

    /**
     * Checks a {@code vendor/class} kind: the vendor a DNS subdomain (labels of letters, digits and dashes, joined by
     * dots, at most 253 characters), the class at most 63 letters, digits and - _ . between a letter or digit at
     * each end.
     */
    static void checkKind(String kind) {
        int slash = kind == null ? -1 : kind.indexOf('/');
        if (slash <= 0) {
            throw new IllegalArgumentException("kind \"" + kind + "\" is not vendor/class");
        }
        String vendor = kind.substring(0, slash);
        String clazz = kind.substring(slash + 1);
        boolean vendorOk = vendor.length() <= 253;
        for (String label : vendor.split("\\.", -1)) {
            vendorOk &= DNS_LABEL.matcher(label).matches();
        }
        if (!vendorOk) {
            throw new IllegalArgumentException("kind \"" + kind + "\": vendor \"" + vendor + "\" is not a DNS "
                    + "subdomain");
        }
        if (!CLASS.matcher(clazz).matches()) {
            throw new IllegalArgumentException("kind \"" + kind + "\": class \"" + clazz + "\" is not valid: at "
                    + "most 63 letters, digits and - _ . between a letter or digit at each end");
        }
    }

    /** Checks a device's name in a request ({@code name} of {@code vendor/class=name}). */
    static boolean validDeviceName(String name) {
        return DEVICE.matcher(name).matches();
    }

    static int compare(String a, String b) {
        var x = VERSION.matcher(a);
        var y = VERSION.matcher(b);
        if (!x.matches() || !y.matches()) {
            throw new IllegalArgumentException("not a version: " + a + ", " + b);
        }
        for (int i = 1; i <= 3; i++) {
            int c = Integer.compare(Integer.parseInt(x.group(i)), Integer.parseInt(y.group(i)));
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }
}
