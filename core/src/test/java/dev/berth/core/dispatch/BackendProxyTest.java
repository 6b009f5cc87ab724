package dev.berth.core.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.spi.BackendContext;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendHealth;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.StatsProvider;
import dev.berth.spi.StreamingIo;
import dev.berth.spi.testing.FakeBackend;
import dev.berth.spi.testing.TestingBackendContext;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The plugin boundary: class loader, failures tagged and turned INTERNAL, capabilities, observation. */
class BackendProxyTest {
    @TempDir
    Path dir;

    final List<String> observed = new CopyOnWriteArrayList<>();
    final BackendProxy.Observer observer = new BackendProxy.Observer() {
        @Override
        public void call(String plugin, String handler, String operation, Throwable failure, long nanos) {
            observed.add(plugin + " " + handler + " " + operation + " "
                    + (failure == null ? "ok" : failure.getClass().getSimpleName()));
        }

        @Override
        public void health(String plugin, String handler, BackendHealth health) {
            observed.add("health " + plugin + " " + handler + " " + health.ready());
        }
    };
    final ClassLoader pluginLoader = new URLClassLoader(new URL[0], getClass().getClassLoader());

    /** A fake whose containerStatus does what {@link #status} says, and reports the TCCL it ran with. */
    final class Throwing extends FakeBackend {
        Supplier<ContainerStatus> status = () -> null;
        ClassLoader seen;

        Throwing(BackendContext context) {
            super(context, Map.of());
        }

        @Override
        public ContainerStatus containerStatus(String containerId) {
            seen = Thread.currentThread().getContextClassLoader();
            return status.get();
        }
    }

    /** A fake with streaming. */
    static final class Streaming extends FakeBackend implements StreamingIo {
        Streaming(BackendContext context) {
            super(context, Map.of());
        }

        @Override
        public int exec(String containerId, List<String> command, Streams io) {
            return 0;
        }

        @Override
        public void attach(String containerId, Streams io) {
        }
    }

    private Throwing backend() {
        return new Throwing(new TestingBackendContext("h", dir));
    }

    private RuntimeBackend wrap(RuntimeBackend b) {
        return BackendProxy.wrap(b, pluginLoader, "plug", "h@2", "h", observer);
    }

    @Test
    void theCallRunsWithThePluginsLoaderAndTheCallersIsRestored() {
        Throwing b = backend();
        ClassLoader mine = Thread.currentThread().getContextClassLoader();
        wrap(b).containerStatus("c1");
        assertThat(b.seen).isSameAs(pluginLoader);
        assertThat(Thread.currentThread().getContextClassLoader()).isSameAs(mine);
        assertThat(observed).containsExactly("plug h containerStatus ok");
    }

    @Test
    void aBackendExceptionPassesUnchanged() {
        Throwing b = backend();
        BackendException e = BackendException.notFound("container", "c1");
        b.status = () -> {
            throw e;
        };
        assertThatThrownBy(() -> wrap(b).containerStatus("c1")).isSameAs(e);
        assertThat(observed).containsExactly("plug h containerStatus BackendException");
    }

    @Test
    void aRuntimeExceptionBecomesInternalNamingPluginHandlerAndCall() {
        Throwing b = backend();
        b.status = () -> {
            throw new IllegalStateException("boom");
        };
        ClassLoader mine = Thread.currentThread().getContextClassLoader();
        assertThatThrownBy(() -> wrap(b).containerStatus("c1")).isInstanceOfSatisfying(BackendException.class, e -> {
            assertThat(e.kind()).isEqualTo(BackendException.Kind.INTERNAL);
            assertThat(e.getMessage())
                    .isEqualTo("plugin plug (handler h@2) failed in containerStatus: IllegalStateException: boom");
            assertThat(e.getCause()).isInstanceOf(IllegalStateException.class);
        });
        assertThat(Thread.currentThread().getContextClassLoader()).isSameAs(mine);
        assertThat(observed).containsExactly("plug h containerStatus BackendException");
    }

    @Test
    void aLinkageErrorFromABrokenJarBecomesInternal() {
        Throwing b = backend();
        b.status = () -> {
            throw new NoClassDefFoundError("com/example/Missing");
        };
        assertThatThrownBy(() -> wrap(b).containerStatus("c1")).isInstanceOfSatisfying(BackendException.class, e -> {
            assertThat(e.kind()).isEqualTo(BackendException.Kind.INTERNAL);
            assertThat(e.getMessage()).endsWith("NoClassDefFoundError: com/example/Missing");
        });
    }

    @Test
    void otherErrorsAreNotSwallowed() {
        Throwing b = backend();
        b.status = () -> {
            throw new OutOfMemoryError("test");
        };
        assertThatThrownBy(() -> wrap(b).containerStatus("c1")).isInstanceOf(OutOfMemoryError.class);
        assertThat(observed).containsExactly("plug h containerStatus OutOfMemoryError");
    }

    @Test
    void theProxyHasExactlyTheBackendsCapabilities() {
        RuntimeBackend plain = wrap(backend());
        RuntimeBackend streaming = wrap(new Streaming(new TestingBackendContext("h", dir)));
        assertThat(plain).isNotInstanceOf(StreamingIo.class).isNotInstanceOf(StatsProvider.class);
        assertThat(streaming).isInstanceOf(StreamingIo.class).isNotInstanceOf(StatsProvider.class);
        assertThat(((StreamingIo) streaming).exec("c", List.of("true"), null)).isZero();
        assertThat(plain.toString()).isEqualTo("backend[h@2 from plugin plug]");
        assertThat(plain).isEqualTo(plain).isNotEqualTo(streaming);
    }

    @Test
    void healthAnswersAreObserved() {
        BackendHealth h = wrap(backend()).health();
        assertThat(observed).containsExactly("health plug h " + h.ready(), "plug h health ok");
    }

    @Test
    void withLoaderSetsAndRestoresTheContextLoader() {
        ClassLoader mine = Thread.currentThread().getContextClassLoader();
        ClassLoader seen = BackendProxy.withLoader(pluginLoader, () -> Thread.currentThread().getContextClassLoader());
        assertThat(seen).isSameAs(pluginLoader);
        assertThat(Thread.currentThread().getContextClassLoader()).isSameAs(mine);
    }
}
