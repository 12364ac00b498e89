/* fuzz_plan.c - libFuzzer harness: plan file bytes through ft_planfile_read, plan show (text and
 * JSON), ft_planfile_apply to tests/models/bert_tiny, and a session run with the applied plan.
 *
 * The model is prepared once; a plan for another model or build is applied to that pristine graph
 * (apply refuses it before touching the graph), any other plan to a deep copy of it, since apply
 * rewrites the graph it is given (a copy costs far less than importing and preparing again). Seeds come from `fluidtune solve` of this build (scripts/fuzz.sh),
 * so they carry the right digest and build id and mutations reach the deep checks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build_info.h"
#include "executor.h"
#include "fuzz_util.h"
#include "onnx_import.h"
#include "planfile.h"
#include "prepare.h"

#define MODEL_DIR FT_SOURCE_DIR "/tests/models/bert_tiny"
#define MODEL_PATH MODEL_DIR "/model.onnx"

static uint8_t *model_bytes;
static size_t model_len;
static ft_graph *pristine;
static FILE *devnull;

static char *dup_str(const char *s)
{
    if (!s) return NULL;
    char *d = strdup(s);
    fz_require(d != NULL, "strdup");
    return d;
}

static void *dup_mem(const void *p, size_t n)
{
    if (!p) return NULL;
    void *d = malloc(n ? n : 1);
    fz_require(d != NULL, "malloc");
    if (n) memcpy(d, p, n);
    return d;
}

static void copy_tensor(ft_tensor *d, const ft_tensor *s)
{
    *d = *s;
    d->name = dup_str(s->name);
    d->data = dup_mem(s->data, ft_tensor_nbytes(s));
    for (int i = 0; i < FT_MAX_RANK; i++) d->dim_param[i] = dup_str(s->dim_param[i]);
}

/* A deep copy that ft_graph_destroy frees like the original. */
static ft_graph *clone_graph(const ft_graph *s)
{
    ft_graph *g = ft_graph_create();
    fz_require(g != NULL, "ft_graph_create");
    ft_tensor *own_tensors = g->tensors;
    ft_node *own_nodes = g->nodes;
    int *own_in = g->inputs, *own_out = g->outputs;
    char *own_path = g->path, *own_dir = g->dir;
    *g = *s;
    free(own_tensors);
    free(own_nodes);
    free(own_in);
    free(own_out);
    free(own_path);
    free(own_dir);
    g->path = dup_str(s->path);
    g->dir = dup_str(s->dir);
    g->cap_tensors = s->n_tensors + 1;
    g->tensors = calloc((size_t)g->cap_tensors, sizeof *g->tensors);
    g->cap_nodes = s->n_nodes + 1;
    g->nodes = calloc((size_t)g->cap_nodes, sizeof *g->nodes);
    g->inputs = dup_mem(s->inputs, (size_t)s->n_inputs * sizeof *s->inputs);
    g->outputs = dup_mem(s->outputs, (size_t)s->n_outputs * sizeof *s->outputs);
    fz_require(g->tensors && g->nodes, "calloc");
    for (int t = 0; t < s->n_tensors; t++) copy_tensor(&g->tensors[t], &s->tensors[t]);
    for (int k = 0; k < s->n_nodes; k++) {
        const ft_node *a = &s->nodes[k];
        ft_node *b = &g->nodes[k];
        *b = *a;
        b->name = dup_str(a->name);
        b->op_type = dup_str(a->op_type);
        b->domain = dup_str(a->domain);
        b->in = dup_mem(a->in, (size_t)a->n_in * sizeof *a->in);
        b->out = dup_mem(a->out, (size_t)a->n_out * sizeof *a->out);
        b->attrs = a->n_attrs ? calloc((size_t)a->n_attrs, sizeof *b->attrs) : NULL;
        for (int j = 0; j < a->n_attrs; j++) {
            const ft_attr *x = &a->attrs[j];
            ft_attr *y = &b->attrs[j];
            *y = *x;
            y->name = dup_str(x->name);
            y->s = dup_str(x->s);
            y->floats = dup_mem(x->floats, (size_t)x->n * sizeof *x->floats);
            y->ints = dup_mem(x->ints, (size_t)x->n * sizeof *x->ints);
            if (x->strings) {
                y->strings = calloc((size_t)x->n, sizeof *y->strings);
                fz_require(y->strings != NULL, "calloc");
                for (int i = 0; i < x->n; i++) y->strings[i] = dup_str(x->strings[i]);
            }
            if (x->t) {
                y->t = malloc(sizeof *y->t);
                fz_require(y->t != NULL, "malloc");
                copy_tensor(y->t, x->t);
            }
        }
    }
    return g;
}

