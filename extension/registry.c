/*
 * registry.c -- the shared-memory model registry (only with
 * shared_preload_libraries = 'pg_llm'): one slot per model with its name, path,
 * segment handle, reference count and usage counters, guarded by one LWLock of
 * the "pg_llm" tranche. The postmaster maps pg_llm.preload_models before any
 * backend forks; models loaded at run time live in pinned DSM segments.
 *
 * A crash restart re-creates shared memory and destroys every DSM segment. The
 * postmaster keeps its preloaded mappings (they are its own memory) and copies
 * the names and paths of the DSM models before the old registry goes away; they
 * come back as PENDING slots that the first backend to use them loads again.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/condition_variable.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/wait_event.h"

#include <sys/mman.h>
#include <unistd.h>

#include "pg_llm_ext.h"

typedef struct PllmSharedModel
{
	PllmSlotState   state;
	char            name[NAMEDATALEN];
	char            path[MAXPGPATH];
	uint64          generation;		/* new value whenever the slot gets new contents */
	dsm_handle      handle;			/* READY */
	uint64          size;
	int             preload_index;	/* PRELOADED: index into preloaded[] */
	int             n_attached;		/* backends holding a view */
	pllm_model_info info;
	pg_atomic_uint64 calls;
	pg_atomic_uint64 tokens;
} PllmSharedModel;

typedef struct PllmRegistry
{
	LWLock         *lock;
	ConditionVariable cv;			/* broadcast when a LOADING slot settles */
	uint64          next_generation;
	PllmSharedModel slots[PLLM_MAX_MODELS];
} PllmRegistry;

/* Postmaster-private: preloaded models (inherited by every backend). */
typedef struct PllmPreloaded
{
	char        name[NAMEDATALEN];
	char        path[MAXPGPATH];
	void       *map;
	size_t      size;
	pllm_model *model;
} PllmPreloaded;

/* Postmaster-private: DSM models to bring back after a crash restart. */
typedef struct PllmSurvivor
{
	char        name[NAMEDATALEN];
	char        path[MAXPGPATH];
} PllmSurvivor;

static PllmRegistry *registry = NULL;
static bool registry_requested = false;
static PllmPreloaded preloaded[PLLM_MAX_MODELS];
static int  n_preloaded = 0;
static bool preload_done = false;
static PllmSurvivor survivors[PLLM_MAX_MODELS];
static int  n_survivors = 0;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void PllmShmemRequest(void);
static void PllmShmemStartup(void);
static void PllmShmemShutdown(int code, Datum arg);
static void PllmPreloadModels(void);

bool
PllmRegistryActive(void)
{
	return registry != NULL;
}

void
PllmRegistryInstallHooks(void)
{
	registry_requested = true;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = PllmShmemRequest;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = PllmShmemStartup;
}

pllm_model *
PllmPreloadedModel(int index)
{
	if (index < 0 || index >= n_preloaded)
		return NULL;
	return preloaded[index].model;
}

static void
PllmShmemRequest(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(PllmRegistry)));
	RequestNamedLWLockTranche("pg_llm", 1);
}

static uint64
NextGeneration(void)
{
	return ++registry->next_generation;
}

static void
SlotSetName(PllmSharedModel *s, const char *name, const char *path)
{
	strlcpy(s->name, name, sizeof(s->name));
	strlcpy(s->path, path, sizeof(s->path));
}

static void
PllmShmemStartup(void)
{
	bool        found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	/* the postmaster maps the preloaded models once, before the first fork */
	if (!IsUnderPostmaster && !preload_done)
	{
		preload_done = true;
		PllmPreloadModels();
	}

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	registry = ShmemInitStruct("pg_llm model registry", sizeof(PllmRegistry), &found);
	if (!found)
	{
		memset(registry, 0, sizeof(PllmRegistry));
		registry->lock = &(GetNamedLWLockTranche("pg_llm"))->lock;
		ConditionVariableInit(&registry->cv);
		for (int i = 0; i < PLLM_MAX_MODELS; i++)
		{
			pg_atomic_init_u64(&registry->slots[i].calls, 0);
			pg_atomic_init_u64(&registry->slots[i].tokens, 0);
		}
		for (int i = 0; i < n_preloaded; i++)
		{
			PllmSharedModel *s = &registry->slots[i];

			s->state = PLLM_SLOT_PRELOADED;
			SlotSetName(s, preloaded[i].name, preloaded[i].path);
			s->generation = NextGeneration();
			s->size = preloaded[i].size;
			s->preload_index = i;
			pllm_model_get_info(preloaded[i].model, &s->info);
		}
		for (int i = 0; i < n_survivors && n_preloaded + i < PLLM_MAX_MODELS; i++)
		{
			PllmSharedModel *s = &registry->slots[n_preloaded + i];

			s->state = PLLM_SLOT_PENDING;
			SlotSetName(s, survivors[i].name, survivors[i].path);
			s->generation = NextGeneration();
		}
		if (n_survivors > 0)
			elog(LOG, "pg_llm: %d run-time loaded model(s) will be reloaded on first use",
				 n_survivors);
		n_survivors = 0;
	}
	LWLockRelease(AddinShmemInitLock);

	if (!IsUnderPostmaster)
		on_shmem_exit(PllmShmemShutdown, (Datum) 0);
}

