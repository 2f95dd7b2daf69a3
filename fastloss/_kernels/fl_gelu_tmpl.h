/* GELU, exact (x Phi(x) = x/2 erfc(-x/sqrt2)) and tanh approximation
 * (x/2 (1 + tanh u), u = sqrt(2/pi)(x + 0.044715 x^3), rewritten as x sigmoid(2u)).
 *
 * Both are ill-conditioned in the negative tail: the relative error of the argument of
 * erfc / exp is multiplied by ~2z^2 (resp. |2u|).  The float tanh form is evaluated in
 * double; the float exact form in float, with x^2 entering the exponent exactly through fmas
 * (see the float section); double carries the amplified quantities (x^2, z = |x|/sqrt2,
 * v = 2u) as double-double.  All are branch-free: every candidate form is computed and
 * selected per lane, no libm call, so the block loops vectorize.
 * Derivatives: gelu' = Phi(x) + x phi(x); gelu_tanh' = s + x sigma'(2u) 2u', s = sigma(2u).
 * Both derivatives cross zero (x0 = -0.75179..., -0.75246...), where the two terms cancel:
 * next to x0 double uses a polynomial in h = x - x0 (exact), fitted in mpmath; float gelu'
 * carries the factor (|x| - a0) explicitly (see the float section), so they stay within a
 * few ulp of the true value.
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
 * erfcx(z) = t P(s), t = K/(K+z) (K = 4), P(s) a degree-20 polynomial fitted (Chebyshev
 * interpolation in mpmath, truncation < 4e-20) on two pieces selected per lane: t in [1/2, 1]
 * with s = t - 3/4 and t in [1/8, 1/2] with s = t - 1/4 (both differences exact, Sterbenz).
 * Everything that the negative tail amplifies is carried one word further: z = |x|/sqrt2
 * (zl), the roundings of K + z and K/d (tl), P's constant term and the products that follow,
 * x^2 = x2h + x2l (exp(-x^2/2) = exp(-x2h/2)(1 - x2l/2)); e^x is applied as parts times s2
 * (fl_gelu_exp_parts) last, so subnormal results round once.  Derivative: with B = erfcx(z)/2 -
 * |x|/sqrt(2pi) (double-double), gelu' = E B (x < 0) or 1 - E B, E = exp(-x^2/2); within 1/4 of
 * its zero x0 a polynomial in h = x - x0 (exact) is selected instead (gelu_tanh': within 1/10).
 * Measured against mpmath: <= 1.7 ulp (tests/test_accuracy.py, tests/test_gelu64.py). */
