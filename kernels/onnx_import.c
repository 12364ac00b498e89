/* onnx_import.c - ONNX ModelProto (protobuf-c) to ft_graph: tensors, nodes, attributes, topological order. */
#include "onnx_import.h"

#include "onnx_tensor.h"
#include "sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bounds that keep a hostile file from exhausting memory or int counters long before it could be
 * a real model. */
#define IMP_MAX_ITEMS 1000000          /* nodes; tensors */
#define IMP_MAX_NODE_INPUTS 100000000  /* node input references in the whole graph */
#define IMP_MAX_ATTR_ELEMS (1 << 24)   /* elements of one floats/ints/strings attribute */
#define IMP_MAX_NAME 4096              /* bytes of any name */
#define IMP_MAX_OPSETS 1000            /* opset_import entries */
/* protobuf-c recurses once per nested message without a limit; 100 is the C++ runtime's default. */
#define IMP_MAX_DEPTH 100

typedef struct importer {
    ft_graph *g;
    const char *file;
    ft_error *err;
    const Onnx__ModelProto *m;
    const Onnx__GraphProto *gp;
    int *slots;      /* open-addressing name -> tensor index, -1 = empty */
    size_t mask;
    int cap;         /* tensors the side arrays below have room for */
    int *src;        /* per tensor: file index of the node that writes it, -1 = input or initializer */
    char *listed;    /* per tensor: already named in graph.input */
    const Onnx__NodeProto **proto; /* per kept node (file order): its NodeProto */
} importer;

/* ---------- names ---------- */

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static int map_find(const importer *im, const char *name)
{
    for (size_t i = name_hash(name) & im->mask;; i = (i + 1) & im->mask) {
        int t = im->slots[i];
        if (t < 0 || strcmp(im->g->tensors[t].name, name) == 0) return t;
    }
}

static void map_insert(importer *im, const char *name, int t)
{
    size_t i = name_hash(name) & im->mask;
    while (im->slots[i] >= 0) i = (i + 1) & im->mask;
    im->slots[i] = t;
}

static int name_too_long(const char *s)
{
    return strnlen(s, IMP_MAX_NAME + 1) > IMP_MAX_NAME;
}

static int check_name(importer *im, const char *s, const char *what)
{
    if (s && name_too_long(s))
        return ft_fail(im->err, FT_ERR_INPUT, "%s: %s name '%.64s...' is longer than %d bytes", im->file, what, s,
                       IMP_MAX_NAME);
    return FT_OK;
}

static int is_default_domain(const char *d)
{
    return !d || !*d || strcmp(d, "ai.onnx") == 0;
}

/* Node names for messages: the file's name, or "<op_type>_<index>" for anonymous nodes. */
static void node_label(const Onnx__NodeProto *np, size_t idx, char *buf, size_t n)
{
    if (np->name && *np->name) snprintf(buf, n, "%s", np->name);
    else snprintf(buf, n, "%s_%zu", np->op_type ? np->op_type : "", idx);
}

/* ---------- tensors ---------- */

static int new_tensor(importer *im, const char *name, int *out)
{
    if (im->g->n_tensors >= im->cap)
        return ft_fail(im->err, FT_ERR_FAIL, "%s: internal error: more tensors than counted", im->file);
    int t = ft_graph_add_tensor(im->g, name);
    if (t < 0) return ft_fail(im->err, FT_ERR_NOMEM, "%s: out of memory", im->file);
    im->src[t] = -1;
    im->listed[t] = 0;
    map_insert(im, name, t);
    *out = t;
    return FT_OK;
}

/* What a tensor already is, for "produced twice" messages. */
static void describe_tensor(const importer *im, int t, char *buf, size_t n)
{
    const ft_tensor *x = &im->g->tensors[t];
    if (x->flags & FT_T_INPUT) {
        snprintf(buf, n, "a graph input");
    } else if (im->src[t] >= 0) {
        char nm[128];
        const Onnx__NodeProto *np = im->gp->node[im->src[t]];
        node_label(np, (size_t)im->src[t], nm, sizeof nm);
        snprintf(buf, n, "the output of node '%s' (%s)", nm, np->op_type);
    } else {
        snprintf(buf, n, "an initializer");
    }
}

/* Creates the tensor a node writes; "" (an omitted optional output) gives -1. */
static int add_node_output(importer *im, const char *nname, const char *op, size_t file_idx, const char *name,
                           int *out)
{
    *out = -1;
    if (!*name) return FT_OK;
    int rc = check_name(im, name, "tensor");
    if (rc) return rc;
    int t = map_find(im, name);
    if (t >= 0) {
        char what[256];
        describe_tensor(im, t, what, sizeof what);
        return ft_fail(im->err, FT_ERR_INPUT, "%s: node '%s' (%s): output '%s' is already %s", im->file, nname, op,
                       name, what);
    }
    rc = new_tensor(im, name, &t);
    if (rc) return rc;
    im->src[t] = (int)file_idx;
    im->g->tensors[t].shape.rank = -1; /* unknown until ft_graph_prepare infers it */
    *out = t;
    return FT_OK;
}

