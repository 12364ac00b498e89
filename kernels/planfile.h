/* planfile.h - reading and writing plan files (kernels/plan.proto), and applying one to a graph.
 *
 * A plan file is bound to the model's SHA-256 and to the kernel build that made it: loading refuses
 * a plan for another model or build with one line that says which; a plan made on another machine
 * loads, and the caller is told so it can warn.
 */
#ifndef FT_PLANFILE_H
#define FT_PLANFILE_H

#include <stdio.h>

#include "plan.h"

#define FT_PLAN_FORMAT_VERSION 1

typedef struct ft_plan_meta {
    char machine_id[80];
    char machine_description[256];
    char created_by[128];
    char memory_algorithm[32];
    char database[512];
    double predicted_seconds;         /* 0 when unknown */
    double default_predicted_seconds; /* the default plan's predicted time, 0 when unknown */
    size_t lower_bound_bytes;
    int n_input_shapes;
    char input_names[16][128];
    ft_shape input_shapes[16];
} ft_plan_meta;

typedef struct ft_planfile ft_planfile; /* a parsed plan file, not yet applied */

/* Writes g's plan p (nodes in graph order, tensors with layouts and offsets) to path atomically
 * (temporary file + rename). The graph's input shapes are recorded so the plan can be re-applied. */
int ft_planfile_write(const char *path, const ft_graph *g, const ft_plan *p, const ft_plan_meta *meta, ft_error *err);

/* Parses path. Checks the format version; FT_ERR_INPUT for a truncated or foreign file. */
int ft_planfile_read(const char *path, ft_planfile **out, ft_error *err);
void ft_planfile_destroy(ft_planfile *pf);
/* Metadata (machine, shapes, predictions) of a parsed plan. */
void ft_planfile_meta(const ft_planfile *pf, ft_plan_meta *meta);
/* The model digest and kernel build the plan is bound to. */
const uint8_t *ft_planfile_model_sha256(const ft_planfile *pf);
const char *ft_planfile_build_id(const ft_planfile *pf);

/* Applies the plan to a prepared graph made with the plan's input shapes: refuses another model
 * (digest) or build; inserts the plan's conversion nodes into g, orders g's nodes as the plan does,
 * and returns the runtime plan. */
int ft_planfile_apply(const ft_planfile *pf, ft_graph *g, ft_plan **out, ft_error *err);

/* Prints the plan for a person, or as JSON, to f. */
int ft_planfile_print(const ft_planfile *pf, FILE *f, int json, ft_error *err);

#endif
