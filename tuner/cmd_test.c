/* cmd_test.c - `fluidtune test`: run ONNX test directories (model.onnx + test_data_set_*) and compare. */
#include <dirent.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "executor.h"
#include "ops.h"
#include "planfile.h"
#include "tensor_io.h"

static void test_usage(FILE *f)
{
    fprintf(f,
            "usage: fluidtune test PATH... [options]\n"
            "\n"
            "Each PATH is a directory holding model.onnx and test_data_set_*/ with input_<i>.pb and\n"
            "output_<i>.pb (the layout of ONNX's node tests). Every data set is run with the default\n"
            "plan and each output compared with the expected one: |got - want| <= atol + rtol*|want|\n"
            "for floats, exact for integers and booleans.\n"
            "\n"
            "options:\n"
            "  --rtol R             relative tolerance (default 1e-4)\n"
            "  --atol A             absolute tolerance (default 1e-5)\n"
            "  --shape NAME=DIMS    fix a dynamic input dim instead of taking it from the data (repeatable)\n"
            "  --plan FILE          run with this plan file (from `fluidtune solve`) instead of the default\n"
            "                       plan; only for a single PATH whose model the plan was made for\n"
            "  --skip-unsupported   count models that use an unsupported operator, type or attribute as\n"
            "                       skipped (with the reason) instead of failed\n"
            "  -q, --quiet          print only failures, skips and the final count\n"
            "  -h, --help           this help\n"
            "\n"
            "The last line is 'N passed, M failed' (and ', K skipped' when any were skipped).\n"
            "exit status: 0 all passed, 1 any failed, 2 bad usage or bad input (e.g. no model.onnx)\n");
}

typedef struct test_opts {
    const char *plan;
    double rtol, atol;
    int skip_unsupported, quiet;
    ft_cli_shapes shapes;
} test_opts;

typedef struct test_counts {
    int passed, failed, skipped, bad_input;
} test_counts;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *base_name(const char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--;
    const char *p = path + n;
    while (p > path && p[-1] != '/') p--;
    return p;
}

/* Reads DIR/<prefix>_<i>.pb for i = 0.. until one is missing. */
static int read_tensors(const char *dir, const char *prefix, ft_tensor **out, int *n, ft_error *err)
{
    *out = NULL;
    *n = 0;
    for (;;) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s_%d.pb", dir, prefix, *n);
        if (stat(path, &st) != 0) return FT_OK;
        ft_tensor *grown = realloc(*out, (size_t)(*n + 1) * sizeof **out);
        if (!grown) return ft_fail(err, FT_ERR_NOMEM, "out of memory");
        *out = grown;
        memset(&grown[*n], 0, sizeof *grown);
        int rc = ft_tensor_read_pb(path, &grown[*n], err);
        if (rc != FT_OK) return rc;
        (*n)++;
    }
}

static void free_tensors(ft_tensor *t, int n)
{
    for (int i = 0; i < n; i++) ft_tensor_clear(&t[i]);
    free(t);
}

/* Compares one output; prints its line; returns 1 when it passes. */
static int compare_output(const char *label, int k, const ft_tensor *got, const ft_tensor *want, const test_opts *o)
{
    char gs[128], ws[128];
    if (got->dtype != want->dtype || !ft_shape_equal(&got->shape, &want->shape)) {
        printf("FAIL %s output %d '%s': got %s %s, expected %s %s\n", label, k, got->name, ft_dtype_name(got->dtype),
               ft_shape_str(&got->shape, gs, sizeof gs), ft_dtype_name(want->dtype),
               ft_shape_str(&want->shape, ws, sizeof ws));
        return 0;
    }
    int64_t n = ft_shape_numel(&got->shape);
    double max_abs = 0, max_rel = 0;
    int ok = 1;
    int64_t worst = -1;
    for (int64_t i = 0; i < n; i++) {
        double a = ft_tensor_get_f64(got, i), b = ft_tensor_get_f64(want, i), d;
        if (got->dtype == FT_FLOAT || got->dtype == FT_DOUBLE || got->dtype == FT_FLOAT16) {
            if (isnan(a) || isnan(b)) {
                if (isnan(a) != isnan(b)) ok = 0, worst = i, max_abs = INFINITY;
                continue;
            }
            if (isinf(a) || isinf(b)) {
                if (a != b) ok = 0, worst = i, max_abs = INFINITY;
                continue;
            }
            d = fabs(a - b);
            if (d > o->atol + o->rtol * fabs(b)) {
                if (ok || d > max_abs) worst = i;
                ok = 0;
            }
        } else {
            int64_t x = ft_tensor_get_i64(got, i), y = ft_tensor_get_i64(want, i);
            d = x == y ? 0 : fabs((double)x - (double)y);
            if (x != y) {
                if (ok) worst = i;
                ok = 0;
            }
        }
        if (d > max_abs) max_abs = d;
        if (b != 0 && d / fabs(b) > max_rel) max_rel = d / fabs(b);
    }
    if (!ok || !o->quiet) {
        printf("%s %s output %d '%s' %s: max abs err %.3g, max rel err %.3g", ok ? "PASS" : "FAIL", label, k,
               got->name, ft_shape_str(&got->shape, gs, sizeof gs), max_abs, max_rel);
        if (!ok && worst >= 0)
            printf(" (element %lld: got %.9g, expected %.9g)", (long long)worst, ft_tensor_get_f64(got, worst),
                   ft_tensor_get_f64(want, worst));
        printf("\n");
    }
    return ok;
}

