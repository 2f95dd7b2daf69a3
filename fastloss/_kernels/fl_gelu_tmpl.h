/* GELU, exact (x Phi(x) = x/2 erfc(-x/sqrt2)) and tanh approximation
 * (x/2 (1 + tanh u), u = sqrt(2/pi)(x + 0.044715 x^3), rewritten as x sigmoid(2u)).
 *
 * Both are ill-conditioned in the negative tail: the relative error of the argument of
 * erfc / exp is multiplied by ~2z^2 (resp. |2u|).  The float tanh form is evaluated in
 * double; the exact form, float and double alike, as Mills' ratio times e^{-(x^2+ln 2pi)/2}
 * with x^2 entering the exponent exactly through fmas (see the float section and
 * fl_gelu_wide); the double tanh form carries v = 2u as a double-double.  All are
 * branch-free: every candidate form is computed and selected per lane, no libm call, so the
 * block loops vectorize.
 * Derivatives: gelu' = Phi(x) + x phi(x); gelu_tanh' = s + x sigma'(2u) 2u', s = sigma(2u).
 * Both derivatives cross zero (x0 = -0.75179..., -0.75246...), where the two terms cancel:
 * gelu' (float and double) carries the factor (|x| - a0) explicitly; double gelu_tanh' uses
 * a polynomial in h = x - x0 (exact) next to x0, fitted in mpmath; so they stay within a few
 * ulp of the true value.
 */
#ifndef FL_GELU_WIDE_DEFINED
#define FL_GELU_WIDE_DEFINED
#define FL_GELU_ROOT (-0.7517915246935644574579049)
#define FL_GELU_TANH_ROOT (-0.7524614220710162584879544)
#define FL_RSQRT2 0.70710678118654752440084436210484903928L
#define FL_RSQRT2PI 0.39894228040143267793994605993438186848L
#define FL_GELU_C1 1.59576912160573071175978423973752747390L  /* 2 sqrt(2/pi) */
#define FL_GELU_C3 0.07135481627260024877633875227986354100L  /* 2 sqrt(2/pi) 0.044715 */

/* ---- double: branch-free, vectorizable ------------------------------------------------
 * The exact form: see fl_gelu_wide below.  The tanh form carries v = x (c1 + c3 x^2) (and
 * x v') as double-doubles, e^-|v| as parts times s2 (fl_gelu_exp_parts) applied last, so
 * subnormal results round once; gelu_tanh' within 1/10 of its zero x0 is a polynomial in
 * h = x - x0 (exact); checked against mpmath by tests/test_accuracy.py and
 * tests/test_gelu64.py. */
#define FL_C1H 1.5957691216057308          /* FL_GELU_C1 as a double-double */
#define FL_C1L (-9.96930880911092e-17)
#define FL_C3H 0.07135481627260025         /* FL_GELU_C3 */
#define FL_C3L (-6.175149918155315e-19)
#define FL_GELU_TANH_ROOT_D (-0.7524614220710163)

/* e^x = parts * s2 for x <= 0, as fl_exp_neg_parts_d, but: the polynomial is 1 + r (1 + r B(r)),
 * B of degree 10 (Chebyshev interpolant of (e^r - 1 - r)/r^2 on |r| <= ln2/2: relative error
 * of e^r 3.3e-19), evaluated by Estrin's scheme where `estrin` (a constant after inlining) asks
 * for a short dependency chain (the derivatives, which are latency-bound), and k is read from
 * the bits of the rounding sum: no double -> int64 conversion, which AVX2 lacks (the AVX2
 * clones of loops calling fl_exp_neg_parts_d stay scalar). */
