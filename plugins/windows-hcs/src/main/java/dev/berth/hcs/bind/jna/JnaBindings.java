package dev.berth.hcs.bind.jna;

import com.sun.jna.Native;
import dev.berth.hcs.bind.Bindings;

/**
 * Loads the DLLs. Only {@link Bindings#forHost()} calls {@link #load()}, reflectively and only on Windows, so
 * this class and JNA's native library stay unloaded anywhere else.
 */
public final class JnaBindings {
    private JnaBindings() {}

    public static Bindings load() {
        ComputeCore cc = Native.load("computecore", ComputeCore.class);
        ComputeNetwork cn = Native.load("computenetwork", ComputeNetwork.class);
        ComputeStorage cs = Native.load("computestorage", ComputeStorage.class);
        Vmcompute vm = Native.load("vmcompute", Vmcompute.class);
        return Bindings.of(new JnaHcs(cc), new JnaHcn(cn), new JnaLayerApi(cs, vm), JnaRelayHandOver.load(),
                JnaBackupFiles.load());
    }
}
