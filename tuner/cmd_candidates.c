/* cmd_candidates.c - `fluidtune candidates`: the search space of a model, before any sweep. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candidates.h"
#include "cli.h"

static void candidates_usage(FILE *f)
{
    fprintf(f,
            "usage: fluidtune candidates MODEL.onnx [--shape NAME=DIMS]... [--list]\n"
            "\n"
            "Prints every unique op signature of the prepared model (identical ops in different layers\n"
            "share one), how many nodes share it, and how many candidates (layouts x tilings) the\n"
            "registry offers for it: the size of the search a sweep will measure.\n"
            "\n"
            "options:\n"
            "  --shape NAME=D0,D1,...  fix the dynamic dims of input NAME (repeatable)\n"
            "  --list                  also print every candidate key\n"
            "  -h, --help              this help\n");
}

int ft_cmd_candidates(int argc, char **argv)
{
    static const struct option opts[] = {{"shape", required_argument, 0, 's'}, {"list", no_argument, 0, 'l'},
                                         {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    ft_cli_shapes shapes = {0};
    ft_error err = {0};
    int list = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (ft_cli_parse_shape(optarg, &shapes, &err) != FT_OK) return ft_cli_report("candidates", &err);
            break;
        case 'l': list = 1; break;
        case 'h': candidates_usage(stdout); return FT_EXIT_OK;
        default: candidates_usage(stderr); return FT_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "fluidtune candidates: error: expected exactly one MODEL.onnx\n");
        candidates_usage(stderr);
        return FT_EXIT_USAGE;
    }
    ft_graph *g = NULL;
    int rc = ft_cli_load_model(argv[optind], &shapes, NULL, 0, 0, NULL, &g, &err);
    if (rc != FT_OK) return ft_cli_report("candidates", &err);
    ft_layout_set *hints = calloc((size_t)g->n_tensors + 1, sizeof *hints);
    char (*sig)[1024] = calloc((size_t)g->n_nodes + 1, sizeof *sig);
    int *first = calloc((size_t)g->n_nodes + 1, sizeof *first);
    if (!hints || !sig || !first) {
        rc = ft_fail(&err, FT_ERR_NOMEM, "out of memory");
        goto done;
    }
    rc = ft_layout_hints(g, hints, &err);
    long total = 0, unique = 0;
    printf("%-5s %-22s %6s %10s  %s\n", "#", "op", "nodes", "candidates", "signature");
    for (int i = 0; rc == FT_OK && i < g->n_nodes; i++) {
        ft_node_signature(g, i, sig[i], sizeof sig[i]);
        first[i] = i;
        for (int j = 0; j < i; j++)
            if (strcmp(sig[i], sig[j]) == 0) {
                first[i] = j;
                break;
            }
    }
    for (int i = 0; rc == FT_OK && i < g->n_nodes; i++) {
        if (first[i] != i) continue;
        int sharing = 0;
        for (int j = i; j < g->n_nodes; j++) sharing += first[j] == i;
        ft_candidate_list l = {0};
        rc = ft_node_candidates(g, i, hints, &l, &err);
        if (rc != FT_OK) break;
        unique++;
        total += l.n;
        printf("%-5ld %-22s %6d %10d  %.150s\n", unique, g->nodes[i].op_type, sharing, l.n, sig[i]);
        for (int k = 0; list && k < l.n; k++) printf("      %s\n", l.items[k].key);
        ft_candidate_list_free(&l);
    }
    if (rc == FT_OK)
        printf("%d nodes, %ld unique signatures, %ld candidates to measure\n", g->n_nodes, unique, total);
done:
    free(hints);
    free(sig);
    free(first);
    ft_graph_destroy(g);
    return rc == FT_OK ? FT_EXIT_OK : ft_cli_report("candidates", &err);
}
