package dev.berth.hcs.bind.jna;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.WString;
import com.sun.jna.platform.win32.Guid.GUID;
import com.sun.jna.ptr.IntByReference;
import dev.berth.hcs.bind.LayerApi;
import java.nio.file.Path;
import java.util.List;

/** {@link LayerApi} over computestorage.dll and vmcompute.dll. */
final class JnaLayerApi implements LayerApi {
    private final ComputeStorage cs;
    private final Vmcompute vm;

    JnaLayerApi(ComputeStorage cs, Vmcompute vm) {
        this.cs = cs;
        this.vm = vm;
    }

    private static WString w(String s) {
        return s == null ? null : new WString(s);
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

    @Override
    public int importLayer(String layerPath, String sourceFolderPath, String layerData) {
        return cs.HcsImportLayer(w(layerPath), w(sourceFolderPath), w(layerData));
    }

    @Override
    public int initializeWritableLayer(String writableLayerPath, String layerData, String options) {
        return cs.HcsInitializeWritableLayer(w(writableLayerPath), w(layerData), w(options));
    }

    @Override
    public int attachLayerStorageFilter(String layerPath, String layerData) {
        return cs.HcsAttachLayerStorageFilter(w(layerPath), w(layerData));
    }

    @Override
    public int detachLayerStorageFilter(String layerPath) {
        return cs.HcsDetachLayerStorageFilter(w(layerPath));
    }

    @Override
    public int destroyLayer(String layerPath) {
        return cs.HcsDestroyLayer(w(layerPath));
    }

    @Override
    public int setupBaseOsLayer(String layerPath, long vhdHandle, String options) {
        return cs.HcsSetupBaseOSLayer(w(layerPath), Jna.handle(vhdHandle), w(options));
    }

    @Override
    public int activateLayer(String layerPath) {
        return vm.ActivateLayer(driver(layerPath), id(layerPath));
    }

    @Override
    public int prepareLayer(String layerPath, List<String> parentLayerPaths) {
        if (parentLayerPaths.isEmpty()) {
            return vm.PrepareLayer(driver(layerPath), id(layerPath), null, 0);
        }
        Vmcompute.LayerDescriptor first = new Vmcompute.LayerDescriptor();
        Vmcompute.LayerDescriptor[] all = (Vmcompute.LayerDescriptor[]) first.toArray(parentLayerPaths.size());
        for (int i = 0; i < all.length; i++) {
            String p = parentLayerPaths.get(i);
            GUID g = new GUID();
            int hr = vm.NameToGuid(new WString(Path.of(p).getFileName().toString()), g);
            if (hr < 0) {
                return hr;
            }
            all[i].LayerId = g;
            all[i].Path = new WString(p);
            all[i].write();
        }
        return vm.PrepareLayer(driver(layerPath), id(layerPath), first.getPointer(), all.length);
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
        return new Result(hr, s.substring(1, s.length() - 1).toLowerCase(java.util.Locale.ROOT));
    }
}
