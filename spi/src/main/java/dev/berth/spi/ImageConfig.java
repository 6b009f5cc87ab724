package dev.berth.spi;

import java.util.List;
import java.util.Map;

/**
 * What the image says about how to run it (the OCI image config's {@code config} object), resolved by core.
 *
 * <p>The user is resolved for the user the container runs as: CRI's {@code run_as_username} or
 * {@code run_as_user} when the request sets one, else the image's {@code User}. Backends take the process
 * identity from {@link ContainerSpec#processUser()}, not from these fields directly.
 *
 * @param user the user spec core resolved ({@code uid}, {@code name}, {@code uid:gid}, ...): the request's
 *     user when it set one, else the image's {@code User} as written
 * @param resolvedUid the uid core resolved from the image's /etc/passwd; -1 when unknown
 * @param resolvedGid the primary gid core resolved (the passwd entry's, or the explicit group); -1 when unknown
 * @param additionalGids the other groups that user is a member of in the image's /etc/group (by name), not
 *     including the primary gid
 */
public record ImageConfig(
        String imageId,
        String imageRef,
        List<String> entrypoint,
        List<String> cmd,
        List<String> env,
        String workingDir,
        String user,
        long resolvedUid,
        long resolvedGid,
        List<Long> additionalGids,
        String stopSignal,
        Map<String, String> labels) {

    public static final ImageConfig NONE = new ImageConfig("", "", List.of(), List.of(), List.of(), "", "", -1,
            -1, List.of(), "", Map.of());

    public ImageConfig {
        imageId = Checks.text(imageId);
        imageRef = Checks.text(imageRef);
        entrypoint = Checks.list(entrypoint);
        cmd = Checks.list(cmd);
        env = Checks.list(env);
        workingDir = Checks.text(workingDir);
        user = Checks.text(user);
        additionalGids = Checks.list(additionalGids);
        stopSignal = Checks.text(stopSignal);
        labels = Checks.map(labels);
    }
}
