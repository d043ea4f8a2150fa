/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Runs a fuzz target over kept inputs without libFuzzer, so that the seeds
 * and every crash ever found are regression tests in `make test`.
 * Usage: fuzz-replay/TARGET PATH... (files or folders).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../../lib/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, len = 0, r;

	if (f == NULL) {
		perror(path);
		return -1;
	}
	do {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			buf = pd_xrealloc(buf, cap, 1);
		}
		r = fread(buf + len, 1, cap - len, f);
		len += r;
	} while (r > 0);
	fclose(f);
	LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
	free(buf);
	return 0;
}

int
main(int argc, char **argv)
{
	unsigned n = 0;
	int status = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		DIR *d;
		struct dirent *de;

		if (stat(argv[i], &st) < 0)
			continue; /* an absent folder holds no inputs */
		if (!S_ISDIR(st.st_mode)) {
			status |= replay_file(argv[i]) < 0;
			n++;
			continue;
		}
		d = opendir(argv[i]);
		while (d != NULL && (de = readdir(d)) != NULL) {
			char path[4096];

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], de->d_name);
			status |= replay_file(path) < 0;
			n++;
		}
		if (d != NULL)
			closedir(d);
	}
	printf("%s: replayed %u inputs\n", argv[0], n);
	return status;
}
