package dev.berth.hcs.bind;

/**
 * Container layers on the host. The storage functions of computestorage.dll ({@code HcsImportLayer} and the
 * others below) and, for a process-isolated container's writable layer, the legacy layer functions of
 * vmcompute.dll that hcsshim's {@code internal/wclayer} still uses to get the volume a container runs from
 * ({@code ActivateLayer}, {@code PrepareLayer}, {@code GetLayerMountPath} and their inverses) and to import an
 * image's layers ({@code ImportLayer}, {@code ProcessBaseImage}, {@code CreateSandboxLayer}, {@code DestroyLayer}).
 * The computestorage functions keep their {@code Hcs} prefix ({@code hcsImportLayer}), the vmcompute ones their
 * plain names ({@code importLayer}). Every method returns the {@code HRESULT}; paths are Windows paths; parent
 * layers are listed nearest first, as hcsshim lists them.
 */
public interface LayerApi {

    /** A result string (e.g. a volume path) with the call's {@code HRESULT}. */
    record Result(int hresult, String value) {}

    /** {@code HRESULT HcsImportLayer(PCWSTR layerPath, PCWSTR sourceFolderPath, PCWSTR layerData)}. */
    int hcsImportLayer(String layerPath, String sourceFolderPath, String layerData);

    /** {@code HRESULT HcsInitializeWritableLayer(PCWSTR writableLayerPath, PCWSTR layerData, PCWSTR options)}. */
    int hcsInitializeWritableLayer(String writableLayerPath, String layerData, String options);

    /** {@code HRESULT HcsAttachLayerStorageFilter(PCWSTR layerPath, PCWSTR layerData)}. */
    int hcsAttachLayerStorageFilter(String layerPath, String layerData);

    /** {@code HRESULT HcsDetachLayerStorageFilter(PCWSTR layerPath)}. */
    int hcsDetachLayerStorageFilter(String layerPath);

    /** {@code HRESULT HcsDestroyLayer(PCWSTR layerPath)}. */
    int hcsDestroyLayer(String layerPath);

    /** {@code HRESULT HcsSetupBaseOSLayer(PCWSTR layerPath, HANDLE vhdHandle, PCWSTR options)}. */
    int hcsSetupBaseOsLayer(String layerPath, long vhdHandle, String options);

    /** vmcompute {@code HRESULT ActivateLayer(DriverInfo*, PCWSTR id)}: the layer's folder, as hcsshim passes it. */
    int activateLayer(String layerPath);

    /** vmcompute {@code HRESULT PrepareLayer(DriverInfo*, PCWSTR id, WC_LAYER_DESCRIPTOR*, UINT32 count)}. */
    int prepareLayer(String layerPath, java.util.List<String> parentLayerPaths);

    /** vmcompute {@code HRESULT GetLayerMountPath(DriverInfo*, PCWSTR id, UINT32* length, PWSTR path)}. */
    Result getLayerMountPath(String layerPath);

    /** vmcompute {@code HRESULT UnprepareLayer(DriverInfo*, PCWSTR id)}. */
    int unprepareLayer(String layerPath);

    /** vmcompute {@code HRESULT DeactivateLayer(DriverInfo*, PCWSTR id)}. */
    int deactivateLayer(String layerPath);

    /**
     * vmcompute {@code HRESULT ImportLayer(DriverInfo*, PCWSTR id, PCWSTR path, WC_LAYER_DESCRIPTOR*, UINT32)}:
     * makes the layer {@code layerPath} from the folder {@code importFolderPath} (the layer's files and hives as a
     * tar of it holds them), over its parents, which must already be imported. hcsshim's {@code wclayer.ImportLayer}.
     */
    int importLayer(String layerPath, String importFolderPath, java.util.List<String> parentLayerPaths);

    /**
     * vmcompute {@code HRESULT ProcessBaseImage(PCWSTR path)}: finishes a base layer (one with no parents) whose files
     * were written into its folder. hcsshim's base layer writer calls it on close.
     */
    int processBaseImage(String layerPath);

    /** vmcompute {@code HRESULT ProcessUtilityImage(PCWSTR path)}: a base layer's {@code UtilityVM} folder, if any. */
    int processUtilityImage(String utilityVmPath);

    /**
     * vmcompute {@code HRESULT CreateSandboxLayer(DriverInfo*, PCWSTR id, PCWSTR parent, WC_LAYER_DESCRIPTOR*,
     * UINT32)}: a container's writable (scratch) layer in {@code layerPath} over its parents (the parent argument is
     * null, as hcsshim's {@code wclayer.CreateScratchLayer} passes it).
     */
    int createSandboxLayer(String layerPath, java.util.List<String> parentLayerPaths);

    /** vmcompute {@code HRESULT DestroyLayer(DriverInfo*, PCWSTR id)}: deletes a layer and its folder. */
    int destroyLayer(String layerPath);

    /** vmcompute {@code HRESULT NameToGuid(PCWSTR name, GUID*)}: a layer's id from its folder name. */
    Result nameToGuid(String name);
}
