/* test_onnx_import.c - the ONNX importer: initializers, Constant nodes, inputs, attributes, order,
 * external data confinement, and no crash on malformed bytes. Models are built with protobuf-c. */
#include "testutil.h"

#include "onnx/onnx.pb-c.h"
#include "onnx_import.h"
#include "sha256.h"

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFORMANCE_DIR "/usr/share/libonnx-testdata/data/node"

/* ---------- a tiny ModelProto builder; every allocation is tracked and freed by mb_free ---------- */

typedef struct mb {
    Onnx__ModelProto m;
    Onnx__GraphProto g;
    Onnx__OperatorSetIdProto opset;
    Onnx__OperatorSetIdProto *opsets[4];
    Onnx__NodeProto *nodes[64];
    Onnx__TensorProto *inits[32];
    Onnx__ValueInfoProto *ins[16], *outs[16];
    void *allocs[4096];
    size_t n_allocs;
} mb;

static void *mb_new(mb *b, size_t n)
{
    assert_true(b->n_allocs < sizeof b->allocs / sizeof b->allocs[0]);
    void *p = calloc(1, n ? n : 1);
    assert_non_null(p);
    b->allocs[b->n_allocs++] = p;
    return p;
}

static char *mb_str(mb *b, const char *s)
{
    char *p = mb_new(b, strlen(s) + 1);
    strcpy(p, s);
    return p;
}

/* "a,,b" -> {"a", "", "b"}; "" -> none. */
static char **mb_list(mb *b, const char *csv, size_t *n)
{
    *n = 0;
    if (!*csv) return NULL;
    size_t cnt = 1;
    for (const char *p = csv; *p; p++) cnt += *p == ',';
    char **v = mb_new(b, cnt * sizeof *v);
    const char *s = csv;
    for (size_t i = 0; i < cnt; i++) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        v[i] = mb_new(b, len + 1);
        memcpy(v[i], s, len);
        s = e ? e + 1 : s + len;
    }
    *n = cnt;
    return v;
}

static void mb_init(mb *b, int64_t opset)
{
    memset(b, 0, sizeof *b);
    Onnx__ModelProto m = ONNX__MODEL_PROTO__INIT;
    Onnx__GraphProto g = ONNX__GRAPH_PROTO__INIT;
    Onnx__OperatorSetIdProto o = ONNX__OPERATOR_SET_ID_PROTO__INIT;
    b->m = m;
    b->g = g;
    b->opset = o;
    b->opset.domain = (char *)"";
    b->opset.has_version = 1;
    b->opset.version = opset;
    b->opsets[0] = &b->opset;
    b->m.n_opset_import = 1;
    b->m.opset_import = b->opsets;
    b->m.has_ir_version = 1;
    b->m.ir_version = 8;
    b->m.graph = &b->g;
    b->g.node = b->nodes;
    b->g.initializer = b->inits;
    b->g.input = b->ins;
    b->g.output = b->outs;
}

static void mb_free(mb *b)
{
    for (size_t i = 0; i < b->n_allocs; i++) free(b->allocs[i]);
    b->n_allocs = 0;
}

static Onnx__NodeProto *mb_node(mb *b, const char *op, const char *name, const char *ins, const char *outs)
{
    Onnx__NodeProto *n = mb_new(b, sizeof *n);
    Onnx__NodeProto init = ONNX__NODE_PROTO__INIT;
    *n = init;
    n->op_type = mb_str(b, op);
    n->name = name ? mb_str(b, name) : NULL;
    n->input = mb_list(b, ins, &n->n_input);
    n->output = mb_list(b, outs, &n->n_output);
    n->attribute = mb_new(b, 16 * sizeof *n->attribute);
    assert_true(b->g.n_node < 64);
    b->nodes[b->g.n_node++] = n;
    return n;
}

static Onnx__AttributeProto *mb_attr(mb *b, Onnx__NodeProto *n, const char *name, int type)
{
    Onnx__AttributeProto *a = mb_new(b, sizeof *a);
    Onnx__AttributeProto init = ONNX__ATTRIBUTE_PROTO__INIT;
    *a = init;
    a->name = mb_str(b, name);
    if (type) {
        a->has_type = 1;
        a->type = (Onnx__AttributeProto__AttributeType)type;
    }
    assert_true(n->n_attribute < 16);
    n->attribute[n->n_attribute++] = a;
    return a;
}

static void mb_attr_f(mb *b, Onnx__NodeProto *n, const char *name, float v)
{
    Onnx__AttributeProto *a = mb_attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    a->has_f = 1; /* proto2: without it the value is not written */
    a->f = v;
}

static void mb_attr_i(mb *b, Onnx__NodeProto *n, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = mb_attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    a->has_i = 1;
    a->i = v;
}

static Onnx__TensorProto *mb_tensor(mb *b, const char *name, int dtype, int rank, const int64_t *dims)
{
    Onnx__TensorProto *t = mb_new(b, sizeof *t);
    Onnx__TensorProto init = ONNX__TENSOR_PROTO__INIT;
    *t = init;
    t->name = name ? mb_str(b, name) : NULL;
    t->has_data_type = 1;
    t->data_type = dtype;
    t->n_dims = (size_t)rank;
    t->dims = mb_new(b, (size_t)(rank > 0 ? rank : 1) * sizeof *t->dims);
    for (int i = 0; i < rank; i++) t->dims[i] = dims[i];
    return t;
}

static void mb_raw(mb *b, Onnx__TensorProto *t, const void *data, size_t n)
{
    t->has_raw_data = 1;
    t->raw_data.len = n;
    t->raw_data.data = mb_new(b, n);
    memcpy(t->raw_data.data, data, n);
}

static Onnx__TensorProto *mb_add_init(mb *b, Onnx__TensorProto *t)
{
    assert_true(b->g.n_initializer < 32);
    b->inits[b->g.n_initializer++] = t;
    return t;
}

static Onnx__TensorProto *mb_init_f32(mb *b, const char *name, int rank, const int64_t *dims, const float *v)
{
    Onnx__TensorProto *t = mb_tensor(b, name, FT_FLOAT, rank, dims);
    size_t n = 1;
    for (int i = 0; i < rank; i++) n *= (size_t)dims[i];
    mb_raw(b, t, v, n * sizeof *v);
    return mb_add_init(b, t);
}

/* A tensor value_info; rank < 0 leaves the shape out, dims[i] < 0 is a dim_param (params[i]) or unset. */
static Onnx__ValueInfoProto *mb_vi(mb *b, const char *name, int elem, int rank, const int64_t *dims,
                                   const char *const *params)
{
    Onnx__ValueInfoProto *vi = mb_new(b, sizeof *vi);
    Onnx__ValueInfoProto vinit = ONNX__VALUE_INFO_PROTO__INIT;
    Onnx__TypeProto *tp = mb_new(b, sizeof *tp);
    Onnx__TypeProto tinit = ONNX__TYPE_PROTO__INIT;
    Onnx__TypeProto__Tensor *tt = mb_new(b, sizeof *tt);
    Onnx__TypeProto__Tensor ttinit = ONNX__TYPE_PROTO__TENSOR__INIT;
    *vi = vinit;
    *tp = tinit;
    *tt = ttinit;
    vi->name = mb_str(b, name);
    vi->type = tp;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    tt->has_elem_type = 1;
    tt->elem_type = elem;
    if (rank >= 0) {
        Onnx__TensorShapeProto *sh = mb_new(b, sizeof *sh);
        Onnx__TensorShapeProto shinit = ONNX__TENSOR_SHAPE_PROTO__INIT;
        *sh = shinit;
        sh->n_dim = (size_t)rank;
        sh->dim = mb_new(b, (size_t)(rank ? rank : 1) * sizeof *sh->dim);
        for (int i = 0; i < rank; i++) {
            Onnx__TensorShapeProto__Dimension *d = mb_new(b, sizeof *d);
            Onnx__TensorShapeProto__Dimension dinit = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
            *d = dinit;
            if (dims[i] >= 0) {
                d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
                d->dim_value = dims[i];
            } else if (params && params[i]) {
                d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
                d->dim_param = mb_str(b, params[i]);
            }
            sh->dim[i] = d;
        }
        tt->shape = sh;
    }
    return vi;
}

static void mb_input(mb *b, const char *name, int elem, int rank, const int64_t *dims)
{
    assert_true(b->g.n_input < 16);
    b->ins[b->g.n_input++] = mb_vi(b, name, elem, rank, dims, NULL);
}

static void mb_output(mb *b, const char *name)
{
    assert_true(b->g.n_output < 16);
    b->outs[b->g.n_output++] = mb_vi(b, name, FT_FLOAT, -1, NULL, NULL);
}

static uint8_t *mb_pack(mb *b, size_t *len)
{
    *len = onnx__model_proto__get_packed_size(&b->m);
    uint8_t *buf = mb_new(b, *len);
    assert_int_equal(onnx__model_proto__pack(&b->m, buf), *len);
    return buf;
}

static int mb_load(mb *b, ft_graph **g, ft_error *e)
{
    size_t len;
    uint8_t *buf = mb_pack(b, &len);
    memset(e, 0, sizeof *e);
    return ft_onnx_load_buffer(buf, len, "test.onnx", NULL, g, e);
}

/* Loads b and expects failure with code and a message containing each of the given fragments. */
static void expect_error(mb *b, int code, const char *frag1, const char *frag2)
{
    ft_graph *g = (ft_graph *)1;
    ft_error e;
    int rc = mb_load(b, &g, &e);
    if (rc != code || (frag1 && !strstr(e.msg, frag1)) || (frag2 && !strstr(e.msg, frag2)))
        fail_msg("want code %d with '%s' and '%s', got %d: %s", code, frag1 ? frag1 : "", frag2 ? frag2 : "", rc,
                 e.msg);
    assert_null(g);
    assert_non_null(strstr(e.msg, "test.onnx"));
}

static ft_graph *load_ok(mb *b)
{
    ft_graph *g = NULL;
    ft_error e;
    int rc = mb_load(b, &g, &e);
    if (rc != FT_OK) fail_msg("load failed (%d): %s", rc, e.msg);
    assert_non_null(g);
    return g;
}

static const ft_tensor *tensor(const ft_graph *g, const char *name)
{
    int t = ft_graph_find_tensor(g, name);
    if (t < 0) fail_msg("no tensor '%s'", name);
    return &g->tensors[t];
}

