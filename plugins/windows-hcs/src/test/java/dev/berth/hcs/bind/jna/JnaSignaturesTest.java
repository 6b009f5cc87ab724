package dev.berth.hcs.bind.jna;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.jna.Callback;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import com.sun.jna.WString;
import com.sun.jna.platform.win32.Guid.GUID;
import com.sun.jna.platform.win32.WinNT.HANDLE;
import com.sun.jna.platform.win32.WinNT.HANDLEByReference;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.PointerByReference;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The JNA interfaces against the C prototypes of Microsoft's HCS, HCN and computestorage references (and the
 * vmcompute layer functions as hcsshim's {@code internal/wclayer} declares them), by reflection only: nothing is
 * loaded from a DLL. Each prototype is its name, return kind and argument kinds; every function of the table must
 * be declared, with nothing more.
 */
class JnaSignaturesTest {

    /** The kinds of C arguments and results, as they must appear in Java. */
    enum Kind {
        HRESULT, VOID, HANDLE, PCWSTR, DWORD, PVOID, OUT_HANDLE, OUT_PWSTR, OUT_DWORD, CALLBACK, STRUCT_PTR, GUID, BOOL,
        LONGLONG
    }

    record Proto(Kind result, List<Kind> args) {
        static Proto of(Kind result, Kind... args) {
            return new Proto(result, List.of(args));
        }
    }

