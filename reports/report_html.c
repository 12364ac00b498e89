/* report_html.c - index.html: the machines side by side, per-signature choices and their spread,
 * counters, layouts and tilings, cross-machine costs, the model's plans and memory, the sweep's cost. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "report_internal.h"

static void esc(FILE *f, const char *s)
{
    for (; s && *s; s++) switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f); break;
        }
}

/* Escaped text of at most max characters, the whole in a title attribute when cut. */
static void esc_cut(FILE *f, const char *s, size_t max)
{
    if (strlen(s) <= max) {
        esc(f, s);
        return;
    }
    char *cut = strndup(s, max);
    fputs("<span title=\"", f);
    esc(f, s);
    fputs("\">", f);
    esc(f, cut ? cut : "");
    fputs("&hellip;</span>", f);
    free(cut);
}

static void td_num(FILE *f, const char *text)
{
    fprintf(f, "<td class=\"num\">");
    esc(f, text);
    fprintf(f, "</td>");
}

static void charts_of(FILE *f, const ft_report_charts *ch, int section)
{
    for (int i = 0; i < ch->n; i++) {
        const ft_report_chart *c = &ch->c[i];
        if (c->section != section || !c->ok) continue;
        fprintf(f, "<div class=\"figure\"><img src=\"");
        esc(f, c->file);
        fprintf(f, "\" alt=\"");
        esc(f, c->title);
        fprintf(f, "\"><p class=\"caption\">");
        esc(f, c->caption);
        fprintf(f, "</p></div>\n");
    }
}

static void run_headers(FILE *f, const ft_report *r, int span)
{
    for (int u = 0; u < r->n_runs; u++) {
        fprintf(f, "<th colspan=\"%d\"%s>", span, r->runs[u].machine.emulated ? " class=\"emu\"" : "");
        esc(f, r->runs[u].label);
        if (r->runs[u].machine.emulated) fprintf(f, " (emulated: not representative)");
        fprintf(f, "</th>");
    }
}

static void sig_cell(FILE *f, const ft_report_sig *sg)
{
    fprintf(f, "<td><a href=\"#%s\">%s</a></td><td>", sg->label, sg->label);
    esc(f, sg->op);
    fprintf(f, "</td>");
}

static void machines(FILE *f, const ft_report *r)
{
    char b[2048];
    fprintf(f, "<h2 id=\"machines\">Machines</h2>\n<div class=\"scroll\"><table>\n<tr><th></th>");
    for (int u = 0; u < r->n_runs; u++) {
        fprintf(f, "<th%s>", r->runs[u].machine.emulated ? " class=\"emu\"" : "");
        esc(f, r->runs[u].label);
        fprintf(f, "</th>");
    }
    fprintf(f, "</tr>\n");
#define ROW(name, ...)                                                   \
    do {                                                                 \
        fprintf(f, "<tr><th>%s</th>", name);                             \
        for (int u = 0; u < r->n_runs; u++) {                            \
            const ft_report_run *ru = &r->runs[u];                       \
            const ft_machine *m = &ru->machine;                          \
            (void)m;                                                     \
            snprintf(b, sizeof b, __VA_ARGS__);                          \
            fprintf(f, "<td>");                                          \
            esc(f, b);                                                   \
            fprintf(f, "</td>");                                         \
        }                                                                \
        fprintf(f, "</tr>\n");                                           \
    } while (0)
    ROW("CPU", "%s %s", m->vendor, m->model_name);
    ROW("arch", "%s (family %d, model %d, stepping %d)", m->arch, m->family, m->model, m->stepping);
    ROW("ISA features", "%s", m->isa[0] ? m->isa : "-");
    ROW("logical CPUs", "%d", m->n_cpus);
    char c1[32], c2[32], c3[32];
    ROW("caches", "L1d %s, L2 %s, L3 %s (%s)", m->l1d_bytes ? ft_report_bytes_str((size_t)m->l1d_bytes, c1, sizeof c1) : "?",
        m->l2_bytes ? ft_report_bytes_str((size_t)m->l2_bytes, c2, sizeof c2) : "?",
        m->l3_bytes ? ft_report_bytes_str((size_t)m->l3_bytes, c3, sizeof c3) : "none", m->cache_source);
    ROW("virtual machine", "%s", m->hypervisor ? "yes" : "no");
    ROW("emulated", "%s", m->emulated ? "YES: timings not representative" : "no");
    ROW("OS kernel", "%s", m->kernel);
    ROW("machine id", "%.16s", m->id);
    ROW("build", "%.16s: %s, %s", ru->build_key, ru->compiler, ru->flags);
    ROW("counter tier", "hw %d, sw %d, none %d measurements%s", ru->n_tier[RP_TIER_HW], ru->n_tier[RP_TIER_SW],
        ru->n_tier[RP_TIER_NONE], ru->n_multiplexed ? " (some multiplexed)" : "");
    ROW("measurements", "%d OK, %d WRONG, %d CRASH, %d TIMEOUT, %d SKIPPED", ru->n_status[RP_OK], ru->n_status[RP_WRONG],
        ru->n_status[RP_CRASH], ru->n_status[RP_TIMEOUT], ru->n_status[RP_SKIPPED]);
    ROW("first seen", "%s", ru->first_seen);
    ROW("database", "%s%s", r->db_paths[ru->db], ru->n_duplicates ? " (and measurements repeated in later files)" : "");
#undef ROW
    fprintf(f, "</table></div>\n");
}

