package dev.berth.core.dispatch;

import dev.berth.core.tracing.Tracing;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendHealth;
import dev.berth.spi.RuntimeBackend;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Guards the plugin boundary in one place. The proxy implements exactly the SPI interfaces the backend does
 * (so {@code instanceof StatsProvider} still tells capabilities apart), and around every call it sets the
 * plugin's class loader as the thread context class loader, times the call, and turns anything but a
 * {@link BackendException} (a runtime exception, a {@link LinkageError} from a broken jar) into an INTERNAL
 * {@code BackendException} tagged with the plugin and handler. It reports each call's duration and failure, and
 * each health answer, to an {@link Observer} (the metrics), and makes each call a child span of the RPC's
 * ({@code backend <operation>}) when tracing is on.
 */
public final class BackendProxy implements InvocationHandler {
    private static final System.Logger LOG = System.getLogger(BackendProxy.class.getName());
    private static final long SLOW_NANOS = 10_000_000_000L;

    private final Object target;
    private final ClassLoader pluginLoader;
    private final String pluginId;
    private final String handler;
    private final String handlerName;
    private final Observer observer;

    /** Told of every call through a proxy: what it was, how long it took, how it failed; and of health answers. */
    public interface Observer {
        Observer NONE = (plugin, handler, operation, failure, nanos) -> { };

        /** {@code failure} is what the caller gets (a {@link BackendException} or an Error), or null. */
        void call(String plugin, String handler, String operation, Throwable failure, long nanos);

        /** The backend answered {@code health()}. */
        default void health(String plugin, String handler, BackendHealth health) {}
    }

    private BackendProxy(Object target, ClassLoader pluginLoader, String pluginId, String handler, String handlerName,
                         Observer observer) {
        this.target = target;
        this.pluginLoader = pluginLoader;
        this.pluginId = pluginId;
        this.handler = handler;
        this.handlerName = handlerName;
        this.observer = observer;
    }

    /** Wraps {@code backend} so that every call through it is guarded. */
    public static RuntimeBackend wrap(RuntimeBackend backend, ClassLoader pluginLoader, String pluginId,
                                      String handler) {
        return wrap(backend, pluginLoader, pluginId, handler, handler, Observer.NONE);
    }

    /**
     * Wraps {@code backend} so that every call through it is guarded and reported to {@code observer}.
     *
     * @param label the handler with its generation, for logs and errors
     * @param handlerName the handler's name, for {@code observer}
     */
    public static RuntimeBackend wrap(RuntimeBackend backend, ClassLoader pluginLoader, String pluginId,
                                      String label, String handlerName, Observer observer) {
        Set<Class<?>> spi = new LinkedHashSet<>();
        collect(backend.getClass(), spi);
        return (RuntimeBackend) Proxy.newProxyInstance(RuntimeBackend.class.getClassLoader(),
                spi.toArray(Class<?>[]::new), new BackendProxy(backend, pluginLoader, pluginId, label, handlerName,
                        observer));
    }

    private static void collect(Class<?> c, Set<Class<?>> into) {
        for (Class<?> k = c; k != null; k = k.getSuperclass()) {
            for (Class<?> i : k.getInterfaces()) {
                if (i.getName().startsWith("dev.berth.spi.")) {
                    into.add(i);
                }
                collect(i, into);
            }
        }
    }

    /** Calls {@code action} with the plugin's class loader as TCCL, for work outside the proxy (e.g. create). */
    public static <T> T withLoader(ClassLoader loader, java.util.function.Supplier<T> action) {
        Thread t = Thread.currentThread();
        ClassLoader old = t.getContextClassLoader();
        t.setContextClassLoader(loader);
        try {
            return action.get();
        } finally {
            t.setContextClassLoader(old);
        }
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        if (method.getDeclaringClass() == Object.class) {
            return switch (method.getName()) {
                case "toString" -> "backend[" + handler + " from plugin " + pluginId + "]";
                case "hashCode" -> System.identityHashCode(proxy);
                case "equals" -> proxy == args[0];
                default -> method.invoke(target, args);
            };
        }
        Thread t = Thread.currentThread();
        ClassLoader old = t.getContextClassLoader();
        t.setContextClassLoader(pluginLoader);
        long start = System.nanoTime();
        Throwable failure = null;
        Tracing.Child span = Tracing.child("backend ", method.getName()).attr("berth.operation", method.getName())
                .attr("berth.handler", handlerName).attr("berth.plugin", pluginId);
        try {
            Object result = method.invoke(target, args);
            if (result instanceof BackendHealth h) {
                observer.health(pluginId, handlerName, h);
            }
            return result;
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof BackendException be) {
                failure = be;
                throw be;
            }
            if (cause instanceof RuntimeException || cause instanceof LinkageError) {
                LOG.log(System.Logger.Level.ERROR, "plugin " + pluginId + " (handler " + handler + ") failed in "
                        + method.getName(), cause);
                failure = new BackendException(BackendException.Kind.INTERNAL, "plugin " + pluginId + " (handler "
                        + handler + ") failed in " + method.getName() + ": " + cause.getClass().getSimpleName()
                        + (cause.getMessage() == null ? "" : ": " + cause.getMessage()), cause);
                throw failure;
            }
            failure = cause;
            throw cause;
        } finally {
            t.setContextClassLoader(old);
            span.fail(failure);
            span.close();
            long took = System.nanoTime() - start;
            observer.call(pluginId, handlerName, method.getName(), failure, took);
            if (took > SLOW_NANOS) {
                LOG.log(System.Logger.Level.WARNING, "slow backend call: {0}.{1} took {2} ms", handler,
                        method.getName(), took / 1_000_000);
            }
        }
    }
}
