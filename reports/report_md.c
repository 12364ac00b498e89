/* report_md.c - summary.md: the report's numbers as Markdown tables, for a terminal or a pull request. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "report_internal.h"

/* Text inside a table cell: a '|' would end the cell, a newline the row, and outside a code span a
 * '<' could open an HTML tag that a Markdown renderer swallows. */
static void put_md(FILE *f, const char *s, int code)
{
    for (; s && *s; s++) {
        if (*s == '|') fputs("\\|", f);
        else if (*s == '\n' || *s == '\r') fputc(' ', f);
        else if (!code && (*s == '<' || *s == '*' || *s == '`' || *s == '\\')) fprintf(f, "\\%c", *s);
        else fputc(*s, f);
    }
}

static void cell(FILE *f, const char *s)
{
    put_md(f, s, 0);
}

static void code_cell(FILE *f, const char *s)
{
    put_md(f, s, 1);
}

static const char *main_tier(const ft_report_run *u)
{
    int best = RP_TIER_NONE;
    for (int t = 0; t < RP_N_TIER; t++)
        if (u->n_tier[t] > u->n_tier[best]) best = t;
    return ft_report_tier_names[best];
}

static void run_name(FILE *f, const ft_report *r, int u)
{
    fprintf(f, "%s%s", r->runs[u].label, r->runs[u].machine.emulated ? " (emulated, not representative)" : "");
}

static void machines(FILE *f, const ft_report *r)
{
    char c1[32], c2[32], c3[32];
    fprintf(f, "## Machines\n\n| machine | CPU | arch | ISA | CPUs | L1d / L2 / L3 | VM | emulated | counter tier | "
               "measured (OK / all) | build |\n|---|---|---|---|---:|---|---|---|---|---:|---|\n");
    for (int u = 0; u < r->n_runs; u++) {
        const ft_report_run *ru = &r->runs[u];
        const ft_machine *m = &ru->machine;
        int total = 0;
        for (int i = 0; i < RP_N_STATUS; i++) total += ru->n_status[i];
        fprintf(f, "| %s | ", ru->label);
        cell(f, m->vendor);
        fputc(' ', f);
        cell(f, m->model_name);
        fprintf(f, " | ");
        cell(f, m->arch);
        fprintf(f, " | ");
        cell(f, m->isa[0] ? m->isa : "-");
        fprintf(f, " | %d | %s / %s / %s | %s | %s | %s | %d / %d | ", m->n_cpus,
                ft_report_bytes_str((size_t)m->l1d_bytes, c1, sizeof c1), ft_report_bytes_str((size_t)m->l2_bytes, c2, sizeof c2),
                ft_report_bytes_str((size_t)m->l3_bytes, c3, sizeof c3), m->hypervisor ? "yes" : "no",
                m->emulated ? "**yes: not representative**" : "no", main_tier(ru), ru->n_status[RP_OK], total);
        cell(f, ru->compiler);
        fprintf(f, " (%.12s) |\n", ru->build_key);
    }
    fprintf(f, "\n");
}

static void signatures(FILE *f, const ft_report *r)
{
    char b1[32], b2[32], b3[32], b4[32];
    fprintf(f, "## Best candidate per signature\n\n");
    if (r->has_model)
        fprintf(f, "Baseline `default` = the candidate the registry's default plan runs for the model's nodes of that "
                   "signature; `median` = the median of the OK candidates, used where the default was not measured "
                   "OK or the signature is not the model's.");
    else
        fprintf(f, "Baseline `median` = the median of the signature's OK candidates: without `--model` the report "
                   "cannot know which candidate the default plan would run.");
    fprintf(f, " Times are median µs per call; speedup = baseline / best; spread = worst / best.\n\n"
               "| sig | op | machine | best candidate | best µs | baseline | baseline µs | speedup | spread |\n"
               "|---|---|---|---|---:|---|---:|---:|---:|\n");
    for (int k = 0; k < r->n_sigs; k++) {
        int s = r->sig_order[k];
        const ft_report_sig *sg = &r->sigs[s];
        for (int u = 0; u < r->n_runs; u++) {
            const ft_report_stat *st = ft_report_stat_at(r, s, u);
            if (st->n_meas == 0) continue;
            fprintf(f, "| %s | ", sg->label);
            cell(f, sg->op);
            fprintf(f, " | ");
            run_name(f, r, u);
            if (st->best < 0) {
                fprintf(f, " | no OK candidate (%d measured) | - | - | - | - | - |\n", st->n_meas);
                continue;
            }
            fprintf(f, " | `");
            code_cell(f, r->cands[st->best].key);
            fprintf(f, "` | %s | %s | %s | %s | %s |\n", ft_report_fmt_us(st->best_s, b1, sizeof b1),
                    st->base_kind == RP_BASE_DEFAULT ? "default" : "median", ft_report_fmt_us(st->base_s, b2, sizeof b2),
                    ft_report_fmt_ratio(st->base_s / st->best_s, b3, sizeof b3),
                    ft_report_fmt_ratio(st->worst_s / st->best_s, b4, sizeof b4));
        }
    }
    fprintf(f, "\n");
}

