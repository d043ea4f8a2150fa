/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PROFILED_CHECK_H
#define PROFILED_CHECK_H

/* argv[0] is "check".  Returns the process exit code. */
int check_main(int argc, char **argv);

#endif