static void run_data_set(const char *model, const char *label, const char *ds_dir, const test_opts *o, test_counts *c)
{
    ft_error err = {0};
    ft_tensor *in = NULL, *want = NULL;
    int n_in = 0, n_want = 0;
    ft_graph *g = NULL;
    ft_session *s = NULL;
    ft_plan *plan = NULL;
    int rc = read_tensors(ds_dir, "input", &in, &n_in, &err);
    if (rc == FT_OK) rc = read_tensors(ds_dir, "output", &want, &n_want, &err);
    int bound = 0;
    int *data_index = calloc((size_t)n_in + 1, sizeof *data_index);
    for (int k = 0; k < n_in && data_index; k++) data_index[k] = k;
    if (!data_index) {
        rc = ft_fail(&err, FT_ERR_NOMEM, "out of memory");
    } else if (rc == FT_OK) {
        rc = ft_cli_load_model(model, &o->shapes, in, n_in, 0, NULL, &g, &err);
        if (rc == FT_ERR_UNSUPPORTED && strstr(err.msg, "is not constant")) {
            /* node tests feed shape operands (Reshape's shape, Slice's starts) as inputs: bind them */
            ft_error bound_err = {0};
            if (ft_cli_load_model(model, &o->shapes, in, n_in, 1, data_index, &g, &bound_err) == FT_OK) {
                rc = FT_OK;
                bound = 1;
            }
        }
    } else {
        /* Data that is not a plain tensor usually belongs to a model fluidtune does not support:
         * report the model's reason rather than the data file's. */
        ft_error model_err = {0};
        if (ft_cli_load_model(model, &o->shapes, NULL, 0, 0, NULL, &g, &model_err) == FT_ERR_UNSUPPORTED) {
            err = model_err;
            rc = FT_ERR_UNSUPPORTED;
        }
        ft_graph_destroy(g);
        g = NULL;
    }
    if (rc == FT_ERR_UNSUPPORTED && o->skip_unsupported) {
        printf("SKIP %s: %s\n", label, err.msg);
        c->skipped++;
        goto done;
    }
    if (rc == FT_OK && ((!bound && n_in != g->n_inputs) || n_want != g->n_outputs))
        rc = ft_fail(&err, FT_ERR_INPUT, "%s has %d inputs and %d outputs, the model %d and %d", ds_dir, n_in, n_want,
                     g->n_inputs, g->n_outputs);
    if (rc == FT_OK && o->plan) {
        ft_planfile *pf = NULL;
        rc = ft_planfile_read(o->plan, &pf, &err);
        if (rc == FT_OK) rc = ft_planfile_apply(pf, g, &plan, &err);
        ft_planfile_destroy(pf);
        if (rc == FT_OK) rc = ft_session_create_with_plan(g, plan, &s, &err);
    } else if (rc == FT_OK) {
        rc = ft_session_create(g, &s, &err);
    }
    for (int k = 0; rc == FT_OK && k < g->n_inputs; k++) rc = ft_session_set_input(s, k, &in[data_index[k]], &err);
    if (rc == FT_OK) rc = ft_session_run(s, &err);
    if (rc != FT_OK) {
        printf("FAIL %s: %s\n", label, err.msg);
        c->failed++;
        if (rc == FT_ERR_INPUT || rc == FT_ERR_UNSUPPORTED) c->bad_input++;
        goto done;
    }
    int ok = 1;
    for (int k = 0; k < n_want; k++) ok &= compare_output(label, k, ft_session_output(s, k), &want[k], o);
    if (ok) c->passed++;
    else c->failed++;
done:
    free(data_index);
    ft_session_destroy(s);
    ft_plan_destroy(plan);
    ft_graph_destroy(g);
    free_tensors(in, n_in);
    free_tensors(want, n_want);
}

