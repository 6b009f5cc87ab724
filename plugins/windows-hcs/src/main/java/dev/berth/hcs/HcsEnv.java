package dev.berth.hcs;

import dev.berth.hcs.bind.Bindings;
import dev.berth.hcs.bind.Hcs;
import dev.berth.hcs.layer.LayerStore;
import dev.berth.spi.BackendContext;
import dev.berth.spi.BackendException;
import java.time.Clock;

/**
 * What every part of the backend works with: the handler, its options, core's context, the bindings, the state and
 * the imported layers.
 */
record HcsEnv(String handler, HcsOptions options, BackendContext context, Bindings bindings, int hostProcessors,
              Clock clock, HcsState state, LayerStore layerStore) {

    Hcs hcs() {
        return bindings.hcs();
    }

    void requireAvailable(String what) {
        if (!bindings.available()) {
            throw new BackendException(BackendException.Kind.UNAVAILABLE, what + ": handler \"" + handler
                    + "\" (windows-hcs) cannot run here: " + bindings.unavailable());
        }
    }
}
