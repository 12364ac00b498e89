/* cli.h - what the fluidtune subcommands share: exit codes, option parsing, model loading. */
#ifndef FT_CLI_H
#define FT_CLI_H

#include <stdint.h>

#include "graph.h"

enum { FT_EXIT_OK = 0, FT_EXIT_FAIL = 1, FT_EXIT_USAGE = 2 };

#define FT_CLI_MAX_SHAPES 64

typedef struct ft_cli_shape {
    const char *name; /* points into argv */
    size_t name_len;
    ft_shape shape;
} ft_cli_shape;

typedef struct ft_cli_shapes {
    int n;
    ft_cli_shape s[FT_CLI_MAX_SHAPES];
    char names[FT_CLI_MAX_SHAPES][256];
} ft_cli_shapes;

/* Parses "NAME=D0,D1,..." (rank 0 for "NAME=") and appends it. FT_ERR_INPUT with a message on
 * malformed text, a dim outside 0..2^31, more than FT_MAX_RANK dims, or too many --shape flags. */
int ft_cli_parse_shape(const char *arg, ft_cli_shapes *out, ft_error *err);

/* Exit code for a library status: bad input and unsupported input are usage-class errors. */
int ft_cli_exit_code(int status);
/* Prints "fluidtune CMD: error: MSG" to stderr and returns the exit code for err->code. */
int ft_cli_report(const char *cmd, const ft_error *err);

/* Loads the model, applies the --shape values, and prepares it. extra (may be NULL) are input values
 * in graph-input order whose shapes fix inputs still dynamic after the --shape values (test data).
 * With bind_int_inputs, integer and scalar inputs among extra become constants, so ops whose shape-determining
 * operands arrive as graph inputs (ONNX's node tests feed Reshape's shape that way) can be planned;
 * data_index (n_extra entries, may be NULL) then maps each remaining graph input to its extra index. */
int ft_cli_load_model(const char *path, const ft_cli_shapes *shapes, const ft_tensor *extra, int n_extra,
                      int bind_int_inputs, int *data_index, ft_graph **out, ft_error *err);
/* The same steps on a graph already imported (ft_onnx_load). */
int ft_cli_prepare_model(ft_graph *g, const ft_cli_shapes *shapes, const ft_tensor *extra, int n_extra,
                         int bind_int_inputs, int *data_index, ft_error *err);

/* Fills t (shape and dtype already set, data allocated) with seeded random values in a valid range
 * for graph input k: integer inputs that index a Gather stay below that axis' size, other integer
 * inputs (masks, token types) get 1 (or 0 for token type ids), floats are uniform in [-1, 1). */
void ft_cli_random_input(const ft_graph *g, int k, ft_tensor *t, uint64_t seed);

double ft_cli_now(void);
/* Peak resident set size of this process in bytes. */
long long ft_cli_peak_rss(void);

int ft_cmd_run(int argc, char **argv);
int ft_cmd_test(int argc, char **argv);
int ft_cmd_candidates(int argc, char **argv);
int ft_cmd_sweep(int argc, char **argv);
int ft_cmd_solve(int argc, char **argv);
int ft_cmd_plan(int argc, char **argv);
int ft_cmd_db(int argc, char **argv);
int ft_cmd_report(int argc, char **argv);

#endif
