package dev.berth.hcs.bind;

import java.io.InputStream;
import java.io.OutputStream;

/**
 * The Host Compute Service as computecore.dll exposes it, one method per C function, in plain Java: handles are
 * their pointer values ({@code 0} is none), {@code PCWSTR} arguments are strings, and every function that returns
 * an {@code HRESULT} returns it as an {@code int}. Out parameters come back in small records. The JNA
 * implementation ({@link dev.berth.hcs.bind.jna.JnaHcs}) is the only one that touches a DLL; tests use a fake.
 *
 * <p>The protocol (Microsoft's HCS reference; hcsshim {@code internal/computecore}): a caller creates an
 * operation, passes it to one call, waits for its result and closes it. A wait that times out leaves the call in
 * flight: the caller cancels the operation and waits again before closing it, never abandoning it.
 */
public interface Hcs {
    /** {@code HCS_EVENT_TYPE}s berth reacts to (computecore.h). */
    int EVENT_SYSTEM_EXITED = 0x00000001;
    int EVENT_PROCESS_EXITED = 0x00010000;
    int EVENT_OPERATION_CALLBACK = 0x01000000;
    int EVENT_SERVICE_DISCONNECT = 0x02000000;
    /** {@code HCS_EVENT_OPTIONS}: none. */
    int EVENT_OPTION_NONE = 0;
    /** {@code INFINITE} for a wait. */
    int INFINITE = 0xFFFFFFFF;
    /** {@code GENERIC_ALL}, the access {@code HcsOpenComputeSystem} asks for. */
    int GENERIC_ALL = 0x10000000;

    /** A result document with the {@code HRESULT} of the call that produced it; {@code document} may be null. */
    record Result(int hresult, String document) {}

    /** An out handle with the call's {@code HRESULT}. */
    record HandleResult(int hresult, long handle) {}

    /** {@code HCS_PROCESS_INFORMATION}: the process id and the host ends of its stdio pipes (0 when not asked for). */
    record ProcessInformation(int processId, long stdInput, long stdOutput, long stdError) {}

    /** A result document, the {@code HRESULT} and the process information of a create-process operation. */
    record ProcessResult(int hresult, String document, ProcessInformation info) {}

    /** {@code HCS_EVENT}: its type and its JSON data (may be null). */
    record Event(int type, String data) {}

    /** Receives the events of one compute system or process. Called on an HCS thread: never block in it. */
    @FunctionalInterface
    interface EventListener {
        void onEvent(Event event);
    }

    /** {@code HCS_OPERATION HcsCreateOperation(void* context, HCS_OPERATION_COMPLETION callback)}; 0 on failure. */
    long createOperation();

    /** {@code void HcsCloseOperation(HCS_OPERATION)}. */
    void closeOperation(long operation);

    /** {@code HRESULT HcsWaitForOperationResult(HCS_OPERATION, DWORD timeoutMs, PWSTR* resultDocument)}. */
    Result waitForOperationResult(long operation, int timeoutMs);

    /**
     * {@code HRESULT HcsWaitForOperationResultAndProcessInfo(HCS_OPERATION, DWORD timeoutMs,
     * HCS_PROCESS_INFORMATION*, PWSTR* resultDocument)}.
     */
    ProcessResult waitForOperationResultAndProcessInfo(long operation, int timeoutMs);

    /** {@code HRESULT HcsCancelOperation(HCS_OPERATION)}. */
    int cancelOperation(long operation);

    /**
     * {@code HRESULT HcsCreateComputeSystem(PCWSTR id, PCWSTR configuration, HCS_OPERATION, const
     * SECURITY_DESCRIPTOR*, HCS_SYSTEM*)}.
     */
    HandleResult createComputeSystem(String id, String configuration, long operation);

    /** {@code HRESULT HcsOpenComputeSystem(PCWSTR id, DWORD requestedAccess, HCS_SYSTEM*)}. */
    HandleResult openComputeSystem(String id, int requestedAccess);

    /** {@code void HcsCloseComputeSystem(HCS_SYSTEM)}. */
    void closeComputeSystem(long system);

    /** {@code HRESULT HcsStartComputeSystem(HCS_SYSTEM, HCS_OPERATION, PCWSTR options)}. */
    int startComputeSystem(long system, long operation, String options);

    /** {@code HRESULT HcsShutDownComputeSystem(HCS_SYSTEM, HCS_OPERATION, PCWSTR options)}. */
    int shutDownComputeSystem(long system, long operation, String options);

    /** {@code HRESULT HcsTerminateComputeSystem(HCS_SYSTEM, HCS_OPERATION, PCWSTR options)}. */
    int terminateComputeSystem(long system, long operation, String options);

    /** {@code HRESULT HcsGetComputeSystemProperties(HCS_SYSTEM, HCS_OPERATION, PCWSTR propertyQuery)}. */
    int getComputeSystemProperties(long system, long operation, String propertyQuery);

    /**
     * {@code HRESULT HcsSetComputeSystemCallback(HCS_SYSTEM, HCS_EVENT_OPTIONS, const void* context,
     * HCS_EVENT_CALLBACK)}; a null listener unregisters. The implementation keeps the listener reachable while
     * it is registered.
     */
    int setComputeSystemCallback(long system, EventListener listener);

    /**
     * {@code HRESULT HcsCreateProcess(HCS_SYSTEM, PCWSTR processParameters, HCS_OPERATION, const
     * SECURITY_DESCRIPTOR*, HCS_PROCESS*)}.
     */
    HandleResult createProcess(long system, String processParameters, long operation);

    /** {@code HRESULT HcsOpenProcess(HCS_SYSTEM, DWORD processId, DWORD requestedAccess, HCS_PROCESS*)}. */
    HandleResult openProcess(long system, int processId, int requestedAccess);

    /** {@code HRESULT HcsSignalProcess(HCS_PROCESS, HCS_OPERATION, PCWSTR options)}. */
    int signalProcess(long process, long operation, String options);

    /** {@code HRESULT HcsTerminateProcess(HCS_PROCESS, HCS_OPERATION, PCWSTR options)}. */
    int terminateProcess(long process, long operation, String options);

    /** {@code HRESULT HcsGetProcessInfo(HCS_PROCESS, HCS_OPERATION)}. */
    int getProcessInfo(long process, long operation);

    /** {@code HRESULT HcsSetProcessCallback(HCS_PROCESS, HCS_EVENT_OPTIONS, void* context, HCS_EVENT_CALLBACK)}. */
    int setProcessCallback(long process, EventListener listener);

    /** {@code void HcsCloseProcess(HCS_PROCESS)}. */
    void closeProcess(long process);

    /** Reads from the host end of a stdio pipe; closing the stream closes the handle ({@code ReadFile}). */
    InputStream readPipe(long handle);

    /** Writes to the host end of a stdio pipe; closing the stream closes the handle ({@code WriteFile}). */
    OutputStream writePipe(long handle);
}
