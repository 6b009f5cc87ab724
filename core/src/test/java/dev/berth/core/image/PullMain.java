package dev.berth.core.image;

import java.nio.file.Path;

/** Pulls one image in a separate JVM, so a test can kill it with SIGKILL half-way. Args: root, reference. */
public final class PullMain {
    private PullMain() {
    }

    public static void main(String[] args) {
        try (ImageService s = new ImageService(ImageSettings.defaults(Path.of(args[0])))) {
            s.pull(args[1], RegistryCredentials.NONE);
        }
    }
}
