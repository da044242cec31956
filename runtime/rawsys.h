/* Syscalls that leave errno alone: each returns the kernel's answer, a negative errno on failure,
 * for proc_raw.c, whose steps report failures as return values. On x86-64 the `syscall`
 * instruction itself (RT_RAW_ASM), elsewhere libc's syscall() with errno read back. Header-only, no
 * state. */
#ifndef WREN_RAWSYS_H
#define WREN_RAWSYS_H

#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define RT_RAW_ASM 1

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

#else
#define RT_RAW_ASM 0

static inline long rt_raw6(long nr, long a, long b, long c, long d, long e, long f)
{
	long r = syscall(nr, a, b, c, d, e, f);

	return r < 0 ? -errno : r;
}
#endif

#define rt_raw0(nr) rt_raw6((nr), 0, 0, 0, 0, 0, 0)
#define rt_raw1(nr, a) rt_raw6((nr), (long)(a), 0, 0, 0, 0, 0)
#define rt_raw2(nr, a, b) rt_raw6((nr), (long)(a), (long)(b), 0, 0, 0, 0)
#define rt_raw3(nr, a, b, c) rt_raw6((nr), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define rt_raw4(nr, a, b, c, d) rt_raw6((nr), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define rt_raw5(nr, a, b, c, d, e)                                                                 \
	rt_raw6((nr), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

#endif
