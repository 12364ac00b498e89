/* onnx_import.c - ONNX ModelProto (protobuf-c) to ft_graph: tensors, nodes, attributes, topological order.
 *
 * Peak memory is the weights plus a little: protobuf-c unpacks a copy of the message from which
 * every large raw_data has been cut out, and each of those is then copied from the file straight
 * into its tensor, with the file's pages dropped from the mapping as they are copied.
 */
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
/* raw_data of at least this many bytes stays out of the message protobuf-c unpacks and is copied
 * from the file straight into its tensor: unpacking would hold a second copy of every weight. */
#define IMP_BLOB_MIN 4096
/* A raw_data left out is replaced by this many bytes: the blob's index and length, little-endian.
 * Every genuine raw_data of this length is left out as well, so after unpacking a raw_data of
 * this length is always a placeholder. */
#define IMP_MARK_LEN 16
/* Weights are copied, hashed and dropped from the file mapping this many bytes at a time. */
#define IMP_CHUNK ((size_t)1 << 20)

/* A raw_data left in the model file: where its bytes are. */
typedef struct blob {
    size_t off, len;
} blob;

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
    const uint8_t *bytes;  /* the model file, where the blobs are */
    size_t n_bytes;
    const blob *blobs;
    size_t n_blobs;
    int release;     /* bytes is a private file mapping whose pages may be dropped once copied */
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

/* ---------- weights left in the file ---------- */

/* Drops the pages of a private file mapping that hold [off, off + n): they are clean copies of the
 * page cache, so a later read faults them back in, and until then they no longer count in RSS. */
static void release_pages(const uint8_t *map, size_t map_len, size_t off, size_t n)
{
    long pg = sysconf(_SC_PAGESIZE);
    size_t page = pg > 0 ? (size_t)pg : 4096;
    size_t start = off / page * page, end = off + n < map_len ? off + n : map_len;
    if (end > start) (void)madvise((void *)(uintptr_t)(map + start), end - start, MADV_DONTNEED);
}

static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* Gives a tensor whose raw_data was left in the file its bytes, in a 64-byte aligned buffer that
 * ft_onnx_tensor_decode then takes over. The copy goes a chunk at a time, each chunk's file pages
 * dropped right after, so a large weight never sits in memory twice. */
