package dev.berth.hcs.fake;

import dev.berth.hcs.bind.HResults;
import dev.berth.hcs.bind.Hcs;
import dev.berth.hcs.schema.HcsJson;
import dev.berth.hcs.schema.Schema;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A recording fake of computecore.dll that replays the HCS call protocol: operations are created, used by one
 * call, waited for and closed; a call's outcome arrives through the wait; events (SystemExited, ProcessExited,
 * ServiceDisconnect) reach the registered callbacks on a thread of their own, as HCS delivers them on its
 * threads. It records every call ({@link #calls()}) and every breach of the protocol ({@link #violations()}).
 *
 * <p>Its "guest" understands three command lines: {@code cmd /c echo TEXT} prints TEXT and a newline and exits 0,
 * {@code cmd /c exit N} exits N, anything else runs until it is signalled or terminated. CtrlShutdown ends a
 * process with exit code 0 unless {@link #ignoreCtrlShutdown} is set; termination ends it with exit code 1.
 */
public final class FakeHcs implements Hcs {
    private final ReentrantLock lock = new ReentrantLock();
    private final List<String> calls = Collections.synchronizedList(new ArrayList<>());
    private final List<String> violations = Collections.synchronizedList(new ArrayList<>());
    private final AtomicLong handles = new AtomicLong(0x1000);
    private final AtomicLong pids = new AtomicLong(100);
    private final ExecutorService events = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "fake-hcs-callbacks");
        t.setDaemon(true);
        return t;
    });

    private final Map<Long, Op> ops = new HashMap<>();
    private final Map<String, Sys> systems = new LinkedHashMap<>();
    private final Map<Long, Sys> systemHandles = new HashMap<>();
    private final Map<Long, Proc> processHandles = new HashMap<>();
    private final Map<Long, FakePipe> pipes = new HashMap<>();
    private final Map<Long, EventListener> callbacks = new HashMap<>();
    /** Call name to the HRESULT its next wait returns instead of the real outcome (once). */
    private final Map<String, Integer> failNext = new HashMap<>();
    /** Call names whose next wait times out; the wait after a cancel reports the cancellation. */
    private final Map<String, Boolean> timeoutNext = new HashMap<>();

    /** Processes ignore CtrlShutdown, so that a stop has to terminate them. */
    public volatile boolean ignoreCtrlShutdown;
    /** HcsShutDownComputeSystem succeeds but the system never exits, so that it has to be terminated. */
    public volatile boolean shutdownHangs;
    /** HcsSignalProcess fails with ERROR_NOT_SUPPORTED, as on builds before RS5. */
    public volatile boolean signalsUnsupported;
    /** The statistics every system reports. */
    public volatile Schema.Statistics statistics = new Schema.Statistics("2026-01-01T00:00:00Z", null, 5_000_000L,
            new Schema.ProcessorStats(1_500_000L, 1_000_000L, 500_000L), new Schema.MemoryStats(40L << 20, 50L << 20,
            30L << 20), null);

    private static final class Op {
        final long handle;
        String call;
        int outcome;
        String document;
        Hcs.ProcessInformation info;
        boolean timedOut;
        boolean cancelled;
        boolean settled;
        boolean closed;
        Runnable onSuccess;

        Op(long handle) {
            this.handle = handle;
        }
    }

    /** One compute system, shared by every handle opened to it. */
    public static final class Sys {
        public final String id;
        public final String configuration;
        public volatile String state = "Created";
        final List<Long> handles = new ArrayList<>();
        final List<Proc> processes = new ArrayList<>();

        Sys(String id, String configuration) {
            this.id = id;
            this.configuration = configuration;
        }
    }

    /** One process. */
    public static final class Proc {
        public final int pid;
        public final Sys system;
        public final String parameters;
        final List<Long> handles = new ArrayList<>();
        final FakePipe stdout = new FakePipe();
        final FakePipe stderr = new FakePipe();
        final java.util.concurrent.CompletableFuture<Integer> exited = new java.util.concurrent.CompletableFuture<>();
        public volatile Integer exitCode;

        Proc(int pid, Sys system, String parameters) {
            this.pid = pid;
            this.system = system;
            this.parameters = parameters;
        }
    }

    // ---- scripting and inspection

    public List<String> calls() {
        synchronized (calls) {
            return List.copyOf(calls);
        }
    }

    /** Only the names of the calls, in order. */
    public List<String> callNames() {
        return calls().stream().map(c -> c.split(" ", 2)[0]).toList();
    }

    public void clearCalls() {
        calls.clear();
    }

    public List<String> violations() {
        synchronized (violations) {
            List<String> v = new ArrayList<>(violations);
            lock.lock();
            try {
                for (Op op : ops.values()) {
                    if (!op.closed) {
                        v.add("operation " + op.handle + " (" + op.call + ") was never closed");
                    }
                }
            } finally {
                lock.unlock();
            }
            return v;
        }
    }

    public void failNext(String call, int hresult) {
        lock.lock();
        try {
            failNext.put(call, hresult);
        } finally {
            lock.unlock();
        }
    }

    public void timeoutNext(String call) {
        lock.lock();
        try {
            timeoutNext.put(call, true);
        } finally {
            lock.unlock();
        }
    }

    public Sys system(String id) {
        lock.lock();
        try {
            return systems.get(id);
        } finally {
            lock.unlock();
        }
    }

    public List<String> systemIds() {
        lock.lock();
        try {
            return List.copyOf(systems.keySet());
        } finally {
            lock.unlock();
        }
    }

    /** The parameters of every process created in system {@code id}, in order. */
    public List<String> processParameters(String id) {
        lock.lock();
        try {
            Sys s = systems.get(id);
            return s == null ? List.of() : s.processes.stream().map(p -> p.parameters).toList();
        } finally {
            lock.unlock();
        }
    }

    /** The exit codes of the processes of system {@code id}, in order (null: still running). */
    public List<Integer> exitCodes(String id) {
        lock.lock();
        try {
            Sys s = systems.get(id);
            return s == null ? List.of() : s.processes.stream().map(p -> p.exitCode).toList();
        } finally {
            lock.unlock();
        }
    }

    /** Host ends of stdio pipes that nobody read, handed over or closed. */
    public int openPipes() {
        lock.lock();
        try {
            return pipes.size();
        } finally {
            lock.unlock();
        }
    }

    /** Closes the host end of a pipe ({@code CloseHandle}), as a hand-over that failed does. */
    public void closePipe(long handle) {
        lock.lock();
        try {
            pipes.remove(handle);
        } finally {
            lock.unlock();
        }
    }

    /** Handles of systems and processes not closed yet. */
    public int openHandles() {
        lock.lock();
        try {
            return systemHandles.size() + processHandles.size();
        } finally {
            lock.unlock();
        }
    }

    public int registeredCallbacks() {
        lock.lock();
        try {
            return callbacks.size();
        } finally {
            lock.unlock();
        }
    }

    /** Ends process {@code pid} on its own with {@code code}, as if it had exited. */
    public void exitProcess(int pid, int code) {
        lock.lock();
        try {
            for (Sys s : systems.values()) {
                for (Proc p : s.processes) {
                    if (p.pid == pid) {
                        exit(p, code);
                    }
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** The service goes away: every registered callback gets ServiceDisconnect. */
    public void disconnect() {
        lock.lock();
        try {
            for (var e : callbacks.entrySet()) {
                EventListener l = e.getValue();
                events.execute(() -> l.onEvent(new Event(EVENT_SERVICE_DISCONNECT, null)));
            }
        } finally {
            lock.unlock();
        }
    }

    /** Waits until every event delivered so far reached its callback. */
    public void drainEvents() throws InterruptedException {
        var done = new java.util.concurrent.CountDownLatch(1);
        events.execute(done::countDown);
        done.await(10, TimeUnit.SECONDS);
    }

    // ---- operations

    private Op op(long handle, String call) {
        Op op = ops.get(handle);
        if (op == null) {
            violations.add(call + " used operation " + handle + ", which HcsCreateOperation never returned");
            return null;
        }
        if (op.closed) {
            violations.add(call + " used operation " + handle + " after HcsCloseOperation");
        }
        if (op.call != null) {
            violations.add(call + " reused operation " + handle + " of " + op.call);
        }
        op.call = call;
        return op;
    }

    private void complete(Op op, int hr, String doc, Runnable onSuccess) {
        Integer forced = failNext.remove(op.call);
        op.outcome = forced != null ? forced : hr;
        op.document = doc;
        op.onSuccess = forced != null ? null : onSuccess;
        op.timedOut = timeoutNext.remove(op.call) != null;
    }

    @Override
    public long createOperation() {
        lock.lock();
        try {
            long h = handles.incrementAndGet();
            ops.put(h, new Op(h));
            calls.add("HcsCreateOperation " + h);
            return h;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void closeOperation(long operation) {
        lock.lock();
        try {
            calls.add("HcsCloseOperation " + operation);
            Op op = ops.get(operation);
            if (op == null) {
                violations.add("HcsCloseOperation of unknown operation " + operation);
                return;
            }
            if (op.closed) {
                violations.add("operation " + operation + " closed twice");
            }
            if (op.timedOut && !op.settled) {
                violations.add("operation " + operation + " (" + op.call + ") closed while in flight: it timed out "
                        + "and was not cancelled and waited for again");
            }
            op.closed = true;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Result waitForOperationResult(long operation, int timeoutMs) {
        ProcessResult r = waitFor(operation, "HcsWaitForOperationResult");
        return new Result(r.hresult(), r.document());
    }

    @Override
    public ProcessResult waitForOperationResultAndProcessInfo(long operation, int timeoutMs) {
        return waitFor(operation, "HcsWaitForOperationResultAndProcessInfo");
    }

    private ProcessResult waitFor(long operation, String name) {
        Runnable after = null;
        ProcessResult result;
        lock.lock();
        try {
            calls.add(name + " " + operation);
            Op op = ops.get(operation);
            if (op == null || op.closed || op.call == null) {
                violations.add(name + " on operation " + operation + " that is unknown, closed or unused");
                return new ProcessResult(HResults.E_HANDLE, null, new ProcessInformation(0, 0, 0, 0));
            }
            if (op.timedOut && !op.cancelled) {
                return new ProcessResult(HResults.HCS_E_OPERATION_TIMEOUT, null, new ProcessInformation(0, 0, 0, 0));
            }
            if (op.timedOut) {
                op.settled = true;
                return new ProcessResult(HResults.HCS_E_OPERATION_ALREADY_CANCELLED, null,
                        new ProcessInformation(0, 0, 0, 0));
            }
            op.settled = true;
            if (!HResults.failed(op.outcome) && op.onSuccess != null) {
                after = op.onSuccess;
                op.onSuccess = null;
            }
            result = new ProcessResult(op.outcome, op.document,
                    op.info == null ? new ProcessInformation(0, 0, 0, 0) : op.info);
            if (after != null) {
                after.run();
            }
        } finally {
            lock.unlock();
        }
        return result;
    }

    @Override
    public int cancelOperation(long operation) {
        lock.lock();
        try {
            calls.add("HcsCancelOperation " + operation);
            Op op = ops.get(operation);
            if (op == null || op.closed) {
                violations.add("HcsCancelOperation on an unknown or closed operation " + operation);
                return HResults.E_HANDLE;
            }
            op.cancelled = true;
            return HResults.S_OK;
        } finally {
            lock.unlock();
        }
    }

    // ---- compute systems

    private long newHandle() {
        return handles.incrementAndGet();
    }

    @Override
    public HandleResult createComputeSystem(String id, String configuration, long operation) {
        lock.lock();
        try {
            calls.add("HcsCreateComputeSystem " + id + " " + operation);
            Op op = op(operation, "HcsCreateComputeSystem");
            if (systems.containsKey(id)) {
                return new HandleResult(HResults.HCS_E_SYSTEM_ALREADY_EXISTS, 0);
            }
            HcsJson.read(configuration, Schema.ComputeSystem.class); // a document HCS could parse
            Sys s = new Sys(id, configuration);
            long h = newHandle();
            s.handles.add(h);
            systemHandles.put(h, s);
            complete(op, HResults.S_OK, null, () -> systems.put(id, s));
            return new HandleResult(HResults.S_OK, h);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public HandleResult openComputeSystem(String id, int requestedAccess) {
        lock.lock();
        try {
            calls.add("HcsOpenComputeSystem " + id);
            Sys s = systems.get(id);
            if (s == null) {
                return new HandleResult(HResults.HCS_E_SYSTEM_NOT_FOUND, 0);
            }
            long h = newHandle();
            s.handles.add(h);
            systemHandles.put(h, s);
            return new HandleResult(HResults.S_OK, h);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void closeComputeSystem(long system) {
        lock.lock();
        try {
            calls.add("HcsCloseComputeSystem " + system);
            Sys s = systemHandles.remove(system);
            if (s == null) {
                violations.add("HcsCloseComputeSystem of unknown or closed handle " + system);
                return;
            }
            if (callbacks.containsKey(system)) {
                violations.add("HcsCloseComputeSystem " + s.id + " with its callback still registered");
                callbacks.remove(system);
            }
            s.handles.remove(system);
        } finally {
            lock.unlock();
        }
    }

    private Sys sys(long handle, String call) {
        Sys s = systemHandles.get(handle);
        if (s == null) {
            violations.add(call + " on unknown or closed system handle " + handle);
        }
        return s;
    }

    @Override
    public int startComputeSystem(long system, long operation, String options) {
        lock.lock();
        try {
            calls.add("HcsStartComputeSystem " + system + " " + operation);
            Op op = op(operation, "HcsStartComputeSystem");
            Sys s = sys(system, "HcsStartComputeSystem");
            if (s == null) {
                return HResults.E_HANDLE;
            }
            if (!s.state.equals("Created")) {
                complete(op, HResults.HCS_E_SYSTEM_ALREADY_STOPPED, null, null);
                return HResults.S_OK;
            }
            complete(op, HResults.S_OK, null, () -> s.state = "Running");
            return HResults.S_OK;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int shutDownComputeSystem(long system, long operation, String options) {
        lock.lock();
        try {
            calls.add("HcsShutDownComputeSystem " + system + " " + operation);
            Op op = op(operation, "HcsShutDownComputeSystem");
            Sys s = sys(system, "HcsShutDownComputeSystem");
            if (s == null) {
                return HResults.E_HANDLE;
            }
            if (s.state.equals("Stopped")) {
                complete(op, HResults.HCS_E_SYSTEM_ALREADY_STOPPED, null, null);
                return HResults.S_OK;
            }
            complete(op, HResults.S_OK, null, shutdownHangs ? null : () -> stop(s, 1067));
            return HResults.S_OK;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int terminateComputeSystem(long system, long operation, String options) {
        lock.lock();
        try {
            calls.add("HcsTerminateComputeSystem " + system + " " + operation);
            Op op = op(operation, "HcsTerminateComputeSystem");
            Sys s = sys(system, "HcsTerminateComputeSystem");
            if (s == null) {
                return HResults.E_HANDLE;
            }
            if (s.state.equals("Stopped")) {
                complete(op, HResults.HCS_E_SYSTEM_ALREADY_STOPPED, null, null);
                return HResults.S_OK;
            }
            complete(op, HResults.S_OK, null, () -> stop(s, 1));
            return HResults.S_OK;
        } finally {
            lock.unlock();
        }
    }

    /** The system stops: its processes exit, then every handle's callback gets SystemExited. */
    private void stop(Sys s, int processExitCode) {
        for (Proc p : s.processes) {
            exit(p, processExitCode);
        }
        s.state = "Stopped";
        for (long h : s.handles) {
            EventListener l = callbacks.get(h);
            if (l != null) {
                events.execute(() -> l.onEvent(new Event(EVENT_SYSTEM_EXITED, "{\"Status\":0}")));
            }
        }
    }

    @Override
    public int getComputeSystemProperties(long system, long operation, String propertyQuery) {
        lock.lock();
        try {
            calls.add("HcsGetComputeSystemProperties " + system + " " + operation);
            Op op = op(operation, "HcsGetComputeSystemProperties");
            Sys s = sys(system, "HcsGetComputeSystemProperties");
            if (s == null) {
                return HResults.E_HANDLE;
            }
            Schema.PropertyQuery q = HcsJson.read(propertyQuery, Schema.PropertyQuery.class);
            boolean stats = q.propertyTypes() != null && q.propertyTypes().contains("Statistics");
            complete(op, HResults.S_OK, HcsJson.write(new Schema.Properties(s.id, "Container", s.state,
                    s.state.equals("Stopped") ? Boolean.TRUE : null, stats ? statistics : null)), null);
            return HResults.S_OK;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int setComputeSystemCallback(long system, EventListener listener) {
        lock.lock();
        try {
            calls.add("HcsSetComputeSystemCallback " + system + (listener == null ? " null" : ""));
            if (sys(system, "HcsSetComputeSystemCallback") == null) {
                return HResults.E_HANDLE;
            }
            if (listener == null) {
                callbacks.remove(system);
            } else {
                callbacks.put(system, listener);
            }
            return HResults.S_OK;
        } finally {
            lock.unlock();
        }
    }

    // ---- processes

    @Override
    public HandleResult createProcess(long system, String processParameters, long operation) {
        lock.lock();
        try {
            calls.add("HcsCreateProcess " + system + " " + operation);
            Op op = op(operation, "HcsCreateProcess");
            Sys s = sys(system, "HcsCreateProcess");
            if (s == null) {
                return new HandleResult(HResults.E_HANDLE, 0);
            }
            if (!s.state.equals("Running")) {
                return new HandleResult(HResults.HCS_E_SYSTEM_NOT_CONFIGURED_FOR_OPERATION, 0);
            }
            Schema.ProcessParameters params = HcsJson.read(processParameters, Schema.ProcessParameters.class);
            Proc p = new Proc((int) pids.incrementAndGet(), s, processParameters);
            long h = newHandle();
            p.handles.add(h);
            processHandles.put(h, p);
            long out = 0;
            long err = 0;
            if (Boolean.TRUE.equals(params.createStdOutPipe())) {
                out = newHandle();
                pipes.put(out, p.stdout);
            }
            if (Boolean.TRUE.equals(params.createStdErrPipe())) {
                err = newHandle();
                pipes.put(err, p.stderr);
            }
            long in = Boolean.TRUE.equals(params.createStdInPipe()) ? newHandle() : 0;
            if (op != null) {
                op.info = new ProcessInformation(p.pid, in, out, err);
            }
            complete(op, HResults.S_OK, null, () -> {
                s.processes.add(p);
                run(p, params.commandLine());
            });
            return new HandleResult(HResults.S_OK, h);
        } finally {
            lock.unlock();
        }
    }

    /** The fake guest's three programs. */
    private void run(Proc p, String commandLine) {
        String cl = commandLine == null ? "" : commandLine;
        if (cl.startsWith("cmd /c echo ")) {
            String text = cl.substring("cmd /c echo ".length());
            if (text.length() >= 2 && text.startsWith("\"") && text.endsWith("\"")) {
                text = text.substring(1, text.length() - 1);
            }
            p.stdout.write((text + "\n").getBytes(StandardCharsets.UTF_8));
            exit(p, 0);
        } else if (cl.startsWith("cmd /c exit ")) {
            exit(p, Integer.parseInt(cl.substring("cmd /c exit ".length()).trim()));
        }
    }

    private void exit(Proc p, int code) {
        if (p.exitCode != null) {
            return;
        }
        p.exitCode = code;
        p.stdout.close();
        p.stderr.close();
        p.exited.complete(code);
        String data = HcsJson.write(new Schema.ProcessStatus((long) p.pid, true, (long) code, null));
        for (long h : p.handles) {
            EventListener l = callbacks.get(h);
            if (l != null) {
                events.execute(() -> l.onEvent(new Event(EVENT_PROCESS_EXITED, data)));
            }
        }
    }

    @Override
    public HandleResult openProcess(long system, int processId, int requestedAccess) {
        lock.lock();
        try {
            calls.add("HcsOpenProcess " + system + " " + processId);
            Sys s = sys(system, "HcsOpenProcess");
            if (s == null) {
                return new HandleResult(HResults.E_HANDLE, 0);
            }
            for (Proc p : s.processes) {
                if (p.pid == processId && p.exitCode == null) {
                    long h = newHandle();
                    p.handles.add(h);
                    processHandles.put(h, p);
                    return new HandleResult(HResults.S_OK, h);
                }
            }
            return new HandleResult(HResults.HRESULT_NOT_FOUND, 0);
        } finally {
            lock.unlock();
        }
    }

    private Proc proc(long handle, String call) {
        Proc p = processHandles.get(handle);
        if (p == null) {
            violations.add(call + " on unknown or closed process handle " + handle);
        }
        return p;
    }

    @Override
    public int signalProcess(long process, long operation, String options) {
        lock.lock();
        try {
            calls.add("HcsSignalProcess " + process + " " + operation + " " + options);
            Op op = op(operation, "HcsSignalProcess");
            Proc p = proc(process, "HcsSignalProcess");
            if (p == null) {
                return HResults.E_HANDLE;
            }
            if (signalsUnsupported) {
                complete(op, HResults.HRESULT_NOT_SUPPORTED, null, null);
                return HResults.S_OK;
            }
            if (p.exitCode != null) {
                complete(op, HResults.HCS_E_PROCESS_ALREADY_STOPPED, null, null);
                return HResults.S_OK;
            }
            Schema.SignalOptions s = HcsJson.read(options, Schema.SignalOptions.class);
            boolean ends = !ignoreCtrlShutdown || !"CtrlShutdown".equals(s.signal());
            complete(op, HResults.S_OK, null, ends ? () -> exit(p, 0) : null);
            return HResults.S_OK;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int terminateProcess(long process, long operation, String options) {
        lock.lock();
        try {
            calls.add("HcsTerminateProcess " + process + " " + operation);
            Op op = op(operation, "HcsTerminateProcess");
            Proc p = proc(process, "HcsTerminateProcess");
            if (p == null) {
                return HResults.E_HANDLE;
            }
            if (p.exitCode != null) {
                complete(op, HResults.HCS_E_PROCESS_ALREADY_STOPPED, null, null);
                return HResults.S_OK;
            }
            complete(op, HResults.S_OK, null, () -> exit(p, 1));
            return HResults.S_OK;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int getProcessInfo(long process, long operation) {
        lock.lock();
        try {
            calls.add("HcsGetProcessInfo " + process + " " + operation);
            Op op = op(operation, "HcsGetProcessInfo");
            Proc p = proc(process, "HcsGetProcessInfo");
            complete(op, p == null ? HResults.E_HANDLE : HResults.S_OK, null, null);
            return HResults.S_OK;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int setProcessCallback(long process, EventListener listener) {
        lock.lock();
        try {
            calls.add("HcsSetProcessCallback " + process + (listener == null ? " null" : ""));
            Proc p = proc(process, "HcsSetProcessCallback");
            if (p == null) {
                return HResults.E_HANDLE;
            }
            if (listener == null) {
                callbacks.remove(process);
            } else {
                callbacks.put(process, listener);
                if (p.exitCode != null) {
                    // Exited before the callback was set: HCS still reports it to a new registration.
                    String data = HcsJson.write(new Schema.ProcessStatus((long) p.pid, true, (long) p.exitCode, null));
                    events.execute(() -> listener.onEvent(new Event(EVENT_PROCESS_EXITED, data)));
                }
            }
            return HResults.S_OK;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void closeProcess(long process) {
        lock.lock();
        try {
            calls.add("HcsCloseProcess " + process);
            Proc p = processHandles.remove(process);
            if (p == null) {
                violations.add("HcsCloseProcess of unknown or closed handle " + process);
                return;
            }
            if (callbacks.containsKey(process)) {
                violations.add("HcsCloseProcess " + p.pid + " with its callback still registered");
                callbacks.remove(process);
            }
            p.handles.remove(process);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public InputStream readPipe(long handle) {
        lock.lock();
        try {
            FakePipe p = pipes.remove(handle);
            if (p == null) {
                violations.add("readPipe of unknown handle " + handle);
                return InputStream.nullInputStream();
            }
            return p.reader();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Hands the pipe {@code handle} to a process outside this JVM: the guest's output goes on into the FIFO
     * {@code fifo} (made here) once a reader opens it, and the handle leaves the fake's table, as a pipe handle
     * duplicated with {@code DUPLICATE_CLOSE_SOURCE} leaves berth's.
     */
    public void pipeToFifo(long handle, java.nio.file.Path fifo) throws java.io.IOException {
        FakePipe p;
        lock.lock();
        try {
            p = pipes.remove(handle);
        } finally {
            lock.unlock();
        }
        if (p == null) {
            violations.add("hand-over of unknown pipe handle " + handle);
            throw new java.io.IOException("no pipe with handle " + handle);
        }
        mkfifo(fifo);
        InputStream in = p.reader();
        pump("fake-hcs-pipe-" + handle, () -> {
            try (in; OutputStream out = java.nio.file.Files.newOutputStream(fifo)) {
                in.transferTo(out);
            }
        });
    }

    /**
     * The exit code of process {@code pid} in system {@code systemId}, written as one line into the FIFO
     * {@code fifo} (made here) once it exits and a reader has opened it: the exit a process outside this JVM
     * awaits.
     */
    public void exitToFifo(String systemId, int pid, java.nio.file.Path fifo) throws java.io.IOException {
        Proc proc = null;
        lock.lock();
        try {
            Sys s = systems.get(systemId);
            if (s != null) {
                for (Proc p : s.processes) {
                    if (p.pid == pid) {
                        proc = p;
                    }
                }
            }
        } finally {
            lock.unlock();
        }
        if (proc == null) {
            throw new java.io.IOException("no process " + pid + " in " + systemId);
        }
        mkfifo(fifo);
        Proc p = proc;
        pump("fake-hcs-exit-" + pid, () -> {
            try (OutputStream out = java.nio.file.Files.newOutputStream(fifo)) {
                out.write((p.exited.join() + "\n").getBytes(StandardCharsets.UTF_8));
            }
        });
    }

    /** The guest's process {@code pid} writes {@code text} to its stdout. */
    public void print(int pid, String text) {
        lock.lock();
        try {
            for (Sys s : systems.values()) {
                for (Proc p : s.processes) {
                    if (p.pid == pid) {
                        p.stdout.write(text.getBytes(StandardCharsets.UTF_8));
                    }
                }
            }
        } finally {
            lock.unlock();
        }
    }

    private interface IoBody {
        void run() throws java.io.IOException;
    }

    private static void pump(String name, IoBody body) {
        Thread.ofPlatform().daemon().name(name).start(() -> {
            try {
                body.run();
            } catch (java.io.IOException e) {
                // the reader went away (a relay killed): the guest's output has nowhere to go
            }
        });
    }

    private static void mkfifo(java.nio.file.Path fifo) throws java.io.IOException {
        try {
            int rc = new ProcessBuilder("mkfifo", fifo.toString()).redirectErrorStream(true).start().waitFor();
            if (rc != 0) {
                throw new java.io.IOException("mkfifo " + fifo + " failed with " + rc);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.IOException("interrupted", e);
        }
    }

    @Override
    public OutputStream writePipe(long handle) {
        return FakePipe.sink();
    }
}
