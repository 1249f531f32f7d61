/* models/gen_presets.c — the generator presets: "mlp" (a classifier of
 * configurable depth) and "all-ops" (every model.json op at least once). */
#include <stdio.h>

#include "gen_plan.h"

/* ==== mlp ==== */

static void activation(vi_gen_plan *p, vi_gen_act act, const char *in, const char *out)
{
    switch (act) {
    case VI_GEN_ACT_GELU:
        vi_gen_gelu(p, in, out, 0);
        break;
    case VI_GEN_ACT_GELU_TANH:
        vi_gen_gelu(p, in, out, 1);
        break;
    case VI_GEN_ACT_TANH:
        vi_gen_unary(p, "tanh", in, out);
        break;
    case VI_GEN_ACT_SIGMOID:
        vi_gen_unary(p, "sigmoid", in, out);
        break;
    default:
        vi_gen_unary(p, "relu", in, out);
        break;
    }
}

/* input [-1, n_inputs] -> (fc<i> -> h<i> -> act -> a<i>)* -> fc<L> -> logits
 * -> softmax -> probabilities [-1, C]; argmax(logits) -> label [-1]. */
void vi_gen_plan_mlp(vi_gen_plan *p)
{
    const vi_gen_options *o = p->opt;
    vi_gen_input(p, "input", VI_DT_FP32, o->n_inputs, 0, 0);
    vi_gen_output(p, "probabilities", VI_DT_FP32, o->n_classes);
    vi_gen_output(p, "label", VI_DT_INT64, 0);

    char in[32] = "input", fc[32], h[32];
    int64_t k = o->n_inputs;
    for (int i = 0; i < o->n_hidden; i++) {
        snprintf(fc, sizeof fc, "fc%d", i);
        snprintf(h, sizeof h, "h%d", i);
        vi_gen_linear(p, fc, in, h, k, o->hidden[i], 1, o->weight_out_in);
        snprintf(in, sizeof in, "a%d", i);
        activation(p, o->activation, h, in);
        k = o->hidden[i];
    }
    snprintf(fc, sizeof fc, "fc%d", o->n_hidden);
    vi_gen_linear(p, fc, in, "logits", k, o->n_classes, 1, o->weight_out_in);
    vi_gen_unary(p, "softmax", "logits", "probabilities");
    vi_gen_unary(p, "argmax", "logits", "label");
}

/* ==== all-ops ==== */

#define AO_D 8  /* features of x, embedding width */
#define AO_T 4  /* tokens per row */
#define AO_V 16 /* vocabulary */
#define AO_H 16 /* hidden width */
#define AO_C 3  /* classes */

/* Two branches meet in a score per token:
 *   x [-1,8] -> linear(out_in, bias) -> gelu -> linear(in_out, no bias) -> gelu_tanh
 *            -> layer_norm(bias) -> + x -> features [-1,8]
 *   ids [-1,4] -> embedding -> rms_norm -> + pos [4,8] -> * scale [8]
 *            -> matmul proj [8,8] -> tanh -> tok [-1,4,8]
 *   scores = flatten(matmul(tok, reshape(features, [-1,8,1])))   [-1,4]
 *   attention = softmax(scores); gated = attention * sigmoid(scores)
 *   logits = linear(relu(layer_norm(gated, no bias)))           [-1,3]
 *   probabilities = softmax(logits); label = argmax(logits) */
void vi_gen_plan_all_ops(vi_gen_plan *p)
{
    vi_gen_input(p, "x", VI_DT_FP32, AO_D, 0, 0);
    vi_gen_input(p, "ids", VI_DT_INT64, AO_T, 0, AO_V);
    vi_gen_output(p, "probabilities", VI_DT_FP32, AO_C);
    vi_gen_output(p, "label", VI_DT_INT64, 0);
    vi_gen_output(p, "attention", VI_DT_FP32, AO_T);
    vi_gen_output(p, "features", VI_DT_FP32, AO_D);

    vi_gen_linear(p, "fc_in", "x", "h1", AO_D, AO_H, 1, 1);
    vi_gen_gelu(p, "h1", "g1", 0);
    vi_gen_linear(p, "fc_mid", "g1", "h2", AO_H, AO_D, 0, 0);
    vi_gen_gelu(p, "h2", "g2", 1);
    vi_gen_layer_norm(p, "ln_feat", "g2", "n1", AO_D, 1);
    vi_gen_binary_act(p, "add", "n1", "x", "features");

    vi_gen_embedding(p, "embed", "ids", "e", AO_V, AO_D);
    vi_gen_rms_norm(p, "rms_tok", "e", "en", AO_D);
    vi_gen_binary_weight(p, "add", "pos", "en", "ep", AO_T, AO_D, 0, 0.5f);
    vi_gen_binary_weight(p, "mul", "scale", "ep", "es", AO_D, 0, 1, 0.0f);
    vi_gen_matmul_weight(p, "proj", "es", "pj", AO_D, AO_D);
    vi_gen_unary(p, "tanh", "pj", "tok");

    vi_gen_reshape(p, "features", "fcol", "[-1, 8, 1]");
    vi_gen_binary_act(p, "matmul", "tok", "fcol", "sc");
    vi_gen_flatten(p, "sc", "scores", 1);
    vi_gen_unary(p, "softmax", "scores", "attention");
    vi_gen_unary(p, "sigmoid", "scores", "gate");
    vi_gen_binary_act(p, "mul", "attention", "gate", "gated");
    vi_gen_layer_norm(p, "ln_gate", "gated", "gn", AO_T, 0);
    vi_gen_unary(p, "relu", "gn", "gr");
    vi_gen_linear(p, "head", "gr", "logits", AO_T, AO_C, 1, 1);
    vi_gen_unary(p, "softmax", "logits", "probabilities");
    vi_gen_unary(p, "argmax", "logits", "label");
}
