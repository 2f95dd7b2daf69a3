/* GELU, exact (x Phi(x) = x/2 erfc(-x/sqrt2)) and tanh approximation
 * (x/2 (1 + tanh u), u = sqrt(2/pi)(x + 0.044715 x^3), rewritten as x sigmoid(2u)).
 *
 * Both are ill-conditioned in the negative tail: the relative error of the argument of
 * erfc / exp is multiplied by ~2z^2 (resp. |2u|).  float is therefore evaluated in
 * double and double in long double (x87, 64-bit mantissa) for x < 0; x >= 0 is well
 * conditioned and stays in double.  libm's erfc is not vectorized: see the speed notes.
 * Derivatives: gelu' = Phi(x) + x phi(x); gelu_tanh' = s + x sigma'(2u) 2u', s = sigma(2u).
 * Both derivatives cross zero (x0 = -0.75179..., -0.75246...), where the two terms cancel:
 * within 1/256 of x0 the double versions are evaluated in __float128 (libquadmath, when the
 * build found it; long double otherwise), so they stay within a few ulp of the true value.
 */
#ifndef FL_GELU_WIDE_DEFINED
#define FL_GELU_WIDE_DEFINED
#include "fl_quad.h"
#define FL_GELU_ROOT (-0.7517915246935644574579049)
#define FL_GELU_TANH_ROOT (-0.7524614220710162584879544)
#ifndef FL_ROOT_WINDOW
#define FL_ROOT_WINDOW (1.0 / 256)
#endif
#define FL_RSQRT2 0.70710678118654752440084436210484903928L
#define FL_RSQRT2PI 0.39894228040143267793994605993438186848L
#define FL_GELU_C1 1.59576912160573071175978423973752747390L  /* 2 sqrt(2/pi) */
#define FL_GELU_C3 0.07135481627260024877633875227986354100L  /* 2 sqrt(2/pi) 0.044715 */

static inline double fl_gelu_wide(double x)
{
    if (x == -INFINITY) return -0.0;
    if (x >= 0.0 || x != x) return 0.5 * x * erfc(-x * (double)FL_RSQRT2);
    long double xl = x;
    return (double)(0.5L * xl * erfcl(-xl * FL_RSQRT2));
}
static inline double fl_gelu_wide_d(double x)
{
    if (x == INFINITY) return 1.0;
    if (fl_abs_d(x - FL_GELU_ROOT) < FL_ROOT_WINDOW) {
        fl_quad xq = x;
        return (double)(FL_Q(0.5) * FL_QERFC(-xq * FL_Q(0.70710678118654752440084436210484903928))
                        + xq * FL_Q(0.39894228040143267793994605993438186848)
                          * FL_QEXP(-FL_Q(0.5) * xq * xq));
    }
    if (x >= 0.0 || x != x)
        return 0.5 * erfc(-x * (double)FL_RSQRT2) + x * (double)FL_RSQRT2PI * exp(-0.5 * x * x);
    if (x == -INFINITY) return 0.0;
    long double xl = x;
    return (double)(0.5L * erfcl(-xl * FL_RSQRT2) + xl * FL_RSQRT2PI * expl(-0.5L * xl * xl));
}
static inline double fl_gelu_tanh_wide(double x)
{
    if (x >= 0.0 || x != x) {
        double v = x * ((double)FL_GELU_C1 + (double)FL_GELU_C3 * x * x);
        return x / (1.0 + exp(-v));
    }
    if (x == -INFINITY) return -0.0;
    long double xl = x, v = xl * (FL_GELU_C1 + FL_GELU_C3 * xl * xl), e = expl(v);
    return (double)(xl * e / (1.0L + e));
}
static inline double fl_gelu_tanh_wide_d(double x)
{
    if (fl_abs_d(x - FL_GELU_TANH_ROOT) < FL_ROOT_WINDOW) {
        fl_quad xq = x, x2 = xq * xq;
        fl_quad c1 = FL_Q(1.59576912160573071175978423973752747390);
        fl_quad c3 = FL_Q(0.07135481627260024877633875227986354100);
        fl_quad e = FL_QEXP(xq * (c1 + c3 * x2)), d = 1 + e;
        return (double)(e / d + xq * (c1 + 3 * c3 * x2) * (e / (d * d)));
    }
    long double xl = x, x2 = xl * xl, v = xl * (FL_GELU_C1 + FL_GELU_C3 * x2);
    long double dv = FL_GELU_C1 + 3.0L * FL_GELU_C3 * x2;
    if (x >= 0.0 || x != x) {
        double vd = (double)v, e = exp(-vd), d = 1.0 + e;
        double sp = e / (d * d);
        return sp == 0.0 ? 1.0 / d : 1.0 / d + x * sp * (double)dv;
    }
    if (x == -INFINITY) return 0.0;
    long double e = expl(v), d = 1.0L + e;
    return (double)(e / d + xl * dv * (e / (d * d)));
}
#endif

#if FL_T_IS_FLOAT
/* float: double is wide enough (the argument errors are ~1e-16 * 2z^2 << float eps) */
static inline T FN(fl_gelu)(T x, T p0, T p1)
{
    double xd = x;
    return x == -INFINITY ? -ZERO : (T)(0.5 * xd * erfc(-xd * (double)FL_RSQRT2));
}
static inline T FN(fl_gelu_d)(T x, T p0, T p1)
{
    double xd = x;
    if (x == -INFINITY || x == INFINITY) return x > 0 ? ONE : ZERO;
    return (T)(0.5 * erfc(-xd * (double)FL_RSQRT2) + xd * (double)FL_RSQRT2PI * exp(-0.5 * xd * xd));
}
static inline T FN(fl_gelu_tanh)(T x, T p0, T p1)
{
    double xd = x, v = xd * ((double)FL_GELU_C1 + (double)FL_GELU_C3 * xd * xd);
    double e = fl_exp_neg_d(-fl_abs_d(v)), s = (v >= 0.0 ? 1.0 : e) / (1.0 + e);
    return x == -INFINITY ? -ZERO : (T)(xd * s);
}
static inline T FN(fl_gelu_tanh_d)(T x, T p0, T p1)
{
    double xd = x, x2 = xd * xd, v = xd * ((double)FL_GELU_C1 + (double)FL_GELU_C3 * x2);
    double e = fl_exp_neg_d(-fl_abs_d(v)), d = 1.0 + e;
    double s = (v >= 0.0 ? 1.0 : e) / d, sp = e / (d * d);
    double dv = (double)FL_GELU_C1 + 3.0 * (double)FL_GELU_C3 * x2;
    return sp == 0.0 ? (T)s : (T)(s + xd * sp * dv);
}
#else
static inline T FN(fl_gelu)(T x, T p0, T p1) { return fl_gelu_wide(x); }
static inline T FN(fl_gelu_d)(T x, T p0, T p1) { return fl_gelu_wide_d(x); }
static inline T FN(fl_gelu_tanh)(T x, T p0, T p1) { return fl_gelu_tanh_wide(x); }
static inline T FN(fl_gelu_tanh_d)(T x, T p0, T p1) { return fl_gelu_tanh_wide_d(x); }
#endif
