/*
 * models.c -- this backend's models: attaching shared ones on first use (the
 * engine builds a small view of pointers into the shared bytes, never a copy),
 * mapping private ones when there is no registry, caching one idle session per
 * model, and the SQL functions llm.load_model, llm.unload_model and llm._models
 * (behind the llm.models view).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include <sys/mman.h>
#include <unistd.h>

#include "pg_llm/batch.h"
#include "pg_llm/session.h"
#include "pg_llm/types.h"

#include "pg_llm_ext.h"

static PllmBackendModel backend_models[PLLM_MAX_MODELS];
static bool exit_callback_registered = false;

bool
PllmShouldAbort(void *arg)
{
	/*
	 * Runs inside the engine: read the flags a signal handler sets, nothing
	 * else. A cancel, statement_timeout or termination stops the work; other
	 * pending interrupts (barriers, catch-up) wait for the next
	 * CHECK_FOR_INTERRUPTS.
	 */
	return InterruptPending && (QueryCancelPending || ProcDiePending);
}

/* ---- the backend cache ---------------------------------------------------- */

static PllmBackendModel *
FindBackendModel(const char *name)
{
	for (int i = 0; i < PLLM_MAX_MODELS; i++)
		if (backend_models[i].used && strcmp(backend_models[i].name, name) == 0)
			return &backend_models[i];
	return NULL;
}

static PllmBackendModel *
NewBackendModel(void)
{
	for (int i = 0; i < PLLM_MAX_MODELS; i++)
		if (!backend_models[i].used)
		{
			memset(&backend_models[i], 0, sizeof(PllmBackendModel));
			return &backend_models[i];
		}
	ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					errmsg("too many models in use by this session"),
					errdetail("At most %d models can be used by one session.", PLLM_MAX_MODELS)));
	return NULL;
}

/* Close this backend's view and free its engine objects (no registry change). */
static void
DropBackendModel(PllmBackendModel *bm)
{
	if (bm->idle_session)
		pllm_session_free(bm->idle_session);
	bm->idle_session = NULL;
	if (bm->prefix_cache)
		pllm_prefix_cache_free(bm->prefix_cache);
	bm->prefix_cache = NULL;
	if (bm->model && bm->kind != PLLM_MODEL_PRELOADED)
		pllm_model_close(bm->model);
	bm->model = NULL;
	if (bm->seg)
		dsm_detach(bm->seg);
	bm->seg = NULL;
	if (bm->map)
		munmap(bm->map, bm->map_size);
	bm->map = NULL;
	bm->used = false;
}

static void
BackendExit(int code, Datum arg)
{
	for (int i = 0; i < PLLM_MAX_MODELS; i++)
	{
		PllmBackendModel *bm = &backend_models[i];

		if (!bm->used)
			continue;
		if (bm->kind != PLLM_MODEL_PRIVATE)
			PllmRegistryRelease(bm->slot, bm->generation);
		if (bm->idle_session)
			pllm_session_free(bm->idle_session);
		bm->idle_session = NULL;
		if (bm->prefix_cache)
			pllm_prefix_cache_free(bm->prefix_cache);
		bm->prefix_cache = NULL;
		bm->used = false;
	}
}

static void
RegisterExitCallback(void)
{
	if (!exit_callback_registered)
	{
		before_shmem_exit(BackendExit, (Datum) 0);
		exit_callback_registered = true;
	}
}

/* ---- loading -------------------------------------------------------------- */

/*
 * Read a (confined) model file into a new DSM segment and open the engine's view
 * of it. The segment is not pinned yet: an ERROR before the caller pins it
 * destroys it with the transaction.
 */
static void
LoadIntoSegment(const char *path, dsm_segment **seg_out, char **resolved,
				uint64 *size_out, pllm_model **model_out)
{
	off_t       size;
	int         fd = PllmOpenModelFile(path, true, resolved, &size);
	dsm_segment *seg;
	char       *base;
	off_t       done = 0;
	pllm_error  err;
	pllm_model *model = NULL;

	if (size == 0)
	{
		CloseTransientFile(fd);
		ereport(ERROR, (errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
						errmsg("could not load model file \"%s\"", path),
						errdetail("The file is empty.")));
	}
	seg = dsm_create((Size) size, DSM_CREATE_NULL_IF_MAXSEGMENTS);
	if (seg == NULL)
	{
		CloseTransientFile(fd);
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("too many dynamic shared memory segments"),
						errhint("Unload a model, or raise max_connections.")));
	}
	base = dsm_segment_address(seg);
	while (done < size)
	{
		size_t      chunk = Min((off_t) (64 << 20), size - done);
		ssize_t     n;

		CHECK_FOR_INTERRUPTS();
		n = pread(fd, base + done, chunk, done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
		{
			if (n == 0)
				errno = EIO;
			ereport(ERROR, (errcode_for_file_access(),
							errmsg("could not read model file \"%s\": %m", path)));
		}
		done += n;
	}
	CloseTransientFile(fd);

	if (pllm_model_open_buffer(base, (size_t) size, NULL, &model, &err) != PLLM_OK)
		PllmReportError(&err, psprintf("could not load model file \"%s\"", path));
	*seg_out = seg;
	*size_out = (uint64) size;
	*model_out = model;
}