FL_INLINE double fl_gelu_exp_parts(double x, double *s2, int estrin)
{
    x = x < -1100.0 ? -1100.0 : x;
    double km = x * 1.44269504088896338700 + 6755399441055744.0;   /* 1.5*2^52 + k */
    double kf = km - 6755399441055744.0;
    double r = x - kf * FL_LN2_HI_D;
    r = r - kf * FL_LN2_LO_D;
    double b;
    if (estrin) {
        double br2 = r * r;
        double br4 = br2 * br2;
        double br8 = br4 * br4;
        double b0_0 = fl_fma_d(0.1666666666666667, r, 0.5);
        double b0_1 = fl_fma_d(0.008333333333326129, r, 0.04166666666666667);
        double b0_2 = fl_fma_d(0.00019841269874840768, r, 0.0013888888888883744);
        double b0_3 = fl_fma_d(2.7557255374658744e-06, r, 2.4801587325562125e-05);
        double b0_4 = fl_fma_d(2.510522763655176e-08, r, 2.755727362486648e-07);
        double b1_0 = fl_fma_d(b0_1, br2, b0_0);
        double b1_1 = fl_fma_d(b0_3, br2, b0_2);
        double b1_2 = fl_fma_d(2.0914694560351592e-09, br2, b0_4);
        double b2_0 = fl_fma_d(b1_1, br4, b1_0);
        double b3_0 = fl_fma_d(b1_2, br8, b2_0);
        b = b3_0;
    } else {        /* Horner: fewer operations (the forward functions) */
        b = 2.0914694560351592e-09;
        b = fl_fma_d(b, r, 2.510522763655176e-08);
        b = fl_fma_d(b, r, 2.755727362486648e-07);
        b = fl_fma_d(b, r, 2.7557255374658744e-06);
        b = fl_fma_d(b, r, 2.4801587325562125e-05);
        b = fl_fma_d(b, r, 0.00019841269874840768);
        b = fl_fma_d(b, r, 0.0013888888888883744);
        b = fl_fma_d(b, r, 0.008333333333326129);
        b = fl_fma_d(b, r, 0.04166666666666667);
        b = fl_fma_d(b, r, 0.1666666666666667);
        b = fl_fma_d(b, r, 0.5);
    }
    double p = fl_fma_d(r, fl_fma_d(r, b, 1.0), 1.0);
    int64_t k = fl_d2bits(km) - 0x4338000000000000LL;
    int64_t k1 = k >> 1, k2 = k - k1;
    *s2 = fl_bits2d((k2 + 1023) << 52);
    return p * fl_bits2d((k1 + 1023) << 52);
}
/* ---- double, exact form: the float kernel's design (see the float section) carried to double.
 *   H(a) = erfc(a/sqrt2)/2 = M(a) e^{-(a^2+L)/2}, a = min(|x|, 38.75), L = ln(2 pi), with Mills'
 *   ratio M = 1/(a + 1/(a + z)) = D1/D2, z = p/q, p of degree 8, q of degree 9 (q(0) = 1),
 *   D1 = p0 + a (q + (p - p0)/a), D2 = a D1 + q: fitted on [1/2, 38.75] in mpmath (Lawson
 *   iterations on the relative error of M; coefficients rounded to double from the top, the
 *   rest refitted, the last three searched among neighbouring doubles: 2^-57.4).
 *   e^{-(a^2+L)/2} = 2^-k e^{-rr/2}, k from h = a^2 + L (magic sum; k <= 1085), rr = a^2 + L -
 *   k 2ln2 = fma(a, a, c) + j C2LO with c = j C2HI + LHP exact: j = 965 - k is read from the
 *   same sum, 2ln2 = C2HI + C2LO with C2HI on the 2^-42 grid (43 bits, |j| < 1024), and LHP =
 *   L - 965 (2ln2) rounded to that grid is off by only 1.8e-17 (the best lattice point within
 *   reach; 9e-18 relative in H, 0.08 ulp).  |rr| <= ln2: e^{-rr/2} = 1 + rr e1, e1 = -1/2 +
 *   rr e2(rr), fl_expm1_red_d's polynomial at r = -rr/2 (coefficients scaled by powers of 2:
 *   3.4e-19).
 *   H 2^(k-64) = (Q + QL)(1 + rr e1): Q = D1 2^-64 (1/D2) and QL = (D1 (2^-64 - Q a) - Q q)/D2,
 *   the remainder against a D1 + q itself, so that the roundings of D2 and of the quotient drop
 *   out and what is left is weighted by 1 - aM; bh + bl = Q + (Q rr e1 + QL) by Fast2Sum, the
 *   result fma(-A, bh, fma(-A, bl, C)), A = a 2^(64-k) (exact and normal), C = x (x >= 0) or
 *   -0: one rounding, also into the subnormal range, and x itself for large x without a select.
 *   |x| < 1/2, where the roundings of D1, D2 and q would count undamped: x/2 + x^2 S(x^2), S of
 *   degree 7 (minimax, 2^-58), with the sign of x ORed in (gelu(-0) = -0).
 *   gelu' = Phi(x) + x phi(x) = (a0 - a) R(a) e^{-(a^2+L)/2} (x < 0) or 1 minus that, -a0 =
 *   -0.75179... its zero, R = (a - M)/(a - a0) = 1 + p/q, p/q of degree 9/10 fitted on
 *   [0.29, 38.75] as M (2^-56.5).  (a - a0) 2^-64 = hh + hl exactly (TwoSum of a 2^-64 and
 *   -a0h 2^-64, minus a0l 2^-64), so gelu' keeps its relative accuracy through its zero
 *   without a window; Q = hh (q + p)/q with the remainder (hh - Q) q + hh p + hl (q + p)
 *   (hh - Q exact by Sterbenz: 1 <= R <= 5/3), then as gelu, except that QL enters rr's product
 *   too (next to a0, hh can be 0 and QL all of gelu').  |x| < 0.3: 1/2 + x D(x^2), D of degree
 *   6 (minimax, 2^-57.5).  Both pieces are computed and selected per lane; one division each.
 *   Measured against a __float128 reference (libquadmath erfcq, checked against mpmath) on ~45e6
 *   points (a dense grid over [-39, 9], random bit patterns, the subnormal tail, the k steps,
 *   the seams, the ranges where the worst errors sit) and by the tests against mpmath: gelu
 *   <= 1.94 ulp (x = -9.86262), gelu' <= 2.39 ulp (x = -1.25183), next to its zero <= 1.5.
 *   AVX-512 loops: 88 instructions per 8 lanes (gelu), 96 / 97 (gelu', without / with
 *   grad_output); 2.5 ns per element on a Zen4 core (1e6 elements; the former kernel, erfcx as a
 *   degree-20 polynomial in two pieces with double-double arguments: 1.7 ulp, 177 / 242
 *   instructions, 4.7 / 5.7 ns). */