static int restore_raw_data(importer *im, Onnx__TensorProto *tp, const char *label)
{
    if (!tp->has_raw_data || tp->raw_data.len != IMP_MARK_LEN) return FT_OK;
    uint64_t k = load_le64(tp->raw_data.data), len = load_le64(tp->raw_data.data + 8);
    if (k >= im->n_blobs || im->blobs[k].len != len)
        return ft_fail(im->err, FT_ERR_FAIL, "%s: %s: internal error: raw_data placeholder %llu does not match",
                       im->file, label, (unsigned long long)k);
    const blob *b = &im->blobs[k];
    uint8_t *dst = aligned_alloc(64, (b->len + 63) & ~(size_t)63);
    if (!dst) return ft_fail(im->err, FT_ERR_NOMEM, "%s: %s: out of memory (%zu bytes)", im->file, label, b->len);
    for (size_t done = 0; done < b->len;) {
        /* chunks end on page boundaries so no page is dropped while the next chunk still needs it */
        size_t end = (b->off + done + IMP_CHUNK) / IMP_CHUNK * IMP_CHUNK - b->off;
        if (end > b->len) end = b->len;
        memcpy(dst + done, im->bytes + b->off + done, end - done);
        if (im->release) release_pages(im->bytes, im->n_bytes, b->off + done, end - done);
        done = end;
    }
    free(tp->raw_data.data);
    tp->raw_data.data = dst;
    tp->raw_data.len = b->len;
    return FT_OK;
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
        if ((rc = restore_raw_data(im, tp, label))) return rc;
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
        if ((rc = restore_raw_data(im, ap->t, ctx))) return rc;
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

/* ---------- the message without its weights ---------- */

/* The messages on the way from a ModelProto to the TensorProtos the importer decodes. */
enum { PB_MODEL, PB_GRAPH, PB_NODE, PB_ATTR, PB_TENSOR, PB_OTHER };

/* What a length-delimited field of a message at `level` holds. */
static int pb_child(int level, uint64_t field)
{
    switch (level) {
    case PB_MODEL: return field == 7 ? PB_GRAPH : PB_OTHER;              /* ModelProto.graph */
    case PB_GRAPH: return field == 1 ? PB_NODE : field == 5 ? PB_TENSOR : PB_OTHER; /* node, initializer */
    case PB_NODE: return field == 5 ? PB_ATTR : PB_OTHER;                /* NodeProto.attribute */
    case PB_ATTR: return field == 5 ? PB_TENSOR : PB_OTHER;              /* AttributeProto.t */
    default: return PB_OTHER;
    }
}

/* A varint of at most 10 bytes from p[*i..n); 0 when it runs past n or is longer. */
static int pb_varint(const uint8_t *p, size_t n, size_t *i, uint64_t *v)
{
    uint64_t x = 0;
    for (int k = 0; k < 10 && *i < n; k++) {
        uint8_t b = p[(*i)++];
        x |= (uint64_t)(b & 0x7f) << (7 * k);
        if (!(b & 0x80)) {
            *v = x;
            return 1;
        }
    }
    return 0;
}

static size_t pb_put_varint(uint8_t *dst, uint64_t v)
{
    size_t k = 0;
    do {
        dst[k++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return k;
}

typedef struct stripper {
    const uint8_t *file; /* the whole model, for blob offsets */
    uint8_t *out;        /* the message being written */
    size_t n, cap;
    blob *blobs;
    size_t n_blobs, cap_blobs;
} stripper;

static int st_reserve(stripper *s, size_t extra)
{
    if (s->cap - s->n >= extra) return FT_OK;
    size_t cap = s->cap ? s->cap : 65536;
    while (cap - s->n < extra) {
        if (cap > SIZE_MAX / 2) return FT_ERR_NOMEM;
        cap *= 2;
    }
    uint8_t *p = realloc(s->out, cap);
    if (!p) return FT_ERR_NOMEM;
    s->out = p;
    s->cap = cap;
    return FT_OK;
}

static int st_put(stripper *s, const uint8_t *p, size_t n)
{
    int rc = st_reserve(s, n);
    if (rc) return rc;
    if (n) memcpy(s->out + s->n, p, n);
    s->n += n;
    return FT_OK;
}

/* Writes raw_data's key and a placeholder for the blob at p[0..len) in place of its bytes. */
static int st_blob(stripper *s, const uint8_t *key, size_t key_len, const uint8_t *p, size_t len)
{
    if (s->n_blobs == s->cap_blobs) {
        size_t cap = s->cap_blobs ? 2 * s->cap_blobs : 64;
        blob *b = realloc(s->blobs, cap * sizeof *b);
        if (!b) return FT_ERR_NOMEM;
        s->blobs = b;
        s->cap_blobs = cap;
    }
    uint8_t mark[1 + IMP_MARK_LEN];
    uint64_t v[2] = {s->n_blobs, len};
    mark[0] = IMP_MARK_LEN;
    for (int i = 0; i < IMP_MARK_LEN; i++) mark[1 + i] = (uint8_t)(v[i / 8] >> (8 * (i % 8)));
    int rc = st_put(s, key, key_len);
    if (!rc) rc = st_put(s, mark, sizeof mark);
    if (rc) return rc;
    s->blobs[s->n_blobs].off = (size_t)(p - s->file);
    s->blobs[s->n_blobs].len = len;
    s->n_blobs++;
    return FT_OK;
}

/* Copies the message p[0..n) at `level`, leaving out large raw_data and re-encoding the length of
 * every message on the way to one. Levels only go down (PB_TENSOR has no children), so this
 * recurses at most four deep. FT_ERR_INPUT when the wire format is malformed or cut short. */
static int strip_message(stripper *s, int level, const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t start = i, key_end;
        uint64_t key, len;
        int rc;
        if (!pb_varint(p, n, &i, &key)) return FT_ERR_INPUT;
        key_end = i;
        switch (key & 7) {
        case 0:
            if (!pb_varint(p, n, &i, &len)) return FT_ERR_INPUT;
            break;
        case 1:
            if (n - i < 8) return FT_ERR_INPUT;
            i += 8;
            break;
        case 5:
            if (n - i < 4) return FT_ERR_INPUT;
            i += 4;
            break;
        case 2: {
            if (!pb_varint(p, n, &i, &len) || len > n - i) return FT_ERR_INPUT;
            const uint8_t *body = p + i;
            i += (size_t)len;
            int child = pb_child(level, key >> 3);
            if (child != PB_OTHER) {
                /* the body is written after room for the longest length prefix, then moved back
                 * next to the prefix it turned out to need */
                if ((rc = st_put(s, p + start, key_end - start)) || (rc = st_reserve(s, 10))) return rc;
                size_t at = s->n;
                s->n += 10;
                if ((rc = strip_message(s, child, body, (size_t)len))) return rc;
                size_t body_len = s->n - at - 10, k = pb_put_varint(s->out + at, body_len);
                memmove(s->out + at + k, s->out + at + 10, body_len);
                s->n = at + k + body_len;
                continue;
            }
            if (level == PB_TENSOR && key >> 3 == 9 && (len >= IMP_BLOB_MIN || len == IMP_MARK_LEN)) {
                if ((rc = st_blob(s, p + start, key_end - start, body, (size_t)len))) return rc;
                continue;
            }
            break;
        }
        default:
            /* groups (3, 4), which protobuf-c refuses as well, and wire types that do not exist */
            return FT_ERR_INPUT;
        }
        if ((rc = st_put(s, p + start, i - start))) return rc;
    }
    return FT_OK;
}

/* Imports the model in buf. digest is the file's SHA-256; release says that buf is a private file
 * mapping whose pages may be dropped once read. */
static int load_model(const uint8_t *buf, size_t len, const char *file, const char *dir, int release,
                      const uint8_t digest[32], ft_graph **out, ft_error *err)
{
    stripper s;
    memset(&s, 0, sizeof s);
    s.file = buf;
    int rc = strip_message(&s, PB_MODEL, buf, len);
    /* the scan touched every page that holds a header; none is needed again but the blobs' */
    if (release) release_pages(buf, len, 0, len);
    if (rc == FT_ERR_INPUT)
        rc = ft_fail(err, rc, "%s: not a valid ONNX model (malformed or truncated protobuf)", file);
    else if (rc)
        rc = ft_fail(err, rc, "%s: out of memory", file);
    else if (!pb_depth_ok(&onnx__model_proto__descriptor, s.out, s.n, 1))
        rc = ft_fail(err, FT_ERR_INPUT, "%s: not a valid ONNX model (messages nested more than %d deep)", file,
                     IMP_MAX_DEPTH);
    Onnx__ModelProto *m = NULL;
    if (!rc) {
        m = onnx__model_proto__unpack(NULL, s.n, s.out);
        if (!m) rc = ft_fail(err, FT_ERR_INPUT, "%s: not a valid ONNX model (malformed or truncated protobuf)", file);
    }
    free(s.out);
    ft_graph *g = NULL;
    if (!rc) {
        g = ft_graph_create();
        if (!g || !(g->path = strdup(file)) || (dir && !(g->dir = strdup(dir))))
            rc = ft_fail(err, FT_ERR_NOMEM, "%s: out of memory", file);
    }
    if (!rc) {
        memcpy(g->digest, digest, 32);
        importer im;
        memset(&im, 0, sizeof im);
        im.g = g;
        im.file = file;
        im.err = err;
        im.m = m;
        im.bytes = buf;
        im.n_bytes = len;
        im.blobs = s.blobs;
        im.n_blobs = s.n_blobs;
        im.release = release;
        rc = import_model(&im);
        free(im.slots);
        free(im.src);
        free(im.listed);
        free(im.proto);
    }
    if (m) onnx__model_proto__free_unpacked(m, NULL);
    free(s.blobs);
    if (rc != FT_OK) {
        ft_graph_destroy(g);
        return rc;
    }
    *out = g;
    return FT_OK;
}

int ft_onnx_load_buffer(const uint8_t *buf, size_t len, const char *name, const char *dir, ft_graph **out,
                        ft_error *err)
{
    const char *file = name ? name : "<memory>";
    *out = NULL;
    if (len == 0 || !buf) return ft_fail(err, FT_ERR_INPUT, "%s: empty file, not an ONNX model", file);
    uint8_t digest[32];
    ft_sha256(buf, len, digest);
    return load_model(buf, len, file, dir, 0, digest, out, err);
}

int ft_onnx_load(const char *path, ft_graph **out, ft_error *err)
{
    *out = NULL;
    /* O_NONBLOCK: opening a FIFO without a writer would wait forever; it is refused below instead. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
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
    uint8_t *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED) return ft_fail(err, FT_ERR_FAIL, "%s: cannot map: %s", path, strerror(e));

    /* Hashed a chunk at a time with each chunk's pages dropped after, so hashing does not fill RSS
     * with the file; the page cache keeps the bytes warm for the copies that follow. */
    ft_sha256_ctx hc;
    ft_sha256_init(&hc);
    for (size_t off = 0; off < len; off += IMP_CHUNK) {
        size_t n = len - off < IMP_CHUNK ? len - off : IMP_CHUNK;
        ft_sha256_update(&hc, map + off, n);
        release_pages(map, len, off, n);
    }
    uint8_t digest[32];
    ft_sha256_final(&hc, digest);

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
        rc = load_model(map, len, path, dir, 1, digest, out, err);
    }
    free(dir);
    munmap(map, len);
    return rc;
}
