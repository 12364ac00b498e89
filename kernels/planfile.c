/* planfile.c - plan files: protobuf (kernels/plan.proto) in, runtime plan out, and back. */
#include "planfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build_info.h"
#include "ops.h"
#include "plan/plan.pb-c.h"

#define FT_PLAN_MAX_BYTES ((size_t)1 << 30)

struct ft_planfile {
    Fluidtune__Plan *msg;
    char path[1024];
};

static void hex(const uint8_t *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = 0;
}

/* --- writing --- */

typedef struct arena_list {
    void **p;
    int n, cap;
} arena_list;

static void *keep(arena_list *a, void *p)
{
    if (!p) return NULL;
    if (a->n == a->cap) {
        int cap = a->cap ? 2 * a->cap : 256;
        void **q = realloc(a->p, (size_t)cap * sizeof *q);
        if (!q) {
            free(p);
            return NULL;
        }
        a->p = q;
        a->cap = cap;
    }
    a->p[a->n++] = p;
    return p;
}

static void free_all(arena_list *a)
{
    for (int i = 0; i < a->n; i++) free(a->p[i]);
    free(a->p);
}

static Fluidtune__Layout *make_layout(arena_list *a, const ft_layout *l)
{
    Fluidtune__Layout *m = keep(a, malloc(sizeof *m));
    uint32_t *perm = keep(a, malloc(sizeof(uint32_t) * (size_t)(l->rank + 1)));
    if (!m || !perm) return NULL;
    fluidtune__layout__init(m);
    for (int i = 0; i < l->rank; i++) perm[i] = l->perm[i];
    m->n_perm = (size_t)l->rank;
    m->perm = perm;
    if (ft_layout_blocked(l)) {
        m->has_block_axis = m->has_block = 1;
        m->block_axis = l->block_axis;
        m->block = l->block;
    }
    return m;
}

