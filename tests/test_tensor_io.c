/* test_tensor_io.c - single TensorProto files: round trips, ONNX's test data, refusal of bad files. */
#include "testutil.h"

#include "onnx/onnx.pb-c.h"
#include "tensor_io.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ADD_DATA "/usr/share/libonnx-testdata/data/node/test_add/test_data_set_0"

static char tmp_root[64];

static int make_tmp(void **state)
{
    (void)state;
    strcpy(tmp_root, "/tmp/ft_tensor_io_XXXXXX");
    return mkdtemp(tmp_root) ? 0 : -1;
}

static int remove_tmp(void **state)
{
    (void)state;
    DIR *d = opendir(tmp_root);
    if (!d) return -1;
    struct dirent *de;
    char p[512];
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        snprintf(p, sizeof p, "%s/%s", tmp_root, de->d_name);
        remove(p);
    }
    closedir(d);
    return rmdir(tmp_root);
}

static void tmp_path(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", tmp_root, name);
}

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* Writes t, reads it back and checks that everything survived. */
static void round_trip(const ft_tensor *t, const char *file)
{
    char path[256];
    tmp_path(path, sizeof path, file);
    ft_error e;
    int rc = ft_tensor_write_pb(path, t, &e);
    if (rc) fail_msg("write: %s", e.msg);
    ft_tensor r;
    rc = ft_tensor_read_pb(path, &r, &e);
    if (rc) fail_msg("read: %s", e.msg);
    assert_string_equal(r.name, t->name);
    assert_int_equal(r.dtype, t->dtype);
    assert_true(ft_shape_equal(&r.shape, &t->shape));
    assert_int_equal(r.flags, 0);
    assert_int_equal(r.producer, -1);
    size_t nb = ft_tensor_nbytes(t);
    assert_int_equal(ft_tensor_nbytes(&r), nb);
    assert_non_null(r.data);
    if (nb) assert_memory_equal(r.data, t->data, nb);
    ft_tensor_clear(&r);
}

static void float_int64_bool_and_more_round_trip(void **state)
{
    (void)state;
    ft_tensor t;
    int64_t d234[] = {2, 3, 4};
    tu_tensor_init(&t, "activations", FT_FLOAT, 3, d234);
    tu_fill_uniform(t.data, 24, 7, -10, 10);
    round_trip(&t, "f.pb");
    ft_tensor_clear(&t);

    int64_t d5[] = {5};
    tu_tensor_init(&t, "ids", FT_INT64, 1, d5);
    int64_t iv[] = {INT64_MIN, -1, 0, 1, INT64_MAX};
    memcpy(t.data, iv, sizeof iv);
    round_trip(&t, "i.pb");
    ft_tensor_clear(&t);

    int64_t d22[] = {2, 2};
    tu_tensor_init(&t, "mask", FT_BOOL, 2, d22);
    uint8_t bv[] = {1, 0, 0, 1};
    memcpy(t.data, bv, sizeof bv);
    round_trip(&t, "b.pb");
    ft_tensor_clear(&t);

    tu_tensor_init(&t, "half", FT_FLOAT16, 1, d5);
    uint16_t hv[] = {0x3c00, 0xc000, 0x7c00, 0x0001, 0xffff};
    memcpy(t.data, hv, sizeof hv);
    round_trip(&t, "h.pb");
    ft_tensor_clear(&t);

    tu_tensor_init(&t, "", FT_DOUBLE, 0, NULL); /* unnamed scalar */
    *(double *)t.data = -1.0 / 3.0;
    round_trip(&t, "s.pb");
    ft_tensor_clear(&t);

    int64_t d03[] = {0, 3};
    tu_tensor_init(&t, "empty", FT_UINT8, 2, d03);
    round_trip(&t, "e.pb");
    ft_tensor_clear(&t);
}

/* Values printed by: /usr/bin/python3 -c "import onnx; from onnx import numpy_helper as nh;
 * a = nh.to_array(onnx.load_tensor('.../input_0.pb')).ravel(); print(['%.9g' % a[i] for i in (0,1,17,59)])" */
