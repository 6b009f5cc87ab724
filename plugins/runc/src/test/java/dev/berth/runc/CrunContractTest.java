package dev.berth.runc;

/** The SPI contract with {@code binary = "crun"}: one backend type, a second handler. */
class CrunContractTest extends RuncContractTest {
    @Override
    protected String binary() {
        return "crun";
    }
}
