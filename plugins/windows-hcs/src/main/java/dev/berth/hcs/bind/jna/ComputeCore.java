package dev.berth.hcs.bind.jna;

import com.sun.jna.Library;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import com.sun.jna.WString;
import com.sun.jna.platform.win32.WinNT.HANDLE;
import com.sun.jna.platform.win32.WinNT.HANDLEByReference;
import com.sun.jna.ptr.PointerByReference;
import com.sun.jna.win32.StdCallLibrary;

/**
 * computecore.dll, the functions berth calls, as documented in Microsoft's HCS API reference (computecore.h).
 * HRESULTs are {@code int}, DWORDs {@code int}, handles {@link HANDLE}, {@code PCWSTR} {@link WString}, out
 * strings {@link PointerByReference} (freed with {@code LocalFree}). Checked against a table of the C prototypes
 * by {@code JnaSignaturesTest}. Loaded only on Windows, by {@link JnaBindings}.
 */
public interface ComputeCore extends Library {

    /** {@code typedef void (CALLBACK *HCS_OPERATION_COMPLETION)(HCS_OPERATION operation, void* context)}. */
    interface OperationCompletion extends StdCallLibrary.StdCallCallback {
        void invoke(HANDLE operation, Pointer context);
    }

    /** {@code typedef void (CALLBACK *HCS_EVENT_CALLBACK)(HCS_EVENT* event, void* context)}. */
    interface EventCallback extends StdCallLibrary.StdCallCallback {
        void invoke(HcsEvent event, Pointer context);
    }

    /** {@code HCS_EVENT { HCS_EVENT_TYPE Type; PCWSTR EventData; HCS_OPERATION Operation; }}. */
    @Structure.FieldOrder({"Type", "EventData", "Operation"})
    class HcsEvent extends Structure {
        public int Type;
        public WString EventData;
        public HANDLE Operation;

        public HcsEvent() {
        }

        public HcsEvent(Pointer p) {
            super(p);
            read();
        }
    }

    /** {@code HCS_PROCESS_INFORMATION { DWORD ProcessId; DWORD Reserved; HANDLE StdInput, StdOutput, StdError; }}. */
    @Structure.FieldOrder({"ProcessId", "Reserved", "StdInput", "StdOutput", "StdError"})
    class ProcessInformation extends Structure {
        public int ProcessId;
        public int Reserved;
        public HANDLE StdInput;
        public HANDLE StdOutput;
        public HANDLE StdError;
    }

    HANDLE HcsCreateOperation(Pointer context, OperationCompletion callback);

    void HcsCloseOperation(HANDLE operation);

    int HcsWaitForOperationResult(HANDLE operation, int timeoutMs, PointerByReference resultDocument);

    int HcsWaitForOperationResultAndProcessInfo(HANDLE operation, int timeoutMs, ProcessInformation processInformation,
                                                PointerByReference resultDocument);

    int HcsCancelOperation(HANDLE operation);

    int HcsCreateComputeSystem(WString id, WString configuration, HANDLE operation, Pointer securityDescriptor,
                               HANDLEByReference computeSystem);

    int HcsOpenComputeSystem(WString id, int requestedAccess, HANDLEByReference computeSystem);

    void HcsCloseComputeSystem(HANDLE computeSystem);

    int HcsStartComputeSystem(HANDLE computeSystem, HANDLE operation, WString options);

    int HcsShutDownComputeSystem(HANDLE computeSystem, HANDLE operation, WString options);

    int HcsTerminateComputeSystem(HANDLE computeSystem, HANDLE operation, WString options);

    int HcsGetComputeSystemProperties(HANDLE computeSystem, HANDLE operation, WString propertyQuery);

    int HcsSetComputeSystemCallback(HANDLE computeSystem, int callbackOptions, Pointer context, EventCallback callback);

    int HcsCreateProcess(HANDLE computeSystem, WString processParameters, HANDLE operation, Pointer securityDescriptor,
                         HANDLEByReference process);

    int HcsOpenProcess(HANDLE computeSystem, int processId, int requestedAccess, HANDLEByReference process);

    int HcsSignalProcess(HANDLE process, HANDLE operation, WString options);

    int HcsTerminateProcess(HANDLE process, HANDLE operation, WString options);

    int HcsGetProcessInfo(HANDLE process, HANDLE operation);

    int HcsSetProcessCallback(HANDLE process, int callbackOptions, Pointer context, EventCallback callback);

    void HcsCloseProcess(HANDLE process);
}
