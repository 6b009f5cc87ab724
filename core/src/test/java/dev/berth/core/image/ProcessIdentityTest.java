package dev.berth.core.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.environment.ImageContainerEnvironment;
import dev.berth.cri.v1.ContainerConfig;
import dev.berth.cri.v1.Int64Value;
import dev.berth.cri.v1.LinuxContainerConfig;
import dev.berth.cri.v1.LinuxContainerSecurityContext;
import dev.berth.spi.ContainerSecurity;
import dev.berth.spi.ContainerSecurity.SupplementalGroupsPolicy;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.ImageConfig;
import dev.berth.spi.ProcessUser;
import dev.berth.spi.SecurityProfile;
import dev.berth.spi.SelinuxLabel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The whole rule for a container's uid, gid and groups, from the image user or the request's user through
 * core's resolution in the image ({@link UserResolver}) to {@link ContainerSpec#processUser()}, which every
 * backend writes into the OCI spec. Shaped like a busybox image: root is a member of wheel.
 */
class ProcessIdentityTest {
    private static final String PASSWD = """
            root:x:0:0:root:/root:/bin/sh
            daemon:x:1:1:daemon:/usr/sbin:/bin/false
            www-data:x:33:33:www-data:/var/www:/bin/false
            nobody:x:65534:65534:nobody:/home:/bin/false
            """;
    private static final String GROUP = """
            root:x:0:
            daemon:x:1:
            adm:x:4:www-data,root
            wheel:x:10:root
            www-data:x:33:
            users:x:100:www-data
            nogroup:x:65534:
            """;
    private static final Function<String, Optional<byte[]>> FILES = path -> Optional.of(
            (path.equals("etc/passwd") ? PASSWD : GROUP).getBytes(StandardCharsets.UTF_8));

