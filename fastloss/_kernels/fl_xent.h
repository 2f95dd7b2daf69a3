/* fl_xent.h -- the C side of the cross-entropy family (_xent.pyx).
 * Instantiates fl_xent_tmpl.h for float (_f) and double (_d); see that file for the formulas.
 */
#ifndef FL_XENT_H
#define FL_XENT_H
#include <Python.h>
#include <stdint.h>
#include <float.h>
#include "fl_math.h"
#include "fl_simd.h"
#include "fl_gather.h"


enum { FL_XENT = 0, FL_NLL = 1, FL_CCE = 2 };
#define FL_XENT_PAD 16      /* rows of at most 16 classes are padded to 16 */
#define FL_TR_CASES FL_TR_CASE(2) FL_TR_CASE(3) FL_TR_CASE(4) FL_TR_CASE(5) FL_TR_CASE(6) \
    FL_TR_CASE(7) FL_TR_CASE(8) FL_TR_CASE(9) FL_TR_CASE(10) FL_TR_CASE(11) FL_TR_CASE(12)  \
    FL_TR_CASE(13) FL_TR_CASE(14) FL_TR_CASE(15) FL_TR_CASE(16) FL_TR_CASE(20)             \
    FL_TR_CASE(24) FL_TR_CASE(32)

typedef struct {
    const void *x;          /* IN  logits / log-probabilities / probabilities (outer, C, inner) */
    const void *q;          /* IN  probability targets, like x (or NULL) */
    const int64_t *t;       /* IN  class indices, one per line (or NULL) */
    const void *w;          /* IN  class weights (C,) (or NULL) */
    const void *g;          /* IN  per-line grad_output for reduction='none' (or NULL) */
    const void *cw, *wl;    /* IN  per-class constants from fl_xent_coef (FL_XENT) */
    void *gx;               /* OUT gradient, like x (or NULL) */
    void *loss;             /* OUT per-line loss for reduction='none' (or NULL) */
    double *part;           /* OUT per-block sums of the line losses (or NULL) */
    Py_ssize_t C, inner, lines, block;
    int64_t ignore;         /* ignore_index */
    double p;               /* label_smoothing (FL_XENT) or eps (FL_CCE) */
    double W;               /* sum of the class weights (C without weights) */
    double scale;           /* gradient factor for mean/sum */
    int kind;               /* FL_XENT, FL_NLL, FL_CCE */
} fl_xent_args;

#define FL_TEMPLATE "fl_xent_tmpl.h"
#include "fl_instantiate.h"

#endif
