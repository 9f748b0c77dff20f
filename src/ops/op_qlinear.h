/* Helpers of the u8 operators shared between op_qlinear.c (the quantized pools) and
 * op_pool.c (MaxPool on u8). */
#ifndef FQ_OPS_OP_QLINEAR_H
#define FQ_OPS_OP_QLINEAR_H

#include "facequant/ops.h"
#include "ref/qu8_pool2d_ref.h"

/* Window geometry of a 2-D (or, in NCHW, 1-D) pool over u8 input 0 of node, in NCHW or, with
 * the integer attribute channels_last = 1, NHWC (rank 4). Fills p->window, p->channels and
 * p->channels_last, and *out with the output shape in the node's layout. */
fq_status fq_qu8_pool_geometry(const fq_graph *graph, const fq_node *node, bool ceil_mode,
                               fq_qu8_pool_params *p, fq_shape *out, fq_error *err);

/* The channels_last attribute: 0 or 1; anything else is refused naming the node. */
fq_status fq_op_channels_last(const fq_node *node, bool *channels_last, fq_error *err);

#endif
