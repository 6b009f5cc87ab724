package dev.berth.core.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateFormatTest {
    @TempDir
    Path state;

    @Test
    void aNewStateDirectoryIsStampedWithTheCurrentFormat() throws Exception {
        assertThat(StateFormat.check(state)).isEqualTo(StateFormat.CURRENT);
        assertThat(Files.readString(state.resolve("format"))).isEqualTo(StateFormat.CURRENT + "\n");
        assertThat(StateFormat.check(state)).isEqualTo(StateFormat.CURRENT);
    }

    @Test
    void aMissingDirectoryIsCreatedAndStamped() {
        Path deeper = state.resolve("var/lib/berth");
        StateFormat.check(deeper);
        assertThat(deeper.resolve("format")).hasContent(String.valueOf(StateFormat.CURRENT));
    }

    @Test
    void aFormatANewerBerthWroteIsRefusedAndLeftAsItIs() throws Exception {
        Files.writeString(state.resolve("format"), (StateFormat.CURRENT + 1) + "\n");
        assertThatThrownBy(() -> StateFormat.check(state))
                .isInstanceOf(StateFormat.Refused.class)
                .hasMessageContaining("holds data in format " + (StateFormat.CURRENT + 1))
                .hasMessageContaining("reads formats up to " + StateFormat.CURRENT);
        assertThat(Files.readString(state.resolve("format"))).isEqualTo((StateFormat.CURRENT + 1) + "\n");
    }

    @Test
    void garbageInTheFormatFileIsRefusedByName() throws Exception {
        Files.writeString(state.resolve("format"), "berth-state-v2");
        assertThatThrownBy(() -> StateFormat.check(state))
                .isInstanceOf(StateFormat.Refused.class)
                .hasMessageContaining("should hold a state format number")
                .hasMessageContaining("berth-state-v2");
        Files.writeString(state.resolve("format"), "0");
        assertThatThrownBy(() -> StateFormat.check(state)).isInstanceOf(StateFormat.Refused.class)
                .hasMessageContaining("which no berth writes");
    }

    @Test
    void anOlderOrEqualFormatIsRead() throws Exception {
        Files.writeString(state.resolve("format"), " 1 \n");
        assertThat(StateFormat.check(state)).isEqualTo(1);
    }
}
