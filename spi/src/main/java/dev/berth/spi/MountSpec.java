package dev.berth.spi;

import java.util.List;

/**
 * A mount as the kernel sees it: {@code mount -t type -o options source target}. Core hands a container's
 * root file system to the backend as a list of these with an empty {@code target} (for example one overlay
 * mount), and never asks the backend to touch the image store.
 */
public record MountSpec(String type, String source, String target, List<String> options) {
    public MountSpec {
        type = Checks.id(type, "mount type");
        source = Checks.text(source);
        target = Checks.text(target);
        options = Checks.list(options);
    }
}
