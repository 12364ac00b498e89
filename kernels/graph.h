/* graph.h - fluidtune's graph IR: tensors, nodes with attributes, and the graph that owns them.
 *
 * Nodes refer to tensors by index into graph->tensors; -1 stands for an omitted optional input.
 * The importer builds the graph in ONNX terms; ft_graph_prepare (prepare.h) then fixes shapes,
 * folds constants and marks views, leaving only run-time compute in graph->nodes.
 */
#ifndef FT_GRAPH_H
#define FT_GRAPH_H

#include "ft_common.h"

struct ft_op_def;

/* Values match onnx.AttributeProto.AttributeType. */
typedef enum ft_attr_type {
    FT_ATTR_UNDEFINED = 0,
    FT_ATTR_FLOAT = 1,
    FT_ATTR_INT = 2,
    FT_ATTR_STRING = 3,
    FT_ATTR_TENSOR = 4,
    FT_ATTR_GRAPH = 5,
    FT_ATTR_FLOATS = 6,
    FT_ATTR_INTS = 7,
    FT_ATTR_STRINGS = 8
} ft_attr_type;

typedef struct ft_attr {
    char *name;
    ft_attr_type type;
    float f;
    int64_t i;
    char *s; /* FT_ATTR_STRING, NUL-terminated */
    int n;   /* element count of floats / ints / strings */
    float *floats;
    int64_t *ints;
    char **strings;
    ft_tensor *t; /* FT_ATTR_TENSOR, owned, with data */
} ft_attr;

typedef struct ft_node {
    char *name;    /* never NULL: the importer names anonymous nodes "<op_type>_<index>" */
    char *op_type;
    char *domain;  /* "" for the default ONNX domain */
    int opset;     /* opset version of the node's domain in the model */
    const struct ft_op_def *op; /* resolved by ft_graph_prepare, NULL before */
    int n_in, n_out;
    int *in;  /* tensor indices, -1 = omitted optional input */
    int *out;
    int n_attrs;
    ft_attr *attrs;
} ft_node;

typedef struct ft_graph {
    char *path;     /* the model file, for messages */
    char *dir;      /* its folder, the root that external data must stay inside */
    int opset;      /* default-domain opset */
    int64_t ir_version;
    int n_tensors, cap_tensors;
    ft_tensor *tensors;
    int n_nodes, cap_nodes;
    ft_node *nodes; /* in a topological order after import */
    int n_inputs;
    int *inputs;    /* run-time inputs in graph-input order (initializers excluded) */
    int n_outputs;
    int *outputs;
    uint8_t digest[32]; /* SHA-256 of the model file's bytes */
} ft_graph;

ft_graph *ft_graph_create(void);
void ft_graph_destroy(ft_graph *g);

/* Adds a tensor named name (copied) and returns its index, or -1 on allocation failure.
 * Pointers into g->tensors are invalidated by this call. */
int ft_graph_add_tensor(ft_graph *g, const char *name);
/* Index of the tensor with this name, or -1. */
int ft_graph_find_tensor(const ft_graph *g, const char *name);

/* Attribute lookup on a node; the default is returned when the attribute is absent. */
const ft_attr *ft_node_attr(const ft_node *n, const char *name);
int64_t ft_attr_int(const ft_node *n, const char *name, int64_t def);
float ft_attr_float(const ft_node *n, const char *name, float def);
const char *ft_attr_string(const ft_node *n, const char *name, const char *def);
/* Number of values and *vals for an INTS / FLOATS attribute; -1 (and *vals = NULL) when absent. */
int ft_attr_ints(const ft_node *n, const char *name, const int64_t **vals);
int ft_attr_floats(const ft_node *n, const char *name, const float **vals);

/* Frees a tensor's owned name, data and dim_params (not the struct itself). */
void ft_tensor_clear(ft_tensor *t);
void ft_attr_clear(ft_attr *a);
void ft_node_clear(ft_node *n);

#endif
