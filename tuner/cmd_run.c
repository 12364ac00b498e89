/* cmd_run.c - `fluidtune run`: execute a model on given or random inputs, optionally timed. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "executor.h"
#include "fingerprint.h"
#include "memplan.h"
#include "onnx_import.h"
#include "planfile.h"
#include "planner.h"
#include "tensor_io.h"

static void run_usage(FILE *f)
{
    fprintf(f,
            "usage: fluidtune run MODEL.onnx [options]\n"
            "\n"
            "Runs the model once (or --bench N times) with a plan file or with the default plan.\n"
            "\n"
            "options:\n"
            "  --shape NAME=D0,D1,...  fix the dynamic dims of input NAME (repeatable)\n"
            "  --input-dir DIR         read inputs from DIR/input_<i>.pb (ONNX TensorProto, graph-input order);\n"
            "                          without it, seeded random inputs in a valid range are used\n"
            "  --output-dir DIR        write outputs to DIR/output_<i>.pb (graph-output order)\n"
            "  --plan FILE             execute the plan made by `fluidtune solve` (layouts, kernels, memory);\n"
            "                          without it, the default plan (row-major, default kernels, no tuning)\n"
            "  --no-reuse              default plan without memory reuse (every tensor its own bytes);\n"
            "                          the default plan otherwise reuses memory through the planner\n"
            "  --bench N               after one warm-up run, time N runs; print median and min latency\n"
            "                          and peak RSS\n"
            "  --profile               time every node over the --bench runs (10 when --bench is not given)\n"
            "                          and print the time per op type and the slowest nodes with their\n"
            "                          kernels, beside the plan's predicted time (two clock reads per node)\n"
            "  --seed S                seed of the random inputs (default 1)\n"
            "  -q, --quiet             print no output summary\n"
            "  -h, --help              this help\n"
            "\n"
            "exit status: 0 ok, 1 failure, 2 bad usage or bad input\n");
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void summarize(const ft_tensor *t)
{
    char buf[128];
    int64_t n = ft_shape_numel(&t->shape);
    printf("output '%s' %s %s", t->name, ft_dtype_name(t->dtype), ft_shape_str(&t->shape, buf, sizeof buf));
    if (t->dtype == FT_FLOAT && n > 0) {
        const float *x = t->data;
        double mn = x[0], mx = x[0], sum = 0;
        for (int64_t i = 0; i < n; i++) {
            mn = fmin(mn, x[i]);
            mx = fmax(mx, x[i]);
            sum += x[i];
        }
        printf(" min %.6g max %.6g mean %.6g", mn, mx, sum / (double)n);
    }
    printf("\n");
}

typedef struct op_time {
    const char *op;
    int nodes;
    double s;
} op_time;

static int cmp_op_time(const void *a, const void *b)
{
    double x = ((const op_time *)a)->s, y = ((const op_time *)b)->s;
    return x > y ? -1 : x < y;
}

/* Per op type and for the slowest nodes: wall time per run, from node_s summed over `runs` runs. */
static void print_profile(const ft_graph *g, const ft_plan *plan, const double *node_s, long runs, double predicted_s)
{
    double total = 0;
    int n_ops = 0;
    op_time *ops = calloc((size_t)g->n_nodes + 1, sizeof *ops);
    int *order = calloc((size_t)g->n_nodes + 1, sizeof *order);
    if (!ops || !order) {
        free(ops);
        free(order);
        fprintf(stderr, "fluidtune run: warning: out of memory printing the profile\n");
        return;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        total += node_s[i];
        order[i] = i;
        int k = 0;
        while (k < n_ops && strcmp(ops[k].op, g->nodes[i].op_type) != 0) k++;
        if (k == n_ops) ops[n_ops++].op = g->nodes[i].op_type;
        ops[k].nodes++;
        ops[k].s += node_s[i];
    }
    qsort(ops, (size_t)n_ops, sizeof *ops, cmp_op_time);
    printf("profile: %ld runs, %.3f ms per run in %d nodes", runs, total / (double)runs * 1e3, g->n_nodes);
    if (predicted_s > 0) printf(" (the plan predicted %.3f ms: measured/predicted %.2fx)", predicted_s * 1e3,
                                total / (double)runs / predicted_s);
    printf("\n%-24s %6s %10s %7s\n", "op type", "nodes", "ms/run", "share");
    for (int k = 0; k < n_ops; k++)
        printf("%-24s %6d %10.3f %6.1f%%\n", ops[k].op, ops[k].nodes, ops[k].s / (double)runs * 1e3,
               total > 0 ? 100.0 * ops[k].s / total : 0.0);
    /* the slowest nodes: a selection of the top ten is enough */
    int top = g->n_nodes < 10 ? g->n_nodes : 10;
    for (int a = 0; a < top; a++)
        for (int b = a + 1; b < g->n_nodes; b++)
            if (node_s[order[b]] > node_s[order[a]]) {
                int t = order[a];
                order[a] = order[b];
                order[b] = t;
            }
    printf("slowest nodes:\n%10s  %-18s %-40s %s\n", "ms/run", "op type", "node", "kernel");
    for (int a = 0; a < top; a++) {
        int i = order[a];
        printf("%10.3f  %-18s %-40s %s\n", node_s[i] / (double)runs * 1e3, g->nodes[i].op_type, g->nodes[i].name,
               plan->cand[i].key);
    }
    free(ops);
    free(order);
}