static void dtype_hint(importer *im, const Onnx__ValueInfoProto *vi)
{
    if (!vi->name || !vi->type || vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE) return;
    const Onnx__TypeProto__Tensor *tt = vi->type->tensor_type;
    ft_dtype dt;
    const char *dn;
    if (!tt || !tt->has_elem_type || ft_onnx_dtype(tt->elem_type, &dt, &dn) != FT_OK) return;
    int t = map_find(im, vi->name);
    if (t < 0) return;
    ft_tensor *x = &im->g->tensors[t];
    if (!(x->flags & (FT_T_CONST | FT_T_INPUT)) && x->dtype == FT_UNDEFINED) x->dtype = dt;
}

static int import_initializers(importer *im)
{
    const Onnx__GraphProto *gp = im->gp;
    if (gp->n_sparse_initializer) {
        const Onnx__SparseTensorProto *sp = gp->sparse_initializer[0];
        const char *nm = sp->values && sp->values->name ? sp->values->name : "";
        return ft_fail(im->err, FT_ERR_UNSUPPORTED, "%s: sparse initializer '%.200s' is not supported", im->file, nm);
    }
    for (size_t i = 0; i < gp->n_initializer; i++) {
        Onnx__TensorProto *tp = gp->initializer[i];
        if (!tp->name || !*tp->name)
            return ft_fail(im->err, FT_ERR_INPUT, "%s: initializer %zu has no name", im->file, i);
        int rc = check_name(im, tp->name, "initializer");
        if (rc) return rc;
        if (map_find(im, tp->name) >= 0)
            return ft_fail(im->err, FT_ERR_INPUT, "%s: initializer '%s' appears twice", im->file, tp->name);
        int t;
        if ((rc = new_tensor(im, tp->name, &t))) return rc;
        char label[IMP_MAX_NAME + 32];
        snprintf(label, sizeof label, "initializer '%s'", tp->name);
        rc = ft_onnx_tensor_decode(tp, im->file, label, im->g->dir, &im->g->tensors[t], im->err);
        if (rc) return rc;
    }
    return FT_OK;
}

/* dtype and (possibly dynamic) shape of a run-time graph input. */
static int input_type(importer *im, const Onnx__ValueInfoProto *vi, ft_tensor *t)
{
    const char *nm = vi->name;
    if (!vi->type) return ft_fail(im->err, FT_ERR_INPUT, "%s: graph input '%s' has no type", im->file, nm);
    if (vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !vi->type->tensor_type)
        return ft_fail(im->err, FT_ERR_UNSUPPORTED,
                       "%s: graph input '%s' is not a tensor (sequence, map, optional and sparse inputs are not supported)",
                       im->file, nm);
    const Onnx__TypeProto__Tensor *tt = vi->type->tensor_type;
    if (!tt->has_elem_type)
        return ft_fail(im->err, FT_ERR_INPUT, "%s: graph input '%s' has no element type", im->file, nm);
    const char *dn;
    int rc = ft_onnx_dtype(tt->elem_type, &t->dtype, &dn);
    if (rc == FT_ERR_UNSUPPORTED)
        return ft_fail(im->err, rc, "%s: graph input '%s': %s tensors are not supported", im->file, nm, dn);
    if (rc) return ft_fail(im->err, rc, "%s: graph input '%s': invalid element type %d", im->file, nm, (int)tt->elem_type);
    if (!tt->shape) {
        t->shape.rank = -1;
        return FT_OK;
    }
    if (tt->shape->n_dim > FT_MAX_RANK)
        return ft_fail(im->err, FT_ERR_INPUT, "%s: graph input '%s': rank %zu exceeds the maximum of %d", im->file, nm,
                       tt->shape->n_dim, FT_MAX_RANK);
    t->shape.rank = (int)tt->shape->n_dim;
    int all_static = 1;
    for (int i = 0; i < t->shape.rank; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        t->shape.dims[i] = -1;
        if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
            if (d->dim_value < 0)
                return ft_fail(im->err, FT_ERR_INPUT, "%s: graph input '%s': negative dimension %lld", im->file, nm,
                               (long long)d->dim_value);
            t->shape.dims[i] = d->dim_value;
            continue;
        }
        all_static = 0;
        if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM && d->dim_param && *d->dim_param) {
            if ((rc = check_name(im, d->dim_param, "dimension"))) return rc;
            t->dim_param[i] = strdup(d->dim_param);
            if (!t->dim_param[i]) return ft_fail(im->err, FT_ERR_NOMEM, "%s: out of memory", im->file);
        }
    }
    char sb[200];
    if (all_static && ft_shape_numel(&t->shape) < 0)
        return ft_fail(im->err, FT_ERR_INPUT, "%s: graph input '%s': shape %s has more than %lld elements", im->file,
                       nm, ft_shape_str(&t->shape, sb, sizeof sb), (long long)FT_MAX_NUMEL);
    return FT_OK;
}

