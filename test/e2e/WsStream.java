import dev.berth.cri.v1.AttachRequest;
import dev.berth.cri.v1.ExecRequest;
import dev.berth.cri.v1.PortForwardRequest;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Kubernetes streaming client over WebSocket, for end-to-end tests: it asks berth's CRI socket for an Exec,
 * Attach or PortForward URL, as the kubelet does, then speaks the channel protocol to it with the JDK's own
 * WebSocket client (binary frames, first byte the channel: 0 stdin, 1 stdout, 2 stderr, 3 status, 4 resize;
 * v5 adds [255, channel] to close a channel). Prints what came back, one labelled line per part.
 *
 * Usage: java -cp 'IMAGE/lib/*' WsStream.java SOCKET MODE ID [options] [-- command...]
 *   MODE exec|attach|portforward; options: --protocol P, --tty, --size ROWSxCOLS, --stdin TEXT,
 *   --port N, --send TEXT (port-forward request bytes, \r\n allowed)
 */
public final class WsStream {
    public static void main(String[] args) throws Exception {
        String socket = args[0];
        String mode = args[1];
        String id = args[2];
        String protocol = mode.equals("portforward") ? "v4.channel.k8s.io" : "v5.channel.k8s.io";
        boolean tty = false;
        String size = null;
        String stdin = null;
        int port = 80;
        String send = "";
        List<String> command = new ArrayList<>();
        for (int i = 3; i < args.length; i++) {
            switch (args[i]) {
                case "--protocol" -> protocol = args[++i];
                case "--tty" -> tty = true;
                case "--size" -> size = args[++i];
                case "--stdin" -> stdin = args[++i];
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--send" -> send = args[++i].replace("\\r", "\r").replace("\\n", "\n");
                case "--" -> {
                    command.addAll(Arrays.asList(args).subList(i + 1, args.length));
                    i = args.length;
                }
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        String url = streamUrl(socket, mode, id, tty, stdin != null, port, command);
        System.out.println("url-scheme: " + URI.create(url).getScheme());
        URI ws = URI.create(url.replaceFirst("^http", "ws"));

        Collector collector = new Collector();
        WebSocket sock = HttpClient.newHttpClient().newWebSocketBuilder().subprotocols(protocol)
                .buildAsync(ws, collector).get(10, TimeUnit.SECONDS);
        System.out.println("protocol: " + sock.getSubprotocol());
        if (mode.equals("portforward")) {
            sock.sendBinary(frame(0, send.getBytes(StandardCharsets.UTF_8)), true).get(10, TimeUnit.SECONDS);
        } else {
            if (size != null) {
                String[] rc = size.split("x");
                String resize = "{\"Width\":" + rc[1] + ",\"Height\":" + rc[0] + "}";
                sock.sendBinary(frame(4, resize.getBytes(StandardCharsets.UTF_8)), true).get(10, TimeUnit.SECONDS);
            }
            if (stdin != null) {
                sock.sendBinary(frame(0, (stdin + "\n").getBytes(StandardCharsets.UTF_8)), true)
                        .get(10, TimeUnit.SECONDS);
                if (sock.getSubprotocol().equals("v5.channel.k8s.io")) {
                    sock.sendBinary(ByteBuffer.wrap(new byte[] {(byte) 255, 0}), true).get(10, TimeUnit.SECONDS);
                }
            }
        }
        collector.closed.get(60, TimeUnit.SECONDS);
        if (mode.equals("portforward")) {
            byte[] data = collector.channel(0);
            // The server opens each channel with the port, two bytes little-endian.
            int announced = data.length >= 2 ? (data[0] & 0xff) | (data[1] & 0xff) << 8 : -1;
            System.out.println("port: " + announced);
            System.out.println("data: " + text(Arrays.copyOfRange(data, Math.min(2, data.length), data.length)));
            byte[] err = collector.channel(1);
            System.out.println("error: " + text(Arrays.copyOfRange(err, Math.min(2, err.length), err.length)));
        } else {
            System.out.println("stdout: " + text(collector.channel(1)));
            System.out.println("stderr: " + text(collector.channel(2)));
            String status = text(collector.channel(3));
            System.out.println("status: " + status);
            System.out.println("exit: " + exitCode(status));
        }
        System.out.println("close: " + collector.closeCode);
    }

    private static String streamUrl(String socket, String mode, String id, boolean tty, boolean stdin, int port,
                                    List<String> command) {
        var group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket)).eventLoopGroup(group)
                .channelType(EpollDomainSocketChannel.class).usePlaintext().build();
        try {
            var rt = RuntimeServiceGrpc.newBlockingStub(channel);
            return switch (mode) {
                case "exec" -> rt.exec(ExecRequest.newBuilder().setContainerId(id).addAllCmd(command).setTty(tty)
                        .setStdin(stdin).setStdout(true).setStderr(!tty).build()).getUrl();
                case "attach" -> rt.attach(AttachRequest.newBuilder().setContainerId(id).setTty(tty).setStdin(stdin)
                        .setStdout(true).setStderr(!tty).build()).getUrl();
                case "portforward" -> rt.portForward(PortForwardRequest.newBuilder().setPodSandboxId(id)
                        .addPort(port).build()).getUrl();
                default -> throw new IllegalArgumentException("mode is exec, attach or portforward, not " + mode);
            };
        } finally {
            channel.shutdownNow();
            group.shutdownGracefully();
        }
    }

    /** v4+ status: Success, or a failure whose ExitCode cause carries the code. */
    private static String exitCode(String status) {
        if (status.contains("\"Success\"")) {
            return "0";
        }
        Matcher m = Pattern.compile("\"reason\":\"ExitCode\",\"message\":\"(\\d+)\"").matcher(status);
        return m.find() ? m.group(1) : "unknown";
    }

    private static ByteBuffer frame(int channel, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(payload.length + 1);
        b.put((byte) channel).put(payload).flip();
        return b;
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8).replace("\r", "\\r").replace("\n", "\\n");
    }

    /** Gathers each channel's bytes; binary messages may arrive in parts. */
    static final class Collector implements WebSocket.Listener {
        final CompletableFuture<Void> closed = new CompletableFuture<>();
        final ByteArrayOutputStream[] channels = new ByteArrayOutputStream[256];
        final ByteArrayOutputStream message = new ByteArrayOutputStream();
        volatile int closeCode = -1;

        synchronized byte[] channel(int c) {
            return channels[c] == null ? new byte[0] : channels[c].toByteArray();
        }

        @Override
        public synchronized CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            byte[] b = new byte[data.remaining()];
            data.get(b);
            message.writeBytes(b);
            if (last) {
                byte[] m = message.toByteArray();
                message.reset();
                if (m.length > 0) {
                    int c = m[0] & 0xff;
                    if (channels[c] == null) {
                        channels[c] = new ByteArrayOutputStream();
                    }
                    channels[c].write(m, 1, m.length - 1);
                }
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            closeCode = statusCode;
            closed.complete(null);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            closed.completeExceptionally(error);
        }
    }
}
