package dev.berth.spi.testing;

import dev.berth.spi.BackendContext;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.RuntimeBackendFactory;
import java.util.Map;

/** Backend type {@code fake}: {@link FakeBackend}. Not annotated, so tests and test plugins choose to expose it. */
public class FakeBackendFactory implements RuntimeBackendFactory {
    @Override
    public String type() {
        return "fake";
    }

    @Override
    public RuntimeBackend create(String handlerName, Map<String, Object> options, BackendContext context) {
        return new FakeBackend(context, options);
    }
}
