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

FL_INLINE double fl_gelu_wide(double x)
{
    if (x == -INFINITY) return -0.0;
    if (x >= 0.0 || x != x) return 0.5 * x * erfc(-x * (double)FL_RSQRT2);
    long double xl = x;
    return (double)(0.5L * xl * erfcl(-xl * FL_RSQRT2));
}
FL_INLINE double fl_gelu_wide_d(double x)
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
FL_INLINE double fl_gelu_tanh_wide(double x)
{
    if (x >= 0.0 || x != x) {
        double v = x * ((double)FL_GELU_C1 + (double)FL_GELU_C3 * x * x);
        return x / (1.0 + exp(-v));
    }
    if (x == -INFINITY) return -0.0;
    long double xl = x, v = xl * (FL_GELU_C1 + FL_GELU_C3 * xl * xl), e = expl(v);
    return (double)(xl * e / (1.0L + e));
}
FL_INLINE double fl_gelu_tanh_wide_d(double x)
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
/* float: evaluated in double, which is wide enough (argument errors ~1e-16 * 2z^2).
 * erfc(z) = t P(t) exp(-z^2), t = 1/(1 + z/2): P is a degree-12 least-squares fit of
 * erfcx(z)/t on z in [0, 11.5] (relative error 2.2e-10, fitted with mpmath); beyond 11.5
 * float32 gelu underflows.  exp(-z^2) = exp(-x^2/2) is exact in its argument (x^2 of a
 * float is exact in double) and shared with phi(x) in the derivative.  Vectorizes. */
FL_INLINE double fl_erfcx_t_d(double t)
{
    double p = -0.012655825344315879;
    p = p * t + 0.05745781221305603;
    p = p * t - 0.04574683166037822;
    p = p * t - 0.22352773757425093;
    p = p * t + 0.6440035501923133;
    p = p * t - 0.6962839992518743;
    p = p * t + 0.32837485035239605;
    p = p * t - 0.15725179445642953;
    p = p * t + 0.12495494728445147;
    p = p * t + 0.16883886201636694;
    p = p * t + 0.24770365161340446;
    p = p * t + 0.2820359773202278;
    p = p * t + 0.2820965371089033;
    return t * p;
}
/* Phi(x) and E = exp(-x^2/2) for a float x, in double */
FL_INLINE double fl_phi_f(float x, double *E)
{
    double xd = x, a = fl_abs_d(xd);
    double t = 1.0 / (1.0 + 0.5 * (double)FL_RSQRT2 * a);
    t = t < 0.14814814814814814 ? 0.14814814814814814 : t;
    double e = fl_exp_neg_d(-0.5 * xd * xd);
    double half_erfc = 0.5 * fl_erfcx_t_d(t) * e;
    *E = e;
    return xd < 0.0 ? half_erfc : 1.0 - half_erfc;
}
FL_INLINE T FN(fl_gelu)(T x, T p0, T p1)
{
    double E, r = (double)x * fl_phi_f(x, &E);
    return x == -INFINITY ? -ZERO : (T)r;
}
/* gelu'(x) within 1/16 of its zero x0: Taylor polynomial in h = x - x0 (exact in double),
 * coefficients from mpmath; Phi + x phi would cancel the fit's 2e-10 away there. */
FL_INLINE double fl_gelu_d_near_root(double h)
{
    double q = -1.121438018842664e-05;
    q = q * h + 8.615947861116571e-05;
    q = q * h + 0.0001863397462323351;
    q = q * h + -0.0007448268386746817;
    q = q * h + -0.002239538068073497;
    q = q * h + 0.004539228379125416;
    q = q * h + 0.019421679838189064;
    q = q * h + -0.01477152214824434;
    q = q * h + -0.1140082332972217;
    q = q * h + -0.01819967639867108;
    q = q * h + 0.388284982990552;
    q = q * h + 0.4314939923140469;
    q = q * h + -6.453751729367753e-18;
    return q;
}
FL_INLINE T FN(fl_gelu_d)(T x, T p0, T p1)
{
    double E, P = fl_phi_f(x, &E), h = (double)x - FL_GELU_ROOT;
    double r = E == 0.0 ? P : P + (double)x * (double)FL_RSQRT2PI * E;
    return (T)(fl_abs_d(h) < 0.0625 ? fl_gelu_d_near_root(h) : r);
}
FL_INLINE T FN(fl_gelu_tanh)(T x, T p0, T p1)
{
    double xd = x, v = xd * ((double)FL_GELU_C1 + (double)FL_GELU_C3 * xd * xd);
    double e = fl_exp_neg_d(-fl_abs_d(v)), s = (v >= 0.0 ? 1.0 : e) / (1.0 + e);
    return x == -INFINITY ? -ZERO : (T)(xd * s);
}
FL_INLINE T FN(fl_gelu_tanh_d)(T x, T p0, T p1)
{
    double xd = x, x2 = xd * xd, v = xd * ((double)FL_GELU_C1 + (double)FL_GELU_C3 * x2);
    double e = fl_exp_neg_d(-fl_abs_d(v)), d = 1.0 + e;
    double s = (v >= 0.0 ? 1.0 : e) / d, sp = e / (d * d);
    double dv = (double)FL_GELU_C1 + 3.0 * (double)FL_GELU_C3 * x2;
    return sp == 0.0 ? (T)s : (T)(s + xd * sp * dv);
}
#else
FL_INLINE T FN(fl_gelu)(T x, T p0, T p1) { return fl_gelu_wide(x); }
FL_INLINE T FN(fl_gelu_d)(T x, T p0, T p1) { return fl_gelu_wide_d(x); }
FL_INLINE T FN(fl_gelu_tanh)(T x, T p0, T p1) { return fl_gelu_tanh_wide(x); }
FL_INLINE T FN(fl_gelu_tanh_d)(T x, T p0, T p1) { return fl_gelu_tanh_wide_d(x); }
#endif
