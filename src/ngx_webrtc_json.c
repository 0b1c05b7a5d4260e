
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <string.h>

#include "ngx_webrtc_json.h"


static u_char *ngx_webrtc_json_skip_ws(u_char *p, u_char *end);
static u_char *ngx_webrtc_json_string(u_char *p, u_char *end,
    ngx_webrtc_json_str_t *out);
static u_char *ngx_webrtc_json_skip_value(u_char *p, u_char *end);
static int ngx_webrtc_json_lit(const u_char *p, const char *lit);
static int ngx_webrtc_hex4(const u_char *p, unsigned *v);


/*
 * A JSON object whose string members are unescaped in place; members of
 * other types are recorded raw, nested values skipped.  Returns
 * NGX_WEBRTC_JSON_OK or NGX_WEBRTC_JSON_ERROR.
 */

int
ngx_webrtc_json_parse(ngx_webrtc_json_t *json, u_char *p, size_t len)
{
    u_char                   *end, *v;
    ngx_webrtc_json_field_t  *f, dummy;

    json->nfields = 0;
    end = p + len;

    p = ngx_webrtc_json_skip_ws(p, end);

    if (p == end || *p != '{') {
        return NGX_WEBRTC_JSON_ERROR;
    }

    p = ngx_webrtc_json_skip_ws(p + 1, end);

    if (p < end && *p == '}') {
        return (ngx_webrtc_json_skip_ws(p + 1, end) == end)
               ? NGX_WEBRTC_JSON_OK : NGX_WEBRTC_JSON_ERROR;
    }

    for ( ;; ) {
        f = (json->nfields < NGX_WEBRTC_JSON_MAX_FIELDS)
            ? &json->fields[json->nfields] : &dummy;

        if (p == end || *p != '"') {
            return NGX_WEBRTC_JSON_ERROR;
        }

        p = ngx_webrtc_json_string(p, end, &f->name);
        if (p == NULL) {
            return NGX_WEBRTC_JSON_ERROR;
        }

        p = ngx_webrtc_json_skip_ws(p, end);

        if (p == end || *p != ':') {
            return NGX_WEBRTC_JSON_ERROR;
        }

        p = ngx_webrtc_json_skip_ws(p + 1, end);

        if (p == end) {
            return NGX_WEBRTC_JSON_ERROR;
        }

        if (*p == '"') {
            f->string = 1;
            p = ngx_webrtc_json_string(p, end, &f->value);

        } else {
            f->string = 0;
            v = p;
            p = ngx_webrtc_json_skip_value(p, end);

            if (p) {
                f->value.data = v;
                f->value.len = p - v;
            }
        }

        if (p == NULL) {
            return NGX_WEBRTC_JSON_ERROR;
        }

        if (f != &dummy) {
            json->nfields++;
        }

        p = ngx_webrtc_json_skip_ws(p, end);

        if (p == end) {
            return NGX_WEBRTC_JSON_ERROR;
        }

        if (*p == ',') {
            p = ngx_webrtc_json_skip_ws(p + 1, end);
            continue;
        }

        if (*p == '}') {
            return (ngx_webrtc_json_skip_ws(p + 1, end) == end)
                   ? NGX_WEBRTC_JSON_OK : NGX_WEBRTC_JSON_ERROR;
        }

        return NGX_WEBRTC_JSON_ERROR;
    }
}


ngx_webrtc_json_str_t *
ngx_webrtc_json_get(ngx_webrtc_json_t *json, const char *name)
{
    size_t    len;
    unsigned  i;

    len = strlen(name);

    for (i = 0; i < json->nfields; i++) {
        if (json->fields[i].string && json->fields[i].name.len == len
            && memcmp(json->fields[i].name.data, name, len) == 0)
        {
            return &json->fields[i].value;
        }
    }

    return NULL;
}


static u_char *
ngx_webrtc_json_skip_ws(u_char *p, u_char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
    {
        p++;
    }

    return p;
}


/* RFC 8259, 7: unescapes the string at p in place, returns the end */

