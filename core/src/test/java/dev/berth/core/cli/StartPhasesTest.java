package dev.berth.core.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class StartPhasesTest {
    @Test
    void namesEveryStepInOrder() {
        StartPhases phases = new StartPhases();
        phases.step("config");
        phases.step("plugins");
        assertThat(phases.summary()).startsWith("started: ").containsSubsequence("config ", " ms, plugins ", " ms");
    }

    @Test
    void theProcessAgeIsAtLeastThisJvmsLifeSoFar() {
        long age = StartPhases.processAgeMillis();
        long jvmUp = java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime();
        // the kernel counts in 10 ms ticks, and the JVM's uptime starts after the process did
        assertThat(age).isGreaterThanOrEqualTo(jvmUp - 20);
    }
}
