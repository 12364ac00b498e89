/* test_measure.c - the measurement harness: statistics, calibration, pinning, counter tiers, isolation. */
#include "testutil.h"
#include "measure.h"

#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct spin_ctx {
    double seconds; /* how long one call spins */
    long calls;
    uint64_t cpus_seen; /* bit per CPU a call ran on */
    int fail_with;      /* non-zero: run returns it */
} spin_ctx;

static int spin(void *p)
{
    spin_ctx *c = p;
    c->calls++;
    int cpu = sched_getcpu();
    if (cpu >= 0 && cpu < 64) c->cpus_seen |= (uint64_t)1 << cpu;
    double end = wall_s() + c->seconds;
    while (wall_s() < end) {}
    return c->fail_with;
}

static void quick_config(ft_measure_config *c)
{
    ft_measure_config_default(c);
    c->warmup_s = 0.001;
    c->min_time_s = 0.002;
    c->samples = 5;
    c->timeout_s = 20;
}

static void stats_are_min_median_mad_and_mean(void **state)
{
    (void)state;
    ft_measure_stats s;
    const double odd[] = {5, 1, 3, 2, 4};
    ft_measure_stats_compute(odd, 5, &s);
    assert_true(s.min == 1 && s.median == 3 && s.mean == 3 && s.mad == 1);
    const double even[] = {1, 2, 3, 10};
    ft_measure_stats_compute(even, 4, &s);
    assert_true(s.min == 1 && s.median == 2.5 && s.mean == 4 && s.mad == 1.0);
    ft_measure_stats_compute(NULL, 0, &s);
    assert_true(s.median != s.median); /* NaN */
}

static void warm_samples_are_repeated_until_min_time(void **state)
{
    (void)state;
    spin_ctx ctx = {.seconds = 20e-6};
    ft_measure_job job = {spin, NULL, &ctx};
    ft_measure_config c;
    quick_config(&c);
    ft_measure_result r;
    ft_error err = {0};
    assert_int_equal(ft_measure_run(&c, &job, &r, &err), FT_OK);
    assert_int_equal(r.status, FT_OUTCOME_OK);
    assert_int_equal(r.n_samples, 5);
    /* 2 ms of 20 us calls needs ~100 repeats; a missing calibration would leave 1. */
    assert_true(r.reps >= 50);
    assert_true((double)r.reps * r.stats.median >= 0.5 * c.min_time_s);
    assert_true(ctx.calls >= 5 * r.reps + 1);
    for (int i = 0; i < r.n_samples; i++) assert_true(r.samples[i] >= 15e-6);
    assert_true(r.stats.min <= r.stats.median && r.stats.median <= r.stats.mean + 1.0);
    assert_true(r.stats.mad >= 0);
    assert_int_equal(r.n_flushes, 0);
}

static void measuring_pins_to_one_cpu_and_restores_affinity(void **state)
{
    (void)state;
    cpu_set_t before, after;
    assert_int_equal(sched_getaffinity(0, sizeof before, &before), 0);
    spin_ctx ctx = {.seconds = 10e-6};
    ft_measure_job job = {spin, NULL, &ctx};
    ft_measure_config c;
    quick_config(&c);
    ft_measure_result r;
    ft_error err = {0};
    assert_int_equal(ft_measure_run(&c, &job, &r, &err), FT_OK);
    assert_true(r.cpu >= 0);
    assert_true(ctx.cpus_seen == (uint64_t)1 << r.cpu);
    assert_int_equal(sched_getaffinity(0, sizeof after, &after), 0);
    assert_true(CPU_EQUAL(&before, &after));
}

static void pinning_to_a_missing_cpu_is_an_error(void **state)
{
    (void)state;
    spin_ctx ctx = {.seconds = 1e-6};
    ft_measure_job job = {spin, NULL, &ctx};
    ft_measure_config c;
    quick_config(&c);
    c.cpu = CPU_SETSIZE - 1;
    ft_measure_result r;
    ft_error err = {0};
    assert_int_equal(ft_measure_run(&c, &job, &r, &err), FT_ERR_INPUT);
    assert_non_null(strstr(err.msg, "CPU"));
}

static const ft_counter_value *find_counter(const ft_measure_result *r, const char *name)
{
    for (int i = 0; i < r->n_counters; i++)
        if (strcmp(r->counters[i].name, name) == 0) return &r->counters[i];
    return NULL;
}

