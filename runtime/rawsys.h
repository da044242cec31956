/* Syscalls that leave errno alone: each returns the kernel's answer, a negative errno on failure.
 *
 * For a child that shares the daemon's memory (exec_child.c, CLONE_VM): glibc's wrappers write
 * errno, which lives in the daemon thread's TLS, and the child runs on that same TLS; the daemon
 * goes on at the same time, so a failing call in the child could change the errno the daemon is
 * about to read. On x86-64 these are the `syscall` instruction itself. Elsewhere the child is a
 * plain fork (RT_RAW_SHARED_VM 0) and libc's syscall() is fine: errno is the child's own there.
 * Header-only, no state. */
#ifndef WREN_RAWSYS_H
#define WREN_RAWSYS_H

#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define RT_RAW_SHARED_VM 1

static inline long rt_raw6(long nr, long a, long b, long c, long d, long e, long f)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

/* clone3 onto a stack of the caller's: the child calls fn(arg) there and exits with what it
 * returns (it should not return). The parent gets the child's pid or -errno. Only a child on
 * its own stack can share the caller's memory: glibc exports no clone3 that does this. */
static inline long rt_raw_clone3_run(void *args, unsigned long size, int (*fn)(void *), void *arg)
{
	long ret;
	register long r12 __asm__("r12") = (long)fn;
	register long r13 __asm__("r13") = (long)arg;

	__asm__ volatile(
	    "syscall\n\t"
	    "test %%rax, %%rax\n\t"
	    "jnz 1f\n\t"
	    /* the child, on the new stack (16-byte aligned: the call makes the frame) */
	    "xor %%ebp, %%ebp\n\t"
	    "mov %%r13, %%rdi\n\t"
	    "call *%%r12\n\t"
	    "mov %%eax, %%edi\n\t"
	    "mov %[nr_exit], %%eax\n\t"
	    "syscall\n\t"
	    "hlt\n\t"
	    "1:"
	    : "=a"(ret)
	    : "0"((long)SYS_clone3), "D"(args), "S"(size), "r"(r12),
	      "r"(r13), [nr_exit] "i"(SYS_exit_group)
	    : "rcx", "r11", "memory");
	return ret;
}
#else
#define RT_RAW_SHARED_VM 0

static inline long rt_raw6(long nr, long a, long b, long c, long d, long e, long f)
{
	long r = syscall(nr, a, b, c, d, e, f);

	return r < 0 ? -errno : r;
}
#endif

#define rt_raw0(nr)		rt_raw6((nr), 0, 0, 0, 0, 0, 0)
#define rt_raw1(nr, a)		rt_raw6((nr), (long)(a), 0, 0, 0, 0, 0)
#define rt_raw2(nr, a, b)	rt_raw6((nr), (long)(a), (long)(b), 0, 0, 0, 0)
#define rt_raw3(nr, a, b, c)	rt_raw6((nr), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define rt_raw4(nr, a, b, c, d) rt_raw6((nr), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define rt_raw5(nr, a, b, c, d, e)                                                                 \
	rt_raw6((nr), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

#endif