#define FL_GELU_K 4.0
#define FL_R2H 0.7071067811865476          /* 1/sqrt2 = FL_R2H + FL_R2L */
#define FL_R2L (-4.833646656726457e-17)
#define FL_RPH 0.3989422804014327          /* 1/sqrt(2pi) */
#define FL_RPL (-2.49232720227773e-17)
#define FL_C1H 1.5957691216057308          /* FL_GELU_C1 as a double-double */
#define FL_C1L (-9.96930880911092e-17)
#define FL_C3H 0.07135481627260025         /* FL_GELU_C3 */
#define FL_C3L (-6.175149918155315e-19)
#define FL_GELU_ROOT_D (-0.7517915246935645)
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
/* erfcx(z + zl) as oh + ol (relative error ~2^-55), 0 <= z <= 28 */
FL_INLINE void fl_erfcx_dd(double z, double zl, double *oh, double *ol)
{
    double big = z > FL_GELU_K ? z : FL_GELU_K, sml = z > FL_GELU_K ? FL_GELU_K : z;
    double d = big + sml, dl = (sml - (d - big)) + zl;        /* K + z + zl = d + dl */
    double t = FL_GELU_K / d, r = fl_fma_d(-t, d, FL_GELU_K);
    double tl = (r - t * dl) * (t * (1.0 / FL_GELU_K));       /* K/(d + dl) = t + tl */
    int a = t >= 0.5;
    double s = (t - (a ? 0.75 : 0.25)) + tl;
    double p = (a ? 0.0026175579596277674 : 0.0027780606792477897);
    p = fl_fma_d(p, s, (a ? 0.0021321433614441745 : -0.002720376351134887));
    p = fl_fma_d(p, s, (a ? -0.00723674398529851 : -0.003006903127382174));
    p = fl_fma_d(p, s, (a ? -0.0033718349014854165 : 1.742616928295238e-05));
    p = fl_fma_d(p, s, (a ? 0.016955044989740358 : 0.004970827178267769));
    p = fl_fma_d(p, s, (a ? 0.0056521054095232635 : 0.0061447712195901675));
    p = fl_fma_d(p, s, (a ? -0.03978082522763041 : -0.0006880130153647609));
    p = fl_fma_d(p, s, (a ? -0.019025298862694204 : -0.012916944160561739));
    p = fl_fma_d(p, s, (a ? 0.09391248416728203 : -0.020308869594686967));
    p = fl_fma_d(p, s, (a ? 0.0953275396458512 : -0.00954171138339643));
    p = fl_fma_d(p, s, (a ? -0.18667060995186735 : 0.02865054551187219));
    p = fl_fma_d(p, s, (a ? -0.4554556604304515 : 0.09406982278247719));
    p = fl_fma_d(p, s, (a ? -0.040262920303382216 : 0.1763049524280858));
    p = fl_fma_d(p, s, (a ? 1.3876627589373767 : 0.2586252127992683));
    p = fl_fma_d(p, s, (a ? 3.2979477978367098 : 0.32412684581554024));
    p = fl_fma_d(p, s, (a ? 4.654561867642761 : 0.36112865719757015));
    p = fl_fma_d(p, s, (a ? 4.774394979011388 : 0.36581763512074406));
    p = fl_fma_d(p, s, (a ? 3.7935024838859914 : 0.34179981980168567));
    p = fl_fma_d(p, s, (a ? 2.3898481455404954 : 0.2975271604740946));
    p = fl_fma_d(p, s, (a ? 1.1963944570122624 : 0.24306532470564118));
    double c0h = a ? 0.46817959203854037 : 0.18741688405957505;
    double c0l = a ? 2.2405427137640072e-17 : 5.326707410968449e-18;
    double sp = s * p, spl = fl_fma_d(s, p, -sp);
    double ph = c0h + sp, bb = ph - c0h;
    double pl = ((c0h - (ph - bb)) + (sp - bb)) + (spl + c0l);
    double h = t * ph;
    *oh = h;
    *ol = fl_fma_d(t, ph, -h) + (t * pl + tl * ph);
}
/* the pieces of exact gelu shared by gelu and gelu': xa = min(|x|, 40), erfcx(|x|/sqrt2) as
 * oh + ol, E = exp(-x^2/2) = parts * s2 * (1 - c), c = x2l/2 */
