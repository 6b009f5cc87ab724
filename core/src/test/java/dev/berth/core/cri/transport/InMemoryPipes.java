package dev.berth.core.cri.transport;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The tests' stand-in for a named pipe: a listener and dialer of in-memory streams with small bounded buffers (so
 * large messages need many pump rounds and a slow reader blocks the writer). Closing one end makes the other's
 * reads return -1 once drained and its writes fail, as a pipe whose peer closed its handle does.
 */
final class InMemoryPipes implements StreamListener, StreamDialer {
    private static final Object CLOSED = new Object();

    private final int capacity;
    private final LinkedBlockingQueue<Object> pending = new LinkedBlockingQueue<>();
    private final List<End> clientEnds = new CopyOnWriteArrayList<>();
    private final List<End> serverEnds = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    InMemoryPipes(int capacity) {
        this.capacity = capacity;
    }

    @Override
    public DuplexStream accept() throws IOException {
        try {
            Object next = pending.take();
            if (next == CLOSED) {
                pending.add(CLOSED);
                throw new IOException("listener closed");
            }
            return (End) next;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    @Override
    public DuplexStream dial() throws IOException {
        if (closed) {
            throw new IOException("no listener (as ERROR_FILE_NOT_FOUND)");
        }
        ByteQueue toServer = new ByteQueue(capacity);
        ByteQueue toClient = new ByteQueue(capacity);
        End client = new End(toClient, toServer);
        End server = new End(toServer, toClient);
        clientEnds.add(client);
        serverEnds.add(server);
        pending.add(server);
        return client;
    }

    @Override
    public void close() {
        closed = true;
        pending.add(CLOSED);
    }

    List<End> clientEnds() {
        return clientEnds;
    }

    List<End> serverEnds() {
        return serverEnds;
    }

    /** One end: reads {@code in}, writes {@code out}. */
    static final class End implements DuplexStream {
        private final ByteQueue in;
        private final ByteQueue out;
        private volatile boolean closed;

        End(ByteQueue in, ByteQueue out) {
            this.in = in;
            this.out = out;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            return in.read(buffer, offset, length);
        }

        @Override
        public void write(byte[] buffer, int offset, int length) throws IOException {
            out.write(buffer, offset, length);
        }

        @Override
        public void close() {
            closed = true;
            in.closeReader();
            out.closeWriter();
        }

        boolean closed() {
            return closed;
        }
    }

    /** A bounded byte ring, one writer end and one reader end. */
    static final class ByteQueue {
        private final byte[] ring;
        private int head;
        private int size;
        private boolean writerClosed;
        private boolean readerClosed;

        ByteQueue(int capacity) {
            ring = new byte[capacity];
        }

        synchronized int read(byte[] b, int off, int len) throws IOException {
            while (size == 0 && !writerClosed && !readerClosed) {
                waitHere();
            }
            if (readerClosed) {
                throw new IOException("stream closed");
            }
            if (size == 0) {
                return -1;
            }
            int n = Math.min(len, size);
            for (int i = 0; i < n; i++) {
                b[off + i] = ring[(head + i) % ring.length];
            }
            head = (head + n) % ring.length;
            size -= n;
            notifyAll();
            return n;
        }

        synchronized void write(byte[] b, int off, int len) throws IOException {
            while (len > 0) {
                while (size == ring.length && !readerClosed && !writerClosed) {
                    waitHere();
                }
                if (writerClosed) {
                    throw new IOException("stream closed");
                }
                if (readerClosed) {
                    throw new IOException("broken pipe (as ERROR_NO_DATA)");
                }
                int n = Math.min(len, ring.length - size);
                for (int i = 0; i < n; i++) {
                    ring[(head + size + i) % ring.length] = b[off + i];
                }
                size += n;
                off += n;
                len -= n;
                notifyAll();
            }
        }

        synchronized void closeWriter() {
            writerClosed = true;
            notifyAll();
        }

        synchronized void closeReader() {
            readerClosed = true;
            notifyAll();
        }

        private void waitHere() throws IOException {
            try {
                wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }
    }
}
