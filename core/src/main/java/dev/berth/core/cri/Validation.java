package dev.berth.core.cri;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor.JavaType;
import com.google.protobuf.MapEntry;
import com.google.protobuf.Message;
import dev.berth.core.cri.sandbox.PodHostname;
import dev.berth.core.image.Image;
import dev.berth.cri.v1.ContainerMetadata;
import dev.berth.cri.v1.DNSConfig;
import dev.berth.cri.v1.NamespaceOption;
import dev.berth.cri.v1.Int64Value;
import dev.berth.cri.v1.LinuxContainerSecurityContext;
import dev.berth.cri.v1.LinuxSandboxSecurityContext;
import dev.berth.cri.v1.PodSandboxMetadata;
import dev.berth.cri.v1.PortMapping;
import dev.berth.spi.BackendException;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The edge's checks of what a client sends, run before anything is reserved or created. Every refusal is a
 * {@link BackendException} of kind INVALID_ARGUMENT whose message names the field.
 *
 * <p>The rules follow Kubernetes where the kubelet's values come from Kubernetes objects, loosened only where the
 * kubelet or the conformance suite send more: names may hold upper-case letters and container names may be as
 * long as a pod name (critest uses names such as {@code PodSandbox-for-create-test-<uuid>}).
 * <ul>
 *   <li>pod and container names: 1 to 253 characters of letters, digits, {@code -} and {@code .}, starting and
 *       ending with a letter or digit (a DNS-1123 subdomain, either case);</li>
 *   <li>namespace: empty, or 1 to 63 letters, digits and {@code -}, starting and ending with a letter or digit
 *       (a DNS-1123 label, either case);</li>
 *   <li>uid: free-form in CRI, up to 128 characters, no control characters and no {@code ;} or {@code =} (it is
 *       passed to CNI plugins inside {@code CNI_ARGS});</li>
 *   <li>attempt: below 2<sup>31</sup>;</li>
 *   <li>label and annotation keys: Kubernetes qualified names, an optional DNS-1123 subdomain prefix and
 *       {@code /}, then 1 to 63 letters, digits, {@code -}, {@code _} and {@code .}, starting and ending with a
 *       letter or digit; label values hold no control characters, annotation values no NUL;</li>
 *   <li>ids: 1 to 128 letters, digits, {@code -} and {@code _}, so that an id can never name a path;</li>
 *   <li>hostname: at most 64 characters (the kernel's limit), no control characters;</li>
 *   <li>port mappings: a container port from 1 to 65535, a host port from 0 (none) to 65535, a host IP empty or
 *       an IPv4 or IPv6 address, as Kubernetes validates a pod's ports;</li>
 *   <li>no string anywhere in a request holds a NUL byte ({@link #noNulBytes}): no program berth hands a
 *       string to (CNI through its environment, the OCI runtime through argv) can carry one.</li>
 * </ul>
 * Strings are valid UTF-8 once they reach here: the protobuf parser refuses a proto3 string that is not.
 */
public final class Validation {
    /** The longest pod or container name: a DNS-1123 subdomain. */
    public static final int MAX_NAME = 253;
    /** The longest namespace, and the longest name part of a label or annotation key: a DNS-1123 label. */
    public static final int MAX_LABEL = 63;
    /** The longest uid. */
    public static final int MAX_UID = 128;
    /** The longest pod or container id (berth's own are 64 hex digits). */
    public static final int MAX_ID = 128;

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?");
    private static final Pattern LABEL = Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?");
    private static final Pattern DNS_SUBDOMAIN =
            Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
    private static final Pattern QUALIFIED_NAME = Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?");
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-]+");
    private static final Map<Descriptor, List<FieldDescriptor>> TEXT_FIELDS = new ConcurrentHashMap<>();

    private Validation() {}

    /** A pod's metadata: name, namespace, uid and attempt. */
    public static void podMetadata(PodSandboxMetadata md) {
        name(md.getName(), "pod sandbox metadata.name");
        if (!md.getNamespace().isEmpty()) {
            shaped(md.getNamespace(), "pod sandbox metadata.namespace", MAX_LABEL, LABEL,
                    "letters, digits and '-', starting and ending with a letter or digit");
        }
        uid(md.getUid(), "pod sandbox metadata.uid");
        attempt(md.getAttempt(), "pod sandbox metadata.attempt");
    }

    /** A container's metadata: name and attempt. */
    public static void containerMetadata(ContainerMetadata md) {
        name(md.getName(), "container metadata.name");
        attempt(md.getAttempt(), "container metadata.attempt");
    }

    /** Label keys are qualified names; values hold no control characters. */
    public static void labels(Map<String, String> labels, String field) {
        labels.forEach((k, v) -> {
            qualifiedName(k, field);
            noControl(v, field + "[\"" + printable(k) + "\"]");
        });
    }

    /** Annotation keys are qualified names; values may be any text but NUL. */
    public static void annotations(Map<String, String> annotations, String field) {
        annotations.forEach((k, v) -> {
            qualifiedName(k, field);
            if (v.indexOf('\0') >= 0) {
                throw BackendException.invalid(field + "[\"" + printable(k) + "\"] must not contain a NUL byte");
            }
        });
    }

    /** A pod's hostname: at most as long as the kernel takes, no control characters. */
    public static void hostname(String hostname) {
        if (hostname.length() > PodHostname.MAX) {
            throw BackendException.invalid("hostname is " + hostname.length() + " characters long; the limit is "
                    + PodHostname.MAX);
        }
        noControl(hostname, "hostname");
        if (hasWhitespace(hostname)) {
            // it is written into the pod's /etc/hosts, where a space makes a second name
            throw BackendException.invalid("hostname \"" + printable(hostname) + "\" must not contain spaces");
        }
    }

    /** The user and group ids of a pod's security context, each 0 to {@link Image#MAX_ID}. */
    public static void ids(LinuxSandboxSecurityContext sc, String field) {
        ids(sc.hasRunAsUser(), sc.getRunAsUser(), sc.hasRunAsGroup(), sc.getRunAsGroup(), sc.getSupplementalGroupsList(),
                field);
    }

    /** The user and group ids of a container's security context, each 0 to {@link Image#MAX_ID}. */
    public static void ids(LinuxContainerSecurityContext sc, String field) {
        ids(sc.hasRunAsUser(), sc.getRunAsUser(), sc.hasRunAsGroup(), sc.getRunAsGroup(), sc.getSupplementalGroupsList(),
                field);
    }

    private static void ids(boolean hasUser, Int64Value user, boolean hasGroup, Int64Value group, List<Long> groups,
                            String field) {
        if (hasUser) {
            userOrGroupId(user.getValue(), field + ".run_as_user");
        }
        if (hasGroup) {
            userOrGroupId(group.getValue(), field + ".run_as_group");
        }
        for (int i = 0; i < groups.size(); i++) {
            userOrGroupId(groups.get(i), field + ".supplemental_groups[" + i + "]");
        }
    }

    private static void userOrGroupId(long value, String field) {
        if (value < 0 || value > Image.MAX_ID) {
            throw BackendException.invalid(field + " " + value + " is out of range: user and group ids are 0 to "
                    + Image.MAX_ID);
        }
    }

    /** The longest search domain a resolver takes (a domain name's limit). */
    public static final int MAX_SEARCH = 253;

    /**
     * A pod's DNS settings, each of which becomes a line of its resolv.conf: servers literal addresses, search
     * domains and options single words. A newline or a space would add a line or a word the request did not name
     * (a second nameserver, say) to every container of the pod.
     */
    public static void dnsConfig(DNSConfig dns) {
        for (int i = 0; i < dns.getServersCount(); i++) {
            String server = dns.getServers(i);
            if (!isAddress(server)) {
                throw BackendException.invalid("dns_config.servers[" + i + "] \"" + printable(server)
                        + "\" is not an IP address");
            }
        }
        for (int i = 0; i < dns.getSearchesCount(); i++) {
            String search = dns.getSearches(i);
            word(search, "dns_config.searches[" + i + "]");
            if (search.length() > MAX_SEARCH) {
                throw BackendException.invalid("dns_config.searches[" + i + "] is " + search.length()
                        + " characters long; the limit is " + MAX_SEARCH);
            }
        }
        for (int i = 0; i < dns.getOptionsCount(); i++) {
            word(dns.getOptions(i), "dns_config.options[" + i + "]");
        }
    }

    /** One non-empty word: no whitespace, no control characters. */
    private static void word(String value, String field) {
        if (value.isEmpty()) {
            throw BackendException.invalid(field + " is empty");
        }
        noControl(value, field);
        if (hasWhitespace(value)) {
            throw BackendException.invalid(field + " \"" + printable(value) + "\" must be one word, without spaces");
        }
    }

    private static boolean hasWhitespace(String value) {
        for (int i = 0; i < value.length(); i++) {
            if (Character.isWhitespace(value.charAt(i))) {
                return true;
            }
        }
        return false;
    }

    /**
     * A pod's cgroup parent, a path in the cgroup hierarchy (or a systemd slice): no {@code .} or {@code ..}
     * component, which would put the pod's cgroups somewhere else than under the parent it names, or outside the
     * hierarchy altogether.
     */
    public static void cgroupParent(String parent) {
        noControl(parent, "linux.cgroup_parent");
        for (String part : parent.split("/", -1)) {
            if (part.equals(".") || part.equals("..")) {
                throw BackendException.invalid("linux.cgroup_parent \"" + printable(parent) + "\" must not have a \""
                        + part + "\" component");
            }
        }
    }

    /** Namespace modes are the ones CRI defines (POD, CONTAINER, NODE, TARGET), not an unknown number. */
    public static void namespaceOptions(NamespaceOption ns, String field) {
        mode(ns.getNetworkValue(), field + ".network");
        mode(ns.getPidValue(), field + ".pid");
        mode(ns.getIpcValue(), field + ".ipc");
    }

    private static void mode(int value, String field) {
        if (dev.berth.cri.v1.NamespaceMode.forNumber(value) == null) {
            throw BackendException.invalid(field + " " + value + " is not a namespace mode: it must be 0 (POD), "
                    + "1 (CONTAINER), 2 (NODE) or 3 (TARGET)");
        }
    }

    /** A pod's port mappings: ports in range, host IPs literal addresses. */
    public static void portMappings(List<PortMapping> mappings) {
        for (int i = 0; i < mappings.size(); i++) {
            PortMapping pm = mappings.get(i);
            String at = "port_mappings[" + i + "]";
            if (pm.getContainerPort() < 1 || pm.getContainerPort() > 65535) {
                throw BackendException.invalid(at + ".container_port " + pm.getContainerPort()
                        + " is out of range: it must be 1 to 65535");
            }
            if (pm.getHostPort() < 0 || pm.getHostPort() > 65535) {
                throw BackendException.invalid(at + ".host_port " + pm.getHostPort()
                        + " is out of range: it must be 0 (none) to 65535");
            }
            if (dev.berth.cri.v1.Protocol.forNumber(pm.getProtocolValue()) == null) {
                throw BackendException.invalid(at + ".protocol " + pm.getProtocolValue()
                        + " is not a protocol: it must be 0 (TCP), 1 (UDP) or 2 (SCTP)");
            }
            if (!pm.getHostIp().isEmpty() && !isAddress(pm.getHostIp())) {
                throw BackendException.invalid(at + ".host_ip \"" + printable(pm.getHostIp())
                        + "\" is not an IP address");
            }
        }
    }

    /** Whether {@code text} is an IPv4 or IPv6 address, read as a literal (never looked up as a name). */
    private static boolean isAddress(String text) {
        try {
            InetAddress.ofLiteral(text);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** A pod or container id (or a unique prefix of one) as a client passes it; returns it. */
    public static String id(String value, String field) {
        if (value == null || value.isEmpty()) {
            throw BackendException.invalid(field + " must not be empty");
        }
        return shaped(value, field, MAX_ID, ID, "letters, digits, '-' and '_'");
    }

    /**
     * No string in {@code request}, at any depth (map keys and values included), holds a NUL byte. The message
     * names the field's path, e.g. {@code config.metadata.namespace}.
     */
    public static void noNulBytes(Message request) {
        if (!hasNul(request)) {
            return;
        }
        String where = nulIn(request, "");
        if (where != null) {
            throw BackendException.invalid(where + " must not contain a NUL byte");
        }
    }

    /**
     * The check every request takes, kept cheap: only the string and message fields of each type are read, by
     * reflection on the field, with no map of set fields and no path built; {@link #nulIn} names the field.
     */
    private static boolean hasNul(Message m) {
        for (FieldDescriptor f : TEXT_FIELDS.computeIfAbsent(m.getDescriptorForType(), Validation::textFields)) {
            if (f.isRepeated()) {
                for (int i = 0, n = m.getRepeatedFieldCount(f); i < n; i++) {
                    if (hasNulValue(m.getRepeatedField(f, i))) {
                        return true;
                    }
                }
            } else if (f.getJavaType() == JavaType.STRING ? ((String) m.getField(f)).indexOf('\0') >= 0
                    : m.hasField(f) && hasNul((Message) m.getField(f))) {
                return true;
            }
        }
        return false;
    }

    private static boolean hasNulValue(Object v) {
        return switch (v) {
            case String s -> s.indexOf('\0') >= 0;
            case MapEntry<?, ?> entry -> entry.getKey() instanceof String k && k.indexOf('\0') >= 0
                    || hasNulValue(entry.getValue());
            case Message msg -> hasNul(msg);
            default -> false;
        };
    }

    /** The fields of a message type that can hold a string: strings, messages and maps. */
    private static List<FieldDescriptor> textFields(Descriptor type) {
        return type.getFields().stream()
                .filter(f -> f.getJavaType() == JavaType.STRING || f.getJavaType() == JavaType.MESSAGE).toList();
    }

    private static String nulIn(Message m, String path) {
        for (Map.Entry<FieldDescriptor, Object> e : m.getAllFields().entrySet()) {
            FieldDescriptor f = e.getKey();
            String at = path.isEmpty() ? f.getName() : path + "." + f.getName();
            List<?> values = f.isRepeated() ? (List<?>) e.getValue() : List.of(e.getValue());
            for (int i = 0; i < values.size(); i++) {
                String hit = nulInValue(values.get(i), f.isMapField() ? at : f.isRepeated() ? at + "[" + i + "]" : at);
                if (hit != null) {
                    return hit;
                }
            }
        }
        return null;
    }

    private static String nulInValue(Object v, String at) {
        return switch (v) {
            case String s when s.indexOf('\0') >= 0 -> at;
            case MapEntry<?, ?> entry -> {
                if (entry.getKey() instanceof String k && k.indexOf('\0') >= 0) {
                    yield at + " key";
                }
                String inner = nulInValue(entry.getValue(), at + "[\"" + printable(String.valueOf(entry.getKey()))
                        + "\"]");
                yield inner;
            }
            case Message msg -> nulIn(msg, at);
            default -> null;
        };
    }

    private static void name(String value, String field) {
        if (value.isEmpty()) {
            throw BackendException.invalid(field + " must not be empty");
        }
        shaped(value, field, MAX_NAME, NAME,
                "letters, digits, '-' and '.', starting and ending with a letter or digit");
    }

    private static void uid(String value, String field) {
        if (value.length() > MAX_UID) {
            throw BackendException.invalid(field + " is " + value.length() + " characters long; the limit is "
                    + MAX_UID);
        }
        noControl(value, field);
        if (value.indexOf(';') >= 0 || value.indexOf('=') >= 0) {
            throw BackendException.invalid(field + " \"" + printable(value) + "\" must not contain ';' or '='");
        }
    }

    private static void attempt(int attempt, String field) {
        if (attempt < 0) {
            throw BackendException.invalid(field + " " + Integer.toUnsignedString(attempt) + " is too large; the "
                    + "limit is " + Integer.MAX_VALUE);
        }
    }

    private static void qualifiedName(String key, String field) {
        String what = field + " key \"" + printable(key) + "\"";
        int slash = key.indexOf('/');
        String name = slash < 0 ? key : key.substring(slash + 1);
        if (slash >= 0) {
            String prefix = key.substring(0, slash);
            if (prefix.isEmpty() || prefix.length() > MAX_NAME || !DNS_SUBDOMAIN.matcher(prefix).matches()) {
                throw BackendException.invalid(what + " has an invalid prefix: it must be a DNS-1123 subdomain "
                        + "(lower-case letters, digits, '-' and '.', at most " + MAX_NAME + " characters)");
            }
        }
        if (name.isEmpty() || name.length() > MAX_LABEL || !QUALIFIED_NAME.matcher(name).matches()) {
            throw BackendException.invalid(what + " is not a qualified name: the name part must be 1 to "
                    + MAX_LABEL + " letters, digits, '-', '_' and '.', starting and ending with a letter or digit");
        }
    }

    private static String shaped(String value, String field, int max, Pattern shape, String rule) {
        if (value.length() > max) {
            throw BackendException.invalid(field + " is " + value.length() + " characters long; the limit is " + max);
        }
        if (!shape.matcher(value).matches()) {
            throw BackendException.invalid(field + " \"" + printable(value) + "\" is not valid: it must be " + rule);
        }
        return value;
    }

    private static void noControl(String value, String field) {
        for (int i = 0; i < value.length(); i++) {
            if (Character.isISOControl(value.charAt(i))) {
                throw BackendException.invalid(field + " \"" + printable(value) + "\" must not contain control "
                        + "characters (found U+" + String.format("%04X", (int) value.charAt(i)) + ")");
            }
        }
    }

    /** {@code value} with control characters escaped and cut to 80 characters, fit for a status message. */
    static String printable(String value) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < value.length() && sb.length() < 80; i++) {
            char c = value.charAt(i);
            if (Character.isISOControl(c)) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return value.length() > sb.length() && sb.length() >= 80 ? sb + "..." : sb.toString();
    }
}
