package dev.berth.hcs.bind.jna;

import com.sun.jna.Library;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import com.sun.jna.WString;
import com.sun.jna.platform.win32.Guid.GUID;
import com.sun.jna.ptr.IntByReference;

/**
 * The legacy layer functions of vmcompute.dll that a process-isolated container's writable layer still goes
 * through (hcsshim {@code internal/wclayer}: {@code ActivateLayer}, {@code PrepareLayer}, {@code GetLayerMountPath}),
 * and those that import an image's layers and create the scratch layer ({@code ImportLayer}, {@code ProcessBaseImage},
 * {@code CreateSandboxLayer}, {@code DestroyLayer}).
 * Each takes a {@code DriverInfo} naming the folder that holds the layer and the layer's folder name as its id.
 */
public interface Vmcompute extends Library {

    /** {@code DriverInfo { int Flavour; PCWSTR HomeDir; }}; flavour 1 is the filter driver. */
    @Structure.FieldOrder({"Flavour", "HomeDir"})
    class DriverInfo extends Structure {
        public int Flavour;
        public WString HomeDir;
    }

    /** {@code WC_LAYER_DESCRIPTOR { GUID LayerId; DWORD Flags; PCWSTR Path; }}. */
    @Structure.FieldOrder({"LayerId", "Flags", "Path"})
    class LayerDescriptor extends Structure {
        public GUID LayerId;
        public int Flags;
        public WString Path;
    }

    int ActivateLayer(DriverInfo info, WString id);

    int PrepareLayer(DriverInfo info, WString id, Pointer descriptors, int count);

    int GetLayerMountPath(DriverInfo info, WString id, IntByReference length, Pointer buffer);

    int UnprepareLayer(DriverInfo info, WString id);

    int DeactivateLayer(DriverInfo info, WString id);

    int NameToGuid(WString name, GUID guid);

    int ImportLayer(DriverInfo info, WString id, WString path, Pointer descriptors, int count);

    int ProcessBaseImage(WString path);

    int ProcessUtilityImage(WString path);

    int CreateSandboxLayer(DriverInfo info, WString id, Pointer parent, Pointer descriptors, int count);

    int DestroyLayer(DriverInfo info, WString id);
}
