package dev.berth.core.streaming;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A TCP echo server on 127.0.0.1: echoes each connection until EOF, then closes it. */
final class EchoServer implements AutoCloseable {

    private final ServerSocketChannel server;
    private final List<SocketChannel> open = new CopyOnWriteArrayList<>();

    EchoServer() throws IOException {
        server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        Thread.ofVirtual().name("echo-accept").start(this::accept);
    }

    int port() throws IOException {
        return ((InetSocketAddress) server.getLocalAddress()).getPort();
    }

    private void accept() {
        try {
            while (true) {
                SocketChannel c = server.accept();
                open.add(c);
                Thread.ofVirtual().name("echo").start(() -> echo(c));
            }
        } catch (IOException closed) {
            // shut down
        }
    }

    private void echo(SocketChannel c) {
        ByteBuffer buf = ByteBuffer.allocate(32 * 1024);
        try (c) {
            while (c.read(buf.clear()) >= 0) {
                buf.flip();
                while (buf.hasRemaining()) {
                    c.write(buf);
                }
            }
        } catch (IOException e) {
            // peer went away
        } finally {
            open.remove(c);
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (SocketChannel c : open) {
            c.close();
        }
    }
}