    private static final Map<String, Proto> COMPUTECORE = Map.ofEntries(
            // HCS_OPERATION WINAPI HcsCreateOperation(const void* context, HCS_OPERATION_COMPLETION callback)
            Map.entry("HcsCreateOperation", Proto.of(Kind.HANDLE, Kind.PVOID, Kind.CALLBACK)),
            // void WINAPI HcsCloseOperation(HCS_OPERATION operation)
            Map.entry("HcsCloseOperation", Proto.of(Kind.VOID, Kind.HANDLE)),
            // HRESULT WINAPI HcsWaitForOperationResult(HCS_OPERATION, DWORD timeoutMs, PWSTR* resultDocument)
            Map.entry("HcsWaitForOperationResult", Proto.of(Kind.HRESULT, Kind.HANDLE, Kind.DWORD, Kind.OUT_PWSTR)),
            // HRESULT WINAPI HcsWaitForOperationResultAndProcessInfo(HCS_OPERATION, DWORD timeoutMs,
            //     HCS_PROCESS_INFORMATION* processInformation, PWSTR* resultDocument)
            Map.entry("HcsWaitForOperationResultAndProcessInfo",
                    Proto.of(Kind.HRESULT, Kind.HANDLE, Kind.DWORD, Kind.STRUCT_PTR, Kind.OUT_PWSTR)),
            // HRESULT WINAPI HcsCancelOperation(HCS_OPERATION operation)
            Map.entry("HcsCancelOperation", Proto.of(Kind.HRESULT, Kind.HANDLE)),
            // HRESULT WINAPI HcsCreateComputeSystem(PCWSTR id, PCWSTR configuration, HCS_OPERATION operation,
            //     const SECURITY_DESCRIPTOR* securityDescriptor, HCS_SYSTEM* computeSystem)
            Map.entry("HcsCreateComputeSystem",
                    Proto.of(Kind.HRESULT, Kind.PCWSTR, Kind.PCWSTR, Kind.HANDLE, Kind.PVOID, Kind.OUT_HANDLE)),
            // HRESULT WINAPI HcsOpenComputeSystem(PCWSTR id, DWORD requestedAccess, HCS_SYSTEM* computeSystem)
            Map.entry("HcsOpenComputeSystem", Proto.of(Kind.HRESULT, Kind.PCWSTR, Kind.DWORD, Kind.OUT_HANDLE)),
            // void WINAPI HcsCloseComputeSystem(HCS_SYSTEM computeSystem)
            Map.entry("HcsCloseComputeSystem", Proto.of(Kind.VOID, Kind.HANDLE)),
            // HRESULT WINAPI HcsStartComputeSystem(HCS_SYSTEM, HCS_OPERATION, PCWSTR options), and the same shape for
            // HcsShutDownComputeSystem, HcsTerminateComputeSystem and HcsGetComputeSystemProperties(..., propertyQuery)
            Map.entry("HcsStartComputeSystem", Proto.of(Kind.HRESULT, Kind.HANDLE, Kind.HANDLE, Kind.PCWSTR)),
            Map.entry("HcsShutDownComputeSystem", Proto.of(Kind.HRESULT, Kind.HANDLE, Kind.HANDLE, Kind.PCWSTR)),
            Map.entry("HcsTerminateComputeSystem", Proto.of(Kind.HRESULT, Kind.HANDLE, Kind.HANDLE, Kind.PCWSTR)),
            Map.entry("HcsGetComputeSystemProperties", Proto.of(Kind.HRESULT, Kind.HANDLE, Kind.HANDLE, Kind.PCWSTR)),
            // HRESULT WINAPI HcsSetComputeSystemCallback(HCS_SYSTEM, HCS_EVENT_OPTIONS callbackOptions,
            //     const void* context, HCS_EVENT_CALLBACK callback)
            Map.entry("HcsSetComputeSystemCallback",
                    Proto.of(Kind.HRESULT, Kind.HANDLE, Kind.DWORD, Kind.PVOID, Kind.CALLBACK)),
            // HRESULT WINAPI HcsCreateProcess(HCS_SYSTEM, PCWSTR processParameters, HCS_OPERATION,
            //     const SECURITY_DESCRIPTOR* securityDescriptor, HCS_PROCESS* process)
            Map.entry("HcsCreateProcess",
                    Proto.of(Kind.HRESULT, Kind.HANDLE, Kind.PCWSTR, Kind.HANDLE, Kind.PVOID, Kind.OUT_HANDLE)),
            // HRESULT WINAPI HcsOpenProcess(HCS_SYSTEM, DWORD processId, DWORD requestedAccess, HCS_PROCESS* process)
            Map.entry("HcsOpenProcess", Proto.of(Kind.HRESULT, Kind.HANDLE, Kind.DWORD, Kind.DWORD, Kind.OUT_HANDLE)),
            // HRESULT WINAPI HcsSignalProcess(HCS_PROCESS, HCS_OPERATION, PCWSTR options); HcsTerminateProcess alike
            Map.entry("HcsSignalProcess", Proto.of(Kind.HRESULT, Kind.HANDLE, Kind.HANDLE, Kind.PCWSTR)),
            Map.entry("HcsTerminateProcess", Proto.of(Kind.HRESULT, Kind.HANDLE, Kind.HANDLE, Kind.PCWSTR)),
            // HRESULT WINAPI HcsGetProcessInfo(HCS_PROCESS process, HCS_OPERATION operation)
            Map.entry("HcsGetProcessInfo", Proto.of(Kind.HRESULT, Kind.HANDLE, Kind.HANDLE)),
            // HRESULT WINAPI HcsSetProcessCallback(HCS_PROCESS, HCS_EVENT_OPTIONS, void* context, HCS_EVENT_CALLBACK)
            Map.entry("HcsSetProcessCallback",
                    Proto.of(Kind.HRESULT, Kind.HANDLE, Kind.DWORD, Kind.PVOID, Kind.CALLBACK)),
            // void WINAPI HcsCloseProcess(HCS_PROCESS process)
            Map.entry("HcsCloseProcess", Proto.of(Kind.VOID, Kind.HANDLE)));

