package dev.berth.core.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import org.junit.jupiter.api.Test;

class DigestsTest {
    @Test
    void digestsAreNamedByAlgorithmWithLowercaseHexAndMatchWhenFedInPieces() {
        byte[] abc = "abc".getBytes(StandardCharsets.US_ASCII);
        // FIPS 180-2's test vector for "abc".
        assertThat(Digests.sha256(abc))
                .isEqualTo("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
                .matches(ContentStore.SHA256);
        MessageDigest md = Digests.newSha256();
        md.update(abc, 0, 1);
        md.update(abc, 1, 2);
        assertThat(Digests.finish(md)).isEqualTo(Digests.sha256(abc));
        assertThat(Digests.sha256(new byte[0]))
                .isEqualTo("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}
