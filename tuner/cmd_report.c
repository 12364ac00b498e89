/* cmd_report.c - `fluidtune report`: tuning databases of several machines compared in one folder. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "report.h"

static void report_usage(FILE *f)
{
    fprintf(f,
            "usage: fluidtune report DB... -o DIR [--model MODEL.onnx] [options]\n"
            "\n"
            "Compares the measurements in one or more tuning databases (one per machine, or merged files\n"
            "holding several) and writes DIR/index.html with gnuplot charts (SVG) and DIR/summary.md:\n"
            "the machines side by side, each op signature's best candidate and its speedup, how much the\n"
            "choice matters (spread of candidate times), counters, the layouts and tilings each machine\n"
            "chose and where they disagree, and what each machine's choices cost on the others. With\n"
            "--model it also solves the model per machine: predicted time per op type of the tuned vs the\n"
            "default plan, the memory plan (arena vs lower bound, tensors over time), and each machine's\n"
            "plan on the others. Without --model a candidate is compared with the median OK candidate of\n"
            "its signature, with it with the registry default's candidate.\n"
            "\n"
            "options:\n"
            "  -o, --output DIR        the folder to write (created if missing; earlier charts replaced)\n"
            "  --model MODEL.onnx      the model the databases were swept for\n"
            "  --shape NAME=D0,D1,...  fix the dynamic dims of input NAME of the model (repeatable)\n"
            "  --gnuplot PROG          the gnuplot to run (default: gnuplot on PATH)\n"
            "  --text-only             no charts\n"
            "  -h, --help              this help\n"
            "\n"
            "Without gnuplot the report is written without charts and a note says so.\n");
}

typedef struct model_src {
    const char *path;
    const ft_cli_shapes *shapes;
} model_src;

static int load_model(void *ctx, ft_graph **out, ft_error *err)
{
    const model_src *m = ctx;
    return ft_cli_load_model(m->path, m->shapes, NULL, 0, 0, NULL, out, err);
}

int ft_cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, 0, 'o'}, {"model", required_argument, 0, 'm'},
                                         {"shape", required_argument, 0, 's'},  {"gnuplot", required_argument, 0, 'g'},
                                         {"text-only", no_argument, 0, 't'},    {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    ft_cli_shapes shapes = {0};
    ft_error err = {0};
    const char *out_dir = NULL, *model = NULL;
    ft_report_options ro = {NULL, 0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out_dir = optarg; break;
        case 'm': model = optarg; break;
        case 's':
            if (ft_cli_parse_shape(optarg, &shapes, &err) != FT_OK) return ft_cli_report("report", &err);
            break;
        case 'g': ro.gnuplot = optarg; break;
        case 't': ro.text_only = 1; break;
        case 'h': report_usage(stdout); return FT_EXIT_OK;
        default: report_usage(stderr); return FT_EXIT_USAGE;
        }
    }
    if (optind >= argc || !out_dir) {
        fprintf(stderr, "fluidtune report: error: expected one or more databases and -o DIR\n");
        report_usage(stderr);
        return FT_EXIT_USAGE;
    }
    if (shapes.n && !model) {
        fprintf(stderr, "fluidtune report: error: --shape needs --model\n");
        return FT_EXIT_USAGE;
    }
    double t0 = ft_cli_now();
    ft_report *r = NULL;
    int rc = ft_report_create((const char *const *)(argv + optind), argc - optind, &r, &err);
    model_src src = {model, &shapes};
    if (rc == FT_OK && model) rc = ft_report_set_model(r, model, load_model, &src, &err);
    ft_report_written w;
    if (rc == FT_OK) rc = ft_report_write(r, out_dir, &ro, &w, &err);
    ft_report_destroy(r);
    if (rc != FT_OK) return ft_cli_report("report", &err);
    if (w.note[0]) fprintf(stderr, "fluidtune report: note: %s\n", w.note);
    printf("report: %d machine%s, %d signatures, %d chart%s: wrote %s/index.html and %s/summary.md (%.2f s)\n", w.n_runs,
           w.n_runs == 1 ? "" : "s", w.n_signatures, w.n_charts, w.n_charts == 1 ? "" : "s", out_dir, out_dir,
           ft_cli_now() - t0);
    return FT_EXIT_OK;
}
