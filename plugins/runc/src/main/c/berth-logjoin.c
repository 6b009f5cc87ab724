/*
 * berth-logjoin: sits between conmon and a container's CRI log file and joins the partial records conmon writes
 * when it reads the container's pipe between two write()s of one line.
 *
 *   berth-logjoin FIFO LOG PIDFILE
 *
 * conmon writes its k8s-file log (<RFC3339Nano> <stream> <P|F> <message>) into FIFO; this program appends the
 * records to LOG. A partial (P) record is held for up to HOLD_MS, and the records of the same stream that follow
 * in that time are appended to it, up to MAX_MESSAGE bytes; the joined record keeps the first one's timestamp and
 * the last one's tag. Records that are not held, and anything that does not parse, are written unchanged; what
 * one read from the FIFO yields is appended with one write(2). So a line a program writes in pieces reaches the
 * file whole, while output that stops without a newline (a prompt) still reaches the file within HOLD_MS, as a
 * P record.
 *
 * It opens both files, writes PIDFILE (atomically) with the pid of a detached copy of itself, and exits 0; the
 * copy runs until every writer of FIFO has gone (conmon exits after the container), writes what it holds and
 * removes PIDFILE. SIGHUP reopens LOG (log rotation: the kubelet renamed it). It never reads the container's
 * own pipes, so if it dies, conmon's writes fail (conmon ignores SIGPIPE) and the container is not blocked.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define HOLD_MS 50
#define MAX_MESSAGE (16 * 1024)
#define IN_SIZE (256 * 1024)
#define MAX_PREFIX 96
/* Room for the largest record: prefix, tag and space, message, newline. */
#define OUT_SIZE (64 * 1024)

struct held {
	char prefix[MAX_PREFIX]; /* "<timestamp> <stream> " of the first record */
	size_t prefix_len;
	char message[MAX_MESSAGE];
	size_t len;
	int active;
	long long deadline_ms;
};

static const char *log_path;
static int log_fd = -1;
static volatile sig_atomic_t reopen_requested;
static struct held held[2]; /* 0: stdout, 1: stderr */
static char in[IN_SIZE];
static size_t in_len;

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int open_log(void)
{
	return open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
}

static void on_hup(int sig)
{
	(void)sig;
	reopen_requested = 1;
}

static void flush_out(void);

static void reopen_log(void)
{
	reopen_requested = 0;
	flush_out();
	int fd = open_log();
	if (fd < 0)
		return; /* keep writing to the old file rather than lose lines */
	close(log_fd);
	log_fd = fd;
}

