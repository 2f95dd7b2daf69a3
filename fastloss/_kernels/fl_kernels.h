/* fl_kernels.h -- the C side of fastloss's activation kernels.
 * Instantiates fl_act_tmpl.h for float and double.  Block loops carry FL_CLONES so that
 * one baseline build contains AVX-512, AVX2 and generic versions chosen at load time
 * (glibc ifunc); FASTLOSS_NATIVE=1 builds (-march=native) and non-glibc builds drop it.
 */
#ifndef FL_KERNELS_H
#define FL_KERNELS_H
#include <Python.h>
#include "fl_math.h"
#include "fl_simd.h"
#include "fl_gather.h"


FL_INLINE float fl_fma_f(float a, float b, float c) { return fmaf(a, b, c); }
FL_INLINE double fl_fma_d(double a, double b, double c) { return fma(a, b, c); }

/* below these, fl_exp_neg's argument is clamped (the result is 0 in the dtype) */
#define fl_exp_min_f (-150.0f)
#define fl_exp_min_d (-1100.0)

typedef void (*fl_block_fn)(const void *x, const void *g, void *y, Py_ssize_t n,
                            double p0, double p1);
enum { FL_SOFTMAX = 0, FL_LOG_SOFTMAX = 1, FL_SOFTMAX_GRAD = 2, FL_LOG_SOFTMAX_GRAD = 3 };

#define FL_TEMPLATE "fl_act_tmpl.h"
#include "fl_instantiate.h"

#endif
