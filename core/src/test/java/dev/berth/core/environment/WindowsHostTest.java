package dev.berth.core.environment;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.config.HostOs;
import dev.berth.core.environment.WindowsHost.Check;
import dev.berth.core.environment.WindowsHost.Level;
import dev.berth.core.environment.WindowsHost.ServiceState;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The Windows host checks' decisions, over a fake probe. */
class WindowsHostTest {
    /** A host with every service running, computecore.dll present and build 20348 (Windows Server 2022). */
    static final class FakeProbe implements WindowsHost.Probe {
        final Map<String, ServiceState> services = new HashMap<>(Map.of("vmcompute", ServiceState.RUNNING,
                "hns", ServiceState.RUNNING, "vmms", ServiceState.RUNNING));
        Set<String> files = Set.of("computecore.dll");
        String version = "10.0.20348.2227";

        @Override
        public ServiceState service(String name) {
            return services.getOrDefault(name, ServiceState.MISSING);
        }

        @Override
        public boolean systemFile(String name) {
            return files.contains(name);
        }

        @Override
        public String osVersion() {
            return version;
        }
    }

    private static Check about(List<Check> checks, String what) {
        return checks.stream().filter(c -> c.what().contains(what)).findFirst().orElseThrow();
    }

    @Test
    void offWindowsTheChecksSaySoAndAskNothing() {
        List<Check> checks = WindowsHost.checks(HostOs.LINUX, null);
        assertThat(checks).containsExactly(new Check(Level.SKIP, "Windows host checks: not Windows", ""));
        assertThat(WindowsHost.checks(HostOs.current(), null)).extracting(Check::level).containsExactly(Level.SKIP);
        assertThat(WindowsHost.hostOsVersion()).isEmpty();
    }

    @Test
    void aCompleteHostIsAllOk() {
        List<Check> checks = WindowsHost.checks(HostOs.WINDOWS, new FakeProbe());
        assertThat(checks).extracting(Check::level).containsOnly(Level.OK);
        assertThat(checks).extracting(Check::what).anyMatch(w -> w.contains("10.0.20348.2227"))
                .anyMatch(w -> w.contains("Containers feature")).anyMatch(w -> w.contains("hns"))
                .anyMatch(w -> w.contains("Hyper-V isolation possible"));
    }

    @Test
    void withoutTheContainersFeatureItSaysHowToInstallIt() {
        FakeProbe p = new FakeProbe();
        p.services.put("vmcompute", ServiceState.MISSING);
        p.services.put("hns", ServiceState.MISSING);
        p.files = Set.of();
        List<Check> checks = WindowsHost.checks(HostOs.WINDOWS, p);
        Check feature = about(checks, "Containers feature");
        assertThat(feature.level()).isEqualTo(Level.FAIL);
        assertThat(feature.advice()).contains("Install-WindowsFeature -Name Containers")
                .contains("Enable-WindowsOptionalFeature -Online -FeatureName Containers");
        assertThat(checks).noneMatch(c -> c.what().contains("Host Compute Service"));
        assertThat(about(checks, "hns").level()).isEqualTo(Level.FAIL);
    }

    @Test
    void theFeatureNeedsComputecoreToo() {
        FakeProbe p = new FakeProbe();
        p.files = Set.of();
        assertThat(about(WindowsHost.checks(HostOs.WINDOWS, p), "Containers feature").level()).isEqualTo(Level.FAIL);
    }

    @Test
    void stoppedServicesAreFailuresWithTheirStartCommand() {
        FakeProbe p = new FakeProbe();
        p.services.put("vmcompute", ServiceState.STOPPED);
        p.services.put("hns", ServiceState.STOPPED);
        List<Check> checks = WindowsHost.checks(HostOs.WINDOWS, p);
        assertThat(about(checks, "Host Compute Service")).isEqualTo(new Check(Level.FAIL,
                "Host Compute Service (vmcompute) not running", "Start-Service vmcompute"));
        assertThat(about(checks, "hns")).isEqualTo(new Check(Level.FAIL, "Host Network Service (hns) not running",
                "Start-Service hns"));
    }

    @Test
    void withoutHyperVOnlyProcessIsolationIsPossibleWhichIsAWarning() {
        FakeProbe p = new FakeProbe();
        p.services.remove("vmms");
        List<Check> checks = WindowsHost.checks(HostOs.WINDOWS, p);
        Check hv = about(checks, "Hyper-V");
        assertThat(hv.level()).isEqualTo(Level.WARN);
        assertThat(hv.what()).contains("only process isolation");
        assertThat(hv.advice()).contains("Install-WindowsFeature -Name Hyper-V");
        assertThat(checks).noneMatch(c -> c.level() == Level.FAIL);
    }

    @Test
    void tooOldOrUnknownBuilds() {
        FakeProbe p = new FakeProbe();
        p.version = "10.0.14393.0";
        assertThat(about(WindowsHost.checks(HostOs.WINDOWS, p), "build").level()).isEqualTo(Level.FAIL);
        p.version = "";
        assertThat(about(WindowsHost.checks(HostOs.WINDOWS, p), "build").level()).isEqualTo(Level.WARN);
        p.version = "10.0.17763.1";
        assertThat(about(WindowsHost.checks(HostOs.WINDOWS, p), "build").level()).isEqualTo(Level.OK);
    }

    @Test
    void scQueryOutputIsReadByNumberNotWord() {
        String running = "\r\nSERVICE_NAME: hns\r\n        TYPE               : 20  WIN32_SHARE_PROCESS\r\n"
                + "        STATE              : 4  RUNNING\r\n                                (STOPPABLE)\r\n";
        assertThat(WindowsHost.parseScQuery(0, running)).isEqualTo(ServiceState.RUNNING);
        assertThat(WindowsHost.parseScQuery(0, running.replace("4  RUNNING", "1  ARRETE")))
                .isEqualTo(ServiceState.STOPPED);
        assertThat(WindowsHost.parseScQuery(1060, "[SC] EnumQueryServicesStatus:OpenService FAILED 1060:"))
                .isEqualTo(ServiceState.MISSING);
        assertThat(WindowsHost.parseScQuery(5, "[SC] OpenSCManager FAILED 5:")).isEqualTo(ServiceState.UNKNOWN);
        assertThat(WindowsHost.parseScQuery(0, "garbage")).isEqualTo(ServiceState.UNKNOWN);
    }
}