#define FL_G64_AMAX 38.75
#define FL_G64_B 0x1p-64
#define FL_G64_SHIFT (6755399441055744.0 + 1023.0 + 64.0)    /* 1.5 2^52 + bias + 64 */
#define FL_G64_SHIFTJ (FL_G64_SHIFT - 965.0)
#define FL_G64_C2HI 1.3862943611197807                        /* 2 ln2 on the 2^-42 grid */
#define FL_G64_C2LO 1.0995846037416742e-13
#define FL_G64_LHP (-1335.936181414285)                       /* ln(2pi) - 965 (2 ln2) */
#define FL_G64_L 1.8378770664093456                           /* ln(2pi), for k only */
#define FL_G64_A0H 0.7517915246935645                         /* gelu''s zero -a0 = a0h + a0l */
#define FL_G64_A0L (-1.4956759177009883e-17)
/* rr with e^{-(a^2+L)/2} = 2^-k e^{-rr/2}, |rr| <= ln2; *s1 = 2^(64-k) */
FL_INLINE double fl_g64_red(double a, double *s1)
{
    double h = fl_fma_d(a, a, FL_G64_L);
    double km = fl_fma_d(h, -0.7213475204444817, FL_G64_SHIFT);
    double j = km - FL_G64_SHIFTJ;
    double c = fl_fma_d(j, FL_G64_C2HI, FL_G64_LHP);           /* L - k C2HI - 965 C2LO, exact */
    double rr = fl_fma_d(a, a, c);
    *s1 = fl_bits2d((int64_t)((uint64_t)fl_d2bits(km) << 52));
    return fl_fma_d(j, FL_G64_C2LO, rr);
}
/* e2(rr) = ((e^{-rr/2} - 1)/rr + 1/2)/rr */
FL_INLINE double fl_g64_e2(double rr)
{
    double e = 5.106124748068085e-13;
    e = fl_fma_d(e, rr, -1.2258406740586301e-11);
    e = fl_fma_d(e, rr, 2.69114000420999e-10);
    e = fl_fma_d(e, rr, -5.382276445352817e-09);
    e = fl_fma_d(e, rr, 9.688120049042087e-08);
    e = fl_fma_d(e, rr, -1.5500992089703614e-06);
    e = fl_fma_d(e, rr, 2.1701388888880856e-05);
    e = fl_fma_d(e, rr, -0.00026041666666644175);
    e = fl_fma_d(e, rr, 0.002604166666666667);
    e = fl_fma_d(e, rr, -0.02083333333333334);
    e = fl_fma_d(e, rr, 0.125);
    return e;
}
/* Mills' ratio M(a) = d1/d2 (a >= 1/2); *q_ = q */
FL_INLINE void fl_g64_mills(double a, double *d1, double *d2, double *q_)
{
    double pp = 2.5953057195712247e-06;
    pp = fl_fma_d(pp, a, 7.021910889599317e-05);
    pp = fl_fma_d(pp, a, 0.0009467787389291732);
    pp = fl_fma_d(pp, a, 0.008164390749749941);
    pp = fl_fma_d(pp, a, 0.04895004361334425);
    pp = fl_fma_d(pp, a, 0.20910893154926397);
    pp = fl_fma_d(pp, a, 0.6264146350298961);
    pp = fl_fma_d(pp, a, 1.223847908383053);
    double q = 1.2976528554059237e-06;
    q = fl_fma_d(q, a, 3.510955515064343e-05);
    q = fl_fma_d(q, a, 0.0004772822773988525);
    q = fl_fma_d(q, a, 0.0041875262370471246);
    q = fl_fma_d(q, a, 0.025879553053070794);
    q = fl_fma_d(q, a, 0.11638114020746626);
    q = fl_fma_d(q, a, 0.3810688059047045);
    q = fl_fma_d(q, a, 0.8806893005664096);
    q = fl_fma_d(q, a, 1.3189443351916748);
    q = fl_fma_d(q, a, 1.0);
    double n1 = fl_fma_d(a, q + pp, 1.2533141373187304);
    *d1 = n1;
    *d2 = fl_fma_d(a, n1, q);
    *q_ = q;
}
/* R(a) = 1 + p/q (a >= 0.29) */
FL_INLINE void fl_g64_rq(double a, double *p_, double *q_)
{
    double p = 2.0418261354166446e-06;
    p = fl_fma_d(p, a, 5.5877618616856275e-05);
    p = fl_fma_d(p, a, 0.0007443987805608895);
    p = fl_fma_d(p, a, 0.006248189241721775);
    p = fl_fma_d(p, a, 0.036132688836853);
    p = fl_fma_d(p, a, 0.14867155000841933);
    p = fl_fma_d(p, a, 0.43469154254329817);
    p = fl_fma_d(p, a, 0.872406551461026);
    p = fl_fma_d(p, a, 1.0968879802640346);
    p = fl_fma_d(p, a, 0.6671033074313287);
    double q = 2.7159472651016735e-06;
    q = fl_fma_d(q, a, 7.589675651292788e-05);
    q = fl_fma_d(q, a, 0.001035243403845799);
    q = fl_fma_d(q, a, 0.008940090146931137);
    q = fl_fma_d(q, a, 0.05360468327978457);
    q = fl_fma_d(q, a, 0.23156005487954004);
    q = fl_fma_d(q, a, 0.7259582033449513);
    q = fl_fma_d(q, a, 1.6241563749802805);
    q = fl_fma_d(q, a, 2.473168444053172);
    q = fl_fma_d(q, a, 2.308027096958955);
    q = fl_fma_d(q, a, 1.0);
    *p_ = p;
    *q_ = q;
}
/* S(u) = (Phi(x) - 1/2)/x, u = x^2 <= 1/4 */
FL_INLINE double fl_g64_s(double u)
{
    double s = -3.9016950378912025e-08;
    s = fl_fma_d(s, u, 6.650794171211029e-07);
    s = fl_fma_d(s, u, -9.444468664283087e-06);
    s = fl_fma_d(s, u, 0.00011543466565988453);
    s = fl_fma_d(s, u, -0.0011873282140831096);
    s = fl_fma_d(s, u, 0.0099735570099921);
    s = fl_fma_d(s, u, -0.06649038006690493);
    s = fl_fma_d(s, u, 0.3989422804014327);
    return s;
}
/* D(u) = (gelu'(x) - 1/2)/x, u = x^2 <= 0.09 */
FL_INLINE double fl_g64_dd(double u)
{
    double s = 9.118053996532626e-06;
    s = fl_fma_d(s, u, -0.00011331051440823581);
    s = fl_fma_d(s, u, 0.0011543453208782385);
    s = fl_fma_d(s, u, -0.009498625674827463);
    s = fl_fma_d(s, u, 0.05984134205947868);
    s = fl_fma_d(s, u, -0.26596152026761766);
    s = fl_fma_d(s, u, 0.7978845608028654);
    return s;
}
FL_INLINE double fl_gelu_wide(double x)
{
    double a = fl_abs_d(x);
    a = a < FL_G64_AMAX ? a : FL_G64_AMAX;                     /* NaN: AMAX, x passes through C */
    double d1, d2, q, s1;
    fl_g64_mills(a, &d1, &d2, &q);
    double rr = fl_g64_red(a, &s1);
    double id = 1.0 / d2;
    double q1 = (d1 * FL_G64_B) * id;
    double rem = fl_fma_d(d1, fl_fma_d(-q1, a, FL_G64_B), -(q1 * q));  /* d1 B - q1 (a d1 + q) */
    double qr = q1 * rr;
    double t = fl_fma_d(qr * rr, fl_g64_e2(rr), fl_fma_d(-0.5, qr, rem * id));
    double bh = q1 + t, bl = t - (bh - q1);
    double A = a * s1;
    double c = x < 0.0 ? -0.0 : x;
    double rm = fl_fma_d(-A, bh, fl_fma_d(-A, bl, c));
    double u = a * a;                                           /* |x| < 1/2 */
    double rs = fl_fma_d(u, fl_g64_s(u), 0.5 * x);
    rs = fl_bits2d(fl_d2bits(rs) | (fl_d2bits(x) & INT64_MIN));
    return fl_abs_d(x) < 0.5 ? rs : rm;
}
FL_INLINE double fl_gelu_wide_d(double x)
{
    double a = fl_abs_d(x);
    a = a > FL_G64_AMAX ? FL_G64_AMAX : a;                     /* NaN propagates */
    double y = a * FL_G64_B, z = -FL_G64_A0H * FL_G64_B;         /* (a - a0) 2^-64 = hh + hl */
    double hh = y + z, bb = hh - y;
    double hl = ((y - (hh - bb)) + (z - bb)) - FL_G64_A0L * FL_G64_B;
    double p, q, s1;
    fl_g64_rq(a, &p, &q);
    double hp = hh * p;
    double id = 1.0 / q;
    double q1 = fl_fma_d(hh, q, hp) * id;
    double ql = fl_fma_d(hl, q + p, fl_fma_d(hh - q1, q, hp)) * id;
    double rr = fl_g64_red(a, &s1);
    double qr = (q1 + ql) * rr;
    double t = fl_fma_d(qr * rr, fl_g64_e2(rr), fl_fma_d(-0.5, qr, ql));
    int neg = x < 0.0;
    double ss1 = neg ? -s1 : s1;
    double c = neg ? 0.0 : 1.0;
    double rm = fl_fma_d(ss1, q1, fl_fma_d(ss1, t, c));
    double rs = fl_fma_d(x, fl_g64_dd(a * a), 0.5);             /* |x| < 0.3 */
    return fl_abs_d(x) < 0.3 ? rs : rm;
}
/* gelu_tanh'(x0 + h) for |h| < 0.1: c0 + h q(h), q a degree-11 Chebyshev interpolant
 * (mpmath: relative error < 1e-18), Horner (Estrin's scheme costs ~2 ulp here) */
