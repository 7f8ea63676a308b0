/*
 * TCP throughput between guests without a shell tool's small buffers in the
 * way (busybox nc moves 1 KiB per system call): `tcpblast recv PORT` accepts
 * one connection and reads it to the end with 256 KiB reads, then prints
 * `tcpblast: received N bytes in S s`, timed from the first byte; `tcpblast
 * send ADDRESS PORT MIB` connects (retrying for 10 s while the receiver is
 * not listening yet), writes MIB MiB in 256 KiB writes and closes.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (256 * 1024)

static char buffer[CHUNK];

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int receive(int port)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in at = { .sin_family = AF_INET, .sin_port = htons(port) };
	if (s < 0 || bind(s, (struct sockaddr *)&at, sizeof(at)) < 0 || listen(s, 1) < 0) {
		perror("tcpblast: listen");
		return 1;
	}
	printf("tcpblast: listening\n");
	fflush(stdout);
	int c = accept(s, NULL, NULL);
	if (c < 0) {
		perror("tcpblast: accept");
		return 1;
	}
	unsigned long long total = 0;
	double first = 0;
	for (;;) {
		ssize_t n = read(c, buffer, sizeof(buffer));
		if (n < 0) {
			perror("tcpblast: read");
			return 1;
		}
		if (n == 0)
			break;
		if (total == 0)
			first = now();
		total += (unsigned long long)n;
	}
	printf("tcpblast: received %llu bytes in %.6f s\n", total, now() - first);
	return 0;
}

static int send_(const char *address, int port, int mib)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
	if (inet_pton(AF_INET, address, &to.sin_addr) != 1) {
		fprintf(stderr, "tcpblast: %s is not an IPv4 address\n", address);
		return 2;
	}
	int s = -1;
	for (double end = now() + 10; now() < end; usleep(100000)) {
		s = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(s, (struct sockaddr *)&to, sizeof(to)) == 0)
			break;
		close(s);
		s = -1;
	}
	if (s < 0) {
		perror("tcpblast: connect");
		return 1;
	}
	memset(buffer, 0x5a, sizeof(buffer));
	for (long left = (long)mib * 1024 * 1024; left > 0;) {
		ssize_t n = write(s, buffer, left < CHUNK ? (size_t)left : CHUNK);
		if (n <= 0) {
			perror("tcpblast: write");
			return 1;
		}
		left -= n;
	}
	close(s);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "recv") == 0)
		return receive(atoi(argv[2]));
	if (argc == 5 && strcmp(argv[1], "send") == 0)
		return send_(argv[2], atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr, "usage: tcpblast recv PORT | tcpblast send ADDRESS PORT MIB\n");
	return 2;
}
