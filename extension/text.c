/*
 * text.c -- the border between SQL text and the engine's UTF-8: inputs are
 * converted from the database encoding to UTF-8, and engine output is made
 * valid UTF-8 (a token can end in the middle of a character) and converted
 * back, so that no invalid byte sequence ever reaches a text value.
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "pg_llm_ext.h"

#define REPLACEMENT_CHAR "\xEF\xBF\xBD"		/* U+FFFD in UTF-8 */

char *
PllmTextToUtf8(text *t, size_t *len)
{
	char	   *s = text_to_cstring(t);
	size_t      n = strlen(s);
	char	   *u = pg_server_to_any(s, (int) n, PG_UTF8);

	*len = (u == s) ? n : strlen(u);
	return u;
}

char *
PllmCStringToUtf8(const char *s)
{
	return pg_server_to_any(s, (int) strlen(s), PG_UTF8);
}

/* Copy s[0..len) to palloc'd memory, each invalid UTF-8 sequence as U+FFFD. */
static char *
ValidUtf8(const char *s, size_t len, size_t *out_len)
{
	StringInfoData buf;
	size_t      i = 0;

	initStringInfo(&buf);
	while (i < len)
	{
		int         n = pg_utf_mblen((const unsigned char *) s + i);

		if (s[i] != '\0' && i + n <= len && pg_utf8_islegal((const unsigned char *) s + i, n))
		{
			appendBinaryStringInfo(&buf, s + i, n);
			i += n;
		}
		else
		{
			appendStringInfoString(&buf, REPLACEMENT_CHAR);
			i++;
		}
	}
	*out_len = buf.len;
	return buf.data;
}

text *
PllmUtf8ToText(const char *s, size_t len)
{
	size_t      n;
	char	   *valid;
	char	   *server;

	if (len > MaxAllocSize / 3 - VARHDRSZ)
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("generated text is too long")));
	valid = ValidUtf8(s, len, &n);
	server = pg_any_to_server(valid, (int) n, PG_UTF8);
	if (server != valid)
		n = strlen(server);
	return cstring_to_text_with_len(server, (int) n);
}
