/* fl_ctc_tmpl.h -- CTC forward-backward for one sequence, written once.
 * Included by fl_ctc.h with T = float, S = _f and with T = double, S = _d.
 *
 * Extended labels l' = (blank, l1, blank, l2, ..., lS, blank), L = 2S+1 states.
 * In log space, with e_t(s) = lp[t, l'(s)]:
 *   alpha_t(s) = e_t(s) + lse(alpha_{t-1}(s), alpha_{t-1}(s-1), [alpha_{t-1}(s-2)])
 *   beta_t(s)  = e_t(s) + lse(beta_{t+1}(s), beta_{t+1}(s+1), [beta_{t+1}(s+2)])
 * where the s-2 (s+2) skip is allowed into (out of) a non-blank label that differs from the
 * label two states back.  nll = -lse(alpha_{len-1}(L-1), alpha_{len-1}(L-2)).
 * Gradient w.r.t. log_probs, PyTorch's formula: for t < len
 *   grad[t, c] = gr * (exp(lp[t, c]) - sum_{s: l'(s) = c} gamma_t(s)),
 *   gamma_t(s) = exp(alpha_t(s) + beta_t(s) - e_t(s) + nll)   (state posterior, in [0, 1]),
 * and 0 for t >= len.  (When lp is a log_softmax, this is exactly d loss / d logits; as a
 * derivative w.r.t. free log_probs it carries the extra exp(lp) term, as torch's does.)
 *
 * Rows of alpha/beta are W = L + 4 wide, states at [2, L+2), two -inf pads on each side so
 * that the s-1, s-2, s+1, s+2 reads need no boundary tests; the state loops vectorize.
 */
#define FN(name) FL_CAT(name, S)
#define NEG_INF ((T)-INFINITY)
#define LOWEST ((T)-1e30)

/* log(e^a + e^b + e^c), stable: the max m is factored out.  All -inf: m is raised to a
 * finite LOWEST, every exp is 0 and the result -inf; a NaN argument gives NaN through its
 * exp.  (max(m, LOWEST) instead of a test for -inf: gcc 12 vectorizes only the former.) */
static inline T FN(fl_ctc_lse3)(T a, T b, T c)
{
    T m = FN(fl_max)(FN(fl_max)(FN(fl_max)(a, b), c), LOWEST);
    T sum = FN(fl_exp_neg)(a - m) + FN(fl_exp_neg)(b - m) + FN(fl_exp_neg)(c - m);
    return m + FN(fl_log)(sum);
}

/* e^x for any x (log_probs need not be normalized): 1 / e^-x above 0. */
static inline T FN(fl_ctc_exp)(T x)
{
    T e = FN(fl_exp_neg)(-FN(fl_abs)(x));
    return x > (T)0 ? (T)1 / e : e;
}

/* em[s] = lpt[lab[s]]: the emissions, gathered once so that the steps vectorize. */
static inline void FN(fl_ctc_emit)(const T *lpt, const Py_ssize_t *lab, T *em, Py_ssize_t L)
{
    for (Py_ssize_t s = 0; s < L; s++)
        em[s] = lpt[lab[s]];
}

/* One alpha step: cur[s] = em[s] + lse(prev[s], prev[s-1], skip[s] ? prev[s-2] : -inf). */
static FL_CLONES void FN(fl_ctc_alpha_step)(const T *prev, T *cur, const T *skip,
                                            const T *em, Py_ssize_t L)
{
    for (Py_ssize_t s = 0; s < L; s++) {
        T p2 = prev[s - 2];                         /* loaded unconditionally: vectorizes */
        T c = skip[s] != (T)0 ? p2 : NEG_INF;
        cur[s] = em[s] + FN(fl_ctc_lse3)(prev[s], prev[s - 1], c);
    }
}

/* One beta step: bx[s] = lse(next[s], next[s+1], skip[s+2] ? next[s+2] : -inf) (beta without
 * its emission), cur[s] = e(s) + bx[s]. */
static FL_CLONES void FN(fl_ctc_beta_step)(const T *next, T *cur, T *bx, const T *skip,
                                           const T *em, Py_ssize_t L)
{
    for (Py_ssize_t s = 0; s < L; s++) {
        T n2 = next[s + 2];
        T c = skip[s + 2] != (T)0 ? n2 : NEG_INF;
        T x = FN(fl_ctc_lse3)(next[s], next[s + 1], c);
        bx[s] = x;
        cur[s] = em[s] + x;
    }
}

/* gamma[s] = exp(alpha[s] + bx[s] + nll), clamped to <= 1 (NaN propagates). */
static FL_CLONES void FN(fl_ctc_gamma)(const T *alpha, const T *bx, T nll, T *gamma,
                                       Py_ssize_t L)
{
    for (Py_ssize_t s = 0; s < L; s++) {
        T x = alpha[s] + bx[s] + nll;
        gamma[s] = FN(fl_exp_neg)(x > (T)0 ? (T)0 : x);
    }
}

/* row[c] = gr * (exp(lpt[c]) - acc[c]) */
static FL_CLONES void FN(fl_ctc_grad_row)(const T *lpt, const T *acc, T gr, T *row,
                                          Py_ssize_t C)
{
    for (Py_ssize_t c = 0; c < C; c++)
        row[c] = gr * (FN(fl_ctc_exp)(lpt[c]) - acc[c]);
}

