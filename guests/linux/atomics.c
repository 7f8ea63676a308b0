/*
 * Shared-memory counting across CPUs. usage: atomics [MODE...] [-t THREADS]
 * [-n ADDS] [-p]
 *
 * THREADS threads (default 4) each add 1 to one shared counter ADDS times
 * (default 1,000,000), in each MODE (default: all three):
 *   atomic    __atomic_fetch_add (an LDXR/STXR loop: built for ARMv8.0
 *             without outline atomics, so there is no LSE to fall back on)
 *   mutex     a plain increment under a pthread mutex (futexes when contended)
 *   spinlock  a plain increment under a test-and-set lock of our own, taken
 *             with LDAXR/STXR and released with STLR
 * With -p, thread i is pinned to CPU i and the run fails unless every thread
 * ran where it was pinned.
 *
 * Every total must be exactly THREADS * ADDS. The spinlock's exclusive
 * pair and the locked increment have a branch in their middle, so a
 * translated block (and with it an interrupt, a preemption or a vCPU switch)
 * can end between the load and the store: an exclusive monitor that let a
 * stale STXR succeed, or a lock that let two CPUs in, would lose updates.
 * The spinlock mode counts how often its STXR failed and how often the lock
 * was found taken, to show that the CPUs did contend.
 *
 * One line per mode:
 *   atomics: MODE threads T adds N total X expected X ok ms M [stxr-fail F busy B]
 * and a last line `atomics: all ok` or `atomics: FAILED`; exit status 0 only
 * when every total is exact.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_THREADS 64

enum mode { MODE_ATOMIC, MODE_MUTEX, MODE_SPINLOCK };
static const char *const MODE_NAMES[] = { "atomic", "mutex", "spinlock" };

/* Each on a cache line of its own, so the counter and the lock are what is shared. */
static struct {
	_Alignas(64) unsigned long counter;
	_Alignas(64) unsigned int lock;
	_Alignas(64) pthread_mutex_t mutex;
} shared = { .mutex = PTHREAD_MUTEX_INITIALIZER };

static pthread_barrier_t start;

struct worker {
	pthread_t thread;
	enum mode mode;
	long adds;
	int pin;
	int cpu;
	unsigned long stxr_failures;
	unsigned long busy;
};

/* The plain read-modify-write the locks protect; the branch ends the block between load and store. */
static inline void plain_increment(unsigned long *p)
{
	unsigned long v;
	__asm__ volatile("ldr %0, [%1]\n\t"
			 "b 1f\n"
			 "1:\tadd %0, %0, #1\n\t"
			 "str %0, [%1]"
			 : "=&r"(v)
			 : "r"(p)
			 : "memory");
}

static inline void spin_lock(struct worker *w)
{
	unsigned int old, failed;
	for (;;) {
		__asm__ volatile("ldaxr %w0, [%2]\n\t"
				 "cbnz %w0, 2f\n\t"
				 "b 1f\n"
				 "1:\tstxr %w1, %w3, [%2]\n\t"
				 "b 3f\n"
				 "2:\tclrex\n\t"
				 "mov %w1, #0\n"
				 "3:"
				 : "=&r"(old), "=&r"(failed)
				 : "r"(&shared.lock), "r"(1u)
				 : "memory");
		if (old != 0) {
			w->busy++;
			/* Wait until it looks free before trying again. */
			while (__atomic_load_n(&shared.lock, __ATOMIC_RELAXED) != 0)
				;
			continue;
		}
		if (failed == 0)
			return;
		w->stxr_failures++;
	}
}

static inline void spin_unlock(void)
{
	__asm__ volatile("stlr wzr, [%0]" : : "r"(&shared.lock) : "memory");
}

