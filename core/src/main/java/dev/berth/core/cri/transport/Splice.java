package dev.berth.core.cri.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Pumps bytes both ways between one {@link DuplexStream} and one in-JVM Netty {@code LocalChannel}, with one
 * thread per direction:
 *
 * <ul>
 *   <li>the reader thread reads the stream and writes each chunk into the channel, waiting for each write to be
 *       taken (so a peer that does not read stops the reader: gRPC's HTTP/2 flow control does the rest);</li>
 *   <li>the channel's inbound bytes are queued for the writer thread, which writes them to the stream; while more
 *       than {@link #HIGH_WATER} chunks wait, the channel stops reading (auto-read off) until the writer is down to
 *       {@link #LOW_WATER}, so a client that does not read cannot make berth buffer without bound.</li>
 * </ul>
 *
 * <p>Either end closing closes the other: the stream's end (-1 or an error) closes the channel, and the channel
 * becoming inactive (the gRPC server or channel closed the connection) closes the stream once the bytes queued
 * before it are written. A byte stream has no half-close here: HTTP/2 ends streams with frames, and a stream
 * whose peer stopped sending is a peer that went away.
 *
 * <p>The threads are platform threads: on Windows they block in native calls, which would pin a virtual thread's
 * carrier.
 */
final class Splice {
    static final int CHUNK = 64 * 1024;
    static final int HIGH_WATER = 16;
    static final int LOW_WATER = 4;
    private static final Object END = new Object();
    private static final AtomicLong IDS = new AtomicLong();

    private final DuplexStream stream;
    private final Runnable onClose;
    private final LinkedBlockingQueue<Object> toStream = new LinkedBlockingQueue<>();
    private final Object flow = new Object();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final CountDownLatch finished = new CountDownLatch(1);
    private final long id = IDS.incrementAndGet();
    private boolean paused;
    private volatile Channel channel;

    Splice(DuplexStream stream, Runnable onClose) {
        this.stream = stream;
        this.onClose = onClose;
    }

    /** The handler to put in the local channel's pipeline. */
    ChannelHandler handler() {
        return new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ByteBuf b = (ByteBuf) msg;
                byte[] bytes;
                try {
                    bytes = ByteBufUtil.getBytes(b);
                } finally {
                    b.release();
                }
                synchronized (flow) {
                    toStream.add(bytes);
                    if (!paused && toStream.size() > HIGH_WATER) {
                        paused = true;
                        ctx.channel().config().setAutoRead(false);
                    }
                }
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                toStream.add(END);
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                ctx.close();
            }
        };
    }

    /** Starts pumping over {@code ch}, whose pipeline holds {@link #handler()}. */
    void start(Channel ch) {
        this.channel = ch;
        Thread.ofPlatform().daemon().name("pipe-read-" + id).start(this::readLoop);
        Thread.ofPlatform().daemon().name("pipe-write-" + id).start(this::writeLoop);
        if (!ch.isActive()) {
            toStream.add(END);
        }
    }

    private void readLoop() {
        byte[] buf = new byte[CHUNK];
        try {
            while (true) {
                int n = stream.read(buf, 0, buf.length);
                if (n < 0) {
                    break;
                }
                if (n == 0) {
                    continue;
                }
                ChannelFuture f = channel.writeAndFlush(Unpooled.copiedBuffer(buf, 0, n));
                f.awaitUninterruptibly();
                if (!f.isSuccess()) {
                    break;
                }
            }
        } catch (IOException e) {
            // The stream failed or was closed: the connection is over.
        } finally {
            channel.close();
        }
    }

    private void writeLoop() {
        try {
            while (true) {
                Object next = toStream.take();
                if (next == END) {
                    break;
                }
                byte[] bytes = (byte[]) next;
                stream.write(bytes, 0, bytes.length);
                synchronized (flow) {
                    if (paused && toStream.size() <= LOW_WATER) {
                        paused = false;
                        channel.config().setAutoRead(true);
                    }
                }
            }
        } catch (IOException | InterruptedException e) {
            // The stream failed or was closed: the connection is over.
        } finally {
            close();
        }
    }

    /** Closes the stream and the channel; idempotent. */
    void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            try {
                stream.close();
            } catch (IOException e) {
                // Nothing more to do with a stream that fails to close.
            }
            Channel ch = channel;
            if (ch != null) {
                ch.close();
            }
            onClose.run();
        } finally {
            finished.countDown();
        }
    }

    /**
     * Waits for {@link #close} to have finished, whichever thread runs it: a close that finds another one under
     * way (the channel's end closing the stream as the server closes) returns at once, and whoever must know the
     * connection is gone waits here. False if it is still closing after {@code millis}.
     */
    boolean awaitClosed(long millis) throws InterruptedException {
        return finished.await(millis, TimeUnit.MILLISECONDS);
    }
}
