package dev.berth.spi;

import java.util.List;
import java.util.OptionalLong;

/**
 * The pod-level security context, from CRI's {@code LinuxSandboxSecurityContext}.
 * {@code runAsUser} and {@code runAsGroup} are empty when the request left them unset.
 */
public record PodSecurity(
        Namespaces namespaces,
        boolean privileged,
        boolean readonlyRootfs,
        OptionalLong runAsUser,
        OptionalLong runAsGroup,
        List<Long> supplementalGroups,
        SecurityProfile seccomp,
        SecurityProfile apparmor,
        SelinuxLabel selinux) {

    public static final PodSecurity DEFAULT = new PodSecurity(Namespaces.POD_DEFAULT, false, false,
            OptionalLong.empty(), OptionalLong.empty(), List.of(), SecurityProfile.UNCONFINED,
            SecurityProfile.UNCONFINED, SelinuxLabel.NONE);

    public PodSecurity {
        namespaces = namespaces == null ? Namespaces.POD_DEFAULT : namespaces;
        runAsUser = runAsUser == null ? OptionalLong.empty() : runAsUser;
        runAsGroup = runAsGroup == null ? OptionalLong.empty() : runAsGroup;
        supplementalGroups = Checks.list(supplementalGroups);
        seccomp = seccomp == null ? SecurityProfile.UNCONFINED : seccomp;
        apparmor = apparmor == null ? SecurityProfile.UNCONFINED : apparmor;
        selinux = selinux == null ? SelinuxLabel.NONE : selinux;
    }
}
