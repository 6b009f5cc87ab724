package dev.berth.hcs.bind.jna;

import com.sun.jna.Library;
import com.sun.jna.WString;
import com.sun.jna.platform.win32.WinNT.HANDLE;

/** computestorage.dll, the layer functions (Microsoft's HCS API reference, computestorage.h). */
public interface ComputeStorage extends Library {

    int HcsImportLayer(WString layerPath, WString sourceFolderPath, WString layerData);

    int HcsInitializeWritableLayer(WString writableLayerPath, WString layerData, WString options);

    int HcsAttachLayerStorageFilter(WString layerPath, WString layerData);

    int HcsDetachLayerStorageFilter(WString layerPath);

    int HcsDestroyLayer(WString layerPath);

    int HcsSetupBaseOSLayer(WString layerPath, HANDLE vhdHandle, WString options);
}
