/* fl_quad.h -- the widest float type the build has, for a few narrow ill-conditioned
 * windows (a derivative next to its zero): __float128 with libquadmath when setup.py found
 * it (FL_HAVE_QUADMATH), long double otherwise. */
#ifndef FL_QUAD_H
#define FL_QUAD_H
#ifdef FL_HAVE_QUADMATH
#include <quadmath.h>
typedef __float128 fl_quad;
#define FL_Q(c) c##Q
#define FL_QEXP expq
#define FL_QERFC erfcq
#else
typedef long double fl_quad;
#define FL_Q(c) c##L
#define FL_QEXP expl
#define FL_QERFC erfcl
#endif
#endif
