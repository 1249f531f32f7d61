/* tests/fuzz/fuzz_gguf.c — feeds the input, as a GGUF file image, to
 * vi_gguf_open_memory; on success builds the tokenizer from its metadata
 * (vi_tokenizer_from_gguf) and tokenizes and detokenizes a fixed string. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/gguf.h"
#include "fuzz_input.h"
#include "models/tokenizer.h"

static const char TEXT[] = "Hello, world! <|im_start|>user\n  caf\xc3\xa9 123 \xf0\x9f\x98\x80";

static void exercise_tokenizer(const vi_tokenizer *t)
{
    for (int mode = 0; mode < 2; mode++) {
        int32_t *ids = NULL;
        size_t n_ids = 0;
        vi_error err;
        if (vi_tokenize(t, TEXT, sizeof TEXT - 1, mode, mode, &ids, &n_ids, &err) != VI_OK)
            continue;
        char *text = NULL;
        size_t len = 0;
        if (vi_detokenize(t, ids, n_ids, mode, &text, &len, &err) == VI_OK)
            free(text);
        for (size_t i = 0; i < n_ids; i++) {
            const char *piece = NULL;
            size_t plen = 0;
            (void)vi_token_to_piece(t, ids[i], mode, &piece, &plen, &err);
            (void)vi_tokenizer_is_eog(t, ids[i]);
        }
        free(ids);
    }
    vi_chat_msg msgs[2] = {{"system", "Be brief."}, {"user", "Hi"}};
    char *chat = NULL;
    vi_error err;
    if (vi_chat_apply(t, msgs, 2, 1, &chat, &err) == VI_OK)
        free(chat);
    (void)vi_tokenizer_n_vocab(t);
    (void)vi_tokenizer_bos(t);
    (void)vi_tokenizer_eos(t);
    (void)vi_tokenizer_add_bos(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = fuzz_copy(data, size);
    if (!buf)
        return 0;
    vi_gguf *g = NULL;
    vi_error err;
    if (vi_gguf_open_memory(&g, buf, size, &err) == VI_OK) {
        vi_tokenizer *t = NULL;
        if (vi_tokenizer_from_gguf(&t, g, &err) == VI_OK) {
            /* The tokenizer copies what it needs: close the file and drop
             * the image, so that a pointer kept into either is caught. */
            vi_gguf_close(g);
            g = NULL;
            free(buf);
            buf = NULL;
            exercise_tokenizer(t);
            vi_tokenizer_free(t);
        }
        vi_gguf_close(g);
    }
    free(buf);
    return 0;
}
