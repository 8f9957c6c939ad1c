/*
 * pg_llm_ext.h -- declarations shared by the extension's files: GUC variables,
 * the single place where engine errors become ereport(), the shared model
 * registry and each backend's cache of model views and sessions.
 */
#ifndef PG_LLM_EXT_H
#define PG_LLM_EXT_H

#include "postgres.h"

#include "fmgr.h"
#include "storage/dsm.h"

#include "pg_llm/pllm.h"
#include "pg_llm/model.h"
#include "pg_llm/sampler.h"

/* GUCs (extension/guc.c) */
extern char *pllm_default_model;
extern char *pllm_default_embedding_model;
extern char *pllm_model_dir;
extern char *pllm_preload_models;
extern int   pllm_threads;
extern int   pllm_max_tokens;
extern int   pllm_context_length;
extern int   pllm_prefix_cache_mb;

void PllmDefineGucs(void);

/* The SQLSTATE for an engine status (extension/errors.c). */
int  PllmStatusSqlstate(pllm_status code);

/*
 * Turn a failed engine call into an ERROR: the SQLSTATE from DESIGN.md's table,
 * `what` as the message ("could not load model \"x\""), the engine's text as the
 * detail and a hint saying what to do. PLLM_ERR_CANCELLED services the pending
 * interrupt instead. Never returns.
 */
void PllmReportError(const pllm_error *err, const char *what) pg_attribute_noreturn();

/* The engine's cancellation callback: true once an interrupt is pending. */
bool PllmShouldAbort(void *arg);

/* ---- text and encodings (extension/text.c) ------------------------------ */

/* A text argument as UTF-8 (palloc'd or the detoasted copy); *len its bytes. */
char *PllmTextToUtf8(text *t, size_t *len);
char *PllmCStringToUtf8(const char *s);
/*
 * Engine output as a text value: invalid UTF-8 sequences (a token may stop in
 * the middle of a character) become U+FFFD, then the text is converted to the
 * database encoding.
 */
text *PllmUtf8ToText(const char *s, size_t len);

/* ---- paths (extension/paths.c) ------------------------------------------- */

/*
 * Resolve a model path for opening: relative paths are taken relative to
 * pg_llm.model_dir. With confine, the resolved path (symlinks followed) must lie
 * inside pg_llm.model_dir (else 42501). Returns the open file descriptor of a
 * regular file (O_RDONLY) and sets *resolved (palloc'd). The caller closes fd.
 */
int  PllmOpenModelFile(const char *path, bool confine, char **resolved, off_t *size);

/* ---- shared registry (extension/registry.c) ------------------------------ */

#define PLLM_MAX_MODELS 64

typedef enum PllmSlotState
{
	PLLM_SLOT_FREE = 0,
	PLLM_SLOT_PRELOADED,	/* mapped by the postmaster, inherited by backends */
	PLLM_SLOT_PENDING,		/* a DSM model lost in a crash restart: reloaded on use */
	PLLM_SLOT_LOADING,		/* a backend is reading it into a new segment */
	PLLM_SLOT_READY			/* in a pinned DSM segment */
} PllmSlotState;

/* A copy of one slot, taken under the registry lock. */
typedef struct PllmSlotCopy
{
	int             slot;
	PllmSlotState   state;
	char            name[NAMEDATALEN];
	char            path[MAXPGPATH];
	uint64          generation;
	dsm_handle      handle;
	uint64          size;
	int             preload_index;
	int             n_attached;
	uint64          calls;
	uint64          tokens;
	pllm_model_info info;
} PllmSlotCopy;

/* True when the registry exists (pg_llm is in shared_preload_libraries). */
bool PllmRegistryActive(void);
void PllmRegistryInstallHooks(void);

/* The model view the postmaster opened for preloaded model i (inherited). */
pllm_model *PllmPreloadedModel(int index);

/* Copies of all used slots; returns how many (out has PLLM_MAX_MODELS entries). */
int  PllmRegistrySnapshot(PllmSlotCopy *out);

/*
 * Find `name` and take a reference (n_attached++) so it cannot be unloaded.
 * READY and PRELOADED slots return at once; a PENDING one is claimed by this
 * backend (state LOADING, *must_load = true: the caller loads it and calls
 * PllmRegistryFinishLoad); a LOADING one is waited for. Returns false when the
 * name is not registered.
 */
bool PllmRegistryAcquire(const char *name, PllmSlotCopy *out, bool *must_load);
void PllmRegistryRelease(int slot, uint64 generation);