static void run_test_dir(const char *dir, const test_opts *o, test_counts *c)
{
    char model[4096];
    struct stat st;
    snprintf(model, sizeof model, "%s/model.onnx", dir);
    if (stat(model, &st) != 0) {
        fprintf(stderr, "fluidtune test: error: %s: no model.onnx in this directory\n", dir);
        c->bad_input++;
        c->failed++;
        return;
    }
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "fluidtune test: error: %s: cannot list the directory\n", dir);
        c->bad_input++;
        c->failed++;
        return;
    }
    char **sets = NULL;
    int n_sets = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "test_data_set_", 14) != 0) continue;
        char **grown = realloc(sets, (size_t)(n_sets + 1) * sizeof *sets);
        if (!grown) break;
        sets = grown;
        sets[n_sets] = strdup(e->d_name);
        if (sets[n_sets]) n_sets++;
    }
    closedir(d);
    if (n_sets == 0) {
        fprintf(stderr, "fluidtune test: error: %s: no test_data_set_* directory\n", dir);
        c->bad_input++;
        c->failed++;
    }
    qsort(sets, (size_t)n_sets, sizeof *sets, cmp_str);
    for (int i = 0; i < n_sets; i++) {
        char ds[4096], label[1024];
        snprintf(ds, sizeof ds, "%s/%s", dir, sets[i]);
        snprintf(label, sizeof label, "%s/%s", base_name(dir), sets[i]);
        run_data_set(model, label, ds, o, c);
        free(sets[i]);
    }
    free(sets);
}

int ft_cmd_test(int argc, char **argv)
{
    static const struct option opts[] = {{"rtol", required_argument, 0, 'r'}, {"atol", required_argument, 0, 'a'},
                                         {"shape", required_argument, 0, 's'},
                                         {"skip-unsupported", no_argument, 0, 'u'}, {"quiet", no_argument, 0, 'q'},
                                         {"plan", required_argument, 0, 'p'},
                                         {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    test_opts o = {NULL, 1e-4, 1e-5, 0, 0, {0}};
    ft_error err = {0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'r':
        case 'a': {
            double v = strtod(optarg, &end);
            if (*end || !*optarg || !(v >= 0) || isinf(v)) {
                fprintf(stderr, "fluidtune test: error: --%s takes a non-negative number, not '%s'\n",
                        c == 'r' ? "rtol" : "atol", optarg);
                return FT_EXIT_USAGE;
            }
            if (c == 'r') o.rtol = v;
            else o.atol = v;
            break;
        }
        case 's':
            if (ft_cli_parse_shape(optarg, &o.shapes, &err) != FT_OK) return ft_cli_report("test", &err);
            break;
        case 'u': o.skip_unsupported = 1; break;
        case 'p': o.plan = optarg; break;
        case 'q': o.quiet = 1; break;
        case 'h': test_usage(stdout); return FT_EXIT_OK;
        default: test_usage(stderr); return FT_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "fluidtune test: error: expected at least one test directory\n");
        test_usage(stderr);
        return FT_EXIT_USAGE;
    }
    if (o.plan && argc - optind != 1) {
        fprintf(stderr, "fluidtune test: error: --plan goes with exactly one test directory\n");
        return FT_EXIT_USAGE;
    }
    test_counts counts = {0};
    for (int i = optind; i < argc; i++) run_test_dir(argv[i], &o, &counts);
    if (counts.skipped) printf("%d passed, %d failed, %d skipped\n", counts.passed, counts.failed, counts.skipped);
    else printf("%d passed, %d failed\n", counts.passed, counts.failed);
    fflush(stdout);
    if (counts.bad_input) return FT_EXIT_USAGE;
    return counts.failed ? FT_EXIT_FAIL : FT_EXIT_OK;
}
