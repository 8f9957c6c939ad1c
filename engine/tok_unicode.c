/*
 * tok_unicode.c -- the Unicode facts the tokenizers need, with llama.cpp's
 * conventions: lax UTF-8 decoding (a bad byte becomes U+FFFD), code point
 * classes from utf8proc plus the White_Space set, and GPT-2's byte <-> code
 * point table for byte-level BPE.
 */
#include <stdlib.h>
#include <utf8proc.h>

#include "tok_internal.h"

size_t
tok_utf8_len(unsigned char c)
{
	static const unsigned char lookup[16] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4 };

	return lookup[c >> 4];
}

/* One code point at s[*i] (n bytes in all), as llama.cpp's unicode_cpt_from_utf8. */
static uint32_t
cpt_decode(const unsigned char *s, size_t n, size_t *i)
{
	size_t   o = *i;
	uint32_t c = s[o];

	if (!(c & 0x80))
	{
		*i = o + 1;
		return c;
	}
	if (!(c & 0x40))
		goto invalid;
	if (!(c & 0x20))
	{
		if (o + 1 >= n || (s[o + 1] & 0xc0) != 0x80)
			goto invalid;
		*i = o + 2;
		return ((c & 0x1f) << 6) | (s[o + 1] & 0x3f);
	}
	if (!(c & 0x10))
	{
		if (o + 2 >= n || (s[o + 1] & 0xc0) != 0x80 || (s[o + 2] & 0xc0) != 0x80)
			goto invalid;
		*i = o + 3;
		return ((c & 0x0f) << 12) | ((uint32_t) (s[o + 1] & 0x3f) << 6) | (s[o + 2] & 0x3f);
	}
	if (!(c & 0x08))
	{
		if (o + 3 >= n || (s[o + 1] & 0xc0) != 0x80 || (s[o + 2] & 0xc0) != 0x80 || (s[o + 3] & 0xc0) != 0x80)
			goto invalid;
		*i = o + 4;
		return ((c & 0x07) << 18) | ((uint32_t) (s[o + 1] & 0x3f) << 12) |
			((uint32_t) (s[o + 2] & 0x3f) << 6) | (s[o + 3] & 0x3f);
	}
invalid:
	*i = o + 1;
	return 0xFFFD;
}

bool
tok_cpts_from_utf8(const char *s, size_t n, uint32_t **cpts, size_t **offs, size_t *n_cpts)
{
	const unsigned char *u = (const unsigned char *) s;
	uint32_t            *c = malloc((n + 1) * sizeof(uint32_t));
	size_t              *o = offs ? malloc((n + 1) * sizeof(size_t)) : NULL;
	size_t               i = 0, k = 0;

	if (!c || (offs && !o))
	{
		free(c);
		free(o);
		return false;
	}
	while (i < n)
	{
		if (o)
			o[k] = i;
		c[k++] = cpt_decode(u, n, &i);
	}
	if (o)
		o[k] = n;
	*cpts = c;
	if (offs)
		*offs = o;
	*n_cpts = k;
	return true;
}

size_t
tok_cpt_to_utf8(uint32_t cpt, char *out)
{
	if (cpt <= 0x7f)
	{
		out[0] = (char) cpt;
		return 1;
	}
	if (cpt <= 0x7ff)
	{
		out[0] = (char) (0xc0 | (cpt >> 6));
		out[1] = (char) (0x80 | (cpt & 0x3f));
		return 2;
	}
	if (cpt > 0x10ffff)
		cpt = 0xFFFD;
	if (cpt <= 0xffff)
	{
		out[0] = (char) (0xe0 | (cpt >> 12));
		out[1] = (char) (0x80 | ((cpt >> 6) & 0x3f));
		out[2] = (char) (0x80 | (cpt & 0x3f));
		return 3;
	}
	out[0] = (char) (0xf0 | (cpt >> 18));
	out[1] = (char) (0x80 | ((cpt >> 12) & 0x3f));
	out[2] = (char) (0x80 | ((cpt >> 6) & 0x3f));
	out[3] = (char) (0x80 | (cpt & 0x3f));
	return 4;
}