FL_INLINE double fl_gelu_tanh_d_root(double h)
{
    double q = -3.477916894057822e-05;
    q = fl_fma_d(q, h, 0.0001237751163378552);
    q = fl_fma_d(q, h, 0.00026392565126548434);
    q = fl_fma_d(q, h, -0.0009274366599130297);
    q = fl_fma_d(q, h, -0.0024227318355653123);
    q = fl_fma_d(q, h, 0.005261059227125251);
    q = fl_fma_d(q, h, 0.01968230945980896);
    q = fl_fma_d(q, h, -0.016619328342987433);
    q = fl_fma_d(q, h, -0.11394448308095896);
    q = fl_fma_d(q, h, -0.015782853521848068);
    q = fl_fma_d(q, h, 0.38751844613578895);
    return fl_fma_d(h, fl_fma_d(q, h, 0.4304000910248585), -1.5647455740893692e-17);
}
/* the tanh form: v = x (c1 + c3 x^2) as vh + vl (double-double), xc = x clamped to [-30, 30];
 * e = exp(-|v|) = p (1 + vs) s2, d + dl = 1 + e exactly; x v' = gh + gl */
FL_INLINE void fl_gelu_tanh_parts(double xc, int grad, double *vh_, double *gh_, double *gl_, double *p_,
                                  double *vs_, double *s2, double *e_, double *d_, double *dl_)
{
    double x2h = xc * xc, x2l = fl_fma_d(xc, xc, -x2h);
    double a = FL_C3H * x2h;                                   /* c3 x^2 = a + al */
    double al = fl_fma_d(FL_C3H, x2h, -a) + (FL_C3H * x2l + FL_C3L * x2h);
    double wh = FL_C1H + a, bb = wh - FL_C1H;                  /* c1 + c3 x^2 = wh + wl */
    double wl = ((FL_C1H - (wh - bb)) + (a - bb)) + (al + FL_C1L);
    double uh = wh + 2.0 * a, ub = uh - wh;                    /* v' = c1 + 3 c3 x^2 = uh + ul */
    double ul = ((wh - (uh - ub)) + (2.0 * a - ub)) + (wl + 2.0 * al);
    double gh = xc * uh;                                       /* x v' = gh + gl */
    *gh_ = gh; *gl_ = fl_fma_d(xc, uh, -gh) + xc * ul;
    double vh = xc * wh, vl = fl_fma_d(xc, wh, -vh) + xc * wl;
    double vs = vh < 0.0 ? vl : -vl;                           /* -|v| = -|vh| + vs */
    double p = fl_gelu_exp_parts(-fl_abs_d(vh), s2, grad);
    /* e only meets 1 (d = 1 + e, x v' e): an error below 2^-200 is harmless, an underflow is
     * not (slow, also in lanes whose value is not selected, and e ~ p enters products with p):
     * s2 clamped at 2^-200 (off the critical path) and 2^-200 added by the same fma */
    double e = fl_fma_d(fl_fma_d(p, vs, p), (*s2 < 0x1p-200 ? 0x1p-200 : *s2), 0x1p-200);
    double d = 1.0 + e;
    *vh_ = vh; *p_ = p; *vs_ = vs; *e_ = e; *d_ = d; *dl_ = (1.0 - d) + e;
}
FL_INLINE double fl_gelu_tanh_wide(double x)
{
    double xc = x < -30.0 ? -30.0 : (x > 30.0 ? 30.0 : x);
    double vh, gh, gl, p, vs, s2, e, d, dl;
    fl_gelu_tanh_parts(xc, 0, &vh, &gh, &gl, &p, &vs, &s2, &e, &d, &dl);
    int neg = vh < 0.0;
    double s2n = neg ? s2 : 0.0;
    s2n = vh < -760.0 ? 0.0 : s2n;   /* no underflow where not needed (see gelu) */
    /* x sigma(v) = N / (d + dl): N = x e / s2 (v < 0, then times s2) or x */
    double nh = neg ? xc * p : xc;
    double nl = neg ? fl_fma_d(xc, p, -nh) + nh * vs : 0.0;
    double inv = 1.0 / d, q = nh * inv, rr = fl_fma_d(-q, d, nh);
    double r = (q + (rr + nl - q * dl) * inv) * (neg ? s2n : 1.0);
    r = x > 30.0 ? x : r;
    r = x == 0.0 ? x : r;                                      /* -0 keeps its sign */
    return x < -30.0 ? -0.0 : r;
}
FL_INLINE double fl_gelu_tanh_wide_d(double x)
{
    double xc = x < -30.0 ? -30.0 : (x > 30.0 ? 30.0 : x);
    double vh, gh, gl, p, vs, s2, e, d, dl;
    fl_gelu_tanh_parts(xc, 1, &vh, &gh, &gl, &p, &vs, &s2, &e, &d, &dl);
    int neg = vh < 0.0;
    double s2n = neg ? s2 : 0.0;
    s2n = vh < -760.0 ? 0.0 : s2n;   /* no underflow where not needed (see gelu) */
    /* v < 0: e (d + x v') / d^2;  v >= 0: (d + x v' e) / d^2 */
    double uh = d + gh, bb = uh - d;
    double ul = ((d - (uh - bb)) + (gh - bb)) + (dl + gl);
    double nh = neg ? p * uh : fl_fma_d(gh, e, d);
    double nl = neg ? fl_fma_d(p, uh, -nh) + p * (ul + uh * vs) : dl + gl * e;
    /* 1/(d + dl) = inv (1 + del), 1/(d + dl)^2 = i2 + i2l */
    double inv = 1.0 / d, del = fl_fma_d(-dl, inv, fl_fma_d(-inv, d, 1.0));
    double i2 = inv * inv, i2l = fl_fma_d(2.0 * del, i2, fl_fma_d(inv, inv, -i2));
    double r = fl_fma_d(nh, i2, fl_fma_d(nl, i2, nh * i2l)) * (neg ? s2n : 1.0);
    double h = x - FL_GELU_TANH_ROOT_D;
    r = fl_abs_d(h) < 0.1 ? fl_gelu_tanh_d_root(h) : r;
    return r;        /* |x| > 30: xc gives 1 / 0 already (e < 2^-190); NaN propagates */
}
#endif