static int import_inputs(importer *im)
{
    const Onnx__GraphProto *gp = im->gp;
    ft_graph *g = im->g;
    g->inputs = malloc((gp->n_input ? gp->n_input : 1) * sizeof *g->inputs);
    if (!g->inputs) return ft_fail(im->err, FT_ERR_NOMEM, "%s: out of memory", im->file);
    for (size_t i = 0; i < gp->n_input; i++) {
        const Onnx__ValueInfoProto *vi = gp->input[i];
        if (!vi->name || !*vi->name)
            return ft_fail(im->err, FT_ERR_INPUT, "%s: graph input %zu has no name", im->file, i);
        int rc = check_name(im, vi->name, "graph input");
        if (rc) return rc;
        int t = map_find(im, vi->name);
        if (t >= 0 && im->listed[t])
            return ft_fail(im->err, FT_ERR_INPUT, "%s: graph input '%s' is listed twice", im->file, vi->name);
        if (t >= 0) {
            /* An initializer listed among the inputs (IR < 4 did that for every weight): a constant. */
            im->listed[t] = 1;
            continue;
        }
        if ((rc = new_tensor(im, vi->name, &t))) return rc;
        im->listed[t] = 1;
        g->tensors[t].flags |= FT_T_INPUT;
        if ((rc = input_type(im, vi, &g->tensors[t]))) return rc;
        g->inputs[g->n_inputs++] = t;
    }
    return FT_OK;
}

/* ---------- attributes ---------- */

static int copy_string(importer *im, const ProtobufCBinaryData *b, const char *ctx, char **out)
{
    if (b->len && memchr(b->data, 0, b->len))
        return ft_fail(im->err, FT_ERR_INPUT, "%s: %s: string contains a NUL byte", im->file, ctx);
    char *s = malloc(b->len + 1);
    if (!s) return ft_fail(im->err, FT_ERR_NOMEM, "%s: out of memory", im->file);
    if (b->len) memcpy(s, b->data, b->len);
    s[b->len] = 0;
    *out = s;
    return FT_OK;
}

/* IR version 1 had no type field: the value field that is set tells the type. */
static int attr_type_from_fields(const Onnx__AttributeProto *ap)
{
    if (ap->has_f) return FT_ATTR_FLOAT;
    if (ap->has_i) return FT_ATTR_INT;
    if (ap->has_s) return FT_ATTR_STRING;
    if (ap->t) return FT_ATTR_TENSOR;
    if (ap->g) return FT_ATTR_GRAPH;
    if (ap->n_floats) return FT_ATTR_FLOATS;
    if (ap->n_ints) return FT_ATTR_INTS;
    if (ap->n_strings) return FT_ATTR_STRINGS;
    if (ap->n_graphs) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS;
    if (ap->n_tensors) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS;
    if (ap->sparse_tensor) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR;
    if (ap->n_sparse_tensors) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSORS;
    if (ap->tp) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTO;
    if (ap->n_type_protos) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTOS;
    return -1;
}

