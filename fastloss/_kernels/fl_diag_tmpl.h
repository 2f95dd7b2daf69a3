/* fl_diag_tmpl.h -- the C side of fastloss.diagnostics (vanishing/exploding gradients).
 *
 * Included once by _diagnostics.pyx: the outer part instantiates the template part (below
 * FL_DIAG_BODY) for T = float (suffix _f) and T = double (suffix _d).  Block loops carry
 * FL_CLONES (AVX-512 / AVX2 / baseline chosen at load time, see fl_simd.h).
 *
 * Every loop is a single pass over its data and free of transcendental calls:
 *   fl_diag_count_abs_gt   #{i : |x_i| > thr}: saturated sigmoid/tanh units, where thr is
 *                          the |z| at which f'(z) drops below the tolerance (computed once
 *                          in Python); NaN is never counted.  Integer counts: the same for
 *                          any split over threads.
 *   fl_diag_pos_cols       cnt[j] += #{r in [r0, r1) : x[r, j] > 0} for a (rows, U) array:
 *                          relu units that are never positive on the batch are dead.
 *   fl_diag_sumsq_blocks   for fixed blocks of FL_DIAG_BLOCK elements: sum of (scale x)^2
 *                          accumulated in double, and max |x|.  The caller adds the block
 *                          sums in block order, so the L2 norm has the same bits for any
 *                          thread count.
 */
#ifndef FL_DIAG_BODY
#ifndef FL_DIAG_TMPL_H
#define FL_DIAG_TMPL_H
#include <Python.h>
#include <stdint.h>
#include <math.h>
#include "fl_simd.h"

#define FL_DIAG_BLOCK 4096          /* elements per partial sum (a multiple of 64) */
#define FL_DCAT_(a, b) a##b
#define FL_DCAT(a, b) FL_DCAT_(a, b)
#define FL_DIAG_BODY

#define FL_TEMPLATE "fl_diag_tmpl.h"
#include "fl_instantiate.h"

#undef FL_DIAG_BODY
#endif /* FL_DIAG_TMPL_H */

#else  /* ---- template part: T and S are defined ------------------------------------ */
#define DN(name) FL_DCAT(name, S)

/* IN x[0, n); thr exactly representable in T (the caller rounds it down) */
FL_CLONES static int64_t DN(fl_diag_count_abs_gt)(const void *xv, Py_ssize_t n, double thrd)
{
    const T *x = (const T *)xv;
    const T thr = (T)thrd;
    int64_t c = 0;
#pragma omp simd reduction(+:c)
    for (Py_ssize_t i = 0; i < n; i++) {
        T a = x[i] < (T)0 ? -x[i] : x[i];
        c += a > thr ? 1 : 0;
    }
    return c;
}

/* IN x: (rows, U) C-contiguous; rows [r0, r1).  INOUT cnt[U] */
FL_CLONES static void DN(fl_diag_pos_cols)(const void *xv, Py_ssize_t U, Py_ssize_t r0,
                                           Py_ssize_t r1, int64_t *cnt)
{
    const T *x = (const T *)xv;
    for (Py_ssize_t r = r0; r < r1; r++) {
        const T *row = x + r * U;
#pragma omp simd
        for (Py_ssize_t j = 0; j < U; j++)
            cnt[j] += row[j] > (T)0 ? 1 : 0;
    }
}

/* IN x[0, n); blocks [b0, b1) of FL_DIAG_BLOCK elements (the last may be shorter).
 * OUT sumsq[b] = sum over the block of ((double)x * scale)^2, maxabs[b] = max |x| (NaN not
 * propagated here: a NaN makes sumsq NaN, which the caller checks). */
FL_CLONES static void DN(fl_diag_sumsq_blocks)(const void *xv, Py_ssize_t n, Py_ssize_t b0,
                                               Py_ssize_t b1, double scale, double *sumsq,
                                               double *maxabs)
{
    const T *x = (const T *)xv;
    for (Py_ssize_t b = b0; b < b1; b++) {
        Py_ssize_t i0 = b * FL_DIAG_BLOCK;
        Py_ssize_t i1 = i0 + FL_DIAG_BLOCK < n ? i0 + FL_DIAG_BLOCK : n;
        double s = 0.0;
        T m = (T)0;
#pragma omp simd reduction(+:s) reduction(max:m)
        for (Py_ssize_t i = i0; i < i1; i++) {
            double v = (double)x[i] * scale;
            T a = x[i] < (T)0 ? -x[i] : x[i];
            s += v * v;
            m = a > m ? a : m;
        }
        sumsq[b] = s;
        maxabs[b] = (double)m;
    }
}

#undef DN
#endif /* FL_DIAG_BODY */
