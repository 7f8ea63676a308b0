/*
 * A guest's timer and console under load, for the network fairness tests:
 * `ticker COUNT PERIOD_MS` sleeps PERIOD_MS COUNT times on CLOCK_MONOTONIC
 * absolute deadlines and prints a console line at each
 * (`tick I late_us L`, how late the wake-up came), then
 * `ticker: COUNT ticks, max late_us M, total_ms T`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long long ns(const struct timespec *t)
{
	return t->tv_sec * 1000000000LL + t->tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: ticker COUNT PERIOD_MS\n");
		return 2;
	}
	int count = atoi(argv[1]);
	long long period = atoll(argv[2]) * 1000000LL;
	struct timespec start, deadline, woke;
	clock_gettime(CLOCK_MONOTONIC, &start);
	long long max_late = 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i <= count; i++) {
		long long when = ns(&start) + i * period;
		deadline.tv_sec = when / 1000000000LL;
		deadline.tv_nsec = when % 1000000000LL;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL);
		clock_gettime(CLOCK_MONOTONIC, &woke);
		long long late = ns(&woke) - when;
		if (late > max_late)
			max_late = late;
		printf("tick %d late_us %lld\n", i, late / 1000);
	}
	printf("ticker: %d ticks, max late_us %lld, total_ms %lld\n", count, max_late / 1000,
	       (ns(&woke) - ns(&start)) / 1000000);
	return 0;
}