/*
 * Postmaster, before shared memory goes away: on a crash restart (code != 0)
 * remember the run-time loaded models so they can be loaded again. The
 * registry may have been scribbled on by the crashed backend: take only
 * well-formed entries.
 */
static void
PllmShmemShutdown(int code, Datum arg)
{
	n_survivors = 0;
	if (code == 0 || registry == NULL)
	{
		registry = NULL;
		return;
	}
	for (int i = 0; i < PLLM_MAX_MODELS; i++)
	{
		PllmSharedModel *s = &registry->slots[i];

		if (s->state != PLLM_SLOT_READY && s->state != PLLM_SLOT_PENDING &&
			s->state != PLLM_SLOT_LOADING)
			continue;
		if (memchr(s->name, '\0', sizeof(s->name)) == NULL || s->name[0] == '\0' ||
			memchr(s->path, '\0', sizeof(s->path)) == NULL)
			continue;
		strlcpy(survivors[n_survivors].name, s->name, NAMEDATALEN);
		strlcpy(survivors[n_survivors].path, s->path, MAXPGPATH);
		n_survivors++;
	}
	registry = NULL;
}

/*
 * Parse pg_llm.preload_models ('name=path, name2=path2') and map each model.
 * Runs in the postmaster: a model that cannot be loaded is reported in the log
 * and skipped, so that a bad file does not keep the server from starting.
 */
static void
PllmPreloadModels(void)
{
	char       *list;
	char       *item;
	char       *save = NULL;

	if (pllm_preload_models == NULL || pllm_preload_models[0] == '\0')
		return;
	list = pstrdup(pllm_preload_models);
	for (item = strtok_r(list, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save))
	{
		char       *eq = strchr(item, '=');
		char       *name;
		char       *path;
		char       *resolved = NULL;
		int         fd = -1;
		off_t       size = 0;
		void       *map;
		pllm_model *model = NULL;
		pllm_error  err;
		pllm_status st;
		bool        dup = false;

		if (eq == NULL)
		{
			ereport(WARNING, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							  errmsg("pg_llm.preload_models: entry \"%s\" is not name=path", item)));
			continue;
		}
		*eq = '\0';
		name = item;
		path = eq + 1;
		while (*name == ' ' || *name == '\t')
			name++;
		while (*path == ' ' || *path == '\t')
			path++;
		for (char *e = name + strlen(name); e > name && (e[-1] == ' ' || e[-1] == '\t');)
			*--e = '\0';
		for (char *e = path + strlen(path); e > path && (e[-1] == ' ' || e[-1] == '\t');)
			*--e = '\0';
		if (name[0] == '\0' || strlen(name) >= NAMEDATALEN || path[0] == '\0')
		{
			ereport(WARNING, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							  errmsg("pg_llm.preload_models: invalid entry \"%s=%s\"", name, path)));
			continue;
		}
		for (int i = 0; i < n_preloaded; i++)
			if (strcmp(preloaded[i].name, name) == 0)
				dup = true;
		if (dup || n_preloaded >= PLLM_MAX_MODELS)
		{
			ereport(WARNING, (errcode(ERRCODE_DUPLICATE_OBJECT),
							  errmsg("pg_llm.preload_models: model \"%s\" skipped (%s)", name,
									 dup ? "duplicate name" : "too many models")));
			continue;
		}

		/* the server configuration is trusted: no confinement to model_dir */
		PG_TRY();
		{
			fd = PllmOpenModelFile(path, false, &resolved, &size);
		}
		PG_CATCH();
		{
			EmitErrorReport();
			FlushErrorState();
			fd = -1;
		}
		PG_END_TRY();
		if (fd < 0)
			continue;
		map = mmap(NULL, (size_t) size, PROT_READ, MAP_SHARED, fd, 0);
		CloseTransientFile(fd);
		if (map == MAP_FAILED)
		{
			ereport(WARNING, (errcode_for_file_access(),
							  errmsg("pg_llm.preload_models: could not map \"%s\": %m", resolved)));
			continue;
		}
		st = pllm_model_open_buffer(map, (size_t) size, NULL, &model, &err);
		if (st != PLLM_OK)
		{
			ereport(WARNING, (errcode(PllmStatusSqlstate(st)),
							  errmsg("pg_llm.preload_models: could not load model \"%s\"", name),
							  errdetail("%s", err.msg)));
			munmap(map, (size_t) size);
			continue;
		}
		strlcpy(preloaded[n_preloaded].name, name, NAMEDATALEN);
		strlcpy(preloaded[n_preloaded].path, resolved, MAXPGPATH);
		preloaded[n_preloaded].map = map;
		preloaded[n_preloaded].size = (size_t) size;
		preloaded[n_preloaded].model = model;
		n_preloaded++;
		ereport(LOG, (errmsg("pg_llm: preloaded model \"%s\" from \"%s\" (%zu bytes)",
							 name, resolved, (size_t) size)));
	}
	pfree(list);
}

