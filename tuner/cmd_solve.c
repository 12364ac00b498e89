/* cmd_solve.c - `fluidtune solve`: measurements -> whole-graph layout and kernel choice -> memory plan
 * -> plan file. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "build_info.h"
#include "cli.h"
#include "cost_table.h"
#include "db.h"
#include "fingerprint.h"
#include "memplan.h"
#include "planfile.h"
#include "planner.h"

static void solve_usage(FILE *f)
{
    fprintf(f,
            "usage: fluidtune solve MODEL.onnx --db FILE -o PLAN.fplan [options]\n"
            "\n"
            "Chooses, for every node, one measured candidate (layouts and tiling) minimising the sum of\n"
            "node times plus the layout conversions they imply, exactly over the whole graph; plans the\n"
            "memory (arena offsets) and writes a plan file for `fluidtune run --plan`.\n"
            "\n"
            "options:\n"
            "  --db FILE               the tuning database written by `fluidtune sweep` (required)\n"
            "  -o, --output FILE       the plan file to write (required)\n"
            "  --shape NAME=D0,D1,...  fix the dynamic dims of input NAME (repeatable)\n"
            "  --machine ID            use another machine's measurements (an id or unique prefix from\n"
            "                          `fluidtune db machines`; default: this machine)\n"
            "  --top N                 list the N nodes with the largest predicted time (default 10)\n"
            "  -h, --help              this help\n");
}

typedef struct node_time {
    int node;
    double t;
} node_time;

static int cmp_time(const void *a, const void *b)
{
    double x = ((const node_time *)a)->t, y = ((const node_time *)b)->t;
    return x < y ? 1 : x > y ? -1 : 0;
}

int ft_cmd_solve(int argc, char **argv)
{
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},      {"output", required_argument, 0, 'o'},
                                         {"shape", required_argument, 0, 's'},   {"machine", required_argument, 0, 'm'},
                                         {"top", required_argument, 0, 't'},     {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    ft_cli_shapes shapes = {0};
    ft_error err = {0};
    const char *db_path = NULL, *out_path = NULL, *machine_arg = NULL;
    long top = 10;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'd': db_path = optarg; break;
        case 'o': out_path = optarg; break;
        case 's':
            if (ft_cli_parse_shape(optarg, &shapes, &err) != FT_OK) return ft_cli_report("solve", &err);
            break;
        case 'm': machine_arg = optarg; break;
        case 't':
            top = strtol(optarg, &end, 10);
            if (*end || top < 0 || top > 100000) {
                fprintf(stderr, "fluidtune solve: error: --top takes a count, not '%s'\n", optarg);
                return FT_EXIT_USAGE;
            }
            break;
        case 'h': solve_usage(stdout); return FT_EXIT_OK;
        default: solve_usage(stderr); return FT_EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || !db_path || !out_path) {
        fprintf(stderr, "fluidtune solve: error: expected MODEL.onnx, --db FILE and -o PLAN.fplan\n");
        solve_usage(stderr);
        return FT_EXIT_USAGE;
    }
    const char *model = argv[optind];
    double t0 = ft_cli_now();
    ft_graph *g = NULL;
    ft_db *db = NULL;
    ft_plan *plan = NULL;
    ft_cost_table costs = {0};
    node_time *times = NULL;
    int rc = ft_cli_load_model(model, &shapes, NULL, 0, 0, NULL, &g, &err);
    if (rc != FT_OK) return ft_cli_report("solve", &err);
    ft_machine here;
    ft_build build;
    rc = ft_machine_fingerprint(&here, &err);
    if (rc == FT_OK) rc = ft_build_fingerprint(&build, ft_kernel_build_id(), &err);
    if (rc == FT_OK) rc = ft_db_open(db_path, FT_DB_READONLY, &db, &err);
    char machine_desc[256] = "";
    char machine_key[FT_ID_HEX] = "";
    if (rc == FT_OK)
        rc = ft_cost_table_load(db, machine_arg ? machine_arg : here.id, build.id, &costs, machine_key, machine_desc,
                                sizeof machine_desc, &err);
    if (rc != FT_OK) goto done;
    if (machine_arg && strcmp(machine_key, here.id) != 0)
        fprintf(stderr, "fluidtune solve: note: using measurements of machine %.12s (%s), not this one\n", machine_key,
                machine_desc);
    ft_planner_report rep;
    double ts = ft_cli_now();
    rc = ft_planner_solve(g, ft_cost_table_lookup, &costs, &plan, &rep, &err);
    double solve_s = ft_cli_now() - ts;
    if (rc != FT_OK) goto done;
    ft_memory_report mem;
    rc = ft_planner_memory(g, plan, FT_MEMPLAN_BEST, &mem, &err);
    if (rc != FT_OK) goto done;
    ft_plan_meta meta;
    memset(&meta, 0, sizeof meta);
    snprintf(meta.machine_id, sizeof meta.machine_id, "%s", machine_key);
    snprintf(meta.machine_description, sizeof meta.machine_description, "%s", machine_desc);
    snprintf(meta.created_by, sizeof meta.created_by, "fluidtune solve %s", FT_VERSION);
    snprintf(meta.memory_algorithm, sizeof meta.memory_algorithm, "%s", ft_memplan_name(mem.algorithm));
    snprintf(meta.database, sizeof meta.database, "%s", db_path);
    meta.predicted_seconds = rep.predicted_s;
    meta.default_predicted_seconds = rep.default_predicted_s;
    meta.lower_bound_bytes = mem.lower_bound_bytes;
    rc = ft_planfile_write(out_path, g, plan, &meta, &err);
    if (rc != FT_OK) goto done;

    if (rep.n_unmeasured) {
        fprintf(stderr, "fluidtune solve: warning: %d node%s never swept on this machine and build; their default kernel is kept:",
                rep.n_unmeasured, rep.n_unmeasured > 1 ? "s were" : " was");
        for (int i = 0; i < rep.n_unmeasured && i < FT_PLANNER_MAX_WARN; i++)
            fprintf(stderr, "%s %s", i ? "," : "", rep.unmeasured[i]);
        fprintf(stderr, "%s\n", rep.n_unmeasured > FT_PLANNER_MAX_WARN ? ", ..." : "");
    }
    printf("solve: %s: %d nodes, %d choices, %d layout conversion%s inserted\n", model, rep.n_nodes, rep.n_choices_total,
           rep.n_conversions, rep.n_conversions == 1 ? "" : "s");
    printf("solver: %s in %.3f s (reductions R0 %lld, R1 %lld, R2 %lld; %lld branches, %lld pruned)\n",
           rep.stats.optimal ? "proven optimal" : "NOT proven optimal (limit reached)", solve_s, rep.stats.r0,
           rep.stats.r1, rep.stats.r2, rep.stats.branches, rep.stats.pruned);
    printf("predicted: tuned %.3f ms, default plan %.3f ms (%.2fx), FluidML-style greedy %.3f ms\n", rep.predicted_s * 1e3,
           rep.default_predicted_s * 1e3, rep.default_predicted_s > 0 ? rep.predicted_s / rep.default_predicted_s : 0.0,
           rep.greedy_predicted_s * 1e3);
    printf("memory: arena %.2f MiB, lower bound %.2f MiB (%.3fx), without reuse %.2f MiB (%s)\n",
           (double)mem.arena_bytes / 1048576.0, (double)mem.lower_bound_bytes / 1048576.0,
           mem.lower_bound_bytes ? (double)mem.arena_bytes / (double)mem.lower_bound_bytes : 1.0,
           (double)mem.no_reuse_bytes / 1048576.0, ft_memplan_name(mem.algorithm));
    times = malloc(sizeof *times * (size_t)(g->n_nodes + 1));
    if (times && top > 0) {
        int n = 0;
        for (int i = 0; i < g->n_nodes; i++) {
            double t = ft_planner_node_cost(g, plan, i, ft_cost_table_lookup, &costs);
            if (t > 0) times[n++] = (node_time){i, t};
        }
        qsort(times, (size_t)n, sizeof *times, cmp_time);
        printf("top operators by predicted time:\n");
        for (int k = 0; k < n && k < top; k++)
            printf("  %8.3f ms  %-18s %-34.34s %s\n", times[k].t * 1e3, g->nodes[times[k].node].op_type,
                   g->nodes[times[k].node].name, plan->cand[times[k].node].key);
    }
    printf("wrote %s (%.2f s)\n", out_path, ft_cli_now() - t0);
done:
    free(times);
    ft_cost_table_free(&costs);
    ft_plan_destroy(plan);
    ft_db_close(db);
    ft_graph_destroy(g);
    return rc == FT_OK ? FT_EXIT_OK : ft_cli_report("solve", &err);
}
