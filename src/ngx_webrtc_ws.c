
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <string.h>

#include "ngx_webrtc_ws.h"


#define ws_error(ws, code, reason)                                           \
    do {                                                                     \
        (ws)->close_code = code;                                             \
        (ws)->error = reason;                                                \
        return NGX_WEBRTC_WS_ERROR;                                          \
    } while (0)


static u_char *ngx_webrtc_json_skip_ws(u_char *p, u_char *end);
static u_char *ngx_webrtc_json_string(u_char *p, u_char *end,
    ngx_webrtc_json_str_t *out);
static u_char *ngx_webrtc_json_skip_value(u_char *p, u_char *end);
static int ngx_webrtc_json_lit(const u_char *p, const char *lit);
static int ngx_webrtc_hex4(const u_char *p, unsigned *v);


/*
 * RFC 6455, 5.2: parses the frame at the start of p (len bytes buffered).
 * NGX_WEBRTC_WS_OK: f is set and the payload, unmasked in place, follows
 * the header_len bytes of header; NGX_WEBRTC_WS_AGAIN: more bytes are
 * needed; NGX_WEBRTC_WS_ERROR: close with ws->close_code.  The size of a
 * data frame is checked against max_message before its payload arrives.
 */

int
ngx_webrtc_ws_parse_frame(ngx_webrtc_ws_t *ws, u_char *p, size_t len,
    ngx_webrtc_ws_frame_t *f)
{
    size_t    n, i;
    u_char   *mask, *payload;
    unsigned  opcode;
    uint64_t  plen;

    if (len < 2) {
        return NGX_WEBRTC_WS_AGAIN;
    }

    if (p[0] & 0x70) {
        ws_error(ws, NGX_WEBRTC_WS_PROTOCOL, "reserved bits set");
    }

    opcode = p[0] & 0x0f;

    f->fin = p[0] >> 7;
    f->opcode = opcode;

    if (!(p[1] & 0x80)) {
        /* 5.1: a client MUST mask all frames */
        ws_error(ws, NGX_WEBRTC_WS_PROTOCOL, "unmasked client frame");
    }

    plen = p[1] & 0x7f;
    n = 2;

    if (plen == 126) {
        if (len < 4) {
            return NGX_WEBRTC_WS_AGAIN;
        }

        plen = (uint64_t) p[2] << 8 | p[3];
        n = 4;

    } else if (plen == 127) {
        if (len < 10) {
            return NGX_WEBRTC_WS_AGAIN;
        }

        plen = 0;

        for (i = 2; i < 10; i++) {
            plen = plen << 8 | p[i];
        }

        if (plen >> 63) {
            ws_error(ws, NGX_WEBRTC_WS_PROTOCOL, "bad payload length");
        }

        n = 10;
    }

    switch (opcode) {

    case NGX_WEBRTC_WS_CLOSE:
    case NGX_WEBRTC_WS_PING:
    case NGX_WEBRTC_WS_PONG:

        /* 5.5: control frames are short and not fragmented */

        if (!f->fin || plen > 125) {
            ws_error(ws, NGX_WEBRTC_WS_PROTOCOL, "bad control frame");
        }

        break;

    case NGX_WEBRTC_WS_CONT:
        if (ws->opcode == 0) {
            ws_error(ws, NGX_WEBRTC_WS_PROTOCOL,
                     "continuation frame without a message");
        }

        if (plen > ws->max_message - ws->len) {
            ws_error(ws, NGX_WEBRTC_WS_TOO_BIG, "message too big");
        }

        break;

    case NGX_WEBRTC_WS_TEXT:
    case NGX_WEBRTC_WS_BINARY:
        if (ws->opcode != 0) {
            ws_error(ws, NGX_WEBRTC_WS_PROTOCOL,
                     "new message inside a fragmented one");
        }

        if (plen > ws->max_message) {
            ws_error(ws, NGX_WEBRTC_WS_TOO_BIG, "message too big");
        }

        break;

    default:
        ws_error(ws, NGX_WEBRTC_WS_PROTOCOL, "unknown opcode");
    }

    if (len < n + 4 || len - n - 4 < plen) {
        return NGX_WEBRTC_WS_AGAIN;
    }

    mask = p + n;
    payload = mask + 4;

    for (i = 0; i < plen; i++) {
        payload[i] ^= mask[i & 3];
    }

    f->header_len = n + 4;
    f->payload_len = plen;

    if (opcode == NGX_WEBRTC_WS_TEXT || opcode == NGX_WEBRTC_WS_BINARY) {
        ws->opcode = opcode;
        ws->len = plen;

    } else if (opcode == NGX_WEBRTC_WS_CONT) {
        ws->len += plen;
    }

    return NGX_WEBRTC_WS_OK;
}