/* A small model with a bit of everything, for the truncation and mutation tests. */
static void build_rich(mb *b)
{
    static const int64_t d23[] = {2, 3}, d3[] = {3};
    static const float w[] = {1, 2, 3, 4, 5, 6}, bias[] = {0.5f, -1, 2};
    mb_init(b, 17);
    int64_t xd[] = {-1, 3};
    const char *xp[] = {"batch", NULL};
    b->ins[b->g.n_input++] = mb_vi(b, "x", FT_FLOAT, 2, xd, xp);
    mb_init_f32(b, "w", 2, d23, w);
    Onnx__TensorProto *bt = mb_add_init(b, mb_tensor(b, "bias", FT_FLOAT, 1, d3));
    bt->n_float_data = 3;
    bt->float_data = mb_new(b, sizeof bias);
    memcpy(bt->float_data, bias, sizeof bias);
    Onnx__NodeProto *c = mb_node(b, "Constant", "shape_const", "", "shape");
    Onnx__AttributeProto *a = mb_attr(b, c, "value_ints", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    a->n_ints = 2;
    a->ints = mb_new(b, 2 * sizeof *a->ints);
    a->ints[0] = -1;
    a->ints[1] = 2;
    Onnx__NodeProto *gm = mb_node(b, "Gemm", "gemm", "x,w,bias", "y0");
    mb_attr_i(b, gm, "transB", 1);
    mb_attr_f(b, gm, "alpha", 0.5f);
    Onnx__AttributeProto *s = mb_attr(b, gm, "note", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    s->has_s = 1;
    s->s.len = 2;
    s->s.data = (uint8_t *)mb_str(b, "hi");
    mb_node(b, "Reshape", NULL, "y0,shape", "y");
    mb_output(b, "y");
}

/* ---------- tests ---------- */

static void model_fields_and_node_names(void **state)
{
    (void)state;
    mb b;
    mb_init(&b, 13);
    Onnx__OperatorSetIdProto ms = ONNX__OPERATOR_SET_ID_PROTO__INIT;
    ms.domain = (char *)"com.microsoft";
    ms.has_version = 1;
    ms.version = 3;
    Onnx__OperatorSetIdProto ai = ONNX__OPERATOR_SET_ID_PROTO__INIT;
    ai.domain = (char *)"ai.onnx";
    ai.has_version = 1;
    ai.version = 15; /* the highest version of the default domain wins */
    b.opsets[1] = &ms;
    b.opsets[2] = &ai;
    b.m.n_opset_import = 3;
    b.m.ir_version = 7;
    int64_t d[] = {2};
    mb_input(&b, "x", FT_FLOAT, 1, d);
    mb_node(&b, "Relu", "", "x", "r");
    Onnx__NodeProto *n = mb_node(&b, "FusedGelu", "gelu", "r", "y");
    n->domain = (char *)"com.microsoft";
    mb_node(&b, "Clip", "clip", "y,,", "z");
    mb_output(&b, "z");
    size_t len;
    uint8_t *buf = mb_pack(&b, &len);
    ft_graph *g = NULL;
    ft_error e;
    assert_int_equal(ft_onnx_load_buffer(buf, len, "mem.onnx", NULL, &g, &e), FT_OK);
    assert_string_equal(g->path, "mem.onnx");
    assert_null(g->dir);
    assert_int_equal(g->ir_version, 7);
    assert_int_equal(g->opset, 15);
    uint8_t want[32];
    ft_sha256(buf, len, want);
    assert_memory_equal(g->digest, want, 32);
    assert_int_equal(g->n_nodes, 3);
    assert_string_equal(g->nodes[0].name, "Relu_0"); /* anonymous: op type and file index */
    assert_string_equal(g->nodes[0].domain, "");
    assert_int_equal(g->nodes[0].opset, 15);
    assert_string_equal(g->nodes[1].domain, "com.microsoft");
    assert_int_equal(g->nodes[1].opset, 3);
    assert_int_equal(g->nodes[2].n_in, 3);
    assert_int_equal(g->nodes[2].in[1], -1); /* omitted optional inputs */
    assert_int_equal(g->nodes[2].in[2], -1);
    assert_int_equal(g->n_outputs, 1);
    assert_true(g->tensors[g->outputs[0]].flags & FT_T_OUTPUT);
    ft_graph_destroy(g);
    mb_free(&b);
}

/* One initializer per dtype, from raw_data and from its typed field; values chosen to need the
 * narrowing each type does (sign, width, bool normalisation, float16 bits). */
static void initializers_decode_raw_and_typed_fields_of_every_dtype(void **state)
{
    (void)state;
    static const struct {
        ft_dtype dt;
        int64_t v[3];
    } ints[] = {
        {FT_INT8, {-1, 2, -128}},        {FT_UINT8, {255, 0, 7}},        {FT_INT16, {-300, 2, 32767}},
        {FT_UINT16, {65535, 1, 2}},      {FT_INT32, {-70000, 0, 1 << 30}}, {FT_INT64, {-5, (int64_t)1 << 40, 3}},
        {FT_UINT32, {4000000000, 1, 2}}, {FT_UINT64, {INT64_MAX, 0, 9}}, {FT_BOOL, {1, 0, 1}},
        {FT_FLOAT16, {0x3c00, 0xc000, 0x7bff}},
    };
    static const int64_t d3[] = {3};
    for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++) {
        ft_dtype dt = ints[k].dt;
        size_t es = ft_dtype_size(dt);
        uint8_t want[24];
        for (int i = 0; i < 3; i++) {
            int64_t v = ints[k].v[i];
            uint8_t *p = want + (size_t)i * es;
            switch (es) {
            case 1: *p = (uint8_t)v; break;
            case 2: { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); } break;
            case 4: { uint32_t x = (uint32_t)v; memcpy(p, &x, 4); } break;
            default: memcpy(p, &v, 8); break;
            }
        }
        mb b;
        mb_init(&b, 17);
        Onnx__TensorProto *raw = mb_add_init(&b, mb_tensor(&b, "raw", dt, 1, d3));
        mb_raw(&b, raw, want, 3 * es);
        Onnx__TensorProto *typed = mb_add_init(&b, mb_tensor(&b, "typed", dt, 1, d3));
        if (dt == FT_INT64) {
            typed->n_int64_data = 3;
            typed->int64_data = mb_new(&b, 3 * sizeof(int64_t));
            for (int i = 0; i < 3; i++) typed->int64_data[i] = ints[k].v[i];
        } else if (dt == FT_UINT32 || dt == FT_UINT64) {
            typed->n_uint64_data = 3;
            typed->uint64_data = mb_new(&b, 3 * sizeof(uint64_t));
            for (int i = 0; i < 3; i++) typed->uint64_data[i] = (uint64_t)ints[k].v[i];
        } else {
            typed->n_int32_data = 3;
            typed->int32_data = mb_new(&b, 3 * sizeof(int32_t));
            for (int i = 0; i < 3; i++) typed->int32_data[i] = (int32_t)ints[k].v[i];
        }
        mb_output(&b, "raw");
        ft_graph *g = load_ok(&b);
        for (int r = 0; r < 2; r++) {
            const ft_tensor *t = tensor(g, r ? "typed" : "raw");
            assert_int_equal(t->dtype, dt);
            assert_int_equal(t->shape.rank, 1);
            assert_int_equal(t->shape.dims[0], 3);
            assert_int_equal(t->flags & (FT_T_CONST | FT_T_INPUT), FT_T_CONST);
            assert_int_equal(t->producer, -1);
            assert_memory_equal(t->data, want, 3 * es);
        }
        ft_graph_destroy(g);
        mb_free(&b);
    }

    /* floating point, and raw bool bytes other than 0/1 */
    mb b;
    mb_init(&b, 17);
    static const float fv[] = {1.5f, -2.25f, 3e-8f};
    static const double dv[] = {1e300, -0.5, 2};
    Onnx__TensorProto *ft = mb_add_init(&b, mb_tensor(&b, "f", FT_FLOAT, 1, d3));
    ft->n_float_data = 3;
    ft->float_data = mb_new(&b, sizeof fv);
    memcpy(ft->float_data, fv, sizeof fv);
    Onnx__TensorProto *dtp = mb_add_init(&b, mb_tensor(&b, "d", FT_DOUBLE, 1, d3));
    dtp->n_double_data = 3;
    dtp->double_data = mb_new(&b, sizeof dv);
    memcpy(dtp->double_data, dv, sizeof dv);
    mb_raw(&b, mb_add_init(&b, mb_tensor(&b, "draw", FT_DOUBLE, 1, d3)), dv, sizeof dv);
    static const uint8_t bools[] = {0, 2, 255};
    mb_raw(&b, mb_add_init(&b, mb_tensor(&b, "b", FT_BOOL, 1, d3)), bools, 3);
    mb_add_init(&b, mb_tensor(&b, "empty", FT_FLOAT, 2, (const int64_t[]){0, 4}));
    mb_output(&b, "f");
    ft_graph *g = load_ok(&b);
    assert_memory_equal(tensor(g, "f")->data, fv, sizeof fv);
    assert_memory_equal(tensor(g, "d")->data, dv, sizeof dv);
    assert_memory_equal(tensor(g, "draw")->data, dv, sizeof dv);
    const uint8_t *bb = tensor(g, "b")->data;
    assert_int_equal(bb[0], 0);
    assert_int_equal(bb[1], 1);
    assert_int_equal(bb[2], 1);
    assert_int_equal(ft_tensor_nbytes(tensor(g, "empty")), 0);
    ft_graph_destroy(g);
    mb_free(&b);
}

static void string_and_exotic_initializers_are_unsupported(void **state)
{
    (void)state;
    static const int64_t d1[] = {1};
    mb b;
    mb_init(&b, 17);
    Onnx__TensorProto *t = mb_add_init(&b, mb_tensor(&b, "words", FT_STRING, 1, d1));
    t->n_string_data = 1;
    t->string_data = mb_new(&b, sizeof *t->string_data);
    t->string_data[0].data = (uint8_t *)mb_str(&b, "hi");
    t->string_data[0].len = 2;
    mb_output(&b, "words");
    expect_error(&b, FT_ERR_UNSUPPORTED, "words", "string");
    mb_free(&b);

    mb_init(&b, 17);
    mb_raw(&b, mb_add_init(&b, mb_tensor(&b, "bf", 16, 1, d1)), "ab", 2);
    mb_output(&b, "bf");
    expect_error(&b, FT_ERR_UNSUPPORTED, "bf", "bfloat16");
    mb_free(&b);

    mb_init(&b, 17);
    mb_raw(&b, mb_add_init(&b, mb_tensor(&b, "weird", 99, 1, d1)), "abcd", 4);
    mb_output(&b, "weird");
    expect_error(&b, FT_ERR_INPUT, "weird", "data_type");
    mb_free(&b);
}