int ft_planfile_write(const char *path, const ft_graph *g, const ft_plan *p, const ft_plan_meta *meta, ft_error *err)
{
    arena_list a = {0};
    Fluidtune__Plan plan;
    fluidtune__plan__init(&plan);
    int rc = FT_OK;
    plan.format_version = FT_PLAN_FORMAT_VERSION;
    plan.model_sha256.data = (uint8_t *)g->digest;
    plan.model_sha256.len = sizeof g->digest;
    plan.kernel_build_id = (char *)ft_kernel_build_id();
    if (meta) {
        plan.machine_id = (char *)meta->machine_id;
        plan.machine_description = (char *)meta->machine_description;
        plan.created_by = (char *)meta->created_by;
        plan.memory_algorithm = (char *)meta->memory_algorithm;
        plan.database = (char *)meta->database;
        plan.has_predicted_seconds = meta->predicted_seconds > 0;
        plan.predicted_seconds = meta->predicted_seconds;
        plan.has_default_predicted_seconds = meta->default_predicted_seconds > 0;
        plan.default_predicted_seconds = meta->default_predicted_seconds;
        plan.has_lower_bound_bytes = meta->lower_bound_bytes > 0;
        plan.lower_bound_bytes = meta->lower_bound_bytes;
    }
    plan.arena_bytes = p->arena_bytes;
    /* input shapes */
    plan.input_shapes = keep(&a, calloc((size_t)g->n_inputs + 1, sizeof *plan.input_shapes));
    if (!plan.input_shapes) goto nomem;
    for (int k = 0; k < g->n_inputs; k++) {
        const ft_tensor *t = &g->tensors[g->inputs[k]];
        Fluidtune__InputShape *s = keep(&a, malloc(sizeof *s));
        int64_t *dims = keep(&a, malloc(sizeof(int64_t) * (size_t)(t->shape.rank + 1)));
        if (!s || !dims) goto nomem;
        fluidtune__input_shape__init(s);
        s->name = t->name;
        memcpy(dims, t->shape.dims, sizeof(int64_t) * (size_t)t->shape.rank);
        s->dims = dims;
        s->n_dims = (size_t)t->shape.rank;
        plan.input_shapes[plan.n_input_shapes++] = s;
    }
    /* nodes, in graph (= execution) order */
    plan.nodes = keep(&a, calloc((size_t)g->n_nodes + 1, sizeof *plan.nodes));
    if (!plan.nodes) goto nomem;
    for (int i = 0; i < g->n_nodes; i++) {
        const ft_node *n = &g->nodes[i];
        const ft_candidate *c = &p->cand[i];
        Fluidtune__NodePlan *m = keep(&a, malloc(sizeof *m));
        if (!m) goto nomem;
        fluidtune__node_plan__init(m);
        m->name = n->name;
        m->op_type = n->op_type;
        m->family = (char *)c->family->name;
        m->key = (char *)c->key;
        m->params = (int32_t *)c->params;
        m->n_params = FT_MAX_PARAMS;
        m->in_layout = keep(&a, calloc((size_t)c->n_in + 1, sizeof *m->in_layout));
        if (!m->in_layout) goto nomem;
        for (int j = 0; j < c->n_in; j++) {
            m->in_layout[j] = make_layout(&a, &c->in_layout[j]);
            if (!m->in_layout[j]) goto nomem;
        }
        m->n_in_layout = (size_t)c->n_in;
        m->out_layout = make_layout(&a, &c->out_layout);
        if (!m->out_layout) goto nomem;
        /* inputs are recorded for every node: a consumer of a converted tensor reads the conversion */
        m->inputs = keep(&a, malloc(sizeof(char *) * (size_t)(n->n_in + 1)));
        if (!m->inputs) goto nomem;
        for (int j = 0; j < n->n_in; j++) m->inputs[j] = n->in[j] >= 0 ? g->tensors[n->in[j]].name : "";
        m->n_inputs = (size_t)n->n_in;
        if (n->op == &ft_op_reorder) {
            m->has_inserted = 1;
            m->inserted = 1;
            m->outputs = keep(&a, malloc(sizeof(char *)));
            if (!m->outputs) goto nomem;
            m->outputs[0] = g->tensors[n->out[0]].name;
            m->n_outputs = 1;
        }
        plan.nodes[plan.n_nodes++] = m;
    }
    /* tensors that are activations or views */
    plan.tensors = keep(&a, calloc((size_t)g->n_tensors + 1, sizeof *plan.tensors));
    if (!plan.tensors) goto nomem;
    for (int t = 0; t < g->n_tensors; t++) {
        const ft_tensor *x = &g->tensors[t];
        if ((x->flags & FT_T_CONST) || (x->producer < 0 && !(x->flags & FT_T_INPUT))) continue;
        Fluidtune__TensorPlan *m = keep(&a, malloc(sizeof *m));
        if (!m) goto nomem;
        fluidtune__tensor_plan__init(m);
        m->name = x->name;
        m->layout = make_layout(&a, &p->layout[t]);
        if (!m->layout) goto nomem;
        m->has_bytes = 1;
        m->bytes = ft_tensor_nbytes(x);
        if (p->alias_of[t] >= 0) {
            m->alias_of = g->tensors[p->alias_of[t]].name;
        } else if (p->offset[t] != FT_NO_OFFSET) {
            m->has_offset = 1;
            m->offset = p->offset[t];
        }
        plan.tensors[plan.n_tensors++] = m;
    }
    size_t len = fluidtune__plan__get_packed_size(&plan);
    uint8_t *buf = keep(&a, malloc(len ? len : 1));
    if (!buf) goto nomem;
    fluidtune__plan__pack(&plan, buf);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        rc = ft_fail(err, FT_ERR_FAIL, "%s: cannot write: %s", path, strerror(errno));
        goto done;
    }
    int ok = fwrite(buf, 1, len, f) == len;
    ok &= fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        rc = ft_fail(err, FT_ERR_FAIL, "%s: cannot write: %s", path, strerror(errno));
    }
    goto done;
nomem:
    rc = ft_fail(err, FT_ERR_NOMEM, "out of memory writing %s", path);
done:
    free_all(&a);
    return rc;
}

/* --- reading --- */