static int parse_attr(importer *im, const char *nname, const char *op, Onnx__AttributeProto *ap, ft_attr *a)
{
    if (!ap->name || !*ap->name)
        return ft_fail(im->err, FT_ERR_INPUT, "%s: node '%s' (%s): attribute without a name", im->file, nname, op);
    int rc = check_name(im, ap->name, "attribute");
    if (rc) return rc;
    if (ap->ref_attr_name && *ap->ref_attr_name)
        return ft_fail(im->err, FT_ERR_INPUT,
                       "%s: node '%s' (%s): attribute '%s' refers to '%.200s', which is only valid inside a function",
                       im->file, nname, op, ap->name, ap->ref_attr_name);
    a->name = strdup(ap->name);
    if (!a->name) return ft_fail(im->err, FT_ERR_NOMEM, "%s: out of memory", im->file);
    int type = ap->has_type ? (int)ap->type : attr_type_from_fields(ap);
    char ctx[2 * IMP_MAX_NAME + 300];
    snprintf(ctx, sizeof ctx, "node '%s' (%s): attribute '%s'", nname, op, ap->name);
    if (type < 0) return ft_fail(im->err, FT_ERR_INPUT, "%s: %s has no type and no value", im->file, ctx);
    size_t n = 0;
    if (type == FT_ATTR_FLOATS) n = ap->n_floats;
    else if (type == FT_ATTR_INTS) n = ap->n_ints;
    else if (type == FT_ATTR_STRINGS) n = ap->n_strings;
    if (n > IMP_MAX_ATTR_ELEMS)
        return ft_fail(im->err, FT_ERR_INPUT, "%s: %s has %zu elements (more than %d)", im->file, ctx, n,
                       IMP_MAX_ATTR_ELEMS);
    switch (type) {
    case FT_ATTR_FLOAT:
        a->f = ap->f;
        break;
    case FT_ATTR_INT:
        a->i = ap->i;
        break;
    case FT_ATTR_STRING:
        if ((rc = copy_string(im, &ap->s, ctx, &a->s))) return rc;
        break;
    case FT_ATTR_TENSOR:
        if (!ap->t) return ft_fail(im->err, FT_ERR_INPUT, "%s: %s is of type TENSOR but holds none", im->file, ctx);
        a->t = calloc(1, sizeof *a->t);
        if (!a->t) return ft_fail(im->err, FT_ERR_NOMEM, "%s: out of memory", im->file);
        a->t->producer = -1;
        a->t->alias_of = -1;
        a->t->name = strdup(ap->t->name && !name_too_long(ap->t->name) ? ap->t->name : "");
        if (!a->t->name) return ft_fail(im->err, FT_ERR_NOMEM, "%s: out of memory", im->file);
        if ((rc = ft_onnx_tensor_decode(ap->t, im->file, ctx, im->g->dir, a->t, im->err))) return rc;
        break;
    case FT_ATTR_GRAPH:
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS:
        /* Subgraphs (If, Loop, Scan) are not run; the type lets ft_graph_prepare refuse the node by name. */
        type = FT_ATTR_GRAPH;
        break;
    case FT_ATTR_FLOATS:
        if (n) {
            if (!(a->floats = malloc(n * sizeof *a->floats)))
                return ft_fail(im->err, FT_ERR_NOMEM, "%s: out of memory", im->file);
            memcpy(a->floats, ap->floats, n * sizeof *a->floats);
        }
        a->n = (int)n;
        break;
    case FT_ATTR_INTS:
        if (n) {
            if (!(a->ints = malloc(n * sizeof *a->ints)))
                return ft_fail(im->err, FT_ERR_NOMEM, "%s: out of memory", im->file);
            memcpy(a->ints, ap->ints, n * sizeof *a->ints);
        }
        a->n = (int)n;
        break;
    case FT_ATTR_STRINGS:
        if (n) {
            if (!(a->strings = calloc(n, sizeof *a->strings)))
                return ft_fail(im->err, FT_ERR_NOMEM, "%s: out of memory", im->file);
            a->n = (int)n;
            a->type = FT_ATTR_STRINGS; /* so that ft_attr_clear frees the partial list */
            for (size_t k = 0; k < n; k++)
                if ((rc = copy_string(im, &ap->strings[k], ctx, &a->strings[k]))) return rc;
        }
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS:
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR:
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSORS:
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTO:
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTOS:
        /* Valid ONNX that ft_attr cannot hold; no supported op reads one. */
        type = FT_ATTR_UNDEFINED;
        break;
    default:
        return ft_fail(im->err, FT_ERR_INPUT, "%s: %s has an invalid type %d", im->file, ctx, type);
    }
    a->type = (ft_attr_type)type;
    return FT_OK;
}

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorting keeps the duplicate check O(k log k) even for a node with very many attributes. */
static int check_unique_attrs(importer *im, const ft_node *n)
{
    if (n->n_attrs < 2) return FT_OK;
    char **names = malloc((size_t)n->n_attrs * sizeof *names);
    if (!names) return ft_fail(im->err, FT_ERR_NOMEM, "%s: out of memory", im->file);
    for (int i = 0; i < n->n_attrs; i++) names[i] = n->attrs[i].name;
    qsort(names, (size_t)n->n_attrs, sizeof *names, cmp_str_ptr);
    int rc = FT_OK;
    for (int i = 1; i < n->n_attrs && rc == FT_OK; i++)
        if (strcmp(names[i - 1], names[i]) == 0)
            rc = ft_fail(im->err, FT_ERR_INPUT, "%s: node '%s' (%s): attribute '%s' appears twice", im->file, n->name,
                         n->op_type, names[i]);
    free(names);
    return rc;
}

/* ---------- nodes ---------- */

static int node_opset(const importer *im, const char *domain)
{
    if (is_default_domain(domain)) return im->g->opset;
    int v = 0;
    for (size_t i = 0; i < im->m->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = im->m->opset_import[i];
        if (o->domain && strcmp(o->domain, domain) == 0 && (int)o->version > v) v = (int)o->version;
    }
    return v ? v : 1;
}

