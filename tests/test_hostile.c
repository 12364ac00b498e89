/* test_hostile.c - regression tests for what fuzzing (fuzz/, scripts/fuzz.sh) and hostile-input review
 * found: each test is one finding, refused with a clear error instead of a crash, hang or overflow. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "executor.h"
#include "memplan.h"
#include "onnx/onnx.pb-c.h"
#include "onnx_import.h"
#include "plan/plan.pb-c.h"
#include "planfile.h"
#include "planner.h"
#include "prepare.h"
#include "tensor_io.h"
#include "testutil.h"

/* ---------- plan files ---------- */

static ft_graph *load_model(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/models/%s/model.onnx", FT_TEST_DIR, name);
    ft_graph *g = NULL;
    ft_error err = {0};
    assert_int_equal(ft_onnx_load(path, &g, &err), FT_OK);
    assert_int_equal(ft_graph_prepare(g, &err), FT_OK);
    return g;
}

/* bert_tiny's default plan with planned memory (in-place elementwise outputs alias their inputs). */
static void write_bert_plan(const char *path)
{
    ft_graph *g = load_model("bert_tiny");
    ft_plan *p = NULL;
    ft_error err = {0};
    ft_memory_report mem;
    assert_int_equal(ft_plan_default(g, &p, &err), FT_OK);
    assert_int_equal(ft_planner_memory(g, p, FT_MEMPLAN_BEST, &mem, &err), FT_OK);
    assert_int_equal(ft_planfile_write(path, g, p, NULL, &err), FT_OK);
    ft_plan_destroy(p);
    ft_graph_destroy(g);
}

/* Rewrites the plan file through protobuf-c, as a tampered file would have it. */
static void rewrite_plan(const char *path, void (*edit)(Fluidtune__Plan *))
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static uint8_t buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    Fluidtune__Plan *m = fluidtune__plan__unpack(NULL, n, buf);
    assert_non_null(m);
    edit(m);
    size_t len = fluidtune__plan__get_packed_size(m);
    uint8_t *out = malloc(len);
    assert_non_null(out);
    fluidtune__plan__pack(m, out);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(out, 1, len, f), len);
    fclose(f);
    free(out);
    fluidtune__plan__free_unpacked(m, NULL);
}

static Fluidtune__TensorPlan *plan_tensor(Fluidtune__Plan *m, const char *name)
{
    for (size_t i = 0; i < m->n_tensors; i++)
        if (strcmp(m->tensors[i]->name, name) == 0) return m->tensors[i];
    fail_msg("the plan has no tensor '%s'", name);
    return NULL;
}

static Fluidtune__NodePlan *plan_node(Fluidtune__Plan *m, const char *op_type)
{
    for (size_t i = 0; i < m->n_nodes; i++)
        if (strcmp(m->nodes[i]->op_type, op_type) == 0) return m->nodes[i];
    fail_msg("the plan has no %s node", op_type);
    return NULL;
}

static void set_string(char **field, const char *v)
{
    free(*field);
    *field = strdup(v);
    assert_non_null(*field);
}

static void run_zero_inputs(const ft_graph *g, const ft_plan *p)
{
    ft_session *s = NULL;
    ft_error err = {0};
    if (ft_session_create_with_plan(g, p, &s, &err) != FT_OK) {
        print_message("accepted plan, session refused: %s\n", err.msg);
        return;
    }
    int rc = FT_OK;
    for (int k = 0; k < g->n_inputs && rc == FT_OK; k++) {
        ft_tensor t = g->tensors[g->inputs[k]];
        t.data = calloc(ft_tensor_nbytes(&t) + 1, 1);
        rc = ft_session_set_input(s, k, &t, &err);
        free(t.data);
    }
    if (rc == FT_OK) rc = ft_session_run(s, &err);
    print_message("accepted plan ran: %d %s\n", rc, err.msg);
    ft_session_destroy(s);
}

/* Writes the plan, applies the edit, and expects apply to refuse it with a message holding needle.
 * When apply accepts it, the plan is run anyway so that a sanitizer build shows the damage. */
static void expect_plan_refused(void (*edit)(Fluidtune__Plan *), const char *needle)
{
    char path[] = "/tmp/ft_test_hostileXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_bert_plan(path);
    rewrite_plan(path, edit);
    ft_planfile *pf = NULL;
    ft_error err = {0};
    int read_rc = ft_planfile_read(path, &pf, &err);
    unlink(path);
    assert_int_equal(read_rc, FT_OK);
    ft_graph *g = load_model("bert_tiny");
    ft_plan *p = NULL;
    int rc = ft_planfile_apply(pf, g, &p, &err);
    if (rc == FT_OK) {
        run_zero_inputs(g, p);
        ft_plan_destroy(p);
        p = NULL;
    }
    assert_int_equal(rc, FT_ERR_INPUT);
    assert_null(p);
    assert_non_null(strstr(err.msg, needle));
    ft_planfile_destroy(pf);
    ft_graph_destroy(g);
}

/* A 4 KiB activation placed in the bytes of the 128-byte input_ids: its producer would write past
 * them (past the arena, input_ids is placed last). */