static u_char *
ngx_webrtc_json_string(u_char *p, u_char *end, ngx_webrtc_json_str_t *out)
{
    u_char    *d;
    unsigned   c, lo;

    p++;
    d = p;
    out->data = d;

    while (p < end) {

        if (*p == '"') {
            out->len = d - out->data;
            return p + 1;
        }

        if (*p < 0x20) {
            return NULL;
        }

        if (*p != '\\') {
            *d++ = *p++;
            continue;
        }

        if (end - p < 2) {
            return NULL;
        }

        switch (p[1]) {
        case '"':
        case '\\':
        case '/':
            *d++ = p[1];
            p += 2;
            continue;
        case 'b':
            *d++ = '\b';
            p += 2;
            continue;
        case 'f':
            *d++ = '\f';
            p += 2;
            continue;
        case 'n':
            *d++ = '\n';
            p += 2;
            continue;
        case 'r':
            *d++ = '\r';
            p += 2;
            continue;
        case 't':
            *d++ = '\t';
            p += 2;
            continue;
        case 'u':
            break;
        default:
            return NULL;
        }

        if (end - p < 6
            || ngx_webrtc_hex4(p + 2, &c) != NGX_WEBRTC_JSON_OK)
        {
            return NULL;
        }

        p += 6;

        if (c >= 0xd800 && c <= 0xdbff) {
            /* a surrogate pair */

            if (end - p < 6 || p[0] != '\\' || p[1] != 'u'
                || ngx_webrtc_hex4(p + 2, &lo) != NGX_WEBRTC_JSON_OK
                || lo < 0xdc00 || lo > 0xdfff)
            {
                return NULL;
            }

            p += 6;
            c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);

        } else if (c >= 0xdc00 && c <= 0xdfff) {
            return NULL;
        }

        /* UTF-8 is never longer than the escape it replaces */

        if (c < 0x80) {
            *d++ = (u_char) c;

        } else if (c < 0x800) {
            *d++ = (u_char) (0xc0 | c >> 6);
            *d++ = (u_char) (0x80 | (c & 0x3f));

        } else if (c < 0x10000) {
            *d++ = (u_char) (0xe0 | c >> 12);
            *d++ = (u_char) (0x80 | ((c >> 6) & 0x3f));
            *d++ = (u_char) (0x80 | (c & 0x3f));

        } else {
            *d++ = (u_char) (0xf0 | c >> 18);
            *d++ = (u_char) (0x80 | ((c >> 12) & 0x3f));
            *d++ = (u_char) (0x80 | ((c >> 6) & 0x3f));
            *d++ = (u_char) (0x80 | (c & 0x3f));
        }
    }

    return NULL;
}


/* a number, literal, object or array; strings inside are not unescaped */

static u_char *
ngx_webrtc_json_skip_value(u_char *p, u_char *end)
{
    size_t     n;
    u_char    *start;
    unsigned   depth, instr;
    u_char     stack[32];

    if (*p != '{' && *p != '[') {

        /* a number, true, false or null */

        start = p;

        while (p < end && ((*p >= '0' && *p <= '9') || *p == '-'
                           || *p == '+' || *p == '.' || *p == 'e'
                           || *p == 'E' || (*p >= 'a' && *p <= 'z')))
        {
            p++;
        }

        n = p - start;

        if (n == 0
            || ((*start < '0' || *start > '9') && *start != '-'
                && !((n == 4 && ngx_webrtc_json_lit(start, "true"))
                     || (n == 5 && ngx_webrtc_json_lit(start, "false"))
                     || (n == 4 && ngx_webrtc_json_lit(start, "null")))))
        {
            return NULL;
        }

        return p;
    }

    depth = 0;
    instr = 0;

    for ( /* void */ ; p < end; p++) {

        if (instr) {
            if (*p == '\\') {
                p++;

            } else if (*p == '"') {
                instr = 0;
            }

            continue;
        }

        if (*p == '"') {
            instr = 1;

        } else if (*p == '{' || *p == '[') {
            if (depth == sizeof(stack)) {
                return NULL;
            }

            stack[depth++] = (*p == '{') ? '}' : ']';

        } else if (*p == '}' || *p == ']') {
            if (depth == 0 || stack[depth - 1] != *p) {
                return NULL;
            }

            if (--depth == 0) {
                return p + 1;
            }
        }
    }

    return NULL;
}


static int
ngx_webrtc_json_lit(const u_char *p, const char *lit)
{
    return memcmp(p, lit, strlen(lit)) == 0;
}


static int
ngx_webrtc_hex4(const u_char *p, unsigned *v)
{
    unsigned  i, c;

    *v = 0;

    for (i = 0; i < 4; i++) {
        c = p[i] | 0x20;

        if (c >= '0' && c <= '9') {
            *v = *v << 4 | (c - '0');

        } else if (c >= 'a' && c <= 'f') {
            *v = *v << 4 | (c - 'a' + 10);

        } else {
            return NGX_WEBRTC_JSON_ERROR;
        }
    }

    return NGX_WEBRTC_JSON_OK;
}


/* JSON string contents; dst has room for 6 bytes per source byte */

size_t
ngx_webrtc_json_escape(u_char *dst, const u_char *src, size_t len)
{
    size_t   i;
    u_char  *d;

    static const char  hex[] = "0123456789abcdef";

    d = dst;

    for (i = 0; i < len; i++) {
        switch (src[i]) {
        case '"':
        case '\\':
            *d++ = '\\';
            *d++ = src[i];
            break;
        case '\n':
            *d++ = '\\';
            *d++ = 'n';
            break;
        case '\r':
            *d++ = '\\';
            *d++ = 'r';
            break;
        case '\t':
            *d++ = '\\';
            *d++ = 't';
            break;
        default:
            if (src[i] < 0x20) {
                *d++ = '\\';
                *d++ = 'u';
                *d++ = '0';
                *d++ = '0';
                *d++ = hex[src[i] >> 4];
                *d++ = hex[src[i] & 0xf];

            } else {
                *d++ = src[i];
            }
        }
    }

    return d - dst;
}