/*
 * Register a new DSM model (state READY, n_attached 1 for this backend). Errors:
 * duplicate name (42710), registry full (54000).
 */
void PllmRegistryAdd(const char *name, const char *path, dsm_handle handle, uint64 size,
					 const pllm_model_info *info, PllmSlotCopy *out);
/* Settle a slot claimed for loading: READY with the handle, or back to PENDING. */
void PllmRegistryFinishLoad(int slot, uint64 generation, bool ok, dsm_handle handle,
							uint64 size, const pllm_model_info *info);

/*
 * Remove `name`. self_attached says whether this backend holds a reference
 * (which the removal then drops). Errors: unknown (42704), preloaded (55000),
 * in use by another backend (55006). On success returns true and sets *handle
 * when a DSM segment must be unpinned.
 */
bool PllmRegistryRemove(const char *name, bool self_attached, dsm_handle *handle);

/* Usage counters of a registered model. */
void PllmRegistryCount(int slot, uint64 generation, uint64 calls, uint64 tokens);

/* ---- this backend's models (extension/models.c) -------------------------- */

typedef enum PllmModelKind
{
	PLLM_MODEL_PRELOADED,	/* inherited from the postmaster */
	PLLM_MODEL_DSM,			/* attached dynamic shared memory segment */
	PLLM_MODEL_PRIVATE		/* this backend's own mmap (no registry) */
} PllmModelKind;

typedef struct PllmBackendModel
{
	bool            used;
	char            name[NAMEDATALEN];
	char            path[MAXPGPATH];
	PllmModelKind   kind;
	int             slot;			/* registry slot, -1 for PRIVATE */
	uint64          generation;
	dsm_segment    *seg;			/* DSM */
	void           *map;			/* PRIVATE: mmap'd file */
	size_t          map_size;
	pllm_model     *model;
	pllm_model_info info;
	struct pllm_session *idle_session;	/* cached between calls */
	struct pllm_prefix_cache *prefix_cache;	/* prompt prefixes this backend evaluated */
	size_t          prefix_cache_max;	/* bytes it was created with (pg_llm.prefix_cache_mb) */
	uint32          session_ctx;	/* n_ctx it was created with (request) */
	int             session_threads;	/* pg_llm.threads it was created with */
	uint64          calls;			/* PRIVATE models' own counters */
	uint64          tokens;
} PllmBackendModel;

/*
 * The model named `name` (NULL or '' = pg_llm.default_model, or
 * pg_llm.default_embedding_model when `embedding`), attached or mapped in this
 * backend. ERROR 42704 when there is no such model.
 */
PllmBackendModel *PllmGetModel(const char *name, bool embedding);

/* Count one call and `tokens` tokens against the model. */
void PllmCountUsage(PllmBackendModel *bm, uint64 tokens);

/*
 * A session on bm, sized by pg_llm.context_length and pg_llm.threads, with the
 * interrupt callback set. Release it with PllmReleaseSession (cached for the
 * next call) or free it with pllm_session_free on error paths.
 */
struct pllm_session *PllmAcquireSession(PllmBackendModel *bm);
void PllmReleaseSession(PllmBackendModel *bm, struct pllm_session *s);

/* The context length generation asks for (0 = the model's own, capped at 4096). */
uint32 PllmRequestedContext(PllmBackendModel *bm);

/*
 * This backend's prompt-prefix cache for bm, sized by pg_llm.prefix_cache_mb
 * (re-created when the setting changed); NULL when the setting is 0 or the
 * model cannot have one. Attached to every session PllmAcquireSession returns.
 */
struct pllm_prefix_cache *PllmPrefixCache(PllmBackendModel *bm);

/* Models this backend uses, for llm.prefix_cache_stats(): NULL past the end. */
PllmBackendModel *PllmBackendModelAt(int i);

/* ---- generation options (extension/generate.c) --------------------------- */

/* Arguments shared by llm.generate, generate_stream, chat and generate_batch. */
typedef struct PllmGenArgs
{
	char       *model;			/* NULL: pg_llm.default_model */
	bool        seeded;			/* a seed was given (else params.sampling.seed is random) */
	pllm_gen_params params;		/* stop strings palloc'd */
} PllmGenArgs;

/*
 * Read and check arguments 1..9 (model, max_tokens, temperature, top_k, top_p,
 * min_p, repeat_penalty, seed, stop); NULL means the documented default.
 * ERROR 22023 on a bad value.
 */
void PllmParseGenArgs(FunctionCallInfo fcinfo, PllmGenArgs *a);

#endif