/* Negative log-likelihood of one sequence; its gradient rows when grad != NULL.
 *   lp, grad  IN/OUT  the sequence's column: row t at lp + t * rs (rs = N * C), C entries
 *   tg        IN      its tl labels (checked: in [0, C), != blank)
 *   len       IN      its input length (<= steps, the number of rows)
 *   gr        IN      d(reduced loss)/d(nll) for this sequence
 *   work      IN      fl_ctc_work_bytes(steps, tl, C) bytes (or more), 64-byte aligned */
static double FN(fl_ctc_one)(const T *lp, Py_ssize_t rs, Py_ssize_t C, const int64_t *tg,
                             Py_ssize_t tl, Py_ssize_t len, Py_ssize_t steps, Py_ssize_t blank,
                             T *grad, double gr, int zero_infinity, char *work)
{
    Py_ssize_t L = 2 * tl + 1, W = L + 4, s, t;
    Py_ssize_t *lab = (Py_ssize_t *)work;
    T *skip = (T *)(work + fl_ctc_align(L * sizeof(Py_ssize_t)));   /* W entries */
    T *acc = skip + fl_ctc_align_n(W, sizeof(T));                    /* C entries */
    T *rows = acc + fl_ctc_align_n(C, sizeof(T));   /* alpha: len rows (2 without grad) */
    Py_ssize_t arows = grad != NULL ? len : 2;
    T *beta = rows + arows * W, *beta2 = beta + W, *bx = beta2 + W, *gamma = bx + W;
    T *em = gamma + L;

    for (s = 0; s < L; s++)
        lab[s] = (s & 1) ? (Py_ssize_t)tg[s >> 1] : blank;
    /* skip[2 + s] = 1: the s-2 -> s transition is allowed (s a label unlike l'(s-2)) */
    for (s = 0; s < W; s++)
        skip[s] = (T)(s >= 4 && s < L + 2 && ((s - 2) & 1) && lab[s - 2] != lab[s - 4]);
    if (len == 0) {
        double nll = tl == 0 ? 0.0 : INFINITY;
        for (t = 0; grad != NULL && t < steps; t++)
            memset(grad + t * rs, 0, C * sizeof(T));
        return zero_infinity && nll == INFINITY ? 0.0 : nll;
    }

    /* forward: alpha_0 = (lp[0, blank], lp[0, l1], -inf, ...) */
    for (t = 0; t < arows; t++)
        for (s = 0; s < W; s++)
            rows[t * W + s] = NEG_INF;
    rows[2] = lp[blank];
    if (L > 1)
        rows[3] = lp[lab[1]];
    T *prev = rows + 2;
    for (t = 1; t < len; t++) {
        T *cur = grad != NULL ? rows + t * W + 2 : rows + (t & 1) * W + 2;
        FN(fl_ctc_emit)(lp + t * rs, lab, em, L);
        FN(fl_ctc_alpha_step)(prev, cur, skip + 2, em, L);
        prev = cur;
    }
    T a1 = prev[L - 1], a2 = L > 1 ? prev[L - 2] : NEG_INF;
    T nll = -FN(fl_ctc_lse3)(a1, a2, NEG_INF);
    double res = zero_infinity && nll == (T)INFINITY ? 0.0 : (double)nll;
    if (grad == NULL)
        return res;

    for (t = len; t < steps; t++)
        memset(grad + t * rs, 0, C * sizeof(T));
    if (!(nll < (T)INFINITY)) {         /* impossible alignment (inf) or NaN: as PyTorch */
        T fill = zero_infinity && nll == (T)INFINITY ? (T)0 : (T)NAN;
        for (t = 0; t < len; t++)
            for (Py_ssize_t c = 0; c < C; c++)
                grad[t * rs + c] = fill;
        return res;
    }

    /* backward: beta_{len-1} = (..., lp[len-1, lS], lp[len-1, blank]), bx = 0 there */
    for (s = 0; s < W; s++) {
        beta[s] = beta2[s] = bx[s] = NEG_INF;
    }
    for (Py_ssize_t c = 0; c < C; c++)
        acc[c] = (T)0;
    const T *lpl = lp + (len - 1) * rs;
    bx[L + 1] = (T)0;
    beta[L + 1] = lpl[blank];
    if (L > 1) {
        bx[L] = (T)0;
        beta[L] = lpl[lab[L - 2]];
    }
    T *cur = beta + 2, *next = beta2 + 2;
    for (t = len - 1; t >= 0; t--) {
        const T *lpt = lp + t * rs;
        if (t < len - 1) {
            FN(fl_ctc_emit)(lpt, lab, em, L);
            FN(fl_ctc_beta_step)(next, cur, bx + 2, skip + 2, em, L);
        }
        FN(fl_ctc_gamma)(rows + t * W + 2, bx + 2, nll, gamma, L);
        for (s = 0; s < L; s++)
            acc[lab[s]] += gamma[s];
        FN(fl_ctc_grad_row)(lpt, acc, (T)gr, grad + t * rs, C);
        for (s = 0; s < L; s++)
            acc[lab[s]] = (T)0;
        T *tmp = cur; cur = next; next = tmp;
    }
    return res;
}

#undef FN
#undef NEG_INF
#undef LOWEST
