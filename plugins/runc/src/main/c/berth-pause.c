/*
 * berth-pause: the init process of a pod's shared pid namespace, for pods that need nothing else of a pause
 * container. A pid namespace lives only as long as its first process, so a pod whose containers share one needs
 * a process that does nothing but wait and reap the orphans the kernel hands it. This is that process, started
 * without an OCI runtime, conmon or an image.
 *
 *   berth-pause --pid-pin FILE --pid-file FILE --root DIR [--uts FILE] [--ipc FILE] [--net FILE]
 *               [--oom-score-adj N] [--cgroup DIR]...
 *
 * In order: it moves itself into each cgroup DIR (writes 0 to DIR/cgroup.procs), sets its oom_score_adj, joins
 * the namespaces named by --uts, --ipc and --net (the pod's pins), unshares the pid namespace and forks. The child
 * is pid 1 of the new namespace. It detaches (setsid, stdio on /dev/null, every other descriptor closed), chroots
 * into DIR (an empty directory), empties its capability bounding set, drops to uid and gid 65535 with no
 * supplementary groups (which clears every other capability set), sets no_new_privs and installs a seccomp filter that allows only the few calls its loop makes:
 * it runs no code from an image, cannot open a file, exec or create a socket, and is killed if it tries.
 * It then waits for signals: SIGCHLD reaps, SIGINT and SIGTERM end it (as the Kubernetes pause does), SIGKILL from
 * the host ends the pod's pid namespace with everything in it.
 *
 * The parent waits for the child to report (its end of a pipe closes, or carries an error), bind-mounts the new
 * namespace (/proc/CHILD/ns/pid) onto FILE given by --pid-pin, so containers join it by that path and never by a
 * pid that could be reused, writes the child's pid to --pid-file (atomically) and to stdout, and exits 0. On any
 * failure it prints one line to stderr, leaves no process and no mount, and exits 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__)
#define AUDIT_ARCH_NATIVE AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define AUDIT_ARCH_NATIVE AUDIT_ARCH_AARCH64
#else
#error "berth-pause: no seccomp architecture for this target"
#endif

#define PAUSE_ID 65535
#define MAX_CGROUPS 32

static const char *prog = "berth-pause";
static char *args_start;
static size_t args_size;

static void fail(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
	exit(1);
}

static void join_cgroup(const char *dir)
{
	char path[4096];
	if (snprintf(path, sizeof path, "%s/cgroup.procs", dir) >= (int)sizeof path) {
		errno = ENAMETOOLONG;
		fail(dir);
	}
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "0", 1) != 1) {
		fail(path);
	}
	close(fd);
}

static void join_namespace(const char *file, int type)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, type) != 0) {
		fail(file);
	}
	close(fd);
}

#define ALLOW(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

/* Only what the loop below and its set-up end make; anything else kills the process. */
static int install_filter(void)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_NATIVE, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		ALLOW(__NR_rt_sigtimedwait),
		ALLOW(__NR_wait4),
		ALLOW(__NR_close),
		ALLOW(__NR_exit_group),
		ALLOW(__NR_exit),
		ALLOW(__NR_rt_sigreturn),
		ALLOW(__NR_restart_syscall),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	};
	struct sock_fprog fprog = {.len = sizeof filter / sizeof filter[0], .filter = filter};
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog);
}

/* The child's set-up; on failure it writes what failed to REPORT and exits. */
static void become_pause(int report, const char *root, int devnull)
{
	const char *step = "";
	sigset_t all;
	sigfillset(&all);
	if (sigprocmask(SIG_SETMASK, &all, NULL) != 0) {
		step = "sigprocmask";
		goto failed;
	}
	if (setsid() < 0) {
		step = "setsid";
		goto failed;
	}
	if (dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0) {
		step = "stdio";
		goto failed;
	}
	if (report != 3 && (dup2(report, 3) < 0 || close(report) != 0)) {
		step = "report pipe";
		goto failed;
	}
	report = 3;
	if (syscall(SYS_close_range, 4U, ~0U, 0U) != 0) {
		step = "close_range";
		goto failed;
	}
	if (chdir(root) != 0 || chroot(".") != 0 || chdir("/") != 0) {
		step = "chroot";
		goto failed;
	}
	for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
			step = "capability bounding set";
			goto failed;
		}
	}
	if (setgroups(0, NULL) != 0 || setresgid(PAUSE_ID, PAUSE_ID, PAUSE_ID) != 0
	    || setresuid(PAUSE_ID, PAUSE_ID, PAUSE_ID) != 0) {
		step = "drop to uid 65535";
		goto failed;
	}
	/*
	 * Seen from the pod (/proc/1/cmdline) as the Kubernetes pause is, and without the host's paths. The last
	 * byte of the argument area is left non-zero: the kernel then reads the command line up to the first zero
	 * byte, as it does for setproctitle(3), rather than to the end of the area.
	 */
	if (args_size > 8) {
		memset(args_start, 0, args_size);
		memcpy(args_start, "/pause", 7);
		args_start[args_size - 1] = ' ';
	}
	if (prctl(PR_SET_NAME, "pause", 0, 0, 0) != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		step = "prctl";
		goto failed;
	}
	if (install_filter() != 0) {
		step = "seccomp";
		goto failed;
	}
	close(report); /* the parent reads end of file: ready */
	for (;;) {
		siginfo_t info;
		int sig = sigwaitinfo(&all, &info);
		if (sig == SIGINT || sig == SIGTERM) {
			_exit(0);
		}
		if (sig == SIGCHLD) {
			while (waitpid(-1, NULL, WNOHANG) > 0) {
			}
		}
	}