int ft_planfile_read(const char *path, ft_planfile **out, ft_error *err)
{
    *out = NULL;
    /* O_NONBLOCK: opening a FIFO without a writer would wait forever; it is refused below instead. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
    if (!f) {
        int e = errno;
        if (fd >= 0) close(fd);
        return ft_fail(err, FT_ERR_INPUT, "%s: cannot open: %s", path, strerror(e));
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > FT_PLAN_MAX_BYTES) {
        fclose(f);
        return ft_fail(err, FT_ERR_INPUT, "%s: not a regular file of at most 1 GiB", path);
    }
    size_t len = (size_t)st.st_size;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        fclose(f);
        return ft_fail(err, FT_ERR_NOMEM, "out of memory reading %s", path);
    }
    size_t got = fread(buf, 1, len, f);
    fclose(f);
    if (got != len) {
        free(buf);
        return ft_fail(err, FT_ERR_FAIL, "%s: read error", path);
    }
    Fluidtune__Plan *msg = fluidtune__plan__unpack(NULL, len, buf);
    free(buf);
    if (!msg) return ft_fail(err, FT_ERR_INPUT, "%s: not a fluidtune plan file (truncated or another format)", path);
    if (msg->format_version != FT_PLAN_FORMAT_VERSION) {
        unsigned v = msg->format_version;
        fluidtune__plan__free_unpacked(msg, NULL);
        return ft_fail(err, FT_ERR_INPUT, "%s: plan format version %u, this fluidtune reads version %d", path, v,
                       FT_PLAN_FORMAT_VERSION);
    }
    if (msg->model_sha256.len != 32) {
        fluidtune__plan__free_unpacked(msg, NULL);
        return ft_fail(err, FT_ERR_INPUT, "%s: the model digest is not a SHA-256", path);
    }
    ft_planfile *pf = calloc(1, sizeof *pf);
    if (!pf) {
        fluidtune__plan__free_unpacked(msg, NULL);
        return ft_fail(err, FT_ERR_NOMEM, "out of memory");
    }
    pf->msg = msg;
    snprintf(pf->path, sizeof pf->path, "%s", path);
    *out = pf;
    return FT_OK;
}

void ft_planfile_destroy(ft_planfile *pf)
{
    if (!pf) return;
    fluidtune__plan__free_unpacked(pf->msg, NULL);
    free(pf);
}

const uint8_t *ft_planfile_model_sha256(const ft_planfile *pf)
{
    return pf->msg->model_sha256.data;
}

const char *ft_planfile_build_id(const ft_planfile *pf)
{
    return pf->msg->kernel_build_id;
}

void ft_planfile_meta(const ft_planfile *pf, ft_plan_meta *meta)
{
    const Fluidtune__Plan *m = pf->msg;
    memset(meta, 0, sizeof *meta);
    snprintf(meta->machine_id, sizeof meta->machine_id, "%s", m->machine_id ? m->machine_id : "");
    snprintf(meta->machine_description, sizeof meta->machine_description, "%s",
             m->machine_description ? m->machine_description : "");
    snprintf(meta->created_by, sizeof meta->created_by, "%s", m->created_by ? m->created_by : "");
    snprintf(meta->memory_algorithm, sizeof meta->memory_algorithm, "%s", m->memory_algorithm ? m->memory_algorithm : "");
    snprintf(meta->database, sizeof meta->database, "%s", m->database ? m->database : "");
    meta->predicted_seconds = m->has_predicted_seconds ? m->predicted_seconds : 0;
    meta->default_predicted_seconds = m->has_default_predicted_seconds ? m->default_predicted_seconds : 0;
    meta->lower_bound_bytes = m->has_lower_bound_bytes ? (size_t)m->lower_bound_bytes : 0;
    for (size_t i = 0; i < m->n_input_shapes && i < 16; i++) {
        const Fluidtune__InputShape *s = m->input_shapes[i];
        if (s->n_dims > FT_MAX_RANK) continue;
        int k = meta->n_input_shapes++;
        snprintf(meta->input_names[k], sizeof meta->input_names[k], "%s", s->name);
        meta->input_shapes[k].rank = (int)s->n_dims;
        for (size_t d = 0; d < s->n_dims; d++) meta->input_shapes[k].dims[d] = s->dims[d];
    }
}

static int read_layout(const Fluidtune__Layout *m, const ft_shape *s, ft_layout *l)
{
    int rank = s->rank;
    if (!m) {
        ft_layout_identity(l, rank);
        return 0;
    }
    if ((int)m->n_perm != rank) return -1;
    unsigned seen = 0;
    ft_layout_identity(l, rank);
    for (int i = 0; i < rank; i++) {
        if (m->perm[i] >= (uint32_t)rank || (seen & (1u << m->perm[i]))) return -1;
        seen |= 1u << m->perm[i];
        l->perm[i] = (uint8_t)m->perm[i];
    }
    if (m->has_block && m->block > 1) {
        if (m->block > 255 || !m->has_block_axis || m->block_axis >= (uint32_t)rank) return -1;
        l->block = (uint8_t)m->block;
        l->block_axis = (uint8_t)m->block_axis;
    }
    return ft_layout_fits(l, s) ? 0 : -1;
}

static int find_node(const ft_graph *g, const char *name)
{
    for (int i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i].name, name) == 0) return i;
    return -1;
}

/* Adds a Reorder node in -> out (out created with in's dtype and shape) at the end of g->nodes. */
static int insert_reorder(ft_graph *g, const char *name, const char *in_name, const char *out_name, ft_error *err)
{
    int src = ft_graph_find_tensor(g, in_name);
    if (src < 0) return ft_fail(err, FT_ERR_INPUT, "plan: conversion '%s' reads unknown tensor '%s'", name, in_name);
    if (ft_graph_find_tensor(g, out_name) >= 0)
        return ft_fail(err, FT_ERR_INPUT, "plan: conversion '%s' writes existing tensor '%s'", name, out_name);
    int dst = ft_graph_add_tensor(g, out_name);
    if (dst < 0) return ft_fail(err, FT_ERR_NOMEM, "out of memory");
    g->tensors[dst].dtype = g->tensors[src].dtype;
    g->tensors[dst].shape = g->tensors[src].shape;
    if (g->n_nodes == g->cap_nodes) {
        int cap = g->cap_nodes ? 2 * g->cap_nodes : 16;
        ft_node *nodes = realloc(g->nodes, (size_t)cap * sizeof *nodes);
        if (!nodes) return ft_fail(err, FT_ERR_NOMEM, "out of memory");
        g->nodes = nodes;
        g->cap_nodes = cap;
    }
    ft_node *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    n->name = strdup(name);
    n->op_type = strdup("Reorder");
    n->domain = strdup("ai.fluidtune");
    n->in = malloc(sizeof *n->in);
    n->out = malloc(sizeof *n->out);
    if (!n->name || !n->op_type || !n->domain || !n->in || !n->out) {
        ft_node_clear(n);
        return ft_fail(err, FT_ERR_NOMEM, "out of memory");
    }
    n->op = &ft_op_reorder;
    n->opset = 1;
    n->n_in = n->n_out = 1;
    n->in[0] = src;
    n->out[0] = dst;
    g->tensors[dst].producer = g->n_nodes;
    g->tensors[dst].n_consumers = 0;
    g->n_nodes++;
    return FT_OK;
}

/* Reorders g->nodes to order[] (a permutation) and renumbers producers. */
static int permute_nodes(ft_graph *g, const int *order, ft_error *err)
{
    ft_node *nodes = malloc((size_t)g->n_nodes * sizeof *nodes + 1);
    if (!nodes) return ft_fail(err, FT_ERR_NOMEM, "out of memory");
    for (int i = 0; i < g->n_nodes; i++) nodes[i] = g->nodes[order[i]];
    memcpy(g->nodes, nodes, (size_t)g->n_nodes * sizeof *nodes);
    free(nodes);
    for (int t = 0; t < g->n_tensors; t++) {
        g->tensors[t].producer = -1;
        g->tensors[t].n_consumers = (g->tensors[t].flags & FT_T_OUTPUT) ? 1 : 0;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        for (int j = 0; j < g->nodes[i].n_out; j++)
            if (g->nodes[i].out[j] >= 0) g->tensors[g->nodes[i].out[j]].producer = i;
        for (int j = 0; j < g->nodes[i].n_in; j++)
            if (g->nodes[i].in[j] >= 0) g->tensors[g->nodes[i].in[j]].n_consumers++;
    }
    /* every input must be produced earlier: the plan's order must be a topological order */
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++) {
            int t = g->nodes[i].in[j];
            if (t >= 0 && g->tensors[t].producer >= i)
                return ft_fail(err, FT_ERR_INPUT, "plan: node '%s' runs before '%s', which produces its input '%s'",
                               g->nodes[i].name, g->nodes[g->tensors[t].producer].name, g->tensors[t].name);
        }
    return FT_OK;
}