static void run_with_tier_env(const char *tier, ft_measure_result *r)
{
    if (tier)
        setenv("FT_COUNTER_TIER", tier, 1);
    else
        unsetenv("FT_COUNTER_TIER");
    spin_ctx ctx = {.seconds = 20e-6};
    ft_measure_job job = {spin, NULL, &ctx};
    ft_measure_config c;
    quick_config(&c);
    ft_error err = {0};
    int rc = ft_measure_run(&c, &job, r, &err);
    unsetenv("FT_COUNTER_TIER");
    assert_int_equal(rc, FT_OK);
    assert_int_equal(r->status, FT_OUTCOME_OK);
}

static void counter_tier_none_when_forced(void **state)
{
    (void)state;
    ft_measure_result r;
    run_with_tier_env("none", &r);
    assert_int_equal(r.tier, FT_TIER_NONE);
    assert_int_equal(r.n_counters, 0);
    assert_non_null(strstr(r.tier_note, "FT_COUNTER_TIER"));
}

static void counter_tier_sw_counts_task_clock_when_forced(void **state)
{
    (void)state;
    ft_measure_result r;
    run_with_tier_env("sw", &r);
    if (r.tier == FT_TIER_NONE && strstr(r.tier_note, "sw: perf_event_open")) skip(); /* perf_event_paranoid 3 */
    assert_int_equal(r.tier, FT_TIER_SW);
    const ft_counter_value *tc = find_counter(&r, "task-clock");
    assert_non_null(tc);
    /* task-clock per call is in ns and each call spins 20 us. */
    assert_true(tc->value > 5e3 && tc->value < 1e6);
    assert_non_null(find_counter(&r, "page-faults"));
    assert_non_null(find_counter(&r, "context-switches"));
    assert_int_equal(r.multiplexed, 0);
}

static void counter_tier_is_hw_with_a_pmu_and_sw_without(void **state)
{
    (void)state;
    ft_measure_result r;
    run_with_tier_env(NULL, &r);
    if (r.tier == FT_TIER_HW) {
        const ft_counter_value *cyc = find_counter(&r, "cycles");
        assert_non_null(cyc);
        assert_true(cyc->value > 1000);
        assert_non_null(find_counter(&r, "instructions"));
    } else {
        /* Whatever stopped the hw tier is said, and sw took over (or nothing opens at all). */
        assert_non_null(strstr(r.tier_note, "hw: "));
        if (r.tier == FT_TIER_SW)
            assert_non_null(find_counter(&r, "task-clock"));
        else
            assert_non_null(strstr(r.tier_note, "sw: perf_event_open"));
    }
}

static void counter_tier_is_capped_by_the_config(void **state)
{
    (void)state;
    unsetenv("FT_COUNTER_TIER");
    spin_ctx ctx = {.seconds = 5e-6};
    ft_measure_job job = {spin, NULL, &ctx};
    ft_measure_config c;
    quick_config(&c);
    c.max_tier = FT_TIER_NONE;
    ft_measure_result r;
    ft_error err = {0};
    assert_int_equal(ft_measure_run(&c, &job, &r, &err), FT_OK);
    assert_int_equal(r.tier, FT_TIER_NONE);
    assert_int_equal(r.n_counters, 0);
}

static void unknown_counter_tier_in_env_is_refused(void **state)
{
    (void)state;
    setenv("FT_COUNTER_TIER", "cycles", 1);
    spin_ctx ctx = {.seconds = 1e-6};
    ft_measure_job job = {spin, NULL, &ctx};
    ft_measure_config c;
    quick_config(&c);
    ft_measure_result r;
    ft_error err = {0};
    int rc = ft_measure_run(&c, &job, &r, &err);
    unsetenv("FT_COUNTER_TIER");
    assert_int_equal(rc, FT_ERR_INPUT);
    assert_non_null(strstr(err.msg, "FT_COUNTER_TIER"));
}

static void cold_samples_flush_before_each_single_call(void **state)
{
    (void)state;
    spin_ctx ctx = {.seconds = 5e-6};
    ft_measure_job job = {spin, NULL, &ctx};
    ft_measure_config c;
    quick_config(&c);
    c.cold = 1;
    c.samples = 4;
    c.flush_bytes = 1 << 20;
    ft_measure_result r;
    ft_error err = {0};
    assert_int_equal(ft_measure_run(&c, &job, &r, &err), FT_OK);
    assert_int_equal(r.status, FT_OUTCOME_OK);
    assert_int_equal(r.reps, 1);
    assert_int_equal(r.n_flushes, 4);
    assert_int_equal(r.n_samples, 4);
}

