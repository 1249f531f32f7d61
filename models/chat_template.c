/* models/chat_template.c — vi_chat_apply: renders chat messages with the
 * model's ChatML template (tokenizer.chat_template) exactly as its Jinja
 * source does. The template text is recognised, not executed: ChatML is
 *   <|im_start|>ROLE\nCONTENT<|im_end|>\n   per message,
 *   <|im_start|>assistant\n                 with add_generation_prompt,
 * and a template that tests "messages[0]['role'] != 'system'" inserts its
 * literal default system message before a first non-system message.
 * docs/tokenizer.md has the recognition rules. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_impl.h"

typedef struct obuf {
    char *p;
    size_t n, cap;
    int failed;
} obuf;

static void put(obuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void puts_(obuf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* The default system message of a ChatML template, unescaped into *out
 * (malloc'ed; NULL when the template has none). Returns 0, or -1 on NOMEM. */
static int default_system(const char *tmpl, char **out)
{
    *out = NULL;
    const char *cond = strstr(tmpl, "!= 'system'");
    if (!cond)
        cond = strstr(tmpl, "!= \"system\"");
    if (!cond)
        return 0;
    const char *head = strstr(cond, "<|im_start|>system");
    const char *endif = strstr(cond, "endif");
    if (!head || (endif && endif < head))
        return 0;
    head += strlen("<|im_start|>system");
    if (*head == '\n')
        head++;
    else if (head[0] == '\\' && head[1] == 'n')
        head += 2;
    else
        return 0;
    const char *end = strstr(head, "<|im_end|>");
    if (!end || (endif && endif < end))
        return 0;
    char *s = malloc((size_t)(end - head) + 1);
    if (!s)
        return -1;
    size_t k = 0;
    for (const char *p = head; p < end; p++) {
        if (*p == '\\' && p + 1 < end) { /* a Jinja string escape */
            p++;
            s[k++] = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
        } else {
            s[k++] = *p;
        }
    }
    s[k] = '\0';
    *out = s;
    return 0;
}

vi_status vi_chat_apply(const vi_tokenizer *t, const vi_chat_msg *msgs, size_t n,
                        int add_generation_prompt, char **out, vi_error *err)
{
    if (!t || (!msgs && n) || !out)
        return vi_fail(err, VI_ERR_INVALID, "vi_chat_apply: NULL argument");
    *out = NULL;
    const char *tmpl = t->chat_template;
    if (!tmpl)
        return vi_fail(err, VI_ERR_UNSUPPORTED,
                       "chat template: the model has no tokenizer.chat_template");
    if (!strstr(tmpl, "<|im_start|>") || !strstr(tmpl, "<|im_end|>") || strstr(tmpl, "tool"))
        return vi_fail(err, VI_ERR_UNSUPPORTED,
                       "chat template not supported (only ChatML without tools is): \"%.60s%s\"",
                       tmpl, strlen(tmpl) > 60 ? "..." : "");
    for (size_t i = 0; i < n; i++)
        if (!msgs[i].role || !msgs[i].content)
            return vi_fail(err, VI_ERR_INVALID, "chat message %zu has a NULL %s", i,
                           msgs[i].role ? "content" : "role");
    char *sys;
    if (default_system(tmpl, &sys) != 0)
        return vi_fail(err, VI_ERR_NOMEM, "chat template: out of memory");
    obuf b = {0};
    for (size_t i = 0; i < n; i++) {
        if (i == 0 && sys && strcmp(msgs[0].role, "system") != 0) {
            puts_(&b, "<|im_start|>system\n");
            puts_(&b, sys);
            puts_(&b, "<|im_end|>\n");
        }
        puts_(&b, "<|im_start|>");
        puts_(&b, msgs[i].role);
        puts_(&b, "\n");
        puts_(&b, msgs[i].content);
        puts_(&b, "<|im_end|>\n");
    }
    if (add_generation_prompt)
        puts_(&b, "<|im_start|>assistant\n");
    put(&b, "", 0);
    free(sys);
    if (b.failed) {
        free(b.p);
        return vi_fail(err, VI_ERR_NOMEM, "chat template: out of memory rendering %zu messages", n);
    }
    *out = b.p;
    return VI_OK;
}