    /** imageUser: the image's User; the request: run_as_username / run_as_user / run_as_group / groups. */
    record Case(String imageUser, String runAsUsername, Long runAsUser, Long runAsGroup, List<Long> supplemental,
                SupplementalGroupsPolicy policy) {
        Case(String imageUser) {
            this(imageUser, "", null, null, List.of(), SupplementalGroupsPolicy.MERGE);
        }

        Case user(long uid) {
            return new Case(imageUser, runAsUsername, uid, runAsGroup, supplemental, policy);
        }

        Case group(long gid) {
            return new Case(imageUser, runAsUsername, runAsUser, gid, supplemental, policy);
        }

        Case username(String name) {
            return new Case(imageUser, name, runAsUser, runAsGroup, supplemental, policy);
        }

        Case supplemental(Long... gids) {
            return new Case(imageUser, runAsUsername, runAsUser, runAsGroup, List.of(gids), policy);
        }

        Case strict() {
            return new Case(imageUser, runAsUsername, runAsUser, runAsGroup, supplemental,
                    SupplementalGroupsPolicy.STRICT);
        }
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                // what the image says
                Arguments.of("no security context: root with its own groups, primary first", new Case(""),
                        new ProcessUser(0, 0, List.of(0L, 4L, 10L))),
                Arguments.of("image user by name", new Case("www-data"),
                        new ProcessUser(33, 33, List.of(33L, 4L, 100L))),
                Arguments.of("image user by a uid with a passwd entry", new Case("33"),
                        new ProcessUser(33, 33, List.of(33L, 4L, 100L))),
                Arguments.of("image user by a uid without a passwd entry: no groups of root", new Case("1234"),
                        new ProcessUser(1234, 0, List.of(0L))),
                Arguments.of("image user:group sets the primary gid, memberships stay", new Case("www-data:wheel"),
                        new ProcessUser(33, 10, List.of(10L, 4L, 100L))),
                Arguments.of("image uid:gid without entries", new Case("1234:5678"),
                        new ProcessUser(1234, 5678, List.of(5678L))),
                // what the request says overrides the image
                Arguments.of("run_as_user without a passwd entry, run_as_group", new Case("").user(1234).group(1234),
                        new ProcessUser(1234, 1234, List.of(1234L))),
                Arguments.of("run_as_user without a passwd entry", new Case("").user(1234),
                        new ProcessUser(1234, 0, List.of(0L))),
                Arguments.of("run_as_user over an image user:group", new Case("www-data:wheel").user(1234),
                        new ProcessUser(1234, 0, List.of(0L))),
                Arguments.of("run_as_user with a passwd entry", new Case("").user(33),
                        new ProcessUser(33, 33, List.of(33L, 4L, 100L))),
                Arguments.of("run_as_user 0 over a non-root image user", new Case("www-data").user(0),
                        new ProcessUser(0, 0, List.of(0L, 4L, 10L))),
                Arguments.of("run_as_username", new Case("").username("www-data"),
                        new ProcessUser(33, 33, List.of(33L, 4L, 100L))),
                Arguments.of("supplemental_groups with a uid without entry", new Case("").user(1234)
                        .supplemental(2000L, 3000L), new ProcessUser(1234, 0, List.of(0L, 2000L, 3000L))),
                Arguments.of("Merge: run_as_group, image memberships and supplemental groups",
                        new Case("").user(33).group(3000).supplemental(4000L),
                        new ProcessUser(33, 3000, List.of(3000L, 4L, 100L, 4000L))),
                Arguments.of("Strict: only the primary and the requested groups",
                        new Case("").user(33).group(3000).supplemental(4000L).strict(),
                        new ProcessUser(33, 3000, List.of(3000L, 4000L))),
                Arguments.of("Strict with the image's user", new Case("www-data").strict(),
                        new ProcessUser(33, 33, List.of(33L))),
                Arguments.of("a supplemental group equal to the primary is listed once",
                        new Case("").user(1234).group(1234).supplemental(1234L, 5L),
                        new ProcessUser(1234, 1234, List.of(1234L, 5L))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void processUser(String name, Case c, ProcessUser expected) {
        var sc = LinuxContainerSecurityContext.newBuilder().setRunAsUsername(c.runAsUsername());
        if (c.runAsUser() != null) {
            sc.setRunAsUser(Int64Value.newBuilder().setValue(c.runAsUser()));
        }
        if (c.runAsGroup() != null) {
            sc.setRunAsGroup(Int64Value.newBuilder().setValue(c.runAsGroup()));
        }
        String requested = ImageContainerEnvironment.requestedUser(ContainerConfig.newBuilder()
                .setLinux(LinuxContainerConfig.newBuilder().setSecurityContext(sc)).build());
        String spec = requested.isEmpty() ? c.imageUser() : requested;
        UserResolver.Resolved r = UserResolver.resolve(spec, "img", FILES);
        ImageConfig image = new ImageConfig("sha256:img", "img", List.of(), List.of("sh"), List.of(), "", spec,
                r.uid(), r.gid(), r.additionalGids(), "", Map.of());
        var d = ContainerSecurity.DEFAULT;
        ContainerSecurity security = new ContainerSecurity(List.of(), List.of(), false, d.namespaces(),
                c.runAsUser() == null ? OptionalLong.empty() : OptionalLong.of(c.runAsUser()),
                c.runAsGroup() == null ? OptionalLong.empty() : OptionalLong.of(c.runAsGroup()),
                c.runAsUsername(), false, c.supplemental(), false, List.of(), List.of(), SecurityProfile.UNCONFINED,
                SecurityProfile.UNCONFINED, SelinuxLabel.NONE, c.policy());
        ContainerSpec container = new ContainerSpec("c1", "p1", "c", 0, image, List.of(), List.of(), "", List.of(),
                List.of(), List.of(), Map.of(), Map.of(), "", false, false, false, null, security, List.of(), null);
        assertThat(container.processUser()).isEqualTo(expected);
    }

    @org.junit.jupiter.api.Test
    void anIdAboveWhatAProcessCanRunAsIsRefusedNamingTheUserAndImage() {
        Function<String, Optional<byte[]>> files = path -> Optional.of((path.equals("etc/passwd")
                ? PASSWD + "huge:x:3000000000:1:huge:/:/bin/sh\n"
                : GROUP + "biggroup:x:4000000000:www-data\n").getBytes(StandardCharsets.UTF_8));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> UserResolver.resolve("2147483648", "img", files))
                .isInstanceOfSatisfying(dev.berth.spi.BackendException.class, e -> assertThat(e.kind())
                        .isEqualTo(dev.berth.spi.BackendException.Kind.FAILED_PRECONDITION))
                .hasMessage("user \"2147483648\" in image \"img\" resolves to uid 2147483648, out of range: user and "
                        + "group ids are 0 to 2147483647");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> UserResolver.resolve("huge", "img", files))
                .hasMessageContaining("resolves to uid 3000000000");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> UserResolver.resolve("1:9999999999", "img", files))
                .hasMessageContaining("resolves to gid 9999999999");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> UserResolver.resolve("www-data", "img", files))
                .hasMessageContaining("resolves to supplementary gid 4000000000");
        assertThat(UserResolver.resolve("2147483647:2147483647", "img", files))
                .isEqualTo(new UserResolver.Resolved(2147483647L, 2147483647L, List.of()));
    }
}
