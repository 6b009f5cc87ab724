package dev.berth.runc;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/** {@code mkfifo(3)} through FFM: one call, no helper process. */
@SuppressWarnings("restricted") // FFM downcalls; the daemon runs with --enable-native-access
final class Fifos {
    private static final MethodHandle MKFIFO = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("mkfifo").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));

    private Fifos() {}

    static void create(Path path) throws IOException {
        int rc;
        try (Arena arena = Arena.ofConfined()) {
            rc = (int) MKFIFO.invokeExact(arena.allocateFrom(path.toString()), 0600);
        } catch (Throwable t) {
            throw new IOException("mkfifo " + path + ": " + t.getMessage(), t);
        }
        if (rc != 0) {
            throw new IOException("mkfifo " + path + " failed");
        }
    }
}