static void alias_to_smaller(Fluidtune__Plan *m)
{
    Fluidtune__TensorPlan *t = plan_tensor(m, "/embeddings/norm/LayerNormalization_output_0");
    set_string(&t->alias_of, "input_ids");
    t->has_offset = 0;
}

static void plan_alias_to_a_smaller_tensor_is_refused(void **state)
{
    (void)state;
    expect_plan_refused(alias_to_smaller, "LayerNormalization_output_0");
}

/* An activation in the bytes of a weight: running would overwrite (and overrun) the constant. */
static void alias_to_constant(Fluidtune__Plan *m)
{
    Fluidtune__TensorPlan *t = plan_tensor(m, "/embeddings/norm/LayerNormalization_output_0");
    set_string(&t->alias_of, "embeddings.word.weight");
    t->has_offset = 0;
}

static void plan_alias_to_a_constant_is_refused(void **state)
{
    (void)state;
    expect_plan_refused(alias_to_constant, "constant 'embeddings.word.weight'");
}

static void matmul_as_add(Fluidtune__Plan *m)
{
    set_string(&plan_node(m, "MatMul")->family, "eltwise.add");
}

static void plan_kernel_family_of_another_op_is_refused(void **state)
{
    (void)state;
    expect_plan_refused(matmul_as_add, "eltwise.add");
}

static void matmul_wild_params(Fluidtune__Plan *m)
{
    Fluidtune__NodePlan *n = plan_node(m, "MatMul");
    for (size_t i = 0; i < n->n_params; i++) n->params[i] = i % 2 ? -7 : 1000000;
}

static void plan_kernel_parameters_this_build_never_offers_are_refused(void **state)
{
    (void)state;
    expect_plan_refused(matmul_wild_params, "MatMul");
}

static void gather_transposed_output(Fluidtune__Plan *m)
{
    Fluidtune__NodePlan *n = plan_node(m, "Gather");
    assert_non_null(n->out_layout);
    assert_true(n->out_layout->n_perm == 3);
    n->out_layout->perm[0] = 2;
    n->out_layout->perm[2] = 0;
}

static void plan_layout_the_kernel_cannot_write_is_refused(void **state)
{
    (void)state;
    expect_plan_refused(gather_transposed_output, "Gather");
}

/* A terabyte arena: the runtime would try to allocate it. */
static void huge_arena(Fluidtune__Plan *m)
{
    m->arena_bytes = (uint64_t)1 << 40;
}

static void plan_arena_larger_than_all_activations_is_refused(void **state)
{
    (void)state;
    expect_plan_refused(huge_arena, "arena of 1099511627776 bytes");
}

/* ---------- external data claiming more than its file holds ---------- */

/* A double tensor of 2^34 elements (128 GiB, within FT_MAX_NUMEL) whose bytes are "in" a small file. */
static void make_huge_external(Onnx__TensorProto *tp, Onnx__StringStringEntryProto *kv,
                               Onnx__StringStringEntryProto **kvs, int64_t *dims)
{
    Onnx__TensorProto init = ONNX__TENSOR_PROTO__INIT;
    Onnx__StringStringEntryProto e = ONNX__STRING_STRING_ENTRY_PROTO__INIT;
    *tp = init;
    *kv = e;
    kv->key = (char *)"location";
    kv->value = (char *)"w.bin";
    kvs[0] = kv;
    dims[0] = (int64_t)1 << 34;
    tp->name = (char *)"w_huge";
    tp->has_data_type = 1;
    tp->data_type = FT_DOUBLE;
    tp->n_dims = 1;
    tp->dims = dims;
    tp->has_data_location = 1;
    tp->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    tp->n_external_data = 1;
    tp->external_data = kvs;
}

static void write_packed(const char *path, const ProtobufCMessage *m)
{
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    protobuf_c_message_pack(m, buf);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    fclose(f);
    free(buf);
}

/* The claim is checked against the file before anything is allocated: the error is the size
 * mismatch (exit 2), not "out of memory" (exit 1) after asking malloc for 128 GiB. */
