/*
 * mapfile.c -- mmap a model file read-only. An empty file maps to a NULL,0
 * buffer so the GGUF parser reports it as truncated rather than mmap failing.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pg_llm/mapfile.h"

pllm_status
pllm_file_map(const char *path, pllm_mapped_file *out, pllm_error *err)
{
	struct stat st;
	void       *p = NULL;
	int         fd;

	out->data = NULL;
	out->size = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pllm_error_set_errno(err, errno, "could not open \"%s\"", path);
	if (fstat(fd, &st) != 0)
	{
		int e = errno;

		close(fd);
		return pllm_error_set_errno(err, e, "could not stat \"%s\"", path);
	}
	if (!S_ISREG(st.st_mode))
	{
		close(fd);
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "\"%s\" is not a regular file", path);
	}
	if (st.st_size > 0)
	{
		p = mmap(NULL, (size_t) st.st_size, PROT_READ, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
		{
			int e = errno;

			close(fd);
			return pllm_error_set_errno(err, e, "could not map \"%s\"", path);
		}
	}
	close(fd);
	out->data = p;
	out->size = (size_t) st.st_size;
	return PLLM_OK;
}

void
pllm_file_unmap(pllm_mapped_file *m)
{
	if (m->data)
		munmap((void *) m->data, m->size);
	m->data = NULL;
	m->size = 0;
}
