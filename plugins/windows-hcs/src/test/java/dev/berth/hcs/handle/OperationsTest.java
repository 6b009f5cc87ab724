package dev.berth.hcs.handle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.hcs.bind.HResults;
import dev.berth.hcs.fake.FakeHcs;
import dev.berth.hcs.schema.Schema;
import dev.berth.spi.BackendException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The HCS call protocol as the handles drive it, recorded by the fake. */
class OperationsTest {
    private final FakeHcs hcs = new FakeHcs();
    private static final Schema.ComputeSystem DOC = new Schema.ComputeSystem("berth", Schema.Version.V2_1, null,
            new Schema.Container(null,
                    new Schema.Storage(List.of(), "\\\\?\\Volume{00000000-0000-0000-0000-000000000001}\\"),
                    null, null, null, null, null), null, null);

    @AfterEach
    void noBreach() {
        assertThat(hcs.violations()).isEmpty();
    }

    private ComputeSystem running(String id) {
        ComputeSystem s = ComputeSystem.create(hcs, id, DOC, Duration.ofSeconds(5));
        s.start(Duration.ofSeconds(5));
        return s;
    }

    @Test
    void eachCallCreatesWaitsForAndClosesItsOwnOperation() {
        ComputeSystem s = ComputeSystem.create(hcs, "sys", DOC, Duration.ofSeconds(5));
        hcs.clearCalls();
        s.start(Duration.ofSeconds(5));
        assertThat(hcs.callNames()).containsExactly("HcsCreateOperation", "HcsStartComputeSystem",
                "HcsWaitForOperationResult", "HcsCloseOperation");
        assertThat(hcs.system("sys").state).isEqualTo("Running");
        s.terminate();
        s.close();
        assertThat(hcs.openHandles()).isZero();
        assertThat(hcs.registeredCallbacks()).isZero();
    }

    @Test
    void aRefusedCallClosesItsOperationWithoutWaiting() {
        ComputeSystem.create(hcs, "dup", DOC, Duration.ofSeconds(5)).close();
        hcs.clearCalls();
        assertThatThrownBy(() -> ComputeSystem.create(hcs, "dup", DOC, Duration.ofSeconds(5)))
                .isInstanceOfSatisfying(HcsException.class, e -> {
                    assertThat(e.symbolicName()).isEqualTo("HCS_E_SYSTEM_ALREADY_EXISTS");
                    assertThat(e.kind()).isEqualTo(BackendException.Kind.ALREADY_EXISTS);
                });
        assertThat(hcs.callNames()).containsExactly("HcsCreateOperation", "HcsCreateComputeSystem",
                "HcsCloseOperation");
    }

    @Test
    void aFailedOperationReportsItsHresultAndClosesTheHandleItGot() {
        hcs.failNext("HcsCreateComputeSystem", HResults.HCS_E_INVALID_LAYER);
        assertThatThrownBy(() -> ComputeSystem.create(hcs, "bad", DOC, Duration.ofSeconds(5)))
                .isInstanceOfSatisfying(HcsException.class, e -> {
                    assertThat(e.hresult()).isEqualTo(HResults.HCS_E_INVALID_LAYER);
                    assertThat(e.kind()).isEqualTo(BackendException.Kind.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).contains("HCS_E_INVALID_LAYER", "0x80370112");
                });
        assertThat(hcs.openHandles()).isZero();
        assertThat(hcs.systemIds()).doesNotContain("bad");
    }

    @Test
    void aTimedOutOperationIsCancelledAndWaitedForBeforeItIsClosed() {
        ComputeSystem s = ComputeSystem.create(hcs, "slow", DOC, Duration.ofSeconds(5));
        hcs.timeoutNext("HcsStartComputeSystem");
        hcs.clearCalls();
        assertThatThrownBy(() -> s.start(Duration.ofSeconds(1)))
                .isInstanceOfSatisfying(HcsException.class, e -> {
                    assertThat(e.hresult()).isEqualTo(HResults.HCS_E_OPERATION_TIMEOUT);
                    assertThat(e.kind()).isEqualTo(BackendException.Kind.DEADLINE_EXCEEDED);
                });
        assertThat(hcs.callNames()).containsExactly("HcsCreateOperation", "HcsStartComputeSystem",
                "HcsWaitForOperationResult", "HcsCancelOperation", "HcsWaitForOperationResult", "HcsCloseOperation");
        s.close();
    }

