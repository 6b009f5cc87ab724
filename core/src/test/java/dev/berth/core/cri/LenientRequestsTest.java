package dev.berth.core.cri;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.cri.v1.ContainerConfig;
import dev.berth.cri.v1.ContainerMetadata;
import dev.berth.cri.v1.ContainerStatusRequest;
import dev.berth.cri.v1.CreateContainerRequest;
import dev.berth.cri.v1.LinuxContainerConfig;
import dev.berth.cri.v1.Mount;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link LenientRequests}' marshaller says whether a request may hold a NUL byte: never "no" for one that does, so
 * that skipping the walk of a request's fields never lets a NUL through.
 */
class LenientRequestsTest {
    private static final MethodDescriptor<LenientRequests.Parsed<CreateContainerRequest>, ?> CREATE =
            LenientRequests.lenient(RuntimeServiceGrpc.getCreateContainerMethod());

    private static LenientRequests.Parsed.Ok<CreateContainerRequest> parsed(InputStream wire) {
        return (LenientRequests.Parsed.Ok<CreateContainerRequest>) CREATE.parseRequest(wire);
    }

    /** As grpc hands a request over: a stream of known length. */
    private static LenientRequests.Parsed.Ok<CreateContainerRequest> parsed(CreateContainerRequest r) {
        return parsed(RuntimeServiceGrpc.getCreateContainerMethod().getRequestMarshaller().stream(r));
    }

    private static CreateContainerRequest request(String name, String arg, String hostPath) {
        return CreateContainerRequest.newBuilder().setPodSandboxId("p1")
                .setConfig(ContainerConfig.newBuilder()
                        .setMetadata(ContainerMetadata.newBuilder().setName(name).setAttempt(2))
                        .addCommand("sh").addArgs(arg)
                        .addMounts(Mount.newBuilder().setContainerPath("/data").setHostPath(hostPath))
                        .putLabels("app", "web"))
                .build();
    }

    @Test
    void aRequestWithoutAZeroByteIsMarkedCleanAndParsesWhole() {
        CreateContainerRequest r = request("c", "-c", "/srv");
        var ok = parsed(r);
        assertThat(ok.message()).isEqualTo(r);
        assertThat(ok.mayHoldNul()).isFalse();
        var status = LenientRequests.lenient(RuntimeServiceGrpc.getContainerStatusMethod()).parseRequest(
                RuntimeServiceGrpc.getContainerStatusMethod().getRequestMarshaller().stream(
                        ContainerStatusRequest.newBuilder().setContainerId("a".repeat(64)).build()));
        assertThat(((LenientRequests.Parsed.Ok<?>) status).mayHoldNul()).isFalse();
    }

    @Test
    void aNulInAStringAnEmptyMessageOrAStreamOfUnknownLengthMeansTheFieldsAreWalked() {
        assertThat(parsed(request("c", "x\0", "/srv")).mayHoldNul()).isTrue();
        // An empty message that is set is a zero length on the wire: no NUL, but walked all the same.
        CreateContainerRequest emptyLinux = request("c", "-c", "/srv").toBuilder()
                .setConfig(request("c", "-c", "/srv").getConfig().toBuilder()
                        .setLinux(LinuxContainerConfig.getDefaultInstance()))
                .build();
        var ok = parsed(emptyLinux);
        assertThat(ok.message()).isEqualTo(emptyLinux);
        assertThat(ok.mayHoldNul()).isTrue();
        var unknownLength = parsed(new ByteArrayInputStream(request("c", "-c", "/srv").toByteArray()));
        assertThat(unknownLength.mayHoldNul()).isTrue();
    }

    @Test
    void everyRequestWhoseStringsHoldANulIsMarked() {
        Random random = new Random(7);
        String alphabet = "abc/-.\0\u00e9\u4e2d";
        int marked = 0;
        int withNul = 0;
        for (int i = 0; i < 2000; i++) {
            String[] s = new String[3];
            for (int j = 0; j < s.length; j++) {
                StringBuilder b = new StringBuilder("s");
                for (int k = random.nextInt(6); k > 0; k--) {
                    b.append(alphabet.charAt(random.nextInt(alphabet.length())));
                }
                s[j] = b.toString();
            }
            CreateContainerRequest r = request(s[0], s[1], s[2]);
            var ok = parsed(r);
            assertThat(ok.message()).isEqualTo(r);
            boolean nul = String.join("", s).indexOf('\0') >= 0;
            if (nul) {
                withNul++;
                assertThat(ok.mayHoldNul()).as("request %s", r).isTrue();
                assertThatThrownBy(() -> Validation.noNulBytes(r)).hasMessageContaining("must not contain a NUL byte");
            }
            marked += ok.mayHoldNul() ? 1 : 0;
        }
        assertThat(withNul).isGreaterThan(100);
        assertThat(marked).isEqualTo(withNul); // and only those: none of these requests has another zero byte
    }

    @Test
    void aMalformedRequestIsStillReportedWithTheParsersReason() {
        byte[] truncated = {0x0a, 0x05, 'a'};
        var result = CREATE.parseRequest(new KnownLengthStream(truncated));
        assertThat(result).isInstanceOfSatisfying(LenientRequests.Parsed.Malformed.class,
                m -> assertThat(m.reason()).contains("truncated"));
    }

    /** A byte array as grpc's transport hands a request over: its length known. */
    private static final class KnownLengthStream extends ByteArrayInputStream implements io.grpc.KnownLength {
        KnownLengthStream(byte[] bytes) {
            super(bytes);
        }
    }
}
