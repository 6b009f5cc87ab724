package dev.berth.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CapabilitiesTest {
    @Test
    void defaultsWithAddAndDropInAnySpelling() {
        List<String> caps = Capabilities.resolve(false, List.of("net_admin", "CAP_SYS_TIME"), List.of("kill"), null);
        assertThat(caps).contains("CAP_NET_ADMIN", "CAP_SYS_TIME", "CAP_CHOWN").doesNotContain("CAP_KILL");
    }

    @Test
    void allAddsEveryOneAndDropAllLeavesOnlyTheAdded() {
        assertThat(Capabilities.resolve(false, List.of("ALL"), List.of(), null))
                .containsExactlyInAnyOrderElementsOf(Capabilities.ALL);
        assertThat(Capabilities.resolve(false, List.of("chown"), List.of("ALL"), null)).containsExactly("CAP_CHOWN");
    }

    @Test
    void privilegedGetsEverythingTheRuntimeMayGrant() {
        Set<String> grantable = Capabilities.fromMask((1L << 21) | 1L); // CAP_SYS_ADMIN and CAP_CHOWN
        assertThat(grantable).containsExactlyInAnyOrder("CAP_SYS_ADMIN", "CAP_CHOWN");
        assertThat(Capabilities.resolve(true, List.of(), List.of(), grantable))
                .containsExactly("CAP_CHOWN", "CAP_SYS_ADMIN");
        assertThat(Capabilities.resolve(true, List.of(), List.of(), null)).hasSize(41);
    }

    @Test
    void boundingSetOfThisProcessIsReadable() {
        assertThat(Capabilities.boundingSet()).isNotNull().isSubsetOf(Capabilities.ALL);
    }

    @Test
    void runtimeDefaultAllowsCallsTheContainersCapabilitiesCover() {
        var without = SeccompProfiles.runtimeDefault(List.of());
        var with = SeccompProfiles.runtimeDefault(List.of("CAP_SYS_ADMIN"));
        assertThat(blocked(without)).contains("mount", "keyctl", "unshare");
        assertThat(blocked(with)).contains("keyctl").doesNotContain("mount", "unshare");
        assertThat(without.get("defaultAction")).isEqualTo("SCMP_ACT_ALLOW");
    }

    @Test
    void dockerFormatProfilesBecomeOciOnes() {
        Map<String, Object> docker = Map.of("defaultAction", "SCMP_ACT_ALLOW",
                "archMap", List.of(Map.of("architecture", "SCMP_ARCH_X86_64", "subArchitectures", List.of("SCMP_ARCH_X86"))),
                "syscalls", List.of(Map.of("name", "sethostname", "action", "SCMP_ACT_ERRNO", "extra", 1)));
        Map<String, Object> oci = SeccompProfiles.fromProfile(docker);
        assertThat(oci.get("architectures")).isEqualTo(List.of("SCMP_ARCH_X86_64", "SCMP_ARCH_X86"));
        assertThat(oci.get("syscalls")).isEqualTo(List.of(Map.of("names", List.of("sethostname"),
                "action", "SCMP_ACT_ERRNO")));
        assertThatThrownBy(() -> SeccompProfiles.fromProfile(Map.of("syscalls", List.of())))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("defaultAction");
        assertThatThrownBy(() -> SeccompProfiles.fromProfile("not an object"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aProfileWithAnActionOrOperatorNoRuntimeKnowsIsRefusedNamingIt() {
        assertThatThrownBy(() -> SeccompProfiles.fromProfile(Map.of("defaultAction", "SCMP_ACT_BOGUS")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("defaultAction \"SCMP_ACT_BOGUS\" is not one of [SCMP_ACT_ALLOW, ");
        assertThatThrownBy(() -> SeccompProfiles.fromProfile(Map.of("defaultAction", "SCMP_ACT_ALLOW",
                "syscalls", List.of(Map.of("names", List.of("mkdir"), "action", "SCMP_ACT_DENY")))))
                .hasMessageStartingWith("the action of syscalls [mkdir] \"SCMP_ACT_DENY\" is not one of");
        assertThatThrownBy(() -> SeccompProfiles.fromProfile(Map.of("defaultAction", "SCMP_ACT_ALLOW",
                "syscalls", List.of(Map.of("names", List.of("personality"), "action", "SCMP_ACT_ERRNO",
                        "args", List.of(Map.of("index", 0, "value", 8, "op", "SCMP_CMP_EQUAL")))))))
                .hasMessageStartingWith("the argument operator \"SCMP_CMP_EQUAL\" of syscalls [personality]");
        assertThat(SeccompProfiles.fromProfile(Map.of("defaultAction", "SCMP_ACT_ERRNO", "syscalls",
                List.of(Map.of("names", List.of("personality"), "action", "SCMP_ACT_ALLOW",
                        "args", List.of(Map.of("index", 0, "value", 8, "op", "SCMP_CMP_EQ")))))))
                .containsEntry("defaultAction", "SCMP_ACT_ERRNO");
    }

    @SuppressWarnings("unchecked")
    private static List<String> blocked(Map<String, Object> profile) {
        var rules = (List<Map<String, Object>>) profile.get("syscalls");
        return (List<String>) rules.getFirst().get("names");
    }
}
