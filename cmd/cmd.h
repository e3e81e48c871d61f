/* cmd/cmd.h - the verbs of the vmsnapd binary. Each takes the arguments
 * after the verb name (argv[0] is the verb) and returns the exit code. */
#ifndef VMSNAPD_CMD_CMD_H
#define VMSNAPD_CMD_CMD_H

int cmd_review(int argc, char **argv);
int cmd_certs(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_serve(int argc, char **argv);

#endif