static void disagreements(FILE *f, const ft_report *r)
{
    if (r->n_runs < 2) return;
    fprintf(f, "## Where the machines choose differently\n\n");
    int n = 0;
    for (int k = 0; k < r->n_sigs; k++) {
        int s = r->sig_order[k];
        int first = -1, differ = 0;
        for (int u = 0; u < r->n_runs; u++) {
            int b = ft_report_stat_at(r, s, u)->best;
            if (b < 0) continue;
            if (first < 0) first = b;
            else if (b != first) differ = 1;
        }
        if (!differ) continue;
        n++;
        fprintf(f, "- %s %s:", r->sigs[s].label, r->sigs[s].op);
        for (int u = 0; u < r->n_runs; u++) {
            int b = ft_report_stat_at(r, s, u)->best;
            if (b < 0) continue;
            fprintf(f, " %s `%s` (%s, layouts %s)%s", r->runs[u].label, r->cands[b].key, r->cands[b].family,
                    r->cands[b].layouts, u + 1 < r->n_runs ? ";" : "");
        }
        fprintf(f, "\n");
    }
    if (n == 0) fprintf(f, "Every signature measured on several machines got the same choice on each.\n");
    fprintf(f, "\n");
}

static void cross(FILE *f, const ft_report *r)
{
    if (r->n_runs < 2) return;
    char b1[32];
    fprintf(f, "## Cross-machine: each machine's choices timed on the others\n\nRow machine's best candidate per "
               "signature, timed with the column machine's measurements, over the column machine's own best on the "
               "same signatures%s. `*` = some choices never measured OK there (left out).\n\n| choices of \\ timed "
               "on |",
            r->has_model ? " (weighted by the model's node count per signature)" : "");
    for (int b = 0; b < r->n_runs; b++) fprintf(f, " %s |", r->runs[b].label);
    fprintf(f, "\n|---|");
    for (int b = 0; b < r->n_runs; b++) fprintf(f, "---:|");
    fprintf(f, "\n");
    for (int a = 0; a < r->n_runs; a++) {
        fprintf(f, "| %s |", r->runs[a].label);
        for (int b = 0; b < r->n_runs; b++) {
            double on_b, own, ratio;
            int missing, common;
            ft_report_cross(r, a, b, &on_b, &own, &ratio, &missing, &common);
            fprintf(f, " %s%s |", ft_report_fmt_ratio(ratio, b1, sizeof b1), missing ? "*" : "");
        }
        fprintf(f, "\n");
    }
    fprintf(f, "\n");
}

