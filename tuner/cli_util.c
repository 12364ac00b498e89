/* cli_util.c - option parsing, model loading and input generation shared by the subcommands. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "onnx_import.h"
#include "ops.h"
#include "prepare.h"

int ft_cli_parse_shape(const char *arg, ft_cli_shapes *out, ft_error *err)
{
    const char *eq = strrchr(arg, '=');
    if (!eq || eq == arg)
        return ft_fail(err, FT_ERR_INPUT, "--shape '%s': expected NAME=D0,D1,... (e.g. input_ids=1,128)", arg);
    if (out->n >= FT_CLI_MAX_SHAPES)
        return ft_fail(err, FT_ERR_INPUT, "--shape '%s': at most %d --shape options", arg, FT_CLI_MAX_SHAPES);
    size_t len = (size_t)(eq - arg);
    if (len >= sizeof out->names[0]) return ft_fail(err, FT_ERR_INPUT, "--shape: input name too long");
    ft_cli_shape *s = &out->s[out->n];
    memcpy(out->names[out->n], arg, len);
    out->names[out->n][len] = 0;
    s->name = out->names[out->n];
    s->name_len = len;
    s->shape.rank = 0;
    const char *p = eq + 1;
    while (*p) {
        if (s->shape.rank == FT_MAX_RANK)
            return ft_fail(err, FT_ERR_INPUT, "--shape '%s': more than %d dims", arg, FT_MAX_RANK);
        char *end;
        errno = 0;
        if (*p < '0' || *p > '9')
            return ft_fail(err, FT_ERR_INPUT, "--shape '%s': '%s' is not a non-negative whole number", arg, p);
        long long d = strtoll(p, &end, 10);
        if (errno || d < 0 || d > ((long long)1 << 31))
            return ft_fail(err, FT_ERR_INPUT, "--shape '%s': dim out of range 0..2^31", arg);
        if (*end != ',' && *end != 0)
            return ft_fail(err, FT_ERR_INPUT, "--shape '%s': unexpected '%c' after a dim", arg, *end);
        s->shape.dims[s->shape.rank++] = d;
        p = *end ? end + 1 : end;
        if (*end == ',' && *p == 0) return ft_fail(err, FT_ERR_INPUT, "--shape '%s': trailing comma", arg);
    }
    if (ft_shape_numel(&s->shape) < 0)
        return ft_fail(err, FT_ERR_INPUT, "--shape '%s': more than %lld elements", arg, (long long)FT_MAX_NUMEL);
    for (int i = 0; i < out->n; i++)
        if (strcmp(out->names[i], s->name) == 0)
            return ft_fail(err, FT_ERR_INPUT, "--shape %s given twice", s->name);
    out->n++;
    return FT_OK;
}

int ft_cli_exit_code(int status)
{
    switch (status) {
    case FT_OK: return FT_EXIT_OK;
    case FT_ERR_INPUT:
    case FT_ERR_UNSUPPORTED: return FT_EXIT_USAGE;
    default: return FT_EXIT_FAIL;
    }
}

int ft_cli_report(const char *cmd, const ft_error *err)
{
    fprintf(stderr, "fluidtune %s: error: %s\n", cmd, err->msg);
    return ft_cli_exit_code(err->code);
}

static int is_integer(ft_dtype t)
{
    return t == FT_INT64 || t == FT_INT32 || t == FT_INT16 || t == FT_INT8 || t == FT_UINT64 || t == FT_UINT32 ||
           t == FT_UINT16 || t == FT_UINT8;
}

int ft_cli_load_model(const char *path, const ft_cli_shapes *shapes, const ft_tensor *extra, int n_extra,
                      int bind_int_inputs, int *data_index, ft_graph **out, ft_error *err)
{
    *out = NULL;
    ft_graph *g = NULL;
    int rc = ft_onnx_load(path, &g, err);
    if (rc != FT_OK) return rc;
    rc = ft_cli_prepare_model(g, shapes, extra, n_extra, bind_int_inputs, data_index, err);
    if (rc != FT_OK) {
        ft_graph_destroy(g);
        return rc;
    }
    *out = g;
    return FT_OK;
}

int ft_cli_prepare_model(ft_graph *g, const ft_cli_shapes *shapes, const ft_tensor *extra, int n_extra,
                         int bind_int_inputs, int *data_index, ft_error *err)
{
    const char *path = g->path ? g->path : "model";
    int rc = FT_OK;
    for (int i = 0; shapes && i < shapes->n; i++) {
        rc = ft_graph_set_input_shape(g, shapes->s[i].name, &shapes->s[i].shape, err);
        if (rc != FT_OK) goto fail;
    }
    for (int i = 0; i < n_extra && i < g->n_inputs; i++) {
        const ft_tensor *t = &g->tensors[g->inputs[i]];
        int dynamic = t->shape.rank < 0;
        for (int d = 0; d < t->shape.rank; d++)
            if (t->shape.dims[d] < 0) dynamic = 1;
        if (!dynamic) continue;
        rc = ft_graph_set_input_shape(g, t->name, &extra[i].shape, err);
        if (rc != FT_OK) goto fail;
    }
    if (bind_int_inputs && n_extra != g->n_inputs) {
        rc = ft_fail(err, FT_ERR_INPUT, "%s: %d input values for %d graph inputs", path, n_extra, g->n_inputs);
        goto fail;
    }
    int kept = 0;
    for (int i = 0; i < g->n_inputs; i++) {
        ft_tensor *t = &g->tensors[g->inputs[i]];
        if (bind_int_inputs && i < n_extra && (is_integer(t->dtype) || t->shape.rank == 0) && extra[i].dtype == t->dtype &&
            ft_shape_equal(&extra[i].shape, &t->shape)) {
            size_t nb = ft_tensor_nbytes(t);
            t->data = malloc(nb ? nb : 1);
            if (!t->data) {
                rc = ft_fail(err, FT_ERR_NOMEM, "out of memory");
                goto fail;
            }
            memcpy(t->data, extra[i].data, nb);
            t->flags = (t->flags & ~(unsigned)FT_T_INPUT) | FT_T_CONST;
            continue;
        }
        if (data_index) data_index[kept] = i;
        g->inputs[kept++] = g->inputs[i];
    }
    g->n_inputs = kept;
    /* FLUIDTUNE_NO_FUSION=1 keeps MatMul epilogues as separate nodes, for every command alike (a plan
     * is bound to the graph it was solved on), so that fusion itself can be measured. */
    const char *no_fusion = getenv("FLUIDTUNE_NO_FUSION");
    return ft_graph_prepare_ex(g, no_fusion && *no_fusion && strcmp(no_fusion, "0") != 0 ? FT_PREPARE_NO_FUSION : 0,
                               err);