static void data_size_disagreeing_with_shape_names_the_tensor(void **state)
{
    (void)state;
    static const int64_t d23[] = {2, 3};
    static const float v[6] = {0};
    mb b;
    mb_init(&b, 17);
    mb_raw(&b, mb_add_init(&b, mb_tensor(&b, "w_short", FT_FLOAT, 2, d23)), v, 20);
    mb_output(&b, "w_short");
    expect_error(&b, FT_ERR_INPUT, "'w_short'", "20 bytes");
    mb_free(&b);

    mb_init(&b, 17);
    Onnx__TensorProto *t = mb_add_init(&b, mb_tensor(&b, "w_few", FT_FLOAT, 2, d23));
    t->n_float_data = 5;
    t->float_data = mb_new(&b, 5 * sizeof(float));
    mb_output(&b, "w_few");
    expect_error(&b, FT_ERR_INPUT, "'w_few'", "5 values");
    mb_free(&b);

    mb_init(&b, 17);
    t = mb_add_init(&b, mb_tensor(&b, "w_field", FT_INT64, 2, d23));
    t->n_float_data = 6;
    t->float_data = mb_new(&b, 6 * sizeof(float));
    mb_output(&b, "w_field");
    expect_error(&b, FT_ERR_INPUT, "'w_field'", "int64_data");
    mb_free(&b);

    mb_init(&b, 17);
    t = mb_add_init(&b, mb_tensor(&b, "w_both", FT_FLOAT, 2, d23));
    mb_raw(&b, t, v, 24);
    t->n_float_data = 6;
    t->float_data = mb_new(&b, 6 * sizeof(float));
    mb_output(&b, "w_both");
    expect_error(&b, FT_ERR_INPUT, "'w_both'", "more than one place");
    mb_free(&b);

    mb_init(&b, 17);
    mb_add_init(&b, mb_tensor(&b, "w_none", FT_FLOAT, 2, d23));
    mb_output(&b, "w_none");
    expect_error(&b, FT_ERR_INPUT, "'w_none'", "0 values");
    mb_free(&b);
}

static void negative_huge_or_deep_shapes_name_the_tensor(void **state)
{
    (void)state;
    mb b;
    mb_init(&b, 17);
    mb_add_init(&b, mb_tensor(&b, "w_neg", FT_FLOAT, 2, (const int64_t[]){2, -3}));
    mb_output(&b, "w_neg");
    expect_error(&b, FT_ERR_INPUT, "'w_neg'", "negative");
    mb_free(&b);

    mb_init(&b, 17);
    mb_add_init(&b, mb_tensor(&b, "w_huge", FT_FLOAT, 3, (const int64_t[]){1 << 20, 1 << 20, 1 << 20}));
    mb_output(&b, "w_huge");
    expect_error(&b, FT_ERR_INPUT, "'w_huge'", "elements");
    mb_free(&b);

    mb_init(&b, 17);
    mb_add_init(&b, mb_tensor(&b, "w_deep", FT_FLOAT, 9, (const int64_t[]){1, 1, 1, 1, 1, 1, 1, 1, 1}));
    mb_output(&b, "w_deep");
    expect_error(&b, FT_ERR_INPUT, "'w_deep'", "rank 9");
    mb_free(&b);

    mb_init(&b, 17);
    b.ins[b.g.n_input++] = mb_vi(&b, "x_neg", FT_FLOAT, 2, (const int64_t[]){3, 0}, NULL);
    b.ins[0]->type->tensor_type->shape->dim[1]->dim_value = -2;
    mb_output(&b, "x_neg");
    expect_error(&b, FT_ERR_INPUT, "'x_neg'", "negative");
    mb_free(&b);
}

