package dev.berth.core.cri.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The pipe's SDDL, read back: a protected DACL granting full access to Administrators and SYSTEM and no one else. */
class PipeSecurityTest {
    private static final Pattern ACE = Pattern.compile("\\(([^;()]*);([^;()]*);([^;()]*);([^;()]*);([^;()]*);([^;()]*)\\)");

    @Test
    void onlyAdministratorsAndSystemAreAllowed() {
        String sddl = PipeSecurity.SDDL;
        assertThat(sddl).startsWith("D:P(").doesNotContain("O:").doesNotContain("G:").doesNotContain("S:");
        Matcher m = ACE.matcher(sddl.substring("D:P".length()));
        List<String> trustees = new ArrayList<>();
        int end = 0;
        while (m.find()) {
            assertThat(m.start()).isEqualTo(end);
            end = m.end();
            assertThat(m.group(1)).as("ACE type").isEqualTo("A");
            assertThat(m.group(2)).as("ACE flags (no inheritance)").isEmpty();
            assertThat(m.group(3)).as("rights").isEqualTo("GA");
            assertThat(m.group(4) + m.group(5)).as("object guids").isEmpty();
            trustees.add(m.group(6));
        }
        assertThat(end).isEqualTo(sddl.length() - "D:P".length());
        assertThat(trustees).containsExactly("BA", "SY");
    }
}
