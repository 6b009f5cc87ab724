package dev.berth.oci;

import dev.berth.spi.BackendException.Kind;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The kind of a failure the OCI runtime or the kernel reported about what a request asked for, so that a value
 * the node refuses is the client's error with a name rather than INTERNAL. Core refuses what no Linux node takes
 * (its resource rules); what is left depends on this node:
 * <ul>
 *   <li>the kernel's EINVAL or ERANGE on a cgroup write ({@code invalid argument}, {@code numerical result out of
 *       range}: a CPU or memory node the node does not have, a value out of the kernel's range):
 *       INVALID_ARGUMENT;</li>
 *   <li>the kernel's EBUSY ({@code device or resource busy}: a memory limit below what the cgroup uses now, CPUs a
 *       child cgroup still holds; runc words the first {@code unable to set memory limit}): FAILED_PRECONDITION;</li>
 *   <li>cgroup v2 settings ({@code unified}) on a cgroup v1 node: FAILED_PRECONDITION;</li>
 *   <li>an exec of a program the container does not have, or that the kernel will not execute (a directory, a
 *       file without the execute bit): FAILED_PRECONDITION;</li>
 *   <li>a path the request names that is a file in the image where a directory must be ({@code not a directory}:
 *       a working directory, a mount of a file onto a directory): FAILED_PRECONDITION;</li>
 *   <li>a mount inside {@code /proc}, which runc never allows: INVALID_ARGUMENT;</li>
 *   <li>anything else: INTERNAL.</li>
 * </ul>
 * The runc plugin reads runc's and crun's own output; the kata plugin reads the message a shim v2 passes on from the
 * runtime it drives (containerd's runc shim quotes runc's words), for the calls that run the request's process and
 * resources: create, start, update and exec. Only for those: elsewhere a shim's {@code invalid argument} is its own.
 */
public final class RuntimeErrors {
    /** runc's error line: {@code time="..." level=error msg="..."}. */
    private static final Pattern RUNC_ERROR = Pattern.compile("level=(?:error|fatal) msg=\"((?:[^\"\\\\]|\\\\.)*)\"");

    private RuntimeErrors() {}

    /**
     * What the runtime said, without its log line's frame: the last of runc's {@code msg="..."}, unquoted; else the
     * text as it is (crun's, or anything else's) on one line. Null for empty text.
     */
    public static String message(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        Matcher m = RUNC_ERROR.matcher(text);
        String last = null;
        while (m.find()) {
            last = m.group(1).replaceAll("\\\\(.)", "$1");
        }
        return last != null ? last : text.strip().replace('\n', ' ');
    }

    public static Kind kindOf(String text) {
        String t = text == null ? "" : text.toLowerCase(Locale.ROOT);
        if (t.contains("cannot use unified on cgroup v1")) {
            return Kind.FAILED_PRECONDITION;
        }
        // runc: "executable file not found in $PATH", "exec: ...: no such file or directory";
        // crun: "executable file `/x` not found in $PATH: No such file or directory"
        if (t.contains("executable file") && t.contains("not found")
                || t.contains("exec:") && t.contains("no such file or directory")) {
            return Kind.FAILED_PRECONDITION;
        }
        // runc: "exec: \"/etc/passwd\": permission denied"; crun: "open executable: Permission denied" (a file
        // without the execute bit) or "open executable: Operation not permitted" (a directory)
        if (t.contains("exec:") && t.contains("permission denied") || t.contains("open executable:")) {
            return Kind.FAILED_PRECONDITION;
        }
        if (t.contains("device or resource busy") || t.contains("unable to set memory limit")) {
            return Kind.FAILED_PRECONDITION;
        }
        if (t.contains("not a directory")) {
            return Kind.FAILED_PRECONDITION;
        }
        if (t.contains("cannot be mounted because it is inside /proc")) {
            return Kind.INVALID_ARGUMENT;
        }
        if (t.contains("invalid argument") || t.contains("numerical result out of range")) {
            return Kind.INVALID_ARGUMENT;
        }
        return Kind.INTERNAL;
    }
}
