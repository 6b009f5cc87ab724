/*
 * berth-execsync: the synchronous execs in running containers (CRI's ExecSync, which the kubelet's exec probes
 * send) of one runc handler, a long-lived helper that berth starts with no arguments.
 *
 * Why a long-lived helper: an exec probe is a short command, and starting a process from the JVM costs it a
 * process of its own (the JDK's jspawnhelper) besides the one it starts. Here berth writes a request on this
 * program's stdin, and the process that runs the request is a fork of this small program.
 *
 * For each request this program forks a supervisor with two new pipes as its stdout and stderr and /dev/null as its
 * stdin. The supervisor is a child subreaper: it runs the runtime's detached exec ("runc [global flags] exec
 * --detach --pid-file F --process SPEC ID", or crun's), which hands the supervisor's stdio to the command. Once the
 * runtime has exited after starting the command, the command is the supervisor's child; the supervisor waits for it
 * and exits with its status, 128 + the signal for a command a signal ended (what the runtime's foreground exec and a
 * shell report). A runtime that fails exits non-zero without writing F, its error on stderr: the supervisor exits
 * with the runtime's status. Without a pid in F after a runtime that succeeded, it says so on stderr and exits 255.
 * Orphans the command leaves become the supervisor's children while it runs and are left to the next reaper when
 * it exits.
 *
 * This program forwards what the pipes carry, at most the request's limit in all (the rest is read and dropped),
 * and answers DONE with the supervisor's status once the supervisor has exited and both pipes have closed, or the
 * request's drain time after the exit: a child of the command that holds the output open does not hold the answer.
 * Such a pipe is read and dropped until it closes. runc's foreground exec would instead copy the output until its
 * end, holding the call until that child exits.
 *
 * The protocol, integers big-endian. A request is u32 length (of what follows), u32 id, u8 op, then:
 *   RUN (1):  u32 limit (bytes of output forwarded), u32 drain (ms), then NUL-terminated strings to the end of the
 *             request: the pid file, the runtime and its arguments;
 *   KILL (2): nothing; the request's supervisor gets SIGKILL (berth gave up on it). Its DONE still comes.
 * A reply is u32 id, u8 type, u32 length, then that many bytes: OUT (1) and ERR (2) carry output, DONE (3) a u32
 * status and ends the request. A request this program cannot start is answered with ERR (why) and DONE 255.
 * End of file on stdin (berth stopped) ends this program; supervisors still running finish on their own.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { OP_RUN = 1, OP_KILL = 2 };
enum { REPLY_OUT = 1, REPLY_ERR = 2, REPLY_DONE = 3 };
/* A request larger than this is not one of berth's: the stream is out of step. */
#define MAX_REQUEST (1u << 20)
#define CHUNK 65536

struct request {
    uint32_t id;
    pid_t supervisor;   /* 0 once reaped */
    int fd[2];          /* stdout and stderr read ends, -1 once closed */
    uint32_t room;      /* output still forwarded */
    int code;
    int exited;
    int done;           /* DONE sent: what still arrives is dropped */
    uint32_t drain_ms;
    long long deadline; /* exited: when DONE goes out even with a pipe still open */
};

static struct request *requests;
static size_t count, capacity;
static sigset_t original_mask;

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int status_code(int status) {
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    if (WIFSIGNALED(status)) {
        return 128 + WTERMSIG(status);
    }
    return 255;
}

static void write_all(const void *data, size_t len) {
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(STDOUT_FILENO, p, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            /* berth is gone: nobody is left to answer. */
            exit(0);
        }
        p += n;
        len -= (size_t) n;
    }
}

static void reply(uint32_t id, uint8_t type, const void *data, uint32_t len) {
    unsigned char head[9];
    uint32_t v = htonl(id);
    memcpy(head, &v, 4);
    head[4] = type;
    v = htonl(len);
    memcpy(head + 5, &v, 4);
    write_all(head, sizeof head);
    write_all(data, len);
}

static void reply_done(uint32_t id, int code) {
    uint32_t v = htonl((uint32_t) code);
    reply(id, REPLY_DONE, &v, 4);
}

static void refuse(uint32_t id, const char *why) {
    char text[512];
    int n = snprintf(text, sizeof text, "berth-execsync: %s\n", why);
    reply(id, REPLY_ERR, text, (uint32_t) (n < (int) sizeof text ? n : (int) sizeof text - 1));
    reply_done(id, 255);
}

static pid_t read_pid(const char *path) {
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        return -1;
    }
    long pid = -1;
    if (fscanf(f, "%ld", &pid) != 1) {
        pid = -1;
    }
    fclose(f);
    return pid > 0 ? (pid_t) pid : -1;
}

