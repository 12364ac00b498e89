/* candidates.h - what the sweep measures and the solver chooses from: op signatures, per-tensor
 * layout hints, and every node's candidate list. */
#ifndef FT_CANDIDATES_H
#define FT_CANDIDATES_H

#include "registry.h"

/* Canonical text of a node's signature: op type, opset, input dtypes/shapes (with 'c' for constant
 * inputs, whose values a kernel may pre-pack), output shapes and sorted scalar attributes. Identical
 * ops in different layers get identical signatures, so a sweep measures them once. */
int ft_node_signature(const ft_graph *g, int node, char *buf, size_t n);

/* Per tensor, the layouts worth considering beyond row-major: those that turn an adjacent Transpose
 * into a relabelling, and NHWC / NCHW16c around 2-D Convs, carried unchanged through layout-agnostic
 * ops (elementwise, Softmax, ...).
 * hints has g->n_tensors entries. */
int ft_layout_hints(const ft_graph *g, ft_layout_set *hints, ft_error *err);

/* Candidates of node i with the hints applied (the default candidate first). */
int ft_node_candidates(const ft_graph *g, int i, const ft_layout_set *hints, ft_candidate_list *list, ft_error *err);

#endif

/* A stand-alone graph of the layout conversions the solver may need: for every activation tensor of
 * g with layout hints, a Reorder node from row-major to each hint and back. Each node carries INTS
 * attributes "from" and "to" (so its signature names the two layouts); *owner_tensor[i] (malloc'd,
 * may be NULL) is the tensor of g node i converts. */
int ft_conversion_graph(const ft_graph *g, const ft_layout_set *hints, ft_graph **out, int **owner_tensor,
                        ft_error *err);
/* The candidates of conversion node i of such a graph: Reorder kernels from its "from" layout to its
 * "to" layout. */
int ft_conversion_candidates(const ft_graph *conv, int i, ft_candidate_list *list, ft_error *err);
/* Reads a conversion node's layouts back from its attributes. */
void ft_conversion_layouts(const ft_node *n, ft_layout *from, ft_layout *to);
