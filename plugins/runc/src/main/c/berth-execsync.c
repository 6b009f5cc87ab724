/*
 * berth-execsync: one synchronous exec in a running container (CRI's ExecSync, which the kubelet's exec probes send).
 *
 *   berth-execsync PIDFILE RUNTIME [ARGS...]
 *
 * berth runs it as "berth-execsync F runc [global flags] exec --detach --pid-file F --process SPEC ID" (or crun). It
 * runs the runtime with its own stdin, stdout and stderr, which the runtime's detached exec hands to the command:
 * berth reads the command's output from the pipes it gave this program. This program is a child subreaper, so the
 * command becomes its child when the runtime exits after starting it; it waits for the command and exits with its
 * status, 128 + the signal for a command a signal ended (what the runtime's foreground exec and a shell report).
 *
 * A runtime that fails exits non-zero without writing PIDFILE, its error on stderr: this program exits with the
 * runtime's status. Without a pid in PIDFILE after a runtime that succeeded, it says so on stderr and exits 255.
 *
 * Why not the runtime's foreground exec: runc's copies the output through pipes of its own and exits only once they
 * have ended, so a command that leaves a child holding its stdout (a probe that starts something in the background)
 * would hold the call until that child exits. Here nothing waits for the output; berth reads what arrives. Orphans
 * the command leaves become this program's children while it runs and are left to the next reaper when it exits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int status_code(int status) {
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    if (WIFSIGNALED(status)) {
        return 128 + WTERMSIG(status);
    }
    return 255;
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

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: berth-execsync PIDFILE RUNTIME [ARGS...]\n");
        return 2;
    }
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
        execvp(argv[2], argv + 2);
        fprintf(stderr, "berth-execsync: cannot run %s: %s\n", argv[2], strerror(errno));
        _exit(127);
    }
    int status;
    while (waitpid(runtime, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "berth-execsync: waiting for %s: %s\n", argv[2], strerror(errno));
            return 255;
        }
    }
    if (status_code(status) != 0) {
        return status_code(status);
    }
    pid_t command = read_pid(argv[1]);
    if (command < 0) {
        fprintf(stderr, "berth-execsync: %s wrote no pid to %s\n", argv[2], argv[1]);
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