/* A Constant node becomes a constant tensor named after its output; no node is kept. */
static int import_constant(importer *im, Onnx__NodeProto *np, const char *nname, size_t idx)
{
    if (np->n_input != 0)
        return ft_fail(im->err, FT_ERR_INPUT, "%s: node '%s' (Constant) has inputs", im->file, nname);
    if (np->n_output != 1 || !*np->output[0])
        return ft_fail(im->err, FT_ERR_INPUT, "%s: node '%s' (Constant) must have exactly one output", im->file,
                       nname);
    if (np->n_attribute != 1)
        return ft_fail(im->err, FT_ERR_INPUT,
                       "%s: node '%s' (Constant) needs exactly one of the attributes value, value_float, "
                       "value_floats, value_int, value_ints (it has %zu attributes)",
                       im->file, nname, np->n_attribute);
    Onnx__AttributeProto *ap = np->attribute[0];
    static const char *const unsupported[] = {"value_string", "value_strings", "sparse_value"};
    for (size_t k = 0; k < 3; k++)
        if (ap->name && strcmp(ap->name, unsupported[k]) == 0)
            return ft_fail(im->err, FT_ERR_UNSUPPORTED, "%s: node '%s' (Constant): attribute '%s' is not supported",
                           im->file, nname, ap->name);
    ft_attr a;
    memset(&a, 0, sizeof a);
    int rc = parse_attr(im, nname, "Constant", ap, &a);
    if (rc) goto done;
    static const struct {
        const char *name;
        ft_attr_type type;
    } kinds[] = {{"value", FT_ATTR_TENSOR}, {"value_float", FT_ATTR_FLOAT}, {"value_floats", FT_ATTR_FLOATS},
                 {"value_int", FT_ATTR_INT}, {"value_ints", FT_ATTR_INTS}};
    size_t kind = 0;
    while (kind < 5 && strcmp(a.name, kinds[kind].name) != 0) kind++;
    if (kind == 5) {
        rc = ft_fail(im->err, FT_ERR_INPUT, "%s: node '%s' (Constant): unknown attribute '%s'", im->file, nname, a.name);
        goto done;
    }
    if (a.type != kinds[kind].type) {
        rc = ft_fail(im->err, FT_ERR_INPUT, "%s: node '%s' (Constant): attribute '%s' has the wrong type", im->file,
                     nname, a.name);
        goto done;
    }
    int t;
    if ((rc = add_node_output(im, nname, "Constant", idx, np->output[0], &t))) goto done;
    ft_tensor *x = &im->g->tensors[t];
    x->flags |= FT_T_CONST;
    switch (a.type) {
    case FT_ATTR_TENSOR:
        x->dtype = a.t->dtype;
        x->shape = a.t->shape;
        x->data = a.t->data;
        x->flags |= a.t->flags & FT_T_EXTERNAL;
        a.t->data = NULL;
        break;
    case FT_ATTR_FLOAT:
    case FT_ATTR_INT:
        x->dtype = a.type == FT_ATTR_FLOAT ? FT_FLOAT : FT_INT64;
        x->shape.rank = 0;
        x->data = malloc(ft_dtype_size(x->dtype));
        if (!x->data) {
            rc = ft_fail(im->err, FT_ERR_NOMEM, "%s: out of memory", im->file);
            goto done;
        }
        if (a.type == FT_ATTR_FLOAT) memcpy(x->data, &a.f, sizeof a.f);
        else memcpy(x->data, &a.i, sizeof a.i);
        break;
    default: /* FLOATS, INTS: a 1-D tensor that takes over the attribute's array */
        x->dtype = a.type == FT_ATTR_FLOATS ? FT_FLOAT : FT_INT64;
        x->shape.rank = 1;
        x->shape.dims[0] = a.n;
        x->data = a.type == FT_ATTR_FLOATS ? (void *)a.floats : (void *)a.ints;
        a.floats = NULL;
        a.ints = NULL;
        if (!x->data && !(x->data = malloc(1))) {
            rc = ft_fail(im->err, FT_ERR_NOMEM, "%s: out of memory", im->file);
            goto done;
        }
        break;
    }
done:
    ft_attr_clear(&a);
    return rc;
}

static int import_node(importer *im, Onnx__NodeProto *np, size_t idx)
{
    ft_graph *g = im->g;
    if (!np->op_type || !*np->op_type)
        return ft_fail(im->err, FT_ERR_INPUT, "%s: node %zu has no op_type", im->file, idx);
    int rc;
    if ((rc = check_name(im, np->op_type, "op_type")) || (rc = check_name(im, np->name, "node")) ||
        (rc = check_name(im, np->domain, "domain")))
        return rc;
    char nname[IMP_MAX_NAME + 32];
    node_label(np, idx, nname, sizeof nname);
    if (is_default_domain(np->domain) && strcmp(np->op_type, "Constant") == 0)
        return import_constant(im, np, nname, idx);

    int k = g->n_nodes++;
    ft_node *n = &g->nodes[k];
    memset(n, 0, sizeof *n);
    im->proto[k] = np;
    n->name = strdup(nname);
    n->op_type = strdup(np->op_type);
    n->domain = strdup(np->domain ? np->domain : "");
    n->in = malloc((np->n_input ? np->n_input : 1) * sizeof *n->in);
    n->out = malloc((np->n_output ? np->n_output : 1) * sizeof *n->out);
    n->attrs = calloc(np->n_attribute ? np->n_attribute : 1, sizeof *n->attrs);
    if (!n->name || !n->op_type || !n->domain || !n->in || !n->out || !n->attrs)
        return ft_fail(im->err, FT_ERR_NOMEM, "%s: out of memory", im->file);
    n->opset = node_opset(im, n->domain);
    n->n_in = (int)np->n_input;
    for (int i = 0; i < n->n_in; i++) n->in[i] = -1; /* resolved once every node's outputs exist */
    for (size_t i = 0; i < np->n_output; i++) {
        if ((rc = add_node_output(im, nname, n->op_type, idx, np->output[i], &n->out[i]))) return rc;
        n->n_out = (int)i + 1;
        if (n->out[i] >= 0) g->tensors[n->out[i]].producer = k;
    }
    for (size_t i = 0; i < np->n_attribute; i++) {
        n->n_attrs = (int)i + 1;
        if ((rc = parse_attr(im, nname, n->op_type, np->attribute[i], &n->attrs[i]))) return rc;
    }
    return check_unique_attrs(im, n);
}

