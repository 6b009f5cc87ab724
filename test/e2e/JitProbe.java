import java.security.MessageDigest;

/**
 * Runs one hot method of its own and the JDK's SHA-256 long enough for the JIT to compile both:
 * test/e2e/jit-directives.sh reads which levels the JIT compiled them at under the launcher's settings.
 */
public class JitProbe {
    static int work(int x) {
        int h = x;
        for (int i = 0; i < 8; i++) {
            h = h * 31 + (x ^ i);
        }
        return h;
    }

    public static void main(String[] args) throws Exception {
        int sum = 0;
        for (int i = 0; i < 200_000; i++) {
            sum += work(i);
        }
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        byte[] block = new byte[64 * 1024];
        for (int i = 0; i < 2_000; i++) {
            md.update(block);
        }
        System.out.println(sum + " " + md.digest().length);
    }
}
