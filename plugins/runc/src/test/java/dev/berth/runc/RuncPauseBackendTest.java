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

    /** Not a test here: these pods have a pause container, not berth-pause (overriding drops the inherited test). */
    @Override
    void aSharedPidNamespaceWithoutPauseContainerHasAConfinedInitThatReaps() {}

    /** Not a test here: these pods have a pause container, whose death the inherited status tests cover. */
    @Override
    void aPodWhosePauseProcessDiedIsNotReady() {}
}
