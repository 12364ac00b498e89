/* report_util.c - what the report's writers share: a string map, HTML escaping, number formatting. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

const char *const ft_report_status_names[RP_N_STATUS] = {"OK", "WRONG", "CRASH", "TIMEOUT", "SKIPPED"};
const char *const ft_report_tier_names[RP_N_TIER] = {"none", "sw", "hw"};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

int ft_report_map_get(const ft_report_map *m, const char *key)
{
    if (m->cap == 0) return -1;
    for (size_t i = hash_str(key) & (size_t)(m->cap - 1);; i = (i + 1) & (size_t)(m->cap - 1)) {
        if (!m->keys[i]) return -1;
        if (strcmp(m->keys[i], key) == 0) return m->vals[i];
    }
}

int ft_report_map_put(ft_report_map *m, const char *key, int val)
{
    /* load factor at most 1/2 keeps probe chains short and guarantees an empty slot */
    if (2 * (m->n + 1) > m->cap) {
        int cap = m->cap ? 2 * m->cap : 64;
        const char **keys = calloc((size_t)cap, sizeof *keys);
        int *vals = calloc((size_t)cap, sizeof *vals);
        if (!keys || !vals) {
            free(keys);
            free(vals);
            return -1;
        }
        for (int i = 0; i < m->cap; i++) {
            if (!m->keys[i]) continue;
            size_t j = hash_str(m->keys[i]) & (size_t)(cap - 1);
            while (keys[j]) j = (j + 1) & (size_t)(cap - 1);
            keys[j] = m->keys[i];
            vals[j] = m->vals[i];
        }
        free(m->keys);
        free(m->vals);
        m->keys = keys;
        m->vals = vals;
        m->cap = cap;
    }
    size_t i = hash_str(key) & (size_t)(m->cap - 1);
    while (m->keys[i] && strcmp(m->keys[i], key) != 0) i = (i + 1) & (size_t)(m->cap - 1);
    if (!m->keys[i]) m->n++;
    m->keys[i] = key;
    m->vals[i] = val;
    return 0;
}

void ft_report_map_free(ft_report_map *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

char *ft_report_html_escape(const char *s, char *buf, size_t n)
{
    size_t o = 0;
    if (n == 0) return buf;
    for (; s && *s; s++) {
        const char *rep = NULL;
        switch (*s) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: break;
        }
        size_t len = rep ? strlen(rep) : 1;
        if (o + len >= n) break;
        if (rep) memcpy(buf + o, rep, len);
        else buf[o] = *s;
        o += len;
    }
    buf[o] = 0;
    return buf;
}

const char *ft_report_run_title(const ft_report *r, int run, char *buf, size_t n)
{
    const ft_report_run *u = &r->runs[run];
    snprintf(buf, n, "%s: %s %s%s", u->label, u->machine.vendor, u->machine.model_name,
             u->machine.emulated ? " (emulated: timings not representative)" : "");
    return buf;
}

char *ft_report_bytes_str(size_t b, char *buf, size_t n)
{
    if (b >= (size_t)1 << 20) snprintf(buf, n, "%.2f MiB", (double)b / 1048576.0);
    else if (b >= 1024) snprintf(buf, n, "%.2f KiB", (double)b / 1024.0);
    else snprintf(buf, n, "%zu B", b);
    return buf;
}

char *ft_report_fmt_us(double s, char *buf, size_t n)
{
    if (isfinite(s)) snprintf(buf, n, "%.3f", s * 1e6);
    else snprintf(buf, n, "-");
    return buf;
}

char *ft_report_fmt_ratio(double x, char *buf, size_t n)
{
    if (isfinite(x) && x > 0) snprintf(buf, n, "%.2fx", x);
    else snprintf(buf, n, "-");
    return buf;
}