#if FL_T_IS_FLOAT
/* float gelu / gelu': float arithmetic (16 lanes per AVX-512 vector), one division, no
 * compensated (double-word) terms: ~30 vector operations per 16 lanes.
 *   H(a) = erfc(a/sqrt2)/2 = M(a) e^{-(a^2+L)/2}, a = |x| clamped to 15, L = ln(2 pi),
 *   M(a) = sqrt(2 pi) erfcx(a/sqrt2)/2 = 1/(a + 1/(a + z(a))) (Mills' ratio), z = p/q with p of
 *   degree 3, q of degree 4 (fitted in numpy/mpmath: relative error of M 2^-27 after rounding
 *   the coefficients to float).  M = D1/D2 with D1 = a q + p, D2 = a D1 + q: the roundings of
 *   p, q and D1 reach M only through z's share of it (y/(a+y)), so M costs about two roundings
 *   although it is a degree-5/6 rational; the last Horner step of p is folded into D1
 *   (D1 = p0 + a (q + (p - p0)/a)).
 *   e^{-(a^2+L)/2} = 2^k e^{r/2}: k from h = a^2 + L (one fma), r = -a^2 - L - k 2ln2 from
 *   fma(-a, a, -c) with c = kj C2HI + LH' exact (kj = k - 197 read from the same rounding sum;
 *   2ln2 = C2HI + C2LO, C2HI 16 bits, and L = LHI + (-197) C2LO + 4e-9, LHI a multiple of 2^-15:
 *   the lattice point that makes L's low part a multiple of C2LO, so L costs no operation),
 *   then r -= kj C2LO; |r| <= ln2, e^{r/2} = 1 + r e1(r), e1 of degree 5 (minimax, 2^-28).
 *   The result is x - a H (x >= 0) or -a H (x < 0): fma(-A, Bp, C), A = a 2^(k+40) (exact,
 *   normal for every k >= -164), Bp = D1 (1 + r e1) 2^-40 / D2, C = x or -0: one rounding, also
 *   into the subnormal range, and no select for large x (a H underflows against x).
 *   gelu' = Phi(x) + x phi(x) = E G (x < 0) or 1 - E G, G = H e^{a^2/2} - a phi e^{a^2/2}:
 *   sqrt(2 pi) G = -(a - a0) R(a), a0 = 0.7517915... (gelu''s zero), R = 1 + w, w = p/q of
 *   degree 4/4 (relative error of R 2^-26.6): R = (q + p)/q, so again only w's share of the
 *   roundings of p and q counts; (a - a0) 2^-40 = fma(a, 2^-40, -a0h 2^-40) - a0l 2^-40 is
 *   exact next to a0, so gelu' keeps its relative accuracy through its zero without a window.
 *   Everything is branch-free (no select besides the sign's), so the loops vectorize.
 *   Measured over every float with |x| <= 15.5 against double erfc (and by the tests against
 *   mpmath): gelu <= 3.79 ulp (x = -0.32756203), gelu' <= 3.58 ulp (x = -0.03212204); the
 *   worst points are at small |x|, where the roundings of q, D1, D2, the product with e^{r/2},
 *   the division and the final fma all count undamped.  (The former kernel, t = 1/(1 + a/2),
 *   a degree-11 polynomial and compensated terms, ~65 operations: 1.4 / 2.1 ulp at 2x the
 *   time.)  AVX-512 loops: 42 instructions per 16 lanes (gelu), 46 / 47 (gelu', without /
 *   with grad_output); 0.48 / 0.57 ns per element on a Zen4 core (1e6 elements). */