static void signatures(FILE *f, const ft_report *r, const ft_report_charts *ch)
{
    char b1[32], b2[32], b3[32];
    fprintf(f, "<h2 id=\"signatures\">Best candidate per signature</h2>\n<p>");
    if (r->has_model)
        fprintf(f, "Baseline: the candidate the registry's default plan runs for the model's nodes of that "
                   "signature (row-major, fastest family at default knobs). Where that candidate was not measured "
                   "OK, or the signature is not the model's (layout conversions), the baseline is the median of the "
                   "OK candidates and is marked <em>(median)</em>.");
    else
        fprintf(f, "Baseline: <strong>the median of the signature's OK candidates</strong>, because without "
                   "<code>--model</code> the report cannot know which candidate the default plan would run. Give "
                   "the model to compare against the registry default instead.");
    fprintf(f, " Times are medians of the samples, in microseconds per call.</p>\n");
    charts_of(f, ch, RP_SEC_SPEEDUP);
    fprintf(f, "<div class=\"scroll\"><table>\n<tr><th rowspan=\"2\">sig</th><th rowspan=\"2\">op</th>%s",
            r->has_model ? "<th rowspan=\"2\">nodes</th>" : "");
    run_headers(f, r, 4);
    fprintf(f, "</tr>\n<tr>");
    for (int u = 0; u < r->n_runs; u++) fprintf(f, "<th>best candidate</th><th>best µs</th><th>baseline µs</th><th>speedup</th>");
    fprintf(f, "</tr>\n");
    for (int k = 0; k < r->n_sigs; k++) {
        int s = r->sig_order[k];
        const ft_report_sig *sg = &r->sigs[s];
        fprintf(f, "<tr>");
        sig_cell(f, sg);
        if (r->has_model) fprintf(f, "<td class=\"num\">%d</td>", sg->model_nodes);
        for (int u = 0; u < r->n_runs; u++) {
            const ft_report_stat *st = ft_report_stat_at(r, s, u);
            if (st->best < 0) {
                fprintf(f, "<td colspan=\"4\" class=\"none\">%s</td>", st->n_meas ? "no OK candidate" : "not measured");
                continue;
            }
            fprintf(f, "<td class=\"key\">");
            esc_cut(f, r->cands[st->best].key, 30);
            fprintf(f, "</td>");
            td_num(f, ft_report_fmt_us(st->best_s, b1, sizeof b1));
            fprintf(f, "<td class=\"num\">%s%s</td>", ft_report_fmt_us(st->base_s, b2, sizeof b2),
                    r->has_model && st->base_kind == RP_BASE_MEDIAN ? " <em>(median)</em>" : "");
            td_num(f, ft_report_fmt_ratio(st->base_s / st->best_s, b3, sizeof b3));
        }
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table></div>\n");
}

static void spread(FILE *f, const ft_report *r, const ft_report_charts *ch)
{
    char b1[32], b2[32], b3[32], b4[32];
    fprintf(f, "<h2 id=\"spread\">How much the choice matters</h2>\n<p>The spread of the OK candidates' median "
               "times per signature: a large worst/best ratio means a wrong choice is expensive; a ratio near 1 means "
               "any candidate will do.</p>\n");
    charts_of(f, ch, RP_SEC_SPREAD);
    fprintf(f, "<div class=\"scroll\"><table>\n<tr><th rowspan=\"2\">sig</th><th rowspan=\"2\">op</th>");
    run_headers(f, r, 5);
    fprintf(f, "</tr>\n<tr>");
    for (int u = 0; u < r->n_runs; u++)
        fprintf(f, "<th>OK / measured</th><th>best µs</th><th>median µs</th><th>worst µs</th><th>worst / best</th>");
    fprintf(f, "</tr>\n");
    for (int k = 0; k < r->n_sigs; k++) {
        int s = r->sig_order[k];
        fprintf(f, "<tr>");
        sig_cell(f, &r->sigs[s]);
        for (int u = 0; u < r->n_runs; u++) {
            const ft_report_stat *st = ft_report_stat_at(r, s, u);
            fprintf(f, "<td class=\"num\">%d / %d</td>", st->n_ok, st->n_meas);
            td_num(f, ft_report_fmt_us(st->best_s, b1, sizeof b1));
            td_num(f, ft_report_fmt_us(st->median_s, b2, sizeof b2));
            td_num(f, ft_report_fmt_us(st->worst_s, b3, sizeof b3));
            td_num(f, ft_report_fmt_ratio(st->worst_s / st->best_s, b4, sizeof b4));
        }
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table></div>\n");
}

static void fmt_val(double v, const char *fmt, char *buf, size_t n)
{
    if (isfinite(v)) snprintf(buf, n, fmt, v);
    else snprintf(buf, n, "-");
}

static void counters(FILE *f, const ft_report *r, const ft_report_charts *ch)
{
    fprintf(f, "<h2 id=\"counters\">Counters</h2>\n<p>Per call of the best candidate (and of the baseline where it "
               "is a measured candidate). IPC = instructions / cycles; misses per 1000 instructions (MPKI). The "
               "<em>hw</em> tier reads the PMU; <em>sw</em> (a VM without a PMU) has only task-clock and page "
               "faults; <em>none</em> has no counters. Events recorded: ");
    for (int i = 0; i < r->n_events; i++) {
        fprintf(f, "%s<code>", i ? ", " : "");
        esc(f, r->events[i]);
        fprintf(f, "</code>");
    }
    fprintf(f, "%s.</p>\n", r->n_events ? "" : "none");
    charts_of(f, ch, RP_SEC_COUNTERS);
    fprintf(f, "<div class=\"scroll\"><table>\n<tr><th>sig</th><th>op</th><th>machine</th><th>which</th>"
               "<th>candidate</th><th>tier</th><th>µs</th><th>IPC</th><th>L1D MPKI</th><th>LLC MPKI</th>"
               "<th>dTLB MPKI</th><th>task-clock µs</th><th>page faults</th></tr>\n");
    for (int k = 0; k < r->n_sigs; k++) {
        int s = r->sig_order[k];
        for (int u = 0; u < r->n_runs; u++) {
            const ft_report_stat *st = ft_report_stat_at(r, s, u);
            int which[2] = {st->best, st->base_kind == RP_BASE_DEFAULT && st->base != st->best ? st->base : -1};
            for (int w = 0; w < 2; w++) {
                if (which[w] < 0) continue;
                const ft_report_meas *m = ft_report_meas_at(r, u, which[w]);
                const ft_report_counters *c = &m->ctr;
                double ki = c->instructions / 1000.0;
                char v[7][32];
                ft_report_fmt_us(m->median_s, v[0], sizeof v[0]);
                fmt_val(c->cycles > 0 ? c->instructions / c->cycles : NAN, "%.2f", v[1], sizeof v[1]);
                fmt_val(ki > 0 ? c->l1d_misses / ki : NAN, "%.2f", v[2], sizeof v[2]);
                fmt_val(ki > 0 ? c->llc_misses / ki : NAN, "%.3f", v[3], sizeof v[3]);
                fmt_val(ki > 0 ? c->dtlb_misses / ki : NAN, "%.3f", v[4], sizeof v[4]);
                fmt_val(c->task_clock_ns / 1000.0, "%.3f", v[5], sizeof v[5]);
                fmt_val(c->page_faults, "%.3g", v[6], sizeof v[6]);
                fprintf(f, "<tr>");
                sig_cell(f, &r->sigs[s]);
                fprintf(f, "<td>%s</td><td>%s</td><td class=\"key\">", r->runs[u].label, w ? "default" : "best");
                esc_cut(f, r->cands[which[w]].key, 48);
                fprintf(f, "</td><td>%s%s</td>", ft_report_tier_names[m->tier], m->multiplexed ? " (mux)" : "");
                for (int i = 0; i < 7; i++) td_num(f, v[i]);
                fprintf(f, "</tr>\n");
            }
        }
    }
    fprintf(f, "</table></div>\n");
}

static void choices(FILE *f, const ft_report *r, const ft_report_charts *ch)
{
    fprintf(f, "<h2 id=\"choices\">Layouts and tilings chosen</h2>\n");
    int n_all = 0, n_disagree = 0;
    for (int s = 0; s < r->n_sigs; s++) {
        int first = -1, all = 1, differ = 0;
        for (int u = 0; u < r->n_runs; u++) {
            int b = ft_report_stat_at(r, s, u)->best;
            if (b < 0) all = 0;
            else if (first < 0) first = b;
            else if (b != first) differ = 1;
        }
        if (all && r->n_runs > 1) {
            n_all++;
            n_disagree += differ;
        }
    }
    if (r->n_runs > 1)
        fprintf(f, "<p>Of the %d signatures with an OK candidate on every machine, the machines choose differently "
                   "on <strong>%d</strong>; those rows are highlighted.</p>\n",
                n_all, n_disagree);
    fprintf(f, "<table>\n<tr><th>machine</th><th>signatures with a choice</th><th>non-row-major layout chosen</th>"
               "<th>families chosen (count)</th></tr>\n");
    for (int u = 0; u < r->n_runs; u++) {
        int n = 0, nrm = 0;
        char fams[1024] = "";
        for (int s = 0; s < r->n_sigs; s++) {
            int b = ft_report_stat_at(r, s, u)->best;
            if (b < 0) continue;
            n++;
            nrm += !r->cands[b].row_major;
        }
        /* family counts, in order of first appearance */
        for (int k = 0; k < r->n_sigs; k++) {
            int b = ft_report_stat_at(r, r->sig_order[k], u)->best;
            if (b < 0) continue;
            const char *fam = r->cands[b].family;
            int seen = 0;
            for (int j = 0; j < k && !seen; j++) {
                int b2 = ft_report_stat_at(r, r->sig_order[j], u)->best;
                seen = b2 >= 0 && strcmp(r->cands[b2].family, fam) == 0;
            }
            if (seen) continue;
            int cnt = 0;
            for (int j = k; j < r->n_sigs; j++) {
                int b2 = ft_report_stat_at(r, r->sig_order[j], u)->best;
                cnt += b2 >= 0 && strcmp(r->cands[b2].family, fam) == 0;
            }
            size_t o = strlen(fams);
            snprintf(fams + o, sizeof fams - o, "%s%s (%d)", o ? ", " : "", fam, cnt);
        }
        fprintf(f, "<tr><td>%s</td><td class=\"num\">%d</td><td class=\"num\">%d</td><td>", r->runs[u].label, n, nrm);
        esc(f, fams);
        fprintf(f, "</td></tr>\n");
    }
    fprintf(f, "</table>\n");
    charts_of(f, ch, RP_SEC_CHOICES);
    fprintf(f, "<div class=\"scroll\"><table>\n<tr><th rowspan=\"2\">sig</th><th rowspan=\"2\">op</th>");
    run_headers(f, r, 3);
    fprintf(f, "</tr>\n<tr>");
    for (int u = 0; u < r->n_runs; u++) fprintf(f, "<th>family</th><th>layouts</th><th>tiling (key)</th>");
    fprintf(f, "</tr>\n");
    for (int k = 0; k < r->n_sigs; k++) {
        int s = r->sig_order[k];
        int first = -1, differ = 0;
        for (int u = 0; u < r->n_runs; u++) {
            int b = ft_report_stat_at(r, s, u)->best;
            if (b < 0) continue;
            if (first < 0) first = b;
            else if (b != first) differ = 1;
        }
        fprintf(f, "<tr%s>", differ ? " class=\"differ\"" : "");
        sig_cell(f, &r->sigs[s]);
        for (int u = 0; u < r->n_runs; u++) {
            int b = ft_report_stat_at(r, s, u)->best;
            if (b < 0) {
                fprintf(f, "<td colspan=\"3\" class=\"none\">-</td>");
                continue;
            }
            const ft_report_cand *c = &r->cands[b];
            fprintf(f, "<td>");
            esc(f, c->family);
            fprintf(f, "</td><td%s>", c->row_major ? "" : " class=\"layout\"");
            esc(f, c->layouts);
            fprintf(f, "</td><td class=\"key\">");
            esc_cut(f, c->key, 48);
            fprintf(f, "</td>");
        }
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table></div>\n");
}

static void cross(FILE *f, const ft_report *r, const ft_report_charts *ch)
{
    char b1[32], b2[32], b3[32];
    fprintf(f, "<h2 id=\"cross\">Cross-machine: each machine's choices on the others</h2>\n<p>From the measurements "
               "alone: for every signature that both machines measured, the row machine's best candidate is timed "
               "with the column machine's measurement of that same candidate, summed%s, and divided by the column "
               "machine's own best on the same signatures. 1.00x on the diagonal; above 1 is what using another "
               "machine's tuning costs.%s</p>\n",
            r->has_model ? " with each signature weighted by how many of the model's nodes use it (signatures the "
                           "model does not use are left out)"
                         : " (each signature once)",
            r->n_runs < 2 ? " Only one machine: nothing to compare." : "");
    charts_of(f, ch, RP_SEC_CROSS);
    fprintf(f, "<table>\n<tr><th>choices of \\ timed on</th>");
    for (int b = 0; b < r->n_runs; b++) fprintf(f, "<th>%s</th>", r->runs[b].label);
    fprintf(f, "</tr>\n");
    for (int a = 0; a < r->n_runs; a++) {
        fprintf(f, "<tr><th>%s</th>", r->runs[a].label);
        for (int b = 0; b < r->n_runs; b++) {
            double on_b, own, ratio;
            int missing, common;
            ft_report_cross(r, a, b, &on_b, &own, &ratio, &missing, &common);
            fprintf(f, "<td class=\"num\">%s<br><small>%s µs vs %s µs, %d sigs%s</small></td>",
                    ft_report_fmt_ratio(ratio, b1, sizeof b1), ft_report_fmt_us(on_b, b2, sizeof b2),
                    ft_report_fmt_us(own, b3, sizeof b3), common - missing, missing ? ", some not measured" : "");
        }
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table>\n");
}

static void model(FILE *f, const ft_report *r, const ft_report_charts *ch)
{
    char b1[32], b2[32], b3[32], b4[32];
    fprintf(f, "<h2 id=\"model\">Model: ");
    esc(f, r->model_label);
    fprintf(f, "</h2>\n<p>SHA-256 <code>%.16s…</code>, %d compute nodes. Solved once per machine from that machine's "
               "measurements (the same exact whole-graph solver as <code>fluidtune solve</code>). Predicted times are "
               "sums of measured medians: they leave out what happens between kernels. The candidates solved over "
               "are those this fluidtune build enumerates on this host: kernels another machine measured that this "
               "host does not offer (another ISA) cannot be chosen here.</p>\n",
            r->model_sha256, r->model_nodes);
    fprintf(f, "<table>\n<tr><th>machine</th><th>default plan µs</th><th>tuned plan µs</th><th>speedup</th>"
               "<th>FluidML-style greedy µs</th><th>conversions</th><th>note</th></tr>\n");
    for (int u = 0; u < r->n_runs; u++) {
        const ft_report_model_run *m = &r->mruns[u];
        fprintf(f, "<tr><td>%s</td>", r->runs[u].label);
        if (!m->ok) {
            fprintf(f, "<td colspan=\"5\" class=\"none\">-</td><td>");
            esc(f, m->note);
            fprintf(f, "</td></tr>\n");
            continue;
        }
        snprintf(b1, sizeof b1, "%.3f", m->default_s * 1e6);
        snprintf(b2, sizeof b2, "%.3f", m->predicted_s * 1e6);
        snprintf(b4, sizeof b4, "%.3f", m->greedy_s * 1e6);
        td_num(f, b1);
        td_num(f, b2);
        td_num(f, ft_report_fmt_ratio(m->default_s / m->predicted_s, b3, sizeof b3));
        td_num(f, b4);
        fprintf(f, "<td class=\"num\">%d</td><td>", m->n_conversions);
        esc(f, m->note);
        if (m->n_default_unmeasured)
            fprintf(f, "%s%d default kernels never measured (left out of the default plan)", m->note[0] ? "; " : "",
                    m->n_default_unmeasured);
        if (r->runs[u].machine.emulated) fprintf(f, "; emulated: not representative");
        fprintf(f, "</td></tr>\n");
    }
    fprintf(f, "</table>\n<h3>Per op type (µs per inference)</h3>\n");
    charts_of(f, ch, RP_SEC_MODEL);
    fprintf(f, "<div class=\"scroll\"><table>\n<tr><th rowspan=\"2\">op type</th>");
    run_headers(f, r, 3);
    fprintf(f, "</tr>\n<tr>");
    for (int u = 0; u < r->n_runs; u++) fprintf(f, "<th>default</th><th>tuned</th><th>speedup</th>");
    fprintf(f, "</tr>\n");
    for (int o = 0; o <= r->n_model_ops; o++) {
        fputs(o == r->n_model_ops ? "<tr class=\"total\"><th>sum</th>" : "<tr><td>", f);
        if (o < r->n_model_ops) {
            esc(f, r->model_ops[o]);
            fprintf(f, "</td>");
        }
        for (int u = 0; u < r->n_runs; u++) {
            const ft_report_model_run *m = &r->mruns[u];
            if (!m->ok) {
                fprintf(f, "<td colspan=\"3\" class=\"none\">-</td>");
                continue;
            }
            double d = 0, t = 0;
            for (int k = 0; k < r->n_model_ops; k++)
                if (k == o || o == r->n_model_ops) {
                    d += m->default_by_op[k];
                    t += m->tuned_by_op[k];
                }
            if (d == 0 && t == 0) {
                fprintf(f, "<td colspan=\"3\" class=\"none\">not measured</td>");
                continue;
            }
            snprintf(b1, sizeof b1, "%.3f", d * 1e6);
            snprintf(b2, sizeof b2, "%.3f", t * 1e6);
            td_num(f, b1);
            td_num(f, b2);
            td_num(f, t > 0 ? ft_report_fmt_ratio(d / t, b3, sizeof b3) : "-");
        }
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table></div>\n<h3 id=\"memory\">Memory plan</h3>\n<p>One arena for every activation; tensors whose "
               "lifetimes do not overlap share bytes. The lower bound is the most bytes alive at any one step: no "
               "plan can use less.</p>\n<table>\n<tr><th>machine</th><th>arena</th><th>lower bound</th>"
               "<th>arena / bound</th><th>without reuse</th><th>saved vs no reuse</th><th>tensors</th></tr>\n");
    for (int u = 0; u < r->n_runs; u++) {
        const ft_report_model_run *m = &r->mruns[u];
        if (!m->ok) continue;
        fprintf(f, "<tr><td>%s</td>", r->runs[u].label);
        td_num(f, ft_report_bytes_str(m->arena_bytes, b1, sizeof b1));
        td_num(f, ft_report_bytes_str(m->lower_bound_bytes, b2, sizeof b2));
        snprintf(b3, sizeof b3, "%.3f", m->lower_bound_bytes ? (double)m->arena_bytes / (double)m->lower_bound_bytes : 1.0);
        td_num(f, b3);
        td_num(f, ft_report_bytes_str(m->no_reuse_bytes, b4, sizeof b4));
        snprintf(b1, sizeof b1, "%.1f%%",
                 m->no_reuse_bytes ? 100.0 * (1.0 - (double)m->arena_bytes / (double)m->no_reuse_bytes) : 0.0);
        td_num(f, b1);
        fprintf(f, "<td class=\"num\">%d</td></tr>\n", m->n_rects);
    }
    fprintf(f, "</table>\n");
    charts_of(f, ch, RP_SEC_MEMORY);
    if (r->n_runs > 1) {
        fprintf(f, "<h3>Each machine's plan on the others (µs)</h3>\n<p>Every node of the row machine's solved plan "
                   "(conversions included) timed with the column machine's measurements of the same kernels. Nodes "
                   "whose kernel the column machine never measured OK are left out and counted.</p>\n"
                   "<table>\n<tr><th>plan of \\ timed on</th>");
        for (int b = 0; b < r->n_runs; b++) fprintf(f, "<th>%s</th>", r->runs[b].label);
        fprintf(f, "</tr>\n");
        for (int a = 0; a < r->n_runs; a++) {
            const ft_report_model_run *m = &r->mruns[a];
            if (!m->ok) continue;
            fprintf(f, "<tr><th>%s</th>", r->runs[a].label);
            for (int b = 0; b < r->n_runs; b++) {
                const ft_report_model_run *own = &r->mruns[b];
                fprintf(f, "<td class=\"num\">%.3f", m->cross_s[b] * 1e6);
                /* a ratio over different sets of nodes would flatter the plan with more of them left out */
                if (own->ok && own->cross_s[b] > 0 && m->cross_missing[b] == own->cross_missing[b])
                    fprintf(f, " (%s)", ft_report_fmt_ratio(m->cross_s[b] / own->cross_s[b], b1, sizeof b1));
                if (m->cross_missing[b]) fprintf(f, "<br><small>%d nodes not measured</small>", m->cross_missing[b]);
                fprintf(f, "</td>");
            }
            fprintf(f, "</tr>\n");
        }
        fprintf(f, "</table>\n");
    }
}

static void sweep_cost(FILE *f, const ft_report *r, const ft_report_charts *ch)
{
    fprintf(f, "<h2 id=\"sweep\">The sweep's own cost</h2>\n<table>\n<tr><th>machine</th><th>sweeps (done)</th>"
               "<th>models</th><th>wall time</th><th>inside timed calls</th><th>candidates measured</th>"
               "<th>not OK</th></tr>\n");
    for (int u = 0; u < r->n_runs; u++) {
        const ft_report_run *ru = &r->runs[u];
        int total = 0;
        for (int i = 0; i < RP_N_STATUS; i++) total += ru->n_status[i];
        fprintf(f, "<tr><td>%s</td><td class=\"num\">%d (%d)%s</td><td>", ru->label, ru->n_sweeps, ru->n_sweeps_done,
                ru->n_sweeps_unfinished ? " <em>some unfinished</em>" : "");
        esc(f, ru->models[0] ? ru->models : "-");
        fprintf(f, "</td><td class=\"num\">%.1f s</td><td class=\"num\">%.2f s</td><td class=\"num\">%d</td>"
                   "<td class=\"num\">%d</td></tr>\n",
                ru->sweep_wall_s, ru->measured_s, total, total - ru->n_status[RP_OK]);
    }
    fprintf(f, "</table>\n");
    charts_of(f, ch, RP_SEC_SWEEP);
}

static void legend(FILE *f, const ft_report *r)
{
    fprintf(f, "<h2 id=\"legend\">Signatures</h2>\n<p>Canonical text: op:opset(inputs, 'c' = constant)-&gt;(outputs); "
               "attributes.</p>\n<table>\n<tr><th>sig</th><th>op</th>%s<th>signature</th><th>candidates</th></tr>\n",
            r->has_model ? "<th>model nodes</th>" : "");
    for (int k = 0; k < r->n_sigs; k++) {
        const ft_report_sig *sg = &r->sigs[r->sig_order[k]];
        fprintf(f, "<tr id=\"%s\"><td>%s</td><td>", sg->label, sg->label);
        esc(f, sg->op);
        fprintf(f, "</td>");
        if (r->has_model) fprintf(f, "<td class=\"num\">%d</td>", sg->model_nodes);
        fprintf(f, "<td><code class=\"sig\">");
        esc(f, sg->text);
        fprintf(f, "</code></td><td class=\"num\">%d</td></tr>\n", sg->n_cands);
    }
    fprintf(f, "</table>\n");
}

static const char style[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1400px;"
    "padding:0 1em;color:#222;line-height:1.4}\n"
    "h1{margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}\n"
    "table{border-collapse:collapse;margin:.8em 0;font-size:13px}\n"
    "th,td{border:1px solid #ddd;padding:3px 7px;vertical-align:top}th{background:#f3f3f3;text-align:left}\n"
    "td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "td.key{font-family:monospace;font-size:11px}td.none{color:#999;text-align:center}\n"
    "td.layout{background:#eef6ff}tr.differ td{background:#fff6e0}tr.total td,tr.total th{font-weight:bold}\n"
    "th.emu{background:#ffe0e0}code.sig{font-size:12px;word-break:break-all}\n"
    ".scroll{overflow-x:auto}.warn{background:#ffe9e9;border-left:4px solid #d7301f;padding:.5em 1em}\n"
    ".note{background:#f0f4ff;border-left:4px solid #4a6fd1;padding:.5em 1em}\n"
    "div.figure{margin:1em 0}div.figure img{max-width:100%;border:1px solid #eee}\n"
    "p.caption{font-size:13px;color:#555;margin-top:.2em}.nav a{margin-right:1em}.meta{color:#555}\n";

int ft_report_write_html(const ft_report *r, const char *dir, const ft_report_charts *ch, const ft_report_written *w,
                         ft_error *err)
{
    char path[4096], now[32];
    snprintf(path, sizeof path, "%s/index.html", dir);
    FILE *f = fopen(path, "w");
    if (!f) return ft_fail(err, FT_ERR_FAIL, "%s: cannot write: %s", path, strerror(errno));
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>fluidtune report</title>\n"
               "<style>\n%s</style>\n</head>\n<body>\n<h1>fluidtune report</h1>\n<p class=\"meta\">Generated %s from ",
            style, ft_db_now(now, sizeof now));
    for (int i = 0; i < r->n_dbs; i++) {
        fprintf(f, "%s<code>", i ? ", " : "");
        esc(f, r->db_paths[i]);
        fprintf(f, "</code>");
    }
    fprintf(f, ": %d machine%s (machine + kernel build), %d signatures, %d candidates.", r->n_runs,
            r->n_runs == 1 ? "" : "s", r->n_sigs, r->n_cands);
    if (r->has_model) {
        fprintf(f, " Model <code>");
        esc(f, r->model_label);
        fprintf(f, "</code>.");
    }
    fprintf(f, " <a href=\"summary.md\">summary.md</a></p>\n");
    for (int u = 0; u < r->n_runs; u++)
        if (r->runs[u].machine.emulated)
            fprintf(f, "<p class=\"warn\"><strong>%s ran under CPU emulation: its timings are not representative</strong> "
                       "of any real CPU; compare its choices, not its times.</p>\n",
                    r->runs[u].label);
    if (w->note[0]) {
        fprintf(f, "<p class=\"note\">");
        esc(f, w->note);
        fprintf(f, "</p>\n");
    }
    fprintf(f, "<div class=\"nav\"><a href=\"#machines\">Machines</a><a href=\"#signatures\">Best per signature</a>"
               "<a href=\"#spread\">Spread</a><a href=\"#counters\">Counters</a><a href=\"#choices\">Layouts and "
               "tilings</a><a href=\"#cross\">Cross-machine</a>%s<a href=\"#sweep\">Sweep cost</a>"
               "<a href=\"#legend\">Signatures</a></div>\n",
            r->has_model ? "<a href=\"#model\">Model</a><a href=\"#memory\">Memory</a>" : "");
    machines(f, r);
    signatures(f, r, ch);
    spread(f, r, ch);
    counters(f, r, ch);
    choices(f, r, ch);
    cross(f, r, ch);
    if (r->has_model) model(f, r, ch);
    sweep_cost(f, r, ch);
    legend(f, r);
    fprintf(f, "</body>\n</html>\n");
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) return ft_fail(err, FT_ERR_FAIL, "%s: write failed", path);
    return FT_OK;
}