static void model(FILE *f, const ft_report *r)
{
    char b1[32], b2[32], b3[32];
    fprintf(f, "## Model `");
    code_cell(f, r->model_label);
    fprintf(f, "`\n\nPredicted from each machine's measurements (sums of medians), solving over the candidates this "
               "build enumerates on this host.\n\n| machine | default µs | tuned µs "
               "| speedup | conversions | arena | lower bound | arena / bound | without reuse |\n"
               "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int u = 0; u < r->n_runs; u++) {
        const ft_report_model_run *m = &r->mruns[u];
        fprintf(f, "| ");
        run_name(f, r, u);
        if (!m->ok) {
            fprintf(f, " | %s | | | | | | | |\n", m->note);
            continue;
        }
        fprintf(f, " | %.3f | %.3f | %s | %d | %s | %s | %.3f | ", m->default_s * 1e6, m->predicted_s * 1e6,
                ft_report_fmt_ratio(m->default_s / m->predicted_s, b1, sizeof b1), m->n_conversions,
                ft_report_bytes_str(m->arena_bytes, b2, sizeof b2), ft_report_bytes_str(m->lower_bound_bytes, b3, sizeof b3),
                m->lower_bound_bytes ? (double)m->arena_bytes / (double)m->lower_bound_bytes : 1.0);
        fprintf(f, "%s |\n", ft_report_bytes_str(m->no_reuse_bytes, b1, sizeof b1));
    }
    fprintf(f, "\nPer op type, µs per inference (default / tuned):\n\n| op type |");
    for (int u = 0; u < r->n_runs; u++)
        if (r->mruns[u].ok) fprintf(f, " %s default | %s tuned |", r->runs[u].label, r->runs[u].label);
    fprintf(f, "\n|---|");
    for (int u = 0; u < r->n_runs; u++)
        if (r->mruns[u].ok) fprintf(f, "---:|---:|");
    fprintf(f, "\n");
    for (int o = 0; o < r->n_model_ops; o++) {
        fprintf(f, "| %s |", r->model_ops[o]);
        for (int u = 0; u < r->n_runs; u++)
            if (r->mruns[u].ok && r->mruns[u].default_by_op[o] == 0 && r->mruns[u].tuned_by_op[o] == 0)
                fprintf(f, " - | - |");
            else if (r->mruns[u].ok)
                fprintf(f, " %.3f | %.3f |", r->mruns[u].default_by_op[o] * 1e6, r->mruns[u].tuned_by_op[o] * 1e6);
        fprintf(f, "\n");
    }
    if (r->n_runs > 1) {
        fprintf(f, "\nEach machine's whole plan timed on the others (µs; nodes never measured there left out):\n\n"
                   "| plan of \\ timed on |");
        for (int b = 0; b < r->n_runs; b++) fprintf(f, " %s |", r->runs[b].label);
        fprintf(f, "\n|---|");
        for (int b = 0; b < r->n_runs; b++) fprintf(f, "---:|");
        fprintf(f, "\n");
        for (int a = 0; a < r->n_runs; a++) {
            if (!r->mruns[a].ok) continue;
            fprintf(f, "| %s |", r->runs[a].label);
            for (int b = 0; b < r->n_runs; b++)
                fprintf(f, " %.3f%s |", r->mruns[a].cross_s[b] * 1e6, r->mruns[a].cross_missing[b] ? "*" : "");
            fprintf(f, "\n");
        }
    }
    fprintf(f, "\n");
}

static void sweep_cost(FILE *f, const ft_report *r)
{
    fprintf(f, "## The sweep's own cost\n\n| machine | sweeps (done) | wall s | inside timed calls s | measured | not OK |"
               "\n|---|---:|---:|---:|---:|---:|\n");
    for (int u = 0; u < r->n_runs; u++) {
        const ft_report_run *ru = &r->runs[u];
        int total = 0;
        for (int i = 0; i < RP_N_STATUS; i++) total += ru->n_status[i];
        fprintf(f, "| %s | %d (%d) | %.1f | %.2f | %d | %d |\n", ru->label, ru->n_sweeps, ru->n_sweeps_done,
                ru->sweep_wall_s, ru->measured_s, total, total - ru->n_status[RP_OK]);
    }
    fprintf(f, "\n");
}

static void legend(FILE *f, const ft_report *r)
{
    fprintf(f, "## Signatures\n\n");
    for (int k = 0; k < r->n_sigs; k++) {
        const ft_report_sig *sg = &r->sigs[r->sig_order[k]];
        fprintf(f, "- %s `%s`", sg->label, sg->text);
        if (r->has_model) fprintf(f, " (%d model node%s)", sg->model_nodes, sg->model_nodes == 1 ? "" : "s");
        fprintf(f, "\n");
    }
}

int ft_report_write_markdown(const ft_report *r, const char *dir, const ft_report_written *w, ft_error *err)
{
    char path[4096], now[32];
    snprintf(path, sizeof path, "%s/summary.md", dir);
    FILE *f = fopen(path, "w");
    if (!f) return ft_fail(err, FT_ERR_FAIL, "%s: cannot write: %s", path, strerror(errno));
    fprintf(f, "# fluidtune report\n\nGenerated %s from", ft_db_now(now, sizeof now));
    for (int i = 0; i < r->n_dbs; i++) fprintf(f, "%s `%s`", i ? "," : "", r->db_paths[i]);
    fprintf(f, ": %d machine%s, %d signatures, %d candidates.", r->n_runs, r->n_runs == 1 ? "" : "s", r->n_sigs,
            r->n_cands);
    if (r->has_model) fprintf(f, " Model `%s`.", r->model_label);
    fprintf(f, " Charts and more tables: index.html.\n\n");
    for (int u = 0; u < r->n_runs; u++)
        if (r->runs[u].machine.emulated)
            fprintf(f, "> **%s ran under CPU emulation: its timings are not representative.**\n\n", r->runs[u].label);
    if (w->note[0]) fprintf(f, "> Note: %s\n\n", w->note);
    machines(f, r);
    signatures(f, r);
    disagreements(f, r);
    cross(f, r);
    if (r->has_model) model(f, r);
    sweep_cost(f, r);
    legend(f, r);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) return ft_fail(err, FT_ERR_FAIL, "%s: write failed", path);
    return FT_OK;
}
