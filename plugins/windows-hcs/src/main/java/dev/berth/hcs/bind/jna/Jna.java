package dev.berth.hcs.bind.jna;

import com.sun.jna.Pointer;
import com.sun.jna.WString;
import com.sun.jna.platform.win32.Guid.GUID;
import com.sun.jna.platform.win32.Kernel32;
import com.sun.jna.platform.win32.WinNT.HANDLE;
import com.sun.jna.ptr.PointerByReference;

/** Conversions shared by the JNA implementations. */
final class Jna {
    private Jna() {}

    static HANDLE handle(long value) {
        return value == 0 ? null : new HANDLE(new Pointer(value));
    }

    static long value(HANDLE h) {
        return h == null || h.getPointer() == null ? 0 : Pointer.nativeValue(h.getPointer());
    }

    /** Reads an out {@code PWSTR} and frees it with {@code LocalFree}, as the HCS and HCN APIs require. */
    static String takeString(PointerByReference ref) {
        Pointer p = ref.getValue();
        if (p == null) {
            return null;
        }
        try {
            return p.getWideString(0);
        } finally {
            Kernel32.INSTANCE.LocalFree(p);
        }
    }

    /** A {@code PCWSTR} argument; null stays null. */
    static WString w(String s) {
        return s == null ? null : new WString(s);
    }

    static GUID guid(String id) {
        return GUID.fromString("{" + id + "}");
    }
}
