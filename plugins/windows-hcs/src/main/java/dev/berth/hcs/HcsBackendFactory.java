package dev.berth.hcs;

import dev.berth.hcs.bind.Bindings;
import dev.berth.spi.BackendContext;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.RuntimeBackendFactory;
import java.util.Map;
import org.pf4j.Extension;

/**
 * Backend type {@code windows-hcs}: Windows containers run by the Host Compute Service. On a host that is not
 * Windows the handler still loads; its health says why it cannot serve and every create fails UNAVAILABLE.
 */
@Extension
public class HcsBackendFactory implements RuntimeBackendFactory {
    @Override
    public String type() {
        return "windows-hcs";
    }

    @Override
    public RuntimeBackend create(String handlerName, Map<String, Object> options, BackendContext context) {
        HcsOptions parsed = HcsOptions.parse(handlerName, options);
        return new HcsBackend(handlerName, parsed, context, Bindings.forHost(),
                Runtime.getRuntime().availableProcessors());
    }
}
