package dev.berth.spi;

/** The outcome of {@link RuntimeBackend#execSync}: captured output and the exit code. */
public record ExecResult(byte[] stdout, byte[] stderr, int exitCode) {
    public ExecResult {
        stdout = stdout == null ? new byte[0] : stdout.clone();
        stderr = stderr == null ? new byte[0] : stderr.clone();
    }

    @Override
    public byte[] stdout() {
        return stdout.clone();
    }

    @Override
    public byte[] stderr() {
        return stderr.clone();
    }
}
