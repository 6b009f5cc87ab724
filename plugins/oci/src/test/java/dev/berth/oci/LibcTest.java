package dev.berth.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LibcTest {
    @TempDir
    Path dir;

    @Test
    void mkfifoCreatesAFifo() throws Exception {
        Path fifo = dir.resolve("out");
        Libc.mkfifo(fifo, 0600);
        assertThat(Files.isRegularFile(fifo, LinkOption.NOFOLLOW_LINKS)).isFalse();
        assertThat(Files.isDirectory(fifo, LinkOption.NOFOLLOW_LINKS)).isFalse();
        int mode = (Integer) Files.getAttribute(fifo, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        assertThat(mode & 0170000).isEqualTo(0010000); // S_IFIFO
        assertThat(Files.getPosixFilePermissions(fifo)).isEqualTo(
                Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE));
    }

    @Test
    void mkfifoOverAnExistingFileFailsWithTheSystemsReason() throws Exception {
        Path taken = Files.createFile(dir.resolve("taken"));
        assertThatThrownBy(() -> Libc.mkfifo(taken, 0600)).isInstanceOf(IOException.class)
                .hasMessage("mkfifo " + taken + ": File exists");
    }

    @Test
    void openAndCloseAFile() throws Exception {
        int fd = Libc.open(dir.toString(), Libc.O_RDONLY);
        assertThat(fd).isGreaterThanOrEqualTo(0);
        assertThat(Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd))).isEqualTo(dir);
        Libc.close(fd);
        assertThat(Files.exists(Path.of("/proc/self/fd/" + fd), LinkOption.NOFOLLOW_LINKS)
                && Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).equals(dir)).isFalse();
        assertThatThrownBy(() -> Libc.open(dir.resolve("missing").toString(), Libc.O_RDONLY))
                .hasMessage("open " + dir.resolve("missing") + ": No such file or directory");
    }

    @Test
    void umountOfADirectoryThatIsNoMountPointIsFalse() throws Exception {
        // Without CAP_SYS_ADMIN the kernel answers EPERM before it looks at the target.
        if (!"root".equals(System.getProperty("user.name"))) {
            assertThatThrownBy(() -> Libc.umount(dir.toString(), 0)).hasMessageEndingWith("Operation not permitted");
            return;
        }
        assertThat(Libc.umount(dir.toString(), Libc.MNT_DETACH)).isFalse();
    }

    @Test
    void killDeliversTheSignal() throws Exception {
        Process p = new ProcessBuilder("sleep", "600").start();
        try {
            Libc.kill(p.pid(), Libc.SIGTERM);
            assertThat(p.waitFor()).isEqualTo(128 + Libc.SIGTERM);
        } finally {
            p.destroyForcibly();
        }
        assertThatThrownBy(() -> Libc.kill(p.pid(), 0)).hasMessage("kill " + p.pid() + ": No such process");
    }

    @Test
    void aPtyHasASlaveDevice() throws Exception {
        Terminals.Pty pty = Terminals.openPty();
        try {
            assertThat(pty.slave()).startsWith("/dev/pts/");
            assertThat(Files.exists(Path.of(pty.slave()))).isTrue();
            Terminals.setWindowSize(pty.master(), 40, 100);
        } finally {
            Libc.close(pty.master());
        }
    }
}
