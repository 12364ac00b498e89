/* report.c - writing the report folder: the charts first, so the pages reference only charts that exist. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "report_internal.h"

/* mkdir -p: each missing component of dir in turn. */
static int make_dirs(const char *dir, ft_error *err)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return ft_fail(err, FT_ERR_INPUT, "report: output folder name too long");
    for (char *p = path + 1;; p++) {
        char c = *p;
        if (c != '/' && c != 0) continue;
        *p = 0;
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return ft_fail(err, FT_ERR_FAIL, "%s: cannot create folder: %s", path, strerror(errno));
        *p = c;
        if (c == 0) break;
    }
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return ft_fail(err, FT_ERR_INPUT, "%s: exists and is not a folder", dir);
    return FT_OK;
}

int ft_report_write(ft_report *r, const char *dir, const ft_report_options *opts, ft_report_written *out,
                    ft_error *err)
{
    memset(out, 0, sizeof *out);
    out->n_runs = r->n_runs;
    out->n_signatures = r->n_sigs;
    int rc = make_dirs(dir, err);
    if (rc != FT_OK) return rc;
    ft_report_charts *charts = malloc(sizeof *charts);
    if (!charts) return ft_fail(err, FT_ERR_NOMEM, "report: out of memory");
    rc = ft_report_write_charts(r, dir, opts, charts, out, err);
    if (rc == FT_OK) rc = ft_report_write_html(r, dir, charts, out, err);
    if (rc == FT_OK) rc = ft_report_write_markdown(r, dir, out, err);
    free(charts);
    return rc;
}
