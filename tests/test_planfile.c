/* test_planfile.c - plan files round-trip, run identically, and refuse another model or build. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "executor.h"
#include "memplan.h"
#include "onnx_import.h"
#include "plan/plan.pb-c.h"
#include "planfile.h"
#include "planner.h"
#include "prepare.h"
#include "testutil.h"

static ft_graph *load(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/models/%s/model.onnx", FT_TEST_DIR, name);
    ft_graph *g = NULL;
    ft_error err = {0};
    assert_int_equal(ft_onnx_load(path, &g, &err), FT_OK);
    assert_int_equal(ft_graph_prepare(g, &err), FT_OK);
    return g;
}

static void run_once(const ft_graph *g, const ft_plan *p, float **out, size_t *n)
{
    ft_session *s = NULL;
    ft_error err = {0};
    assert_int_equal(ft_session_create_with_plan(g, p, &s, &err), FT_OK);
    for (int k = 0; k < g->n_inputs; k++) {
        ft_tensor t = g->tensors[g->inputs[k]];
        size_t nb = ft_tensor_nbytes(&t);
        t.data = calloc(nb, 1);
        if (t.dtype == FT_INT64)
            for (size_t i = 0; i < nb / 8; i++) ((int64_t *)t.data)[i] = (int64_t)(i % 7) + 1;
        assert_int_equal(ft_session_set_input(s, k, &t, &err), FT_OK);
        free(t.data);
    }
    assert_int_equal(ft_session_run(s, &err), FT_OK);
    const ft_tensor *o = ft_session_output(s, 0);
    *n = ft_tensor_nbytes(o) / 4;
    *out = malloc(*n * 4);
    memcpy(*out, o->data, *n * 4);
    ft_session_destroy(s);
}

static void write_default_plan(const char *path, const ft_graph *g)
{
    ft_plan *p = NULL;
    ft_error err = {0};
    ft_memory_report mem;
    assert_int_equal(ft_plan_default(g, &p, &err), FT_OK);
    assert_int_equal(ft_planner_memory(g, p, FT_MEMPLAN_BEST, &mem, &err), FT_OK);
    assert_true(mem.arena_bytes <= mem.no_reuse_bytes);
    assert_true(mem.arena_bytes >= mem.lower_bound_bytes);
    ft_plan_meta meta;
    memset(&meta, 0, sizeof meta);
    snprintf(meta.machine_id, sizeof meta.machine_id, "test-machine");
    meta.lower_bound_bytes = mem.lower_bound_bytes;
    assert_int_equal(ft_planfile_write(path, g, p, &meta, &err), FT_OK);
    ft_plan_destroy(p);
}

static void plan_round_trip_runs_like_the_default_plan(void **state)
{
    (void)state;
    char path[] = "/tmp/ft_test_planXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    ft_graph *g = load("bert_tiny");
    write_default_plan(path, g);
    float *want, *got;
    size_t n1, n2;
    ft_plan *def = NULL;
    ft_error err = {0};
    assert_int_equal(ft_plan_default(g, &def, &err), FT_OK);
    run_once(g, def, &want, &n1);
    ft_plan_destroy(def);

    ft_graph *g2 = load("bert_tiny");
    ft_planfile *pf = NULL;
    assert_int_equal(ft_planfile_read(path, &pf, &err), FT_OK);
    ft_plan_meta meta;
    ft_planfile_meta(pf, &meta);
    assert_string_equal(meta.machine_id, "test-machine");
    assert_int_equal(meta.n_input_shapes, 2);
    ft_plan *p = NULL;
    assert_int_equal(ft_planfile_apply(pf, g2, &p, &err), FT_OK);
    run_once(g2, p, &got, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(want, got, n1 * 4);
    free(want);
    free(got);
    ft_plan_destroy(p);
    ft_planfile_destroy(pf);
    ft_graph_destroy(g);
    ft_graph_destroy(g2);
    unlink(path);
}

static void plan_for_another_model_is_refused(void **state)
{
    (void)state;
    char path[] = "/tmp/ft_test_planXXXXXX";
    int fd = mkstemp(path);
    close(fd);
    ft_graph *g = load("bert_tiny");
    write_default_plan(path, g);
    ft_graph *other = load("gpt2_tiny");
    ft_planfile *pf = NULL;
    ft_error err = {0};
    assert_int_equal(ft_planfile_read(path, &pf, &err), FT_OK);
    ft_plan *p = NULL;
    assert_int_equal(ft_planfile_apply(pf, other, &p, &err), FT_ERR_INPUT);
    assert_non_null(strstr(err.msg, "another model"));
    assert_null(p);
    ft_planfile_destroy(pf);
    ft_graph_destroy(g);
    ft_graph_destroy(other);
    unlink(path);
}

/* Rewrites a field of the plan file through protobuf-c, as a foreign or tampered file would have it. */
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
    fluidtune__plan__pack(m, out);
    f = fopen(path, "wb");
    fwrite(out, 1, len, f);
    fclose(f);
    free(out);
    fluidtune__plan__free_unpacked(m, NULL);
}

