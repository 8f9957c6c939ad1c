/*
 * prefix_cache.c -- KV rows of evaluated prompts kept in a radix tree of token
 * runs (each node: a run of ids following its parent's, and their K/V rows in
 * every layer), so the shared beginning of many prompts is stored once and a
 * new prompt copies the rows of its longest cached prefix. Least recently used
 * leaves are evicted to stay within max_bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "prefix_cache.h"

typedef struct pc_node pc_node;

struct pc_node
{
	pc_node  *parent;
	pc_node  *child;       /* first child; children start with distinct ids */
	pc_node  *sibling;
	pc_node  *prev, *next; /* every node but the root, for eviction scans */
	uint32_t  depth;       /* positions before this run */
	uint32_t  len;         /* ids in this run (0 only for the root) */
	uint64_t  used;        /* tick of the last lookup or store through it */
	bool      pinned;      /* on the path of a store in progress */
	int32_t  *ids;         /* len ids, then the rows (one allocation) */
	uint8_t  *rows;        /* K: [n_layer][len][row_bytes], then V the same */
	size_t    bytes;       /* accounted size */
};

/* Accounted bytes of a node besides its ids and rows (struct, alignment of the rows). */
#define PC_NODE_BYTES (sizeof(pc_node) + 64)

struct pllm_prefix_cache
{
	const pllm_model       *model;
	pllm_kv_type            type;
	uint32_t                n_layer;
	size_t                  row_bytes;   /* one position of one layer, K or V */
	size_t                  tok_bytes;   /* one position: ids + K and V of every layer */
	uint64_t                tick;
	pc_node                 root;
	pc_node                *all;
	pllm_prefix_cache_stats st;
};

pllm_status
pllm_prefix_cache_create(const pllm_model *m, pllm_kv_type kv_type, size_t max_bytes,
						 pllm_prefix_cache **out, pllm_error *err)
{
	pllm_prefix_cache *c;
	size_t             elem = kv_type == PLLM_KV_F16 ? 2 : 4;

	if (!out)
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "prefix cache needs an output pointer");
	*out = NULL;
	if (!m || m->arch->is_encoder)
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "a prefix cache needs a decoder model");
	if (kv_type != PLLM_KV_F32 && kv_type != PLLM_KV_F16)
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "unknown kv cache type %d", (int) kv_type);
	if (max_bytes == 0)
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "a prefix cache needs max_bytes > 0");
	c = calloc(1, sizeof(*c));
	if (!c)
		return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for a prefix cache");
	c->model = m;
	c->type = kv_type;
	c->n_layer = m->hp.n_layer;
	c->row_bytes = (size_t) m->hp.n_head_kv * m->hp.head_dim * elem;
	c->tok_bytes = sizeof(int32_t) + 2 * (size_t) c->n_layer * c->row_bytes;
	c->st.max_bytes = max_bytes;
	*out = c;
	return PLLM_OK;
}

static void
pc_node_free(pc_node *x)
{
	free(x->ids);
	free(x);
}

void
pllm_prefix_cache_clear(pllm_prefix_cache *c)
{
	pc_node *x, *next;

	if (!c)
		return;
	for (x = c->all; x; x = next)
	{
		next = x->next;
		pc_node_free(x);
	}
	c->all = NULL;
	c->root.child = NULL;
	c->st.n_nodes = 0;
	c->st.n_tokens = 0;
	c->st.bytes = 0;
}

void
pllm_prefix_cache_free(pllm_prefix_cache *c)
{
	if (!c)
		return;
	pllm_prefix_cache_clear(c);
	free(c);
}

void
pllm_prefix_cache_get_stats(const pllm_prefix_cache *c, pllm_prefix_cache_stats *out)
{
	*out = c->st;
}

size_t
pllm_prefix_cache_token_bytes(const pllm_prefix_cache *c)
{
	return c->tok_bytes;
}

bool
pllm_prefix_cache_fits(const pllm_prefix_cache *c, const pllm_model *m, pllm_kv_type t)
{
	return c && c->model == m && c->type == t;
}

/* ---- nodes ---------------------------------------------------------------- */

/* K (v = 0) or V (v = 1) rows of layer il in node x */
static inline uint8_t *
pc_rows(const pllm_prefix_cache *c, const pc_node *x, int v, uint32_t il)
{
	return x->rows + ((size_t) v * c->n_layer + il) * x->len * c->row_bytes;
}

/* K or V row of (il, pos) in a session's cache */
static inline uint8_t *
pc_kv_row(const pllm_kvcache *kv, int v, uint32_t il, uint32_t pos)
{
	uint8_t *base = v ? kv->v : kv->k;

	return base + ((size_t) il * kv->n_ctx + pos) * kv->row * kv->elem;
}