static void external_data_claiming_more_than_its_file_allocates_nothing(void **state)
{
    (void)state;
    char dir[] = "/tmp/ft_test_hostileXXXXXX";
    assert_non_null(mkdtemp(dir));
    char w[600], model[600], pb[600];
    snprintf(w, sizeof w, "%s/w.bin", dir);
    snprintf(model, sizeof model, "%s/model.onnx", dir);
    snprintf(pb, sizeof pb, "%s/input_0.pb", dir);
    FILE *f = fopen(w, "wb");
    assert_non_null(f);
    fputs("sixteen bytes!!!", f);
    fclose(f);

    Onnx__TensorProto tp;
    Onnx__StringStringEntryProto kv, *kvs[1];
    int64_t dims[1];
    make_huge_external(&tp, &kv, kvs, dims);
    Onnx__TensorProto *inits[1] = {&tp};
    Onnx__ValueInfoProto out = ONNX__VALUE_INFO_PROTO__INIT, *outs[1] = {&out};
    out.name = (char *)"w_huge";
    Onnx__GraphProto gp = ONNX__GRAPH_PROTO__INIT;
    gp.name = (char *)"huge";
    gp.n_initializer = 1;
    gp.initializer = inits;
    gp.n_output = 1;
    gp.output = outs;
    Onnx__OperatorSetIdProto op = ONNX__OPERATOR_SET_ID_PROTO__INIT, *ops[1] = {&op};
    op.domain = (char *)"";
    op.has_version = 1;
    op.version = 17;
    Onnx__ModelProto mp = ONNX__MODEL_PROTO__INIT;
    mp.has_ir_version = 1;
    mp.ir_version = 8;
    mp.graph = &gp;
    mp.n_opset_import = 1;
    mp.opset_import = ops;
    write_packed(model, &mp.base);
    write_packed(pb, &tp.base);

    ft_graph *g = NULL;
    ft_error err = {0};
    int rc = ft_onnx_load(model, &g, &err);
    ft_tensor t;
    memset(&t, 0, sizeof t);
    ft_error err2 = {0};
    int rc2 = ft_tensor_read_pb(pb, &t, &err2);
    unlink(w);
    unlink(model);
    unlink(pb);
    rmdir(dir);
    assert_int_equal(rc, FT_ERR_INPUT);
    assert_null(g);
    assert_non_null(strstr(err.msg, "w_huge"));
    assert_non_null(strstr(err.msg, "has 16 bytes"));
    assert_int_equal(rc2, FT_ERR_INPUT);
    assert_non_null(strstr(err2.msg, "not allowed"));
}

/* ---------- window geometry (Conv, MaxPool, AveragePool) ---------- */

/* A 5x5 image through op with one INTS attribute replaced: prepare must refuse it by name. Values
 * near INT64_MAX used to overflow the output-size arithmetic (UBSan: signed integer overflow). */
static void expect_window_refused(const char *op, const char *attr, int n, const int64_t *vals, const char *needle)
{
    ft_graph *g = ft_graph_create();
    g->opset = 17;
    tu_add_input(g, "x", FT_FLOAT, 4, (const int64_t[]){1, 1, 5, 5});
    int ni;
    if (strcmp(op, "Conv") == 0) {
        float w[9] = {0};
        tu_add_const_f32(g, "w", 4, (const int64_t[]){1, 1, 3, 3}, w);
        ni = tu_add_node(g, "Conv", "conv_node", 2, (const char *[]){"x", "w"}, 1, (const char *[]){"y"});
    } else {
        ni = tu_add_node(g, op, "pool_node", 1, (const char *[]){"x"}, 1, (const char *[]){"y"});
        if (strcmp(attr, "kernel_shape") != 0) tu_attr_ints(g, ni, "kernel_shape", 2, (const int64_t[]){2, 2});
    }
    tu_attr_ints(g, ni, attr, n, vals);
    tu_mark_output(g, "y");
    ft_error err = {0};
    assert_int_equal(ft_graph_prepare(g, &err), FT_ERR_INPUT);
    assert_non_null(strstr(err.msg, strcmp(op, "Conv") == 0 ? "conv_node" : "pool_node"));
    assert_non_null(strstr(err.msg, needle));
    ft_graph_destroy(g);
}

static void window_attributes_near_int64_max_are_refused(void **state)
{
    (void)state;
    const int64_t big = INT64_MAX, huge = (int64_t)1 << 40;
    expect_window_refused("Conv", "pads", 4, (const int64_t[]){0, 0, big, 0}, "pads");
    expect_window_refused("Conv", "pads", 4, (const int64_t[]){huge, huge, huge, huge}, "pads");
    expect_window_refused("Conv", "strides", 2, (const int64_t[]){1, big}, "strides");
    expect_window_refused("Conv", "dilations", 2, (const int64_t[]){big, 1}, "dilations");
    expect_window_refused("MaxPool", "kernel_shape", 2, (const int64_t[]){big, 2}, "kernel");
    expect_window_refused("AveragePool", "pads", 4, (const int64_t[]){big, 0, 0, 0}, "pads");
    expect_window_refused("MaxPool", "dilations", 2, (const int64_t[]){huge, 1}, "dilations");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plan_alias_to_a_smaller_tensor_is_refused),
        cmocka_unit_test(plan_alias_to_a_constant_is_refused),
        cmocka_unit_test(plan_kernel_family_of_another_op_is_refused),
        cmocka_unit_test(plan_kernel_parameters_this_build_never_offers_are_refused),
        cmocka_unit_test(plan_layout_the_kernel_cannot_write_is_refused),
        cmocka_unit_test(plan_arena_larger_than_all_activations_is_refused),
        cmocka_unit_test(external_data_claiming_more_than_its_file_allocates_nothing),
        cmocka_unit_test(window_attributes_near_int64_max_are_refused),
    };
    /* FT_TEST_ONLY=pattern runs the matching tests alone (to see one finding's sanitizer report). */
    if (getenv("FT_TEST_ONLY")) cmocka_set_test_filter(getenv("FT_TEST_ONLY"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
