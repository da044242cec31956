/* Device rules on cgroup v2: v2 has no devices controller, so access is decided by an eBPF
 * program of type BPF_PROG_TYPE_CGROUP_DEVICE attached to the container's cgroup. The kernel runs
 * it on every open and mknod of a device node and denies the access when it returns 0.
 *
 * The rules first go through the same reduction the v1 kernel applies to devices.allow/deny (a
 * default behaviour plus exceptions whose access bits merge and clear, "a" resetting both), as
 * runc does with its emulator: a container then gets the same devices on v1 and v2, and the
 * program only needs one block per exception, each returning the opposite of the default.
 *
 * The program is emitted here instruction by instruction and loaded with bpf(2) directly: libbpf
 * is not a dependency, and twenty instructions do not need one. The attachment (BPF_F_ALLOW_MULTI,
 * so the programs of the ancestors still apply) holds the only reference to the program: nothing
 * is kept open, and it goes away with the cgroup. Update swaps the program in one step with
 * BPF_F_REPLACE, so a running container never sees a moment without rules. */
#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/cgroup_fs.h"
#include "runtime/util.h"

/* bpf_cgroup_dev_ctx.access_type is (access << 16) | type. */
enum {
	ACC_MKNOD = BPF_DEVCG_ACC_MKNOD,
	ACC_READ = BPF_DEVCG_ACC_READ,
	ACC_WRITE = BPF_DEVCG_ACC_WRITE
};
#define ACC_ALL		  (ACC_MKNOD | ACC_READ | ACC_WRITE)
#define VERIFIER_LOG_SIZE (64 * 1024)
#define MAX_ATTACHED	  64

/* bpf(2) has no libc wrapper; it is only used here. */
static int sys_bpf(int cmd, union bpf_attr *attr)
{
	long r;

	do
		r = syscall(SYS_bpf, cmd, attr, sizeof(*attr));
	while (r < 0 && errno == EINTR);
	return (int)r;
}

/* ---- the rules, reduced as the v1 kernel keeps them -------------------------------------- */

struct dev_exc {
	int type;	      /* BPF_DEVCG_DEV_CHAR or _BLOCK */
	int64_t major, minor; /* -1 = '*' */
	unsigned access;
};

struct dev_set {
	bool default_allow;
	struct dev_exc *e;
	size_t n;
};

static unsigned access_bits(const char *a)
{
	unsigned b = 0;

	for (; a && *a; a++)
		b |= *a == 'r' ? ACC_READ : *a == 'w' ? ACC_WRITE : *a == 'm' ? ACC_MKNOD : 0;
	return b;
}

static int check_rule(const struct rt_device_rule *d, size_t i, struct wren_err **err)
{
	if (d->type != 'a' && d->type != 'c' && d->type != 'b')
		return wren_err_code(err, WREN_E_INVALID_ARGUMENT,
				     "linux.resources.devices[%zu]: bad type '%c'", i, d->type);
	if (d->major > UINT32_MAX || d->minor > UINT32_MAX || d->major < -1 || d->minor < -1)
		return wren_err_code(err, WREN_E_INVALID_ARGUMENT,
				     "linux.resources.devices[%zu]: major/minor out of range", i);
	for (const char *a = d->access; a && *a; a++)
		if (*a != 'r' && *a != 'w' && *a != 'm')
			return wren_err_code(err, WREN_E_INVALID_ARGUMENT,
					     "linux.resources.devices[%zu]: bad access \"%s\"", i,
					     d->access);
	return 0;
}

/* As the kernel's devcgroup_update_access: an "a" rule sets the default and drops every
 * exception; a rule that agrees with the default clears access bits of the exception naming
 * exactly the same devices; any other rule adds (or widens) an exception. */
