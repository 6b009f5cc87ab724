package dev.berth.core.streaming;

import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.locks.ReentrantLock;

/** A backend's stdout or stderr: bytes written here go to one channel of the client's connection. */
final class ChannelOutput extends OutputStream {

    private final Wire wire;
    private final int channel;
    private final ReentrantLock lock = new ReentrantLock();
    private boolean closed;

    ChannelOutput(Wire wire, int channel) {
        this.wire = wire;
        this.channel = channel;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, b.length);
        lock.lock();
        try {
            if (closed) {
                throw new IOException("stream closed");
            }
            if (len > 0) {
                wire.write(channel, b, off, len);
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
        } finally {
            lock.unlock();
        }
        wire.closeChannel(channel);
    }
}
