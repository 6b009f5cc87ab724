package dev.berth.runc;

import dev.berth.oci.spec.SpecMapper;
import dev.berth.spi.BackendException;
import dev.berth.spi.DeviceSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Resolves CRI devices to their node type and numbers, from the host's device files. */
final class Devices {
    private Devices() {}

    static List<SpecMapper.HostDevice> resolve(String containerId, List<DeviceSpec> specs) {
        List<SpecMapper.HostDevice> out = new ArrayList<>();
        for (DeviceSpec d : specs) {
            try {
                Path p = Path.of(d.hostPath());
                int mode = (Integer) Files.getAttribute(p, "unix:mode");
                long rdev = (Long) Files.getAttribute(p, "unix:rdev");
                int fmt = mode & 0170000;
                String type = fmt == 0020000 ? "c" : fmt == 0060000 ? "b" : null;
                if (type == null) {
                    throw BackendException.invalid("failed to create container \"" + containerId + "\": "
                            + d.hostPath() + " is not a device");
                }
                // glibc's major()/minor() for the 64-bit dev_t
                long major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & ~0xfffL);
                long minor = (rdev & 0xff) | ((rdev >> 12) & ~0xffL);
                out.add(new SpecMapper.HostDevice(d.containerPath(), d.hostPath(), type, major, minor, mode & 07777,
                        d.permissions()));
            } catch (IOException e) {
                throw BackendException.invalid("failed to create container \"" + containerId + "\": device "
                        + d.hostPath() + ": " + e.getMessage());
            }
        }
        return out;
    }
}
