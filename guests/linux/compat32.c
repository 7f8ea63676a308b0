/*
 * A 32-bit ARM (AArch32, EABI hard-float) static program for the arm64
 * guest: it runs at EL0 in AArch32 state under the kernel's compat layer.
 * It prints, makes system calls (uname, personality, getpid, pipe, read,
 * write, open, clock_gettime, nanosleep), computes in VFP, takes a signal it
 * raises, a timer signal that interrupts a busy loop, SIGILL for an
 * undefined instruction and SIGSEGV for a load from an unmapped page, and
 * exits 0 if every check held. Each check prints one "compat32: NAME: ok" or
 * "compat32: NAME: FAILED ..." line.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static int failures;

static void check(const char *name, int ok, const char *detail)
{
	printf("compat32: %s: %s%s%s\n", name, ok ? "ok" : "FAILED", ok ? "" : " ", ok ? "" : detail);
	if (!ok)
		failures++;
}

static volatile sig_atomic_t usr1_seen, alarm_seen;
static sigjmp_buf recover;
static volatile int fault_signal;
/* Page 0 is never mapped; volatile so the compiler keeps the load. */
static volatile int *volatile page0 = (volatile int *)16;
static void *volatile fault_address;

static void on_usr1(int sig) { usr1_seen = sig; }
static void on_alarm(int sig) { alarm_seen = sig; }

static void on_fault(int sig, siginfo_t *info, void *context)
{
	(void)context;
	fault_signal = sig;
	fault_address = info->si_addr;
	siglongjmp(recover, 1);
}

int main(void)
{
	char buf[128];

	printf("compat32: hello from %zu-bit user space\n", sizeof(void *) * 8);

	/*
	 * A 32-bit task reports the kernel's machine (aarch64) until it asks
	 * for the 32-bit personality, as on arm64 hardware (`linux32`); then
	 * the compat uname says armv8l.
	 */
	struct utsname u;
	int named = uname(&u) == 0;
	printf("compat32: uname machine %s\n", named ? u.machine : "?");
	named = named && personality(PER_LINUX32) != -1 && uname(&u) == 0;
	snprintf(buf, sizeof buf, "machine %s", named ? u.machine : "?");
	check("uname under PER_LINUX32", named && strcmp(u.machine, "armv8l") == 0, buf);

	check("getpid", getpid() > 1 && getppid() >= 1, "no pid");

	int fds[2];
	const char msg[] = "through a pipe";
	int ok = pipe(fds) == 0 && write(fds[1], msg, sizeof msg) == (ssize_t)sizeof msg;
	memset(buf, 0, sizeof buf);
	ok = ok && read(fds[0], buf, sizeof buf) == (ssize_t)sizeof msg && strcmp(buf, msg) == 0;
	check("pipe, write, read", ok, buf);

	int fd = open("/proc/self/status", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
	buf[n > 0 ? n : 0] = 0;
	check("open, read /proc/self/status", n > 0 && strncmp(buf, "Name:", 5) == 0, buf);

	struct timespec t0, t1, nap = {0, 20 * 1000 * 1000};
	clock_gettime(CLOCK_MONOTONIC, &t0);
	nanosleep(&nap, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long long slept = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
	snprintf(buf, sizeof buf, "%lld ns", slept);
	check("nanosleep 20 ms, clock_gettime", slept >= 20 * 1000 * 1000, buf);

	volatile double x = 2.0, r = 1.0;
	for (int i = 0; i < 30; i++)
		r = (r + x / r) / 2;
	snprintf(buf, sizeof buf, "%.12f", r);
	check("VFP: sqrt(2) by Newton", strcmp(buf, "1.414213562373") == 0, buf);

	signal(SIGUSR1, on_usr1);
	raise(SIGUSR1);
	check("SIGUSR1 raised and handled", usr1_seen == SIGUSR1, "no handler call");

	signal(SIGALRM, on_alarm);
	struct itimerval it = {{0, 0}, {0, 10 * 1000}};
	setitimer(ITIMER_REAL, &it, NULL);
	volatile unsigned long spins = 0;
	while (!alarm_seen && spins < 4000000000UL)
		spins++;
	check("SIGALRM interrupts a busy loop", alarm_seen == SIGALRM, "no SIGALRM");

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGILL, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);

	fault_signal = 0;
	if (sigsetjmp(recover, 1) == 0)
		__asm__ volatile(".inst.n 0xde00" ::: "memory"); /* udf #0 (T16) */
	check("SIGILL for an undefined instruction", fault_signal == SIGILL, "none");

	fault_signal = 0;
	if (sigsetjmp(recover, 1) == 0)
		(void)*page0;
	snprintf(buf, sizeof buf, "signal %d at %p", fault_signal, fault_address);
	check("SIGSEGV for a load from page 0", fault_signal == SIGSEGV && fault_address == (void *)page0,
	      buf);

	printf("compat32: %d failed\n", failures);
	return failures != 0;
}