    private static final Map<String, Proto> COMPUTENETWORK = Map.ofEntries(
            // HRESULT WINAPI HcnCreateNamespace(REFGUID Id, PCWSTR Settings, PHCN_NAMESPACE Namespace,
            //     PWSTR* ErrorRecord)
            Map.entry("HcnCreateNamespace",
                    Proto.of(Kind.HRESULT, Kind.GUID, Kind.PCWSTR, Kind.OUT_HANDLE, Kind.OUT_PWSTR)),
            Map.entry("HcnOpenNamespace", Proto.of(Kind.HRESULT, Kind.GUID, Kind.OUT_HANDLE, Kind.OUT_PWSTR)),
            Map.entry("HcnModifyNamespace", Proto.of(Kind.HRESULT, Kind.HANDLE, Kind.PCWSTR, Kind.OUT_PWSTR)),
            Map.entry("HcnDeleteNamespace", Proto.of(Kind.HRESULT, Kind.GUID, Kind.OUT_PWSTR)),
            Map.entry("HcnCloseNamespace", Proto.of(Kind.HRESULT, Kind.HANDLE)),
            // HRESULT WINAPI HcnCreateEndpoint(HCN_NETWORK Network, REFGUID Id, PCWSTR Settings,
            //     PHCN_ENDPOINT Endpoint, PWSTR* ErrorRecord)
            Map.entry("HcnCreateEndpoint",
                    Proto.of(Kind.HRESULT, Kind.HANDLE, Kind.GUID, Kind.PCWSTR, Kind.OUT_HANDLE, Kind.OUT_PWSTR)),
            Map.entry("HcnOpenEndpoint", Proto.of(Kind.HRESULT, Kind.GUID, Kind.OUT_HANDLE, Kind.OUT_PWSTR)),
            Map.entry("HcnModifyEndpoint", Proto.of(Kind.HRESULT, Kind.HANDLE, Kind.PCWSTR, Kind.OUT_PWSTR)),
            Map.entry("HcnDeleteEndpoint", Proto.of(Kind.HRESULT, Kind.GUID, Kind.OUT_PWSTR)),
            Map.entry("HcnCloseEndpoint", Proto.of(Kind.HRESULT, Kind.HANDLE)));

    private static final Map<String, Proto> COMPUTESTORAGE = Map.ofEntries(
            // HRESULT WINAPI HcsImportLayer(PCWSTR layerPath, PCWSTR sourceFolderPath, PCWSTR layerData)
            Map.entry("HcsImportLayer", Proto.of(Kind.HRESULT, Kind.PCWSTR, Kind.PCWSTR, Kind.PCWSTR)),
            // HRESULT WINAPI HcsInitializeWritableLayer(PCWSTR writableLayerPath, PCWSTR layerData, PCWSTR options)
            Map.entry("HcsInitializeWritableLayer", Proto.of(Kind.HRESULT, Kind.PCWSTR, Kind.PCWSTR, Kind.PCWSTR)),
            // HRESULT WINAPI HcsAttachLayerStorageFilter(PCWSTR layerPath, PCWSTR layerData)
            Map.entry("HcsAttachLayerStorageFilter", Proto.of(Kind.HRESULT, Kind.PCWSTR, Kind.PCWSTR)),
            // HRESULT WINAPI HcsDetachLayerStorageFilter(PCWSTR layerPath)
            Map.entry("HcsDetachLayerStorageFilter", Proto.of(Kind.HRESULT, Kind.PCWSTR)),
            // HRESULT WINAPI HcsDestroyLayer(PCWSTR layerPath)
            Map.entry("HcsDestroyLayer", Proto.of(Kind.HRESULT, Kind.PCWSTR)),
            // HRESULT WINAPI HcsSetupBaseOSLayer(PCWSTR layerPath, HANDLE vhdHandle, PCWSTR options)
            Map.entry("HcsSetupBaseOSLayer", Proto.of(Kind.HRESULT, Kind.PCWSTR, Kind.HANDLE, Kind.PCWSTR)));

