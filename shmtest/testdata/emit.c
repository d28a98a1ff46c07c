/*
 * emit: a C program whose whole observable behaviour is given on its
 * command line, for the tests of Run, ReadFiles and Diff:
 *
 *   emit STDOUT STDERR FILE CONTENT STATUS
 *
 * It writes STDOUT to stdout and STDERR to stderr (as they are: no newline
 * is added), CONTENT to FILE (none if FILE is "-"), and exits with STATUS,
 * or raises signal N if STATUS is "sigN".
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
	if (argc != 6) {
		fprintf(stderr, "usage: emit STDOUT STDERR FILE CONTENT STATUS\n");
		return 2;
	}
	fputs(argv[1], stdout);
	fflush(stdout);
	fputs(argv[2], stderr);
	if (strcmp(argv[3], "-") != 0) {
		FILE *f = fopen(argv[3], "w");
		if (!f || fputs(argv[4], f) < 0 || fclose(f) != 0) {
			perror(argv[3]);
			return 1;
		}
	}
	if (strncmp(argv[5], "sig", 3) == 0) {
		signal(atoi(argv[5] + 3), SIG_DFL);
		raise(atoi(argv[5] + 3));
	}
	return atoi(argv[5]);
}