static void failing_run_is_a_crash_with_its_code(void **state)
{
    (void)state;
    spin_ctx ctx = {.seconds = 1e-6, .fail_with = 7};
    ft_measure_job job = {spin, NULL, &ctx};
    ft_measure_config c;
    quick_config(&c);
    ft_measure_result r;
    ft_error err = {0};
    assert_int_equal(ft_measure_run(&c, &job, &r, &err), FT_OK);
    assert_int_equal(r.status, FT_OUTCOME_CRASH);
    assert_string_equal(r.detail, "run returned 7");
    assert_int_equal(r.n_samples, 0);
}

static int verify_wrong(void *ctx, char *msg, size_t n)
{
    (void)ctx;
    snprintf(msg, n, "max abs error 0.5 at output 3");
    return 1;
}

static int verify_ok(void *ctx, char *msg, size_t n)
{
    (void)ctx, (void)msg, (void)n;
    return 0;
}

static void failed_verification_is_wrong_and_not_timed(void **state)
{
    (void)state;
    spin_ctx ctx = {.seconds = 1e-6};
    ft_measure_job job = {spin, verify_wrong, &ctx};
    ft_measure_config c;
    quick_config(&c);
    ft_measure_result r;
    ft_error err = {0};
    assert_int_equal(ft_measure_run(&c, &job, &r, &err), FT_OK);
    assert_int_equal(r.status, FT_OUTCOME_WRONG);
    assert_string_equal(r.detail, "max abs error 0.5 at output 3");
    assert_int_equal(ctx.calls, 0);
}

static void bad_config_is_refused(void **state)
{
    (void)state;
    spin_ctx ctx = {.seconds = 1e-6};
    ft_measure_job job = {spin, NULL, &ctx};
    ft_measure_config c;
    quick_config(&c);
    c.samples = 0;
    ft_measure_result r;
    ft_error err = {0};
    assert_int_equal(ft_measure_run(&c, &job, &r, &err), FT_ERR_INPUT);
    assert_int_equal(ft_measure_isolated(&c, &job, &r, &err), FT_ERR_INPUT);
    c.samples = FT_MEASURE_MAX_SAMPLES + 1;
    assert_int_equal(ft_measure_run(&c, &job, &r, &err), FT_ERR_INPUT);
}

static void isolated_measurement_returns_the_workers_samples(void **state)
{
    (void)state;
    spin_ctx ctx = {.seconds = 20e-6};
    ft_measure_job job = {spin, verify_ok, &ctx};
    ft_measure_config c;
    quick_config(&c);
    ft_measure_result r;
    ft_error err = {0};
    assert_int_equal(ft_measure_isolated(&c, &job, &r, &err), FT_OK);
    assert_int_equal(r.status, FT_OUTCOME_OK);
    assert_int_equal(r.n_samples, 5);
    assert_true(r.reps >= 50);
    assert_true(r.stats.median >= 15e-6);
    assert_true(r.n_counters > 0 || (r.tier == FT_TIER_NONE && strstr(r.tier_note, "sw: perf_event_open")));
    assert_int_equal(ctx.calls, 0); /* the calls happened in the worker */
}

static int crash_segv(void *ctx)
{
    (void)ctx;
    raise(SIGSEGV);
    return 0;
}

static int crash_abort(void *ctx)
{
    (void)ctx;
    abort();
}

static int calls_exit(void *ctx)
{
    (void)ctx;
    exit(3);
}

static int hang(void *ctx)
{
    volatile long *spins = ctx;
    for (;;) (*spins)++;
    return 0;
}

static int verify_crashes(void *ctx, char *msg, size_t n)
{
    (void)msg, (void)n;
    return crash_segv(ctx);
}

static ft_measure_result isolated(int (*run)(void *), int (*verify)(void *, char *, size_t), double timeout_s)
{
    long scratch = 0;
    ft_measure_job job = {run, verify, &scratch};
    ft_measure_config c;
    quick_config(&c);
    c.timeout_s = timeout_s;
    ft_measure_result r;
    ft_error err = {0};
    assert_int_equal(ft_measure_isolated(&c, &job, &r, &err), FT_OK);
    return r;
}

