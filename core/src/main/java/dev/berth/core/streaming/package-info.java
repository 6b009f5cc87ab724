/**
 * The streaming server: exec, attach and port-forward sessions for the CRI {@code Exec}, {@code Attach} and
 * {@code PortForward} calls.
 *
 * <h2>Wiring</h2>
 * Core creates one {@link dev.berth.core.streaming.StreamingServer} with {@link
 * dev.berth.core.streaming.StreamingSettings} and a {@link dev.berth.core.streaming.StreamTargets} that routes a
 * container or sandbox id to its backend's {@link dev.berth.spi.StreamingIo} or {@link dev.berth.spi.PortForwarding}
 * (throwing {@code BackendException} {@code NOT_FOUND} or {@code UNIMPLEMENTED}), calls {@code start()} at startup
 * and {@code close()} at shutdown. The RPCs answer with {@code execUrl}, {@code attachUrl} and
 * {@code portForwardUrl}; those throw {@code BackendException} {@code INVALID_ARGUMENT} for requests the kubelet
 * would refuse (tty with stderr, no stream at all, bad ports). Core should check that the container exists and
 * runs before it hands out a URL; the server resolves the backend only when the client connects.
 *
 * <h2>Protocols</h2>
 * <ul>
 *   <li>SPDY/3.1 upgrade ({@code Upgrade: SPDY/3.1}, {@code X-Stream-Protocol-Version}) with remotecommand
 *       {@code channel.k8s.io} and {@code v2}…{@code v5.channel.k8s.io}, and {@code portforward.k8s.io};</li>
 *   <li>WebSocket with {@code v5.channel.k8s.io}, {@code v4.channel.k8s.io} and {@code channel.k8s.io} (binary
 *       channels) for exec and attach, and {@code v4.channel.k8s.io}/{@code portforward.k8s.io} for
 *       port-forward (channels {@code 2i}/{@code 2i+1}, ports from the URL's {@code port} query or the request).
 *       The base64 variants are not offered.</li>
 * </ul>
 * Netty does the HTTP, SPDY and WebSocket framing; this package only does the Kubernetes channel layer.
 *
 * <h2>Threads and flow control</h2>
 * Backends run on virtual threads, never on Netty's event loops. Output to a client is bounded per connection by
 * {@code maxBufferedBytes} (the backend's writes block); client input waits in bounded pipes, and a full pipe
 * stops reading the socket. When a client goes away, the backend sees EOF on stdin, failing writes and an
 * interrupt of its thread.
 */
package dev.berth.core.streaming;