/* an unmasked server frame header; returns its length (at most 10) */

size_t
ngx_webrtc_ws_frame_header(u_char *buf, unsigned opcode, uint64_t len)
{
    int  i;

    buf[0] = (u_char) (0x80 | opcode);

    if (len < 126) {
        buf[1] = (u_char) len;
        return 2;
    }

    if (len < 65536) {
        buf[1] = 126;
        buf[2] = (u_char) (len >> 8);
        buf[3] = (u_char) len;
        return 4;
    }

    buf[1] = 127;

    for (i = 0; i < 8; i++) {
        buf[2 + i] = (u_char) (len >> (56 - 8 * i));
    }

    return 10;
}


/* RFC 3629, 4: well-formed UTF-8, no overlongs, surrogates or > U+10FFFF */

int
ngx_webrtc_utf8_valid(const u_char *p, size_t len)
{
    size_t    i, n, k;
    uint32_t  c, min;

    for (i = 0; i < len; i += n) {
        c = p[i];

        if (c < 0x80) {
            n = 1;
            continue;
        }

        if ((c & 0xe0) == 0xc0) {
            n = 2;
            c &= 0x1f;
            min = 0x80;

        } else if ((c & 0xf0) == 0xe0) {
            n = 3;
            c &= 0x0f;
            min = 0x800;

        } else if ((c & 0xf8) == 0xf0) {
            n = 4;
            c &= 0x07;
            min = 0x10000;

        } else {
            return 0;
        }

        if (len - i < n) {
            return 0;
        }

        for (k = 1; k < n; k++) {
            if ((p[i + k] & 0xc0) != 0x80) {
                return 0;
            }

            c = c << 6 | (p[i + k] & 0x3f);
        }

        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
            return 0;
        }
    }

    return 1;
}


/*
 * A JSON object whose string members are unescaped in place; members of
 * other types are recorded raw, nested values skipped.  Returns 0 or -1.
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
        return -1;
    }

    p = ngx_webrtc_json_skip_ws(p + 1, end);

    if (p < end && *p == '}') {
        return ngx_webrtc_json_skip_ws(p + 1, end) == end ? 0 : -1;
    }

    for ( ;; ) {
        f = (json->nfields < NGX_WEBRTC_JSON_MAX_FIELDS)
            ? &json->fields[json->nfields] : &dummy;

        if (p == end || *p != '"') {
            return -1;
        }

        p = ngx_webrtc_json_string(p, end, &f->name);
        if (p == NULL) {
            return -1;
        }

        p = ngx_webrtc_json_skip_ws(p, end);

        if (p == end || *p != ':') {
            return -1;
        }

        p = ngx_webrtc_json_skip_ws(p + 1, end);

        if (p == end) {
            return -1;
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
            return -1;
        }

        if (f != &dummy) {
            json->nfields++;
        }

        p = ngx_webrtc_json_skip_ws(p, end);

        if (p == end) {
            return -1;
        }

        if (*p == ',') {
            p = ngx_webrtc_json_skip_ws(p + 1, end);
            continue;
        }

        if (*p == '}') {
            return ngx_webrtc_json_skip_ws(p + 1, end) == end ? 0 : -1;
        }

        return -1;
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

        if (end - p < 6 || ngx_webrtc_hex4(p + 2, &c) != 0) {
            return NULL;
        }

        p += 6;

        if (c >= 0xd800 && c <= 0xdbff) {
            /* a surrogate pair */

            if (end - p < 6 || p[0] != '\\' || p[1] != 'u'
                || ngx_webrtc_hex4(p + 2, &lo) != 0
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
            return -1;
        }
    }

    return 0;
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
