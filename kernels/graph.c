/* graph.c - ownership and lookups of the graph IR. */
#include "graph.h"

#include <stdlib.h>
#include <string.h>

ft_graph *ft_graph_create(void)
{
    return calloc(1, sizeof(ft_graph));
}

void ft_tensor_clear(ft_tensor *t)
{
    if (!t) return;
    free(t->name);
    free(t->data);
    for (int i = 0; i < FT_MAX_RANK; i++) free(t->dim_param[i]);
    memset(t, 0, sizeof *t);
    t->producer = -1;
    t->alias_of = -1;
}

void ft_attr_clear(ft_attr *a)
{
    free(a->name);
    free(a->s);
    free(a->floats);
    free(a->ints);
    if (a->strings) {
        for (int i = 0; i < a->n; i++) free(a->strings[i]);
        free(a->strings);
    }
    if (a->t) {
        ft_tensor_clear(a->t);
        free(a->t);
    }
    memset(a, 0, sizeof *a);
}

void ft_node_clear(ft_node *n)
{
    free(n->name);
    free(n->op_type);
    free(n->domain);
    free(n->in);
    free(n->out);
    for (int i = 0; i < n->n_attrs; i++) ft_attr_clear(&n->attrs[i]);
    free(n->attrs);
    memset(n, 0, sizeof *n);
}

void ft_graph_destroy(ft_graph *g)
{
    if (!g) return;
    for (int i = 0; i < g->n_tensors; i++) ft_tensor_clear(&g->tensors[i]);
    for (int i = 0; i < g->n_nodes; i++) ft_node_clear(&g->nodes[i]);
    free(g->tensors);
    free(g->nodes);
    free(g->inputs);
    free(g->outputs);
    free(g->path);
    free(g->dir);
    free(g);
}

int ft_graph_add_tensor(ft_graph *g, const char *name)
{
    if (g->n_tensors == g->cap_tensors) {
        int cap = g->cap_tensors ? g->cap_tensors * 2 : 64;
        ft_tensor *t = realloc(g->tensors, (size_t)cap * sizeof *t);
        if (!t) return -1;
        g->tensors = t;
        g->cap_tensors = cap;
    }
    ft_tensor *t = &g->tensors[g->n_tensors];
    memset(t, 0, sizeof *t);
    t->name = strdup(name ? name : "");
    if (!t->name) return -1;
    t->producer = -1;
    t->alias_of = -1;
    return g->n_tensors++;
}

int ft_graph_find_tensor(const ft_graph *g, const char *name)
{
    for (int i = g->n_tensors - 1; i >= 0; i--)
        if (strcmp(g->tensors[i].name, name) == 0) return i;
    return -1;
}

const ft_attr *ft_node_attr(const ft_node *n, const char *name)
{
    for (int i = 0; i < n->n_attrs; i++)
        if (strcmp(n->attrs[i].name, name) == 0) return &n->attrs[i];
    return NULL;
}

int64_t ft_attr_int(const ft_node *n, const char *name, int64_t def)
{
    const ft_attr *a = ft_node_attr(n, name);
    return a && a->type == FT_ATTR_INT ? a->i : def;
}

float ft_attr_float(const ft_node *n, const char *name, float def)
{
    const ft_attr *a = ft_node_attr(n, name);
    if (a && a->type == FT_ATTR_FLOAT) return a->f;
    if (a && a->type == FT_ATTR_INT) return (float)a->i;
    return def;
}

const char *ft_attr_string(const ft_node *n, const char *name, const char *def)
{
    const ft_attr *a = ft_node_attr(n, name);
    return a && a->type == FT_ATTR_STRING && a->s ? a->s : def;
}

int ft_attr_ints(const ft_node *n, const char *name, const int64_t **vals)
{
    const ft_attr *a = ft_node_attr(n, name);
    if (!a || (a->type != FT_ATTR_INTS && a->type != FT_ATTR_INT)) {
        *vals = NULL;
        return -1;
    }
    if (a->type == FT_ATTR_INT) {
        *vals = &a->i;
        return 1;
    }
    *vals = a->ints;
    return a->n;
}

int ft_attr_floats(const ft_node *n, const char *name, const float **vals)
{
    const ft_attr *a = ft_node_attr(n, name);
    if (!a || (a->type != FT_ATTR_FLOATS && a->type != FT_ATTR_FLOAT)) {
        *vals = NULL;
        return -1;
    }
    if (a->type == FT_ATTR_FLOAT) {
        *vals = &a->f;
        return 1;
    }
    *vals = a->floats;
    return a->n;
}
