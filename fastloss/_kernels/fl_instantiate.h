/* fl_instantiate.h -- instantiate the template named by FL_TEMPLATE for float and double.
 *
 *     #define FL_TEMPLATE "fl_act_tmpl.h"
 *     #include "fl_instantiate.h"
 *
 * Inside the template: T is the type, FN(name) appends its suffix (_f / _d),
 * FL_T_IS_FLOAT tells which one is being compiled.  No include guard: used once per template.
 */
#define FL_CAT_(a, b) a##b
#define FL_CAT(a, b) FL_CAT_(a, b)

#define T float
#define S _f
#define FL_T_IS_FLOAT 1
#include FL_TEMPLATE
#undef T
#undef S
#undef FL_T_IS_FLOAT

#define T double
#define S _d
#define FL_T_IS_FLOAT 0
#include FL_TEMPLATE
#undef T
#undef S
#undef FL_T_IS_FLOAT
#undef FL_TEMPLATE