    private static final Map<String, Proto> VMCOMPUTE = Map.ofEntries(
            // hcsshim internal/wclayer: activateLayer(info *driverInfo, id string), and alike
            Map.entry("ActivateLayer", Proto.of(Kind.HRESULT, Kind.STRUCT_PTR, Kind.PCWSTR)),
            Map.entry("DeactivateLayer", Proto.of(Kind.HRESULT, Kind.STRUCT_PTR, Kind.PCWSTR)),
            Map.entry("UnprepareLayer", Proto.of(Kind.HRESULT, Kind.STRUCT_PTR, Kind.PCWSTR)),
            // prepareLayer(info *driverInfo, id string, descriptors []WC_LAYER_DESCRIPTOR) -> pointer and count
            Map.entry("PrepareLayer", Proto.of(Kind.HRESULT, Kind.STRUCT_PTR, Kind.PCWSTR, Kind.PVOID, Kind.DWORD)),
            // getLayerMountPath(info *driverInfo, id string, length *uintptr, buffer *uint16)
            Map.entry("GetLayerMountPath",
                    Proto.of(Kind.HRESULT, Kind.STRUCT_PTR, Kind.PCWSTR, Kind.OUT_DWORD, Kind.PVOID)),
            // nameToGuid(name string, guid *_guid)
            Map.entry("NameToGuid", Proto.of(Kind.HRESULT, Kind.PCWSTR, Kind.GUID)),
            // importLayer(info *driverInfo, id string, path string, descriptors []WC_LAYER_DESCRIPTOR)
            Map.entry("ImportLayer",
                    Proto.of(Kind.HRESULT, Kind.STRUCT_PTR, Kind.PCWSTR, Kind.PCWSTR, Kind.PVOID, Kind.DWORD)),
            // processBaseImage(path string), processUtilityImage(path string)
            Map.entry("ProcessBaseImage", Proto.of(Kind.HRESULT, Kind.PCWSTR)),
            Map.entry("ProcessUtilityImage", Proto.of(Kind.HRESULT, Kind.PCWSTR)),
            // createSandboxLayer(info *driverInfo, id string, parent uintptr, descriptors []WC_LAYER_DESCRIPTOR)
            Map.entry("CreateSandboxLayer",
                    Proto.of(Kind.HRESULT, Kind.STRUCT_PTR, Kind.PCWSTR, Kind.PVOID, Kind.PVOID, Kind.DWORD)),
            // destroyLayer(info *driverInfo, id string)
            Map.entry("DestroyLayer", Proto.of(Kind.HRESULT, Kind.STRUCT_PTR, Kind.PCWSTR)));

    private static final Map<String, Proto> KERNEL32 = Map.ofEntries(
            // BOOL CreateProcessW(LPCWSTR lpApplicationName, LPWSTR lpCommandLine,
            //     LPSECURITY_ATTRIBUTES lpProcessAttributes, LPSECURITY_ATTRIBUTES lpThreadAttributes,
            //     BOOL bInheritHandles, DWORD dwCreationFlags, LPVOID lpEnvironment, LPCWSTR lpCurrentDirectory,
            //     LPSTARTUPINFOW lpStartupInfo, LPPROCESS_INFORMATION lpProcessInformation)
            // (the command line is writable: a buffer, not a PCWSTR)
            Map.entry("CreateProcessW", Proto.of(Kind.BOOL, Kind.PCWSTR, Kind.PVOID, Kind.STRUCT_PTR, Kind.STRUCT_PTR,
                    Kind.BOOL, Kind.DWORD, Kind.PVOID, Kind.PCWSTR, Kind.STRUCT_PTR, Kind.STRUCT_PTR)),
            // HANDLE OpenProcess(DWORD dwDesiredAccess, BOOL bInheritHandle, DWORD dwProcessId)
            Map.entry("OpenProcess", Proto.of(Kind.HANDLE, Kind.DWORD, Kind.BOOL, Kind.DWORD)),
            // HANDLE GetCurrentProcess(void)
            Map.entry("GetCurrentProcess", Proto.of(Kind.HANDLE)),
            // BOOL DuplicateHandle(HANDLE hSourceProcessHandle, HANDLE hSourceHandle, HANDLE hTargetProcessHandle,
            //     LPHANDLE lpTargetHandle, DWORD dwDesiredAccess, BOOL bInheritHandle, DWORD dwOptions)
            Map.entry("DuplicateHandle", Proto.of(Kind.BOOL, Kind.HANDLE, Kind.HANDLE, Kind.HANDLE, Kind.OUT_HANDLE,
                    Kind.DWORD, Kind.BOOL, Kind.DWORD)),
            // BOOL CreatePipe(PHANDLE hReadPipe, PHANDLE hWritePipe, LPSECURITY_ATTRIBUTES lpPipeAttributes,
            //     DWORD nSize)
            Map.entry("CreatePipe", Proto.of(Kind.BOOL, Kind.OUT_HANDLE, Kind.OUT_HANDLE, Kind.STRUCT_PTR,
                    Kind.DWORD)),
            // BOOL SetHandleInformation(HANDLE hObject, DWORD dwMask, DWORD dwFlags)
            Map.entry("SetHandleInformation", Proto.of(Kind.BOOL, Kind.HANDLE, Kind.DWORD, Kind.DWORD)),
            // BOOL WriteFile(HANDLE hFile, LPCVOID lpBuffer, DWORD nNumberOfBytesToWrite,
            //     LPDWORD lpNumberOfBytesWritten, LPOVERLAPPED lpOverlapped)
            Map.entry("WriteFile", Proto.of(Kind.BOOL, Kind.HANDLE, Kind.PVOID, Kind.DWORD, Kind.OUT_DWORD,
                    Kind.PVOID)),
            // BOOL TerminateProcess(HANDLE hProcess, UINT uExitCode)
            Map.entry("TerminateProcess", Proto.of(Kind.BOOL, Kind.HANDLE, Kind.DWORD)),
            // BOOL CloseHandle(HANDLE hObject)
            Map.entry("CloseHandle", Proto.of(Kind.BOOL, Kind.HANDLE)));

