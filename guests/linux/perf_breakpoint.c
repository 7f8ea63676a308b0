/*
 * Hardware breakpoints through perf_event_open, as root: an execution
 * breakpoint on a function and a write watchpoint on a variable, enabled
 * while the function runs and the variable is written ROUNDS times. The
 * kernel programs the debug registers of the CPU; whatever the VMM does with
 * them, the machine must carry on. Prints what each event counted (a VMM
 * that does not fire the debug exceptions counts 0) and "perf_breakpoint:
 * done"; exits 0 when the calls and the code ran, whatever the counts.
 */
#include <errno.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ROUNDS 1000

static volatile unsigned long watched;

__attribute__((noinline)) static unsigned long target(unsigned long x)
{
	__asm__ volatile("" ::: "memory");
	return x * 3 + 1;
}

static int open_breakpoint(unsigned type, uintptr_t addr, unsigned len)
{
	struct perf_event_attr attr;
	memset(&attr, 0, sizeof attr);
	attr.size = sizeof attr;
	attr.type = PERF_TYPE_BREAKPOINT;
	attr.bp_type = type;
	attr.bp_addr = addr;
	attr.bp_len = len;
	attr.sample_period = 1;
	attr.disabled = 1;
	attr.exclude_kernel = 1;
	attr.exclude_hv = 1;
	return (int)syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
}

static void report(const char *what, int fd, int err)
{
	if (fd < 0) {
		printf("perf_breakpoint: %s: perf_event_open failed: %s\n", what, strerror(err));
		return;
	}
	unsigned long long count = 0;
	if (read(fd, &count, sizeof count) != sizeof count)
		printf("perf_breakpoint: %s: read failed: %s\n", what, strerror(errno));
	else
		printf("perf_breakpoint: %s: counted %llu of %d\n", what, count, ROUNDS);
	close(fd);
}

int main(void)
{
	int exec_fd = open_breakpoint(HW_BREAKPOINT_X, (uintptr_t)target, sizeof(long));
	int exec_err = errno;
	int write_fd = open_breakpoint(HW_BREAKPOINT_W, (uintptr_t)&watched, sizeof(watched));
	int write_err = errno;
	if (exec_fd >= 0)
		ioctl(exec_fd, PERF_EVENT_IOC_ENABLE, 0);
	if (write_fd >= 0)
		ioctl(write_fd, PERF_EVENT_IOC_ENABLE, 0);
	unsigned long sum = 0;
	for (unsigned long i = 0; i < ROUNDS; i++) {
		sum += target(i);
		watched = sum;
	}
	if (exec_fd >= 0)
		ioctl(exec_fd, PERF_EVENT_IOC_DISABLE, 0);
	if (write_fd >= 0)
		ioctl(write_fd, PERF_EVENT_IOC_DISABLE, 0);
	report("execution breakpoint", exec_fd, exec_err);
	report("write watchpoint", write_fd, write_err);
	/* sum of 3i + 1 for i < ROUNDS */
	unsigned long want = 3UL * ROUNDS * (ROUNDS - 1) / 2 + ROUNDS;
	int ok = sum == want && watched == want;
	printf("perf_breakpoint: the code computed %lu (want %lu): %s\n", sum, want,
	       ok ? "ok" : "WRONG");
	printf("perf_breakpoint: done\n");
	return ok ? 0 : 1;
}