static int reduce(const struct rt_device_rule *rules, size_t n, struct dev_set *s,
		  struct wren_err **err)
{
	s->default_allow = false;
	s->e = xzalloc((n + 1) * sizeof(*s->e));
	s->n = 0;
	for (size_t i = 0; i < n; i++) {
		const struct rt_device_rule *d = &rules[i];
		unsigned acc = access_bits(d->access);
		int type = d->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
		struct dev_exc *x = NULL;

		if (check_rule(d, i, err) < 0)
			return -1;
		if (d->type == 'a') {
			s->default_allow = d->allow;
			s->n = 0;
			continue;
		}
		for (size_t j = 0; j < s->n && x == NULL; j++)
			if (s->e[j].type == type && s->e[j].major == d->major &&
			    s->e[j].minor == d->minor)
				x = &s->e[j];
		if (d->allow == s->default_allow) {
			if (x != NULL && (x->access &= ~acc) == 0)
				*x = s->e[--s->n];
			continue;
		}
		if (x == NULL) {
			x = &s->e[s->n++];
			*x = (struct dev_exc){type, d->major, d->minor, 0};
		}
		x->access |= acc;
	}
	return 0;
}

/* ---- the program ------------------------------------------------------------------------- */

struct prog {
	struct bpf_insn *insn;
	size_t n, cap;
};

static size_t emit(struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 32;
		p->insn = xrealloc(p->insn, p->cap * sizeof(*p->insn));
	}
	p->insn[p->n] =
	    (struct bpf_insn){.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
	return p->n++;
}

/* if (reg != imm) goto the end of the block: the offset is patched once the block's length is
 * known. 32-bit compare: device numbers are u32 in the context. */
static size_t emit_jne(struct prog *p, uint8_t reg, uint32_t imm)
{
	return emit(p, BPF_JMP32 | BPF_JNE | BPF_K, reg, 0, 0, (int32_t)imm);
}

static void emit_return(struct prog *p, int v)
{
	emit(p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, v);
	emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

/* r2 = device type, r3 = requested access, r4 = major, r5 = minor; then per exception:
 *   if (r2 != type) next; if (r3 & ~access) next; if (r4 != major) next; if (r5 != minor) next;
 *   return !default;
 * and finally return default. Wildcards and a full "rwm" leave their test out. */
static void generate(const struct dev_set *s, struct prog *p)
{
	emit(p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0, 0);
	emit(p, BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff);
	emit(p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_1, 0, 0);
	emit(p, BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16);
	emit(p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1, 4, 0);
	emit(p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1, 8, 0);
	for (size_t i = 0; i < s->n; i++) {
		const struct dev_exc *x = &s->e[i];
		size_t jumps[4], nj = 0;

		jumps[nj++] = emit_jne(p, BPF_REG_2, (uint32_t)x->type);
		if ((x->access & ACC_ALL) != ACC_ALL) {
			emit(p, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0);
			emit(p, BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_1, 0, 0,
			     (int32_t)(~x->access & ACC_ALL));
			jumps[nj++] = emit_jne(p, BPF_REG_1, 0);
		}
		if (x->major >= 0)
			jumps[nj++] = emit_jne(p, BPF_REG_4, (uint32_t)x->major);
		if (x->minor >= 0)
			jumps[nj++] = emit_jne(p, BPF_REG_5, (uint32_t)x->minor);
		emit_return(p, !s->default_allow);
		for (size_t j = 0; j < nj; j++)
			p->insn[jumps[j]].off = (int16_t)(p->n - jumps[j] - 1);
	}
	emit_return(p, s->default_allow);
}

int rt_cg2_devices_program(const struct rt_device_rule *rules, size_t n, struct bpf_insn **out,
			   size_t *n_insn, struct wren_err **err)
{
	struct dev_set s;
	struct prog p = {0};
	int r;

	*out = NULL;
	*n_insn = 0;
	r = reduce(rules, n, &s, err);
	if (r == 0) {
		generate(&s, &p);
		*out = p.insn;
		*n_insn = p.n;
	}
	free(s.e);
	return r;
}

/* ---- load and attach --------------------------------------------------------------------- */

/* Load quietly first; on failure load again with the verifier's log, which goes into the error
 * (a rejected program is a bug here, and the log says which instruction). */
static int load(const struct bpf_insn *insn, size_t n, struct wren_err **err)
{
	union bpf_attr a;
	_cleanup_free_ char *log = NULL;
	int fd, e;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (uint64_t)(uintptr_t)insn;
	a.insn_cnt = (uint32_t)n;
	a.license = (uint64_t)(uintptr_t) "Apache";
	fd = sys_bpf(BPF_PROG_LOAD, &a);
	if (fd >= 0)
		return fd;
	e = errno;
	if (e != EINVAL && e != EACCES)
		return wren_err_errno(err, e, "bpf: load device program (%zu instructions)", n);
	log = xzalloc(VERIFIER_LOG_SIZE);
	a.log_level = 1;
	a.log_buf = (uint64_t)(uintptr_t)log;
	a.log_size = VERIFIER_LOG_SIZE;
	fd = sys_bpf(BPF_PROG_LOAD, &a);
	if (fd >= 0) /* accepted the second time: keep it */
		return fd;
	return wren_err_errno(err, e, "bpf: load device program (%zu instructions), verifier: %s",
			      n, log[0] ? log : "(no log)");
}

/* The ids of the device programs attached to this cgroup itself (not its ancestors). */
static int query(int cgfd, uint32_t *ids, uint32_t *n, struct wren_err **err)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.query.target_fd = (uint32_t)cgfd;
	a.query.attach_type = BPF_CGROUP_DEVICE;
	a.query.prog_ids = (uint64_t)(uintptr_t)ids;
	a.query.prog_cnt = *n;
	if (sys_bpf(BPF_PROG_QUERY, &a) < 0)
		return wren_err_errno(err, errno, "bpf: query the cgroup's device programs");
	*n = a.query.prog_cnt;
	return 0;
}

