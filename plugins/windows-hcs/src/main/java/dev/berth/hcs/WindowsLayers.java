package dev.berth.hcs;

import dev.berth.hcs.bind.HResults;
import dev.berth.hcs.bind.LayerApi;
import dev.berth.hcs.handle.HcsException;
import dev.berth.hcs.layer.LayerStore;
import dev.berth.hcs.schema.Schema;
import dev.berth.spi.BackendException;
import dev.berth.spi.MountSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A process-isolated container's root file system, as core hands it over for a Windows image
 * ({@code core/image/WindowsLayers}): one {@code windows-layer} entry per layer blob, base layer first (source the
 * blob, options {@code digest=}, {@code diffid=}, {@code mediatype=}), then one {@code windows-scratch} entry (an empty
 * directory private to the container). The layers are imported into the backend's {@link LayerStore}; the scratch
 * directory becomes the container's writable layer over them, in the order hcsshim's {@code wclayer} uses:
 * {@code CreateSandboxLayer}, then {@code ActivateLayer}, {@code PrepareLayer} and {@code GetLayerMountPath}
 * (a volume path, {@code \\?\Volume{GUID}\}); undone by {@code UnprepareLayer}, {@code DeactivateLayer} and
 * {@code DestroyLayer}.
 */
final class WindowsLayers {
    static final String LAYER = "windows-layer";
    static final String SCRATCH = "windows-scratch";
    private static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");

    private WindowsLayers() {}

    /** One layer as core pulled it: the blob (read-only to the backend), its digest, diff id and media type. */
    record Layer(String blob, String digest, String diffId, String mediaType) {}

    /** The layers, base first, and the container's scratch directory. */
    record Rootfs(List<Layer> layers, String scratch) {}

    /** Core's Windows rootfs, or INVALID_ARGUMENT naming what is wrong with it. */
    static Rootfs parse(List<MountSpec> rootfs, String what) {
        if (rootfs.isEmpty() || !SCRATCH.equals(rootfs.getLast().type())) {
            throw BackendException.invalid(what + ": the root file system must be a Windows image's layers (\"" + LAYER
                    + "\", base first) and a \"" + SCRATCH + "\" directory, got "
                    + rootfs.stream().map(MountSpec::type).toList());
        }
        List<Layer> layers = new ArrayList<>();
        for (MountSpec m : rootfs.subList(0, rootfs.size() - 1)) {
            if (!LAYER.equals(m.type())) {
                throw BackendException.invalid(what + ": a Windows root file system holds only \"" + LAYER
                        + "\" entries before its \"" + SCRATCH + "\", got \"" + m.type() + "\"");
            }
            String diffId = option(m, "diffid");
            if (!DIGEST.matcher(diffId).matches()) {
                throw BackendException.invalid(what + ": layer " + m.source() + " has no sha256 diff id (diffid=)");
            }
            if (m.source().isEmpty()) {
                throw BackendException.invalid(what + ": layer " + diffId + " names no blob");
            }
            layers.add(new Layer(m.source(), option(m, "digest"), diffId, option(m, "mediatype")));
        }
        if (layers.isEmpty()) {
            throw BackendException.invalid(what + ": the Windows root file system has no layers");
        }
        String scratch = rootfs.getLast().source();
        if (scratch.isEmpty()) {
            throw BackendException.invalid(what + ": the \"" + SCRATCH + "\" entry names no directory");
        }
        return new Rootfs(List.copyOf(layers), scratch);
    }

    private static String option(MountSpec m, String key) {
        return m.options().stream().filter(o -> o.startsWith(key + "=")).map(o -> o.substring(key.length() + 1))
                .findFirst().orElse("");
    }

    /**
     * The container's storage: its image's layers imported (or reused) for {@code owner}, and its scratch layer
     * mounted over them. On failure the owner uses no layer.
     */
    static Schema.Storage prepare(LayerStore store, LayerApi api, String owner, Rootfs rootfs) {
        List<String> parents = store.acquire(owner, rootfs.layers().stream()
                .map(l -> new LayerStore.Source(Path.of(l.blob()), l.diffId())).toList());
        try {
            return mount(api, rootfs.scratch(), parents);
        } catch (RuntimeException e) {
            store.release(owner);
            throw e;
        }
    }

    /**
     * Undoes {@link #prepare}: the scratch layer is unmounted and destroyed, then {@code owner} gives up its layers.
     * An error of the scratch layer is returned and the layers are kept (the scratch may still be over them).
     */
    static HcsException release(LayerStore store, LayerApi api, String owner, String scratch) {
        HcsException e = unmount(api, scratch);
        if (e == null) {
            store.release(owner);
        }
        return e;
    }

    /**
     * Creates the scratch layer over {@code parents} (nearest first), activates and prepares it; the storage document.
     * Undoes its own steps on failure.
     */
    static Schema.Storage mount(LayerApi api, String scratch, List<String> parents) {
        List<Schema.Layer> layers = new ArrayList<>();
        for (String p : parents) {
            LayerApi.Result id = api.nameToGuid(Path.of(p).getFileName().toString());
            HcsException.check("NameToGuid " + p, id.hresult());
            layers.add(new Schema.Layer(id.value(), p, null));
        }
        HcsException.check("CreateSandboxLayer " + scratch, api.createSandboxLayer(scratch, parents));
        try {
            HcsException.check("ActivateLayer " + scratch, api.activateLayer(scratch));
            try {
                HcsException.check("PrepareLayer " + scratch, api.prepareLayer(scratch, parents));
                try {
                    LayerApi.Result path = api.getLayerMountPath(scratch);
                    HcsException.check("GetLayerMountPath " + scratch, path.hresult());
                    if (path.value() == null || path.value().isEmpty()) {
                        throw new HcsException("GetLayerMountPath " + scratch, HResults.E_FAIL, "no volume path");
                    }
                    String volume = path.value().endsWith("\\") ? path.value() : path.value() + "\\";
                    return new Schema.Storage(List.copyOf(layers), volume);
                } catch (RuntimeException e) {
                    api.unprepareLayer(scratch);
                    throw e;
                }
            } catch (RuntimeException e) {
                api.deactivateLayer(scratch);
                throw e;
            }
        } catch (RuntimeException e) {
            api.destroyLayer(scratch);
            throw e;
        }
    }

    /**
     * Unprepares, deactivates and destroys the scratch layer; a step already done counts as done. Returns the first
     * error.
     */
    static HcsException unmount(LayerApi api, String scratch) {
        HcsException first = null;
        int hr = api.unprepareLayer(scratch);
        if (HResults.failed(hr) && HcsException.kindOf(hr) != BackendException.Kind.NOT_FOUND) {
            first = new HcsException("UnprepareLayer " + scratch, hr, null);
        }
        hr = api.deactivateLayer(scratch);
        if (HResults.failed(hr) && HcsException.kindOf(hr) != BackendException.Kind.NOT_FOUND && first == null) {
            first = new HcsException("DeactivateLayer " + scratch, hr, null);
        }
        if (first == null) {
            hr = api.destroyLayer(scratch);
            if (HResults.failed(hr) && HcsException.kindOf(hr) != BackendException.Kind.NOT_FOUND) {
                first = new HcsException("DestroyLayer " + scratch, hr, null);
            }
        }
        return first;
    }
}
