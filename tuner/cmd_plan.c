/* cmd_plan.c - `fluidtune plan show`: a plan file for a person, or as JSON for tools. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "planfile.h"

static void plan_usage(FILE *f)
{
    fprintf(f,
            "usage: fluidtune plan show PLAN.fplan [--json]\n"
            "\n"
            "Prints what a plan file holds: the model digest and kernel build it is bound to, the machine\n"
            "it was tuned on, the input shapes, the predicted time, the arena beside its lower bound, and\n"
            "every node's kernel (layout conversions marked). --json prints the same for tools.\n");
}

int ft_cmd_plan(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        plan_usage(stdout);
        return FT_EXIT_OK;
    }
    if (argc < 3 || strcmp(argv[1], "show") != 0) {
        fprintf(stderr, "fluidtune plan: error: expected `plan show PLAN.fplan [--json]`\n");
        plan_usage(stderr);
        return FT_EXIT_USAGE;
    }
    const char *path = NULL;
    int json = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) json = 1;
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            plan_usage(stdout);
            return FT_EXIT_OK;
        } else if (!path && argv[i][0] != '-') path = argv[i];
        else {
            fprintf(stderr, "fluidtune plan: error: unexpected argument '%s'\n", argv[i]);
            return FT_EXIT_USAGE;
        }
    }
    if (!path) {
        fprintf(stderr, "fluidtune plan: error: expected a plan file\n");
        return FT_EXIT_USAGE;
    }
    ft_error err = {0};
    ft_planfile *pf = NULL;
    int rc = ft_planfile_read(path, &pf, &err);
    if (rc == FT_OK) rc = ft_planfile_print(pf, stdout, json, &err);
    ft_planfile_destroy(pf);
    return rc == FT_OK ? FT_EXIT_OK : ft_cli_report("plan", &err);
}
