/*
 * Self-hosted debug as Linux uses it, counted exactly:
 *
 * - ptrace: a child stops itself, and the parent single-steps it with
 *   PTRACE_SINGLESTEP (MDSCR_EL1.SS and SPSR.SS underneath) until it enters
 *   a region of REGION_INSNS instructions, then counts the steps through it.
 * - perf_event_open with PERF_TYPE_BREAKPOINT: an execution breakpoint on a
 *   function and a write watchpoint on a variable (DBGBCR/DBGWCR
 *   underneath), while the function runs and the variable is written ROUNDS
 *   times; the kernel steps over each hit, so both count exactly ROUNDS.
 *
 * Prints one line per count and "debug_counts: done"; exits 0 when every
 * count is exact.
 */
#include <elf.h>
#include <errno.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define ROUNDS 1000
#define REGION_INSNS 8
#define MAX_STEPS 200000

/* REGION_INSNS additions, then the return the count stops at. */
void region(void);
extern char region_end[];
__asm__(".text\n"
	".global region, region_end\n"
	"region:\n"
	"add x0, x0, #1\n add x0, x0, #1\n add x0, x0, #1\n add x0, x0, #1\n"
	"add x0, x0, #1\n add x0, x0, #1\n add x0, x0, #1\n add x0, x0, #1\n"
	"region_end:\n"
	"ret\n");

static volatile unsigned long watched;

__attribute__((noinline)) static unsigned long target(unsigned long x)
{
	__asm__ volatile("" ::: "memory");
	return x * 3 + 1;
}

static unsigned long child_pc(pid_t pid)
{
	struct {
		unsigned long regs[31], sp, pc, pstate;
	} regs;
	struct iovec io = {&regs, sizeof regs};
	if (ptrace(PTRACE_GETREGSET, pid, (void *)NT_PRSTATUS, &io) != 0)
		return 0;
	return regs.pc;
}

/* Steps through `region` in a child; returns the steps inside it, or -1. */
static long ptrace_steps(long *total)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		region();
		_exit(0);
	}
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status))
		return -1;
	long inside = 0;
	int entered = 0;
	for (*total = 0; *total < MAX_STEPS; ++*total) {
		unsigned long pc = child_pc(pid);
		if (pc == (unsigned long)region)
			entered = 1;
		if (entered && pc == (unsigned long)region_end)
			break;
		if (entered)
			inside++;
		if (ptrace(PTRACE_SINGLESTEP, pid, 0, 0) != 0)
			return -1;
		if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status)) {
			/* The child ran to its end: no step was taken. */
			return entered ? inside : -1;
		}
	}
	ptrace(PTRACE_CONT, pid, 0, 0);
	waitpid(pid, &status, 0);
	return *total < MAX_STEPS ? inside : -1;
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

static long long count_of(int fd)
{
	unsigned long long count = 0;
	if (fd < 0 || read(fd, &count, sizeof count) != sizeof count)
		return -1;
	close(fd);
	return (long long)count;
}

int main(void)
{
	int ok = 1;
	long total = 0;
	long steps = ptrace_steps(&total);
	printf("debug_counts: ptrace stepped the region in %ld steps (want %d), %ld steps in all\n",
	       steps, REGION_INSNS, total);
	ok &= steps == REGION_INSNS;

	int exec_fd = open_breakpoint(HW_BREAKPOINT_X, (uintptr_t)target, sizeof(long));
	if (exec_fd < 0)
		printf("debug_counts: perf_event_open (execute): %s\n", strerror(errno));
	int write_fd = open_breakpoint(HW_BREAKPOINT_W, (uintptr_t)&watched, sizeof(watched));
	if (write_fd < 0)
		printf("debug_counts: perf_event_open (write): %s\n", strerror(errno));
	ioctl(exec_fd, PERF_EVENT_IOC_ENABLE, 0);
	ioctl(write_fd, PERF_EVENT_IOC_ENABLE, 0);
	unsigned long sum = 0;
	for (unsigned long i = 0; i < ROUNDS; i++) {
		sum += target(i);
		watched = sum;
	}
	ioctl(exec_fd, PERF_EVENT_IOC_DISABLE, 0);
	ioctl(write_fd, PERF_EVENT_IOC_DISABLE, 0);
	long long executed = count_of(exec_fd);
	long long written = count_of(write_fd);
	printf("debug_counts: execution breakpoint counted %lld (want %d)\n", executed, ROUNDS);
	printf("debug_counts: write watchpoint counted %lld (want %d)\n", written, ROUNDS);
	unsigned long want = 3UL * ROUNDS * (ROUNDS - 1) / 2 + ROUNDS;
	printf("debug_counts: the code computed %lu (want %lu)\n", sum, want);
	ok &= executed == ROUNDS && written == ROUNDS && sum == want && watched == want;
	printf("debug_counts: done, %s\n", ok ? "all exact" : "WRONG");
	return ok ? 0 : 1;
}
