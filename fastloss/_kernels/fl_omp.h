/* fl_omp.h -- OpenMP when the build has it, a serial stand-in otherwise. */
#ifndef FL_OMP_H
#define FL_OMP_H
#ifdef _OPENMP
#include <omp.h>
#define FL_HAVE_OPENMP 1
#else
static inline int omp_get_max_threads(void) { return 1; }
#define FL_HAVE_OPENMP 0
#endif
#endif
