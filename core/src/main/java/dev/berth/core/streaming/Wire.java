package dev.berth.core.streaming;

import java.io.IOException;

/** A session's view of its connection: numbered channels towards the client, whatever the transport. */
interface Wire {

    /** Sends bytes on a channel; blocks while the client is slow; fails once the connection is gone. */
    void write(int channel, byte[] b, int off, int len) throws IOException;

    /** The server will send nothing more on this channel. */
    void closeChannel(int channel);

    /** The session is over: close the connection once everything is sent. */
    void finish();
}
