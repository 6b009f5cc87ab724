package dev.berth.runc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.oci.Libc;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Mount options split into mount(2) flags and file-system data, as mount(8) splits them. */
class MountsTest {

    static Stream<Arguments> options() {
        return Stream.of(
                Arguments.of("", 0L, null),
                Arguments.of("ro", Libc.MS_RDONLY, null),
                Arguments.of("ro,rw", 0L, null),
                Arguments.of("nosuid,nodev,noexec,mode=1777,size=65536k",
                        Libc.MS_NOSUID | Libc.MS_NODEV | Libc.MS_NOEXEC, "mode=1777,size=65536k"),
                Arguments.of("lowerdir=/a:/b,upperdir=/u,workdir=/w", 0L, "lowerdir=/a:/b,upperdir=/u,workdir=/w"),
                Arguments.of("rbind,ro", Libc.MS_BIND | Libc.MS_REC | Libc.MS_RDONLY, null),
                Arguments.of("bind,nosuid,suid", Libc.MS_BIND, null),
                Arguments.of("defaults,relatime,index=off", Libc.MS_RELATIME, "index=off"),
                Arguments.of("noatime,nodiratime,strictatime",
                        Libc.MS_NOATIME | Libc.MS_NODIRATIME | Libc.MS_STRICTATIME, null));
    }

    @ParameterizedTest(name = "[{index}] \"{0}\"")
    @MethodSource("options")
    void splitsOptionsLikeMountEight(String options, long flags, String data) {
        List<String> list = options.isEmpty() ? List.of() : Arrays.asList(options.split(","));
        Mounts.Options parsed = Mounts.parse(list);
        assertThat(parsed.flags()).isEqualTo(flags);
        assertThat(parsed.data()).isEqualTo(data);
    }
}