static ft_graph *load_model(void)
{
    ft_error err = {0};
    ft_graph *g = NULL;
    fz_require(ft_onnx_load_buffer(model_bytes, model_len, MODEL_PATH, MODEL_DIR, &g, &err) == FT_OK, err.msg);
    fz_require(ft_graph_prepare(g, &err) == FT_OK, err.msg);
    return g;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    FILE *f = fopen(MODEL_PATH, "rb");
    fz_require(f != NULL, "open " MODEL_PATH);
    fz_require(fseek(f, 0, SEEK_END) == 0, "seek");
    model_len = (size_t)ftell(f);
    rewind(f);
    model_bytes = malloc(model_len);
    fz_require(model_bytes && fread(model_bytes, 1, model_len, f) == model_len, "read " MODEL_PATH);
    fclose(f);
    pristine = load_model();
    devnull = fopen("/dev/null", "w");
    fz_require(devnull != NULL, "open /dev/null");
    return 0;
}

static void run_plan(ft_graph *g, const ft_plan *p)
{
    ft_error err = {0};
    ft_session *s = NULL;
    int rc = ft_session_create_with_plan(g, p, &s, &err);
    fz_check_error(rc, &err, "ft_session_create_with_plan");
    if (rc != FT_OK) return;
    for (int i = 0; i < g->n_inputs && rc == FT_OK; i++) {
        ft_tensor v = g->tensors[g->inputs[i]];
        size_t nb = ft_tensor_nbytes(&v);
        v.data = calloc(nb ? nb : 1, 1); /* zeros: valid token ids, masks and type ids */
        fz_require(v.data != NULL, "calloc input");
        rc = ft_session_set_input(s, i, &v, &err);
        fz_check_error(rc, &err, "ft_session_set_input");
        free(v.data);
    }
    if (rc == FT_OK) {
        rc = ft_session_run(s, &err);
        fz_check_error(rc, &err, "ft_session_run");
    }
    ft_session_destroy(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ft_error err = {0};
    ft_planfile *pf = (ft_planfile *)1;
    int rc = ft_planfile_read(fz_memfile(data, size), &pf, &err);
    fz_check_error(rc, &err, "ft_planfile_read");
    if (rc != FT_OK) {
        fz_require(pf == NULL, "a failed read leaves *out NULL");
        return 0;
    }
    ft_plan_meta meta;
    ft_planfile_meta(pf, &meta);
    fz_check_error(ft_planfile_print(pf, devnull, 0, &err), &err, "ft_planfile_print");
    fz_check_error(ft_planfile_print(pf, devnull, 1, &err), &err, "ft_planfile_print json");

    ft_plan *p = NULL;
    int ours = memcmp(ft_planfile_model_sha256(pf), pristine->digest, 32) == 0 &&
               strcmp(ft_planfile_build_id(pf), ft_kernel_build_id()) == 0;
    if (!ours) {
        rc = ft_planfile_apply(pf, pristine, &p, &err);
        fz_check_error(rc, &err, "ft_planfile_apply (foreign)");
        fz_require(rc == FT_ERR_INPUT && p == NULL, "a plan for another model or build is refused");
        ft_planfile_destroy(pf);
        return 0;
    }
    ft_graph *g = clone_graph(pristine);
    rc = ft_planfile_apply(pf, g, &p, &err);
    fz_check_error(rc, &err, "ft_planfile_apply");
    if (rc == FT_OK) run_plan(g, p);
    else fz_require(p == NULL, "a failed apply leaves *out NULL");
    ft_plan_destroy(p);
    ft_graph_destroy(g);
    ft_planfile_destroy(pf);
    return 0;
}
