package dev.berth.core.cri.transport;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import com.sun.jna.WString;
import com.sun.jna.platform.win32.WinNT;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.PointerByReference;
import dev.berth.core.cri.transport.windows.Advapi32Sddl;
import dev.berth.core.cri.transport.windows.Kernel32Pipes;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The JNA interfaces of the named pipes against the C prototypes Microsoft documents (Win32 API reference,
 * namedpipeapi.h, fileapi.h, ioapiset.h, synchapi.h, handleapi.h, winbase.h, sddl.h): same exported names, same
 * argument count, and each argument of the kind JNA must pass for that C type. Nothing is loaded: this runs on Linux.
 */
class KernelApiSignatureTest {
    /** A C type's kind as JNA passes it. */
    enum Kind { HANDLE, DWORD, BOOL, WSTR, PTR, OUT_DWORD, OUT_PTR, STRUCT_PTR }

    private static final Map<String, Kind> C_TYPES = Map.ofEntries(
            Map.entry("HANDLE", Kind.HANDLE), Map.entry("DWORD", Kind.DWORD), Map.entry("BOOL", Kind.BOOL),
            Map.entry("LPCWSTR", Kind.WSTR), Map.entry("LPVOID", Kind.PTR), Map.entry("LPCVOID", Kind.PTR),
            Map.entry("LPOVERLAPPED", Kind.PTR), Map.entry("HLOCAL", Kind.PTR), Map.entry("LPDWORD", Kind.OUT_DWORD),
            Map.entry("PULONG", Kind.OUT_DWORD), Map.entry("PSECURITY_DESCRIPTOR*", Kind.OUT_PTR),
            Map.entry("LPSECURITY_ATTRIBUTES", Kind.STRUCT_PTR));

    /** Exported name -> "RETURN(ARG, ...)" as documented. */
    private static final Map<String, String> KERNEL32 = new LinkedHashMap<>();
    private static final Map<String, String> ADVAPI32 = new LinkedHashMap<>();

    static {
        KERNEL32.put("CreateNamedPipeW",
                "HANDLE(LPCWSTR, DWORD, DWORD, DWORD, DWORD, DWORD, DWORD, LPSECURITY_ATTRIBUTES)");
        KERNEL32.put("ConnectNamedPipe", "BOOL(HANDLE, LPOVERLAPPED)");
        KERNEL32.put("CreateFileW", "HANDLE(LPCWSTR, DWORD, DWORD, LPSECURITY_ATTRIBUTES, DWORD, DWORD, HANDLE)");
        KERNEL32.put("WaitNamedPipeW", "BOOL(LPCWSTR, DWORD)");
        KERNEL32.put("ReadFile", "BOOL(HANDLE, LPVOID, DWORD, LPDWORD, LPOVERLAPPED)");
        KERNEL32.put("WriteFile", "BOOL(HANDLE, LPCVOID, DWORD, LPDWORD, LPOVERLAPPED)");
        KERNEL32.put("GetOverlappedResult", "BOOL(HANDLE, LPOVERLAPPED, LPDWORD, BOOL)");
        KERNEL32.put("CancelIoEx", "BOOL(HANDLE, LPOVERLAPPED)");
        KERNEL32.put("CreateEventW", "HANDLE(LPSECURITY_ATTRIBUTES, BOOL, BOOL, LPCWSTR)");
        KERNEL32.put("CloseHandle", "BOOL(HANDLE)");
        KERNEL32.put("LocalFree", "HLOCAL(HLOCAL)");
        ADVAPI32.put("ConvertStringSecurityDescriptorToSecurityDescriptorW",
                "BOOL(LPCWSTR, DWORD, PSECURITY_DESCRIPTOR*, PULONG)");
    }

    @Test
    void kernel32MatchesTheDocumentedPrototypes() {
        check(Kernel32Pipes.class, KERNEL32);
    }

    @Test
    void advapi32MatchesTheDocumentedPrototypes() {
        check(Advapi32Sddl.class, ADVAPI32);
    }

    @Test
    void theKindsAreToldApart() {
        assertThat(kind(WinNT.HANDLE.class)).isEqualTo(Kind.HANDLE);
        assertThat(kind(int.class)).isEqualTo(Kind.DWORD);
        assertThat(kind(Pointer.class)).isEqualTo(Kind.PTR);
        assertThat(kind(String.class)).isNull(); // a Java String would be passed as a narrow char*
        assertThat(kind(long.class)).isNull(); // DWORD is 32 bits
    }

    private static void check(Class<?> library, Map<String, String> documented) {
        List<String> declared = new ArrayList<>();
        for (Method m : library.getDeclaredMethods()) {
            if (Modifier.isStatic(m.getModifiers()) || m.isDefault()) {
                continue;
            }
            declared.add(m.getName());
            String proto = documented.get(m.getName());
            assertThat(proto).as("%s is documented in the table", m.getName()).isNotNull();
            String ret = proto.substring(0, proto.indexOf('('));
            List<Kind> args = Arrays.stream(proto.substring(proto.indexOf('(') + 1, proto.length() - 1).split(","))
                    .map(String::strip).map(t -> {
                        assertThat(C_TYPES).as("C type %s", t).containsKey(t);
                        return C_TYPES.get(t);
                    }).toList();
            assertThat(m.getParameterCount()).as("%s argument count", m.getName()).isEqualTo(args.size());
            for (int i = 0; i < args.size(); i++) {
                assertThat(kind(m.getParameterTypes()[i])).as("%s argument %d", m.getName(), i + 1)
                        .isEqualTo(args.get(i));
            }
            assertThat(kind(m.getReturnType())).as("%s return", m.getName()).isEqualTo(C_TYPES.get(ret));
        }
        assertThat(declared).containsExactlyInAnyOrderElementsOf(documented.keySet());
    }

    private static Kind kind(Class<?> t) {
        if (t == WinNT.HANDLE.class) {
            return Kind.HANDLE;
        }
        if (t == int.class) {
            return Kind.DWORD;
        }
        if (t == boolean.class) {
            return Kind.BOOL;
        }
        if (t == WString.class) {
            return Kind.WSTR;
        }
        if (t == Pointer.class) {
            return Kind.PTR;
        }
        if (t == IntByReference.class) {
            return Kind.OUT_DWORD;
        }
        if (t == PointerByReference.class) {
            return Kind.OUT_PTR;
        }
        if (Structure.class.isAssignableFrom(t) && !Structure.ByValue.class.isAssignableFrom(t)) {
            return Kind.STRUCT_PTR;
        }
        return null;
    }
}
