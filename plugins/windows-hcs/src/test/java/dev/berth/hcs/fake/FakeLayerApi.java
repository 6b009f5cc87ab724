package dev.berth.hcs.fake;

import dev.berth.hcs.bind.HResults;
import dev.berth.hcs.bind.LayerApi;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The layer API in memory, recording every call ({@link #calls()}, one line each: the function and its arguments)
 * and checking the order the layer functions need: a base layer is processed in its folder, any other layer is
 * imported from a folder that holds its files over parents that are themselves layers, a scratch layer is created
 * over layers before it is activated, activation and preparation are undone in reverse, and a layer destroyed is
 * gone with its folder. A call can be made to fail once ({@link #failNext}). Breaches are in {@link #violations()}.
 */
public final class FakeLayerApi implements LayerApi {
    private final Set<String> layers = ConcurrentHashMap.newKeySet();
    private final Set<String> active = ConcurrentHashMap.newKeySet();
    private final Map<String, List<String>> prepared = new ConcurrentHashMap<>();
    private final List<String> calls = new ArrayList<>();
    private final List<String> violations = new ArrayList<>();
    private final Map<String, Integer> failures = new ConcurrentHashMap<>();

    public Set<String> active() {
        return Set.copyOf(active);
    }

    public Set<String> prepared() {
        return Set.copyOf(prepared.keySet());
    }

    /** The layers that exist: imported, processed or created, and not destroyed. */
    public Set<String> layers() {
        return Set.copyOf(layers);
    }

    public synchronized List<String> calls() {
        return List.copyOf(calls);
    }

    public synchronized void clearCalls() {
        calls.clear();
    }

    public synchronized List<String> violations() {
        return List.copyOf(violations);
    }

    /** The next call of {@code function} (e.g. {@code "ImportLayer"}) fails with {@code hresult}. */
    public void failNext(String function, int hresult) {
        failures.put(function, hresult);
    }

    public static String guidOf(String s) {
        return UUID.nameUUIDFromBytes(s.getBytes(StandardCharsets.UTF_8)).toString();
    }

    private synchronized Integer call(String function, Object... args) {
        StringBuilder sb = new StringBuilder(function);
        for (Object a : args) {
            sb.append(' ').append(a);
        }
        calls.add(sb.toString());
        return failures.remove(function);
    }

    private synchronized int breach(String what) {
        violations.add(what);
        return HResults.HCS_E_INVALID_LAYER;
    }

    private boolean parentsAreLayers(String function, List<String> parents) {
        for (String p : parents) {
            if (!layers.contains(p)) {
                breach(function + ": parent " + p + " is not a layer");
                return false;
            }
        }
        return true;
    }

    private static boolean hasFiles(Path folder) {
        try (Stream<Path> s = Files.list(folder)) {
            return s.findAny().isPresent();
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public int importLayer(String layerPath, String importFolderPath, List<String> parentLayerPaths) {
        Integer f = call("ImportLayer", layerPath, importFolderPath, parentLayerPaths);
        if (f != null) {
            return f;
        }
        if (parentLayerPaths.isEmpty()) {
            return breach("ImportLayer " + layerPath + " with no parents: a base layer is processed, not imported");
        }
        if (!parentsAreLayers("ImportLayer", parentLayerPaths)) {
            return HResults.HCS_E_INVALID_LAYER;
        }
        if (!Files.isDirectory(Path.of(importFolderPath)) || !hasFiles(Path.of(importFolderPath))) {
            return breach("ImportLayer " + layerPath + ": the import folder " + importFolderPath + " holds nothing");
        }
        try {
            Files.createDirectories(Path.of(layerPath));
            // ImportLayer fills the layer from the import folder; the fake copies the files as they are
            Path from = Path.of(importFolderPath);
            try (var walk = Files.walk(from)) {
                for (Path p : (Iterable<Path>) walk::iterator) {
                    Path to = Path.of(layerPath).resolve(from.relativize(p).toString());
                    if (Files.isDirectory(p)) {
                        Files.createDirectories(to);
                    } else {
                        Files.copy(p, to, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
            Files.writeString(Path.of(layerPath).resolve("layer.fake"), "imported over " + parentLayerPaths);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        layers.add(layerPath);
        return HResults.S_OK;
    }

    @Override
    public int processBaseImage(String layerPath) {
        Integer f = call("ProcessBaseImage", layerPath);
        if (f != null) {
            return f;
        }
        if (!Files.isDirectory(Path.of(layerPath)) || !hasFiles(Path.of(layerPath))) {
            return breach("ProcessBaseImage " + layerPath + ": the folder holds no layer files");
        }
        layers.add(layerPath);
        return HResults.S_OK;
    }

    @Override
    public int processUtilityImage(String utilityVmPath) {
        Integer f = call("ProcessUtilityImage", utilityVmPath);
        return f != null ? f : HResults.S_OK;
    }

    @Override
    public int createSandboxLayer(String layerPath, List<String> parentLayerPaths) {
        Integer f = call("CreateSandboxLayer", layerPath, parentLayerPaths);
        if (f != null) {
            return f;
        }
        if (parentLayerPaths.isEmpty() || !parentsAreLayers("CreateSandboxLayer", parentLayerPaths)) {
            return HResults.HCS_E_INVALID_LAYER;
        }
        if (!layers.add(layerPath)) {
            return HResults.HRESULT_ALREADY_EXISTS;
        }
        try {
            Files.createDirectories(Path.of(layerPath));
            Files.writeString(Path.of(layerPath).resolve("sandbox.vhdx"), "");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return HResults.S_OK;
    }

    @Override
    public int destroyLayer(String layerPath) {
        Integer f = call("DestroyLayer", layerPath);
        if (f != null) {
            return f;
        }
        if (active.contains(layerPath)) {
            return breach("DestroyLayer " + layerPath + " while it is active");
        }
        boolean existed = layers.remove(layerPath);
        Path dir = Path.of(layerPath);
        if (Files.exists(dir)) {
            existed = true;
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return existed ? HResults.S_OK : HResults.HRESULT_NOT_FOUND;
    }

    @Override
    public int hcsImportLayer(String layerPath, String sourceFolderPath, String layerData) {
        call("HcsImportLayer", layerPath, sourceFolderPath);
        return HResults.S_OK;
    }

    @Override
    public int hcsInitializeWritableLayer(String writableLayerPath, String layerData, String options) {
        call("HcsInitializeWritableLayer", writableLayerPath);
        return HResults.S_OK;
    }

    @Override
    public int hcsAttachLayerStorageFilter(String layerPath, String layerData) {
        call("HcsAttachLayerStorageFilter", layerPath);
        return HResults.S_OK;
    }

    @Override
    public int hcsDetachLayerStorageFilter(String layerPath) {
        call("HcsDetachLayerStorageFilter", layerPath);
        return HResults.S_OK;
    }

    @Override
    public int hcsDestroyLayer(String layerPath) {
        call("HcsDestroyLayer", layerPath);
        return HResults.S_OK;
    }

    @Override
    public int hcsSetupBaseOsLayer(String layerPath, long vhdHandle, String options) {
        call("HcsSetupBaseOSLayer", layerPath);
        return HResults.S_OK;
    }

    @Override
    public int activateLayer(String layerPath) {
        Integer f = call("ActivateLayer", layerPath);
        if (f != null) {
            return f;
        }
        if (!layers.contains(layerPath)) {
            return breach("ActivateLayer " + layerPath + ": no such layer (CreateSandboxLayer first)");
        }
        return active.add(layerPath) ? HResults.S_OK : HResults.HRESULT_ALREADY_EXISTS;
    }

    @Override
    public int prepareLayer(String layerPath, List<String> parentLayerPaths) {
        Integer f = call("PrepareLayer", layerPath, parentLayerPaths);
        if (f != null) {
            return f;
        }
        if (!active.contains(layerPath)) {
            return HResults.HCS_E_INVALID_LAYER;
        }
        if (!parentsAreLayers("PrepareLayer", parentLayerPaths)) {
            return HResults.HCS_E_INVALID_LAYER;
        }
        prepared.put(layerPath, List.copyOf(parentLayerPaths));
        return HResults.S_OK;
    }

    @Override
    public Result getLayerMountPath(String layerPath) {
        Integer f = call("GetLayerMountPath", layerPath);
        if (f != null) {
            return new Result(f, null);
        }
        if (!prepared.containsKey(layerPath)) {
            return new Result(HResults.HCS_E_INVALID_LAYER, null);
        }
        String name = Path.of(layerPath).getFileName().toString();
        return new Result(HResults.S_OK, "\\\\?\\Volume{" + guidOf(name) + "}");
    }

    @Override
    public int unprepareLayer(String layerPath) {
        Integer f = call("UnprepareLayer", layerPath);
        if (f != null) {
            return f;
        }
        return prepared.remove(layerPath) != null ? HResults.S_OK : HResults.HRESULT_NOT_FOUND;
    }

    @Override
    public int deactivateLayer(String layerPath) {
        Integer f = call("DeactivateLayer", layerPath);
        if (f != null) {
            return f;
        }
        if (prepared.containsKey(layerPath)) {
            return HResults.HCS_E_INVALID_LAYER;
        }
        return active.remove(layerPath) ? HResults.S_OK : HResults.HRESULT_NOT_FOUND;
    }

    @Override
    public Result nameToGuid(String name) {
        call("NameToGuid", name);
        return new Result(HResults.S_OK, guidOf(name));
    }
}
