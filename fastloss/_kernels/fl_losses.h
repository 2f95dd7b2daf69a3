/* fl_losses.h -- the C side of fastloss's elementwise losses.
 * Instantiates fl_loss_tmpl.h for float and double.  The block loops carry FL_CLONES
 * (AVX-512 / AVX2 / baseline chosen at load time, see fl_simd.h).
 */
#ifndef FL_LOSSES_H
#define FL_LOSSES_H
#include <Python.h>
#include "fl_math.h"
#include "fl_simd.h"

#ifndef FL_CAT
#endif

/* elements per partial sum; a multiple of 64 (reductions are block-ordered) */
#define FL_LOSS_BLOCK 4096

typedef struct {
    const void *x, *t;      /* IN  input, target (n elements) */
    const void *w, *pw;     /* IN  weight, pos_weight (n elements) or NULL */
    const void *g;          /* IN  grad_output per element (mode G = 2) or NULL */
    void *loss, *grad;      /* OUT loss per element (L = 2), gradient (G >= 1) or NULL */
    double *sums;           /* OUT one float64 partial sum per block (L = 1) */
    double scale, p0, p1;   /* gradient factor (G = 1), loss parameters */
    int mode;               /* L + 3 G + 9 W, see fl_loss_tmpl.h */
} fl_loss_args;

typedef Py_ssize_t (*fl_loss_fn)(const fl_loss_args *a, Py_ssize_t i0, Py_ssize_t i1);

#define FL_TEMPLATE "fl_loss_tmpl.h"
#include "fl_instantiate.h"

#endif
