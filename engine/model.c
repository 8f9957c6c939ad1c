/*
 * model.c -- opening and closing models: map (or borrow) the bytes, parse the
 * GGUF index, find the architecture in the table and let its loader bind the
 * weights in place; load the tokenizer; report what was loaded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "pg_llm/model.h"
#include "pg_llm/tokenizer.h"
#include "pg_llm/types.h"

pllm_model_opts
pllm_model_opts_default(void)
{
	pllm_model_opts o;

	memset(&o, 0, sizeof(o));
	o.load_tokenizer = true;
	return o;
}

/* Parse, dispatch to the architecture's loader, load the tokenizer. */
static pllm_status
model_load(pllm_model *m, const pllm_model_opts *opts, pllm_error *err)
{
	pllm_str    arch;
	pllm_status st;

	if ((st = pllm_gguf_parse(m->buf, m->len, &m->gguf, err)) != PLLM_OK)
		return st;
	if (!pllm_gguf_get_str(m->gguf, "general.architecture", &arch))
		return pllm_error_set(err, PLLM_ERR_FORMAT, "missing required metadata key general.architecture");
	m->arch = pllm_arch_find(arch.ptr, arch.len);
	if (!m->arch)
		return pllm_error_set(err, PLLM_ERR_UNSUPPORTED, "model architecture \"%.*s\" is not supported",
							  (int) (arch.len > 64 ? 64 : arch.len), arch.ptr);
	if ((st = m->arch->load(m, err)) != PLLM_OK)
		return st;
	if (opts->load_tokenizer)
	{
		st = pllm_tok_load_gguf(m->gguf, &m->tok, err);
		if (st != PLLM_OK)
			return st;
	}
	return PLLM_OK;
}

static pllm_status
model_open(const void *buf, size_t len, const pllm_mapped_file *map, const pllm_model_opts *opts,
		   pllm_model **out, pllm_error *err)
{
	pllm_model_opts defaults = pllm_model_opts_default();
	pllm_model     *m;
	pllm_status     st;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for a model");
	if (map)
		m->map = *map;
	m->buf = buf;
	m->len = len;
	st = model_load(m, opts ? opts : &defaults, err);
	if (st != PLLM_OK)
	{
		pllm_model_close(m);
		return st;
	}
	*out = m;
	return PLLM_OK;
}

pllm_status
pllm_model_open_file(const char *path, const pllm_model_opts *opts, pllm_model **out,
					 pllm_error *err)
{
	pllm_mapped_file map;
	pllm_status      st;

	if (!path || !out)
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "model path is missing");
	*out = NULL;
	if ((st = pllm_file_map(path, &map, err)) != PLLM_OK)
		return st;
	/* On failure model_open closes the half-built model, which unmaps. */
	return model_open(map.data, map.size, &map, opts, out, err);
}

pllm_status
pllm_model_open_buffer(const void *buf, size_t len, const pllm_model_opts *opts, pllm_model **out,
					   pllm_error *err)
{
	if (!out || (!buf && len))
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "model buffer is missing");
	return model_open(buf, len, NULL, opts, out, err);
}

void
pllm_model_close(pllm_model *m)
{
	if (!m)
		return;
	if (m->arch && m->arch->free_data)
		m->arch->free_data(m);
	if (m->tok)
		pllm_tok_free(m->tok);
	free(m->layers);
	pllm_gguf_free(m->gguf);
	pllm_file_unmap(&m->map);
	free(m);
}

static void
info_count_type(pllm_model_info *info, uint32_t type)
{
	uint32_t i;

	for (i = 0; i < info->n_types; i++)
		if (info->type_id[i] == type)
		{
			info->type_count[i]++;
			return;
		}
	if (info->n_types < PLLM_MODEL_MAX_TYPES)
	{
		info->type_id[info->n_types] = type;
		info->type_count[info->n_types++] = 1;
	}
}

void
pllm_model_get_info(const pllm_model *m, pllm_model_info *info)
{
	const pllm_hparams *hp = &m->hp;
	static const char *const scaling[] = {"none", "linear", "llama3"};
	pllm_str            name;
	uint64_t            i;

	memset(info, 0, sizeof(*info));
	snprintf(info->arch, sizeof(info->arch), "%s", m->arch->name);
	if (pllm_gguf_get_str(m->gguf, "general.name", &name))
		snprintf(info->name, sizeof(info->name), "%.*s", (int) (name.len > 63 ? 63 : name.len), name.ptr);
	info->is_encoder = m->arch->is_encoder;
	info->n_layer = hp->n_layer;
	info->n_embd = hp->n_embd;
	info->n_head = hp->n_head;
	info->n_head_kv = hp->n_head_kv;
	info->head_dim = hp->head_dim;
	info->n_ff = hp->n_ff;
	info->n_vocab = hp->n_vocab;
	info->n_ctx_train = hp->n_ctx_train;
	info->rope_base = hp->rope_base;
	info->rope_freq_scale = hp->rope_freq_scale;
	snprintf(info->rope_scaling, sizeof(info->rope_scaling), "%s", scaling[hp->rope_scaling]);
	info->rope_neox = hp->rope_neox;
	info->norm_eps = hp->norm_eps;
	info->tied_output = m->output.data != NULL && m->output.data == m->tok_embd.data;
	info->file_bytes = m->len;
	info->n_tensors = (uint32_t) m->gguf->n_tensors;
	for (i = 0; i < m->gguf->n_tensors; i++)
	{
		const pllm_gguf_tensor *t = &m->gguf->tensors[i];

		info->n_params += t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
		info->n_bytes += t->nbytes;
		info_count_type(info, t->type);
	}
}

struct pllm_tokenizer *
pllm_model_tokenizer(const pllm_model *m)
{
	return m ? m->tok : NULL;
}

const pllm_gguf *
pllm_model_gguf(const pllm_model *m)
{
	return m->gguf;
}

uint32_t
pllm_model_n_vocab(const pllm_model *m)
{
	return m->hp.n_vocab;
}

uint32_t
pllm_model_n_embd(const pllm_model *m)
{
	return m->hp.n_embd;
}

uint32_t
pllm_model_n_ctx_train(const pllm_model *m)
{
	return m->hp.n_ctx_train;
}

bool
pllm_model_is_encoder(const pllm_model *m)
{
	return m->arch->is_encoder;
}
