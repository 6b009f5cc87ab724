package dev.berth.hcs.bind;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Starts a container's log relay as a process of its own and hands it the host ends of the init process's stdout
 * and stderr, so that the relay, not berth, holds them and a restart of berth does not break them. When
 * {@link #start} returns, berth holds neither pipe end any more; the relay reads them until they end and waits for
 * the init's exit.
 *
 * <p>On Windows ({@code dev.berth.hcs.bind.jna.JnaRelayHandOver}) the relay is created outside berth's job object,
 * the two pipe handles are duplicated into it and their values written to its stdin. The fake of HCS used by the
 * tests hands over FIFOs instead. Either way the relay's command line ends with its three sources
 * ({@code --stdout}, {@code --stderr}, {@code --exit}), which only the hand-over knows.
 */
public interface RelayHandOver {

    /**
     * @param command     the relay's command line without its sources: the Java runtime, its options, the class
     *                    path, {@code LogRelayMain} and its files
     * @param diagnostics where the relay's own messages go (its stdout and stderr)
     * @param systemId    the compute system of the init process
     * @param pid         the init process
     * @param stdout      the host end of its stdout pipe, a {@link Hcs} handle value (0: none)
     * @param stderr      the host end of its stderr pipe (0: none, as with a TTY)
     * @return the relay process
     * @throws IOException when the relay cannot be started or the pipes cannot be handed over; then no relay
     *                     runs, and the pipe ends are closed
     */
    ProcessHandle start(List<String> command, Path diagnostics, String systemId, int pid, long stdout, long stderr)
            throws IOException;
}