/* A detached node for len ids (rows uninitialised); NULL when out of memory. */
static pc_node *
pc_node_new(const pllm_prefix_cache *c, const int32_t *ids, uint32_t len, uint32_t depth)
{
	pc_node *x = calloc(1, sizeof(*x));
	size_t   ids_bytes = ((size_t) len * sizeof(int32_t) + 63) & ~(size_t) 63;

	if (!x)
		return NULL;
	x->ids = malloc(ids_bytes + 2 * (size_t) c->n_layer * len * c->row_bytes);
	if (!x->ids)
	{
		free(x);
		return NULL;
	}
	memcpy(x->ids, ids, (size_t) len * sizeof(int32_t));
	x->rows = (uint8_t *) x->ids + ids_bytes;
	x->len = len;
	x->depth = depth;
	x->bytes = PC_NODE_BYTES + (size_t) len * c->tok_bytes;
	return x;
}

static void
pc_link(pllm_prefix_cache *c, pc_node *parent, pc_node *x)
{
	x->parent = parent;
	x->sibling = parent->child;
	parent->child = x;
	x->prev = NULL;
	x->next = c->all;
	if (c->all)
		c->all->prev = x;
	c->all = x;
	c->st.n_nodes++;
	c->st.n_tokens += x->len;
	c->st.bytes += x->bytes;
}

static void
pc_unlink_leaf(pllm_prefix_cache *c, pc_node *x)
{
	pc_node **pp = &x->parent->child;

	while (*pp != x)
		pp = &(*pp)->sibling;
	*pp = x->sibling;
	if (x->prev)
		x->prev->next = x->next;
	else
		c->all = x->next;
	if (x->next)
		x->next->prev = x->prev;
	c->st.n_nodes--;
	c->st.n_tokens -= x->len;
	c->st.bytes -= x->bytes;
	pc_node_free(x);
}

/*
 * Follow ids[0..n) down the tree: *last is the deepest node reached and
 * *in_last how many of its ids matched (the root with 0 when nothing did).
 * Returns the positions matched.
 */
static uint32_t
pc_walk(const pllm_prefix_cache *c, const int32_t *ids, uint32_t n, pc_node **last, uint32_t *in_last)
{
	pc_node *x = (pc_node *) &c->root;
	uint32_t matched = 0, k = 0;

	*last = x;
	*in_last = 0;
	while (matched < n)
	{
		pc_node *ch;

		for (ch = x->child; ch; ch = ch->sibling)
			if (ch->ids[0] == ids[matched])
				break;
		if (!ch)
			break;
		for (k = 1; k < ch->len && matched + k < n && ch->ids[k] == ids[matched + k]; k++)
			;
		matched += k;
		*last = ch;
		*in_last = k;
		if (k < ch->len)
			break;
		x = ch;
	}
	return matched;
}

static void
pc_touch_path(pllm_prefix_cache *c, pc_node *x)
{
	c->tick++;
	for (; x && x != &c->root; x = x->parent)
		x->used = c->tick;
}

static void
pc_pin_path(pllm_prefix_cache *c, pc_node *x, bool pin)
{
	for (; x && x != &c->root; x = x->parent)
		x->pinned = pin;
}

/* Drop the least recently used unpinned leaf; false when there is none. */
static bool
pc_evict_one(pllm_prefix_cache *c)
{
	pc_node *x, *victim = NULL;

	for (x = c->all; x; x = x->next)
		if (!x->child && !x->pinned && (!victim || x->used < victim->used))
			victim = x;
	if (!victim)
		return false;
	pc_unlink_leaf(c, victim);
	c->st.evictions++;
	return true;
}

/* Cut x after its first k ids: the rest becomes x's only child, owning x's children. */
static pllm_status
pc_split(pllm_prefix_cache *c, pc_node *x, uint32_t k, pllm_error *err)
{
	pc_node *head = pc_node_new(c, x->ids, k, x->depth);
	pc_node *tail = pc_node_new(c, x->ids + k, x->len - k, x->depth + k);
	pc_node *ch;
	int      v;
	uint32_t il;

	if (!head || !tail)
	{
		if (head)
			pc_node_free(head);
		if (tail)
			pc_node_free(tail);
		return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory splitting a prefix cache entry");
	}
	for (v = 0; v < 2; v++)
		for (il = 0; il < c->n_layer; il++)
		{
			const uint8_t *src = pc_rows(c, x, v, il);

			memcpy(pc_rows(c, head, v, il), src, (size_t) k * c->row_bytes);
			memcpy(pc_rows(c, tail, v, il), src + (size_t) k * c->row_bytes, (size_t) (x->len - k) * c->row_bytes);
		}
	/* x keeps its place in the tree and takes head's storage */
	free(x->ids);
	x->ids = head->ids;
	x->rows = head->rows;
	c->st.bytes -= x->bytes;
	x->len = k;
	x->bytes = head->bytes;
	c->st.bytes += x->bytes;
	free(head);
	c->st.n_tokens -= tail->len;   /* pc_link adds them back */

	tail->used = x->used;
	tail->child = x->child;
	for (ch = tail->child; ch; ch = ch->sibling)
		ch->parent = tail;
	x->child = NULL;
	pc_link(c, x, tail);
	return PLLM_OK;
}