    private static final Map<String, Proto> KERNEL32_BACKUP = Map.ofEntries(
            // HANDLE CreateFileW(LPCWSTR lpFileName, DWORD dwDesiredAccess, DWORD dwShareMode,
            //     LPSECURITY_ATTRIBUTES lpSecurityAttributes, DWORD dwCreationDisposition,
            //     DWORD dwFlagsAndAttributes, HANDLE hTemplateFile)
            Map.entry("CreateFileW", Proto.of(Kind.HANDLE, Kind.PCWSTR, Kind.DWORD, Kind.DWORD, Kind.STRUCT_PTR,
                    Kind.DWORD, Kind.DWORD, Kind.HANDLE)),
            // BOOL CreateDirectoryW(LPCWSTR lpPathName, LPSECURITY_ATTRIBUTES lpSecurityAttributes)
            Map.entry("CreateDirectoryW", Proto.of(Kind.BOOL, Kind.PCWSTR, Kind.STRUCT_PTR)),
            // BOOL BackupWrite(HANDLE hFile, LPBYTE lpBuffer, DWORD nNumberOfBytesToWrite,
            //     LPDWORD lpNumberOfBytesWritten, BOOL bAbort, BOOL bProcessSecurity, LPVOID *lpContext)
            // (the context is a pointer out and in: PointerByReference, the kind the out strings have too)
            Map.entry("BackupWrite", Proto.of(Kind.BOOL, Kind.HANDLE, Kind.PVOID, Kind.DWORD, Kind.OUT_DWORD,
                    Kind.BOOL, Kind.BOOL, Kind.OUT_PWSTR)),
            // BOOL SetFileInformationByHandle(HANDLE hFile, FILE_INFO_BY_HANDLE_CLASS FileInformationClass,
            //     LPVOID lpFileInformation, DWORD dwBufferSize) (the information is a FILE_BASIC_INFO)
            Map.entry("SetFileInformationByHandle", Proto.of(Kind.BOOL, Kind.HANDLE, Kind.DWORD, Kind.STRUCT_PTR,
                    Kind.DWORD)),
            // BOOL CreateHardLinkW(LPCWSTR lpFileName, LPCWSTR lpExistingFileName,
            //     LPSECURITY_ATTRIBUTES lpSecurityAttributes) (reserved, NULL)
            Map.entry("CreateHardLinkW", Proto.of(Kind.BOOL, Kind.PCWSTR, Kind.PCWSTR, Kind.PVOID)),
            // BOOL CloseHandle(HANDLE hObject)
            Map.entry("CloseHandle", Proto.of(Kind.BOOL, Kind.HANDLE)),
            // HANDLE GetCurrentProcess(void)
            Map.entry("GetCurrentProcess", Proto.of(Kind.HANDLE)));

    private static final Map<String, Proto> ADVAPI32_PRIVILEGES = Map.ofEntries(
            // BOOL OpenProcessToken(HANDLE ProcessHandle, DWORD DesiredAccess, PHANDLE TokenHandle)
            Map.entry("OpenProcessToken", Proto.of(Kind.BOOL, Kind.HANDLE, Kind.DWORD, Kind.OUT_HANDLE)),
            // BOOL LookupPrivilegeValueW(LPCWSTR lpSystemName, LPCWSTR lpName, PLUID lpLuid)
            Map.entry("LookupPrivilegeValueW", Proto.of(Kind.BOOL, Kind.PCWSTR, Kind.PCWSTR, Kind.STRUCT_PTR)),
            // BOOL AdjustTokenPrivileges(HANDLE TokenHandle, BOOL DisableAllPrivileges,
            //     PTOKEN_PRIVILEGES NewState, DWORD BufferLength, PTOKEN_PRIVILEGES PreviousState,
            //     PDWORD ReturnLength) (berth passes no previous state: a plain pointer, NULL)
            Map.entry("AdjustTokenPrivileges", Proto.of(Kind.BOOL, Kind.HANDLE, Kind.BOOL, Kind.STRUCT_PTR,
                    Kind.DWORD, Kind.PVOID, Kind.OUT_DWORD)));