/* The plan's candidate for node n must be one that this build and CPU offer for it: its family's
 * enumeration, given the plan's layouts as the layouts worth trying, yields the same key with the same
 * knobs and layouts. Kernels trust their knobs and layouts (tile sizes, ISA, operation codes), so a
 * plan file that was tampered with, or made for a CPU with other instruction sets, stops here. */
static int check_candidate(const ft_graph *g, const ft_node *n, const ft_candidate *c, ft_error *err)
{
    const ft_kernel_family *f = c->family;
    if (f != &ft_family_reference && strcmp(f->op_type, n->op_type) != 0)
        return ft_fail(err, FT_ERR_INPUT, "plan: node '%s' (%s) uses kernel family '%s', which implements %s", n->name,
                       n->op_type, f->name, f->op_type);
    if (n->n_in > FT_MAX_IO)
        return ft_fail(err, FT_ERR_INPUT, "plan: node '%s' (%s) has more than %d inputs", n->name, n->op_type, FT_MAX_IO);
    ft_tensor *io[FT_MAX_IO + 64];
    if (n->n_in + n->n_out > (int)(sizeof io / sizeof io[0]))
        return ft_fail(err, FT_ERR_INPUT, "plan: node '%s' (%s) has too many outputs", n->name, n->op_type);
    ft_tensor **in = io, **outs = io + n->n_in;
    for (int j = 0; j < n->n_in; j++) in[j] = n->in[j] >= 0 ? &g->tensors[n->in[j]] : NULL;
    for (int j = 0; j < n->n_out; j++) outs[j] = n->out[j] >= 0 ? &g->tensors[n->out[j]] : NULL;
    ft_candidate_list l;
    memset(&l, 0, sizeof l);
    for (int j = 0; j < c->n_in; j++) {
        l.in_hints[j].n = 1;
        l.in_hints[j].l[0] = c->in_layout[j];
    }
    l.out_hints.n = 1;
    l.out_hints.l[0] = c->out_layout;
    ft_error ignored = {0};
    int found = 0;
    if (f->enumerate(n, in, outs, &l, &ignored) == FT_OK) {
        for (int i = 0; i < l.n && !found; i++) {
            const ft_candidate *e = &l.items[i];
            if (strcmp(e->key, c->key) != 0 || memcmp(e->params, c->params, sizeof c->params) != 0 ||
                e->n_in != c->n_in || !ft_layout_equal(&e->out_layout, &c->out_layout))
                continue;
            found = 1;
            for (int j = 0; j < c->n_in; j++)
                if (in[j] && !ft_layout_equal(&e->in_layout[j], &c->in_layout[j])) found = 0;
        }
    }
    ft_candidate_list_free(&l);
    if (!found)
        return ft_fail(err, FT_ERR_INPUT,
                       "plan: node '%s' (%s): kernel '%s' of family '%s' with these knobs and layouts is not one this "
                       "build offers for it on this CPU (a plan from a machine with other instruction sets, or a "
                       "modified file): solve again",
                       n->name, n->op_type, c->key, f->name);
    return FT_OK;
}