static int resolve_inputs(importer *im)
{
    ft_graph *g = im->g;
    for (int k = 0; k < g->n_nodes; k++) {
        const Onnx__NodeProto *np = im->proto[k];
        ft_node *n = &g->nodes[k];
        for (int i = 0; i < n->n_in; i++) {
            const char *nm = np->input[i];
            if (!*nm) continue;
            int t = name_too_long(nm) ? -1 : map_find(im, nm);
            if (t < 0)
                return ft_fail(im->err, FT_ERR_INPUT,
                               "%s: node '%s' (%s): input '%.200s' is not produced by any node, initializer or graph input",
                               im->file, n->name, n->op_type, nm);
            n->in[i] = t;
        }
    }
    return FT_OK;
}

static int import_outputs(importer *im)
{
    const Onnx__GraphProto *gp = im->gp;
    ft_graph *g = im->g;
    g->outputs = malloc((gp->n_output ? gp->n_output : 1) * sizeof *g->outputs);
    if (!g->outputs) return ft_fail(im->err, FT_ERR_NOMEM, "%s: out of memory", im->file);
    for (size_t i = 0; i < gp->n_output; i++) {
        const Onnx__ValueInfoProto *vi = gp->output[i];
        if (!vi->name || !*vi->name)
            return ft_fail(im->err, FT_ERR_INPUT, "%s: graph output %zu has no name", im->file, i);
        int t = name_too_long(vi->name) ? -1 : map_find(im, vi->name);
        if (t < 0)
            return ft_fail(im->err, FT_ERR_INPUT,
                           "%s: graph output '%.200s' is not produced by any node, initializer or graph input",
                           im->file, vi->name);
        g->tensors[t].flags |= FT_T_OUTPUT;
        g->outputs[g->n_outputs++] = t;
        dtype_hint(im, vi);
    }
    for (size_t i = 0; i < gp->n_value_info; i++) dtype_hint(im, gp->value_info[i]);
    return FT_OK;
}

/* ---------- topological order ---------- */

static void heap_push(int *h, int *n, int v)
{
    int i = (*n)++;
    while (i > 0 && h[(i - 1) / 2] > v) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = v;
}

static int heap_pop(int *h, int *n)
{
    int top = h[0], v = h[--*n], i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && h[c + 1] < h[c]) c++;
        if (h[c] >= v) break;
        h[i] = h[c];
        i = c;
    }
    if (*n > 0) h[i] = v;
    return top;
}

/* An input of node v whose producer has not been scheduled, or -1. */
static int unscheduled_input(const ft_graph *g, int v, const char *done)
{
    const ft_node *n = &g->nodes[v];
    for (int i = 0; i < n->n_in; i++) {
        int t = n->in[i];
        if (t >= 0 && g->tensors[t].producer >= 0 && !done[g->tensors[t].producer]) return t;
    }
    return -1;
}

/* Walks producers back from an unscheduled node until one repeats: that node lies on a cycle. */
static int report_cycle(importer *im, const char *done)
{
    ft_graph *g = im->g;
    int v = 0;
    while (done[v]) v++;
    int *seen = calloc((size_t)g->n_nodes, sizeof *seen);
    if (!seen) return ft_fail(im->err, FT_ERR_NOMEM, "%s: out of memory", im->file);
    int t = -1;
    for (int step = 1; !seen[v]; step++) {
        seen[v] = step;
        t = unscheduled_input(g, v, done);
        v = g->tensors[t].producer;
    }
    t = unscheduled_input(g, v, done);
    free(seen);
    return ft_fail(im->err, FT_ERR_INPUT, "%s: the graph has a cycle: node '%s' (%s) depends on its own output through input '%s'",
                   im->file, g->nodes[v].name, g->nodes[v].op_type, g->tensors[t].name);
}

/* Kahn's algorithm, always taking the ready node that comes first in the file, so a file already in
 * topological order keeps its order. */
