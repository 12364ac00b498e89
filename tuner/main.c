/* main.c - the fluidtune command line: dispatches to one subcommand per verb. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef FT_VERSION
#define FT_VERSION "dev"
#endif

typedef struct ft_command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} ft_command;

static const ft_command commands[] = {
    {"run", ft_cmd_run, "execute a model on given or random inputs (--bench N to time it)"},
    {"test", ft_cmd_test, "run ONNX test directories (model.onnx + test_data_set_*) and compare outputs"},
    {"sweep", ft_cmd_sweep, "measure every candidate of a model on this machine into a SQLite database"},
    {"solve", ft_cmd_solve, "choose layouts, kernels and memory offsets from the measurements; write a plan file"},
    {"db", ft_cmd_db, "tuning databases: db machines DB | db export DB | db merge OUT IN..."},
    {"plan", ft_cmd_plan, "show a plan file (plan show FILE [--json])"},
    {"report", ft_cmd_report, "compare tuning databases of one or more machines: HTML, gnuplot charts, summary.md"},
    {"candidates", ft_cmd_candidates, "print each op signature of a model and its candidate count"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: fluidtune COMMAND [options]   (fluidtune COMMAND --help for details)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "  %-10s %s\n", "version", "print the version");
    fprintf(f, "\nexit status: 0 ok, 1 failure, 2 bad usage or bad input\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return FT_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return FT_EXIT_OK;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("fluidtune %s\n", FT_VERSION);
        return FT_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(cmd, commands[i].name) == 0) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "fluidtune: error: unknown command '%s'\n", cmd);
    usage(stderr);
    return FT_EXIT_USAGE;
}