/* A tensor that lives in another's bytes must fit in them, must not be written into a constant, and
 * the chain of aliases must end: kernels write a tensor's full size wherever it is placed. */
static int check_alias(const ft_graph *g, const ft_plan *p, int t, ft_error *err)
{
    if (p->alias_of[t] < 0) return FT_OK;
    const ft_tensor *x = &g->tensors[t];
    int root = ft_plan_root(p, t);
    if (p->alias_of[root] >= 0)
        return ft_fail(err, FT_ERR_INPUT, "plan: tensor '%s' is in a cycle of aliases", x->name);
    const ft_tensor *r = &g->tensors[root];
    size_t need = ft_tensor_nbytes(x), have = ft_tensor_nbytes(r);
    if (need > have)
        return ft_fail(err, FT_ERR_INPUT, "plan: tensor '%s' (%zu bytes) cannot live in the bytes of '%s' (%zu bytes)",
                       x->name, need, r->name, have);
    /* A view of a constant (when the graph made it one) reads the constant; anything else would write it. */
    int graph_view = (x->flags & FT_T_VIEW) && p->alias_of[t] == x->alias_of;
    if ((r->flags & FT_T_CONST) && !graph_view)
        return ft_fail(err, FT_ERR_INPUT, "plan: tensor '%s' would be written into the bytes of constant '%s'", x->name,
                       r->name);
    return FT_OK;
}

