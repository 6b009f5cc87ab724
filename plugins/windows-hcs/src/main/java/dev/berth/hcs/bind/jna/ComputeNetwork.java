package dev.berth.hcs.bind.jna;

import com.sun.jna.Library;
import com.sun.jna.WString;
import com.sun.jna.platform.win32.Guid.GUID;
import com.sun.jna.platform.win32.WinNT.HANDLE;
import com.sun.jna.platform.win32.WinNT.HANDLEByReference;
import com.sun.jna.ptr.PointerByReference;

/**
 * computenetwork.dll, the namespace and endpoint functions (Microsoft's HCN API reference, computenetwork.h).
 * {@code REFGUID} is a {@link GUID} passed by reference; error records are out strings freed with
 * {@code LocalFree}.
 */
public interface ComputeNetwork extends Library {

    int HcnCreateNamespace(GUID id, WString settings, HANDLEByReference namespace, PointerByReference errorRecord);

    int HcnOpenNamespace(GUID id, HANDLEByReference namespace, PointerByReference errorRecord);

    int HcnModifyNamespace(HANDLE namespace, WString settings, PointerByReference errorRecord);

    int HcnDeleteNamespace(GUID id, PointerByReference errorRecord);

    int HcnCloseNamespace(HANDLE namespace);

    int HcnCreateEndpoint(HANDLE network, GUID id, WString settings, HANDLEByReference endpoint,
                          PointerByReference errorRecord);

    int HcnOpenEndpoint(GUID id, HANDLEByReference endpoint, PointerByReference errorRecord);

    int HcnModifyEndpoint(HANDLE endpoint, WString settings, PointerByReference errorRecord);

    int HcnDeleteEndpoint(GUID id, PointerByReference errorRecord);

    int HcnCloseEndpoint(HANDLE endpoint);
}