static void
CopySlot(int i, PllmSlotCopy *out)
{
	PllmSharedModel *s = &registry->slots[i];

	out->slot = i;
	out->state = s->state;
	memcpy(out->name, s->name, NAMEDATALEN);
	memcpy(out->path, s->path, MAXPGPATH);
	out->generation = s->generation;
	out->handle = s->handle;
	out->size = s->size;
	out->preload_index = s->preload_index;
	out->n_attached = s->n_attached;
	out->calls = pg_atomic_read_u64(&s->calls);
	out->tokens = pg_atomic_read_u64(&s->tokens);
	out->info = s->info;
}

static int
FindSlot(const char *name)
{
	for (int i = 0; i < PLLM_MAX_MODELS; i++)
		if (registry->slots[i].state != PLLM_SLOT_FREE &&
			strcmp(registry->slots[i].name, name) == 0)
			return i;
	return -1;
}

int
PllmRegistrySnapshot(PllmSlotCopy *out)
{
	int         n = 0;

	LWLockAcquire(registry->lock, LW_SHARED);
	for (int i = 0; i < PLLM_MAX_MODELS; i++)
		if (registry->slots[i].state != PLLM_SLOT_FREE)
			CopySlot(i, &out[n++]);
	LWLockRelease(registry->lock);
	return n;
}

bool
PllmRegistryAcquire(const char *name, PllmSlotCopy *out, bool *must_load)
{
	*must_load = false;
	for (;;)
	{
		int         i;

		LWLockAcquire(registry->lock, LW_EXCLUSIVE);
		i = FindSlot(name);
		if (i < 0)
		{
			LWLockRelease(registry->lock);
			ConditionVariableCancelSleep();
			return false;
		}
		if (registry->slots[i].state == PLLM_SLOT_LOADING)
		{
			/* another backend is reading it: wait until it settles */
			ConditionVariablePrepareToSleep(&registry->cv);
			LWLockRelease(registry->lock);
			ConditionVariableSleep(&registry->cv, PG_WAIT_EXTENSION);
			continue;
		}
		if (registry->slots[i].state == PLLM_SLOT_PENDING)
		{
			registry->slots[i].state = PLLM_SLOT_LOADING;
			*must_load = true;
		}
		registry->slots[i].n_attached++;
		CopySlot(i, out);
		LWLockRelease(registry->lock);
		ConditionVariableCancelSleep();
		return true;
	}
}

void
PllmRegistryRelease(int slot, uint64 generation)
{
	PllmSharedModel *s;

	if (registry == NULL || slot < 0 || slot >= PLLM_MAX_MODELS)
		return;
	s = &registry->slots[slot];
	LWLockAcquire(registry->lock, LW_EXCLUSIVE);
	if (s->state != PLLM_SLOT_FREE && s->generation == generation && s->n_attached > 0)
		s->n_attached--;
	LWLockRelease(registry->lock);
}