static bool
is_white_space(uint32_t c)
{
	/* Unicode's White_Space property */
	return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
		(c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
		c == 0x205f || c == 0x3000;
}

uint32_t
tok_cpt_flags(uint32_t cpt)
{
	uint32_t f = 0;

	if (cpt > 0x10ffff)
		return 0;
	switch (utf8proc_category((utf8proc_int32_t) cpt))
	{
		case UTF8PROC_CATEGORY_LU:
		case UTF8PROC_CATEGORY_LL:
		case UTF8PROC_CATEGORY_LT:
		case UTF8PROC_CATEGORY_LM:
		case UTF8PROC_CATEGORY_LO:
			f = TOK_CPT_LETTER;
			break;
		case UTF8PROC_CATEGORY_MN:
		case UTF8PROC_CATEGORY_MC:
		case UTF8PROC_CATEGORY_ME:
			f = TOK_CPT_MARK;
			break;
		case UTF8PROC_CATEGORY_ND:
		case UTF8PROC_CATEGORY_NL:
		case UTF8PROC_CATEGORY_NO:
			f = TOK_CPT_NUMBER;
			break;
		case UTF8PROC_CATEGORY_PC:
		case UTF8PROC_CATEGORY_PD:
		case UTF8PROC_CATEGORY_PS:
		case UTF8PROC_CATEGORY_PE:
		case UTF8PROC_CATEGORY_PI:
		case UTF8PROC_CATEGORY_PF:
		case UTF8PROC_CATEGORY_PO:
			f = TOK_CPT_PUNCT;
			break;
		case UTF8PROC_CATEGORY_SM:
		case UTF8PROC_CATEGORY_SC:
		case UTF8PROC_CATEGORY_SK:
		case UTF8PROC_CATEGORY_SO:
			f = TOK_CPT_SYMBOL;
			break;
		case UTF8PROC_CATEGORY_ZS:
		case UTF8PROC_CATEGORY_ZL:
		case UTF8PROC_CATEGORY_ZP:
			f = TOK_CPT_SEPARATOR;
			break;
		case UTF8PROC_CATEGORY_CC:
		case UTF8PROC_CATEGORY_CF:
		case UTF8PROC_CATEGORY_CS:
		case UTF8PROC_CATEGORY_CO:
			f = TOK_CPT_CONTROL;
			break;
		default:
			f = 0;
			break;
	}
	if (is_white_space(cpt))
		f |= TOK_CPT_WHITESPACE;
	return f;
}

uint32_t
tok_cpt_tolower(uint32_t cpt)
{
	if (cpt > 0x10ffff)
		return cpt;
	return (uint32_t) utf8proc_tolower((utf8proc_int32_t) cpt);
}

uint32_t
tok_cpt_nfd_first(uint32_t cpt)
{
	utf8proc_int32_t dst[8];
	int              last = 0;
	utf8proc_ssize_t n;

	if (cpt < 0xc0 || cpt > 0x10ffff)
		return cpt;
	n = utf8proc_decompose_char((utf8proc_int32_t) cpt, dst, 8, UTF8PROC_DECOMPOSE, &last);
	return n >= 1 && n <= 8 ? (uint32_t) dst[0] : cpt;
}

/* Bytes GPT-2 keeps as their own code point: '!'..'~', 0xA1..0xAC, 0xAE..0xFF. */
static bool
byte_is_printable(unsigned b)
{
	return (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae);
}

uint32_t
tok_byte_to_cpt(uint8_t b)
{
	if (byte_is_printable(b))
		return b;
	/* the others, in byte order, become 256, 257, ... */
	if (b <= 0x20)
		return 256u + b;
	if (b <= 0xa0)
		return 256u + 33u + (b - 0x7fu);
	return 256u + 67u;   /* 0xAD */
}

int
tok_cpt_to_byte(uint32_t cpt)
{
	if (cpt < 256)
		return byte_is_printable(cpt) ? (int) cpt : -1;
	if (cpt <= 256 + 32)
		return (int) (cpt - 256);
	if (cpt <= 256 + 66)
		return (int) (cpt - 256 - 33 + 0x7f);
	if (cpt == 256 + 67)
		return 0xad;
	return -1;
}
