/*
 * An unprivileged process (uid and gid 65534, "nobody") touching the last
 * page of the address space, 0xffff_ffff_ffff_f000: a load, a store and a
 * jump there, each in a child of its own. The kernel must deliver SIGSEGV
 * to the child; the machine must carry on. Prints one line per child and a
 * summary; exits 0 only if every child died of SIGSEGV.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define LAST_PAGE 0xfffffffffffff000UL
#define NOBODY 65534

static void load(void)
{
	(void)*(volatile unsigned long *)(LAST_PAGE + 8);
}

static void store(void)
{
	*(volatile unsigned long *)(LAST_PAGE + 0xff8) = 1;
}

static void jump(void)
{
	((void (*)(void))LAST_PAGE)();
}

static const struct {
	const char *name;
	void (*touch)(void);
} cases[] = {{"load", load}, {"store", store}, {"jump", jump}};

int main(void)
{
	unsigned right = 0, n = sizeof(cases) / sizeof(cases[0]);
	for (unsigned i = 0; i < n; i++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0) {
			perror("last_page_user: fork");
			return 2;
		}
		if (pid == 0) {
			if (setgid(NOBODY) != 0 || setuid(NOBODY) != 0) {
				perror("last_page_user: setuid");
				_exit(3);
			}
			cases[i].touch();
			_exit(0);
		}
		int status;
		if (waitpid(pid, &status, 0) != pid) {
			perror("last_page_user: waitpid");
			return 2;
		}
		int segv = WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
		right += segv;
		if (WIFSIGNALED(status))
			printf("last_page_user: %s as uid %d: killed by signal %d (%s): %s\n",
			       cases[i].name, NOBODY, WTERMSIG(status), strsignal(WTERMSIG(status)),
			       segv ? "ok" : "WRONG");
		else
			printf("last_page_user: %s as uid %d: exited with status %d: WRONG\n",
			       cases[i].name, NOBODY, WEXITSTATUS(status));
	}
	printf("last_page_user: %u of %u children got SIGSEGV\n", right, n);
	return right == n ? 0 : 1;
}
