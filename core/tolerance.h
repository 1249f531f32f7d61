/* core/tolerance.h — what a fast-mode answer claims (docs/fast-mode.md): the
 * modes a request runs in, the tolerance of a model's fast-mode outputs (the
 * depth rule, or model.json's "fast_tolerance"), its text form in receipt
 * parameters, and the element-wise comparison a verifier runs against an
 * exact re-execution. Exact mode claims bits; fast mode claims
 *     |fast - exact| <= atol + rtol * |exact|   for every FP32 output element
 * with NaN and infinities matching exactly and other datatypes bit for bit. */
#ifndef VI_TOLERANCE_H
#define VI_TOLERANCE_H

#include <stddef.h>
#include <stdint.h>

#include "graph.h"
#include "status.h"
#include "tensor.h"

/* How a request runs. DEFAULT (0) means "as the model says" (model.json
 * "mode", itself exact when absent). */
typedef enum { VI_MODE_DEFAULT = 0, VI_MODE_EXACT = 1, VI_MODE_FAST = 2 } vi_mode;

/* Receipt parameter keys of a fast-mode answer's tolerance. */
#define VI_PARAM_TOL_RTOL "tolerance_rtol"
#define VI_PARAM_TOL_ATOL "tolerance_atol"

/* The depth rule: rtol = atol = this times the model's GEMM depth. */
#define VI_FAST_TOL_PER_GEMM 0x1p-7

/* Text buffer for one tolerance value (shortest round-trip decimal). */
#define VI_TOL_TEXT_MAX 32

typedef struct vi_tolerance {
    double rtol, atol; /* finite, >= 0 */
} vi_tolerance;

/* "exact", "fast", or "default". */
const char *vi_mode_name(vi_mode m);

/* Parses "exact" or "fast"; returns VI_MODE_DEFAULT for anything else. */
vi_mode vi_mode_from_name(const char *s);

/* The mode a request runs in: `asked` unless it is DEFAULT, then the model's. */
vi_mode vi_mode_resolve(const vi_graph *g, vi_mode asked);

/* The longest chain of linear and matmul nodes on a path from a model input
 * to a model output (0 when the graph has none). */
int vi_graph_gemm_depth(const vi_graph *g);

/* The tolerance fast-mode answers of this model claim: model.json's
 * "fast_tolerance" when given, else rtol = atol = depth * 2^-7 (the depth
 * rule; 0 for a model without linear or matmul, whose fast answers are
 * exact). */
void vi_tolerance_of_model(const vi_graph *g, vi_tolerance *t);

/* Writes v as the shortest decimal that reads back to the same binary64
 * ("0.0234375", "0.001", "0"). */
void vi_tolerance_format(double v, char out[VI_TOL_TEXT_MAX]);

/* Parses a tolerance value of receipt parameter `key`: a whole decimal
 * number, finite and >= 0. VI_ERR_INVALID naming the key otherwise. */
vi_status vi_tolerance_parse(const char *key, const char *text, double *out, vi_error *err);

/* What a comparison found. */
typedef struct vi_tol_report {
    int64_t elements; /* elements compared */
    double max_abs;   /* largest |claimed - exact| over finite FP32 pairs (0 if none) */
    double max_rel;   /* largest |claimed - exact| / |exact| over those with exact != 0 */
} vi_tol_report;

/* Compares claimed tensors with exact ones, matched by name: both lists hold
 * the same names with the same datatypes and shapes. FP32 elements must
 * satisfy |a - b| <= atol + rtol * |b| (a claimed, b exact; computed in
 * binary64), a NaN only against a NaN and an infinity only against the same
 * infinity; other datatypes must be equal bit for bit. Returns VI_OK with
 * rep filled, or VI_ERR_VERIFY naming the output and the first element
 * outside the tolerance (VI_ERR_INVALID for NULL arguments). */
vi_status vi_tolerance_compare(const vi_tolerance *tol, const vi_tensor *claimed, int n_claimed,
                               const vi_tensor *exact, int n_exact, vi_tol_report *rep,
                               vi_error *err);

#endif
