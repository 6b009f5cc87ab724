package dev.berth.hcs;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.hcs.bind.HResults;
import dev.berth.hcs.bind.LayerApi;
import dev.berth.hcs.handle.HcsException;
import dev.berth.hcs.schema.Schema;
import dev.berth.spi.BackendException;
import dev.berth.spi.MountSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A process-isolated container's root: the snapshot core prepared, in the shape containerd's Windows snapshotter
 * gives it (one mount of type {@code windows-layer} whose source is the writable scratch layer and whose option
 * {@code parentLayerPaths=[...]} lists the read-only layers, nearest first), made into a volume the way hcsshim's
 * {@code mountProcessIsolatedWCIFSLayers} does: activate and prepare the scratch layer over its parents, then ask
 * for its mount path ({@code \\?\Volume{GUID}\}).
 */
final class WindowsLayers {
    static final String MOUNT_TYPE = "windows-layer";
    private static final String PARENTS = "parentLayerPaths=";
    private static final ObjectMapper JSON = new ObjectMapper();

    private WindowsLayers() {}

    /** The scratch layer and its parents. */
    record Snapshot(String scratch, List<String> parents) {}

    static Snapshot parse(List<MountSpec> rootfs, String what) {
        if (rootfs.size() != 1 || !MOUNT_TYPE.equals(rootfs.get(0).type())) {
            throw BackendException.invalid(what + ": the root file system must be one mount of type \"" + MOUNT_TYPE
                    + "\" (a Windows snapshot), got " + rootfs.stream().map(MountSpec::type).toList());
        }
        MountSpec m = rootfs.get(0);
        List<String> parents = List.of();
        for (String o : m.options()) {
            if (o.startsWith(PARENTS)) {
                try {
                    parents = JSON.readValue(o.substring(PARENTS.length()), new TypeReference<List<String>>() { });
                } catch (Exception e) {
                    throw BackendException.invalid(what + ": option " + PARENTS + " is not a JSON list of paths");
                }
            }
        }
        if (parents.isEmpty()) {
            throw BackendException.invalid(what + ": the Windows snapshot names no parent layers (" + PARENTS + ")");
        }
        return new Snapshot(m.source(), parents);
    }

    /** Activates and prepares the scratch layer; the storage document. Undoes its own steps on failure. */
    static Schema.Storage mount(LayerApi api, Snapshot s) {
        List<Schema.Layer> layers = new ArrayList<>();
        for (String p : s.parents()) {
            LayerApi.Result id = api.nameToGuid(Path.of(p).getFileName().toString());
            HcsException.check("NameToGuid " + p, id.hresult());
            layers.add(new Schema.Layer(id.value(), p, null));
        }
        HcsException.check("ActivateLayer " + s.scratch(), api.activateLayer(s.scratch()));
        try {
            HcsException.check("PrepareLayer " + s.scratch(), api.prepareLayer(s.scratch(), s.parents()));
            try {
                LayerApi.Result path = api.getLayerMountPath(s.scratch());
                HcsException.check("GetLayerMountPath " + s.scratch(), path.hresult());
                if (path.value() == null || path.value().isEmpty()) {
                    throw new HcsException("GetLayerMountPath " + s.scratch(), HResults.E_FAIL, "no volume path");
                }
                String volume = path.value().endsWith("\\") ? path.value() : path.value() + "\\";
                return new Schema.Storage(List.copyOf(layers), volume);
            } catch (RuntimeException e) {
                api.unprepareLayer(s.scratch());
                throw e;
            }
        } catch (RuntimeException e) {
            api.deactivateLayer(s.scratch());
            throw e;
        }
    }

    /** Unprepares and deactivates the scratch layer; a layer already gone counts as done. Returns the first error. */
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
        return first;
    }
}
