package dev.berth.core.cri.transport;

import dev.berth.core.config.HostOs;
import dev.berth.core.cri.transport.windows.WindowsNamedPipes;
import java.io.IOException;

/**
 * Windows named pipes for the CRI endpoint. The JNA implementation ({@link WindowsNamedPipes}) is loaded only here,
 * only on Windows; elsewhere every call fails with a message saying so.
 */
public final class NamedPipes {
    private NamedPipes() {}

    /** The server side of {@code pipe} ({@code \\.\pipe\NAME}), Administrators and SYSTEM only ({@link PipeSecurity}). */
    public static StreamListener listen(String pipe) throws IOException {
        return windows().listen(pipe, PipeSecurity.SDDL);
    }

    /** The client side of {@code pipe}. */
    public static StreamDialer dialer(String pipe) {
        return windows().dialer(pipe);
    }

    private static WindowsNamedPipes windows() {
        if (!HostOs.isWindows()) {
            throw new UnsupportedOperationException("named pipes (npipe://) exist only on Windows; this host runs "
                    + System.getProperty("os.name") + ": use a unix socket or tcp://");
        }
        return new WindowsNamedPipes();
    }
}
