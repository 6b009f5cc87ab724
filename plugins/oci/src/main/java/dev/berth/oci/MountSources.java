package dev.berth.oci;

import dev.berth.spi.BackendException;
import dev.berth.spi.ContainerMount;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * The host side of a container's bind mounts. A mount whose host path does not exist gets an empty directory there,
 * as containerd and CRI-O do: a Kubernetes {@code hostPath} volume without a type reaches the runtime unchecked, and
 * pods written for those runtimes count on it. The directory stays when the container goes, as theirs do.
 */
public final class MountSources {
    private MountSources() {}

    /**
     * Creates each missing host path of {@code mounts} as a directory (mode 0755, with its missing parents).
     *
     * @throws BackendException {@code FAILED_PRECONDITION} naming the path if it cannot be created (a file or a
     *     dangling link in its way, a read-only file system)
     */
    public static void ensure(String containerId, List<ContainerMount> mounts) {
        for (ContainerMount m : mounts) {
            if (m.hostPath().isEmpty() || !m.hostPath().startsWith("/")) {
                continue; // refused where the spec is built
            }
            Path source = Path.of(m.hostPath());
            if (Files.exists(source)) {
                continue;
            }
            try {
                Files.createDirectories(source,
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
            } catch (FileAlreadyExistsException e) {
                if (!Files.exists(source)) { // a dangling link, or a file on the way
                    throw cannot(containerId, m, Files.isSymbolicLink(source)
                            ? "it is a link to a path that does not exist"
                            : e.getFile() + " is not a directory");
                }
            } catch (IOException | SecurityException e) {
                throw cannot(containerId, m, e.getMessage());
            }
        }
    }

    private static BackendException cannot(String containerId, ContainerMount m, String why) {
        return new BackendException(BackendException.Kind.FAILED_PRECONDITION, "failed to create container \""
                + containerId + "\": host path \"" + m.hostPath() + "\" of the mount at \"" + m.containerPath()
                + "\" does not exist and cannot be created: " + why);
    }
}