void
PllmRegistryAdd(const char *name, const char *path, dsm_handle handle, uint64 size,
				const pllm_model_info *info, PllmSlotCopy *out)
{
	int         free_slot = -1;
	PllmSharedModel *s;

	LWLockAcquire(registry->lock, LW_EXCLUSIVE);
	if (FindSlot(name) >= 0)
	{
		LWLockRelease(registry->lock);
		ereport(ERROR, (errcode(ERRCODE_DUPLICATE_OBJECT),
						errmsg("model \"%s\" is already loaded", name),
						errhint("Unload it first with llm.unload_model(), or pass options => '{\"replace\": true}'.")));
	}
	for (int i = 0; i < PLLM_MAX_MODELS && free_slot < 0; i++)
		if (registry->slots[i].state == PLLM_SLOT_FREE)
			free_slot = i;
	if (free_slot < 0)
	{
		LWLockRelease(registry->lock);
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("too many models loaded"),
						errdetail("At most %d models can be registered at once.", PLLM_MAX_MODELS),
						errhint("Unload a model with llm.unload_model().")));
	}
	s = &registry->slots[free_slot];
	s->state = PLLM_SLOT_READY;
	SlotSetName(s, name, path);
	s->generation = NextGeneration();
	s->handle = handle;
	s->size = size;
	s->preload_index = -1;
	s->n_attached = 1;
	s->info = *info;
	pg_atomic_write_u64(&s->calls, 0);
	pg_atomic_write_u64(&s->tokens, 0);
	CopySlot(free_slot, out);
	LWLockRelease(registry->lock);
}

void
PllmRegistryFinishLoad(int slot, uint64 generation, bool ok, dsm_handle handle,
					   uint64 size, const pllm_model_info *info)
{
	PllmSharedModel *s = &registry->slots[slot];

	LWLockAcquire(registry->lock, LW_EXCLUSIVE);
	if (s->state == PLLM_SLOT_LOADING && s->generation == generation)
	{
		if (ok)
		{
			s->state = PLLM_SLOT_READY;
			s->handle = handle;
			s->size = size;
			s->info = *info;
		}
		else
		{
			s->state = PLLM_SLOT_PENDING;
			if (s->n_attached > 0)
				s->n_attached--;
		}
	}
	LWLockRelease(registry->lock);
	ConditionVariableBroadcast(&registry->cv);
}

bool
PllmRegistryRemove(const char *name, bool self_attached, dsm_handle *handle)
{
	int         i;
	PllmSharedModel *s;
	int         others;

	*handle = DSM_HANDLE_INVALID;
	LWLockAcquire(registry->lock, LW_EXCLUSIVE);
	i = FindSlot(name);
	if (i < 0)
	{
		LWLockRelease(registry->lock);
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
						errmsg("model \"%s\" does not exist", name),
						errhint("The loaded models are listed in llm.models.")));
	}
	s = &registry->slots[i];
	if (s->state == PLLM_SLOT_PRELOADED)
	{
		LWLockRelease(registry->lock);
		ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						errmsg("cannot unload model \"%s\" because it was preloaded at server start", name),
						errhint("Remove it from pg_llm.preload_models and restart the server.")));
	}
	others = s->n_attached - (self_attached ? 1 : 0);
	if (s->state == PLLM_SLOT_LOADING || others > 0)
	{
		LWLockRelease(registry->lock);
		ereport(ERROR, (errcode(ERRCODE_OBJECT_IN_USE),
						errmsg("model \"%s\" is in use by %d other backend%s", name,
							   Max(others, 1), Max(others, 1) == 1 ? "" : "s"),
						errdetail("A backend keeps a model attached from its first use until it exits."),
						errhint("Retry when those sessions have ended; llm.models shows how many backends are attached.")));
	}
	if (s->state == PLLM_SLOT_READY)
		*handle = s->handle;
	s->state = PLLM_SLOT_FREE;
	s->name[0] = '\0';
	s->n_attached = 0;
	s->generation = NextGeneration();
	LWLockRelease(registry->lock);
	return true;
}

void
PllmRegistryCount(int slot, uint64 generation, uint64 calls, uint64 tokens)
{
	PllmSharedModel *s;

	if (registry == NULL || slot < 0 || slot >= PLLM_MAX_MODELS)
		return;
	s = &registry->slots[slot];
	/* an unlocked check: at worst a racing unload loses a count */
	if (s->generation != generation)
		return;
	pg_atomic_fetch_add_u64(&s->calls, calls);
	pg_atomic_fetch_add_u64(&s->tokens, tokens);
}