static int sort_nodes(importer *im)
{
    ft_graph *g = im->g;
    int n = g->n_nodes, rc = FT_OK;
    size_t nt = (size_t)g->n_tensors;
    int *indeg = calloc((size_t)n + 1, sizeof *indeg);
    int *cstart = calloc(nt + 1, sizeof *cstart);
    int *heap = malloc(((size_t)n + 1) * sizeof *heap);
    int *order = malloc(((size_t)n + 1) * sizeof *order);
    char *done = calloc((size_t)n + 1, 1);
    int *cons = NULL, *fill = NULL;
    ft_node *sorted = NULL;
    if (!indeg || !cstart || !heap || !order || !done) goto nomem;
    long long nrefs = 0;
    for (int v = 0; v < n; v++)
        for (int i = 0; i < g->nodes[v].n_in; i++) {
            int t = g->nodes[v].in[i];
            if (t >= 0 && g->tensors[t].producer >= 0) {
                indeg[v]++;
                cstart[t + 1]++;
                nrefs++;
            }
        }
    for (size_t t = 0; t < nt; t++) cstart[t + 1] += cstart[t];
    cons = malloc(((size_t)nrefs + 1) * sizeof *cons);
    fill = malloc((nt + 1) * sizeof *fill);
    if (!cons || !fill) goto nomem;
    memcpy(fill, cstart, nt * sizeof *fill);
    for (int v = 0; v < n; v++)
        for (int i = 0; i < g->nodes[v].n_in; i++) {
            int t = g->nodes[v].in[i];
            if (t >= 0 && g->tensors[t].producer >= 0) cons[fill[t]++] = v;
        }
    int nh = 0, no = 0;
    for (int v = 0; v < n; v++)
        if (!indeg[v]) heap_push(heap, &nh, v);
    while (nh) {
        int v = heap_pop(heap, &nh);
        order[no++] = v;
        done[v] = 1;
        for (int o = 0; o < g->nodes[v].n_out; o++) {
            int t = g->nodes[v].out[o];
            if (t < 0) continue;
            for (int c = cstart[t]; c < cstart[t + 1]; c++)
                if (--indeg[cons[c]] == 0) heap_push(heap, &nh, cons[c]);
        }
    }
    if (no < n) {
        rc = report_cycle(im, done);
        goto out;
    }
    sorted = malloc(((size_t)n + 1) * sizeof *sorted);
    if (!sorted) goto nomem;
    for (int k = 0; k < n; k++) {
        sorted[k] = g->nodes[order[k]];
        for (int o = 0; o < sorted[k].n_out; o++)
            if (sorted[k].out[o] >= 0) g->tensors[sorted[k].out[o]].producer = k;
    }
    free(g->nodes);
    g->nodes = sorted;
    g->cap_nodes = n;
    for (int k = 0; k < n; k++)
        for (int i = 0; i < g->nodes[k].n_in; i++)
            if (g->nodes[k].in[i] >= 0) g->tensors[g->nodes[k].in[i]].n_consumers++;
    for (int i = 0; i < g->n_outputs; i++) g->tensors[g->outputs[i]].n_consumers++;
    goto out;
nomem:
    rc = ft_fail(im->err, FT_ERR_NOMEM, "%s: out of memory", im->file);
out:
    free(indeg);
    free(cstart);
    free(heap);
    free(order);
    free(done);
    free(cons);
    free(fill);
    return rc;
}

/* ---------- model ---------- */

static int import_opsets(importer *im)
{
    const Onnx__ModelProto *m = im->m;
    if (m->n_opset_import > IMP_MAX_OPSETS)
        return ft_fail(im->err, FT_ERR_INPUT, "%s: %zu opset_import entries (more than %d)", im->file,
                       m->n_opset_import, IMP_MAX_OPSETS);
    /* Required since IR version 3; a file cut right after its graph also lacks it. */
    if (m->n_opset_import == 0 && m->ir_version >= 3)
        return ft_fail(im->err, FT_ERR_INPUT, "%s: no opset_import (truncated file?)", im->file);
    int def = 0;
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = m->opset_import[i];
        int rc = check_name(im, o->domain, "opset domain");
        if (rc) return rc;
        if (!o->has_version || o->version < 1 || o->version > INT_MAX)
            return ft_fail(im->err, FT_ERR_INPUT, "%s: opset_import of domain '%s' has no valid version", im->file,
                           o->domain ? o->domain : "");
        if (is_default_domain(o->domain) && o->version > def) def = (int)o->version;
    }
    im->g->opset = def ? def : 1;
    return FT_OK;
}

static int import_model(importer *im)
{
    const Onnx__ModelProto *m = im->m;
    ft_graph *g = im->g;
    if (!m->graph) return ft_fail(im->err, FT_ERR_INPUT, "%s: not an ONNX model (no graph)", im->file);
    const Onnx__GraphProto *gp = im->gp = m->graph;
    g->ir_version = m->ir_version;
    int rc = import_opsets(im);
    if (rc) return rc;

    if (gp->n_node > IMP_MAX_ITEMS)
        return ft_fail(im->err, FT_ERR_INPUT, "%s: %zu nodes (more than %d)", im->file, gp->n_node, IMP_MAX_ITEMS);
    size_t ntens = gp->n_input + gp->n_initializer, nrefs = 0;
    for (size_t i = 0; i < gp->n_node && ntens <= IMP_MAX_ITEMS; i++) {
        ntens += gp->node[i]->n_output;
        nrefs += gp->node[i]->n_input;
    }
    if (ntens > IMP_MAX_ITEMS)
        return ft_fail(im->err, FT_ERR_INPUT, "%s: more than %d tensors", im->file, IMP_MAX_ITEMS);
    if (nrefs > IMP_MAX_NODE_INPUTS)
        return ft_fail(im->err, FT_ERR_INPUT, "%s: more than %d node inputs", im->file, IMP_MAX_NODE_INPUTS);

    im->cap = (int)ntens;
    size_t nslots = 16;
    while (nslots < 2 * ntens) nslots *= 2;
    im->mask = nslots - 1;
    im->slots = malloc(nslots * sizeof *im->slots);
    im->src = malloc((ntens + 1) * sizeof *im->src);
    im->listed = malloc(ntens + 1);
    im->proto = malloc((gp->n_node + 1) * sizeof *im->proto);
    g->tensors = malloc((ntens + 1) * sizeof *g->tensors);
    g->nodes = malloc((gp->n_node + 1) * sizeof *g->nodes);
    if (!im->slots || !im->src || !im->listed || !im->proto || !g->tensors || !g->nodes)
        return ft_fail(im->err, FT_ERR_NOMEM, "%s: out of memory", im->file);
    memset(im->slots, 0xff, nslots * sizeof *im->slots);
    g->cap_tensors = (int)ntens + 1;
    g->cap_nodes = (int)gp->n_node + 1;

    if ((rc = import_initializers(im)) || (rc = import_inputs(im))) return rc;
    for (size_t i = 0; i < gp->n_node; i++)
        if ((rc = import_node(im, gp->node[i], i))) return rc;
    if ((rc = resolve_inputs(im)) || (rc = import_outputs(im))) return rc;
    return sort_nodes(im);
}

