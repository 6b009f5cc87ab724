package dev.berth.hcs.fake;

import dev.berth.hcs.bind.HResults;
import dev.berth.hcs.bind.LayerApi;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Layers in memory: activation and preparation must come in order and be undone in reverse; the mount path is
 * a volume GUID path derived from the scratch layer's path.
 */
public final class FakeLayerApi implements LayerApi {
    private final Set<String> active = ConcurrentHashMap.newKeySet();
    private final Map<String, List<String>> prepared = new ConcurrentHashMap<>();

    public Set<String> active() {
        return Set.copyOf(active);
    }

    public Set<String> prepared() {
        return Set.copyOf(prepared.keySet());
    }

    public static String guidOf(String s) {
        return UUID.nameUUIDFromBytes(s.getBytes(StandardCharsets.UTF_8)).toString();
    }

    @Override
    public int importLayer(String layerPath, String sourceFolderPath, String layerData) {
        return HResults.S_OK;
    }

    @Override
    public int initializeWritableLayer(String writableLayerPath, String layerData, String options) {
        return HResults.S_OK;
    }

    @Override
    public int attachLayerStorageFilter(String layerPath, String layerData) {
        return HResults.S_OK;
    }

    @Override
    public int detachLayerStorageFilter(String layerPath) {
        return HResults.S_OK;
    }

    @Override
    public int destroyLayer(String layerPath) {
        return HResults.S_OK;
    }

    @Override
    public int setupBaseOsLayer(String layerPath, long vhdHandle, String options) {
        return HResults.S_OK;
    }

    @Override
    public int activateLayer(String layerPath) {
        return active.add(layerPath) ? HResults.S_OK : HResults.HRESULT_ALREADY_EXISTS;
    }

    @Override
    public int prepareLayer(String layerPath, List<String> parentLayerPaths) {
        if (!active.contains(layerPath)) {
            return HResults.HCS_E_INVALID_LAYER;
        }
        prepared.put(layerPath, List.copyOf(parentLayerPaths));
        return HResults.S_OK;
    }

    @Override
    public Result getLayerMountPath(String layerPath) {
        if (!prepared.containsKey(layerPath)) {
            return new Result(HResults.HCS_E_INVALID_LAYER, null);
        }
        return new Result(HResults.S_OK, "\\\\?\\Volume{" + guidOf(layerPath) + "}");
    }

    @Override
    public int unprepareLayer(String layerPath) {
        return prepared.remove(layerPath) != null ? HResults.S_OK : HResults.HRESULT_NOT_FOUND;
    }

    @Override
    public int deactivateLayer(String layerPath) {
        if (prepared.containsKey(layerPath)) {
            return HResults.HCS_E_INVALID_LAYER;
        }
        return active.remove(layerPath) ? HResults.S_OK : HResults.HRESULT_NOT_FOUND;
    }

    @Override
    public Result nameToGuid(String name) {
        return new Result(HResults.S_OK, guidOf(name));
    }
}
