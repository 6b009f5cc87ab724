package dev.berth.runc;

import dev.berth.spi.BackendContext;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.RuntimeBackendFactory;
import java.util.Map;
import org.pf4j.Extension;

/** Backend type {@code runc}: pods and containers run by runc or crun, each container supervised by conmon. */
@Extension
public final class RuncBackendFactory implements RuntimeBackendFactory {

    @Override
    public String type() {
        return "runc";
    }

    @Override
    public RuntimeBackend create(String handlerName, Map<String, Object> options, BackendContext context) {
        RuncOptions parsed = RuncOptions.parse(handlerName, options, context.stateDir());
        return new RuncBackend(handlerName, parsed, context);
    }
}