static int prog_fd(uint32_t id, struct wren_err **err)
{
	union bpf_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.prog_id = id;
	fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
	if (fd < 0)
		return wren_err_errno(err, errno, "bpf: open device program %u", id);
	return fd;
}

static int attach(int cgfd, int fd, int replace_fd)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)cgfd;
	a.attach_bpf_fd = (uint32_t)fd;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	if (replace_fd >= 0) {
		a.attach_flags |= BPF_F_REPLACE;
		a.replace_bpf_fd = (uint32_t)replace_fd;
	}
	return sys_bpf(BPF_PROG_ATTACH, &a);
}

static int detach(int cgfd, uint32_t id, struct wren_err **err)
{
	_cleanup_close_ int fd = prog_fd(id, err);
	union bpf_attr a;

	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)cgfd;
	a.attach_bpf_fd = (uint32_t)fd;
	a.attach_type = BPF_CGROUP_DEVICE;
	if (sys_bpf(BPF_PROG_DETACH, &a) < 0 && errno != ENOENT)
		return wren_err_errno(err, errno, "bpf: detach old device program %u", id);
	return 0;
}

/* Attach fd in place of what is there: one old program is replaced atomically; otherwise (none,
 * several, or a kernel before 5.6 without BPF_F_REPLACE) the new one goes on first and the old
 * ones come off after, so there is never a moment without a filter. */
static int install(int cgfd, int fd, struct wren_err **err)
{
	uint32_t ids[MAX_ATTACHED], n = MAX_ATTACHED;

	if (query(cgfd, ids, &n, err) < 0)
		return -1;
	if (n == 1) {
		_cleanup_close_ int old = prog_fd(ids[0], err);

		if (old < 0)
			return -1;
		if (attach(cgfd, fd, old) == 0)
			return 0;
		if (errno != EINVAL)
			return wren_err_errno(err, errno, "bpf: replace device program %u", ids[0]);
	}
	if (attach(cgfd, fd, -1) < 0)
		return wren_err_errno(err, errno, "bpf: attach device program");
	for (uint32_t i = 0; i < n && i < MAX_ATTACHED; i++)
		if (detach(cgfd, ids[i], err) < 0)
			return -1;
	return 0;
}

int rt_cg2_set_devices(int cgfd, const struct rt_resources *r, struct wren_err **err)
{
	_cleanup_free_ struct bpf_insn *insn = NULL;
	_cleanup_close_ int fd = -1;
	size_t n = 0;

	/* No rules: leave the cgroup as it is, as on v1 (an Update without devices keeps them). */
	if (r->n_devices == 0)
		return 0;
	if (rt_cg2_devices_program(r->devices, r->n_devices, &insn, &n, err) < 0)
		return -1;
	fd = load(insn, n, err);
	if (fd < 0 || install(cgfd, fd, err) < 0)
		return wren_err_wrap(err, "cgroup: device rules");
	return 0;
}
