package dev.berth.hcs.bind;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.spi.testing.HostRequirements;
import org.junit.jupiter.api.Test;

class BindingsTest {

    @Test
    void aHostThatIsNotWindowsHasNoHcsAndNeverTriesToLoadIt() {
        Bindings b = Bindings.forOs("Linux", () -> {
            throw new AssertionError("tried to load the Windows DLLs on Linux");
        });
        assertThat(b.available()).isFalse();
        assertThat(b.unavailable()).isEqualTo("the Host Compute Service exists only on Windows");
        assertThat(b.hcs()).isNull();
    }

    @Test
    void windowsLoadsTheJnaBindings() {
        Bindings loaded = Bindings.of(null, null, null, null);
        assertThat(Bindings.forOs("Windows Server 2022", () -> loaded)).isSameAs(loaded);
    }

    @Test
    void thisHostWhenItIsNotWindows() {
        HostRequirements.require(!System.getProperty("os.name").startsWith("Windows"),
                "runs on a host that is not Windows");
        assertThat(Bindings.forHost().unavailable()).isEqualTo(Bindings.NOT_WINDOWS);
    }
}