static void reads_onnx_test_data_of_test_add(void **state)
{
    (void)state;
    if (access(ADD_DATA "/input_0.pb", R_OK) != 0) skip();
    static const struct {
        const char *file, *name;
        float v[4];
    } want[] = {
        {ADD_DATA "/input_0.pb", "x", {1.76405239f, 0.400157213f, -0.205158263f, -0.362741172f}},
        {ADD_DATA "/input_1.pb", "y", {-0.672460437f, -0.359553158f, -0.578849673f, 0.9222067f}},
        {ADD_DATA "/output_0.pb", "sum", {1.09159195f, 0.0406040549f, -0.784007907f, 0.559465528f}},
    };
    static const int idx[4] = {0, 1, 17, 59};
    ft_tensor t[3];
    for (int k = 0; k < 3; k++) {
        ft_error e;
        int rc = ft_tensor_read_pb(want[k].file, &t[k], &e);
        if (rc) fail_msg("%s", e.msg);
        assert_string_equal(t[k].name, want[k].name);
        assert_int_equal(t[k].dtype, FT_FLOAT);
        assert_int_equal(t[k].shape.rank, 3);
        assert_int_equal(t[k].shape.dims[0], 3);
        assert_int_equal(t[k].shape.dims[1], 4);
        assert_int_equal(t[k].shape.dims[2], 5);
        const float *v = t[k].data;
        for (int i = 0; i < 4; i++) assert_true(v[idx[i]] == want[k].v[i]);
    }
    /* the expected output is exactly the float sum of the inputs */
    const float *x = t[0].data, *y = t[1].data, *s = t[2].data;
    for (int i = 0; i < 60; i++) assert_true(x[i] + y[i] == s[i]);
    for (int k = 0; k < 3; k++) ft_tensor_clear(&t[k]);
}

static void typed_field_files_are_read(void **state)
{
    (void)state;
    Onnx__TensorProto tp = ONNX__TENSOR_PROTO__INIT;
    int64_t dims[] = {3};
    int64_t vals[] = {7, -9, (int64_t)1 << 33};
    tp.n_dims = 1;
    tp.dims = dims;
    tp.has_data_type = 1;
    tp.data_type = FT_INT64;
    tp.n_int64_data = 3;
    tp.int64_data = vals; /* no name: ONNX allows that in test data */
    uint8_t buf[128];
    size_t n = onnx__tensor_proto__pack(&tp, buf);
    char path[256];
    tmp_path(path, sizeof path, "typed.pb");
    write_bytes(path, buf, n);
    ft_tensor t;
    ft_error e;
    assert_int_equal(ft_tensor_read_pb(path, &t, &e), FT_OK);
    assert_string_equal(t.name, "");
    assert_int_equal(t.dtype, FT_INT64);
    assert_memory_equal(t.data, vals, sizeof vals);
    ft_tensor_clear(&t);
}

