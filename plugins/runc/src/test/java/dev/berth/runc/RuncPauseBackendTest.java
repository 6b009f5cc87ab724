package dev.berth.runc;

import java.util.Map;

/** The same suite with {@code drop_infra_container = false}: every pod runs a pause container. */
class RuncPauseBackendTest extends RuncBackendTest {
    @Override
    protected Map<String, Object> options() {
        return Map.of("binary", binary(), "drop_infra_container", false);
    }

    @Override
    protected boolean expectPause() {
        return true;
    }
}
