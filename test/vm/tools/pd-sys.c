/*
 * pd-sys NAME...: a test tool for the VM guests (built static by
 * test/vm/matrix.sh, run in the guest and in a runc container).  Calls each
 * named syscall directly, by number (so neither libc nor the headers of the
 * build host need to know it), with harmless arguments, and prints one line
 * a call: "NAME: ok" or "NAME: EPERM (Operation not permitted)".  The
 * fds a call returns are left open (the process ends right after).
 * Exit 0 when every call was made (whatever it returned), 64 on a name it
 * does not know.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct call {
	const char *name;
	long nr;
};

/* x86_64 numbers, from the kernel's syscall_64.tbl. */
static const struct call calls[] = {
	{ "io_uring_setup", 425 },
	{ "statmount", 457 },
	{ "listmount", 458 },
	{ "lsm_get_self_attr", 459 },
	{ "lsm_set_self_attr", 460 },
	{ "lsm_list_modules", 461 },
	{ "mseal", 462 },
	{ "mkdirat", 258 },
	/* io_uring_setup with IORING_SETUP_SQPOLL: what AppArmor mediates
	 * (features/io_uring/mask: sqpoll override_creds) */
	{ "io_uring_sqpoll", -425 },
};

static const char *
errno_name(int e)
{
	switch (e) {
	case EPERM:
		return "EPERM";
	case EACCES:
		return "EACCES";
	case ENOSYS:
		return "ENOSYS";
	case EINVAL:
		return "EINVAL";
	case EFAULT:
		return "EFAULT";
	case E2BIG:
		return "E2BIG";
	case ENOENT:
		return "ENOENT";
	case EEXIST:
		return "EEXIST";
	case EOPNOTSUPP:
		return "EOPNOTSUPP";
	default:
		return "errno";
	}
}

int
main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const struct call *c = NULL;
		for (size_t j = 0; j < sizeof(calls) / sizeof(calls[0]); j++)
			if (strcmp(argv[i], calls[j].name) == 0)
				c = &calls[j];
		if (c == NULL) {
			fprintf(stderr, "pd-sys: unknown call %s\n", argv[i]);
			return 64;
		}
		/* zeroed: io_uring_params, lsm_ctx, mnt_id_req... */
		static unsigned long long buf[64];
		unsigned long long size = sizeof(buf);
		long r;
		memset(buf, 0, sizeof(buf));
		switch (c->nr) {
		case 425:
			r = syscall(c->nr, 1, buf);
			break;
		case -425:
			((unsigned int *)buf)[2] =
				1U << 1; /* io_uring_params.flags = IORING_SETUP_SQPOLL */
			r = syscall(425, 1, buf);
			break;
		case 459:
			r = syscall(c->nr, 1 /* LSM_ATTR_CURRENT */, buf, &size, 0);
			break;
		case 461:
			r = syscall(c->nr, buf, &size, 0);
			break;
		case 258:
			r = syscall(c->nr, -100 /* AT_FDCWD */, "/tmp/pd-sys-dir", 0755);
			break;
		default:
			r = syscall(c->nr, 0, 0, 0, 0, 0, 0);
			break;
		}
		if (r >= 0)
			printf("%s: ok\n", c->name);
		else
			printf("%s: %s (%s)\n", c->name, errno_name(errno), strerror(errno));
	}
	return 0;
}