static void
FillFromSlot(PllmBackendModel *bm, const PllmSlotCopy *c)
{
	strlcpy(bm->name, c->name, NAMEDATALEN);
	strlcpy(bm->path, c->path, MAXPGPATH);
	bm->slot = c->slot;
	bm->generation = c->generation;
}

/* Attach registry slot c (this backend already holds its reference). */
static PllmBackendModel *
AttachShared(const PllmSlotCopy *c, bool must_load)
{
	PllmBackendModel *bm = NewBackendModel();
	pllm_error  err;

	RegisterExitCallback();
	FillFromSlot(bm, c);
	if (c->state == PLLM_SLOT_PRELOADED)
	{
		bm->kind = PLLM_MODEL_PRELOADED;
		bm->model = PllmPreloadedModel(c->preload_index);
		if (bm->model == NULL)
		{
			PllmRegistryRelease(c->slot, c->generation);
			elog(ERROR, "preloaded model \"%s\" has no view in this process", c->name);
		}
		pllm_model_get_info(bm->model, &bm->info);
		bm->used = true;
		return bm;
	}

	bm->kind = PLLM_MODEL_DSM;
	if (must_load)
	{
		/* lost in a crash restart: this backend reads it in again for everyone */
		dsm_segment *seg = NULL;
		pllm_model *model = NULL;
		char       *resolved;
		uint64      size = 0;

		PG_TRY();
		{
			LoadIntoSegment(c->path, &seg, &resolved, &size, &model);
			dsm_pin_segment(seg);
		}
		PG_CATCH();
		{
			PllmRegistryFinishLoad(c->slot, c->generation, false, 0, 0, NULL);
			PG_RE_THROW();
		}
		PG_END_TRY();
		dsm_pin_mapping(seg);
		pllm_model_get_info(model, &bm->info);
		PllmRegistryFinishLoad(c->slot, c->generation, true, dsm_segment_handle(seg),
							   size, &bm->info);
		bm->seg = seg;
		bm->model = model;
		bm->used = true;
		ereport(LOG, (errmsg("pg_llm: reloaded model \"%s\" from \"%s\" after a restart",
							 c->name, c->path)));
		return bm;
	}

	PG_TRY();
	{
		bm->seg = dsm_attach(c->handle);
		if (bm->seg == NULL)
			ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
							errmsg("could not attach to the shared memory of model \"%s\"", c->name)));
		dsm_pin_mapping(bm->seg);
		if (pllm_model_open_buffer(dsm_segment_address(bm->seg), c->size, NULL,
								   &bm->model, &err) != PLLM_OK)
			PllmReportError(&err, psprintf("could not open model \"%s\"", c->name));
	}
	PG_CATCH();
	{
		if (bm->seg)
			dsm_detach(bm->seg);
		bm->seg = NULL;
		PllmRegistryRelease(c->slot, c->generation);
		PG_RE_THROW();
	}
	PG_END_TRY();
	pllm_model_get_info(bm->model, &bm->info);
	bm->used = true;
	return bm;
}

PllmBackendModel *
PllmGetModel(const char *name, bool embedding)
{
	PllmBackendModel *bm;
	PllmSlotCopy c;
	bool        must_load;

	if (name == NULL || name[0] == '\0')
	{
		name = embedding ? pllm_default_embedding_model : pllm_default_model;
		if (name == NULL || name[0] == '\0')
			ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
							errmsg("no model given and %s is not set",
								   embedding ? "pg_llm.default_embedding_model" : "pg_llm.default_model"),
							errhint("Pass model => 'name', or set %s.",
									embedding ? "pg_llm.default_embedding_model" : "pg_llm.default_model")));
	}
	bm = FindBackendModel(name);
	if (bm)
		return bm;
	if (PllmRegistryActive() && PllmRegistryAcquire(name, &c, &must_load))
		return AttachShared(&c, must_load);
	ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
					errmsg("model \"%s\" does not exist", name),
					errhint("Load it with llm.load_model(); llm.models lists the loaded models.")));
	return NULL;
}

