package dev.berth.hcs.bind;

/**
 * Container layers on the host. The storage functions of computestorage.dll ({@code HcsImportLayer} and the
 * others below) and, for a process-isolated container's writable layer, the legacy layer functions of
 * vmcompute.dll that hcsshim's {@code internal/wclayer} still uses to get the volume a container runs from
 * ({@code ActivateLayer}, {@code PrepareLayer}, {@code GetLayerMountPath} and their inverses). Every method
 * returns the {@code HRESULT}; paths are Windows paths.
 */
public interface LayerApi {

    /** A result string (e.g. a volume path) with the call's {@code HRESULT}. */
    record Result(int hresult, String value) {}

    /** {@code HRESULT HcsImportLayer(PCWSTR layerPath, PCWSTR sourceFolderPath, PCWSTR layerData)}. */
    int importLayer(String layerPath, String sourceFolderPath, String layerData);

    /** {@code HRESULT HcsInitializeWritableLayer(PCWSTR writableLayerPath, PCWSTR layerData, PCWSTR options)}. */
    int initializeWritableLayer(String writableLayerPath, String layerData, String options);

    /** {@code HRESULT HcsAttachLayerStorageFilter(PCWSTR layerPath, PCWSTR layerData)}. */
    int attachLayerStorageFilter(String layerPath, String layerData);

    /** {@code HRESULT HcsDetachLayerStorageFilter(PCWSTR layerPath)}. */
    int detachLayerStorageFilter(String layerPath);

    /** {@code HRESULT HcsDestroyLayer(PCWSTR layerPath)}. */
    int destroyLayer(String layerPath);

    /** {@code HRESULT HcsSetupBaseOSLayer(PCWSTR layerPath, HANDLE vhdHandle, PCWSTR options)}. */
    int setupBaseOsLayer(String layerPath, long vhdHandle, String options);

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

    /** vmcompute {@code HRESULT NameToGuid(PCWSTR name, GUID*)}: a layer's id from its folder name. */
    Result nameToGuid(String name);
}