    static Kind kind(Class<?> c, boolean result) {
        if (c == boolean.class) {
            return Kind.BOOL;
        }
        if (c == int.class) {
            return result ? Kind.HRESULT : Kind.DWORD;
        }
        if (c == long.class) {
            return Kind.LONGLONG;
        }
        if (c == void.class) {
            return Kind.VOID;
        }
        if (c == HANDLE.class) {
            return Kind.HANDLE;
        }
        if (c == WString.class) {
            return Kind.PCWSTR;
        }
        if (c == Pointer.class) {
            return Kind.PVOID;
        }
        if (c == HANDLEByReference.class) {
            return Kind.OUT_HANDLE;
        }
        if (c == PointerByReference.class) {
            return Kind.OUT_PWSTR;
        }
        if (c == IntByReference.class) {
            return Kind.OUT_DWORD;
        }
        if (c == GUID.class) {
            return Kind.GUID;
        }
        if (Callback.class.isAssignableFrom(c)) {
            return Kind.CALLBACK;
        }
        if (Structure.class.isAssignableFrom(c)) {
            return Kind.STRUCT_PTR;
        }
        throw new AssertionError("a JNA type berth does not map: " + c.getName());
    }

    static Map<String, Proto> declared(Class<?> library) {
        Map<String, Proto> out = new TreeMap<>();
        for (Method m : library.getDeclaredMethods()) {
            if (Modifier.isStatic(m.getModifiers()) || m.isDefault()) {
                continue;
            }
            out.put(m.getName(), new Proto(kind(m.getReturnType(), true),
                    Arrays.stream(m.getParameterTypes()).map(t -> kind(t, false)).toList()));
        }
        return out;
    }

    @Test
    void computecore() {
        assertThat(declared(ComputeCore.class)).isEqualTo(new TreeMap<>(COMPUTECORE));
    }

    @Test
    void computenetwork() {
        assertThat(declared(ComputeNetwork.class)).isEqualTo(new TreeMap<>(COMPUTENETWORK));
    }

    @Test
    void computestorage() {
        assertThat(declared(ComputeStorage.class)).isEqualTo(new TreeMap<>(COMPUTESTORAGE));
    }

    @Test
    void vmcomputeLayerFunctions() {
        assertThat(declared(Vmcompute.class)).isEqualTo(new TreeMap<>(VMCOMPUTE));
    }

    @Test
    void kernel32ForTheLogRelay() {
        assertThat(declared(Kernel32Relay.class)).isEqualTo(new TreeMap<>(KERNEL32));
    }

    @Test
    void kernel32ForBackupFiles() {
        assertThat(declared(Kernel32Backup.class)).isEqualTo(new TreeMap<>(KERNEL32_BACKUP));
    }

    @Test
    void advapi32ForTheBackupPrivileges() {
        assertThat(declared(Advapi32Privileges.class)).isEqualTo(new TreeMap<>(ADVAPI32_PRIVILEGES));
    }

    @Test
    void fileBasicInfoHasTheDocumentedFieldsAndSize() {
        // FILE_BASIC_INFO { LARGE_INTEGER CreationTime; LARGE_INTEGER LastAccessTime; LARGE_INTEGER LastWriteTime;
        //                   LARGE_INTEGER ChangeTime; DWORD FileAttributes; } : 36 bytes, 40 with its alignment
        assertThat(fields(Kernel32Backup.FileBasicInfo.class)).isEqualTo("CreationTime:LONGLONG "
                + "LastAccessTime:LONGLONG LastWriteTime:LONGLONG ChangeTime:LONGLONG FileAttributes:DWORD");
        assertThat(new Kernel32Backup.FileBasicInfo().size()).isEqualTo(40);
        // TOKEN_PRIVILEGES { DWORD PrivilegeCount; LUID_AND_ATTRIBUTES Privileges[ANYSIZE_ARRAY]; }
        assertThat(List.of(com.sun.jna.platform.win32.WinNT.TOKEN_PRIVILEGES.class
                .getAnnotation(Structure.FieldOrder.class).value()))
                .containsExactly("PrivilegeCount", "Privileges");
    }

