/*
 * utf8.c -- UTF-8 validation for streamed text (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF).
 */
#include "utf8.h"

int
pllm_utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	int           len, i;
	unsigned char lo = 0x80, hi = 0xBF;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF)
	{
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;          /* overlong */
		else if (c == 0xED)
			hi = 0x9F;          /* surrogates */
	}
	else if (c >= 0xF0 && c <= 0xF4)
	{
		len = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	}
	else
		return 0;
	for (i = 1; i < len; i++)
	{
		if ((size_t) i >= n)
			return -1;
		if (s[i] < lo || s[i] > hi)
			return 0;
		lo = 0x80;
		hi = 0xBF;
	}
	return len;
}

size_t
pllm_utf8_incomplete_tail(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *) str;
	size_t               back;

	/* A character is at most 4 bytes: look at the last 3 lead-byte candidates. */
	for (back = 1; back <= 3 && back <= n; back++)
	{
		unsigned char c = s[n - back];

		if ((c & 0xC0) != 0x80)
			return pllm_utf8_seq_len(s + n - back, back) < 0 ? back : 0;
	}
	return 0;
}

bool
pllm_utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *) str;
	size_t               i = 0;

	while (i < n)
	{
		int len = pllm_utf8_seq_len(s + i, n - i);

		if (len <= 0)
			return false;
		i += (size_t) len;
	}
	return true;
}

size_t
pllm_utf8_sanitize(const char *str, size_t n, char *out)
{
	const unsigned char *s = (const unsigned char *) str;
	size_t               i = 0, o = 0;

	while (i < n)
	{
		int len = pllm_utf8_seq_len(s + i, n - i);

		if (len > 0)
		{
			int k;

			for (k = 0; k < len; k++)
				out[o++] = (char) s[i + k];
			i += (size_t) len;
		}
		else
		{
			/* U+FFFD for one bad byte (a truncated sequence counts as its lead byte) */
			out[o++] = (char) 0xEF;
			out[o++] = (char) 0xBF;
			out[o++] = (char) 0xBD;
			i++;
		}
	}
	return o;
}
