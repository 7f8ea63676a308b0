/*
 * Floods an IPv4 address with UDP datagrams for the network fairness tests:
 * `udpflood ADDRESS PORT SECONDS SIZE` sends SIZE-byte datagrams to
 * ADDRESS:PORT as fast as the stack takes them for SECONDS, ignoring
 * errors (a full queue, an ICMP port unreachable), then prints
 * `udpflood: sent N datagrams` and exits 0.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: udpflood ADDRESS PORT SECONDS SIZE\n");
		return 2;
	}
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])) };
	if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
		fprintf(stderr, "udpflood: %s is not an IPv4 address\n", argv[1]);
		return 2;
	}
	double end = now() + atof(argv[3]);
	size_t size = (size_t)atoi(argv[4]);
	static char payload[65536];
	if (size > sizeof(payload))
		size = sizeof(payload);
	memset(payload, 0x5a, size);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("udpflood: socket");
		return 1;
	}
	unsigned long sent = 0;
	while (now() < end) {
		for (int i = 0; i < 64; i++)
			if (sendto(fd, payload, size, 0, (struct sockaddr *)&to, sizeof(to)) >= 0)
				sent++;
	}
	printf("udpflood: sent %lu datagrams\n", sent);
	return 0;
}
