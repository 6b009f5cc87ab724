package dev.berth.core.cri.streaming;

import dev.berth.core.cri.CriRuntime;
import dev.berth.core.streaming.StreamTargets;
import dev.berth.spi.PortForwarding;
import dev.berth.spi.StreamingIo;

/** Resolves streaming targets through the dispatcher: a container's or pod's own handler, capability checked. */
public final class CriStreamTargets implements StreamTargets {
    private final CriRuntime cri;

    public CriStreamTargets(CriRuntime cri) {
        this.cri = cri;
    }

    @Override
    public StreamingIo streaming(String containerId) {
        var c = cri.container(containerId);
        return cri.handlerOf(c).require(StreamingIo.class, "exec and attach");
    }

    @Override
    public PortForwarding portForwarding(String sandboxId) {
        var s = cri.sandbox(sandboxId);
        return cri.dispatcher().forSandbox(s).require(PortForwarding.class, "port forwarding");
    }
}
