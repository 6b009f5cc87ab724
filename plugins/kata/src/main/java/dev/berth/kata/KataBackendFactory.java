package dev.berth.kata;

import dev.berth.spi.BackendContext;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.RuntimeBackendFactory;
import java.util.Map;
import org.pf4j.Extension;

/**
 * Backend type {@code kata}: pods run by a containerd shim v2 (Kata's {@code containerd-shim-kata-v2}, or any
 * shim speaking the same Task API, such as {@code containerd-shim-runc-v2}). One type serves many handlers,
 * e.g. {@code kata-qemu}, {@code kata-clh} and {@code kata-fc} with different {@code config_path}s.
 */
@Extension
public class KataBackendFactory implements RuntimeBackendFactory {
    @Override
    public String type() {
        return "kata";
    }

    @Override
    public RuntimeBackend create(String handlerName, Map<String, Object> options, BackendContext context) {
        return new KataBackend(KataOptions.parse(handlerName, options), context);
    }
}