void
PllmCountUsage(PllmBackendModel *bm, uint64 tokens)
{
	if (bm->kind == PLLM_MODEL_PRIVATE)
	{
		bm->calls++;
		bm->tokens += tokens;
	}
	else
		PllmRegistryCount(bm->slot, bm->generation, 1, tokens);
}

/* The context a new session asks for: pg_llm.context_length, capped by the model. */
uint32
PllmRequestedContext(PllmBackendModel *bm)
{
	uint32      train = bm->info.n_ctx_train;

	if (pllm_context_length <= 0)
		return 0;
	if (train > 0 && (uint32) pllm_context_length > train)
		return train;
	return (uint32) pllm_context_length;
}

pllm_prefix_cache *
PllmPrefixCache(PllmBackendModel *bm)
{
	size_t      want = (size_t) pllm_prefix_cache_mb * 1024 * 1024;
	pllm_error  err;

	if (bm->prefix_cache && bm->prefix_cache_max != want)
	{
		/* the setting changed: the idle session must not keep a dangling pointer */
		if (bm->idle_session)
			pllm_session_set_prefix_cache(bm->idle_session, NULL, &err);
		pllm_prefix_cache_free(bm->prefix_cache);
		bm->prefix_cache = NULL;
	}
	if (want == 0 || bm->prefix_cache)
		return bm->prefix_cache;
	/* an optimisation only: a model that cannot have a cache goes without */
	if (pllm_prefix_cache_create(bm->model, PLLM_KV_F32, want, &bm->prefix_cache, &err) != PLLM_OK)
	{
		bm->prefix_cache = NULL;
		elog(DEBUG1, "pg_llm: no prefix cache for model \"%s\": %s", bm->name, err.msg);
		return NULL;
	}
	bm->prefix_cache_max = want;
	return bm->prefix_cache;
}

PllmBackendModel *
PllmBackendModelAt(int i)
{
	return (i >= 0 && i < PLLM_MAX_MODELS) ? &backend_models[i] : NULL;
}

pllm_session *
PllmAcquireSession(PllmBackendModel *bm)
{
	uint32      n_ctx = PllmRequestedContext(bm);
	pllm_session_opts opts = pllm_session_opts_default();
	pllm_prefix_cache *cache = PllmPrefixCache(bm);	/* first: it may detach the idle session */
	pllm_session *s;
	pllm_error  err;

	if (bm->idle_session && (bm->session_ctx != n_ctx || bm->session_threads != pllm_threads))
	{
		pllm_session_free(bm->idle_session);
		bm->idle_session = NULL;
	}
	if (bm->idle_session)
	{
		s = bm->idle_session;
		bm->idle_session = NULL;
		pllm_session_set_abort(s, PllmShouldAbort, NULL);
	}
	else
	{
		opts.n_ctx = n_ctx;
		opts.n_threads = pllm_threads;
		opts.should_abort = PllmShouldAbort;
		opts.abort_arg = NULL;
		if (pllm_session_create(bm->model, &opts, &s, &err) != PLLM_OK)
			PllmReportError(&err, psprintf("could not create a session on model \"%s\"", bm->name));
	}
	/* the session's kv type is the default (F32), as the cache's */
	if (pllm_session_set_prefix_cache(s, cache, &err) != PLLM_OK)
		pllm_session_set_prefix_cache(s, NULL, &err);
	return s;
}

void
PllmReleaseSession(PllmBackendModel *bm, pllm_session *s)
{
	if (s == NULL)
		return;
	if (bm->idle_session == NULL && bm->used)
	{
		bm->idle_session = s;
		bm->session_ctx = PllmRequestedContext(bm);
		bm->session_threads = pllm_threads;
	}
	else
		pllm_session_free(s);
}

/* ---- llm.load_model / llm.unload_model ------------------------------------ */

static void
CheckModelName(const char *name)
{
	if (name[0] == '\0' || strlen(name) >= NAMEDATALEN)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("invalid model name \"%s\"", name),
						errdetail("A model name has 1 to %d bytes.", NAMEDATALEN - 1)));
}

