/*
 * tok_merge.h -- the symbol list and bigram priority queue that both merge
 * tokenizers (SPM by score, byte-level BPE by merge rank) work on.
 */
#ifndef PG_LLM_TOK_MERGE_H
#define PG_LLM_TOK_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A run of text that is one symbol; symbols form a doubly linked list. */
typedef struct tok_sym
{
	int32_t     prev, next;
	const char *text;
	size_t      n;
} tok_sym;

/*
 * A candidate merge of symbols left and right. Lower priority merges first
 * (BPE: the merge rank; SPM: minus the token's score), then the leftmost; size
 * is the bytes the pair covered when queued, to spot stale entries.
 */
typedef struct tok_bigram
{
	double  priority;
	int32_t left, right;
	size_t  size;
} tok_bigram;

/* Binary min-heap of bigrams; oom is set (and the push dropped) when growing fails. */
typedef struct tok_heap
{
	tok_bigram *v;
	size_t      n, cap;
	bool        oom;
} tok_heap;

void       tok_heap_push(tok_heap *h, tok_bigram b);
/* Remove and return the first bigram; h->n must be > 0. */
tok_bigram tok_heap_pop(tok_heap *h);

#endif
