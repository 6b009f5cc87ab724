package dev.berth.runc;

/** The same real-runtime suite with {@code binary = "crun"}. */
class CrunBackendTest extends RuncBackendTest {
    @Override
    protected String binary() {
        return "crun";
    }
}