static void *work(void *arg)
{
	struct worker *w = arg;
	if (w->pin >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(w->pin, &set);
		if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0)
			w->pin = -2;
	}
	pthread_barrier_wait(&start);
	w->cpu = sched_getcpu();
	switch (w->mode) {
	case MODE_ATOMIC:
		for (long i = 0; i < w->adds; i++)
			__atomic_fetch_add(&shared.counter, 1, __ATOMIC_RELAXED);
		break;
	case MODE_MUTEX:
		for (long i = 0; i < w->adds; i++) {
			pthread_mutex_lock(&shared.mutex);
			plain_increment(&shared.counter);
			pthread_mutex_unlock(&shared.mutex);
		}
		break;
	case MODE_SPINLOCK:
		for (long i = 0; i < w->adds; i++) {
			spin_lock(w);
			plain_increment(&shared.counter);
			spin_unlock();
		}
		break;
	}
	return NULL;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Runs one mode; returns 0 when its total is exact. */
static int run(enum mode mode, int threads, long adds, int pin)
{
	struct worker workers[MAX_THREADS];
	memset(workers, 0, sizeof workers);
	shared.counter = 0;
	shared.lock = 0;
	if (pthread_barrier_init(&start, NULL, threads + 1) != 0) {
		printf("atomics: %s: pthread_barrier_init failed\n", MODE_NAMES[mode]);
		return 1;
	}
	for (int i = 0; i < threads; i++) {
		workers[i].mode = mode;
		workers[i].adds = adds;
		workers[i].pin = pin ? i : -1;
		if (pthread_create(&workers[i].thread, NULL, work, &workers[i]) != 0) {
			printf("atomics: %s: pthread_create failed\n", MODE_NAMES[mode]);
			return 1;
		}
	}
	pthread_barrier_wait(&start);
	double began = now_ms();
	unsigned long stxr_failures = 0, busy = 0;
	int misplaced = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(workers[i].thread, NULL);
		stxr_failures += workers[i].stxr_failures;
		busy += workers[i].busy;
		if (pin && (workers[i].pin != i || workers[i].cpu != i))
			misplaced++;
	}
	double ms = now_ms() - began;
	pthread_barrier_destroy(&start);
	unsigned long expected = (unsigned long)threads * adds;
	int ok = shared.counter == expected && misplaced == 0;
	printf("atomics: %s threads %d adds %ld total %lu expected %lu %s ms %.0f", MODE_NAMES[mode],
	       threads, adds, shared.counter, expected, ok ? "ok" : "WRONG", ms);
	if (mode == MODE_SPINLOCK)
		printf(" stxr-fail %lu busy %lu", stxr_failures, busy);
	if (misplaced)
		printf(" (%d threads not on the CPU they were pinned to)", misplaced);
	printf("\n");
	return !ok;
}

int main(int argc, char **argv)
{
	int threads = 4, pin = 0, modes[3], nmodes = 0;
	long adds = 1000000;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) {
			threads = atoi(argv[++i]);
		} else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
			adds = atol(argv[++i]);
		} else if (strcmp(argv[i], "-p") == 0) {
			pin = 1;
		} else {
			int found = -1;
			for (int m = 0; m < 3; m++)
				if (strcmp(argv[i], MODE_NAMES[m]) == 0)
					found = m;
			if (found < 0 || nmodes == 3) {
				fprintf(stderr,
					"usage: atomics [atomic|mutex|spinlock...] [-t THREADS] [-n ADDS] [-p]\n");
				return 2;
			}
			modes[nmodes++] = found;
		}
	}
	if (threads < 1 || threads > MAX_THREADS || adds < 1) {
		fprintf(stderr, "atomics: threads must be 1 to %d and adds at least 1\n", MAX_THREADS);
		return 2;
	}
	if (nmodes == 0) {
		for (int m = 0; m < 3; m++)
			modes[nmodes++] = m;
	}
	int failed = 0;
	for (int i = 0; i < nmodes; i++)
		failed |= run(modes[i], threads, adds, pin);
	printf("atomics: %s\n", failed ? "FAILED" : "all ok");
	return failed;
}
