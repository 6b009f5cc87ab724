package dev.berth.core.cri.transport;

/**
 * Who may open berth's CRI named pipe. On Linux the CRI socket is root's (mode 0660, owner root); on Windows the
 * pipe gets a security descriptor with the same intent, written in SDDL:
 *
 * <pre>{@value #SDDL}</pre>
 *
 * <ul>
 *   <li>{@code D:} the DACL; {@code P} protected, so no inherited entries are merged in;</li>
 *   <li>{@code (A;;GA;;;BA)} allow GENERIC_ALL to BUILTIN\Administrators;</li>
 *   <li>{@code (A;;GA;;;SY)} allow GENERIC_ALL to NT AUTHORITY\SYSTEM (the kubelet runs as a service, as SYSTEM).</li>
 * </ul>
 *
 * <p>No other entry: everyone else, including members of Administrators whose token is not elevated (UAC), is denied
 * by the absence of an ACE. No owner or group is given, so they default to the creating process's (the service's).
 * The pipe is also created with {@code PIPE_REJECT_REMOTE_CLIENTS} (no SMB clients) and its first instance with
 * {@code FILE_FLAG_FIRST_PIPE_INSTANCE}, so that berth fails to start rather than serve behind a pipe another process
 * created first with a weaker DACL. A client opens it with {@code SECURITY_IDENTIFICATION}, so that a server that is
 * not berth cannot impersonate the client. (containerd ACLs its stack-dump event with the same
 * string; its own CRI pipe takes the default DACL of named pipes, which also lets everyone read.)
 */
public final class PipeSecurity {
    /** Administrators and SYSTEM only, as the unix socket is root-only. */
    public static final String SDDL = "D:P(A;;GA;;;BA)(A;;GA;;;SY)";

    private PipeSecurity() {}
}