/* Options of llm.load_model: {"replace": bool}. */
static bool
ParseLoadOptions(Jsonb *opts)
{
	bool        replace = false;
	JsonbIterator *it;
	JsonbValue  v;
	JsonbIteratorToken tok;
	char       *key = NULL;

	if (opts == NULL)
		return false;
	if (!JB_ROOT_IS_OBJECT(opts))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("options must be a JSON object")));
	it = JsonbIteratorInit(&opts->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
			key = pnstrdup(v.val.string.val, v.val.string.len);
		else if (tok == WJB_VALUE)
		{
			if (strcmp(key, "replace") == 0)
			{
				if (v.type != jbvBool)
					ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
									errmsg("option \"replace\" must be a boolean")));
				replace = v.val.boolean;
			}
			else
				ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
								errmsg("unknown option \"%s\"", key),
								errhint("llm.load_model accepts the option \"replace\".")));
		}
	}
	return replace;
}

/* Remove `name` from this backend and, with a registry, from the registry. */
static void
UnloadModel(const char *name)
{
	PllmBackendModel *bm = FindBackendModel(name);

	if (PllmRegistryActive())
	{
		dsm_handle  handle;
		bool        self = bm != NULL && bm->kind != PLLM_MODEL_PRIVATE;

		PllmRegistryRemove(name, self, &handle);
		if (bm)
			DropBackendModel(bm);
		if (handle != DSM_HANDLE_INVALID)
			dsm_unpin_segment(handle);
		return;
	}
	if (bm == NULL)
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
						errmsg("model \"%s\" does not exist", name),
						errhint("The loaded models are listed in llm.models.")));
	DropBackendModel(bm);
}

static bool
ModelExists(const char *name)
{
	PllmSlotCopy *snap;
	int         n;
	bool        found = false;

	if (FindBackendModel(name))
		return true;
	if (!PllmRegistryActive())
		return false;
	snap = palloc(sizeof(PllmSlotCopy) * PLLM_MAX_MODELS);
	n = PllmRegistrySnapshot(snap);
	for (int i = 0; i < n; i++)
		if (strcmp(snap[i].name, name) == 0)
			found = true;
	pfree(snap);
	return found;
}

/* Without a registry: this backend's own mapping of the file. */
static void
LoadPrivate(const char *name, const char *path)
{
	char       *resolved;
	off_t       size;
	int         fd = PllmOpenModelFile(path, true, &resolved, &size);
	void       *map;
	PllmBackendModel *bm;
	pllm_model *model = NULL;
	pllm_error  err;

	if (FindBackendModel(name))
	{
		CloseTransientFile(fd);
		ereport(ERROR, (errcode(ERRCODE_DUPLICATE_OBJECT),
						errmsg("model \"%s\" is already loaded", name),
						errhint("Unload it first with llm.unload_model(), or pass options => '{\"replace\": true}'.")));
	}
	if (size == 0)
	{
		CloseTransientFile(fd);
		ereport(ERROR, (errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
						errmsg("could not load model file \"%s\"", path),
						errdetail("The file is empty.")));
	}
	map = mmap(NULL, (size_t) size, PROT_READ, MAP_SHARED, fd, 0);
	CloseTransientFile(fd);
	if (map == MAP_FAILED)
		ereport(ERROR, (errcode_for_file_access(),
						errmsg("could not map model file \"%s\": %m", path)));
	if (pllm_model_open_buffer(map, (size_t) size, NULL, &model, &err) != PLLM_OK)
	{
		munmap(map, (size_t) size);
		PllmReportError(&err, psprintf("could not load model file \"%s\"", path));
	}
	bm = NewBackendModel();
	strlcpy(bm->name, name, NAMEDATALEN);
	strlcpy(bm->path, resolved, MAXPGPATH);
	bm->kind = PLLM_MODEL_PRIVATE;
	bm->slot = -1;
	bm->map = map;
	bm->map_size = (size_t) size;
	bm->model = model;
	pllm_model_get_info(model, &bm->info);
	bm->used = true;
	ereport(NOTICE, (errmsg("model \"%s\" is mapped by this session only", name),
					 errdetail("pg_llm is not in shared_preload_libraries, so there is no shared model registry."),
					 errhint("Set shared_preload_libraries = 'pg_llm' and restart the server so that all sessions share one copy.")));
}

