/* fuzz_cli.c - libFuzzer harness: the whole fluidtune command line (main's dispatch and every
 * subcommand's option parsing) with argv built from the input, one argument per line.
 *
 * Only paths that cannot leave a scratch working folder are tried: an input whose arguments hold a
 * '/' is skipped, the process works inside a fresh folder, and whatever a command created there is
 * removed after each run. No model file exists there, so commands stop at loading their inputs;
 * what is fuzzed is --help, bad and missing options, option values, and refusals of missing,
 * foreign or empty files.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_util.h"

#define MAX_ARGS 24
#define MAX_ARG_LEN 512

int ft_fluidtune_main(int argc, char **argv); /* tuner/main.c, main renamed in fuzz/CMakeLists.txt */

static char work[4200];

/* GNU getopt keeps a pointer into the previous argv between calls; a real process parses once, so
 * start every run from a fully reset parser, as a new process would. */
static void reset_getopt(void)
{
    static char a0[] = "fluidtune";
    char *argv[] = {a0, NULL};
    optind = 0;
    opterr = 0;
    while (getopt(1, argv, "") != -1) {
    }
    opterr = 1;
    optind = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!work[0]) {
        snprintf(work, sizeof work, "%s/work", fz_scratch_dir());
        fz_require(mkdir(work, 0700) == 0, "mkdir work");
    }
    if (size > MAX_ARGS * MAX_ARG_LEN) return 0;
    if (memchr(data, '/', size)) return 0;
    char *text = malloc(size + 1);
    fz_require(text != NULL, "malloc");
    memcpy(text, data, size);
    text[size] = 0;
    static char a0[] = "fluidtune";
    char *argv[MAX_ARGS + 2] = {a0};
    int argc = 1;
    char *p = text;
    while (argc <= MAX_ARGS) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        argv[argc++] = p;
        if (!nl) break;
        p = nl + 1;
    }
    argv[argc] = NULL;
    fz_require(chdir(work) == 0, "chdir work");
    reset_getopt();
    int rc = ft_fluidtune_main(argc, argv);
    fz_require(rc >= 0 && rc <= 2, "exit status is 0, 1 or 2");
    fz_empty_dir(work);
    free(text);
    return 0;
}