#define FL_G32_B 9.094947017729282e-13f                /* 2^-40 */
#define FL_G32_SHIFT (12582912.0f + 127.0f + 40.0f)    /* 1.5 2^23 + bias + 40 */
#define FL_G32_SHIFTJ (FL_G32_SHIFT + 197.0f)
#define FL_G32_C2HI 1.38629150390625f                  /* 2 ln2, 16 bits */
#define FL_G32_C2LO 2.8572136406188345e-06f
#define FL_G32_LHP 274.9378662109375f                  /* LHI + 197 C2HI, exact */
#define FL_G32_A0H 0.75179153680801391602f             /* gelu''s zero -a0 = a0h + a0l */
#define FL_G32_A0L (-1.2114449887690171e-08f)
/* rr = -r with e^{-(a^2+L)/2} = 2^k e^{-rr/2}, |rr| <= ln2; *s1 = 2^(k+40) */
FL_INLINE float fl_g32_red(float a, float *s1)
{
    float h = fl_fma_f(a, a, 1.8378770664093454836f);
    float km = fl_fma_f(h, -0.72134752044448170368f, FL_G32_SHIFT);
    float kj = km - FL_G32_SHIFTJ;
    float c = fl_fma_f(kj, FL_G32_C2HI, FL_G32_LHP);      /* k C2HI + LHI, exact */
    float rr = fl_fma_f(a, a, c);
    *s1 = fl_bits2f((int32_t)((uint32_t)fl_f2bits(km) << 23));
    return fl_fma_f(kj, FL_G32_C2LO, rr);
}
/* g(rr) = (e^{-rr/2} - 1)/rr, |rr| <= ln2 (minimax, 2^-28 relative in e^{-rr/2} = 1 + rr g) */
FL_INLINE float fl_g32_e1(float rr)
{
    float e = 2.158521965611726e-05f;
    e = fl_fma_f(e, rr, -0.0002615232951939106f);
    e = fl_fma_f(e, rr, 0.0026042743120342493f);
    e = fl_fma_f(e, rr, -0.020833151414990425f);
    e = fl_fma_f(e, rr, 0.1249999850988388f);
    return fl_fma_f(e, rr, -0.5f);
}
FL_INLINE T FN(fl_gelu)(T x, T p0, T p1)
{
    int32_t ab = fl_f2bits(x) & 0x7fffffff;             /* a = min(|x|, 15) as integers */
    float a = fl_bits2f(ab < 0x41700000 ? ab : 0x41700000);   /* (NaN: through c) */
    float pp = 0.014003779739141464f;                   /* (p - p0)/a */
    pp = fl_fma_f(pp, a, 0.1535230576992035f);
    pp = fl_fma_f(pp, a, 0.7120507955551147f);
    float q = 0.007029086351394653f;
    q = fl_fma_f(q, a, 0.07587448507547379f);
    q = fl_fma_f(q, a, 0.3896840810775757f);
    q = fl_fma_f(q, a, 1.1032196283340454f);
    q = fl_fma_f(q, a, 1.5625f);
    float d1 = fl_fma_f(a, q + pp, 1.9583033323287964f);
    float d2 = fl_fma_f(a, d1, q);                      /* M = d1/d2 */
    float s1;
    float r = fl_g32_red(a, &s1);
    float d1s = d1 * FL_G32_B;
    float ne = fl_fma_f(d1s * r, fl_g32_e1(r), d1s);
    float bp = ne / d2;
    float c = x < 0.0f ? -ZERO : x;
    return fl_fma_f(-(a * s1), bp, c);
}
FL_INLINE T FN(fl_gelu_d)(T x, T p0, T p1)
{
    float a = fl_abs_f(x);
    a = a > 15.0f ? 15.0f : a;
    float hs = fl_fma_f(a, FL_G32_B, -FL_G32_A0H * FL_G32_B) - FL_G32_A0L * FL_G32_B;
    float p = 1.452844884397564e-07f;
    p = fl_fma_f(p, a, 0.01972476951777935f);
    p = fl_fma_f(p, a, 0.1545831710100174f);
    p = fl_fma_f(p, a, 0.49087151885032654f);
    p = fl_fma_f(p, a, 0.6671032905578613f);
    float q = 0.026246370747685432f;
    q = fl_fma_f(q, a, 0.22060857713222504f);
    q = fl_fma_f(q, a, 0.7941595315933228f);
    q = fl_fma_f(q, a, 1.399596095085144f);
    q = fl_fma_f(q, a, 1.0f);
    float hn = fl_fma_f(hs, q, hs * p);                 /* (a - a0) (q + p) 2^-40 */
    float s1;
    float r = fl_g32_red(a, &s1);
    float ne = fl_fma_f(hn * r, fl_g32_e1(r), hn);
    float bp = ne / q;                                  /* s1 bp = -E G */
    int32_t xb = fl_f2bits(x);                          /* by the sign bit (-0 as x < 0): */
    float ss1 = fl_bits2f(fl_f2bits(s1) ^ (xb & INT32_MIN));         /* -s1 or s1 */
    float c = fl_bits2f(~(xb >> 31) & 0x3f800000);                   /* 0 or 1 */
    return fl_fma_f(ss1, bp, c);
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
    double dv = (double)FL_GELU_C1 + 3.0 * (double)FL_GELU_C3 * x2;
    /* s + x v' sigma'(v) = (n d + x v' e) / d^2, n = 1 or e: one division; x v' e is 0 where
     * e underflows, which also keeps x = +-inf (x v' = inf) from giving NaN */
    double xe = e == 0.0 ? 0.0 : xd * dv * e;
    return (T)(((v >= 0.0 ? 1.0 : e) * d + xe) / (d * d));
}
#else
FL_INLINE T FN(fl_gelu)(T x, T p0, T p1) { return fl_gelu_wide(x); }
FL_INLINE T FN(fl_gelu_d)(T x, T p0, T p1) { return fl_gelu_wide_d(x); }
FL_INLINE T FN(fl_gelu_tanh)(T x, T p0, T p1) { return fl_gelu_tanh_wide(x); }
FL_INLINE T FN(fl_gelu_tanh_d)(T x, T p0, T p1) { return fl_gelu_tanh_wide_d(x); }
#endif
