/*
 * The PMU as Linux's perf sees it: a CPU-cycles counter counts up while the
 * program runs and stands still while it is disabled; a sampling cycles
 * event overflows again and again, each overflow an interrupt the kernel
 * turns into a SIGIO here; and instructions, an event the PMU does not list
 * in PMCEID0 (as QEMU's cortex-a72 without -icount), cannot be opened at all
 * instead of counting wrong. Prints one line per check ("... ok" or
 * "... FAIL") and exits 0 when all pass.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int failures;

static void report(const char *what, int ok, unsigned long long a, unsigned long long b)
{
	printf("perf_cycles: %s (%llu, %llu): %s\n", what, a, b, ok ? "ok" : "FAIL");
	if (!ok)
		failures++;
}

static int open_event(uint32_t type, uint64_t config, uint64_t period)
{
	struct perf_event_attr attr;
	memset(&attr, 0, sizeof attr);
	attr.size = sizeof attr;
	attr.type = type;
	attr.config = config;
	attr.disabled = 1;
	attr.exclude_hv = 1;
	if (period) {
		attr.sample_period = period;
		attr.wakeup_events = 1;
	}
	return (int)syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
}

static volatile unsigned long sink;

static void work(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		sink += i;
}

static uint64_t count(int fd)
{
	uint64_t v = 0;
	if (read(fd, &v, sizeof v) != sizeof v)
		return 0;
	return v;
}

static volatile sig_atomic_t overflows;

static void on_sigio(int sig)
{
	(void)sig;
	overflows++;
}

int main(void)
{
	int fd = open_event(PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, 0);
	if (fd < 0) {
		printf("perf_cycles: cycles: perf_event_open failed: %s: FAIL\n", strerror(errno));
		return 1;
	}
	ioctl(fd, PERF_EVENT_IOC_RESET, 0);
	ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
	work(2000000);
	uint64_t a = count(fd);
	work(2000000);
	uint64_t b = count(fd);
	report("cycles count up while enabled", a > 0 && b > a, a, b);
	ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
	uint64_t c = count(fd);
	work(2000000);
	uint64_t d = count(fd);
	report("cycles stand still while disabled", c == d, c, d);
	close(fd);

	fd = open_event(PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS, 0);
	report("instructions (not in PMCEID0) cannot be opened", fd < 0 && errno == ENOENT,
	       (unsigned long long)(fd < 0 ? errno : 0), ENOENT);
	if (fd >= 0)
		close(fd);

	/* 100000 cycles a sample: many overflows, each an interrupt, each a SIGIO. */
	signal(SIGIO, on_sigio);
	fd = open_event(PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, 100000);
	if (fd < 0) {
		printf("perf_cycles: sampling: perf_event_open failed: %s: FAIL\n", strerror(errno));
		return 1;
	}
	fcntl(fd, F_SETOWN, getpid());
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC);
	ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
	work(20000000);
	ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
	uint64_t total = count(fd);
	report("sampling cycles: overflows delivered as SIGIO", overflows >= 2, overflows, 2);
	report("sampling cycles: counted", total >= 200000, total, 200000);
	close(fd);
	printf("perf_cycles: %s\n", failures ? "FAILED" : "all ok");
	return failures ? 1 : 0;
}
