/* cpu/embedding.c — embedding lookup: each output row is a bit copy of one
 * row of the [V, D] table. */
#include "ops.h"

#include <string.h>

void vi_cpu_embedding(const int64_t *ids, const float *table, int64_t D, float *y, int64_t i0,
                      int64_t i1)
{
    for (int64_t i = i0; i < i1; i++)
        memcpy(y + i * D, table + ids[i] * D, (size_t)D * sizeof *y);
}
