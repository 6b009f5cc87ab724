package dev.berth.spi;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The identity a container's process runs with, as a backend writes it into the OCI {@code process.user} (or
 * its platform's equivalent). Built by {@link ContainerSpec#processUser()}, which holds the one rule every
 * backend applies; a backend should not combine the parts itself.
 *
 * @param uid the user id
 * @param gid the primary group id
 * @param additionalGids the process's groups: the primary gid first, then the
 *     user's groups from the image's /etc/group (unless the pod asked for {@code Strict}), then the
 *     requested supplemental groups, each once
 */
public record ProcessUser(long uid, long gid, List<Long> additionalGids) {

    public ProcessUser {
        additionalGids = Checks.list(additionalGids);
    }

    /**
     * The identity for a container: the uid and gid from the security context when set, else those core
     * resolved from the image ({@code 0} when unknown); the primary gid always among the groups, as
     * containerd and CRI-O do since CVE-2023-25173, so that no group of the image's root leaks to another user.
     */
    static ProcessUser of(ImageConfig image, ContainerSecurity security) {
        long uid = security.runAsUser().orElse(Math.max(0, image.resolvedUid()));
        long gid = security.runAsGroup().orElse(Math.max(0, image.resolvedGid()));
        Set<Long> groups = new LinkedHashSet<>();
        groups.add(gid);
        if (security.supplementalGroupsPolicy() == ContainerSecurity.SupplementalGroupsPolicy.MERGE) {
            groups.addAll(image.additionalGids());
        }
        groups.addAll(security.supplementalGroups());
        return new ProcessUser(uid, gid, List.copyOf(groups));
    }
}
