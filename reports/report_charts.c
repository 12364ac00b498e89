/* report_charts.c - the report's charts: a .dat and a .gp per chart written into the report folder,
 * rendered to SVG by gnuplot run as an external program (found on PATH, or not, in which case the
 * report goes without charts). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report_internal.h"

/* Looks name up the way execvp would; 1 and the full path when found and executable. */
static int find_program(const char *name, char *path, size_t n)
{
    if (strchr(name, '/')) {
        snprintf(path, n, "%s", name);
        return access(path, X_OK) == 0;
    }
    const char *env = getenv("PATH");
    if (!env) env = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = env; *p;) {
        const char *e = strchr(p, ':');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len > 0 && len < n - 2) {
            snprintf(path, n, "%.*s/%s", (int)len, p, name);
            struct stat sb;
            if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && access(path, X_OK) == 0) return 1;
        }
        if (!e) break;
        p = e + 1;
    }
    return 0;
}

/* Runs `program script` inside dir with stdout and stderr appended to dir/gnuplot.log. */
static int run_gnuplot(const char *program, const char *dir, const char *script)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (chdir(dir) != 0) _exit(126);
        int log = open("gnuplot.log", O_WRONLY | O_CREAT | O_APPEND, 0644);
        int null = open("/dev/null", O_RDONLY);
        if (log >= 0) {
            dup2(log, 1);
            dup2(log, 2);
        }
        if (null >= 0) dup2(null, 0);
        execl(program, program, script, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Text safe inside a gnuplot double-quoted string (and free of enhanced-text markup). */
static const char *gp_text(const char *s, char *buf, size_t n)
{
    size_t o = 0;
    for (; *s && o + 1 < n; s++) buf[o++] = (*s == '"' || *s == '\\' || (unsigned char)*s < 32) ? '\'' : *s;
    buf[o] = 0;
    return buf;
}

typedef struct chart_file {
    FILE *dat, *gp;
    char dat_name[80], gp_name[80];
} chart_file;

static int open_chart(const char *dir, const char *stem, chart_file *cf, ft_error *err)
{
    char path[4096];
    memset(cf, 0, sizeof *cf);
    snprintf(cf->dat_name, sizeof cf->dat_name, "%s.dat", stem);
    snprintf(cf->gp_name, sizeof cf->gp_name, "%s.gp", stem);
    snprintf(path, sizeof path, "%s/%s", dir, cf->dat_name);
    cf->dat = fopen(path, "w");
    if (!cf->dat) return ft_fail(err, FT_ERR_FAIL, "%s: cannot write: %s", path, strerror(errno));
    snprintf(path, sizeof path, "%s/%s", dir, cf->gp_name);
    cf->gp = fopen(path, "w");
    if (!cf->gp) {
        fclose(cf->dat);
        cf->dat = NULL;
        return ft_fail(err, FT_ERR_FAIL, "%s: cannot write: %s", path, strerror(errno));
    }
    return FT_OK;
}

static int close_chart(const char *dir, chart_file *cf, ft_error *err)
{
    int bad = 0;
    if (cf->dat && (ferror(cf->dat) | fclose(cf->dat))) bad = 1;
    if (cf->gp && (ferror(cf->gp) | fclose(cf->gp))) bad = 1;
    cf->dat = cf->gp = NULL;
    if (bad) return ft_fail(err, FT_ERR_FAIL, "%s/%s: write failed", dir, cf->gp_name);
    return FT_OK;
}

static void gp_header(FILE *f, const char *svg, int width, int height, const char *title)
{
    char t[256];
    fprintf(f,
            "# written by fluidtune report; render with: gnuplot %.*s.gp\n"
            "set terminal svg size %d,%d fixed font 'sans,11' background rgb 'white'\n"
            "set output '%s'\n"
            "set encoding utf8\n"
            "set datafile missing '?'\n"
            "set title \"%s\" noenhanced\n"
            "set key noenhanced\n"
            "set grid ytics lc rgb '#dddddd'\n"
            "set border 3\nset tics nomirror\n"
            /* sixteen distinguishable colours: stacked bars of many op types must not repeat one */
            "set linetype 1 lc rgb '#4e79a7'\nset linetype 2 lc rgb '#f28e2b'\nset linetype 3 lc rgb '#59a14f'\n"
            "set linetype 4 lc rgb '#e15759'\nset linetype 5 lc rgb '#76b7b2'\nset linetype 6 lc rgb '#edc948'\n"
            "set linetype 7 lc rgb '#b07aa1'\nset linetype 8 lc rgb '#ff9da7'\nset linetype 9 lc rgb '#9c755f'\n"
            "set linetype 10 lc rgb '#bab0ac'\nset linetype 11 lc rgb '#1f3a93'\nset linetype 12 lc rgb '#8cd17d'\n"
            "set linetype 13 lc rgb '#d37295'\nset linetype 14 lc rgb '#2f2f2f'\nset linetype 15 lc rgb '#a0cbe8'\n"
            "set linetype 16 lc rgb '#b6992d'\nset linetype cycle 16\n",
            (int)(strlen(svg) - 4), svg, width, height, svg, gp_text(title, t, sizeof t));
}

static ft_report_chart *add_chart(ft_report_charts *ch, const char *file, int section, const char *title,
                                  const char *caption_fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

static ft_report_chart *add_chart(ft_report_charts *ch, const char *file, int section, const char *title,
                                  const char *caption_fmt, ...)
{
    if (ch->n >= FT_REPORT_MAX_CHARTS) return NULL;
    ft_report_chart *c = &ch->c[ch->n++];
    memset(c, 0, sizeof *c);
    snprintf(c->file, sizeof c->file, "%s", file);
    snprintf(c->title, sizeof c->title, "%s", title);
    c->section = section;
    va_list ap;
    va_start(ap, caption_fmt);
    vsnprintf(c->caption, sizeof c->caption, caption_fmt, ap);
    va_end(ap);
    return c;
}

static int clamp_width(int w)
{
    return w < 800 ? 800 : w > 1360 ? 1360 : w;
}

static void sig_xtics(const ft_report *r, FILE *gp, const int *sigs, int n)
{
    fprintf(gp, "set xtics rotate by -60 font ',9' (");
    for (int i = 0; i < n; i++) fprintf(gp, "%s\"%s\" %d", i ? ", " : "", r->sigs[sigs[i]].label, i);
    fprintf(gp, ")\n");
}

static void put_num(FILE *f, double v)
{
    if (isfinite(v)) fprintf(f, " %.9g", v);
    else fprintf(f, " ?");
}

/* Signatures in display order that have an OK candidate on some run. */
static int measured_sigs(const ft_report *r, int *out)
{
    int n = 0;
    for (int k = 0; k < r->n_sigs; k++) {
        int s = r->sig_order[k];
        for (int u = 0; u < r->n_runs; u++)
            if (ft_report_stat_at(r, s, u)->best >= 0) {
                out[n++] = s;
                break;
            }
    }
    return n;
}

static int chart_speedup(const ft_report *r, const char *dir, const int *sigs, int n, ft_report_charts *ch,
                         ft_error *err)
{
    chart_file cf;
    int rc = open_chart(dir, "speedup", &cf, err);
    if (rc != FT_OK) return rc;
    fprintf(cf.dat, "sig");
    for (int u = 0; u < r->n_runs; u++) fprintf(cf.dat, " \"%s\"", r->runs[u].label);
    fprintf(cf.dat, "\n");
    for (int i = 0; i < n; i++) {
        fprintf(cf.dat, "%s", r->sigs[sigs[i]].label);
        for (int u = 0; u < r->n_runs; u++) {
            const ft_report_stat *st = ft_report_stat_at(r, sigs[i], u);
            put_num(cf.dat, st->best >= 0 && st->best_s > 0 ? st->base_s / st->best_s : NAN);
        }
        fprintf(cf.dat, "\n");
    }
    gp_header(cf.gp, "speedup.svg", clamp_width(160 + n * (10 * r->n_runs + 14)), 420,
              r->has_model ? "Best candidate vs the registry default, per signature"
                           : "Best candidate vs the median candidate, per signature");
    fprintf(cf.gp,
            "set style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.85 border -1\n"
            "set key top right\nset ylabel 'speedup (x)'\nset yrange [0:*]\n"
            "set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb 'black'\n"
            "set xtics rotate by -60 font ',9'\n"
            "plot for [i=2:%d] '%s' using i:xtic(1) title columnheader(i)\n",
            r->n_runs + 1, cf.dat_name);
    rc = close_chart(dir, &cf, err);
    add_chart(ch, "speedup.svg", RP_SEC_SPEEDUP, "Speedup per signature",
              "Median time of the baseline (%s) divided by the best candidate's, per signature and machine; "
              "the dashed line is 1x.",
              r->has_model ? "the registry default where it was measured, else the median OK candidate"
                           : "the median of the OK candidates");
    return rc;
}

static int chart_spread(const ft_report *r, const char *dir, const int *sigs, int n, ft_report_charts *ch,
                        ft_error *err)
{
    chart_file cf;
    int rc = open_chart(dir, "spread", &cf, err);
    if (rc != FT_OK) return rc;
    fprintf(cf.dat, "# sig_index run_index median_over_best\n");
    for (int i = 0; i < n; i++) {
        const ft_report_sig *sg = &r->sigs[sigs[i]];
        for (int u = 0; u < r->n_runs; u++) {
            const ft_report_stat *st = ft_report_stat_at(r, sigs[i], u);
            if (st->best < 0) continue;
            for (int k = 0; k < sg->n_cands; k++) {
                const ft_report_meas *m = ft_report_meas_at(r, u, sg->cands[k]);
                if (m->present && m->status == RP_OK && isfinite(m->median_s))
                    fprintf(cf.dat, "%d %d %.9g\n", i, u, m->median_s / st->best_s);
            }
        }
    }
    gp_header(cf.gp, "spread.svg", clamp_width(160 + n * (8 * r->n_runs + 16)), 420, "Spread of candidate times per signature");
    sig_xtics(r, cf.gp, sigs, n);
    fprintf(cf.gp, "set logscale y\nset ylabel 'candidate median / best median (log)'\nset xrange [-1:%d]\n"
                   "set key top right\nN = %d\n",
            n, r->n_runs);
    fprintf(cf.gp, "plot for [u=0:N-1] '%s' using ($1 + 0.5*(u - (N-1)/2.0)/N):($2 == u ? $3 : 1/0) with points "
                   "pt 7 ps 0.45 title sprintf('M%%d', u + 1)\n",
            cf.dat_name);
    rc = close_chart(dir, &cf, err);
    add_chart(ch, "spread.svg", RP_SEC_SPREAD, "How much the choice matters",
              "Every OK candidate's median time over the signature's best (1 = the best; higher = what a wrong "
              "choice costs), one point per candidate, machines side by side.");
    return rc;
}

static int has_ipc(const ft_report_meas *m)
{
    return m->present && m->status == RP_OK && m->ctr.cycles > 0 && isfinite(m->ctr.instructions) &&
           isfinite(m->median_s);
}

static int run_has_ipc(const ft_report *r, int u)
{
    for (int c = 0; c < r->n_cands; c++)
        if (has_ipc(ft_report_meas_at(r, u, c)) && ft_report_stat_at(r, r->cands[c].sig, u)->best >= 0) return 1;
    return 0;
}

static int chart_ipc(const ft_report *r, const char *dir, ft_report_charts *ch, ft_error *err)
{
    int any = 0;
    for (int u = 0; u < r->n_runs && !any; u++) any = run_has_ipc(r, u);
    if (!any) return FT_OK;
    chart_file cf;
    int rc = open_chart(dir, "ipc", &cf, err);
    if (rc != FT_OK) return rc;
    fprintf(cf.dat, "# run_index median_over_best ipc\n");
    for (int u = 0; u < r->n_runs; u++)
        for (int c = 0; c < r->n_cands; c++) {
            const ft_report_meas *m = ft_report_meas_at(r, u, c);
            const ft_report_stat *st = ft_report_stat_at(r, r->cands[c].sig, u);
            if (!has_ipc(m) || st->best < 0) continue;
            fprintf(cf.dat, "%d %.9g %.6g\n", u, m->median_s / st->best_s, m->ctr.instructions / m->ctr.cycles);
        }
    gp_header(cf.gp, "ipc.svg", 900, 420, "Instructions per cycle against time");
    fprintf(cf.gp, "set logscale x\nset xlabel 'candidate median / best median of its signature (log)'\n"
                   "set ylabel 'IPC'\nset key top right\nplot");
    /* one series per machine with hardware counters, each in its machine's colour */
    int first = 1;
    for (int u = 0; u < r->n_runs; u++) {
        if (!run_has_ipc(r, u)) continue;
        fprintf(cf.gp, "%s '%s' using 2:($1 == %d ? $3 : 1/0) with points pt 7 ps 0.5 lt %d title '%s'", first ? "" : ",",
                cf.dat_name, u, u + 1, r->runs[u].label);
        first = 0;
    }
    fprintf(cf.gp, "\n");
    rc = close_chart(dir, &cf, err);
    add_chart(ch, "ipc.svg", RP_SEC_COUNTERS, "IPC against time",
              "Each OK candidate measured with hardware counters: its instructions per cycle against how far it "
              "is from its signature's best. Fast candidates with low IPC do less work; slow ones with high IPC "
              "do more.");
    return rc;
}

static int chart_cross(const ft_report *r, const char *dir, ft_report_charts *ch, ft_error *err)
{
    if (r->n_runs < 2) return FT_OK;
    chart_file cf;
    int rc = open_chart(dir, "cross", &cf, err);
    if (rc != FT_OK) return rc;
    double hi = 1.0;
    fprintf(cf.dat, "# plan_of_run evaluated_on_run ratio_to_own_best\n");
    for (int a = 0; a < r->n_runs; a++)
        for (int b = 0; b < r->n_runs; b++) {
            double on_b, own, ratio;
            int missing, common;
            ft_report_cross(r, a, b, &on_b, &own, &ratio, &missing, &common);
            if (!isfinite(ratio)) continue;
            if (ratio > hi) hi = ratio;
            fprintf(cf.dat, "%d %d %.6g %d\n", b, a, ratio, missing);
        }
    gp_header(cf.gp, "cross.svg", 200 + 110 * r->n_runs, 160 + 90 * r->n_runs,
              "Each machine's choices timed on every machine");
    fprintf(cf.gp, "set xlabel 'timed on'\nset ylabel 'choices of'\nunset key\nset grid noytics\n"
                   "set xrange [-0.5:%g]\nset yrange [%g:-0.5]\nset xtics (",
            r->n_runs - 0.5, r->n_runs - 0.5);
    for (int u = 0; u < r->n_runs; u++) fprintf(cf.gp, "%s\"%s\" %d", u ? ", " : "", r->runs[u].label, u);
    fprintf(cf.gp, ")\nset ytics (");
    for (int u = 0; u < r->n_runs; u++) fprintf(cf.gp, "%s\"%s\" %d", u ? ", " : "", r->runs[u].label, u);
    fprintf(cf.gp, ")\nset cbrange [1:%g]\nset cblabel 'x own best'\n"
                   "set palette defined (0 '#ffffff', 1 '#fdd49e', 2 '#d7301f')\n"
                   "plot '%s' using 1:2:(0.5):(0.5):3 with boxxyerror fs solid 1.0 noborder fc palette, "
                   "'' using 1:2:(sprintf('%%.2fx%%s', $3, $4 > 0 ? '*' : '')) with labels font ',12'\n",
            hi > 1.0001 ? hi : 1.0001, cf.dat_name);
    rc = close_chart(dir, &cf, err);
    add_chart(ch, "cross.svg", RP_SEC_CROSS, "Cross-machine cost",
              "Row: whose per-signature choices; column: whose measurements time them; value: that time over the "
              "column machine's own best choices on the same signatures%s. * = some choices were never measured OK "
              "on that machine (left out).",
              r->has_model ? ", each signature weighted by how many of the model's nodes use it" : "");
    return rc;
}

static int chart_model_ops(const ft_report *r, const char *dir, ft_report_charts *ch, ft_error *err)
{
    int n_ok = 0;
    for (int u = 0; u < r->n_runs; u++) n_ok += r->mruns[u].ok;
    if (!n_ok) return FT_OK;
    chart_file cf;
    int rc = open_chart(dir, "model_ops", &cf, err);
    if (rc != FT_OK) return rc;
    fprintf(cf.dat, "op");
    for (int u = 0; u < r->n_runs; u++)
        if (r->mruns[u].ok) fprintf(cf.dat, " \"%s default\" \"%s tuned\"", r->runs[u].label, r->runs[u].label);
    fprintf(cf.dat, "\n");
    int rows = 0;
    for (int o = 0; o < r->n_model_ops; o++) {
        int any = 0;
        for (int u = 0; u < r->n_runs; u++)
            if (r->mruns[u].ok && (r->mruns[u].tuned_by_op[o] > 0 || r->mruns[u].default_by_op[o] > 0)) any = 1;
        if (!any) continue;
        rows++;
        fprintf(cf.dat, "%s", r->model_ops[o]);
        for (int u = 0; u < r->n_runs; u++)
            if (r->mruns[u].ok)
                fprintf(cf.dat, " %.9g %.9g", r->mruns[u].default_by_op[o] * 1e6, r->mruns[u].tuned_by_op[o] * 1e6);
        fprintf(cf.dat, "\n");
    }
    gp_header(cf.gp, "model_ops.svg", clamp_width(200 + rows * (24 * n_ok + 20)), 420,
              "Predicted time per op type: default plan vs tuned plan");
    fprintf(cf.gp,
            "set style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.85 border -1\n"
            "set key top right\nset ylabel 'predicted µs per inference'\nset yrange [0:*]\n"
            "set xtics rotate by -30\n"
            "plot for [i=2:%d] '%s' using i:xtic(1) title columnheader(i)\n",
            2 * n_ok + 1, cf.dat_name);
    rc = close_chart(dir, &cf, err);
    add_chart(ch, "model_ops.svg", RP_SEC_MODEL, "Predicted time per op type",
              "Sum over the model's nodes of the measured median time of the kernel each plan runs: the default "
              "plan (row-major, registry default kernels) and the tuned plan (the solver's choice, layout "
              "conversions counted as Reorder).");
    return rc;
}

static int chart_memory(const ft_report *r, const char *dir, int u, ft_report_charts *ch, ft_error *err)
{
    const ft_report_model_run *m = &r->mruns[u];
    if (!m->ok || m->n_rects == 0) return FT_OK;
    char stem[32], svg[40];
    snprintf(stem, sizeof stem, "memory_%s", r->runs[u].label);
    snprintf(svg, sizeof svg, "%s.svg", stem);
    chart_file cf;
    int rc = open_chart(dir, stem, &cf, err);
    if (rc != FT_OK) return rc;
    double unit = m->arena_bytes >= (size_t)4 << 20 ? 1048576.0 : 1024.0;
    const char *uname = unit > 1024.0 ? "MiB" : "KiB";
    fprintf(cf.dat, "# first_step last_step offset_%s end_%s color tensor\n", uname, uname);
    for (int i = 0; i < m->n_rects; i++) {
        const ft_report_memrect *q = &m->rects[i];
        fprintf(cf.dat, "%d %d %.6f %.6f %d \"", q->first, q->last, (double)q->offset / unit,
                (double)(q->offset + q->size) / unit, i % 8 + 1);
        for (const char *p = q->tensor; *p; p++) fputc(*p == '"' || (unsigned char)*p < 32 ? '\'' : *p, cf.dat);
        fprintf(cf.dat, "\"\n");
    }
    char title[160];
    snprintf(title, sizeof title, "Memory plan on %s: tensors over time and offset", r->runs[u].label);
    gp_header(cf.gp, svg, 1000, 460, title);
    fprintf(cf.gp,
            "set xlabel 'schedule step (node)'\nset ylabel 'arena offset (%s)'\nunset key\n"
            "set xrange [-1:%d]\nset yrange [0:%.6f]\n"
            "set arrow from graph 0, first %.6f to graph 1, first %.6f nohead dt 2 lw 1.5 lc rgb '#d7301f'\n"
            "set label 'lower bound' at graph 0.01, first %.6f offset 0,0.6 tc rgb '#d7301f' font ',9'\n"
            "set arrow from graph 0, first %.6f to graph 1, first %.6f nohead lw 1.5 lc rgb 'black'\n"
            "set label 'arena' at graph 0.92, first %.6f offset 0,0.6 font ',9'\n"
            "plot '%s' using (($1 + $2) / 2.0):(($3 + $4) / 2.0):(($2 - $1) / 2.0 + 0.45):(($4 - $3) / 2.0):5 "
            "with boxxyerror fs solid 0.55 border -1 lc variable\n",
            uname, m->n_steps, (double)m->arena_bytes / unit * 1.08, (double)m->lower_bound_bytes / unit,
            (double)m->lower_bound_bytes / unit, (double)m->lower_bound_bytes / unit, (double)m->arena_bytes / unit,
            (double)m->arena_bytes / unit, (double)m->arena_bytes / unit, cf.dat_name);
    rc = close_chart(dir, &cf, err);
    char a[32], lb[32];
    add_chart(ch, svg, RP_SEC_MEMORY, title,
              "Each box is one tensor (views share their base's box): from the step that writes it to the last "
              "that reads it, at its arena offset. Arena %s, lower bound %s (the most bytes alive at one step).",
              ft_report_bytes_str(m->arena_bytes, a, sizeof a), ft_report_bytes_str(m->lower_bound_bytes, lb, sizeof lb));
    return rc;
}

static int chart_sweep(const ft_report *r, const char *dir, ft_report_charts *ch, ft_error *err)
{
    /* op types of every signature, in display order */
    char **ops = calloc((size_t)r->n_sigs + 1, sizeof *ops);
    double *t = calloc((size_t)r->n_sigs * (size_t)r->n_runs + 1, sizeof *t);
    if (!ops || !t) {
        free(ops);
        free(t);
        return ft_fail(err, FT_ERR_NOMEM, "report: out of memory");
    }
    int n_ops = 0;
    for (int k = 0; k < r->n_sigs; k++) {
        const ft_report_sig *sg = &r->sigs[r->sig_order[k]];
        int o = 0;
        while (o < n_ops && strcmp(ops[o], sg->op) != 0) o++;
        if (o == n_ops) ops[n_ops++] = sg->op;
        for (int u = 0; u < r->n_runs; u++)
            for (int i = 0; i < sg->n_cands; i++) {
                const ft_report_meas *m = ft_report_meas_at(r, u, sg->cands[i]);
                if (m->present && isfinite(m->mean_s)) t[(size_t)o * (size_t)r->n_runs + (size_t)u] +=
                    (double)m->n_samples * (double)m->reps * m->mean_s;
            }
    }
    chart_file cf;
    int rc = open_chart(dir, "sweep_cost", &cf, err);
    if (rc == FT_OK) {
        fprintf(cf.dat, "run");
        for (int o = 0; o < n_ops; o++) fprintf(cf.dat, " \"%s\"", ops[o]);
        fprintf(cf.dat, "\n");
        for (int u = 0; u < r->n_runs; u++) {
            fprintf(cf.dat, "%s", r->runs[u].label);
            for (int o = 0; o < n_ops; o++) fprintf(cf.dat, " %.9g", t[(size_t)o * (size_t)r->n_runs + (size_t)u]);
            fprintf(cf.dat, "\n");
        }
        gp_header(cf.gp, "sweep_cost.svg", 900, 100 + 60 * r->n_runs + 120, "Where the sweep's timed calls went");
        fprintf(cf.gp,
                "set style data histograms\nset style histogram rowstacked\nset style fill solid 0.85 border -1\n"
                "set boxwidth 0.6\nset key outside right\nset ylabel 'seconds inside timed calls'\nset yrange [0:*]\n"
                "plot for [i=2:%d] '%s' using i:xtic(1) title columnheader(i)\n",
                n_ops + 1, cf.dat_name);
        rc = close_chart(dir, &cf, err);
    }
    free(ops);
    free(t);
    add_chart(ch, "sweep_cost.svg", RP_SEC_SWEEP, "Sweep cost by op type",
              "Seconds each machine spent inside timed kernel calls (samples x repetitions x mean), by op type; "
              "verification, warm-up and process isolation come on top (see the wall times above).");
    return rc;
}

int ft_report_write_charts(const ft_report *r, const char *dir, const ft_report_options *opts, ft_report_charts *ch,
                           ft_report_written *w, ft_error *err)
{
    memset(ch, 0, sizeof *ch);
    if (opts && opts->text_only) {
        snprintf(w->note, sizeof w->note, "charts not requested (--text-only)");
        return FT_OK;
    }
    const char *program = opts && opts->gnuplot ? opts->gnuplot : "gnuplot";
    char path[4096];
    if (!find_program(program, path, sizeof path)) {
        w->gnuplot_missing = 1;
        snprintf(w->note, sizeof w->note,
                 "gnuplot not found (looked for '%s' on PATH): wrote a text-only report; install gnuplot "
                 "(e.g. apt-get install gnuplot-nox) for charts",
                 program);
        return FT_OK;
    }
    int *sigs = malloc(sizeof(int) * (size_t)(r->n_sigs + 1));
    if (!sigs) return ft_fail(err, FT_ERR_NOMEM, "report: out of memory");
    int n = measured_sigs(r, sigs);
    int rc = FT_OK;
    if (n > 0) rc = chart_speedup(r, dir, sigs, n, ch, err);
    if (rc == FT_OK && n > 0) rc = chart_spread(r, dir, sigs, n, ch, err);
    free(sigs);
    if (rc == FT_OK) rc = chart_ipc(r, dir, ch, err);
    if (rc == FT_OK) rc = chart_cross(r, dir, ch, err);
    if (rc == FT_OK && r->has_model) rc = chart_model_ops(r, dir, ch, err);
    for (int u = 0; rc == FT_OK && r->has_model && u < r->n_runs; u++) rc = chart_memory(r, dir, u, ch, err);
    if (rc == FT_OK) rc = chart_sweep(r, dir, ch, err);
    if (rc != FT_OK) return rc;
    char log[4096];
    snprintf(log, sizeof log, "%s/gnuplot.log", dir);
    unlink(log);
    int failed = 0;
    char first_failed[64] = "";
    for (int i = 0; i < ch->n; i++) {
        ft_report_chart *c = &ch->c[i];
        char svg[4096], gp[128];
        snprintf(svg, sizeof svg, "%s/%s", dir, c->file);
        snprintf(gp, sizeof gp, "%.*s.gp", (int)(strlen(c->file) - 4), c->file);
        unlink(svg);
        int status = run_gnuplot(path, dir, gp);
        struct stat sb;
        c->ok = status == 0 && stat(svg, &sb) == 0 && sb.st_size > 0;
        if (c->ok) {
            w->n_charts++;
            continue;
        }
        unlink(svg);
        if (failed++ == 0) snprintf(first_failed, sizeof first_failed, "%s", c->file);
    }
    w->n_charts_failed = failed;
    if (failed)
        snprintf(w->note, sizeof w->note, "gnuplot (%.100s) failed to draw %d chart%s (first: %s); see %.200s/gnuplot.log",
                 path, failed, failed == 1 ? "" : "s", first_failed, dir);
    return FT_OK;
}
