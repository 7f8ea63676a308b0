/*
 * Translated-code coherence as a Linux user sees it: the same path is
 * rewritten with a different program N times, and each version must run as
 * written. usage: rewrite BASE TARGET N
 *
 * BASE is `variant`. Version i is BASE with its placeholder MOVZ immediate
 * replaced by i, written over TARGET (truncated in place, through the page
 * cache), then run with its output captured; it must print "variant i".
 * Prints one line per run and a summary; exits 0 only if every run printed
 * its own number.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PLACEHOLDER 0xbeefu
/* MOVZ Wd, #imm16: 0x52800000 | imm16 << 5 | Rd. */
#define MOVZ_W_OPCODE_MASK 0xffe00000u
#define MOVZ_W 0x52800000u
#define IMM16_MASK (0xffffu << 5)

static unsigned char *read_file(const char *path, size_t *size)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0)
		return NULL;
	unsigned char *data = malloc(st.st_size);
	size_t done = 0;
	while (data && done < (size_t)st.st_size) {
		ssize_t n = read(fd, data + done, st.st_size - done);
		if (n <= 0) {
			free(data);
			data = NULL;
			break;
		}
		done += n;
	}
	close(fd);
	*size = done;
	return data;
}

static long find_placeholder(const unsigned char *data, size_t size)
{
	long found = -1;
	for (size_t at = 0; at + 4 <= size; at += 4) {
		unsigned word;
		memcpy(&word, data + at, 4);
		if ((word & MOVZ_W_OPCODE_MASK) == MOVZ_W && (word & IMM16_MASK) == PLACEHOLDER << 5) {
			if (found >= 0)
				return -2;
			found = at;
		}
	}
	return found;
}

static int write_file(const char *path, const unsigned char *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	if (fd < 0)
		return -1;
	size_t done = 0;
	while (done < size) {
		ssize_t n = write(fd, data + done, size - done);
		if (n <= 0) {
			close(fd);
			return -1;
		}
		done += n;
	}
	return close(fd);
}

/* Runs path, returns what it printed (NUL-terminated, at most cap - 1 bytes) or -1. */
static int run(const char *path, char *out, size_t cap)
{
	int pipefd[2];
	if (pipe(pipefd) != 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		close(pipefd[1]);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	size_t len = 0;
	ssize_t n;
	while (len + 1 < cap && (n = read(pipefd[0], out + len, cap - 1 - len)) > 0)
		len += n;
	out[len] = 0;
	close(pipefd[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: rewrite BASE TARGET N\n");
		return 2;
	}
	size_t size;
	unsigned char *base = read_file(argv[1], &size);
	if (!base) {
		fprintf(stderr, "rewrite: cannot read %s\n", argv[1]);
		return 2;
	}
	long at = find_placeholder(base, size);
	if (at < 0) {
		fprintf(stderr, "rewrite: %s has %s placeholder instruction\n", argv[1],
			at == -1 ? "no" : "more than one");
		return 2;
	}
	unsigned runs = strtoul(argv[3], NULL, 10), right = 0;
	unsigned original;
	memcpy(&original, base + at, 4);
	for (unsigned i = 1; i <= runs; i++) {
		unsigned word = (original & ~IMM16_MASK) | (i & 0xffff) << 5;
		memcpy(base + at, &word, 4);
		char out[64], want[64];
		snprintf(want, sizeof want, "variant %u\n", i & 0xffff);
		if (write_file(argv[2], base, size) != 0) {
			printf("rewrite: run %u: cannot write %s: %s\n", i, argv[2], strerror(errno));
			continue;
		}
		if (run(argv[2], out, sizeof out) != 0) {
			printf("rewrite: run %u: the program failed\n", i);
			continue;
		}
		int ok = strcmp(out, want) == 0;
		right += ok;
		out[strcspn(out, "\n")] = 0;
		printf("rewrite: run %u printed \"%s\": %s\n", i, out, ok ? "ok" : "WRONG");
	}
	printf("rewrite: %u of %u runs printed their own number\n", right, runs);
	return right == runs ? 0 : 1;
}
