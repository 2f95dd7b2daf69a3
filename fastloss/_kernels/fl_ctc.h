/* fl_ctc.h -- the C side of fastloss's CTC loss: fl_ctc_tmpl.h instantiated for float
 * (fl_ctc_one_f) and double (fl_ctc_one_d), plus the workspace size both use.
 */
#ifndef FL_CTC_H
#define FL_CTC_H
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include "fl_math.h"
#include "fl_simd.h"

#ifndef FL_CAT
#endif

/* bytes rounded up to a multiple of 64; n items of `size` bytes, rounded the same way */
static inline size_t fl_ctc_align(size_t bytes) { return (bytes + 63) & ~(size_t)63; }
static inline Py_ssize_t fl_ctc_align_n(Py_ssize_t n, size_t size)
{
    return (Py_ssize_t)(fl_ctc_align(n * size) / size);
}

/* Workspace of fl_ctc_one for up to `steps` time steps, targets of up to `smax` labels and
 * C classes; grad = 0: value only (two alpha rows instead of `steps`). */
static inline size_t fl_ctc_work_bytes(Py_ssize_t steps, Py_ssize_t smax, Py_ssize_t C,
                                       int grad, size_t size)
{
    Py_ssize_t L = 2 * smax + 1, W = L + 4, arows = grad ? (steps > 2 ? steps : 2) : 2;
    return fl_ctc_align(L * sizeof(Py_ssize_t)) + fl_ctc_align(W * size)
           + fl_ctc_align(C * size) + ((arows + 3) * W + 2 * L) * size + 64;
}

#define FL_TEMPLATE "fl_ctc_tmpl.h"
#include "fl_instantiate.h"

#endif