FL_INLINE void fl_gelu_parts(double x, int grad, double *xa_, double *oh, double *ol, double *parts,
                             double *s2, double *c)
{
    double xa = fl_abs_d(x);
    xa = xa > 40.0 ? 40.0 : xa;                                /* NaN propagates */
    double zh = xa * FL_R2H, zl = fl_fma_d(xa, FL_R2H, -zh) + xa * FL_R2L;
    zl = zh < 28.0 ? zl : 0.0;
    zh = zh < 28.0 ? zh : 28.0;
    fl_erfcx_dd(zh, zl, oh, ol);
    double x2h = xa * xa, x2l = fl_fma_d(xa, xa, -x2h);
    *parts = fl_gelu_exp_parts(-0.5 * x2h, s2, grad);
    *c = 0.5 * x2l;
    *xa_ = xa;
}
FL_INLINE double fl_gelu_wide(double x)
{
    double xa, oh, ol, p, s2, c;
    fl_gelu_parts(x, 0, &xa, &oh, &ol, &p, &s2, &c);
    double mh = oh * p, ml = fl_fma_d(oh, p, -mh) + (ol * p - mh * c);  /* erfc(z) / s2 */
    /* no underflowing operations outside the results that are subnormal (they are slow, and
     * gcc evaluates both arms of the select for every lane): the tail's scale is 0 where the
     * result rounds to 0 anyway (|x| > 39) or is not selected (x > 0), and 1 - erfc/2 only
     * needs erfc/2 < 2^-60 there */
    double hs2 = 0.5 * s2;
    double sn = x <= 0.0 ? hs2 : 0.0;                          /* (single selects: nested */
    sn = xa > 39.0 ? 0.0 : sn;                                 /*  ones stop vectorization) */
    double rn = fl_fma_d(x, mh, x * ml) * sn;                  /* x Phi(x) */
    double rp = fl_fma_d(-x, mh * (xa > 37.0 ? 0x1p-200 : hs2), x);  /* x (1 - erfc/2) */
    double r = x <= 0.0 ? rn : rp;
    r = x > 40.0 ? x : r;
    return x < -40.0 ? -0.0 : r;
}
/* gelu'(x0 + h) for |h| < 0.25: c0 + h q(h), q a degree-13 Chebyshev interpolant
 * (mpmath: relative error < 1e-18), Horner (Estrin's scheme costs ~2 ulp here) */
FL_INLINE double fl_gelu_d_root(double h)
{
    double q = 4.324539481246781e-07;
    q = fl_fma_d(q, h, -7.624737760330688e-06);
    q = fl_fma_d(q, h, -1.1214345457569661e-05);
    q = fl_fma_d(q, h, 8.614887475855903e-05);
    q = fl_fma_d(q, h, 0.0001863397447295607);
    q = fl_fma_d(q, h, -0.0007448263873892629);
    q = fl_fma_d(q, h, -0.002239538068040349);
    q = fl_fma_d(q, h, 0.00453922836926059);
    q = fl_fma_d(q, h, 0.019421679838188717);
    q = fl_fma_d(q, h, -0.014771522148141623);
    q = fl_fma_d(q, h, -0.1140082332972217);
    q = fl_fma_d(q, h, -0.018199676398671483);
    q = fl_fma_d(q, h, 0.388284982990552);
    return fl_fma_d(h, fl_fma_d(q, h, 0.4314939923140469), -6.453751729367753e-18);
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
FL_INLINE double fl_gelu_wide_d(double x)
{
    double xa, oh, ol, p, s2, c;
    fl_gelu_parts(x, 1, &xa, &oh, &ol, &p, &s2, &c);
    /* B = erfcx(z)/2 - |x|/sqrt(2pi) = bh + bl */
    double b0 = 0.5 * oh, q = xa * FL_RPH, ql = fl_fma_d(xa, FL_RPH, -q) + xa * FL_RPL;
    double bh = b0 - q, bb = bh - b0;
    double bl = ((b0 - (bh - bb)) + (-q - bb)) + (0.5 * ol - ql);
    double sn = x < 0.0 ? s2 : 0.0;
    sn = xa > 39.0 ? 0.0 : sn;
    double rn = fl_fma_d(bh, p, p * (bl - bh * c)) * sn;       /* x < 0: E B */
    double rp = 1.0 - (bh * p) * (xa > 37.0 ? 0x1p-200 : s2);  /* x >= 0: 1 - E B (see gelu) */
    double h = x - FL_GELU_ROOT_D;
    double r = x < 0.0 ? rn : rp;
    r = fl_abs_d(h) < 0.25 ? fl_gelu_d_root(h) : r;
    r = x > 40.0 ? 1.0 : r;
    return x < -40.0 ? 0.0 : r;
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