static void isolated_segfault_is_a_crash_named_by_its_signal(void **state)
{
    (void)state;
    ft_measure_result r = isolated(crash_segv, NULL, 20);
    assert_int_equal(r.status, FT_OUTCOME_CRASH);
    assert_string_equal(r.detail, "SIGSEGV");
    assert_int_equal(r.n_samples, 0);
}

static void isolated_abort_is_a_crash_named_by_its_signal(void **state)
{
    (void)state;
    ft_measure_result r = isolated(crash_abort, NULL, 20);
    assert_int_equal(r.status, FT_OUTCOME_CRASH);
    assert_string_equal(r.detail, "SIGABRT");
}

static void isolated_exit_is_a_crash_with_its_status(void **state)
{
    (void)state;
    ft_measure_result r = isolated(calls_exit, NULL, 20);
    assert_int_equal(r.status, FT_OUTCOME_CRASH);
    assert_string_equal(r.detail, "exit status 3");
}

static void isolated_hang_is_killed_at_the_timeout(void **state)
{
    (void)state;
    double t0 = wall_s();
    ft_measure_result r = isolated(hang, NULL, 0.3);
    double took = wall_s() - t0;
    assert_int_equal(r.status, FT_OUTCOME_TIMEOUT);
    assert_non_null(strstr(r.detail, "0.3"));
    assert_true(took >= 0.29 && took < 5.0);
}

static void isolated_wrong_result_is_wrong(void **state)
{
    (void)state;
    ft_measure_result r = isolated(crash_segv, verify_wrong, 20);
    assert_int_equal(r.status, FT_OUTCOME_WRONG);
    assert_string_equal(r.detail, "max abs error 0.5 at output 3");
}

static void isolated_crash_during_verification_is_a_crash(void **state)
{
    (void)state;
    ft_measure_result r = isolated(hang, verify_crashes, 20);
    assert_int_equal(r.status, FT_OUTCOME_CRASH);
    assert_string_equal(r.detail, "SIGSEGV");
}

static void outcome_names_match_the_database_spelling(void **state)
{
    (void)state;
    assert_string_equal(ft_outcome_name(FT_OUTCOME_OK), "OK");
    assert_string_equal(ft_outcome_name(FT_OUTCOME_WRONG), "WRONG");
    assert_string_equal(ft_outcome_name(FT_OUTCOME_CRASH), "CRASH");
    assert_string_equal(ft_outcome_name(FT_OUTCOME_TIMEOUT), "TIMEOUT");
    assert_string_equal(ft_outcome_name(FT_OUTCOME_SKIPPED), "SKIPPED");
    assert_string_equal(ft_counter_tier_name(FT_TIER_HW), "hw");
    assert_string_equal(ft_counter_tier_name(FT_TIER_SW), "sw");
    assert_string_equal(ft_counter_tier_name(FT_TIER_NONE), "none");
    assert_non_null(ft_counters_backend());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stats_are_min_median_mad_and_mean),
        cmocka_unit_test(warm_samples_are_repeated_until_min_time),
        cmocka_unit_test(measuring_pins_to_one_cpu_and_restores_affinity),
        cmocka_unit_test(pinning_to_a_missing_cpu_is_an_error),
        cmocka_unit_test(counter_tier_none_when_forced),
        cmocka_unit_test(counter_tier_sw_counts_task_clock_when_forced),
        cmocka_unit_test(counter_tier_is_hw_with_a_pmu_and_sw_without),
        cmocka_unit_test(counter_tier_is_capped_by_the_config),
        cmocka_unit_test(unknown_counter_tier_in_env_is_refused),
        cmocka_unit_test(cold_samples_flush_before_each_single_call),
        cmocka_unit_test(failing_run_is_a_crash_with_its_code),
        cmocka_unit_test(failed_verification_is_wrong_and_not_timed),
        cmocka_unit_test(bad_config_is_refused),
        cmocka_unit_test(isolated_measurement_returns_the_workers_samples),
        cmocka_unit_test(isolated_segfault_is_a_crash_named_by_its_signal),
        cmocka_unit_test(isolated_abort_is_a_crash_named_by_its_signal),
        cmocka_unit_test(isolated_exit_is_a_crash_with_its_status),
        cmocka_unit_test(isolated_hang_is_killed_at_the_timeout),
        cmocka_unit_test(isolated_wrong_result_is_wrong),
        cmocka_unit_test(isolated_crash_during_verification_is_a_crash),
        cmocka_unit_test(outcome_names_match_the_database_spelling),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
