package dev.berth.hcs.bind.jna;

import static dev.berth.hcs.bind.jna.Jna.handle;
import static dev.berth.hcs.bind.jna.Jna.w;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.WString;
import com.sun.jna.platform.win32.Guid.GUID;
import com.sun.jna.ptr.IntByReference;
import dev.berth.hcs.bind.LayerApi;
import java.lang.ref.Reference;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** {@link LayerApi} over computestorage.dll and vmcompute.dll. */
final class JnaLayerApi implements LayerApi {
    private final ComputeStorage cs;
    private final Vmcompute vm;

    JnaLayerApi(ComputeStorage cs, Vmcompute vm) {
        this.cs = cs;
        this.vm = vm;
    }

    /** hcsshim's convention: the driver's home is the layer's parent folder, the id its folder name. */
    private static Vmcompute.DriverInfo driver(String layerPath) {
        Vmcompute.DriverInfo d = new Vmcompute.DriverInfo();
        d.Flavour = 1;
        Path parent = Path.of(layerPath).getParent();
        d.HomeDir = new WString(parent == null ? "" : parent.toString());
        return d;
    }

    private static WString id(String layerPath) {
        return new WString(Path.of(layerPath).getFileName().toString());
    }

    /**
     * The parents as a {@code WC_LAYER_DESCRIPTOR} array (id from {@code NameToGuid} of the folder name, path).
     * {@code all} holds the structures, whose native copies of the path strings must outlive the call: callers
     * keep the record reachable until the call returned.
     */
    private record Descriptors(int hresult, Pointer first, int count, Vmcompute.LayerDescriptor[] all) {}

    private Descriptors descriptors(List<String> parentLayerPaths) {
        if (parentLayerPaths.isEmpty()) {
            return new Descriptors(0, null, 0, null);
        }
        Vmcompute.LayerDescriptor first = new Vmcompute.LayerDescriptor();
        Vmcompute.LayerDescriptor[] all = (Vmcompute.LayerDescriptor[]) first.toArray(parentLayerPaths.size());
        for (int i = 0; i < all.length; i++) {
            String p = parentLayerPaths.get(i);
            GUID g = new GUID();
            int hr = vm.NameToGuid(new WString(Path.of(p).getFileName().toString()), g);
            if (hr < 0) {
                return new Descriptors(hr, null, 0, null);
            }
            all[i].LayerId = g;
            all[i].Path = new WString(p);
            all[i].write();
        }
        return new Descriptors(0, first.getPointer(), all.length, all);
    }

    @Override
    public int hcsImportLayer(String layerPath, String sourceFolderPath, String layerData) {
        return cs.HcsImportLayer(w(layerPath), w(sourceFolderPath), w(layerData));
    }

    @Override
    public int hcsInitializeWritableLayer(String writableLayerPath, String layerData, String options) {
        return cs.HcsInitializeWritableLayer(w(writableLayerPath), w(layerData), w(options));
    }

    @Override
    public int hcsAttachLayerStorageFilter(String layerPath, String layerData) {
        return cs.HcsAttachLayerStorageFilter(w(layerPath), w(layerData));
    }

    @Override
    public int hcsDetachLayerStorageFilter(String layerPath) {
        return cs.HcsDetachLayerStorageFilter(w(layerPath));
    }

    @Override
    public int hcsDestroyLayer(String layerPath) {
        return cs.HcsDestroyLayer(w(layerPath));
    }

    @Override
    public int hcsSetupBaseOsLayer(String layerPath, long vhdHandle, String options) {
        return cs.HcsSetupBaseOSLayer(w(layerPath), handle(vhdHandle), w(options));
    }

    @Override
    public int importLayer(String layerPath, String importFolderPath, List<String> parentLayerPaths) {
        Descriptors d = descriptors(parentLayerPaths);
        if (d.hresult() < 0) {
            return d.hresult();
        }
        try {
            return vm.ImportLayer(driver(layerPath), id(layerPath), w(importFolderPath), d.first(), d.count());
        } finally {
            Reference.reachabilityFence(d);
        }
    }

    @Override
    public int processBaseImage(String layerPath) {
        return vm.ProcessBaseImage(w(layerPath));
    }

    @Override
    public int processUtilityImage(String utilityVmPath) {
        return vm.ProcessUtilityImage(w(utilityVmPath));
    }

    @Override
    public int createSandboxLayer(String layerPath, List<String> parentLayerPaths) {
        Descriptors d = descriptors(parentLayerPaths);
        if (d.hresult() < 0) {
            return d.hresult();
        }
        try {
            return vm.CreateSandboxLayer(driver(layerPath), id(layerPath), null, d.first(), d.count());
        } finally {
            Reference.reachabilityFence(d);
        }
    }

    @Override
    public int destroyLayer(String layerPath) {
        return vm.DestroyLayer(driver(layerPath), id(layerPath));
    }

    @Override
    public int activateLayer(String layerPath) {
        return vm.ActivateLayer(driver(layerPath), id(layerPath));
    }

    @Override
    public int prepareLayer(String layerPath, List<String> parentLayerPaths) {
        Descriptors d = descriptors(parentLayerPaths);
        if (d.hresult() < 0) {
            return d.hresult();
        }
        try {
            return vm.PrepareLayer(driver(layerPath), id(layerPath), d.first(), d.count());
        } finally {
            Reference.reachabilityFence(d);
        }
    }

    @Override
    public Result getLayerMountPath(String layerPath) {
        IntByReference length = new IntByReference();
        int hr = vm.GetLayerMountPath(driver(layerPath), id(layerPath), length, null);
        if (hr < 0) {
            return new Result(hr, null);
        }
        Memory buf = new Memory((long) Math.max(1, length.getValue()) * Native.WCHAR_SIZE);
        hr = vm.GetLayerMountPath(driver(layerPath), id(layerPath), length, buf);
        return new Result(hr, hr < 0 ? null : buf.getWideString(0));
    }

    @Override
    public int unprepareLayer(String layerPath) {
        return vm.UnprepareLayer(driver(layerPath), id(layerPath));
    }

    @Override
    public int deactivateLayer(String layerPath) {
        return vm.DeactivateLayer(driver(layerPath), id(layerPath));
    }

    @Override
    public Result nameToGuid(String name) {
        GUID g = new GUID();
        int hr = vm.NameToGuid(new WString(name), g);
        if (hr < 0) {
            return new Result(hr, null);
        }
        String s = g.toGuidString();
        return new Result(hr, s.substring(1, s.length() - 1).toLowerCase(Locale.ROOT));
    }
}
