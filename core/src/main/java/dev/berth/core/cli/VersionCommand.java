package dev.berth.core.cli;

import dev.berth.core.BerthVersion;
import dev.berth.spi.SpiVersion;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code berth version}. */
@Command(name = "version", description = "Print berth's version, its SPI version and the API versions it serves, with their sockets.")
final class VersionCommand implements Runnable {
    @Override
    public void run() {
        for (String line : lines()) {
            System.out.println(line);
        }
    }

    static String[] lines() {
        return new String[] {
            "berth " + BerthVersion.VERSION,
            "SPI " + SpiVersion.CURRENT,
            "CRI on the CRI socket (config: socket, default /run/berth/berth.sock): runtime.v1, runtime.v1alpha2, "
                    + "runtime (the proto2 CRI, API " + dev.berth.core.cri.legacy.Proto2Cri.API_VERSION
                    + ", with the first CRI draft's CreatePodSandbox)",
            "containerd 0.2 API (types.API) on a socket of its own when configured (config: [legacy] "
                    + "containerd_api_socket, off by default), over the handler of [legacy] containerd_api_handler "
                    + "(default: the default handler)",
            "Java " + Runtime.version()
        };
    }

    static final class Provider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return lines();
        }
    }
}
