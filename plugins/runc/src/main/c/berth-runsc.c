/*
 * berth-runsc: the runtime conmon runs for a gVisor handler, in front of runsc.
 *
 *   berth-runsc --runsc=PATH [RUNSC GLOBAL FLAGS] SUBCOMMAND ARGS...
 *
 * Every call but two is runsc's own: the program execs PATH with the rest of its arguments. An exec with a
 * --pid-file gets --internal-pid-file as well (see exec_with_internal_pid).
 *
 *   berth-runsc --runsc=PATH --console-relay [RUNSC GLOBAL FLAGS] exec ARGS...
 *
 * is berth's own exec with a terminal (see console_relay).
 *
 * The exception is the create of a container that joins a pod's sandbox (its config.json carries the CRI
 * annotation io.kubernetes.cri.container-type = container). For such a container runsc differs from runc twice:
 *
 *  - it writes the SANDBOX's pid into --pid-file (the container's process lives inside the sandbox and has no pid
 *    on the host). conmon waits for the pid in that file, and the sandbox process is not its child: conmon would
 *    report the container exited (-1) at once;
 *  - the container's stdio is that of "runsc start", not of "runsc create". conmon runs only the create; berth runs
 *    the start, and the container's output would go to berth instead of conmon's pipes (the CRI log).
 *
 * So after runsc's create succeeded, this program makes a FIFO "runsc-start" in the bundle, forks a stand-in and
 * writes the stand-in's pid into --pid-file. The stand-in becomes conmon's child when this program exits (conmon
 * is a child subreaper) and keeps conmon's stdio pipes as its fds 0-2, nothing else (conmon reads the runtime's
 * other pipes to their end). It waits for a byte on the FIFO, which berth writes to start the container, runs
 * "runsc start" with conmon's pipes as its stdio, and writes start's exit status into "runsc-start.status" in the
 * bundle (atomically; berth waits for that file). A failed start leaves the container created, and the stand-in
 * waits for the next byte. After a start that succeeded it puts /dev/null on its stdio, runs "runsc wait", which
 * prints {"id":...,"exitStatus":N} once the container's process exited (also when that happened before the wait
 * began), and exits with N: conmon writes the container's own exit code.
 *
 * While it waits for the FIFO, the stand-in asks runsc every second for the container's state: one deleted before
 * it ever ran (or whose sandbox is gone) makes it exit 255 ("unknown"), as does a failed wait; one no longer
 * created (stopped after a failed start, say) leaves only its exit to report, through "runsc wait".
 * Since it holds the FIFO open for reading and writing, a writer never blocks while the stand-in lives, and gets
 * ENXIO (open with O_NONBLOCK) when it does not.
  */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_OUT 65536

static const char *runsc;
static char **global;  /* runsc's global flags: between --runsc=PATH and the subcommand */
static int nglobal;