static void set_other_build(Fluidtune__Plan *m)
{
    free(m->kernel_build_id);
    m->kernel_build_id = strdup("0000000000000000");
}

static void push_offset_out_of_arena(Fluidtune__Plan *m)
{
    for (size_t i = 0; i < m->n_tensors; i++)
        if (m->tensors[i]->has_offset) {
            m->tensors[i]->offset = m->arena_bytes;
            return;
        }
}

static void check_refused(void (*edit)(Fluidtune__Plan *), const char *needle)
{
    char path[] = "/tmp/ft_test_planXXXXXX";
    int fd = mkstemp(path);
    close(fd);
    ft_graph *g = load("bert_tiny");
    write_default_plan(path, g);
    rewrite_plan(path, edit);
    ft_planfile *pf = NULL;
    ft_error err = {0};
    assert_int_equal(ft_planfile_read(path, &pf, &err), FT_OK);
    ft_plan *p = NULL;
    ft_graph *g2 = load("bert_tiny");
    assert_int_equal(ft_planfile_apply(pf, g2, &p, &err), FT_ERR_INPUT);
    assert_non_null(strstr(err.msg, needle));
    ft_planfile_destroy(pf);
    ft_graph_destroy(g);
    ft_graph_destroy(g2);
    unlink(path);
}

static void plan_from_another_build_is_refused(void **state)
{
    (void)state;
    check_refused(set_other_build, "another kernel build");
}

static void offset_outside_the_arena_is_refused(void **state)
{
    (void)state;
    check_refused(push_offset_out_of_arena, "does not fit the arena");
}

static void truncated_plan_file_is_refused_at_every_length(void **state)
{
    (void)state;
    char path[] = "/tmp/ft_test_planXXXXXX";
    int fd = mkstemp(path);
    close(fd);
    ft_graph *g = load("bert_tiny");
    write_default_plan(path, g);
    FILE *f = fopen(path, "rb");
    static uint8_t buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    int refused = 0;
    for (size_t cut = 0; cut < n; cut += 1 + cut / 16) {
        f = fopen(path, "wb");
        fwrite(buf, 1, cut, f);
        fclose(f);
        ft_planfile *pf = NULL;
        ft_error err = {0};
        int rc = ft_planfile_read(path, &pf, &err);
        if (rc == FT_OK) {
            /* a prefix that still parses must then fail to apply, never crash */
            ft_graph *g2 = load("bert_tiny");
            ft_plan *p = NULL;
            rc = ft_planfile_apply(pf, g2, &p, &err);
            ft_plan_destroy(p);
            ft_graph_destroy(g2);
            ft_planfile_destroy(pf);
        }
        refused += rc != FT_OK;
    }
    assert_true(refused > 0);
    ft_graph_destroy(g);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plan_round_trip_runs_like_the_default_plan),
        cmocka_unit_test(plan_for_another_model_is_refused),
        cmocka_unit_test(plan_from_another_build_is_refused),
        cmocka_unit_test(offset_outside_the_arena_is_refused),
        cmocka_unit_test(truncated_plan_file_is_refused_at_every_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
