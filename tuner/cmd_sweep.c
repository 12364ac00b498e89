/* cmd_sweep.c - `fluidtune sweep`: verify and time every candidate of every unique op signature (and
 * the layout conversions the solver may need) on this machine, into SQLite, resumably. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build_info.h"
#include "candidates.h"
#include "cli.h"
#include "db.h"
#include "fingerprint.h"
#include "measure.h"
#include "ops.h"
#include "sweep_items.h"
#include "trial.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void sweep_usage(FILE *f)
{
    fprintf(f,
            "usage: fluidtune sweep MODEL.onnx --db FILE [options]\n"
            "\n"
            "Verifies every candidate (layouts x tilings) of every unique op signature of the model\n"
            "against the reference kernel, then times it in a forked worker pinned to one core, and\n"
            "stores every sample in the SQLite database FILE (created if missing). Layout conversions\n"
            "the solver may need are measured too. Each measurement is committed as it completes:\n"
            "run the same command again to resume after an interruption.\n"
            "\n"
            "options:\n"
            "  --db FILE               the tuning database (required)\n"
            "  --shape NAME=D0,D1,...  fix the dynamic dims of input NAME (repeatable)\n"
            "  --ops LIST              only these op types, comma-separated (e.g. MatMul,Softmax,Reorder)\n"
            "  --budget DURATION       stop starting candidates after this long (e.g. 90s, 10m, 1h)\n"
            "  --samples N             samples per candidate (default 10)\n"
            "  --min-time MS           each sample repeats the kernel for at least MS ms (default 1)\n"
            "  --cold                  flush the caches before each sample (one call per sample)\n"
            "  --shard K/N             measure only the K-th of N deterministic slices (merge later)\n"
            "  --timeout S             a candidate running longer than S seconds is a TIMEOUT (default 10)\n"
            "  --counters TIER         highest counter tier to use: hw, sw or none (default hw)\n"
            "  -q, --quiet             no progress output\n"
            "  -h, --help              this help\n"
            "\n"
            "exit status: 0 ok (also when some candidates were WRONG, CRASH or TIMEOUT: they are\n"
            "recorded), 1 failure, 2 bad usage or bad input\n");
}

static int parse_duration(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !(v >= 0)) return -1;
    if (*end == 0 || strcmp(end, "s") == 0) *out = v;
    else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0) *out = v * 60;
    else if (strcmp(end, "h") == 0) *out = v * 3600;
    else if (strcmp(end, "ms") == 0) *out = v / 1000;
    else return -1;
    return 0;
}

typedef struct job_ctx {
    const ft_trial_ref *ref;
    const ft_candidate *cand;
    ft_trial *trial;
} job_ctx;

static int job_verify(void *p, char *msg, size_t n)
{
    job_ctx *c = p;
    ft_error err = {0};
    if (!c->trial && ft_trial_create(c->ref, c->cand, &c->trial, &err) != FT_OK) {
        snprintf(msg, n, "setup failed: %s", err.msg);
        return 1;
    }
    return ft_trial_verify(c->trial, msg, n);
}

static int job_run(void *p)
{
    job_ctx *c = p;
    ft_error err = {0};
    if (!c->trial && ft_trial_create(c->ref, c->cand, &c->trial, &err) != FT_OK) return 1;
    return ft_trial_run(c->trial, &err);
}

static void fmt_duration(double s, char *buf, size_t n)
{
    if (!(s >= 0) || s > 1e7) snprintf(buf, n, "?");
    else if (s < 60) snprintf(buf, n, "%.0fs", s);
    else if (s < 3600) snprintf(buf, n, "%dm%02ds", (int)s / 60, (int)s % 60);
    else snprintf(buf, n, "%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
}

static void progress(int tty, int done, int total, const char *op, double elapsed, double *last_line)
{
    char eta[32], el[32];
    double rate = done > 0 ? elapsed / done : 0;
    fmt_duration(rate * (total - done), eta, sizeof eta);
    fmt_duration(elapsed, el, sizeof el);
    if (tty) {
        int width = 30, filled = total ? (int)((double)done / total * width) : width;
        fprintf(stderr, "\r[");
        for (int i = 0; i < width; i++) fputc(i < filled ? '#' : '.', stderr);
        fprintf(stderr, "] %d/%d %-14.14s elapsed %s ETA %s   ", done, total, op, el, eta);
        fflush(stderr);
    } else if (elapsed - *last_line >= 10 || done == total) {
        fprintf(stderr, "sweep: %d/%d candidates, now %s, elapsed %s, ETA %s\n", done, total, op, el, eta);
        *last_line = elapsed;
    }
}

int ft_cmd_sweep(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},      {"shape", required_argument, 0, 's'},
        {"ops", required_argument, 0, 'o'},     {"budget", required_argument, 0, 'b'},
        {"samples", required_argument, 0, 'n'}, {"min-time", required_argument, 0, 'm'},
        {"cold", no_argument, 0, 'c'},          {"shard", required_argument, 0, 'k'},
        {"timeout", required_argument, 0, 't'}, {"counters", required_argument, 0, 'C'},
        {"quiet", no_argument, 0, 'q'},         {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    ft_cli_shapes shapes = {0};
    ft_error err = {0};
    const char *db_path = NULL, *ops = NULL;
    double budget = 0, min_time_ms = 1, timeout = 10;
    long samples = 10;
    int cold = 0, quiet = 0, shard_k = 1, shard_n = 1, c;
    ft_counter_tier tier = FT_TIER_HW;
    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'd': db_path = optarg; break;
        case 's':
            if (ft_cli_parse_shape(optarg, &shapes, &err) != FT_OK) return ft_cli_report("sweep", &err);
            break;
        case 'o': ops = optarg; break;
        case 'b':
            if (parse_duration(optarg, &budget) != 0 || budget <= 0) {
                fprintf(stderr, "fluidtune sweep: error: --budget takes a duration like 90s, 10m or 1h, not '%s'\n", optarg);
                return FT_EXIT_USAGE;
            }
            break;
        case 'n':
            samples = strtol(optarg, &end, 10);
            if (*end || samples < 1 || samples > FT_MEASURE_MAX_SAMPLES) {
                fprintf(stderr, "fluidtune sweep: error: --samples takes 1..%d, not '%s'\n", FT_MEASURE_MAX_SAMPLES, optarg);
                return FT_EXIT_USAGE;
            }
            break;
        case 'm':
            min_time_ms = strtod(optarg, &end);
            if (*end || !(min_time_ms > 0) || min_time_ms > 60000) {
                fprintf(stderr, "fluidtune sweep: error: --min-time takes milliseconds in (0, 60000], not '%s'\n", optarg);
                return FT_EXIT_USAGE;
            }
            break;
        case 'c': cold = 1; break;
        case 'k':
            if (sscanf(optarg, "%d/%d", &shard_k, &shard_n) != 2 || shard_n < 1 || shard_k < 1 || shard_k > shard_n) {
                fprintf(stderr, "fluidtune sweep: error: --shard takes K/N with 1 <= K <= N, not '%s'\n", optarg);
                return FT_EXIT_USAGE;
            }
            break;
        case 't':
            if (parse_duration(optarg, &timeout) != 0 || timeout <= 0) {
                fprintf(stderr, "fluidtune sweep: error: --timeout takes seconds, not '%s'\n", optarg);
                return FT_EXIT_USAGE;
            }
            break;
        case 'C':
            if (ft_counter_tier_parse(optarg, &tier, &err) != FT_OK) return ft_cli_report("sweep", &err);
            break;
        case 'q': quiet = 1; break;
        case 'h': sweep_usage(stdout); return FT_EXIT_OK;
        default: sweep_usage(stderr); return FT_EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || !db_path) {
        fprintf(stderr, "fluidtune sweep: error: expected MODEL.onnx and --db FILE\n");
        sweep_usage(stderr);
        return FT_EXIT_USAGE;
    }
    const char *model = argv[optind];
    double t_start = ft_cli_now();
    ft_graph *g = NULL;
    ft_db *db = NULL;
    ft_sweep_items items = {0};
    int64_t sweep_id = 0;
    int rc = ft_cli_load_model(model, &shapes, NULL, 0, 0, NULL, &g, &err);
    if (rc != FT_OK) return ft_cli_report("sweep", &err);
    ft_machine machine;
    ft_build build;
    rc = ft_machine_fingerprint(&machine, &err);
    if (rc == FT_OK) rc = ft_build_fingerprint(&build, ft_kernel_build_id(), &err);
    if (rc == FT_OK) rc = ft_db_open(db_path, FT_DB_CREATE, &db, &err);
    int64_t machine_id = 0, build_id = 0, model_id = 0;
    char digest[65];
    for (int i = 0; i < 32; i++) snprintf(digest + 2 * i, 3, "%02x", g->digest[i]);
    if (rc == FT_OK) rc = ft_db_upsert_machine(db, &machine, &machine_id, &err);
    if (rc == FT_OK) rc = ft_db_upsert_build(db, &build, &build_id, &err);
    if (rc == FT_OK) rc = ft_db_upsert_model(db, digest, model, g->path, &model_id, &err);
    if (rc == FT_OK) rc = ft_sweep_items_build(g, ops, &items, &err);
    if (rc != FT_OK) goto done;
    ft_sweep_items_shard(&items, shard_k, shard_n);

    /* resume: drop what this machine and build already measured */
    int before = items.n;
    rc = ft_sweep_items_drop_measured(&items, db, machine_id, build_id, &err);
    if (rc != FT_OK) goto done;
    int already = before - items.n;
    if (!quiet)
        fprintf(stderr, "sweep: %s: %d nodes, %d signatures, %d candidates to measure (%d already in %s)%s%s\n", model,
                g->n_nodes, items.n_signatures, items.n, already, db_path, shard_n > 1 ? ", shard " : "",
                shard_n > 1 ? argv[0] : "");
    char config[1024];
    snprintf(config, sizeof config,
             "{\"model\":\"%s\",\"samples\":%ld,\"min_time_ms\":%g,\"cold\":%s,\"shard\":\"%d/%d\",\"timeout_s\":%g,"
             "\"budget_s\":%g,\"ops\":\"%s\",\"counters\":\"%s\"}",
             digest, samples, min_time_ms, cold ? "true" : "false", shard_k, shard_n, timeout, budget, ops ? ops : "",
             ft_counter_tier_name(tier));
    ft_db_sweep sw = {config, machine_id, build_id, model_id, machine.kernel};
    rc = ft_db_begin_sweep(db, &sw, &sweep_id, &err);
    if (rc != FT_OK) goto done;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    ft_measure_config mc;
    ft_measure_config_default(&mc);
    mc.samples = (int)samples;
    mc.min_time_s = min_time_ms / 1000.0;
    mc.cold = cold;
    mc.timeout_s = timeout;
    mc.max_tier = tier;
    int counts[5] = {0};
    int tty = isatty(2) && !quiet;
    double last_line = 0;
    int done_n = 0, stopped_budget = 0;
    ft_trial_ref *ref = NULL;
    int ref_sig = -1;
    for (int i = 0; i < items.n && rc == FT_OK; i++) {
        if (stop_requested) break;
        if (budget > 0 && ft_cli_now() - t_start > budget) {
            stopped_budget = 1;
            break;
        }
        ft_sweep_item *it = &items.items[i];
        if (it->sig != ref_sig) {
            ft_trial_ref_destroy(ref);
            ref = NULL;
            rc = ft_trial_ref_create(it->graph, it->node, 1234, &ref, &err);
            if (rc != FT_OK) break;
            ref_sig = it->sig;
        }
        job_ctx jc = {ref, &it->cand, NULL};
        ft_measure_job job = {job_run, job_verify, &jc};
        ft_measure_result res;
        rc = ft_measure_isolated(&mc, &job, &res, &err);
        if (rc != FT_OK) break;
        int64_t cand_id = 0;
        char params[512];
        ft_sweep_candidate_json(&it->cand, params, sizeof params);
        rc = ft_db_upsert_candidate(db, items.sig_ids[it->sig], it->cand.key, params, &cand_id, &err);
        if (rc != FT_OK) break;
        ft_db_counter ctrs[FT_COUNTERS_MAX];
        for (int k = 0; k < res.n_counters; k++) {
            ctrs[k].event = res.counters[k].name;
            ctrs[k].value = res.counters[k].value;
        }
        ft_db_measurement m = {sweep_id, cand_id, machine_id, build_id, ft_outcome_name(res.status),
                               res.detail[0] ? res.detail : NULL, res.n_samples, res.samples, res.stats.min,
                               res.stats.median, res.stats.mad, res.stats.mean, res.reps,
                               ft_counter_tier_name(res.tier), res.tier_note[0] ? res.tier_note : NULL,
                               res.multiplexed, res.n_counters, ctrs, NULL};
        rc = ft_db_record_measurement(db, &m, NULL, &err);
        if (rc != FT_OK) break;
        if (res.status >= 0 && res.status < 5) counts[res.status]++;
        done_n++;
        if (!quiet) progress(tty, done_n, items.n, it->graph->nodes[it->node].op_type, ft_cli_now() - t_start, &last_line);
        if (!quiet && res.status != FT_OUTCOME_OK)
            fprintf(stderr, "%s%s %s: %s%s%s\n", tty ? "\n" : "", ft_outcome_name(res.status), it->cand.key,
                    res.detail, "", "");
    }
    ft_trial_ref_destroy(ref);
    if (tty) fputc('\n', stderr);
    const char *status = rc != FT_OK ? "failed" : (stop_requested || stopped_budget) ? "interrupted" : "done";
    ft_error ferr = {0};
    if (ft_db_finish_sweep(db, sweep_id, status, &ferr) != FT_OK && rc == FT_OK) {
        err = ferr;
        rc = ferr.code;
    }
    char el[32];
    fmt_duration(ft_cli_now() - t_start, el, sizeof el);
    printf("sweep %s: %d measured (%d OK, %d WRONG, %d CRASH, %d TIMEOUT), %d already measured, %d left, wall time %s%s\n",
           status, done_n, counts[FT_OUTCOME_OK], counts[FT_OUTCOME_WRONG], counts[FT_OUTCOME_CRASH],
           counts[FT_OUTCOME_TIMEOUT], already, items.n - done_n, el,
           stopped_budget ? " (budget reached: run the same command to go on)"
                          : stop_requested ? " (interrupted: run the same command to go on)" : "");
done:
    ft_sweep_items_free(&items);
    ft_db_close(db);
    ft_graph_destroy(g);
    if (rc != FT_OK) return ft_cli_report("sweep", &err);
    return stop_requested ? FT_EXIT_FAIL : FT_EXIT_OK;
}