static void constant_nodes_become_constant_tensors(void **state)
{
    (void)state;
    static const int64_t d2[] = {2};
    static const int32_t iv[] = {7, -8};
    mb b;
    mb_init(&b, 17);
    Onnx__NodeProto *n = mb_node(&b, "Constant", "c_tensor", "", "t");
    Onnx__TensorProto *tv = mb_tensor(&b, "ignored_name", FT_INT32, 1, d2);
    mb_raw(&b, tv, iv, sizeof iv);
    mb_attr(&b, n, "value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR)->t = tv;
    n = mb_node(&b, "Constant", "c_float", "", "f");
    mb_attr_f(&b, n, "value_float", 2.5f);
    n = mb_node(&b, "Constant", "c_floats", "", "fs");
    Onnx__AttributeProto *a = mb_attr(&b, n, "value_floats", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS);
    a->n_floats = 3;
    a->floats = mb_new(&b, 3 * sizeof(float));
    a->floats[0] = 1;
    a->floats[1] = -1;
    a->floats[2] = 0.25f;
    n = mb_node(&b, "Constant", "c_int", "", "i");
    mb_attr_i(&b, n, "value_int", -42);
    n = mb_node(&b, "Constant", "c_ints", "", "is");
    a = mb_attr(&b, n, "value_ints", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    a->n_ints = 2;
    a->ints = mb_new(&b, 2 * sizeof(int64_t));
    a->ints[0] = (int64_t)1 << 40;
    a->ints[1] = -3;
    n = mb_node(&b, "Constant", "c_empty", "", "e"); /* an empty list is a valid [0] tensor */
    mb_attr(&b, n, "value_ints", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    mb_node(&b, "Sum", "sum", "t,f,fs,i,is,e", "y");
    mb_output(&b, "y");
    ft_graph *g = load_ok(&b);
    assert_int_equal(g->n_nodes, 1); /* only Sum is kept */
    assert_string_equal(g->nodes[0].op_type, "Sum");

    const ft_tensor *t = tensor(g, "t");
    assert_true(t->flags & FT_T_CONST);
    assert_int_equal(t->producer, -1);
    assert_int_equal(t->dtype, FT_INT32);
    assert_int_equal(t->shape.rank, 1);
    assert_memory_equal(t->data, iv, sizeof iv);
    t = tensor(g, "f");
    assert_int_equal(t->dtype, FT_FLOAT);
    assert_int_equal(t->shape.rank, 0);
    assert_true(*(const float *)t->data == 2.5f);
    t = tensor(g, "fs");
    assert_int_equal(t->shape.rank, 1);
    assert_int_equal(t->shape.dims[0], 3);
    assert_true(((const float *)t->data)[2] == 0.25f);
    t = tensor(g, "i");
    assert_int_equal(t->dtype, FT_INT64);
    assert_int_equal(t->shape.rank, 0);
    assert_int_equal(*(const int64_t *)t->data, -42);
    t = tensor(g, "is");
    assert_int_equal(t->dtype, FT_INT64);
    assert_int_equal(t->shape.dims[0], 2);
    assert_int_equal(((const int64_t *)t->data)[0], (int64_t)1 << 40);
    assert_int_equal(((const int64_t *)t->data)[1], -3);
    t = tensor(g, "e");
    assert_int_equal(t->shape.rank, 1);
    assert_int_equal(t->shape.dims[0], 0);
    assert_non_null(t->data);
    for (int i = 0; i < 6; i++) assert_int_equal(g->tensors[g->nodes[0].in[i]].n_consumers, 1);
    ft_graph_destroy(g);
    mb_free(&b);
}

static void constant_string_sparse_or_valueless_is_refused(void **state)
{
    (void)state;
    static const char *const unsupported[] = {"value_string", "value_strings", "sparse_value"};
    static const int types[] = {ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING,
                                ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS,
                                ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR};
    mb b;
    for (int k = 0; k < 3; k++) {
        mb_init(&b, 17);
        Onnx__NodeProto *n = mb_node(&b, "Constant", "c_bad", "", "c");
        mb_attr(&b, n, unsupported[k], types[k]);
        mb_output(&b, "c");
        expect_error(&b, FT_ERR_UNSUPPORTED, "'c_bad'", unsupported[k]);
        mb_free(&b);
    }
    mb_init(&b, 17);
    mb_node(&b, "Constant", "c_none", "", "c");
    mb_output(&b, "c");
    expect_error(&b, FT_ERR_INPUT, "'c_none'", "exactly one");
    mb_free(&b);

    mb_init(&b, 17);
    Onnx__NodeProto *n = mb_node(&b, "Constant", "c_wrong", "", "c");
    mb_attr(&b, n, "value_float", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    mb_output(&b, "c");
    expect_error(&b, FT_ERR_INPUT, "'c_wrong'", "wrong type");
    mb_free(&b);
}

static void inputs_keep_dynamic_dims_and_dim_params(void **state)
{
    (void)state;
    static const float w[2] = {1, 2};
    mb b;
    mb_init(&b, 17);
    const int64_t xd[] = {-1, 128, -1, -1};
    const char *xp[] = {"batch", NULL, "seq", NULL};
    b.ins[b.g.n_input++] = mb_vi(&b, "ids", FT_INT64, 4, xd, xp);
    /* an initializer listed among the inputs, as IR < 4 writes weights: a constant, not an input */
    mb_init_f32(&b, "w", 1, (const int64_t[]){2}, w);
    mb_input(&b, "w", FT_FLOAT, 1, (const int64_t[]){2});
    mb_input(&b, "anything", FT_BOOL, -1, NULL);
    mb_input(&b, "scalar", FT_DOUBLE, 0, NULL);
    mb_node(&b, "Foo", "foo", "ids,w,anything,scalar", "y");
    mb_output(&b, "y");
    ft_graph *g = load_ok(&b);
    assert_int_equal(g->n_inputs, 3);
    const ft_tensor *t = &g->tensors[g->inputs[0]];
    assert_string_equal(t->name, "ids");
    assert_int_equal(t->flags, FT_T_INPUT);
    assert_int_equal(t->dtype, FT_INT64);
    assert_int_equal(t->shape.rank, 4);
    assert_int_equal(t->shape.dims[0], -1);
    assert_int_equal(t->shape.dims[1], 128);
    assert_int_equal(t->shape.dims[2], -1);
    assert_int_equal(t->shape.dims[3], -1);
    assert_string_equal(t->dim_param[0], "batch");
    assert_null(t->dim_param[1]);
    assert_string_equal(t->dim_param[2], "seq");
    assert_null(t->dim_param[3]);
    t = &g->tensors[g->inputs[1]];
    assert_string_equal(t->name, "anything");
    assert_int_equal(t->dtype, FT_BOOL);
    assert_int_equal(t->shape.rank, -1);
    t = &g->tensors[g->inputs[2]];
    assert_string_equal(t->name, "scalar");
    assert_int_equal(t->shape.rank, 0);
    t = tensor(g, "w");
    assert_int_equal(t->flags & (FT_T_CONST | FT_T_INPUT), FT_T_CONST);
    assert_true(((const float *)t->data)[1] == 2);
    const ft_tensor *y = tensor(g, "y");
    assert_int_equal(y->shape.rank, -1); /* node outputs: unknown until prepare */
    assert_int_equal(y->dtype, FT_FLOAT); /* the graph output's elem_type, kept as a hint */
    ft_graph_destroy(g);
    mb_free(&b);

    mb_init(&b, 17);
    mb_input(&b, "x", FT_FLOAT, 1, (const int64_t[]){1});
    mb_input(&b, "x", FT_FLOAT, 1, (const int64_t[]){1});
    mb_output(&b, "x");
    expect_error(&b, FT_ERR_INPUT, "'x'", "twice");
    mb_free(&b);

    mb_init(&b, 17);
    mb_input(&b, "s", FT_STRING, 1, (const int64_t[]){1});
    mb_output(&b, "s");
    expect_error(&b, FT_ERR_UNSUPPORTED, "'s'", "string");
    mb_free(&b);
}

static void out_of_order_nodes_are_sorted_stably(void **state)
{
    (void)state;
    mb b;
    mb_init(&b, 17);
    mb_input(&b, "x", FT_FLOAT, 1, (const int64_t[]){4});
    /* file order d c b a e f, where d needs c, c needs b, e needs a and d */
    mb_node(&b, "Relu", "d", "c", "dd");
    mb_node(&b, "Relu", "c", "b", "c");
    mb_node(&b, "Relu", "b", "x", "b");
    mb_node(&b, "Relu", "a", "x", "a");
    mb_node(&b, "Add", "e", "a,dd", "y");
    mb_node(&b, "Relu", "f", "x", "unused");
    mb_output(&b, "y");
    mb_output(&b, "a");
    ft_graph *g = load_ok(&b);
    /* Kahn taking the earliest ready node of the file: b, c, d, a, e, f */
    static const char *const want[] = {"b", "c", "d", "a", "e", "f"};
    assert_int_equal(g->n_nodes, 6);
    for (int i = 0; i < 6; i++) assert_string_equal(g->nodes[i].name, want[i]);
    for (int i = 0; i < g->n_nodes; i++)
        for (int o = 0; o < g->nodes[i].n_out; o++) assert_int_equal(g->tensors[g->nodes[i].out[o]].producer, i);
    assert_int_equal(tensor(g, "x")->producer, -1);
    assert_int_equal(tensor(g, "x")->n_consumers, 3);
    assert_int_equal(tensor(g, "a")->n_consumers, 2); /* node e and the graph output */
    assert_int_equal(tensor(g, "y")->n_consumers, 1);
    assert_int_equal(tensor(g, "unused")->n_consumers, 0);
    ft_graph_destroy(g);
    mb_free(&b);

    /* already in order: unchanged */
    mb_init(&b, 17);
    mb_input(&b, "x", FT_FLOAT, 1, (const int64_t[]){4});
    mb_node(&b, "Relu", "n0", "x", "t0");
    mb_node(&b, "Relu", "n1", "x", "t1");
    mb_node(&b, "Add", "n2", "t1,t0", "t2");
    mb_node(&b, "Relu", "n3", "t0", "t3");
    mb_output(&b, "t2");
    mb_output(&b, "t3");
    g = load_ok(&b);
    for (int i = 0; i < 4; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "n%d", i);
        assert_string_equal(g->nodes[i].name, nm);
    }
    ft_graph_destroy(g);
    mb_free(&b);
}

static void cycle_is_refused_naming_a_node_on_it(void **state)
{
    (void)state;
    mb b;
    mb_init(&b, 17);
    mb_input(&b, "x", FT_FLOAT, 1, (const int64_t[]){4});
    mb_node(&b, "Relu", "before", "x", "a");
    mb_node(&b, "Add", "on_b", "a,d", "b");
    mb_node(&b, "Relu", "on_c", "b", "c");
    mb_node(&b, "Relu", "on_d", "c", "d");
    mb_node(&b, "Relu", "after", "b", "y");
    mb_output(&b, "y");
    ft_graph *g = (ft_graph *)1;
    ft_error e;
    assert_int_equal(mb_load(&b, &g, &e), FT_ERR_INPUT);
    assert_null(g);
    assert_non_null(strstr(e.msg, "cycle"));
    assert_true(strstr(e.msg, "'on_b'") || strstr(e.msg, "'on_c'") || strstr(e.msg, "'on_d'"));
    assert_null(strstr(e.msg, "'before'"));
    assert_null(strstr(e.msg, "'after'"));
    mb_free(&b);

    mb_init(&b, 17);
    mb_input(&b, "x", FT_FLOAT, 1, (const int64_t[]){4});
    mb_node(&b, "Add", "selfish", "x,s", "s");
    mb_output(&b, "s");
    expect_error(&b, FT_ERR_INPUT, "cycle", "'selfish'");
    mb_free(&b);
}

static void missing_input_or_output_is_refused_by_name(void **state)
{
    (void)state;
    mb b;
    mb_init(&b, 17);
    mb_input(&b, "x", FT_FLOAT, 1, (const int64_t[]){4});
    mb_node(&b, "Add", "add", "x,w_missing", "y");
    mb_output(&b, "y");
    expect_error(&b, FT_ERR_INPUT,
                 "node 'add' (Add): input 'w_missing' is not produced by any node, initializer or graph input", NULL);
    mb_free(&b);

    mb_init(&b, 17);
    mb_input(&b, "x", FT_FLOAT, 1, (const int64_t[]){4});
    mb_node(&b, "Relu", "r", "x", "y");
    mb_output(&b, "nowhere");
    expect_error(&b, FT_ERR_INPUT, "graph output 'nowhere'", "not produced");
    mb_free(&b);
}

static void tensor_produced_twice_is_refused(void **state)
{
    (void)state;
    static const float w[1] = {1};
    mb b;
    mb_init(&b, 17);
    mb_input(&b, "x", FT_FLOAT, 1, (const int64_t[]){1});
    mb_node(&b, "Relu", "first", "x", "y");
    mb_node(&b, "Relu", "second", "x", "y");
    mb_output(&b, "y");
    expect_error(&b, FT_ERR_INPUT, "'second'", "'first'");
    mb_free(&b);

    mb_init(&b, 17);
    mb_input(&b, "x", FT_FLOAT, 1, (const int64_t[]){1});
    mb_init_f32(&b, "w", 1, (const int64_t[]){1}, w);
    mb_node(&b, "Relu", "over_w", "x", "w");
    mb_output(&b, "w");
    expect_error(&b, FT_ERR_INPUT, "'over_w'", "initializer");
    mb_free(&b);

    mb_init(&b, 17);
    mb_input(&b, "x", FT_FLOAT, 1, (const int64_t[]){1});
    mb_node(&b, "Relu", "over_x", "x", "x");
    mb_output(&b, "x");
    expect_error(&b, FT_ERR_INPUT, "'over_x'", "graph input");
    mb_free(&b);

    mb_init(&b, 17);
    mb_init_f32(&b, "w", 1, (const int64_t[]){1}, w);
    mb_init_f32(&b, "w", 1, (const int64_t[]){1}, w);
    mb_output(&b, "w");
    expect_error(&b, FT_ERR_INPUT, "'w'", "twice");
    mb_free(&b);
}

static void attributes_of_every_type_are_read(void **state)
{
    (void)state;
    static const int64_t d2[] = {2};
    static const float tv[] = {3, 4};
    mb b;
    mb_init(&b, 17);
    mb_input(&b, "x", FT_FLOAT, 1, d2);
    Onnx__NodeProto *n = mb_node(&b, "Custom", "all", "x", "y");
    mb_attr_f(&b, n, "f", -0.75f);
    mb_attr_i(&b, n, "i", -((int64_t)1 << 50));
    Onnx__AttributeProto *a = mb_attr(&b, n, "s", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    a->has_s = 1;
    a->s.data = (uint8_t *)mb_str(&b, "SAME_UPPER");
    a->s.len = 10;
    a = mb_attr(&b, n, "t", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
    a->t = mb_tensor(&b, "tname", FT_FLOAT, 1, d2);
    mb_raw(&b, a->t, tv, sizeof tv);
    a = mb_attr(&b, n, "fs", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS);
    a->n_floats = 2;
    a->floats = mb_new(&b, 2 * sizeof(float));
    a->floats[1] = 9.5f;
    a = mb_attr(&b, n, "is", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    a->n_ints = 3;
    a->ints = mb_new(&b, 3 * sizeof(int64_t));
    a->ints[2] = -7;
    a = mb_attr(&b, n, "ss", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS);
    a->n_strings = 2;
    a->strings = mb_new(&b, 2 * sizeof *a->strings);
    a->strings[0].data = (uint8_t *)mb_str(&b, "ab");
    a->strings[0].len = 2;
    a->strings[1].data = (uint8_t *)mb_str(&b, "");
    a = mb_attr(&b, n, "body", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH);
    Onnx__GraphProto *sub = mb_new(&b, sizeof *sub);
    Onnx__GraphProto ginit = ONNX__GRAPH_PROTO__INIT;
    *sub = ginit;
    a->g = sub;
    /* IR version 1 attributes carry no type: the field that is set says it */
    a = mb_attr(&b, n, "untyped_i", 0);
    a->has_i = 1;
    a->i = 5;
    a = mb_attr(&b, n, "untyped_fs", 0);
    a->n_floats = 1;
    a->floats = mb_new(&b, sizeof(float));
    a->floats[0] = 1.25f;
    mb_output(&b, "y");
    ft_graph *g = load_ok(&b);
    const ft_node *nd = &g->nodes[0];
    assert_int_equal(nd->n_attrs, 10);
    assert_true(ft_attr_float(nd, "f", 0) == -0.75f);
    assert_int_equal(ft_attr_int(nd, "i", 0), -((int64_t)1 << 50));
    assert_string_equal(ft_attr_string(nd, "s", ""), "SAME_UPPER");
    const ft_attr *at = ft_node_attr(nd, "t");
    assert_int_equal(at->type, FT_ATTR_TENSOR);
    assert_string_equal(at->t->name, "tname");
    assert_int_equal(at->t->dtype, FT_FLOAT);
    assert_memory_equal(at->t->data, tv, sizeof tv);
    const float *fs;
    assert_int_equal(ft_attr_floats(nd, "fs", &fs), 2);
    assert_true(fs[1] == 9.5f);
    const int64_t *is;
    assert_int_equal(ft_attr_ints(nd, "is", &is), 3);
    assert_int_equal(is[2], -7);
    at = ft_node_attr(nd, "ss");
    assert_int_equal(at->type, FT_ATTR_STRINGS);
    assert_int_equal(at->n, 2);
    assert_string_equal(at->strings[0], "ab");
    assert_string_equal(at->strings[1], "");
    assert_int_equal(ft_node_attr(nd, "body")->type, FT_ATTR_GRAPH);
    assert_int_equal(ft_node_attr(nd, "untyped_i")->type, FT_ATTR_INT);
    assert_int_equal(ft_attr_int(nd, "untyped_i", 0), 5);
    assert_int_equal(ft_attr_floats(nd, "untyped_fs", &fs), 1);
    assert_true(fs[0] == 1.25f);
    ft_graph_destroy(g);
    mb_free(&b);
}

static void invalid_attributes_are_refused(void **state)
{
    (void)state;
    mb b;
    mb_init(&b, 17);
    mb_input(&b, "x", FT_FLOAT, 1, (const int64_t[]){1});
    Onnx__NodeProto *n = mb_node(&b, "Relu", "ref", "x", "y");
    mb_attr(&b, n, "alpha", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT)->ref_attr_name = (char *)"outer_alpha";
    mb_output(&b, "y");
    expect_error(&b, FT_ERR_INPUT, "'ref'", "function");
    mb_free(&b);

    mb_init(&b, 17);
    mb_input(&b, "x", FT_FLOAT, 1, (const int64_t[]){1});
    n = mb_node(&b, "Relu", "dup", "x", "y");
    mb_attr(&b, n, "k", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    mb_attr(&b, n, "j", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    mb_attr(&b, n, "k", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    mb_output(&b, "y");
    expect_error(&b, FT_ERR_INPUT, "'dup'", "'k' appears twice");
    mb_free(&b);

    mb_init(&b, 17);
    mb_input(&b, "x", FT_FLOAT, 1, (const int64_t[]){1});
    n = mb_node(&b, "Relu", "nul", "x", "y");
    Onnx__AttributeProto *a = mb_attr(&b, n, "mode", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    a->has_s = 1;
    a->s.data = mb_new(&b, 3);
    a->s.len = 3; /* "\0\0\0" */
    mb_output(&b, "y");
    expect_error(&b, FT_ERR_INPUT, "'nul'", "NUL");
    mb_free(&b);

    mb_init(&b, 17);
    mb_input(&b, "x", FT_FLOAT, 1, (const int64_t[]){1});
    n = mb_node(&b, "Relu", "typeless", "x", "y");
    mb_attr(&b, n, "nothing", 0);
    mb_output(&b, "y");
    expect_error(&b, FT_ERR_INPUT, "'typeless'", "no type");
    mb_free(&b);

    mb_init(&b, 17);
    mb_input(&b, "x", FT_FLOAT, 1, (const int64_t[]){1});
    n = mb_node(&b, "Relu", "badtype", "x", "y");
    mb_attr(&b, n, "odd", 77);
    mb_output(&b, "y");
    expect_error(&b, FT_ERR_INPUT, "'badtype'", "invalid type");
    mb_free(&b);
}

static void overlong_names_are_refused(void **state)
{
    (void)state;
    char *longname = malloc(5000);
    assert_non_null(longname);
    memset(longname, 'n', 4999);
    longname[4999] = 0;
    mb b;
    mb_init(&b, 17);
    mb_input(&b, "x", FT_FLOAT, 1, (const int64_t[]){1});
    mb_node(&b, "Relu", longname, "x", "y");
    mb_output(&b, "y");
    expect_error(&b, FT_ERR_INPUT, "longer than 4096", NULL);
    mb_free(&b);

    mb_init(&b, 17);
    mb_input(&b, longname, FT_FLOAT, 1, (const int64_t[]){1});
    mb_output(&b, "y");
    expect_error(&b, FT_ERR_INPUT, "longer than 4096", NULL);
    mb_free(&b);
    free(longname);

    char ok[4097];
    memset(ok, 'k', 4096);
    ok[4096] = 0;
    mb_init(&b, 17);
    mb_input(&b, ok, FT_FLOAT, 1, (const int64_t[]){1});
    mb_output(&b, ok);
    ft_graph *g = load_ok(&b);
    assert_int_equal(strlen(g->tensors[g->inputs[0]].name), 4096);
    ft_graph_destroy(g);
    mb_free(&b);
}

static void model_without_graph_or_opsets_is_refused(void **state)
{
    (void)state;
    mb b;
    mb_init(&b, 17);
    b.m.graph = NULL;
    expect_error(&b, FT_ERR_INPUT, "no graph", NULL);
    mb_free(&b);

    mb_init(&b, 17);
    mb_input(&b, "x", FT_FLOAT, 1, (const int64_t[]){1});
    mb_output(&b, "x");
    b.m.n_opset_import = 0;
    expect_error(&b, FT_ERR_INPUT, "opset_import", NULL);
    mb_free(&b);

    /* IR version 2 predates opset_import: the default opset is 1 */
    mb_init(&b, 17);
    mb_input(&b, "x", FT_FLOAT, 1, (const int64_t[]){1});
    mb_output(&b, "x");
    b.m.n_opset_import = 0;
    b.m.ir_version = 2;
    ft_graph *g = load_ok(&b);
    assert_int_equal(g->opset, 1);
    ft_graph_destroy(g);
    mb_free(&b);
}

/* Every proper prefix of a packed model must be refused (a model cut after its graph lacks its
 * opset_import), and none may crash: run under ASan/UBSan this checks every bound. */
static void every_prefix_of_a_model_is_refused_without_crashing(void **state)
{
    (void)state;
    mb b;
    build_rich(&b);
    size_t len;
    uint8_t *buf = mb_pack(&b, &len);
    ft_graph *g = NULL;
    ft_error e;
    assert_int_equal(ft_onnx_load_buffer(buf, len, "rich.onnx", NULL, &g, &e), FT_OK);
    assert_int_equal(g->n_nodes, 2);
    ft_graph_destroy(g);
    for (size_t cut = 0; cut < len; cut++) {
        /* a copy of exactly cut bytes so ASan sees any read past the end */
        uint8_t *p = malloc(cut ? cut : 1);
        assert_non_null(p);
        memcpy(p, buf, cut);
        g = (ft_graph *)1;
        int rc = ft_onnx_load_buffer(p, cut, "rich.onnx", NULL, &g, &e);
        if (rc == FT_OK) fail_msg("prefix of %zu of %zu bytes loaded", cut, len);
        assert_int_equal(rc, FT_ERR_INPUT);
        assert_null(g);
        assert_non_null(strstr(e.msg, "rich.onnx"));
        free(p);
    }
    mb_free(&b);
}

/* Random byte edits of a valid model: any status is fine, a crash or leak is not. */
static void mutated_models_never_crash(void **state)
{
    (void)state;
    mb b;
    build_rich(&b);
    size_t len;
    uint8_t *buf = mb_pack(&b, &len);
    uint8_t *p = malloc(len);
    assert_non_null(p);
    uint64_t s = 0x9E3779B97F4A7C15ull;
    int loaded = 0;
    for (int iter = 0; iter < 20000; iter++) {
        memcpy(p, buf, len);
        int edits = 1 + iter % 4;
        for (int k = 0; k < edits; k++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            p[(s >> 8) % len] = (uint8_t)(iter & 1 ? s >> 40 : p[(s >> 8) % len] ^ (1u << ((s >> 3) & 7)));
        }
        ft_graph *g = NULL;
        ft_error e;
        int rc = ft_onnx_load_buffer(p, len, "mut.onnx", NULL, &g, &e);
        if (rc == FT_OK) {
            loaded++;
            ft_graph_destroy(g);
        } else {
            assert_true(rc == FT_ERR_INPUT || rc == FT_ERR_UNSUPPORTED);
            assert_true(e.msg[0] != 0);
        }
    }
    assert_true(loaded > 0); /* some edits only touch values */
    free(p);
    mb_free(&b);
}

/* ModelProto{graph{node{attribute{g{node{...}}}}}} with `levels` node/attribute/graph rounds. Each
 * message's length is known from the inside out, then the bytes are written from the outside in. */
static uint8_t *nested_model(size_t levels, size_t *len)
{
    size_t n = levels * 3 + 1;
    /* tag of each wrapper, outermost first: ModelProto.graph (7), then GraphProto.node (1),
     * NodeProto.attribute (5), AttributeProto.g (6) repeating */
    size_t *size = malloc((n + 1) * sizeof *size);
    assert_non_null(size);
    size[n] = 0; /* the innermost graph is empty */
    for (size_t l = n; l-- > 0;) {
        size_t v = size[l + 1], vl = 1;
        while (v >>= 7) vl++;
        size[l] = size[l + 1] + 1 + vl;
    }
    uint8_t *buf = malloc(size[0]), *p = buf;
    assert_non_null(buf);
    for (size_t l = 0; l < n; l++) {
        static const uint8_t tags[3] = {(1 << 3) | 2, (5 << 3) | 2, (6 << 3) | 2};
        *p++ = l == 0 ? (7 << 3) | 2 : tags[(l - 1) % 3];
        size_t v = size[l + 1];
        do {
            *p++ = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
            v >>= 7;
        } while (v);
    }
    *len = size[0];
    free(size);
    return buf;
}

static void deeply_nested_messages_are_refused_without_crashing(void **state)
{
    (void)state;
    size_t len;
    uint8_t *p = nested_model(200000, &len);
    ft_graph *g = (ft_graph *)1;
    ft_error e;
    assert_int_equal(ft_onnx_load_buffer(p, len, "deep.onnx", NULL, &g, &e), FT_ERR_INPUT);
    assert_null(g);
    assert_non_null(strstr(e.msg, "nested"));
    free(p);
    /* a few levels of subgraphs are normal (If inside Loop): those parse */
    p = nested_model(3, &len);
    e.msg[0] = 0;
    int rc = ft_onnx_load_buffer(p, len, "shallow.onnx", NULL, &g, &e);
    assert_int_not_equal(rc, FT_OK); /* no opset_import, nameless nodes... but not the depth */
    assert_null(strstr(e.msg, "nested"));
    free(p);
}

/* ---------- files: external data, digests, truncated files ---------- */

typedef struct tmpdir {
    char root[64]; /* holds the model folder "m" and files beside it */
    char dir[96];  /* root/m */
} tmpdir;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void tmp_make(tmpdir *t)
{
    strcpy(t->root, "/tmp/ft_import_XXXXXX");
    assert_non_null(mkdtemp(t->root));
    snprintf(t->dir, sizeof t->dir, "%s/m", t->root);
    assert_int_equal(mkdir(t->dir, 0755), 0);
}

static void tmp_remove(tmpdir *t)
{
    nftw(t->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* A model whose one initializer 'w' [2,3] float lives in external file `location`. */
static void write_external_model(const tmpdir *t, const char *location, const char *offset, const char *length)
{
    mb b;
    mb_init(&b, 17);
    Onnx__TensorProto *w = mb_add_init(&b, mb_tensor(&b, "w", FT_FLOAT, 2, (const int64_t[]){2, 3}));
    w->has_data_location = 1;
    w->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    const char *kv[3][2] = {{"location", location}, {"offset", offset}, {"length", length}};
    w->external_data = mb_new(&b, 3 * sizeof *w->external_data);
    for (int i = 0; i < 3; i++) {
        if (!kv[i][1]) continue;
        Onnx__StringStringEntryProto *e = mb_new(&b, sizeof *e);
        Onnx__StringStringEntryProto einit = ONNX__STRING_STRING_ENTRY_PROTO__INIT;
        *e = einit;
        e->key = mb_str(&b, kv[i][0]);
        e->value = mb_str(&b, kv[i][1]);
        w->external_data[w->n_external_data++] = e;
    }
    mb_output(&b, "w");
    size_t len;
    uint8_t *buf = mb_pack(&b, &len);
    char path[160];
    snprintf(path, sizeof path, "%s/model.onnx", t->dir);
    write_bytes(path, buf, len);
    mb_free(&b);
}

static int load_dir_model(const tmpdir *t, ft_graph **g, ft_error *e)
{
    char path[160];
    snprintf(path, sizeof path, "%s/model.onnx", t->dir);
    memset(e, 0, sizeof *e);
    return ft_onnx_load(path, g, e);
}

static const float ext_vals[6] = {1, 2, 3, 4, 5, 6};

static void external_data_inside_the_folder_loads(void **state)
{
    (void)state;
    tmpdir t;
    tmp_make(&t);
    char p[200];
    snprintf(p, sizeof p, "%s/weights", t.dir);
    assert_int_equal(mkdir(p, 0755), 0);
    uint8_t blob[100] = {0};
    memcpy(blob + 40, ext_vals, sizeof ext_vals);
    snprintf(p, sizeof p, "%s/weights/w.bin", t.dir);
    write_bytes(p, blob, sizeof blob);

    write_external_model(&t, "weights/./w.bin", "40", "24");
    ft_graph *g = NULL;
    ft_error e;
    int rc = load_dir_model(&t, &g, &e);
    if (rc) fail_msg("%s", e.msg);
    const ft_tensor *w = tensor(g, "w");
    assert_int_equal(w->flags & (FT_T_CONST | FT_T_EXTERNAL), FT_T_CONST | FT_T_EXTERNAL);
    assert_memory_equal(w->data, ext_vals, sizeof ext_vals);
    assert_string_equal(g->dir, t.dir);
    ft_graph_destroy(g);

    /* without a length the data runs to the end of the file; a symlink inside the folder is fine */
    snprintf(p, sizeof p, "%s/weights/exact.bin", t.dir);
    write_bytes(p, ext_vals, sizeof ext_vals);
    char link[200];
    snprintf(link, sizeof link, "%s/alias.bin", t.dir);
    assert_int_equal(symlink("weights/exact.bin", link), 0);
    write_external_model(&t, "alias.bin", NULL, NULL);
    assert_int_equal(load_dir_model(&t, &g, &e), FT_OK);
    assert_memory_equal(tensor(g, "w")->data, ext_vals, sizeof ext_vals);
    ft_graph_destroy(g);
    tmp_remove(&t);
}

static void external_data_escaping_the_folder_is_refused(void **state)
{
    (void)state;
    tmpdir t;
    tmp_make(&t);
    char p[200], link[200];
    snprintf(p, sizeof p, "%s/x.bin", t.root); /* beside the model's folder, not in it */
    write_bytes(p, ext_vals, sizeof ext_vals);
    ft_graph *g = (ft_graph *)1;
    ft_error e;

    write_external_model(&t, "../x.bin", "0", "24");
    assert_int_equal(load_dir_model(&t, &g, &e), FT_ERR_INPUT);
    assert_non_null(strstr(e.msg, "'w'"));
    assert_non_null(strstr(e.msg, "../x.bin"));
    assert_null(g);

    write_external_model(&t, "sub/../../x.bin", NULL, NULL);
    assert_int_equal(load_dir_model(&t, &g, &e), FT_ERR_INPUT);
    assert_non_null(strstr(e.msg, "leaves"));

    write_external_model(&t, p, "0", "24"); /* absolute */
    assert_int_equal(load_dir_model(&t, &g, &e), FT_ERR_INPUT);
    assert_non_null(strstr(e.msg, "'w'"));
    assert_non_null(strstr(e.msg, "absolute"));

    snprintf(link, sizeof link, "%s/evil.bin", t.dir);
    assert_int_equal(symlink("../x.bin", link), 0);
    write_external_model(&t, "evil.bin", "0", "24");
    assert_int_equal(load_dir_model(&t, &g, &e), FT_ERR_INPUT);
    assert_non_null(strstr(e.msg, "'w'"));
    assert_non_null(strstr(e.msg, "evil.bin"));
    assert_non_null(strstr(e.msg, "outside"));

    snprintf(link, sizeof link, "%s/evil_dir", t.dir);
    assert_int_equal(symlink(t.root, link), 0);
    write_external_model(&t, "evil_dir/x.bin", "0", "24");
    assert_int_equal(load_dir_model(&t, &g, &e), FT_ERR_INPUT);
    assert_non_null(strstr(e.msg, "outside"));

    write_external_model(&t, "missing.bin", "0", "24");
    assert_int_equal(load_dir_model(&t, &g, &e), FT_ERR_INPUT);
    assert_non_null(strstr(e.msg, "missing.bin"));
    tmp_remove(&t);
}

static void external_data_offset_and_length_are_checked(void **state)
{
    (void)state;
    tmpdir t;
    tmp_make(&t);
    char p[200];
    snprintf(p, sizeof p, "%s/w.bin", t.dir);
    write_bytes(p, ext_vals, sizeof ext_vals);
    ft_graph *g = (ft_graph *)1;
    ft_error e;
    static const struct {
        const char *offset, *length, *frag;
    } bad[] = {
        {"25", NULL, "beyond"}, {"4", "24", "beyond"}, {"0", "20", "20 bytes"}, {"8", NULL, "16 bytes"},
        {"-1", "24", "offset '-1'"}, {"0", "2x", "length '2x'"}, {"99999999999999999999", "24", "offset"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        write_external_model(&t, "w.bin", bad[k].offset, bad[k].length);
        assert_int_equal(load_dir_model(&t, &g, &e), FT_ERR_INPUT);
        if (!strstr(e.msg, bad[k].frag) || !strstr(e.msg, "'w'")) fail_msg("case %zu: %s", k, e.msg);
    }
    /* a directory is not data */
    snprintf(p, sizeof p, "%s/d", t.dir);
    assert_int_equal(mkdir(p, 0755), 0);
    write_external_model(&t, "d", NULL, NULL);
    assert_int_equal(load_dir_model(&t, &g, &e), FT_ERR_INPUT);
    tmp_remove(&t);

    /* from memory without a folder there is nothing to resolve against */
    mb b;
    mb_init(&b, 17);
    Onnx__TensorProto *w = mb_add_init(&b, mb_tensor(&b, "w", FT_FLOAT, 1, (const int64_t[]){1}));
    w->has_data_location = 1;
    w->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    w->n_external_data = 1;
    w->external_data = mb_new(&b, sizeof *w->external_data);
    Onnx__StringStringEntryProto kv = ONNX__STRING_STRING_ENTRY_PROTO__INIT;
    kv.key = (char *)"location";
    kv.value = (char *)"w.bin";
    w->external_data[0] = &kv;
    mb_output(&b, "w");
    expect_error(&b, FT_ERR_INPUT, "'w'", "w.bin");
    mb_free(&b);
}

static void file_digest_is_sha256_of_its_bytes(void **state)
{
    (void)state;
    tmpdir t;
    tmp_make(&t);
    mb b;
    build_rich(&b);
    size_t len;
    uint8_t *buf = mb_pack(&b, &len);
    char path[160];
    snprintf(path, sizeof path, "%s/rich.onnx", t.dir);
    write_bytes(path, buf, len);
    ft_graph *g = NULL;
    ft_error e;
    assert_int_equal(ft_onnx_load(path, &g, &e), FT_OK);
    uint8_t want[32];
    ft_sha256(buf, len, want);
    assert_memory_equal(g->digest, want, 32);
    assert_string_equal(g->path, path);
    assert_string_equal(g->dir, t.dir);
    ft_graph_destroy(g);
    mb_free(&b);
    tmp_remove(&t);
}

static void bad_files_are_refused_naming_the_file(void **state)
{
    (void)state;
    tmpdir t;
    tmp_make(&t);
    mb b;
    build_rich(&b);
    size_t len;
    uint8_t *buf = mb_pack(&b, &len);
    char path[160];
    ft_graph *g = (ft_graph *)1;
    ft_error e;

    snprintf(path, sizeof path, "%s/truncated.onnx", t.dir);
    write_bytes(path, buf, len / 2);
    assert_int_equal(ft_onnx_load(path, &g, &e), FT_ERR_INPUT);
    assert_non_null(strstr(e.msg, path));
    assert_null(g);

    snprintf(path, sizeof path, "%s/empty.onnx", t.dir);
    write_bytes(path, "", 0);
    assert_int_equal(ft_onnx_load(path, &g, &e), FT_ERR_INPUT);
    assert_non_null(strstr(e.msg, path));
    assert_non_null(strstr(e.msg, "empty"));

    snprintf(path, sizeof path, "%s/text.onnx", t.dir);
    const char *text = "this is not a model, just some text\n";
    write_bytes(path, text, strlen(text));
    assert_int_equal(ft_onnx_load(path, &g, &e), FT_ERR_INPUT);
    assert_non_null(strstr(e.msg, path));

    assert_int_equal(ft_onnx_load(t.dir, &g, &e), FT_ERR_INPUT); /* a directory */
    assert_non_null(strstr(e.msg, t.dir));

    snprintf(path, sizeof path, "%s/absent.onnx", t.dir);
    assert_int_equal(ft_onnx_load(path, &g, &e), FT_ERR_INPUT);
    assert_non_null(strstr(e.msg, path));
    assert_null(g);
    mb_free(&b);
    tmp_remove(&t);
}

/* ---------- weights copied straight from the file ---------- */

/* Byte sizes of uint8 initializers around the sizes where the importer changes how it reads raw_data. */
static const size_t weight_sizes[] = {0, 1, 7, 8, 15, 16, 17, 31, 32, 4095, 4096, 4097, 70001};

static uint8_t weight_byte(size_t size, size_t i)
{
    return (uint8_t)(i * 31 + size * 7 + 1);
}

#define BIG_FLOATS 300000 /* 1.2 MB: more than one 1 MiB chunk of copying, at an unaligned offset */

/* Initializers of every size in weight_sizes ("u<size>"), a 16-byte one of zeros, a large float one
 * ("big"), and Constant nodes holding a large and a 16-byte tensor ("cbig", "c16"). */
static void build_weights(mb *b)
{
    mb_init(b, 17);
    char name[32];
    uint8_t *bytes = mb_new(b, 70001);
    for (size_t k = 0; k < sizeof weight_sizes / sizeof weight_sizes[0]; k++) {
        size_t n = weight_sizes[k];
        for (size_t i = 0; i < n; i++) bytes[i] = weight_byte(n, i);
        snprintf(name, sizeof name, "u%zu", n);
        Onnx__TensorProto *t = mb_tensor(b, name, FT_UINT8, 1, (const int64_t[]){(int64_t)n});
        mb_raw(b, t, bytes, n);
        mb_add_init(b, t);
    }
    static const uint8_t zeros[16];
    mb_raw(b, mb_add_init(b, mb_tensor(b, "zeros16", FT_UINT8, 2, (const int64_t[]){4, 4})), zeros, 16);
    float *big = mb_new(b, BIG_FLOATS * sizeof *big);
    for (size_t i = 0; i < BIG_FLOATS; i++) big[i] = (float)i * 0.5f - 7;
    mb_init_f32(b, "big", 2, (const int64_t[]){BIG_FLOATS / 100, 100}, big);
    Onnx__NodeProto *n = mb_node(b, "Constant", "cbig_node", "", "cbig");
    Onnx__TensorProto *t = mb_tensor(b, NULL, FT_FLOAT, 1, (const int64_t[]){2048});
    mb_raw(b, t, big, 2048 * sizeof *big);
    mb_attr(b, n, "value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR)->t = t;
    n = mb_node(b, "Constant", "c16_node", "", "c16");
    t = mb_tensor(b, NULL, FT_FLOAT, 1, (const int64_t[]){4});
    mb_raw(b, t, big + 1, 4 * sizeof *big);
    mb_attr(b, n, "value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR)->t = t;
}

static void expect_weights(const ft_graph *g)
{
    char name[32];
    for (size_t k = 0; k < sizeof weight_sizes / sizeof weight_sizes[0]; k++) {
        size_t n = weight_sizes[k];
        snprintf(name, sizeof name, "u%zu", n);
        const ft_tensor *t = tensor(g, name);
        assert_int_equal(t->dtype, FT_UINT8);
        assert_int_equal(t->shape.dims[0], (int64_t)n);
        assert_non_null(t->data);
        for (size_t i = 0; i < n; i++)
            if (((const uint8_t *)t->data)[i] != weight_byte(n, i)) fail_msg("%s: byte %zu differs", name, i);
        if (n >= 4096) assert_int_equal((uintptr_t)t->data % 64, 0);
    }
    const ft_tensor *z = tensor(g, "zeros16");
    for (size_t i = 0; i < 16; i++) assert_int_equal(((const uint8_t *)z->data)[i], 0);
    const ft_tensor *big = tensor(g, "big");
    assert_int_equal(ft_tensor_nbytes(big), BIG_FLOATS * sizeof(float));
    assert_int_equal((uintptr_t)big->data % 64, 0);
    const float *v = big->data;
    for (size_t i = 0; i < BIG_FLOATS; i++)
        if (v[i] != (float)i * 0.5f - 7) fail_msg("big[%zu] = %g", i, (double)v[i]);
    const ft_tensor *c = tensor(g, "cbig");
    assert_true(c->flags & FT_T_CONST);
    assert_int_equal(c->shape.dims[0], 2048);
    assert_memory_equal(c->data, v, 2048 * sizeof *v);
    c = tensor(g, "c16");
    assert_int_equal(c->shape.dims[0], 4);
    assert_memory_equal(c->data, v + 1, 4 * sizeof *v);
}

static void large_weights_load_intact_from_files_and_buffers(void **state)
{
    (void)state;
    tmpdir t;
    tmp_make(&t);
    mb b;
    build_weights(&b);
    size_t len;
    uint8_t *buf = mb_pack(&b, &len);
    char path[160];
    snprintf(path, sizeof path, "%s/weights.onnx", t.dir);
    write_bytes(path, buf, len);
    ft_graph *g = NULL;
    ft_error e;
    int rc = ft_onnx_load(path, &g, &e);
    if (rc) fail_msg("%s", e.msg);
    expect_weights(g);
    uint8_t want[32];
    ft_sha256(buf, len, want);
    assert_memory_equal(g->digest, want, 32);
    ft_graph_destroy(g);
    /* the file is read in place: loading it again reads the same bytes */
    assert_int_equal(ft_onnx_load(path, &g, &e), FT_OK);
    expect_weights(g);
    ft_graph_destroy(g);
    assert_int_equal(ft_onnx_load_buffer(buf, len, "weights.onnx", NULL, &g, &e), FT_OK);
    expect_weights(g);
    assert_memory_equal(g->digest, want, 32);
    ft_graph_destroy(g);
    mb_free(&b);
    tmp_remove(&t);
}

/* key (field, length-delimited), length and body appended at dst; returns the bytes written. */
static size_t put_field(uint8_t *dst, unsigned field, const void *body, size_t n)
{
    size_t k = 0, v = n;
    dst[k++] = (uint8_t)(field << 3 | 2);
    do {
        dst[k++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    memcpy(dst + k, body, n);
    return k + n;
}

/* A ModelProto fragment graph{node{Constant -> out, attribute value}} whose tensor's raw_data is
 * written twice: `first` bytes in one occurrence of the attribute's t, then a float tensor of
 * n_last values in a second occurrence, which protobuf merges into the first. */
static uint8_t *twice_written_constant(const char *out, const void *first, size_t n_first, const float *last,
                                       size_t n_last, size_t *len)
{
    Onnx__TensorProto t1 = ONNX__TENSOR_PROTO__INIT, t2 = ONNX__TENSOR_PROTO__INIT;
    t1.has_raw_data = 1;
    t1.raw_data.data = (uint8_t *)(uintptr_t)first;
    t1.raw_data.len = n_first;
    int64_t dims[1] = {(int64_t)n_last};
    t2.has_data_type = 1;
    t2.data_type = FT_FLOAT;
    t2.n_dims = 1;
    t2.dims = dims;
    t2.has_raw_data = 1;
    t2.raw_data.data = (uint8_t *)(uintptr_t)last;
    t2.raw_data.len = n_last * sizeof *last;
    Onnx__AttributeProto a1 = ONNX__ATTRIBUTE_PROTO__INIT, a2 = ONNX__ATTRIBUTE_PROTO__INIT;
    a1.name = (char *)"value";
    a1.has_type = 1;
    a1.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
    a1.t = &t1;
    a2.t = &t2;
    size_t l1 = onnx__attribute_proto__get_packed_size(&a1), l2 = onnx__attribute_proto__get_packed_size(&a2);
    size_t cap = 3 * (l1 + l2 + strlen(out)) + 100;
    uint8_t *attr = malloc(cap), *node = malloc(cap), *graph = malloc(cap);
    assert_true(attr && node && graph);
    onnx__attribute_proto__pack(&a1, attr);
    onnx__attribute_proto__pack(&a2, attr + l1);
    size_t nn = put_field(node, 4, "Constant", 8);
    nn += put_field(node + nn, 2, out, strlen(out));
    nn += put_field(node + nn, 5, attr, l1 + l2);
    size_t ng = put_field(graph, 1, node, nn);
    *len = put_field(attr, 7, graph, ng);
    free(node);
    free(graph);
    return attr;
}

/* Protobuf merges a message that appears twice: models back to back are one model whose graph has
 * the nodes and initializers of each, and a raw_data written twice keeps the last one, whichever
 * of the two the importer leaves in the file. */
static void concatenated_models_merge_their_weights(void **state)
{
    (void)state;
    mb a, b;
    build_weights(&a);
    mb_init(&b, 17);
    static uint8_t extra[5000];
    for (size_t i = 0; i < sizeof extra; i++) extra[i] = (uint8_t)(i * 13);
    mb_raw(&b, mb_add_init(&b, mb_tensor(&b, "extra", FT_UINT8, 1, (const int64_t[]){5000})), extra, 5000);
    static const float four[4] = {1.5f, -2, 3, 4};
    static float many[1024];
    for (size_t i = 0; i < 1024; i++) many[i] = (float)i - 3;
    static const uint8_t pad[4096] = {0x5a};
    size_t la, lb, l1, l2;
    uint8_t *pa = mb_pack(&a, &la), *pb = mb_pack(&b, &lb);
    uint8_t *f1 = twice_written_constant("large_then_16", pad, sizeof pad, four, 4, &l1);
    uint8_t *f2 = twice_written_constant("16_then_large", pad, 16, many, 1024, &l2);
    uint8_t *all = malloc(la + lb + l1 + l2);
    assert_non_null(all);
    memcpy(all, pa, la);
    memcpy(all + la, pb, lb);
    memcpy(all + la + lb, f1, l1);
    memcpy(all + la + lb + l1, f2, l2);
    ft_graph *g = NULL;
    ft_error e;
    int rc = ft_onnx_load_buffer(all, la + lb + l1 + l2, "merged.onnx", NULL, &g, &e);
    if (rc) fail_msg("%s", e.msg);
    expect_weights(g);
    assert_memory_equal(tensor(g, "extra")->data, extra, sizeof extra);
    const ft_tensor *t = tensor(g, "large_then_16");
    assert_int_equal(t->shape.dims[0], 4);
    assert_memory_equal(t->data, four, sizeof four);
    t = tensor(g, "16_then_large");
    assert_int_equal(t->shape.dims[0], 1024);
    assert_memory_equal(t->data, many, sizeof many);
    ft_graph_destroy(g);
    free(all);
    free(f1);
    free(f2);
    mb_free(&b);
    mb_free(&a);
}

static void expect_malformed(const uint8_t *p, size_t n, const char *what)
{
    uint8_t *copy = malloc(n ? n : 1); /* exactly n bytes, so ASan sees a read past the end */
    assert_non_null(copy);
    memcpy(copy, p, n);
    ft_graph *g = (ft_graph *)1;
    ft_error e = {0};
    int rc = ft_onnx_load_buffer(copy, n, "wire.onnx", NULL, &g, &e);
    if (rc != FT_ERR_INPUT || !strstr(e.msg, "wire.onnx")) fail_msg("%s: status %d: %s", what, rc, e.msg);
    assert_null(g);
    free(copy);
}

static void malformed_wire_format_is_refused_naming_the_file(void **state)
{
    (void)state;
    static const uint8_t long_key[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    static const uint8_t cut_key[] = {0x08, 0x01, 0xba};
    static const uint8_t cut_varint[] = {0x08, 0x80, 0x80};
    static const uint8_t cut_fixed64[] = {0x09, 1, 2, 3};
    static const uint8_t cut_fixed32[] = {0x0d, 1, 2};
    static const uint8_t group[] = {0x3b, 0x3c};
    static const uint8_t wire7[] = {0x3f, 0x00};
    static const uint8_t graph_too_long[] = {0x3a, 0x05, 0x2a, 0x00};
    /* graph{initializer{raw_data of 5000 bytes}} with the lengths around it consistent but only 3
     * of the 5000 bytes there */
    static const uint8_t blob_cut[] = {0x3a, 0x08, 0x2a, 0x06, 0x4a, 0x88, 0x27, 1, 2, 3};
    /* graph{node{attribute{t{raw_data: length varint that never ends}}}} */
    static const uint8_t deep_cut[] = {0x3a, 0x0e, 0x0a, 0x0c, 0x2a, 0x0a, 0x2a, 0x08, 0x4a, 0xff,
                                       0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    /* the same with a group inside the tensor */
    static const uint8_t deep_group[] = {0x3a, 0x08, 0x0a, 0x06, 0x2a, 0x04, 0x2a, 0x02, 0x0b, 0x0c};
    const struct {
        const uint8_t *p;
        size_t n;
        const char *what;
    } cases[] = {{long_key, sizeof long_key, "11-byte key"}, {cut_key, sizeof cut_key, "cut key"},
                 {cut_varint, sizeof cut_varint, "cut varint"}, {cut_fixed64, sizeof cut_fixed64, "cut fixed64"},
                 {cut_fixed32, sizeof cut_fixed32, "cut fixed32"}, {group, sizeof group, "group"},
                 {wire7, sizeof wire7, "wire type 7"}, {graph_too_long, sizeof graph_too_long, "graph too long"},
                 {blob_cut, sizeof blob_cut, "raw_data cut"}, {deep_cut, sizeof deep_cut, "tensor cut"},
                 {deep_group, sizeof deep_group, "group in a tensor"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) expect_malformed(cases[i].p, cases[i].n, cases[i].what);

    /* every cut of a model with large weights, in its headers and inside its blobs */
    mb b;
    build_weights(&b);
    size_t len;
    uint8_t *buf = mb_pack(&b, &len);
    for (size_t cut = 0; cut < len; cut += cut < 200 || len - cut < 400 ? 1 : 997) {
        char what[64];
        snprintf(what, sizeof what, "prefix of %zu bytes", cut);
        expect_malformed(buf, cut, what);
    }
    mb_free(&b);
}

/* Random edits of a model with large weights, as mutated_models_never_crash does for a small one. */
static void mutated_models_with_large_weights_never_crash(void **state)
{
    (void)state;
    mb b;
    mb_init(&b, 17);
    uint8_t w[4100];
    for (size_t i = 0; i < sizeof w; i++) w[i] = (uint8_t)i;
    mb_raw(&b, mb_add_init(&b, mb_tensor(&b, "w", FT_UINT8, 2, (const int64_t[]){41, 100})), w, sizeof w);
    Onnx__NodeProto *n = mb_node(&b, "Constant", "c", "", "cw");
    Onnx__TensorProto *t = mb_tensor(&b, NULL, FT_UINT8, 1, (const int64_t[]){sizeof w});
    mb_raw(&b, t, w, sizeof w);
    mb_attr(&b, n, "value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR)->t = t;
    mb_node(&b, "Add", "add", "w,cw", "y");
    mb_output(&b, "y");
    size_t len;
    uint8_t *buf = mb_pack(&b, &len);
    uint8_t *p = malloc(len);
    assert_non_null(p);
    /* edits land in the headers around the two blobs, where the scanner works */
    size_t head = 0, mid = 0;
    while (head < len && buf[head] != 0x4a) head++;
    assert_true(head + 3 + sizeof w < len);
    assert_true(buf[head + 1] == 0x84 && buf[head + 2] == 0x20); /* raw_data's length, 4100 */
    mid = head + 3 + sizeof w;
    uint64_t s = 0x2545F4914F6CDD1Dull;
    int loaded = 0;
    for (int iter = 0; iter < 20000; iter++) {
        memcpy(p, buf, len);
        for (int k = 0; k < 1 + iter % 3; k++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            size_t span = head + 3 + (len - mid), at = (size_t)(s >> 8) % span;
            if (at >= head + 3) at += mid - head - 3; /* skip the first blob's bytes */
            p[at] = (uint8_t)(iter & 1 ? s >> 40 : p[at] ^ (1u << ((s >> 3) & 7)));
        }
        ft_graph *g = NULL;
        ft_error e = {0};
        int rc = ft_onnx_load_buffer(p, len, "mut.onnx", NULL, &g, &e);
        if (rc == FT_OK) {
            loaded++;
            ft_graph_destroy(g);
        } else {
            if (rc != FT_ERR_INPUT && rc != FT_ERR_UNSUPPORTED) fail_msg("status %d: %s", rc, e.msg);
            assert_non_null(strstr(e.msg, "mut.onnx"));
        }
    }
    assert_true(loaded > 0);
    free(p);
    mb_free(&b);
}

/* ---------- ONNX's own conformance models ---------- */

static void conformance_add_model_loads(void **state)
{
    (void)state;
    const char *path = CONFORMANCE_DIR "/test_add/model.onnx";
    if (access(path, R_OK) != 0) skip();
    ft_graph *g = NULL;
    ft_error e;
    int rc = ft_onnx_load(path, &g, &e);
    if (rc) fail_msg("%s", e.msg);
    assert_int_equal(g->ir_version, 7);
    assert_int_equal(g->opset, 14);
    assert_int_equal(g->n_inputs, 2);
    static const char *const names[] = {"x", "y"};
    for (int i = 0; i < 2; i++) {
        const ft_tensor *t = &g->tensors[g->inputs[i]];
        assert_string_equal(t->name, names[i]);
        assert_int_equal(t->dtype, FT_FLOAT);
        assert_int_equal(t->shape.rank, 3);
        assert_int_equal(t->shape.dims[0], 3);
        assert_int_equal(t->shape.dims[1], 4);
        assert_int_equal(t->shape.dims[2], 5);
    }
    assert_int_equal(g->n_nodes, 1);
    assert_string_equal(g->nodes[0].op_type, "Add");
    assert_string_equal(g->nodes[0].name, "Add_0");
    assert_int_equal(g->nodes[0].in[0], g->inputs[0]);
    assert_int_equal(g->nodes[0].in[1], g->inputs[1]);
    assert_int_equal(g->n_outputs, 1);
    assert_string_equal(g->tensors[g->outputs[0]].name, "sum");
    assert_int_equal(g->tensors[g->outputs[0]].producer, 0);
    assert_string_equal(g->dir, CONFORMANCE_DIR "/test_add");
    ft_graph_destroy(g);
}

static void every_conformance_node_model_loads_or_is_refused_cleanly(void **state)
{
    (void)state;
    DIR *d = opendir(CONFORMANCE_DIR);
    if (!d) skip();
    int loaded = 0, refused = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, "test_", 5) != 0) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s/model.onnx", CONFORMANCE_DIR, de->d_name);
        if (access(path, R_OK) != 0) continue;
        ft_graph *g = NULL;
        ft_error e;
        e.msg[0] = 0;
        int rc = ft_onnx_load(path, &g, &e);
        if (rc == FT_OK) {
            assert_non_null(g);
            loaded++;
            ft_graph_destroy(g);
            continue;
        }
        refused++;
        assert_null(g);
        if (rc != FT_ERR_UNSUPPORTED && rc != FT_ERR_INPUT) fail_msg("%s: status %d: %s", path, rc, e.msg);
        assert_non_null(strstr(e.msg, path));
    }
    closedir(d);
    print_message("conformance models: %d loaded, %d refused\n", loaded, refused);
    /* only string, bfloat16, sequence and optional models are refused */
    assert_true(loaded > 10 * refused);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(model_fields_and_node_names),
        cmocka_unit_test(initializers_decode_raw_and_typed_fields_of_every_dtype),
        cmocka_unit_test(string_and_exotic_initializers_are_unsupported),
        cmocka_unit_test(data_size_disagreeing_with_shape_names_the_tensor),
        cmocka_unit_test(negative_huge_or_deep_shapes_name_the_tensor),
        cmocka_unit_test(constant_nodes_become_constant_tensors),
        cmocka_unit_test(constant_string_sparse_or_valueless_is_refused),
        cmocka_unit_test(inputs_keep_dynamic_dims_and_dim_params),
        cmocka_unit_test(out_of_order_nodes_are_sorted_stably),
        cmocka_unit_test(cycle_is_refused_naming_a_node_on_it),
        cmocka_unit_test(missing_input_or_output_is_refused_by_name),
        cmocka_unit_test(tensor_produced_twice_is_refused),
        cmocka_unit_test(attributes_of_every_type_are_read),
        cmocka_unit_test(invalid_attributes_are_refused),
        cmocka_unit_test(overlong_names_are_refused),
        cmocka_unit_test(model_without_graph_or_opsets_is_refused),
        cmocka_unit_test(every_prefix_of_a_model_is_refused_without_crashing),
        cmocka_unit_test(mutated_models_never_crash),
        cmocka_unit_test(deeply_nested_messages_are_refused_without_crashing),
        cmocka_unit_test(external_data_inside_the_folder_loads),
        cmocka_unit_test(external_data_escaping_the_folder_is_refused),
        cmocka_unit_test(external_data_offset_and_length_are_checked),
        cmocka_unit_test(file_digest_is_sha256_of_its_bytes),
        cmocka_unit_test(bad_files_are_refused_naming_the_file),
        cmocka_unit_test(large_weights_load_intact_from_files_and_buffers),
        cmocka_unit_test(concatenated_models_merge_their_weights),
        cmocka_unit_test(malformed_wire_format_is_refused_naming_the_file),
        cmocka_unit_test(mutated_models_with_large_weights_never_crash),
        cmocka_unit_test(conformance_add_model_loads),
        cmocka_unit_test(every_conformance_node_model_loads_or_is_refused_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