    @Test
    void theRelaysStructuresHaveTheDocumentedFieldsInOrder() {
        // SECURITY_ATTRIBUTES { DWORD nLength; LPVOID lpSecurityDescriptor; BOOL bInheritHandle; }
        assertThat(List.of(com.sun.jna.platform.win32.WinBase.SECURITY_ATTRIBUTES.class
                .getAnnotation(Structure.FieldOrder.class).value()))
                .containsExactly("dwLength", "lpSecurityDescriptor", "bInheritHandle");
        // PROCESS_INFORMATION { HANDLE hProcess; HANDLE hThread; DWORD dwProcessId; DWORD dwThreadId; }
        assertThat(List.of(com.sun.jna.platform.win32.WinBase.PROCESS_INFORMATION.class
                .getAnnotation(Structure.FieldOrder.class).value()))
                .containsExactly("hProcess", "hThread", "dwProcessId", "dwThreadId");
        // STARTUPINFOW ends with dwFlags, wShowWindow, cbReserved2, lpReserved2, hStdInput, hStdOutput, hStdError
        assertThat(List.of(com.sun.jna.platform.win32.WinBase.STARTUPINFO.class
                .getAnnotation(Structure.FieldOrder.class).value()))
                .endsWith("dwFlags", "wShowWindow", "cbReserved2", "lpReserved2", "hStdInput", "hStdOutput",
                        "hStdError");
    }

    @Test
    void theRelaysCommandLineSplitsBackIntoItsArguments() {
        // the rules of the C runtime's argv parsing (Microsoft's "Parsing C command-line arguments")
        assertThat(JnaRelayHandOver.quote(List.of("C:\\Program Files\\berth\\java.exe", "-cp", "a.jar;b.jar",
                "--log", "", "--x", "say \"hi\"", "C:\\dir with space\\")))
                .isEqualTo("\"C:\\Program Files\\berth\\java.exe\" -cp a.jar;b.jar --log \"\" --x "
                        + "\"say \\\"hi\\\"\" \"C:\\dir with space\\\\\"");
    }

    @Test
    void callbacksMatchTheirTypedefs() {
        // typedef void (CALLBACK *HCS_OPERATION_COMPLETION)(HCS_OPERATION operation, void* context)
        assertThat(declared(ComputeCore.OperationCompletion.class))
                .isEqualTo(Map.of("invoke", Proto.of(Kind.VOID, Kind.HANDLE, Kind.PVOID)));
        // typedef void (CALLBACK *HCS_EVENT_CALLBACK)(HCS_EVENT* event, void* context)
        assertThat(declared(ComputeCore.EventCallback.class))
                .isEqualTo(Map.of("invoke", Proto.of(Kind.VOID, Kind.STRUCT_PTR, Kind.PVOID)));
    }

    @Test
    void structuresHaveTheDocumentedFieldsInOrder() {
        // HCS_EVENT { HCS_EVENT_TYPE Type; PCWSTR EventData; HCS_OPERATION Operation; }
        assertThat(fields(ComputeCore.HcsEvent.class)).isEqualTo("Type:DWORD EventData:PCWSTR Operation:HANDLE");
        // HCS_PROCESS_INFORMATION { DWORD ProcessId; DWORD Reserved;
        //                           HANDLE StdInput; HANDLE StdOutput; HANDLE StdError; }
        assertThat(fields(ComputeCore.ProcessInformation.class))
                .isEqualTo("ProcessId:DWORD Reserved:DWORD StdInput:HANDLE StdOutput:HANDLE StdError:HANDLE");
    }

    private static String fields(Class<? extends Structure> s) {
        List<String> order = List.of(s.getAnnotation(Structure.FieldOrder.class).value());
        return order.stream().map(n -> {
            try {
                return n + ":" + kind(s.getField(n).getType(), false);
            } catch (NoSuchFieldException e) {
                throw new AssertionError(e);
            }
        }).collect(Collectors.joining(" "));
    }
}