    @Test
    void processExitArrivesThroughTheCallbackWithItsExitCode() throws Exception {
        ComputeSystem s = running("p");
        HcsProcess p = s.createProcess(new Schema.ProcessParameters(null, "cmd /c exit 42", null, null, null, null,
                null, Boolean.TRUE, Boolean.TRUE, null), Duration.ofSeconds(5));
        assertThat(p.exitCode().get(10, TimeUnit.SECONDS)).isEqualTo(42);
        assertThat(hcs.callNames()).contains("HcsWaitForOperationResultAndProcessInfo", "HcsSetProcessCallback");
        p.close();
        s.terminate();
        s.close();
        assertThat(hcs.openHandles()).isZero();
    }

    @Test
    void systemExitedCompletesTheSystemsExitAndEndsItsProcesses() throws Exception {
        ComputeSystem s = running("x");
        HcsProcess p = s.createProcess(new Schema.ProcessParameters(null, "ping -t 127.0.0.1", null, null, null, null,
                null, null, null, null), Duration.ofSeconds(5));
        assertThat(s.shutdownThenTerminate(Duration.ofSeconds(5))).as("terminated").isFalse();
        s.exited().get(10, TimeUnit.SECONDS);
        assertThat(p.exitCode().get(10, TimeUnit.SECONDS)).isEqualTo(1067);
        p.close();
        s.close();
    }

    @Test
    void aSystemThatDoesNotShutDownIsTerminated() throws Exception {
        ComputeSystem s = running("stuck");
        hcs.shutdownHangs = true;
        hcs.clearCalls();
        assertThat(s.shutdownThenTerminate(Duration.ofMillis(200))).as("terminated").isTrue();
        assertThat(hcs.callNames()).containsSubsequence("HcsShutDownComputeSystem", "HcsTerminateComputeSystem");
        assertThat(hcs.system("stuck").state).isEqualTo("Stopped");
        s.close();
    }

    @Test
    void stopSendsCtrlShutdownThenTerminatesAfterTheGracePeriod() {
        ComputeSystem s = running("stop");
        HcsProcess p = s.createProcess(new Schema.ProcessParameters(null, "ping -t 127.0.0.1", null, null, null, null,
                null, null, null, null), Duration.ofSeconds(5));
        hcs.ignoreCtrlShutdown = true;
        hcs.clearCalls();
        assertThat(p.stop(Duration.ofMillis(200))).isEqualTo(1);
        List<String> calls = hcs.calls();
        assertThat(calls.stream().filter(c -> c.startsWith("HcsSignalProcess")).findFirst().orElseThrow())
                .endsWith("{\"Signal\":\"CtrlShutdown\"}");
        assertThat(hcs.callNames()).containsSubsequence("HcsSignalProcess", "HcsTerminateProcess");
        p.close();
        s.terminate();
        s.close();
    }

    @Test
    void withoutSignalSupportStopTerminatesAtOnce() {
        ComputeSystem s = running("rs1");
        HcsProcess p = s.createProcess(new Schema.ProcessParameters(null, "ping -t 127.0.0.1", null, null, null, null,
                null, null, null, null), Duration.ofSeconds(5));
        hcs.signalsUnsupported = true;
        assertThat(p.stop(Duration.ofSeconds(30))).isEqualTo(1);
        assertThat(hcs.callNames()).containsSubsequence("HcsSignalProcess", "HcsTerminateProcess");
        p.close();
        s.terminate();
        s.close();
    }

    @Test
    void serviceDisconnectFailsTheWaitsInsteadOfReportingAnExit() throws Exception {
        ComputeSystem s = running("gone");
        HcsProcess p = s.createProcess(new Schema.ProcessParameters(null, "ping -t 127.0.0.1", null, null, null, null,
                null, null, null, null), Duration.ofSeconds(5));
        hcs.disconnect();
        hcs.drainEvents();
        assertThat(p.exitCode()).isCompletedExceptionally();
        assertThat(s.exited()).isCompletedExceptionally();
        assertThatThrownBy(() -> p.awaitExit(Duration.ofSeconds(1))).isInstanceOfSatisfying(HcsException.class,
                e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.UNAVAILABLE));
        p.close();
        s.terminate();
        s.close();
    }

    @Test
    void everyMappedHresultHasASymbolicName() {
        for (int hr : HcsException.KINDS.keySet()) {
            assertThat(HResults.name(hr)).as(HResults.hex(hr)).doesNotStartWith("0x");
        }
        assertThat(HcsException.kindOf(0x80FF0001)).isEqualTo(BackendException.Kind.INTERNAL);
        assertThat(HResults.name(0x80FF0001)).isEqualTo("0x80FF0001");
    }
}
