/*
 * paths.c -- confining model files to pg_llm.model_dir: a path is resolved
 * (relative to model_dir, symlinks followed) and must lie inside it, and the
 * file actually opened is checked again through /proc/self/fd so that swapping
 * a path component for a symlink between the check and the open gains nothing.
 */
#include "postgres.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/fd.h"

#include "pg_llm_ext.h"

/* True when path has a ".." component. */
static bool
HasParentRef(const char *path)
{
	for (const char *p = path; (p = strstr(p, "..")) != NULL; p += 2)
		if ((p == path || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
			return true;
	return false;
}

/* True when `path` names something strictly inside directory `dir`. */
static bool
PathInside(const char *dir, const char *path)
{
	size_t      n = strlen(dir);

	if (n > 0 && dir[n - 1] == '/')
		n--;
	return strncmp(dir, path, n) == 0 && path[n] == '/' && path[n + 1] != '\0';
}

static void
OutsideError(const char *path)
{
	ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					errmsg("model file \"%s\" is outside pg_llm.model_dir", path),
					errdetail("Models can only be loaded from \"%s\".", pllm_model_dir),
					errhint("Copy the file into pg_llm.model_dir, or have a superuser change that setting.")));
}

int
PllmOpenModelFile(const char *path, bool confine, char **resolved, off_t *size)
{
	char        joined[MAXPGPATH];
	char        real[PATH_MAX];
	char        dir_real[PATH_MAX];
	char        fdlink[64];
	char        opened[PATH_MAX];
	ssize_t     len;
	struct stat st;
	int         fd;
	bool        have_dir = pllm_model_dir != NULL && pllm_model_dir[0] != '\0';

	if (path[0] == '\0')
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("model path must not be empty")));
	if (confine && !have_dir)
		ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						errmsg("pg_llm.model_dir is not set"),
						errdetail("Models can only be loaded from inside pg_llm.model_dir."),
						errhint("A superuser must set pg_llm.model_dir to the directory that holds the model files.")));
	if (is_absolute_path(path) || !have_dir)
		strlcpy(joined, path, sizeof(joined));
	else
		snprintf(joined, sizeof(joined), "%s/%s", pllm_model_dir, path);
	canonicalize_path(joined);

	if (confine)
	{
		char        dir_lex[MAXPGPATH];

		if (realpath(pllm_model_dir, dir_real) == NULL)
			ereport(ERROR, (errcode_for_file_access(),
							errmsg("could not resolve pg_llm.model_dir \"%s\": %m", pllm_model_dir)));
		strlcpy(dir_lex, pllm_model_dir, sizeof(dir_lex));
		canonicalize_path(dir_lex);
		/*
		 * Check the lexical path first, so that the error for a missing file
		 * cannot be used to probe for files elsewhere on the server.
		 */
		if (HasParentRef(joined) ||
			(!PathInside(dir_lex, joined) && !PathInside(dir_real, joined)))
			OutsideError(path);
	}
	if (realpath(joined, real) == NULL)
		ereport(ERROR, (errcode_for_file_access(),
						errmsg("could not open model file \"%s\": %m", path),
						errdetail("The path resolves to \"%s\".", joined),
						errhint("Check that the file exists and that the server's operating system user can read it.")));
	if (confine && !PathInside(dir_real, real))
		OutsideError(path);

	fd = OpenTransientFile(real, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		ereport(ERROR, (errcode_for_file_access(),
						errmsg("could not open model file \"%s\": %m", path),
						errdetail("The path resolves to \"%s\".", real),
						errhint("Check that the file exists and that the server's operating system user can read it.")));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
	{
		CloseTransientFile(fd);
		ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
						errmsg("model file \"%s\" is not a regular file", path)));
	}
	/* what was opened, whatever happened to the path in between */
	snprintf(fdlink, sizeof(fdlink), "/proc/self/fd/%d", fd);
	len = readlink(fdlink, opened, sizeof(opened) - 1);
	if (len > 0)
	{
		opened[len] = '\0';
		if (confine && !PathInside(dir_real, opened))
		{
			CloseTransientFile(fd);
			OutsideError(path);
		}
	}
	*resolved = pstrdup(real);
	*size = st.st_size;
	return fd;
}