PG_FUNCTION_INFO_V1(pg_llm_load_model);
Datum
pg_llm_load_model(PG_FUNCTION_ARGS)
{
	char       *name;
	char       *path;
	bool        replace;
	dsm_segment *seg = NULL;
	pllm_model *model = NULL;
	char       *resolved;
	uint64      size;
	PllmSlotCopy c;
	PllmBackendModel *bm;
	pllm_model_info info;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						errmsg("model name and path must not be null")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	path = text_to_cstring(PG_GETARG_TEXT_PP(1));
	replace = ParseLoadOptions(PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2));
	CheckModelName(name);

	if (replace && ModelExists(name))
		UnloadModel(name);

	if (!PllmRegistryActive())
	{
		LoadPrivate(name, path);
		PG_RETURN_VOID();
	}
	if (ModelExists(name))
		ereport(ERROR, (errcode(ERRCODE_DUPLICATE_OBJECT),
						errmsg("model \"%s\" is already loaded", name),
						errhint("Unload it first with llm.unload_model(), or pass options => '{\"replace\": true}'.")));

	RegisterExitCallback();
	bm = NewBackendModel();		/* fails early when this session is full */
	LoadIntoSegment(path, &seg, &resolved, &size, &model);
	pllm_model_get_info(model, &info);
	dsm_pin_segment(seg);
	PG_TRY();
	{
		PllmRegistryAdd(name, resolved, dsm_segment_handle(seg), size, &info, &c);
	}
	PG_CATCH();
	{
		dsm_unpin_segment(dsm_segment_handle(seg));
		pllm_model_close(model);
		PG_RE_THROW();
	}
	PG_END_TRY();
	dsm_pin_mapping(seg);
	FillFromSlot(bm, &c);
	bm->kind = PLLM_MODEL_DSM;
	bm->seg = seg;
	bm->model = model;
	bm->info = info;
	bm->used = true;
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(pg_llm_unload_model);
Datum
pg_llm_unload_model(PG_FUNCTION_ARGS)
{
	char       *name = text_to_cstring(PG_GETARG_TEXT_PP(0));

	UnloadModel(name);
	PG_RETURN_VOID();
}

/* ---- llm.models ----------------------------------------------------------- */

static Datum
TensorTypesJson(const pllm_model_info *info)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (uint32 i = 0; i < info->n_types && i < PLLM_MODEL_MAX_TYPES; i++)
		appendStringInfo(&buf, "%s\"%s\": %u", i > 0 ? ", " : "",
						 pllm_type_name(info->type_id[i]), info->type_count[i]);
	appendStringInfoChar(&buf, '}');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

#define MODELS_COLS 13

static void
PutModelRow(ReturnSetInfo *rsinfo, const char *name, const char *path,
			const pllm_model_info *info, uint64 bytes, bool shared,
			int backends, uint64 calls, uint64 tokens)
{
	Datum       values[MODELS_COLS];
	bool        nulls[MODELS_COLS];
	bool        have = info != NULL && info->arch[0] != '\0';

	memset(nulls, 0, sizeof(nulls));
	values[0] = CStringGetTextDatum(name);
	values[1] = CStringGetTextDatum(path);
	if (have)
	{
		values[2] = CStringGetTextDatum(info->arch);
		values[3] = Int64GetDatum((int64) info->n_params);
		values[4] = TensorTypesJson(info);
		values[5] = Int32GetDatum((int32) info->n_ctx_train);
		values[6] = Int32GetDatum((int32) info->n_vocab);
		values[7] = Int32GetDatum((int32) info->n_embd);
	}
	else
		for (int i = 2; i <= 7; i++)
			nulls[i] = true;
	values[8] = Int64GetDatum((int64) bytes);
	values[9] = BoolGetDatum(shared);
	values[10] = Int32GetDatum(backends);
	values[11] = Int64GetDatum((int64) calls);
	values[12] = Int64GetDatum((int64) tokens);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

PG_FUNCTION_INFO_V1(pg_llm_models);
Datum
pg_llm_models(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	if (PllmRegistryActive())
	{
		PllmSlotCopy *snap = palloc(sizeof(PllmSlotCopy) * PLLM_MAX_MODELS);
		int         n = PllmRegistrySnapshot(snap);

		for (int i = 0; i < n; i++)
			PutModelRow(rsinfo, snap[i].name, snap[i].path,
						snap[i].state == PLLM_SLOT_PENDING || snap[i].state == PLLM_SLOT_LOADING
						? NULL : &snap[i].info,
						snap[i].size, true, snap[i].n_attached, snap[i].calls,
						snap[i].tokens);
	}
	for (int i = 0; i < PLLM_MAX_MODELS; i++)
	{
		PllmBackendModel *bm = &backend_models[i];

		if (bm->used && bm->kind == PLLM_MODEL_PRIVATE)
			PutModelRow(rsinfo, bm->name, bm->path, &bm->info, bm->map_size, false, 1,
						bm->calls, bm->tokens);
	}
	return (Datum) 0;
}