static void die(const char *what) {
    fprintf(stderr, "berth-runsc: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* Runs runsc GLOBAL... a b c with stdout captured into out (NUL-terminated); returns the exit status or -1. */
static int run_captured(const char *a, const char *b, char *out, size_t cap) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        char *argv[nglobal + 4];
        int n = 0;
        argv[n++] = (char *)runsc;
        for (int i = 0; i < nglobal; i++) {
            argv[n++] = global[i];
        }
        argv[n++] = (char *)a;
        argv[n++] = (char *)b;
        argv[n] = NULL;
        dup2(p[1], 1);
        execv(runsc, argv);
        _exit(127);
    }
    close(p[1]);
    size_t len = 0;
    for (;;) {
        ssize_t r = read(p[0], out + len, cap - 1 - len);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        len += (size_t)r;
        if (len == cap - 1) {
            break;
        }
    }
    out[len] = '\0';
    close(p[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return -1;
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The string value following "key" (and a colon) in JSON text, copied into val; 0 if found. */
static int json_string(const char *text, const char *key, char *val, size_t cap) {
    const char *p = strstr(text, key);
    if (p == NULL) {
        return -1;
    }
    p += strlen(key);
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ':') {
        p++;
    }
    if (*p != '"') {
        return -1;
    }
    p++;
    size_t n = 0;
    while (*p != '\0' && *p != '"' && n + 1 < cap) {
        val[n++] = *p++;
    }
    val[n] = '\0';
    return *p == '"' ? 0 : -1;
}

/* Runs runsc GLOBAL... start ID with this process's stdio; returns its exit status (255 if it could not run). */
static int run_start(const char *id) {
    pid_t pid = fork();
    if (pid < 0) {
        return 255;
    }
    if (pid == 0) {
        char *argv[nglobal + 4];
        int n = 0;
        argv[n++] = (char *)runsc;
        for (int i = 0; i < nglobal; i++) {
            argv[n++] = global[i];
        }
        argv[n++] = "start";
        argv[n++] = (char *)id;
        argv[n] = NULL;
        execv(runsc, argv);
        _exit(255);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return 255;
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

static void write_status(const char *file, int status);

/* The container's status as runsc reports it ("created", "running", "stopped"), or "" when runsc does not know it. */
static void state(const char *id, char *status, size_t cap) {
    static char out[MAX_OUT];
    if (run_captured("state", id, out, sizeof out) != 0 || json_string(out, "\"status\"", status, cap) != 0) {
        status[0] = '\0';
    }
}

/*
 * The stand-in: starts the container when berth asks (a byte on the FIFO), with conmon's pipes as its stdio, then
 * waits for its exit and exits with its status.
 */
static void stand_in(const char *id, const char *fifo, const char *status_file) {
    static char out[MAX_OUT];
    int fd = open(fifo, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        _exit(255);
    }
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, 1000);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r == 0) {
            char status[64];
            state(id, status, sizeof status);
            if (status[0] == '\0') {
                _exit(255); /* deleted before it ran, or its sandbox is gone */
            }
            if (strcmp(status, "created") != 0 && strcmp(status, "creating") != 0) {
                break; /* started or stopped otherwise: only its exit is left to report */
            }
            continue;
        }
        char b;
        if (r < 0 || read(fd, &b, 1) != 1) {
            _exit(255);
        }
        int status = run_start(id);
        write_status(status_file, status);
        if (status == 0) {
            break;
        }
    }
    close(fd);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
    }
    if (run_captured("wait", id, out, sizeof out) == 0) {
        const char *p = strstr(out, "\"exitStatus\"");
        if (p != NULL) {
            p = strchr(p, ':');
            if (p != NULL) {
                _exit(atoi(p + 1) & 0xff);
            }
        }
    }
    _exit(255);
}

/* Writes text to file atomically (a reader never sees it half written); 0 on success. */
static int write_atomic(const char *file, const char *text) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.berth-runsc", file) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    FILE *f = fopen(tmp, "we");
    if (f == NULL) {
        return -1;
    }
    if (fputs(text, f) < 0) {
        fclose(f);
        return -1;
    }
    if (fclose(f) != 0) {
        return -1;
    }
    return rename(tmp, file);
}

static void write_status(const char *file, int status) {
    char text[16];
    snprintf(text, sizeof text, "%d\n", status);
    write_atomic(file, text);
}

/* Whether the bundle's config.json makes this a container that joins a pod's sandbox. */
static int joins_sandbox(const char *bundle) {
    char path[4096];
    static char text[1 << 20];
    if (snprintf(path, sizeof path, "%s/config.json", bundle) >= (int)sizeof path) {
        return 0;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return 0; /* runsc reports the missing file */
    }
    size_t len = 0;
    ssize_t r;
    while (len < sizeof text - 1 && (r = read(fd, text + len, sizeof text - 1 - len)) > 0) {
        len += (size_t)r;
    }
    close(fd);
    text[len] = '\0';
    char type[64];
    return json_string(text, "\"io.kubernetes.cri.container-type\"", type, sizeof type) == 0
            && strcmp(type, "container") == 0;
}

/*
 * exec with --pid-file FILE: also --internal-pid-file=FILE.internal, the pid of the exec'd process inside the
 * sandbox. The pid in FILE is the host's "runsc exec" that waits for it; killing that does not end the process in
 * the sandbox, so berth kills an exec that timed out by its internal pid ("runsc kill --pid").
 */
static void exec_with_internal_pid(int argc, char **argv, int sub) {
    const char *pid_file = NULL;
    for (int i = sub + 1; i < argc; i++) {
        if (strcmp(argv[i], "--pid-file") == 0 && i + 1 < argc) {
            pid_file = argv[i + 1];
        } else if (strncmp(argv[i], "--pid-file=", 11) == 0) {
            pid_file = argv[i] + 11;
        }
    }
    if (pid_file == NULL) {
        return;
    }
    static char flag[4200];
    if (snprintf(flag, sizeof flag, "--internal-pid-file=%s.internal", pid_file) >= (int)sizeof flag) {
        return;
    }
    char *nargv[argc + 1];
    int n = 0;
    nargv[n++] = (char *)runsc;
    for (int i = 2; i <= sub; i++) {
        nargv[n++] = argv[i];
    }
    nargv[n++] = flag;
    for (int i = sub + 1; i < argc; i++) {
        nargv[n++] = argv[i];
    }
    nargv[n] = NULL;
    execv(runsc, nargv);
    die(runsc);
}