/* The supervisor: argv is the pid file, the runtime and its arguments. Returns its exit status. */
static int supervise(char **argv) {
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
        fprintf(stderr, "berth-execsync: cannot become a subreaper: %s\n", strerror(errno));
        return 255;
    }
    pid_t runtime = fork();
    if (runtime < 0) {
        fprintf(stderr, "berth-execsync: fork: %s\n", strerror(errno));
        return 255;
    }
    if (runtime == 0) {
        execvp(argv[1], argv + 1);
        fprintf(stderr, "berth-execsync: cannot run %s: %s\n", argv[1], strerror(errno));
        _exit(127);
    }
    int status;
    while (waitpid(runtime, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "berth-execsync: waiting for %s: %s\n", argv[1], strerror(errno));
            return 255;
        }
    }
    if (status_code(status) != 0) {
        return status_code(status);
    }
    pid_t command = read_pid(argv[0]);
    if (command < 0) {
        fprintf(stderr, "berth-execsync: %s wrote no pid to %s\n", argv[1], argv[0]);
        return 255;
    }
    /* The command, and any orphan reparented here meanwhile, until the command's own exit. */
    for (;;) {
        pid_t done = waitpid(-1, &status, 0);
        if (done == command) {
            return status_code(status);
        }
        if (done < 0 && errno != EINTR) {
            fprintf(stderr, "berth-execsync: the command (pid %d) is not this program's child: %s\n", (int) command,
                    strerror(errno));
            return 255;
        }
    }
}

static void start(uint32_t id, const unsigned char *body, uint32_t len) {
    if (len < 8) {
        refuse(id, "a run request without its limit and drain time");
        return;
    }
    uint32_t limit, drain;
    memcpy(&limit, body, 4);
    memcpy(&drain, body + 4, 4);
    const char *strings = (const char *) body + 8;
    size_t size = len - 8;
    size_t argc = 0;
    for (size_t i = 0; i < size; i++) {
        argc += strings[i] == '\0';
    }
    if (size == 0 || strings[size - 1] != '\0' || argc < 2) {
        refuse(id, "a run request needs a pid file and a runtime, each ending in NUL");
        return;
    }
    char **argv = calloc(argc + 1, sizeof *argv);
    if (argv == NULL) {
        refuse(id, "out of memory");
        return;
    }
    for (size_t i = 0, a = 0; a < argc; a++) {
        argv[a] = (char *) strings + i;
        i += strlen(strings + i) + 1;
    }
    if (count == capacity) {
        size_t more = capacity ? capacity * 2 : 64;
        struct request *grown = realloc(requests, more * sizeof *grown);
        if (grown == NULL) {
            free(argv);
            refuse(id, "out of memory");
            return;
        }
        requests = grown;
        capacity = more;
    }
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0) {
        free(argv);
        refuse(id, "cannot make a pipe");
        return;
    }
    if (pipe2(err, O_CLOEXEC) != 0) {
        close(out[0]);
        close(out[1]);
        free(argv);
        refuse(id, "cannot make a pipe");
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        sigprocmask(SIG_SETMASK, &original_mask, NULL);
        signal(SIGPIPE, SIG_DFL);
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(out[1], STDOUT_FILENO) < 0
            || dup2(err[1], STDERR_FILENO) < 0) {
            _exit(255);
        }
        close_range(3, ~0u, 0);
        _exit(supervise(argv));
    }
    free(argv);
    close(out[1]);
    close(err[1]);
    if (pid < 0) {
        close(out[0]);
        close(err[0]);
        refuse(id, "cannot fork");
        return;
    }
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    fcntl(err[0], F_SETFL, O_NONBLOCK);
    requests[count++] = (struct request) {
        .id = id, .supervisor = pid, .fd = {out[0], err[0]}, .room = ntohl(limit), .drain_ms = ntohl(drain),
    };
}

static void handle(const unsigned char *frame, uint32_t len) {
    if (len < 5) {
        fprintf(stderr, "berth-execsync: a request of %u bytes, too short\n", len);
        exit(2);
    }
    uint32_t id;
    memcpy(&id, frame, 4);
    id = ntohl(id);
    switch (frame[4]) {
    case OP_RUN:
        start(id, frame + 5, len - 5);
        break;
    case OP_KILL:
        for (size_t i = 0; i < count; i++) {
            if (requests[i].id == id && requests[i].supervisor > 0) {
                kill(requests[i].supervisor, SIGKILL);
            }
        }
        break;
    default:
        refuse(id, "an unknown request");
    }
}

