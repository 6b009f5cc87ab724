package dev.berth.spi;

import java.util.List;
import java.util.OptionalLong;

/**
 * A container's security context, from CRI's {@code LinuxContainerSecurityContext}.
 *
 * @param runAsUser the uid asked for; empty means the image's user (see {@link ImageConfig#user()})
 * @param runAsUsername a user name to resolve inside the image; empty when not asked
 * @param maskedPaths paths to mask; empty means the backend's defaults apply, unless {@code privileged}
 */
public record ContainerSecurity(
        List<String> addCapabilities,
        List<String> dropCapabilities,
        boolean privileged,
        Namespaces namespaces,
        OptionalLong runAsUser,
        OptionalLong runAsGroup,
        String runAsUsername,
        boolean readonlyRootfs,
        List<Long> supplementalGroups,
        boolean noNewPrivs,
        List<String> maskedPaths,
        List<String> readonlyPaths,
        SecurityProfile seccomp,
        SecurityProfile apparmor,
        SelinuxLabel selinux,
        SupplementalGroupsPolicy supplementalGroupsPolicy) {

    /** Whether the image's /etc/group memberships are merged into the supplemental groups. */
    public enum SupplementalGroupsPolicy { MERGE, STRICT }

    public static final ContainerSecurity DEFAULT = new ContainerSecurity(List.of(), List.of(), false,
            Namespaces.POD_DEFAULT, OptionalLong.empty(), OptionalLong.empty(), "", false, List.of(), false,
            List.of(), List.of(), SecurityProfile.UNCONFINED, SecurityProfile.UNCONFINED, SelinuxLabel.NONE,
            SupplementalGroupsPolicy.MERGE);

    public ContainerSecurity {
        addCapabilities = Checks.list(addCapabilities);
        dropCapabilities = Checks.list(dropCapabilities);
        namespaces = namespaces == null ? Namespaces.POD_DEFAULT : namespaces;
        runAsUser = runAsUser == null ? OptionalLong.empty() : runAsUser;
        runAsGroup = runAsGroup == null ? OptionalLong.empty() : runAsGroup;
        runAsUsername = Checks.text(runAsUsername);
        supplementalGroups = Checks.list(supplementalGroups);
        maskedPaths = Checks.list(maskedPaths);
        readonlyPaths = Checks.list(readonlyPaths);
        seccomp = seccomp == null ? SecurityProfile.UNCONFINED : seccomp;
        apparmor = apparmor == null ? SecurityProfile.UNCONFINED : apparmor;
        selinux = selinux == null ? SelinuxLabel.NONE : selinux;
        supplementalGroupsPolicy = supplementalGroupsPolicy == null ? SupplementalGroupsPolicy.MERGE
                : supplementalGroupsPolicy;
        if (runAsGroup.isPresent() && runAsUser.isEmpty() && runAsUsername.isEmpty()) {
            throw new IllegalArgumentException("run_as_group needs run_as_user or run_as_username");
        }
    }
}