int ft_planfile_apply(const ft_planfile *pf, ft_graph *g, ft_plan **out, ft_error *err)
{
    *out = NULL;
    const Fluidtune__Plan *m = pf->msg;
    char want[65], have[65];
    if (memcmp(m->model_sha256.data, g->digest, 32) != 0) {
        hex(m->model_sha256.data, 32, want);
        hex(g->digest, 32, have);
        return ft_fail(err, FT_ERR_INPUT, "%s was made for another model (sha256 %.12s..., %s is %.12s...)", pf->path, want,
                       g->path ? g->path : "this model", have);
    }
    if (strcmp(m->kernel_build_id, ft_kernel_build_id()) != 0)
        return ft_fail(err, FT_ERR_INPUT, "%s was made by another kernel build (%s, this fluidtune is %s): solve again",
                       pf->path, m->kernel_build_id, ft_kernel_build_id());
    /* the graph must hold exactly the plan's nodes once the conversions are in */
    int n_graph = g->n_nodes, n_inserted = 0;
    for (size_t i = 0; i < m->n_nodes; i++) {
        const Fluidtune__NodePlan *np = m->nodes[i];
        if (!np->inserted) continue;
        if (np->n_inputs != 1 || np->n_outputs != 1 || strcmp(np->op_type, "Reorder") != 0)
            return ft_fail(err, FT_ERR_INPUT, "plan: inserted node '%s' is not a one-to-one Reorder", np->name);
        int rc = insert_reorder(g, np->name, np->inputs[0], np->outputs[0], err);
        if (rc != FT_OK) return rc;
        n_inserted++;
    }
    if ((size_t)g->n_nodes != m->n_nodes)
        return ft_fail(err, FT_ERR_INPUT, "plan: %zu nodes, the prepared model has %d (were the --shape values and FLUIDTUNE_NO_FUSION the same as for solve?)",
                       m->n_nodes - (size_t)n_inserted, n_graph);
    int *order = malloc((size_t)g->n_nodes * sizeof *order + 1);
    char *used = calloc((size_t)g->n_nodes + 1, 1);
    if (!order || !used) {
        free(order);
        free(used);
        return ft_fail(err, FT_ERR_NOMEM, "out of memory");
    }
    int rc = FT_OK;
    for (size_t i = 0; i < m->n_nodes && rc == FT_OK; i++) {
        int k = find_node(g, m->nodes[i]->name);
        if (k < 0 || used[k]) rc = ft_fail(err, FT_ERR_INPUT, "plan: node '%s' is not in the model (or twice in the plan)", m->nodes[i]->name);
        else {
            used[k] = 1;
            order[i] = k;
        }
    }
    free(used);
    /* consumers of a converted tensor read the conversion's output: rewire by the plan's inputs */
    for (size_t i = 0; i < m->n_nodes && rc == FT_OK; i++) {
        const Fluidtune__NodePlan *np = m->nodes[i];
        ft_node *n = &g->nodes[order[i]];
        if (np->inserted) continue;
        if (np->n_inputs != (size_t)n->n_in) {
            rc = ft_fail(err, FT_ERR_INPUT, "plan: node '%s' has %zu inputs in the plan, %d in the model", n->name,
                         np->n_inputs, n->n_in);
            break;
        }
        for (int j = 0; j < n->n_in && rc == FT_OK; j++) {
            if (n->in[j] < 0 || strcmp(np->inputs[j], g->tensors[n->in[j]].name) == 0) continue;
            int t = ft_graph_find_tensor(g, np->inputs[j]);
            int prod = t >= 0 ? g->tensors[t].producer : -1;
            if (prod < 0 || g->nodes[prod].op != &ft_op_reorder || g->nodes[prod].in[0] != n->in[j])
                rc = ft_fail(err, FT_ERR_INPUT, "plan: node '%s' input %d reads '%s', which is not a conversion of '%s'",
                             n->name, j, np->inputs[j], g->tensors[n->in[j]].name);
            else n->in[j] = t;
        }
    }
    if (rc == FT_OK) rc = permute_nodes(g, order, err);
    free(order);
    if (rc != FT_OK) return rc;
    ft_plan *p = ft_plan_create(g->n_nodes, g->n_tensors);
    if (!p) return ft_fail(err, FT_ERR_NOMEM, "out of memory");
    for (int t = 0; t < g->n_tensors; t++)
        ft_layout_identity(&p->layout[t], g->tensors[t].shape.rank > 0 ? g->tensors[t].shape.rank : 0);
    for (int i = 0; i < g->n_nodes && rc == FT_OK; i++) {
        const Fluidtune__NodePlan *np = m->nodes[i];
        ft_node *n = &g->nodes[i];
        ft_candidate *c = &p->cand[i];
        c->family = ft_registry_family(np->family);
        if (!c->family) {
            rc = ft_fail(err, FT_ERR_INPUT, "plan: node '%s' uses kernel family '%s', unknown to this build", n->name, np->family);
            break;
        }
        snprintf(c->key, sizeof c->key, "%s", np->key);
        for (size_t j = 0; j < np->n_params && j < FT_MAX_PARAMS; j++) c->params[j] = np->params[j];
        c->n_in = n->n_in < FT_MAX_IO ? n->n_in : FT_MAX_IO;
        if ((int)np->n_in_layout != c->n_in) {
            rc = ft_fail(err, FT_ERR_INPUT, "plan: node '%s' has %zu input layouts for %d inputs", n->name, np->n_in_layout, c->n_in);
            break;
        }
        for (int j = 0; j < c->n_in && rc == FT_OK; j++) {
            static const ft_shape none = {0, {0}};
            const ft_shape *s = n->in[j] >= 0 ? &g->tensors[n->in[j]].shape : &none;
            if (read_layout(np->in_layout[j], s, &c->in_layout[j]) != 0)
                rc = ft_fail(err, FT_ERR_INPUT, "plan: node '%s' input %d: bad layout", n->name, j);
        }
        if (rc == FT_OK && (n->n_out < 1 || n->out[0] < 0))
            rc = ft_fail(err, FT_ERR_INPUT, "plan: node '%s' has no output", n->name);
        if (rc == FT_OK && read_layout(np->out_layout, &g->tensors[n->out[0]].shape, &c->out_layout) != 0)
            rc = ft_fail(err, FT_ERR_INPUT, "plan: node '%s': bad output layout", n->name);
        if (rc == FT_OK) rc = check_candidate(g, n, c, err);
    }
    for (size_t i = 0; i < m->n_tensors && rc == FT_OK; i++) {
        const Fluidtune__TensorPlan *tp = m->tensors[i];
        int t = ft_graph_find_tensor(g, tp->name);
        if (t < 0) {
            rc = ft_fail(err, FT_ERR_INPUT, "plan: tensor '%s' is not in the model", tp->name);
            break;
        }
        if (read_layout(tp->layout, &g->tensors[t].shape, &p->layout[t]) != 0) {
            rc = ft_fail(err, FT_ERR_INPUT, "plan: tensor '%s': bad layout", tp->name);
            break;
        }
        if (tp->alias_of) {
            int a = ft_graph_find_tensor(g, tp->alias_of);
            if (a < 0 || a == t) rc = ft_fail(err, FT_ERR_INPUT, "plan: tensor '%s' aliases unknown '%s'", tp->name, tp->alias_of);
            else p->alias_of[t] = a;
        } else if (tp->has_offset) {
            if (tp->offset > m->arena_bytes || ft_tensor_nbytes(&g->tensors[t]) > m->arena_bytes - tp->offset)
                rc = ft_fail(err, FT_ERR_INPUT, "plan: tensor '%s' at offset %llu does not fit the arena", tp->name,
                             (unsigned long long)tp->offset);
            else p->offset[t] = (size_t)tp->offset;
        }
    }
    /* Every activation in a slot of its own (64-byte aligned) bounds any plan's arena: a larger one
     * would only make the runtime allocate what it never uses, a tampered file terabytes of it. */
    if (rc == FT_OK) {
        uint64_t bound = 0;
        for (int t = 0; t < g->n_tensors; t++) {
            const ft_tensor *x = &g->tensors[t];
            if (!(x->flags & FT_T_CONST) && (x->producer >= 0 || (x->flags & FT_T_INPUT)))
                bound += ((uint64_t)ft_tensor_nbytes(x) + 63) & ~(uint64_t)63;
        }
        if (m->arena_bytes > bound)
            rc = ft_fail(err, FT_ERR_INPUT,
                         "plan: an arena of %llu bytes is more than every activation of the model takes without "
                         "reuse (%llu bytes)",
                         (unsigned long long)m->arena_bytes, (unsigned long long)bound);
    }
    p->arena_bytes = (size_t)m->arena_bytes;
    /* views of the graph stay views even when the plan does not list them */
    for (int t = 0; t < g->n_tensors && rc == FT_OK; t++)
        if ((g->tensors[t].flags & FT_T_VIEW) && p->alias_of[t] < 0) p->alias_of[t] = g->tensors[t].alias_of;
    for (int t = 0; t < g->n_tensors && rc == FT_OK; t++) rc = check_alias(g, p, t, err);
    for (int t = 0; t < g->n_tensors && rc == FT_OK; t++) {
        const ft_tensor *x = &g->tensors[t];
        if ((x->flags & FT_T_CONST) || p->alias_of[t] >= 0) continue;
        if ((x->producer >= 0 || (x->flags & FT_T_INPUT)) && p->offset[t] == FT_NO_OFFSET)
            rc = ft_fail(err, FT_ERR_INPUT, "plan: tensor '%s' has no place in the arena", x->name);
    }
    if (rc != FT_OK) {
        ft_plan_destroy(p);
        return rc;
    }
    *out = p;
    return FT_OK;
}