int ft_cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {{"shape", required_argument, 0, 's'}, {"input-dir", required_argument, 0, 'i'},
                                         {"output-dir", required_argument, 0, 'o'}, {"bench", required_argument, 0, 'b'},
                                         {"seed", required_argument, 0, 'r'}, {"quiet", no_argument, 0, 'q'},
                                         {"plan", required_argument, 0, 'p'}, {"no-reuse", no_argument, 0, 'N'},
                                         {"profile", no_argument, 0, 'P'},
                                         {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    ft_cli_shapes shapes = {0};
    const char *in_dir = NULL, *out_dir = NULL;
    long bench = 0;
    unsigned long long seed = 1;
    int quiet = 0, no_reuse = 0, profile = 0, c;
    double predicted_s = 0;
    const char *plan_path = NULL;
    ft_error err = {0};
    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 's':
            if (ft_cli_parse_shape(optarg, &shapes, &err) != FT_OK) return ft_cli_report("run", &err);
            break;
        case 'i': in_dir = optarg; break;
        case 'o': out_dir = optarg; break;
        case 'b':
            bench = strtol(optarg, &end, 10);
            if (*end || bench < 1 || bench > 1000000) {
                fprintf(stderr, "fluidtune run: error: --bench takes a count from 1 to 1000000, not '%s'\n", optarg);
                return FT_EXIT_USAGE;
            }
            break;
        case 'r':
            seed = strtoull(optarg, &end, 10);
            if (*end || !*optarg) {
                fprintf(stderr, "fluidtune run: error: --seed takes a whole number, not '%s'\n", optarg);
                return FT_EXIT_USAGE;
            }
            break;
        case 'q': quiet = 1; break;
        case 'p': plan_path = optarg; break;
        case 'N': no_reuse = 1; break;
        case 'P': profile = 1; break;
        case 'h': run_usage(stdout); return FT_EXIT_OK;
        default: run_usage(stderr); return FT_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "fluidtune run: error: expected exactly one MODEL.onnx\n");
        run_usage(stderr);
        return FT_EXIT_USAGE;
    }
    const char *model = argv[optind];

    /* Inputs from files first: their shapes fix dims that --shape left dynamic. */
    ft_tensor *inputs = NULL;
    int n_files = 0, rc = FT_OK, exit_code = FT_EXIT_OK;
    if (in_dir) {
        for (;;) {
            char path[4096];
            snprintf(path, sizeof path, "%s/input_%d.pb", in_dir, n_files);
            struct stat st;
            if (stat(path, &st) != 0) break;
            ft_tensor *grown = realloc(inputs, (size_t)(n_files + 1) * sizeof *inputs);
            if (!grown) {
                rc = ft_fail(&err, FT_ERR_NOMEM, "out of memory reading inputs");
                goto done;
            }
            inputs = grown;
            memset(&inputs[n_files], 0, sizeof *inputs);
            rc = ft_tensor_read_pb(path, &inputs[n_files], &err);
            if (rc != FT_OK) goto done;
            n_files++;
        }
    }
    ft_graph *g = NULL;
    ft_planfile *pf = NULL;
    ft_plan *plan = NULL;
    if (plan_path) {
        rc = ft_planfile_read(plan_path, &pf, &err);
        if (rc != FT_OK) goto done;
        /* refuse a plan for another model before anything else, with the reason that matters */
        rc = ft_onnx_load(model, &g, &err);
        if (rc != FT_OK) {
            ft_planfile_destroy(pf);
            goto done;
        }
        if (memcmp(ft_planfile_model_sha256(pf), g->digest, 32) != 0) {
            ft_graph_destroy(g);
            rc = ft_fail(&err, FT_ERR_INPUT, "%s was made for another model, not %s (their SHA-256 digests differ)",
                         plan_path, model);
            ft_planfile_destroy(pf);
            goto done;
        }
        if (no_reuse) {
            rc = ft_fail(&err, FT_ERR_INPUT, "--no-reuse applies to the default plan, not to --plan");
            ft_graph_destroy(g);
            ft_planfile_destroy(pf);
            goto done;
        }
        /* the plan was solved for fixed input shapes: use them unless --shape says otherwise */
        ft_plan_meta meta;
        ft_planfile_meta(pf, &meta);
        predicted_s = meta.predicted_seconds;
        for (int k = 0; k < meta.n_input_shapes && shapes.n < FT_CLI_MAX_SHAPES; k++) {
            int given = 0;
            for (int i = 0; i < shapes.n; i++) given |= strcmp(shapes.names[i], meta.input_names[k]) == 0;
            if (given) continue;
            snprintf(shapes.names[shapes.n], sizeof shapes.names[0], "%s", meta.input_names[k]);
            shapes.s[shapes.n].name = shapes.names[shapes.n];
            shapes.s[shapes.n].name_len = strlen(shapes.names[shapes.n]);
            shapes.s[shapes.n].shape = meta.input_shapes[k];
            shapes.n++;
        }
        ft_machine here;
        ft_error ferr = {0};
        if (meta.machine_id[0] && ft_machine_fingerprint(&here, &ferr) == FT_OK && strcmp(here.id, meta.machine_id) != 0)
            fprintf(stderr, "fluidtune run: warning: %s was tuned on another machine (%.12s, %s); it runs, but its choices may not suit this one\n",
                    plan_path, meta.machine_id, meta.machine_description);
    }
    if (g) rc = ft_cli_prepare_model(g, &shapes, inputs, n_files, 0, NULL, &err);
    else rc = ft_cli_load_model(model, &shapes, inputs, n_files, 0, NULL, &g, &err);
    if (rc == FT_OK && pf) rc = ft_planfile_apply(pf, g, &plan, &err);
    if (rc == FT_OK && !pf) {
        rc = ft_plan_default(g, &plan, &err);
        if (rc == FT_OK && !no_reuse) {
            ft_memory_report mem;
            rc = ft_planner_memory(g, plan, FT_MEMPLAN_BEST, &mem, &err);
        }
    }
    ft_planfile_destroy(pf);
    if (rc != FT_OK) {
        ft_plan_destroy(plan);
        ft_graph_destroy(g);
        goto done;
    }
    if (in_dir && n_files != g->n_inputs) {
        rc = ft_fail(&err, FT_ERR_INPUT, "%s holds %d input_<i>.pb files, the model has %d inputs", in_dir, n_files,
                     g->n_inputs);
        ft_plan_destroy(plan);
        ft_graph_destroy(g);
        goto done;
    }
    ft_session *s = NULL;
    rc = ft_session_create_ex(g, plan, FT_SESSION_FREE_REPACKED, &s, &err);
    if (rc != FT_OK) {
        ft_plan_destroy(plan);
        ft_graph_destroy(g);
        goto done;
    }
    for (int k = 0; k < g->n_inputs && rc == FT_OK; k++) {
        if (in_dir) {
            rc = ft_session_set_input(s, k, &inputs[k], &err);
            continue;
        }
        ft_tensor t = g->tensors[g->inputs[k]];
        t.data = malloc(ft_tensor_nbytes(&t) + 1);
        if (!t.data) {
            rc = ft_fail(&err, FT_ERR_NOMEM, "out of memory for input '%s'", t.name);
            break;
        }
        ft_cli_random_input(g, k, &t, seed);
        rc = ft_session_set_input(s, k, &t, &err);
        free(t.data);
    }
    if (rc == FT_OK) rc = ft_session_run(s, &err);
    double *node_s = NULL;
    if (profile) {
        if (bench == 0) bench = 10;
        node_s = calloc((size_t)g->n_nodes + 1, sizeof *node_s);
        if (!node_s) rc = ft_fail(&err, FT_ERR_NOMEM, "out of memory");
        else ft_session_set_profile(s, node_s);
    }
    if (rc == FT_OK && bench > 0) {
        double *lat = malloc((size_t)bench * sizeof *lat);
        if (!lat) rc = ft_fail(&err, FT_ERR_NOMEM, "out of memory");
        for (long i = 0; rc == FT_OK && i < bench; i++) {
            double t0 = ft_cli_now();
            rc = ft_session_run(s, &err);
            lat[i] = ft_cli_now() - t0;
        }
        if (rc == FT_OK) {
            qsort(lat, (size_t)bench, sizeof *lat, cmp_double);
            double med = bench % 2 ? lat[bench / 2] : 0.5 * (lat[bench / 2 - 1] + lat[bench / 2]);
            printf("bench: %ld runs, median %.3f ms, min %.3f ms, peak RSS %.1f MiB, activations %.1f MiB\n", bench,
                   med * 1e3, lat[0] * 1e3, (double)ft_cli_peak_rss() / 1048576.0,
                   (double)ft_session_arena_bytes(s) / 1048576.0);
        }
        free(lat);
    }
    if (rc == FT_OK && profile) print_profile(g, plan, node_s, bench, predicted_s);
    free(node_s);
    if (rc == FT_OK && out_dir) {
        mkdir(out_dir, 0777);
        for (int k = 0; k < g->n_outputs && rc == FT_OK; k++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/output_%d.pb", out_dir, k);
            rc = ft_tensor_write_pb(path, ft_session_output(s, k), &err);
        }
    }
    if (rc == FT_OK && !quiet)
        for (int k = 0; k < g->n_outputs; k++) summarize(ft_session_output(s, k));
    ft_session_destroy(s);
    ft_plan_destroy(plan);
    ft_graph_destroy(g);
done:
    for (int i = 0; i < n_files; i++) ft_tensor_clear(&inputs[i]);
    free(inputs);
    if (rc != FT_OK) exit_code = ft_cli_report("run", &err);
    return exit_code;
}
