package dev.berth.core.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Command-line options become what a config file's option table would give the backend. */
class HandlerOptionsTest {
    @Test
    void tomlValuesKeepTheirTypeAndAnythingElseIsAString() {
        Map<String, String> raw = new LinkedHashMap<>();
        raw.put("binary", "crun");
        raw.put("no_pivot", "true");
        raw.put("count", "3");
        raw.put("list", "[\"a\", \"b\"]");
        raw.put("quoted", "\"x y\"");
        raw.put("timeout", "180s");
        var o = HandlerOptions.parse(raw);
        assertThat(o.values()).containsEntry("binary", "crun").containsEntry("no_pivot", true)
                .containsEntry("list", List.of("a", "b")).containsEntry("quoted", "x y")
                .containsEntry("timeout", "180s");
        assertThat(((Number) o.values().get("count")).longValue()).isEqualTo(3L);
        assertThat(o.tomlLines()).isEqualTo("binary = \"crun\"\nno_pivot = true\ncount = 3\nlist = [\"a\", \"b\"]\n"
                + "quoted = \"x y\"\ntimeout = \"180s\"\n");
    }

    @Test
    void aKeyThatIsNoBareTomlKeyIsRefused() {
        assertThatThrownBy(() -> HandlerOptions.parse(Map.of("a.b", "1"))).hasMessageContaining("a.b");
    }
}