/* Refuses nesting deeper than IMP_MAX_DEPTH before protobuf-c's unbounded recursion sees it. Only
 * known message fields are followed, as protobuf-c does; anything malformed is left to protobuf-c. */
static int pb_depth_ok(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n, int depth)
{
    if (depth > IMP_MAX_DEPTH) return 0;
    size_t i = 0;
    while (i < n) {
        uint64_t key = 0, len = 0;
        int shift = 0;
        do {
            if (i >= n || shift > 63) return 1;
            key |= (uint64_t)(p[i] & 0x7f) << shift;
            shift += 7;
        } while (p[i++] & 0x80);
        switch (key & 7) {
        case 0:
            do {
                if (i >= n) return 1;
            } while (p[i++] & 0x80);
            break;
        case 1:
            if (n - i < 8) return 1;
            i += 8;
            break;
        case 5:
            if (n - i < 4) return 1;
            i += 4;
            break;
        case 2: {
            shift = 0;
            do {
                if (i >= n || shift > 63) return 1;
                len |= (uint64_t)(p[i] & 0x7f) << shift;
                shift += 7;
            } while (p[i++] & 0x80);
            if (len > n - i) return 1;
            uint64_t id = key >> 3;
            const ProtobufCFieldDescriptor *f =
                id <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(d, (unsigned)id) : NULL;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE && !pb_depth_ok(f->descriptor, p + i, (size_t)len, depth + 1))
                return 0;
            i += (size_t)len;
            break;
        }
        default:
            return 1;
        }
    }
    return 1;
}

int ft_onnx_load_buffer(const uint8_t *buf, size_t len, const char *name, const char *dir, ft_graph **out,
                        ft_error *err)
{
    const char *file = name ? name : "<memory>";
    *out = NULL;
    if (len == 0 || !buf) return ft_fail(err, FT_ERR_INPUT, "%s: empty file, not an ONNX model", file);
    if (!pb_depth_ok(&onnx__model_proto__descriptor, buf, len, 1))
        return ft_fail(err, FT_ERR_INPUT, "%s: not a valid ONNX model (messages nested more than %d deep)", file,
                       IMP_MAX_DEPTH);
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, buf);
    if (!m) return ft_fail(err, FT_ERR_INPUT, "%s: not a valid ONNX model (malformed or truncated protobuf)", file);
    ft_graph *g = ft_graph_create();
    int rc = FT_OK;
    if (!g || !(g->path = strdup(file)) || (dir && !(g->dir = strdup(dir)))) {
        rc = ft_fail(err, FT_ERR_NOMEM, "%s: out of memory", file);
    } else {
        ft_sha256(buf, len, g->digest);
        importer im;
        memset(&im, 0, sizeof im);
        im.g = g;
        im.file = file;
        im.err = err;
        im.m = m;
        rc = import_model(&im);
        free(im.slots);
        free(im.src);
        free(im.listed);
        free(im.proto);
    }
    onnx__model_proto__free_unpacked(m, NULL);
    if (rc != FT_OK) {
        ft_graph_destroy(g);
        return rc;
    }
    *out = g;
    return FT_OK;
}

int ft_onnx_load(const char *path, ft_graph **out, ft_error *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ft_fail(err, errno == ENOENT || errno == ENOTDIR ? FT_ERR_INPUT : FT_ERR_FAIL, "%s: cannot open: %s",
                       path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return ft_fail(err, FT_ERR_FAIL, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return ft_fail(err, FT_ERR_INPUT, "%s: not a regular file", path);
    }
    if (st.st_size == 0) {
        close(fd);
        return ft_fail(err, FT_ERR_INPUT, "%s: empty file, not an ONNX model", path);
    }
    if ((uint64_t)st.st_size > SIZE_MAX) {
        close(fd);
        return ft_fail(err, FT_ERR_INPUT, "%s: too large for this machine", path);
    }
    size_t len = (size_t)st.st_size;
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED) return ft_fail(err, FT_ERR_FAIL, "%s: cannot map: %s", path, strerror(e));

    /* External data is resolved against the model's own folder. */
    char *dir = strdup(path);
    int rc;
    if (!dir) {
        rc = ft_fail(err, FT_ERR_NOMEM, "%s: out of memory", path);
    } else {
        char *slash = strrchr(dir, '/');
        if (!slash) strcpy(dir, ".");
        else if (slash == dir) dir[1] = 0;
        else *slash = 0;
        rc = ft_onnx_load_buffer(map, len, path, dir, out, err);
    }
    free(dir);
    munmap(map, len);
    return rc;
}