fail:
    return rc;
}

static uint64_t next_random(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* The size of the indexed axis when tensor ti is the indices input of a Gather, else -1. */
static int64_t gather_bound(const ft_graph *g, int ti)
{
    int64_t bound = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        const ft_node *n = &g->nodes[i];
        if (strcmp(n->op_type, "Gather") != 0 || n->n_in < 2 || n->in[0] < 0 || n->in[1] < 0) continue;
        const ft_tensor *idx = &g->tensors[n->in[1]];
        if (n->in[1] != ti && !((idx->flags & FT_T_VIEW) && idx->alias_of == ti)) continue;
        const ft_tensor *data = &g->tensors[n->in[0]];
        int axis;
        if (ft_normalize_axis(ft_attr_int(n, "axis", 0), data->shape.rank, 0, &axis) != 0) continue;
        int64_t d = data->shape.dims[axis];
        if (bound < 0 || d < bound) bound = d;
    }
    return bound;
}

void ft_cli_random_input(const ft_graph *g, int k, ft_tensor *t, uint64_t seed)
{
    uint64_t s = (seed + 1) * 0x9E3779B97F4A7C15ull + (uint64_t)k * 0xBF58476D1CE4E5B9ull;
    int64_t n = ft_shape_numel(&t->shape);
    if (t->dtype == FT_FLOAT || t->dtype == FT_DOUBLE) {
        for (int64_t i = 0; i < n; i++) {
            double v = (double)(next_random(&s) >> 11) / 9007199254740992.0 * 2.0 - 1.0;
            if (t->dtype == FT_FLOAT) ((float *)t->data)[i] = (float)v;
            else ((double *)t->data)[i] = v;
        }
        return;
    }
    int64_t bound = gather_bound(g, g->inputs[k]);
    int64_t fill = strstr(t->name, "type") ? 0 : 1;
    size_t es = ft_dtype_size(t->dtype);
    for (int64_t i = 0; i < n; i++) {
        int64_t v = bound > 0 ? (int64_t)(next_random(&s) % (uint64_t)bound) : fill;
        switch (es) {
        case 8: ((int64_t *)t->data)[i] = v; break;
        case 4: ((int32_t *)t->data)[i] = (int32_t)v; break;
        case 2: ((int16_t *)t->data)[i] = (int16_t)v; break;
        default: ((uint8_t *)t->data)[i] = (uint8_t)(t->dtype == FT_BOOL ? v != 0 : v); break;
        }
    }
}

double ft_cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

long long ft_cli_peak_rss(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return -1;
    return (long long)ru.ru_maxrss * 1024;
}