/* A permutation as an array; a blocked layout as {"perm": [...], "block_axis": a, "block": b}. */
static void print_layout_json(FILE *f, const Fluidtune__Layout *l)
{
    int blocked = l && l->has_block && l->block > 1;
    fputs(blocked ? "{\"perm\":[" : "[", f);
    for (size_t i = 0; l && i < l->n_perm; i++) fprintf(f, "%s%u", i ? "," : "", l->perm[i]);
    fputc(']', f);
    if (blocked) fprintf(f, ",\"block_axis\":%u,\"block\":%u}", l->block_axis, l->block);
}

static void print_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

int ft_planfile_print(const ft_planfile *pf, FILE *f, int json, ft_error *err)
{
    const Fluidtune__Plan *m = pf->msg;
    char digest[65];
    hex(m->model_sha256.data, 32, digest);
    if (json) {
        fprintf(f, "{\"format_version\":%u,\"model_sha256\":\"%s\",\"kernel_build_id\":", m->format_version, digest);
        print_json_string(f, m->kernel_build_id);
        fprintf(f, ",\"machine_id\":");
        print_json_string(f, m->machine_id);
        fprintf(f, ",\"machine_description\":");
        print_json_string(f, m->machine_description);
        fprintf(f, ",\"arena_bytes\":%llu,\"lower_bound_bytes\":%llu,\"predicted_seconds\":%.9g,\"default_predicted_seconds\":%.9g",
                (unsigned long long)m->arena_bytes, (unsigned long long)m->lower_bound_bytes,
                m->has_predicted_seconds ? m->predicted_seconds : 0.0,
                m->has_default_predicted_seconds ? m->default_predicted_seconds : 0.0);
        fprintf(f, ",\"input_shapes\":{");
        for (size_t i = 0; i < m->n_input_shapes; i++) {
            fprintf(f, "%s", i ? "," : "");
            print_json_string(f, m->input_shapes[i]->name);
            fprintf(f, ":[");
            for (size_t d = 0; d < m->input_shapes[i]->n_dims; d++)
                fprintf(f, "%s%lld", d ? "," : "", (long long)m->input_shapes[i]->dims[d]);
            fprintf(f, "]");
        }
        fprintf(f, "},\"nodes\":[");
        for (size_t i = 0; i < m->n_nodes; i++) {
            const Fluidtune__NodePlan *n = m->nodes[i];
            fprintf(f, "%s{\"name\":", i ? "," : "");
            print_json_string(f, n->name);
            fprintf(f, ",\"op_type\":");
            print_json_string(f, n->op_type);
            fprintf(f, ",\"family\":");
            print_json_string(f, n->family);
            fprintf(f, ",\"key\":");
            print_json_string(f, n->key);
            fprintf(f, ",\"inserted\":%s,\"out_layout\":", n->inserted ? "true" : "false");
            print_layout_json(f, n->out_layout);
            fprintf(f, ",\"in_layouts\":[");
            for (size_t j = 0; j < n->n_in_layout; j++) {
                fprintf(f, "%s", j ? "," : "");
                print_layout_json(f, n->in_layout[j]);
            }
            fprintf(f, "]}");
        }
        fprintf(f, "],\"tensors\":[");
        for (size_t i = 0; i < m->n_tensors; i++) {
            const Fluidtune__TensorPlan *t = m->tensors[i];
            fprintf(f, "%s{\"name\":", i ? "," : "");
            print_json_string(f, t->name);
            fprintf(f, ",\"bytes\":%llu,\"layout\":", (unsigned long long)t->bytes);
            print_layout_json(f, t->layout);
            if (t->alias_of) {
                fprintf(f, ",\"alias_of\":");
                print_json_string(f, t->alias_of);
            } else if (t->has_offset) {
                fprintf(f, ",\"offset\":%llu", (unsigned long long)t->offset);
            }
            fprintf(f, "}");
        }
        fprintf(f, "]}\n");
        return ferror(f) ? ft_fail(err, FT_ERR_FAIL, "write error") : FT_OK;
    }
    fprintf(f, "plan %s (format %u)\n", pf->path, m->format_version);
    fprintf(f, "  model sha256     %s\n", digest);
    fprintf(f, "  kernel build     %s%s\n", m->kernel_build_id,
            strcmp(m->kernel_build_id, ft_kernel_build_id()) == 0 ? " (this build)" : " (NOT this build)");
    fprintf(f, "  machine          %s %s\n", m->machine_id ? m->machine_id : "?", m->machine_description ? m->machine_description : "");
    if (m->created_by) fprintf(f, "  created by       %s\n", m->created_by);
    for (size_t i = 0; i < m->n_input_shapes; i++) {
        fprintf(f, "  input            %s [", m->input_shapes[i]->name);
        for (size_t d = 0; d < m->input_shapes[i]->n_dims; d++)
            fprintf(f, "%s%lld", d ? "," : "", (long long)m->input_shapes[i]->dims[d]);
        fprintf(f, "]\n");
    }
    fprintf(f, "  arena            %.2f MiB", (double)m->arena_bytes / 1048576.0);
    if (m->has_lower_bound_bytes && m->lower_bound_bytes)
        fprintf(f, " (lower bound %.2f MiB, %.3fx)", (double)m->lower_bound_bytes / 1048576.0,
                (double)m->arena_bytes / (double)m->lower_bound_bytes);
    fprintf(f, "%s%s\n", m->memory_algorithm ? ", " : "", m->memory_algorithm ? m->memory_algorithm : "");
    if (m->has_predicted_seconds)
        fprintf(f, "  predicted        %.3f ms", m->predicted_seconds * 1e3);
    if (m->has_default_predicted_seconds && m->default_predicted_seconds > 0 && m->has_predicted_seconds)
        fprintf(f, " (default plan %.3f ms, %.2fx)", m->default_predicted_seconds * 1e3,
                m->predicted_seconds / m->default_predicted_seconds);
    if (m->has_predicted_seconds) fprintf(f, "\n");
    size_t n_conv = 0;
    for (size_t i = 0; i < m->n_nodes; i++) n_conv += m->nodes[i]->inserted;
    fprintf(f, "  nodes            %zu (%zu layout conversions)\n", m->n_nodes, n_conv);
    for (size_t i = 0; i < m->n_nodes; i++) {
        const Fluidtune__NodePlan *n = m->nodes[i];
        fprintf(f, "    %-40s %-20s %s%s\n", n->name, n->op_type, n->key, n->inserted ? "  [inserted]" : "");
    }
    return ferror(f) ? ft_fail(err, FT_ERR_FAIL, "write error") : FT_OK;
}