failed:;
	char msg[256];
	int n = snprintf(msg, sizeof msg, "%s: %s", step, strerror(errno));
	if (n > 0 && write(report, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1) < 0) {
		_exit(2);
	}
	_exit(1);
}

static int write_pid_file(const char *file, pid_t pid)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof tmp, "%s.tmp", file) >= (int)sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	FILE *f = fopen(tmp, "we");
	if (f == NULL) {
		return -1;
	}
	if (fprintf(f, "%d\n", (int)pid) < 0) {
		fclose(f);
		return -1;
	}
	return fclose(f) != 0 || rename(tmp, file) != 0 ? -1 : 0;
}

/* Undoes a started pause process: its pin, then the process (the namespace ends with it). */
static void undo(pid_t child, const char *pid_pin, const char *what)
{
	int saved = errno;
	umount2(pid_pin, MNT_DETACH);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	errno = saved;
	fail(what);
}

int main(int argc, char **argv)
{
	args_start = argv[0];
	args_size = (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) + 1 - argv[0]);
	const char *pid_pin = NULL, *pid_file = NULL, *root = NULL, *uts = NULL, *ipc = NULL, *net = NULL;
	const char *oom = NULL;
	const char *cgroups[MAX_CGROUPS];
	int ncgroups = 0;
	static const struct option options[] = {
		{"pid-pin", required_argument, NULL, 'p'}, {"pid-file", required_argument, NULL, 'f'},
		{"root", required_argument, NULL, 'r'}, {"uts", required_argument, NULL, 'u'},
		{"ipc", required_argument, NULL, 'i'}, {"net", required_argument, NULL, 'n'},
		{"oom-score-adj", required_argument, NULL, 'o'}, {"cgroup", required_argument, NULL, 'c'},
		{NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case 'p': pid_pin = optarg; break;
		case 'f': pid_file = optarg; break;
		case 'r': root = optarg; break;
		case 'u': uts = optarg; break;
		case 'i': ipc = optarg; break;
		case 'n': net = optarg; break;
		case 'o': oom = optarg; break;
		case 'c':
			if (ncgroups == MAX_CGROUPS) {
				fprintf(stderr, "%s: more than %d cgroups\n", prog, MAX_CGROUPS);
				return 1;
			}
			cgroups[ncgroups++] = optarg;
			break;
		default: return 1;
		}
	}
	if (pid_pin == NULL || pid_file == NULL || root == NULL || optind != argc) {
		fprintf(stderr, "usage: %s --pid-pin FILE --pid-file FILE --root DIR [--uts FILE] [--ipc FILE] "
				"[--net FILE] [--oom-score-adj N] [--cgroup DIR]...\n", prog);
		return 1;
	}

	for (int i = 0; i < ncgroups; i++) {
		join_cgroup(cgroups[i]);
	}
	if (oom != NULL) {
		int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, oom, strlen(oom)) != (ssize_t)strlen(oom)) {
			fail("oom_score_adj");
		}
		close(fd);
	}
	if (uts != NULL) {
		join_namespace(uts, CLONE_NEWUTS);
	}
	if (ipc != NULL) {
		join_namespace(ipc, CLONE_NEWIPC);
	}
	if (net != NULL) {
		join_namespace(net, CLONE_NEWNET);
	}
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0) {
		fail("/dev/null");
	}
	int pin = open(pid_pin, O_WRONLY | O_CREAT | O_CLOEXEC, 0444);
	if (pin < 0) {
		fail(pid_pin);
	}
	close(pin);
	if (unshare(CLONE_NEWPID) != 0) {
		fail("unshare pid namespace");
	}
	int report[2];
	if (pipe2(report, O_CLOEXEC) != 0) {
		fail("pipe");
	}
	pid_t child = fork();
	if (child < 0) {
		fail("fork");
	}
	if (child == 0) {
		close(report[0]);
		become_pause(report[1], root, devnull);
	}
	close(report[1]);
	char msg[256];
	ssize_t n;
	do {
		n = read(report[0], msg, sizeof msg - 1);
	} while (n < 0 && errno == EINTR);
	int status;
	if (n != 0 || waitpid(child, &status, WNOHANG) != 0) {
		msg[n > 0 ? n : 0] = '\0';
		kill(child, SIGKILL);
		waitpid(child, &status, 0);
		fprintf(stderr, "%s: the pause process failed to start%s%s\n", prog, n > 0 ? ": " : "", msg);
		return 1;
	}
	char ns[64];
	snprintf(ns, sizeof ns, "/proc/%d/ns/pid", (int)child);
	if (mount(ns, pid_pin, NULL, MS_BIND, NULL) != 0) {
		undo(child, pid_pin, "bind-mount of the pid namespace");
	}
	if (write_pid_file(pid_file, child) != 0) {
		undo(child, pid_pin, pid_file);
	}
	printf("%d\n", (int)child);
	return fflush(stdout) == 0 ? 0 : 1;
}