static void bad_tensor_files_are_refused_naming_the_file(void **state)
{
    (void)state;
    char path[256];
    ft_tensor t;
    ft_error e;

    /* truncated: every prefix of a valid file is an error (or, at a field boundary, a tensor whose
     * data does not fit its shape), never a crash */
    ft_tensor src;
    int64_t d[] = {4, 4};
    tu_tensor_init(&src, "w", FT_FLOAT, 2, d);
    tu_fill_uniform(src.data, 16, 3, -1, 1);
    tmp_path(path, sizeof path, "full.pb");
    assert_int_equal(ft_tensor_write_pb(path, &src, &e), FT_OK);
    ft_tensor_clear(&src);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t buf[256];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_true(len > 64);
    tmp_path(path, sizeof path, "cut.pb");
    for (size_t cut = 0; cut < len; cut++) {
        write_bytes(path, buf, cut);
        int rc = ft_tensor_read_pb(path, &t, &e);
        if (rc == FT_OK) fail_msg("prefix of %zu bytes read as a tensor", cut);
        assert_int_equal(rc, FT_ERR_INPUT);
        assert_non_null(strstr(e.msg, path));
    }

    tmp_path(path, sizeof path, "missing.pb");
    assert_int_equal(ft_tensor_read_pb(path, &t, &e), FT_ERR_INPUT);
    assert_non_null(strstr(e.msg, path));

    /* external data is never followed from a tensor file */
    Onnx__TensorProto tp = ONNX__TENSOR_PROTO__INIT;
    int64_t dims[] = {1};
    Onnx__StringStringEntryProto kv = ONNX__STRING_STRING_ENTRY_PROTO__INIT, *kvs[1] = {&kv};
    kv.key = (char *)"location";
    kv.value = (char *)"full.pb";
    tp.n_dims = 1;
    tp.dims = dims;
    tp.has_data_type = 1;
    tp.data_type = FT_FLOAT;
    tp.has_data_location = 1;
    tp.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    tp.n_external_data = 1;
    tp.external_data = kvs;
    size_t n = onnx__tensor_proto__pack(&tp, buf);
    tmp_path(path, sizeof path, "ext.pb");
    write_bytes(path, buf, n);
    assert_int_equal(ft_tensor_read_pb(path, &t, &e), FT_ERR_INPUT);
    assert_non_null(strstr(e.msg, "external"));

    Onnx__TensorProto sp = ONNX__TENSOR_PROTO__INIT;
    ProtobufCBinaryData word = {2, (uint8_t *)"hi"};
    sp.n_dims = 1;
    sp.dims = dims;
    sp.has_data_type = 1;
    sp.data_type = FT_STRING;
    sp.n_string_data = 1;
    sp.string_data = &word;
    n = onnx__tensor_proto__pack(&sp, buf);
    tmp_path(path, sizeof path, "str.pb");
    write_bytes(path, buf, n);
    assert_int_equal(ft_tensor_read_pb(path, &t, &e), FT_ERR_UNSUPPORTED);
    assert_non_null(strstr(e.msg, path));
}

static void write_is_atomic_and_refuses_what_it_cannot_write(void **state)
{
    (void)state;
    char path[256];
    ft_error e;
    ft_tensor t;
    int64_t d[] = {3};
    tu_tensor_init(&t, "v", FT_INT32, 1, d);
    tmp_path(path, sizeof path, "atomic.pb");
    write_bytes(path, "old", 3);
    assert_int_equal(ft_tensor_write_pb(path, &t, &e), FT_OK);
    assert_int_equal(ft_tensor_write_pb(path, &t, &e), FT_OK);
    /* the file was replaced and no temporary is left beside it */
    ft_tensor r;
    assert_int_equal(ft_tensor_read_pb(path, &r, &e), FT_OK);
    ft_tensor_clear(&r);
    DIR *dir = opendir(tmp_root);
    struct dirent *de;
    while ((de = readdir(dir))) assert_null(strstr(de->d_name, ".tmp."));
    closedir(dir);

    tmp_path(path, sizeof path, "no_such_dir/x.pb");
    assert_int_equal(ft_tensor_write_pb(path, &t, &e), FT_ERR_FAIL);
    assert_non_null(strstr(e.msg, path));

    tmp_path(path, sizeof path, "bad.pb");
    t.shape.dims[0] = -1;
    assert_int_equal(ft_tensor_write_pb(path, &t, &e), FT_ERR_INPUT);
    t.shape.dims[0] = 3;
    t.dtype = FT_STRING;
    assert_int_equal(ft_tensor_write_pb(path, &t, &e), FT_ERR_UNSUPPORTED);
    assert_int_equal(access(path, F_OK), -1);
    ft_tensor_clear(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(float_int64_bool_and_more_round_trip),
        cmocka_unit_test(reads_onnx_test_data_of_test_add),
        cmocka_unit_test(typed_field_files_are_read),
        cmocka_unit_test(bad_tensor_files_are_refused_naming_the_file),
        cmocka_unit_test(write_is_atomic_and_refuses_what_it_cannot_write),
    };
    return cmocka_run_group_tests(tests, make_tmp, remove_tmp);
}