/* ---- lookups and stores --------------------------------------------------- */

uint32_t
pllm_prefix_cache_match(const pllm_prefix_cache *c, const int32_t *ids, uint32_t n)
{
	pc_node *last;
	uint32_t in_last;

	return pc_walk(c, ids, n, &last, &in_last);
}

uint32_t
pllm_prefix_cache_restore(pllm_prefix_cache *c, pllm_kvcache *kv, const int32_t *ids, uint32_t n)
{
	pc_node *last, *x;
	uint32_t in_last, matched;

	if (n > kv->n_ctx)
		n = kv->n_ctx;
	matched = pc_walk(c, ids, n, &last, &in_last);
	c->st.lookups++;
	if (matched == 0)
		return 0;
	pc_touch_path(c, last);
	for (x = last; x != &c->root; x = x->parent)
	{
		uint32_t rows = x == last ? in_last : x->len;
		uint32_t il;
		int      v;

		for (v = 0; v < 2; v++)
			for (il = 0; il < c->n_layer; il++)
				memcpy(pc_kv_row(kv, v, il, x->depth), pc_rows(c, x, v, il), (size_t) rows * c->row_bytes);
	}
	c->st.hits++;
	c->st.tokens_reused += matched;
	return matched;
}

pllm_status
pllm_prefix_cache_store(pllm_prefix_cache *c, const pllm_kvcache *kv, const int32_t *ids, uint32_t n,
						pllm_error *err)
{
	size_t      max = c->st.max_bytes, need;
	pc_node    *last, *leaf;
	uint32_t    in_last, matched, il;
	pllm_status st;
	int         v;

	/* a prompt larger than the whole cache is kept up to what fits */
	if (max < 2 * PC_NODE_BYTES + c->tok_bytes)
		return PLLM_OK;
	if ((size_t) n > (max - 2 * PC_NODE_BYTES) / c->tok_bytes)
		n = (uint32_t) ((max - 2 * PC_NODE_BYTES) / c->tok_bytes);
	matched = pc_walk(c, ids, n, &last, &in_last);
	pc_touch_path(c, last);
	if (matched == n)
		return PLLM_OK;

	need = PC_NODE_BYTES + (size_t) (n - matched) * c->tok_bytes;
	if (in_last < last->len)
		need += PC_NODE_BYTES;
	pc_pin_path(c, last, true);
	while (c->st.bytes + need > max && pc_evict_one(c))
		;
	pc_pin_path(c, last, false);
	if (c->st.bytes + need > max)
		return PLLM_OK;   /* the path alone fills the cache */

	if (in_last < last->len && (st = pc_split(c, last, in_last, err)) != PLLM_OK)
		return st;
	leaf = pc_node_new(c, ids + matched, n - matched, matched);
	if (!leaf)
		return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for a prefix cache entry of %u tokens",
							  n - matched);
	for (v = 0; v < 2; v++)
		for (il = 0; il < c->n_layer; il++)
			memcpy(pc_rows(c, leaf, v, il), pc_kv_row(kv, v, il, matched), (size_t) leaf->len * c->row_bytes);
	leaf->used = c->tick;
	pc_link(c, last, leaf);
	c->st.tokens_stored += leaf->len;
	return PLLM_OK;
}

/* ---- sessions --------------------------------------------------------------- */

pllm_status
pllm_session_set_prefix_cache(pllm_session *s, pllm_prefix_cache *c, pllm_error *err)
{
	if (!s)
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "no session");
	if (c && !pllm_prefix_cache_fits(c, s->model, s->kv.type))
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG,
							  "the prefix cache belongs to another model or kv cache type");
	s->prefix_cache = c;
	return PLLM_OK;
}

pllm_status
pllm_session_eval_prompt(pllm_session *s, const int32_t *ids, int n, uint32_t *n_reused, pllm_error *err)
{
	pllm_prefix_cache *c;
	uint32_t           reused = 0;
	pllm_status        st;

	if (n_reused)
		*n_reused = 0;
	if (!s || n <= 0 || !ids)
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "a prompt needs a session and at least one token");
	c = s->prefix_cache;
	pllm_session_reset(s);
	if ((uint64_t) n > s->n_ctx)
		return pllm_session_eval(s, ids, n, false, err);   /* reports the limit */
	if (c)
	{
		reused = pllm_prefix_cache_restore(c, &s->kv, ids, (uint32_t) n - 1);
		s->n_past = reused;
	}
	st = pllm_session_eval(s, ids + reused, n - (int) reused, false, err);
	if (st != PLLM_OK)
	{
		s->n_past = 0;
		return st;
	}
	if (n_reused)
		*n_reused = reused;
	if (c)
		st = pllm_prefix_cache_store(c, &s->kv, ids, (uint32_t) n, err);
	return st;
}
