/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PROFILED_ADVISE_CLI_H
#define PROFILED_ADVISE_CLI_H

/* `profiled advise`: argv[0] is "advise".  Returns the process exit code. */
int advise_main(int argc, char **argv);

#endif