static void reap(void) {
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (size_t i = 0; i < count; i++) {
            if (requests[i].supervisor == pid) {
                requests[i].supervisor = 0;
                requests[i].exited = 1;
                requests[i].code = status_code(status);
                requests[i].deadline = now_ms() + requests[i].drain_ms;
            }
        }
    }
}

static void drain_pipe(struct request *r, int which) {
    static unsigned char buf[CHUNK];
    ssize_t n = read(r->fd[which], buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    if (n <= 0) {
        close(r->fd[which]);
        r->fd[which] = -1;
        return;
    }
    if (!r->done && r->room > 0) {
        uint32_t take = (uint32_t) n < r->room ? (uint32_t) n : r->room;
        r->room -= take;
        reply(r->id, which == 0 ? REPLY_OUT : REPLY_ERR, buf, take);
    }
}

int main(int argc, char **argv) {
    (void) argv;
    if (argc != 1) {
        fprintf(stderr, "usage: berth-execsync (berth starts it and writes its requests on its stdin)\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &original_mask);
    int sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sigfd < 0) {
        fprintf(stderr, "berth-execsync: signalfd: %s\n", strerror(errno));
        return 255;
    }
    unsigned char *in = NULL;
    size_t have = 0, room = 0;
    struct pollfd *fds = NULL;
    size_t *owner = NULL;
    size_t fds_capacity = 0;
    for (;;) {
        size_t want = 2 + 2 * count;
        if (want > fds_capacity) {
            fds = realloc(fds, want * sizeof *fds);
            owner = realloc(owner, want * sizeof *owner);
            if (fds == NULL || owner == NULL) {
                fprintf(stderr, "berth-execsync: out of memory\n");
                return 255;
            }
            fds_capacity = want;
        }
        size_t n = 0;
        fds[n++] = (struct pollfd) {.fd = STDIN_FILENO, .events = POLLIN};
        fds[n++] = (struct pollfd) {.fd = sigfd, .events = POLLIN};
        long long now = now_ms();
        int timeout = -1;
        for (size_t i = 0; i < count; i++) {
            for (int w = 0; w < 2; w++) {
                if (requests[i].fd[w] >= 0) {
                    owner[n] = i * 2 + (size_t) w;
                    fds[n++] = (struct pollfd) {.fd = requests[i].fd[w], .events = POLLIN};
                }
            }
            if (requests[i].exited && !requests[i].done) {
                long long left = requests[i].deadline - now;
                int ms = left < 0 ? 0 : (int) (left > 60000 ? 60000 : left);
                timeout = timeout < 0 || ms < timeout ? ms : timeout;
            }
        }
        if (poll(fds, n, timeout) < 0 && errno != EINTR) {
            fprintf(stderr, "berth-execsync: poll: %s\n", strerror(errno));
            return 255;
        }
        for (size_t k = 2; k < n; k++) {
            if (fds[k].revents != 0) {
                drain_pipe(&requests[owner[k] / 2], (int) (owner[k] % 2));
            }
        }
        if (fds[1].revents != 0) {
            struct signalfd_siginfo info;
            while (read(sigfd, &info, sizeof info) > 0) {
            }
            reap();
        }
        if (fds[0].revents != 0) {
            if (have == room) {
                room = room ? room * 2 : CHUNK;
                in = realloc(in, room);
                if (in == NULL) {
                    fprintf(stderr, "berth-execsync: out of memory\n");
                    return 255;
                }
            }
            ssize_t got = read(STDIN_FILENO, in + have, room - have);
            if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) {
                return 0;
            }
            have += got > 0 ? (size_t) got : 0;
            size_t used = 0;
            while (have - used >= 4) {
                uint32_t len;
                memcpy(&len, in + used, 4);
                len = ntohl(len);
                if (len > MAX_REQUEST) {
                    fprintf(stderr, "berth-execsync: a request of %u bytes, out of step\n", len);
                    return 2;
                }
                if (have - used - 4 < len) {
                    break;
                }
                handle(in + used + 4, len);
                used += 4 + len;
            }
            memmove(in, in + used, have - used);
            have -= used;
        }
        now = now_ms();
        size_t kept = 0;
        for (size_t i = 0; i < count; i++) {
            struct request *r = &requests[i];
            if (r->exited && !r->done && ((r->fd[0] < 0 && r->fd[1] < 0) || now >= r->deadline)) {
                reply_done(r->id, r->code);
                r->done = 1;
            }
            if (!(r->done && r->fd[0] < 0 && r->fd[1] < 0)) {
                requests[kept++] = *r;
            }
        }
        count = kept;
    }
}