static volatile sig_atomic_t winch;

static void on_winch(int sig) {
    (void)sig;
    winch = 1;
}

/* Copies the window size of the terminal on fd 0 to master. */
static void copy_size(int master) {
    struct winsize ws;
    if (ioctl(0, TIOCGWINSZ, &ws) == 0) {
        ioctl(master, TIOCSWINSZ, &ws);
    }
}

/* Writes all of buf to fd; -1 on error. */
static int write_all(int fd, const char *buf, ssize_t n) {
    while (n > 0) {
        ssize_t w = write(fd, buf, (size_t)n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return -1;
        }
        buf += w;
        n -= w;
    }
    return 0;
}

/*
 * --console-relay: "runsc exec" with a terminal. runsc passes a host terminal through as plain stdio, so a
 * process exec'd into a sandbox would have no terminal. With --console-socket, gVisor makes the terminal in its
 * kernel and sends the master over the socket. This mode runs "runsc [args] exec --console-socket=S ...", takes
 * the master, and relays between it and its own stdio (berth's host terminal, set raw here: the terminal that
 * cooks and echoes is gVisor's); SIGWINCH copies the host terminal's size to it. It exits with runsc exec's
 * status, the process's exit code.
 */
static int console_relay(int n, char **args) {
    char dir[] = "/tmp/berth-runsc-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        die("mkdtemp");
    }
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s/console.sock", dir);
    int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(listener, 1) < 0) {
        die("console socket");
    }
    int sub = 0;
    while (sub < n && strcmp(args[sub], "exec") != 0) {
        sub++;
    }
    if (sub == n) {
        fprintf(stderr, "berth-runsc: --console-relay needs an exec\n");
        return 1;
    }
    char flag[sizeof addr.sun_path + 20], pid_flag[sizeof dir + 30], pid_file[sizeof dir + 10];
    snprintf(flag, sizeof flag, "--console-socket=%s", addr.sun_path);
    snprintf(pid_file, sizeof pid_file, "%s/pid", dir);
    snprintf(pid_flag, sizeof pid_flag, "--pid-file=%s", pid_file);
    /* runsc makes the terminal only for a detached exec; its waiting child, which exits with the process's
       status, becomes ours (child subreaper), and its pid is in the pid file. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    char *argv[n + 5];
    int k = 0;
    argv[k++] = (char *)runsc;
    for (int i = 0; i <= sub; i++) {
        argv[k++] = args[i];
    }
    argv[k++] = "--detach";
    argv[k++] = pid_flag;
    argv[k++] = flag;
    for (int i = sub + 1; i < n; i++) {
        argv[k++] = args[i];
    }
    argv[k] = NULL;
    pid_t child = fork();
    if (child < 0) {
        die("fork");
    }
    if (child == 0) {
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
        }
        execv(runsc, argv);
        _exit(127);
    }
    int master = -1;
    int status = 0;
    int exited = 0;
    while (master < 0) {
        struct pollfd p = {.fd = listener, .events = POLLIN};
        int r = poll(&p, 1, 100);
        if (r > 0) {
            int conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
            if (conn < 0) {
                continue;
            }
            char data[1];
            char control[CMSG_SPACE(sizeof(int))];
            struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
            struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                    .msg_controllen = sizeof control};
            if (recvmsg(conn, &msg, MSG_CMSG_CLOEXEC) >= 0) {
                struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
                if (c != NULL && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                    memcpy(&master, CMSG_DATA(c), sizeof master);
                }
            }
            close(conn);
        } else if (waitpid(child, &status, WNOHANG) == child) {
            exited = 1; /* failed before it sent a terminal: its message is on our stderr */
            break;
        }
    }
    close(listener);
    unlink(addr.sun_path);
    if (master >= 0) {
        struct termios saved, raw;
        int tty = tcgetattr(0, &saved) == 0;
        if (tty) {
            raw = saved;
            cfmakeraw(&raw);
            tcsetattr(0, TCSANOW, &raw);
        }
        struct sigaction sa = {.sa_handler = on_winch};
        sigaction(SIGWINCH, &sa, NULL);
        copy_size(master);
        char buf[8192];
        int in_open = 1;
        for (;;) {
            if (winch) {
                winch = 0;
                copy_size(master);
            }
            struct pollfd p[2] = {{.fd = master, .events = POLLIN}, {.fd = in_open ? 0 : -1, .events = POLLIN}};
            int r = poll(p, 2, -1);
            if (r < 0) {
                if (errno == EINTR) {
                    continue;
                }
                break;
            }
            if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
                ssize_t got = read(master, buf, sizeof buf);
                if (got <= 0) {
                    if (got < 0 && errno == EINTR) {
                        continue;
                    }
                    break; /* the process and its terminal are gone */
                }
                if (write_all(1, buf, got) < 0) {
                    break;
                }
            }
            if (in_open && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
                ssize_t got = read(0, buf, sizeof buf);
                if (got <= 0) {
                    if (got < 0 && errno == EINTR) {
                        continue;
                    }
                    in_open = 0;
                } else if (write_all(master, buf, got) < 0) {
                    in_open = 0;
                }
            }
        }
        close(master);
        if (tty) {
            tcsetattr(0, TCSANOW, &saved);
        }
    }
    if (!exited) {
        while (waitpid(child, &status, 0) < 0) {
            if (errno != EINTR) {
                status = 255 << 8;
                break;
            }
        }
        /* The detached exec has returned; the process's status is its waiting child's. */
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            char text[32] = "";
            int fd = open(pid_file, O_RDONLY | O_CLOEXEC);
            if (fd >= 0) {
                ssize_t r = read(fd, text, sizeof text - 1);
                text[r > 0 ? r : 0] = '\0';
                close(fd);
            }
            pid_t waiter = (pid_t)atoi(text);
            if (waiter > 0) {
                while (waitpid(waiter, &status, 0) < 0) {
                    if (errno != EINTR) {
                        status = 255 << 8;
                        break;
                    }
                }
            }
        }
    }
    unlink(pid_file);
    rmdir(dir);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv) {
    if (argc < 3 || strncmp(argv[1], "--runsc=", 8) != 0) {
        fprintf(stderr, "usage: berth-runsc --runsc=PATH [GLOBAL FLAGS] SUBCOMMAND ARGS...\n");
        return 1;
    }
    runsc = argv[1] + 8;
    if (strcmp(argv[2], "--console-relay") == 0) {
        return console_relay(argc - 3, argv + 3);
    }
    char **args = argv + 1; /* args[0] is replaced by runsc's path */
    args[0] = (char *)runsc;
    int sub = 2;
    while (sub < argc && argv[sub][0] == '-') {
        sub++;
    }
    if (sub < argc && strcmp(argv[sub], "exec") == 0) {
        exec_with_internal_pid(argc, argv, sub);
    }
    if (sub >= argc || strcmp(argv[sub], "create") != 0) {
        execv(runsc, args);
        die(runsc);
    }
    global = argv + 2;
    nglobal = sub - 2;
    const char *bundle = ".", *pid_file = NULL, *id = argv[argc - 1];
    for (int i = sub + 1; i < argc; i++) {
        if ((strcmp(argv[i], "--bundle") == 0 || strcmp(argv[i], "-b") == 0) && i + 1 < argc) {
            bundle = argv[++i];
        } else if (strncmp(argv[i], "--bundle=", 9) == 0) {
            bundle = argv[i] + 9;
        } else if (strcmp(argv[i], "--pid-file") == 0 && i + 1 < argc) {
            pid_file = argv[++i];
        } else if (strncmp(argv[i], "--pid-file=", 11) == 0) {
            pid_file = argv[i] + 11;
        }
    }
    if (pid_file == NULL || !joins_sandbox(bundle)) {
        execv(runsc, args);
        die(runsc);
    }
    pid_t create = fork();
    if (create < 0) {
        die("fork");
    }
    if (create == 0) {
        execv(runsc, args);
        die(runsc);
    }
    int status;
    while (waitpid(create, &status, 0) < 0) {
        if (errno != EINTR) {
            die("waitpid");
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    }
    char fifo[4096], status_file[4096], pid_text[16];
    if (snprintf(fifo, sizeof fifo, "%s/runsc-start", bundle) >= (int)sizeof fifo
            || snprintf(status_file, sizeof status_file, "%s/runsc-start.status", bundle) >= (int)sizeof status_file) {
        errno = ENAMETOOLONG;
        die("bundle path");
    }
    unlink(fifo);
    unlink(status_file);
    if (mkfifo(fifo, 0600) < 0) {
        die("cannot make the start FIFO");
    }
    pid_t standin = fork();
    if (standin < 0) {
        die("fork");
    }
    if (standin == 0) {
        closefrom(3);
        signal(SIGPIPE, SIG_DFL);
        stand_in(id, fifo, status_file);
    }
    snprintf(pid_text, sizeof pid_text, "%d", (int)standin);
    if (write_atomic(pid_file, pid_text) != 0) {
        kill(standin, SIGKILL);
        die("cannot write the pid file");
    }
    return 0;
}