/* Writes to the file; errors (a full disk) drop what was to be written, as conmon does. */
static void write_file(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(log_fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

/*
 * Output is gathered and written once per read from the FIFO (as conmon writes once per read from the pipe),
 * so the file only ever gets whole records, and a chatty container's short lines cost no write(2) each.
 */
static char out[OUT_SIZE];
static size_t out_len;

static void flush_out(void)
{
	write_file(out, out_len);
	out_len = 0;
}

static void write_all(const char *buf, size_t len)
{
	if (out_len + len > OUT_SIZE)
		flush_out();
	if (len > OUT_SIZE) {
		write_file(buf, len);
		return;
	}
	memcpy(out + out_len, buf, len);
	out_len += len;
}

static void write_record(const char *prefix, size_t prefix_len, char tag, const char *msg, size_t len)
{
	size_t n = prefix_len + 2 + len + 1;
	if (out_len + n > OUT_SIZE)
		flush_out();
	memcpy(out + out_len, prefix, prefix_len);
	out_len += prefix_len;
	out[out_len++] = tag;
	out[out_len++] = ' ';
	memcpy(out + out_len, msg, len);
	out_len += len;
	out[out_len++] = '\n';
}

static void flush_held(struct held *h)
{
	if (!h->active)
		return;
	write_record(h->prefix, h->prefix_len, 'P', h->message, h->len);
	h->active = 0;
	h->len = 0;
}

static void flush_all(void)
{
	flush_held(&held[0]);
	flush_held(&held[1]);
}

/*
 * Splits "<timestamp> <stream> <tag> <message>" without copying. Returns 0 when the record does not have that
 * shape; the message may be empty.
 */
static int parse(const char *rec, size_t len, size_t *prefix_len, int *stream, char *tag, size_t *msg_off)
{
	const char *sp1 = memchr(rec, ' ', len);
	if (sp1 == NULL || sp1 == rec)
		return 0;
	size_t rest = len - (size_t)(sp1 + 1 - rec);
	const char *stream_start = sp1 + 1;
	if (rest >= 7 && memcmp(stream_start, "stdout ", 7) == 0)
		*stream = 0;
	else if (rest >= 7 && memcmp(stream_start, "stderr ", 7) == 0)
		*stream = 1;
	else
		return 0;
	*prefix_len = (size_t)(stream_start + 7 - rec);
	if (*prefix_len > MAX_PREFIX || len < *prefix_len + 1)
		return 0;
	*tag = rec[*prefix_len];
	if (*tag != 'P' && *tag != 'F')
		return 0;
	if (len == *prefix_len + 1) {
		*msg_off = len;
		return 1;
	}
	if (rec[*prefix_len + 1] != ' ')
		return 0;
	*msg_off = *prefix_len + 2;
	return 1;
}

/* Handles one record without its newline. */
static void handle(const char *rec, size_t len)
{
	size_t prefix_len, msg_off;
	int stream;
	char tag;
	if (!parse(rec, len, &prefix_len, &stream, &tag, &msg_off)) {
		flush_all(); /* keep the file's order around what we do not understand */
		write_all(rec, len);
		write_all("\n", 1);
		return;
	}
	const char *msg = rec + msg_off;
	size_t msg_len = len - msg_off;
	struct held *h = &held[stream];
	if (h->active && h->len + msg_len > MAX_MESSAGE)
		flush_held(h);
	if (h->active) {
		memcpy(h->message + h->len, msg, msg_len);
		h->len += msg_len;
		if (tag == 'F') {
			write_record(h->prefix, h->prefix_len, 'F', h->message, h->len);
			h->active = 0;
			h->len = 0;
		}
		return;
	}
	if (tag == 'P' && msg_len <= MAX_MESSAGE) {
		memcpy(h->prefix, rec, prefix_len);
		h->prefix_len = prefix_len;
		memcpy(h->message, msg, msg_len);
		h->len = msg_len;
		h->active = 1;
		h->deadline_ms = now_ms() + HOLD_MS;
		return;
	}
	write_all(rec, len);
	write_all("\n", 1);
}

/* Handles every whole record in the input buffer and keeps the rest. */
static void drain_input(void)
{
	size_t start = 0;
	for (;;) {
		char *nl = memchr(in + start, '\n', in_len - start);
		if (nl == NULL)
			break;
		handle(in + start, (size_t)(nl - (in + start)));
		start = (size_t)(nl - in) + 1;
	}
	if (start == 0 && in_len == IN_SIZE) {
		/* No record is this long; pass it on rather than stall. */
		flush_all();
		write_all(in, in_len);
		in_len = 0;
		return;
	}
	memmove(in, in + start, in_len - start);
	in_len -= start;
}

static void expire(void)
{
	long long now = now_ms();
	for (int i = 0; i < 2; i++)
		if (held[i].active && held[i].deadline_ms <= now)
			flush_held(&held[i]);
}

static int poll_timeout(void)
{
	long long next = -1;
	for (int i = 0; i < 2; i++)
		if (held[i].active && (next < 0 || held[i].deadline_ms < next))
			next = held[i].deadline_ms;
	if (next < 0)
		return -1;
	long long wait = next - now_ms();
	return wait < 0 ? 0 : (int)wait;
}

static int run(int fifo)
{
	struct pollfd p = {.fd = fifo, .events = POLLIN};
	for (;;) {
		if (reopen_requested)
			reopen_log();
		int r = poll(&p, 1, poll_timeout());
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (r == 0) {
			expire();
			flush_out();
			continue;
		}
		if (p.revents & POLLIN) {
			ssize_t n = read(fifo, in + in_len, IN_SIZE - in_len);
			if (n > 0) {
				in_len += (size_t)n;
				drain_input();
				expire();
				flush_out();
				continue;
			}
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n < 0)
				break;
			/* n == 0: every writer has gone */
			break;
		}
		if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
			break; /* POLLHUP on a FIFO comes only after a writer has been and gone */
	}
	flush_all();
	if (in_len > 0) {
		write_all(in, in_len);
		write_all("\n", 1);
	}
	flush_out();
	return 0;
}

static int write_pidfile(const char *path, pid_t pid)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
		return -1;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%d\n", (int)pid);
	/* No fsync: after a crash of the node the process this names is gone anyway. */
	if (write(fd, buf, (size_t)n) != n) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: berth-logjoin FIFO LOG PIDFILE\n");
		return 2;
	}
	const char *fifo_path = argv[1];
	log_path = argv[2];
	const char *pidfile = argv[3];

	struct stat st;
	if (stat(fifo_path, &st) < 0 || !S_ISFIFO(st.st_mode)) {
		fprintf(stderr, "berth-logjoin: %s is not a FIFO\n", fifo_path);
		return 1;
	}
	/* Non-blocking: opening the reading end must not wait for conmon, which opens it after we are ready. */
	int fifo = open(fifo_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fifo < 0) {
		fprintf(stderr, "berth-logjoin: cannot open %s: %s\n", fifo_path, strerror(errno));
		return 1;
	}
	log_fd = open_log();
	if (log_fd < 0) {
		fprintf(stderr, "berth-logjoin: cannot open %s: %s\n", log_path, strerror(errno));
		return 1;
	}

	/* Before the fork, so that a SIGHUP sent as soon as the pid file names the copy finds the handler. */
	struct sigaction sa = {0};
	sa.sa_handler = on_hup;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	pid_t child = fork();
	if (child < 0) {
		fprintf(stderr, "berth-logjoin: fork: %s\n", strerror(errno));
		return 1;
	}
	if (child > 0) {
		if (write_pidfile(pidfile, child) < 0) {
			fprintf(stderr, "berth-logjoin: cannot write %s: %s\n", pidfile, strerror(errno));
			kill(child, SIGKILL);
			return 1;
		}
		return 0;
	}

	setsid();
	int null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
	int rc = run(fifo);
	unlink(pidfile);
	return rc;
}
