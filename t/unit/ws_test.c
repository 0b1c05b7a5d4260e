
/*
 * Copyright (C) nginx-webrtc-module authors
 */


/*
 * unit tests of the pure WebSocket framing, UTF-8 validation and JSON
 * subset, src/ngx_webrtc_ws.c
 */


#include "unit.h"
#include "ngx_webrtc_ws.h"


#define FIN  0x80


static const u_char  mask1[4] = { 0x37, 0xfa, 0x21, 0x3d };


/*
 * A client frame: first byte b0 (FIN, RSV, opcode), the payload masked
 * with mask (none if NULL), its length in the shortest form (lenform 0)
 * or forced to the 7-bit, 16-bit or 64-bit form (7, 16, 64).  Returns
 * the frame's length.
 */

static size_t
frame(u_char *buf, unsigned b0, const u_char *mask, const void *payload,
    uint64_t len, int lenform)
{
    int       i;
    size_t    n;
    uint64_t  k;

    if (lenform == 0) {
        lenform = (len < 126) ? 7 : (len < 65536) ? 16 : 64;
    }

    buf[0] = (u_char) b0;
    buf[1] = mask ? 0x80 : 0;

    if (lenform == 7) {
        buf[1] |= (u_char) len;
        n = 2;

    } else if (lenform == 16) {
        buf[1] |= 126;
        buf[2] = (u_char) (len >> 8);
        buf[3] = (u_char) len;
        n = 4;

    } else {
        buf[1] |= 127;

        for (i = 0; i < 8; i++) {
            buf[2 + i] = (u_char) (len >> (56 - 8 * i));
        }

        n = 10;
    }

    if (mask) {
        memcpy(buf + n, mask, 4);
        n += 4;
    }

    for (k = 0; k < len; k++) {
        buf[n + k] = ((const u_char *) payload)[k] ^ (mask ? mask[k & 3] : 0);
    }

    return n + (size_t) len;
}


static void
ws_init(ngx_webrtc_ws_t *ws, size_t max)
{
    memset(ws, 0, sizeof(ngx_webrtc_ws_t));
    ws->max_message = max;
}


/* parses a copy of exactly len bytes (ASan sees a read past the end) */

static int
parse(ngx_webrtc_ws_t *ws, const u_char *p, size_t len,
    ngx_webrtc_ws_frame_t *f, u_char **out)
{
    int      rc;
    u_char  *copy;

    copy = unit_dup(p, len);
    rc = ngx_webrtc_ws_parse_frame(ws, copy, len, f);

    if (out) {
        *out = copy;

    } else {
        free(copy);
    }

    return rc;
}


/* the error of a frame: its close code, and the reason set */

static void
frame_error(const u_char *p, size_t len, size_t max, int code,
    const char *name)
{
    int                    rc;
    ngx_webrtc_ws_t        ws;
    ngx_webrtc_ws_frame_t  f;

    ws_init(&ws, max);

    rc = parse(&ws, p, len, &f, NULL);

    ok(rc == NGX_WEBRTC_WS_ERROR && ws.close_code == code && ws.error,
       "%s: error, close %d (got rc %d, code %d, \"%s\")", name, code, rc,
       (int) ws.close_code, ws.error ? ws.error : "");
}


static void
fill(u_char *p, size_t len, unsigned seed)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        seed = seed * 1103515245 + 12345;
        p[i] = (u_char) (seed >> 16);
    }
}


/* every prefix of a frame is AGAIN, and changes neither buffer nor state */

static void
truncations(const u_char *p, size_t len, size_t max, const char *name)
{
    int                    rc;
    size_t                 k, bad;
    u_char                *copy;
    ngx_webrtc_ws_t        ws;
    ngx_webrtc_ws_frame_t  f;

    bad = 0;

    for (k = 0; k < len; k++) {
        ws_init(&ws, max);

        rc = parse(&ws, p, k, &f, &copy);

        if (rc != NGX_WEBRTC_WS_AGAIN || memcmp(copy, p, k) != 0
            || ws.opcode != 0 || ws.len != 0 || ws.close_code != 0)
        {
            if (bad++ == 0) {
                diag("  %s: prefix of %zu bytes: rc %d", name, k, rc);
            }
        }

        free(copy);
    }

    ok(bad == 0, "%s: AGAIN at each of %zu truncation points", name, len);
}


static void
test_lengths(void)
{
    int                    rc;
    size_t                 n;
    u_char                *buf, *copy, *payload;
    ngx_webrtc_ws_t        ws;
    ngx_webrtc_ws_frame_t  f;

    /* RFC 6455, 5.7: a single-frame masked text message "Hello" */

    static const u_char  hello[] = {
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58
    };

    ws_init(&ws, 1024);
    rc = parse(&ws, hello, sizeof(hello), &f, &copy);

    is_int(rc, NGX_WEBRTC_WS_OK, "RFC 6455 5.7 masked \"Hello\": OK");
    is_int(f.fin, 1, "\"Hello\": fin");
    is_int(f.opcode, NGX_WEBRTC_WS_TEXT, "\"Hello\": text");
    is_int(f.header_len, 6, "\"Hello\": header of 6 bytes");
    is_int(f.payload_len, 5, "\"Hello\": payload of 5 bytes");
    is_mem(copy + f.header_len, 5, "Hello", "\"Hello\": unmasked in place");
    is_int(ws.opcode, NGX_WEBRTC_WS_TEXT, "\"Hello\": message open");
    is_int(ws.len, 5, "\"Hello\": message length");
    free(copy);

    truncations(hello, sizeof(hello), 1024, "7-bit length");

    /* the same frame with one byte more is still one frame */

    buf = malloc(80000);
    payload = malloc(70000);
    if (buf == NULL || payload == NULL) {
        printf("Bail out! malloc failed\n");
        exit(2);
    }

    memcpy(buf, hello, sizeof(hello));
    buf[sizeof(hello)] = 0x89;
    ws_init(&ws, 1024);
    rc = parse(&ws, buf, sizeof(hello) + 1, &f, NULL);
    ok(rc == NGX_WEBRTC_WS_OK && f.header_len + f.payload_len == 11,
       "a frame followed by another's first byte");

    /* 7-bit length 0 and 125 */

    n = frame(buf, FIN | NGX_WEBRTC_WS_TEXT, mask1, "", 0, 0);
    ws_init(&ws, 1024);
    rc = parse(&ws, buf, n, &f, NULL);
    ok(rc == NGX_WEBRTC_WS_OK && n == 6 && f.header_len == 6
       && f.payload_len == 0, "empty text frame");

    fill(payload, 125, 1);
    n = frame(buf, FIN | NGX_WEBRTC_WS_BINARY, mask1, payload, 125, 0);
    ws_init(&ws, 1024);
    rc = parse(&ws, buf, n, &f, &copy);
    ok(rc == NGX_WEBRTC_WS_OK && f.header_len == 6 && f.payload_len == 125
       && f.opcode == NGX_WEBRTC_WS_BINARY
       && memcmp(copy + 6, payload, 125) == 0,
       "125 bytes: 7-bit length, unmasked");
    free(copy);

    /* 16-bit length */

    fill(payload, 300, 2);
    n = frame(buf, FIN | NGX_WEBRTC_WS_TEXT, mask1, payload, 300, 0);
    ws_init(&ws, 1024);
    rc = parse(&ws, buf, n, &f, &copy);
    is_int(rc, NGX_WEBRTC_WS_OK, "300 bytes: 16-bit length: OK");
    is_int(f.header_len, 8, "16-bit length: header of 8 bytes");
    is_int(f.payload_len, 300, "16-bit length: payload length");
    ok(memcmp(copy + 8, payload, 300) == 0, "16-bit length: unmasked");
    free(copy);

    truncations(buf, n, 1024, "16-bit length");

    fill(payload, 65535, 3);
    n = frame(buf, FIN | NGX_WEBRTC_WS_TEXT, mask1, payload, 65535, 0);
    ws_init(&ws, 1024 * 1024);
    rc = parse(&ws, buf, n, &f, &copy);
    ok(rc == NGX_WEBRTC_WS_OK && f.header_len == 8 && f.payload_len == 65535
       && memcmp(copy + 8, payload, 65535) == 0,
       "65535 bytes: 16-bit length, unmasked");
    free(copy);

    /* 64-bit length */

    fill(payload, 70000, 4);
    n = frame(buf, FIN | NGX_WEBRTC_WS_BINARY, mask1, payload, 70000, 0);
    ws_init(&ws, 1024 * 1024);
    rc = parse(&ws, buf, n, &f, &copy);
    is_int(rc, NGX_WEBRTC_WS_OK, "70000 bytes: 64-bit length: OK");
    is_int(f.header_len, 14, "64-bit length: header of 14 bytes");
    is_int(f.payload_len, 70000, "64-bit length: payload length");
    ok(memcmp(copy + 14, payload, 70000) == 0, "64-bit length: unmasked");
    is_int(ws.len, 70000, "64-bit length: message length");
    free(copy);

    /* every truncation of a 64-bit frame: a shorter one, same header */

    n = frame(buf, FIN | NGX_WEBRTC_WS_TEXT, mask1, payload, 200, 64);
    truncations(buf, n, 1024, "64-bit length");

    ws_init(&ws, 1024);
    rc = parse(&ws, buf, n, &f, &copy);
    ok(rc == NGX_WEBRTC_WS_OK && f.header_len == 14 && f.payload_len == 200
       && memcmp(copy + 14, payload, 200) == 0,
       "200 bytes in the 64-bit form: accepted, unmasked");
    free(copy);

    n = frame(buf, FIN | NGX_WEBRTC_WS_TEXT, mask1, payload, 5, 16);
    ws_init(&ws, 1024);
    rc = parse(&ws, buf, n, &f, &copy);
    ok(rc == NGX_WEBRTC_WS_OK && f.header_len == 8 && f.payload_len == 5
       && memcmp(copy + 8, payload, 5) == 0,
       "5 bytes in the 16-bit form: accepted, unmasked");
    free(copy);

    /* unmasking: every length 0..70 with every mask phase */

    {
        size_t  len, bad;
        u_char  m[4] = { 0x01, 0x80, 0xff, 0x5a };

        bad = 0;

        for (len = 0; len <= 70; len++) {
            fill(payload, len, (unsigned) len + 10);
            n = frame(buf, FIN | NGX_WEBRTC_WS_BINARY, m, payload, len, 0);
            ws_init(&ws, 1024);
            rc = parse(&ws, buf, n, &f, &copy);

            if (rc != NGX_WEBRTC_WS_OK || f.payload_len != len
                || memcmp(copy + f.header_len, payload, len) != 0
                || memcmp(copy + 2, m, 4) != 0)
            {
                bad++;
            }

            free(copy);
        }

        ok(bad == 0, "unmasking of 0..70 bytes, the mask left alone");
    }

    /* an all-zero mask is no mask at all, and still a masked frame */

    {
        static const u_char  zero[4];

        n = frame(buf, FIN | NGX_WEBRTC_WS_TEXT, zero, "abc", 3, 0);
        ws_init(&ws, 1024);
        rc = parse(&ws, buf, n, &f, &copy);
        ok(rc == NGX_WEBRTC_WS_OK && memcmp(copy + 6, "abc", 3) == 0,
           "zero mask");
        free(copy);
    }

    free(buf);
    free(payload);
}


static void
test_errors(void)
{
    int                    rc;
    size_t                 n;
    unsigned               op;
    u_char                 buf[512], payload[200];
    ngx_webrtc_ws_t        ws;
    ngx_webrtc_ws_frame_t  f;
    char                   name[64];

    /* 5.1: clients mask every frame */

    n = frame(buf, FIN | NGX_WEBRTC_WS_TEXT, NULL, "Hello", 5, 0);
    frame_error(buf, n, 1024, 1002, "unmasked text frame");

    n = frame(buf, FIN | NGX_WEBRTC_WS_PING, NULL, "", 0, 0);
    frame_error(buf, n, 1024, 1002, "unmasked ping");

    frame_error(buf, 2, 1024, 1002, "unmasked: detected from 2 bytes");

    /* 5.2: RSV1-3 without an extension */

    n = frame(buf, FIN | 0x40 | NGX_WEBRTC_WS_TEXT, mask1, "a", 1, 0);
    frame_error(buf, n, 1024, 1002, "RSV1");
    n = frame(buf, FIN | 0x20 | NGX_WEBRTC_WS_TEXT, mask1, "a", 1, 0);
    frame_error(buf, n, 1024, 1002, "RSV2");
    n = frame(buf, FIN | 0x10 | NGX_WEBRTC_WS_TEXT, mask1, "a", 1, 0);
    frame_error(buf, n, 1024, 1002, "RSV3");
    n = frame(buf, FIN | 0x10 | NGX_WEBRTC_WS_PING, mask1, "a", 1, 0);
    frame_error(buf, n, 1024, 1002, "RSV3 on a ping");

    /* reserved opcodes */

    for (op = 3; op <= 0xf; op++) {
        if (op >= 8 && op <= 0xa) {
            continue;
        }

        n = frame(buf, FIN | op, mask1, "a", 1, 0);
        snprintf(name, sizeof(name), "opcode 0x%x", op);
        frame_error(buf, n, 1024, 1002, name);

        n = frame(buf, op, mask1, "", 0, 0);
        snprintf(name, sizeof(name), "opcode 0x%x without FIN", op);
        frame_error(buf, n, 1024, 1002, name);
    }

    /* 5.5: control frames: FIN, at most 125 bytes */

    for (op = NGX_WEBRTC_WS_CLOSE; op <= NGX_WEBRTC_WS_PONG; op++) {
        n = frame(buf, op, mask1, "ab", 2, 0);
        snprintf(name, sizeof(name), "control 0x%x without FIN", op);
        frame_error(buf, n, 1024, 1002, name);

        memset(payload, 'x', 126);
        n = frame(buf, FIN | op, mask1, payload, 126, 0);
        snprintf(name, sizeof(name), "control 0x%x of 126 bytes", op);
        frame_error(buf, n, 1024, 1002, name);

        n = frame(buf, FIN | op, mask1, payload, 125, 0);
        ws_init(&ws, 1024);
        rc = parse(&ws, buf, n, &f, NULL);
        ok(rc == NGX_WEBRTC_WS_OK && f.payload_len == 125 && f.opcode == op
           && ws.opcode == 0 && ws.len == 0,
           "control 0x%x of 125 bytes: OK, no message open", op);

        n = frame(buf, FIN | op, mask1, payload, 5, 16);
        ws_init(&ws, 1024);
        rc = parse(&ws, buf, n, &f, NULL);
        ok(rc == NGX_WEBRTC_WS_OK && f.payload_len == 5,
           "control 0x%x: 5 bytes in the 16-bit form", op);
    }

    /* the size of a control frame is refused from its header alone */

    n = frame(buf, FIN | NGX_WEBRTC_WS_PING, mask1, payload, 126, 0);
    frame_error(buf, 4, 1024, 1002, "ping of 126 bytes: from 4 bytes");

    /* data frames out of order */

    n = frame(buf, FIN | NGX_WEBRTC_WS_CONT, mask1, "a", 1, 0);
    frame_error(buf, n, 1024, 1002, "continuation without a message");
    n = frame(buf, NGX_WEBRTC_WS_CONT, mask1, "a", 1, 0);
    frame_error(buf, n, 1024, 1002, "continuation (no FIN) without a message");

    {
        u_char  *copy;

        ws_init(&ws, 1024);
        n = frame(buf, NGX_WEBRTC_WS_TEXT, mask1, "ab", 2, 0);
        rc = parse(&ws, buf, n, &f, NULL);
        ok(rc == NGX_WEBRTC_WS_OK && ws.opcode == NGX_WEBRTC_WS_TEXT,
           "fragmented text: first fragment");

        n = frame(buf, FIN | NGX_WEBRTC_WS_TEXT, mask1, "cd", 2, 0);
        copy = unit_dup(buf, n);
        rc = ngx_webrtc_ws_parse_frame(&ws, copy, n, &f);
        ok(rc == NGX_WEBRTC_WS_ERROR && ws.close_code == 1002 && ws.error,
           "a new text frame inside a fragmented message: 1002");
        free(copy);

        ws_init(&ws, 1024);
        n = frame(buf, NGX_WEBRTC_WS_BINARY, mask1, "ab", 2, 0);
        rc = parse(&ws, buf, n, &f, NULL);
        n = frame(buf, NGX_WEBRTC_WS_TEXT, mask1, "cd", 2, 0);
        rc = parse(&ws, buf, n, &f, NULL);
        ok(rc == NGX_WEBRTC_WS_ERROR && ws.close_code == 1002,
           "a new text frame inside a fragmented binary message: 1002");

        ws_init(&ws, 1024);
        n = frame(buf, NGX_WEBRTC_WS_TEXT, mask1, "ab", 2, 0);
        rc = parse(&ws, buf, n, &f, NULL);
        n = frame(buf, FIN | NGX_WEBRTC_WS_BINARY, mask1, "cd", 2, 0);
        rc = parse(&ws, buf, n, &f, NULL);
        ok(rc == NGX_WEBRTC_WS_ERROR && ws.close_code == 1002,
           "a new binary frame inside a fragmented text message: 1002");
    }

    /* 64-bit length with the most significant bit set (5.2) */

    n = frame(buf, FIN | NGX_WEBRTC_WS_TEXT, mask1, "", 0, 64);
    buf[2] = 0x80;
    frame_error(buf, n, 1024, 1002, "64-bit length with the top bit set");
    frame_error(buf, 10, 1024, 1002,
                "64-bit length, top bit: from the 10 header bytes");

    /* 2^63 - 1: no top bit, merely too big */

    n = frame(buf, FIN | NGX_WEBRTC_WS_TEXT, mask1, "", 0, 64);
    buf[2] = 0x7f;
    memset(buf + 3, 0xff, 7);
    frame_error(buf, 10, 1024 * 1024, 1009, "64-bit length 2^63-1: 1009");
}


static void
test_max_message(void)
{
    int                    rc;
    size_t                 n;
    u_char                *buf, *payload;
    ngx_webrtc_ws_t        ws;
    ngx_webrtc_ws_frame_t  f;

    buf = malloc(4096);
    payload = malloc(4096);
    if (buf == NULL || payload == NULL) {
        printf("Bail out! malloc failed\n");
        exit(2);
    }

    fill(payload, 2048, 7);

    /* a single frame: refused from the header, before its payload */

    n = frame(buf, FIN | NGX_WEBRTC_WS_TEXT, mask1, payload, 1025, 0);
    frame_error(buf, n, 1024, 1009, "text frame of max_message + 1");
    frame_error(buf, 4, 1024, 1009,
                "max_message + 1: from the 4 header bytes, no mask yet");

    n = frame(buf, FIN | NGX_WEBRTC_WS_BINARY, mask1, payload, 1025, 64);
    frame_error(buf, 10, 1024, 1009,
                "max_message + 1 in the 64-bit form: from 10 header bytes");

    n = frame(buf, FIN | NGX_WEBRTC_WS_TEXT, mask1, payload, 1024, 0);
    ws_init(&ws, 1024);
    rc = parse(&ws, buf, 4, &f, NULL);
    is_int(rc, NGX_WEBRTC_WS_AGAIN, "max_message exactly: header only: AGAIN");
    rc = parse(&ws, buf, n, &f, NULL);
    ok(rc == NGX_WEBRTC_WS_OK && f.payload_len == 1024,
       "max_message exactly: OK");

    /* an accumulated message */

    ws_init(&ws, 1024);
    n = frame(buf, NGX_WEBRTC_WS_TEXT, mask1, payload, 600, 0);
    rc = parse(&ws, buf, n, &f, NULL);
    ok(rc == NGX_WEBRTC_WS_OK && ws.len == 600, "fragments: 600");

    n = frame(buf, FIN | NGX_WEBRTC_WS_PING, mask1, "p", 1, 0);
    rc = parse(&ws, buf, n, &f, NULL);
    ok(rc == NGX_WEBRTC_WS_OK && ws.len == 600,
       "fragments: a ping between does not count");

    n = frame(buf, NGX_WEBRTC_WS_CONT, mask1, payload, 424, 0);
    rc = parse(&ws, buf, n, &f, NULL);
    ok(rc == NGX_WEBRTC_WS_OK && ws.len == 1024,
       "fragments: 600 + 424 = max_message");

    n = frame(buf, NGX_WEBRTC_WS_CONT, mask1, "", 0, 0);
    rc = parse(&ws, buf, n, &f, NULL);
    ok(rc == NGX_WEBRTC_WS_OK && ws.len == 1024,
       "fragments: an empty continuation at max_message");

    n = frame(buf, FIN | NGX_WEBRTC_WS_CONT, mask1, "x", 1, 0);
    rc = parse(&ws, buf, 2, &f, NULL);
    ok(rc == NGX_WEBRTC_WS_ERROR && ws.close_code == 1009,
       "fragments: one byte more: 1009 from the 2 header bytes");

    ws_init(&ws, 1024);
    n = frame(buf, NGX_WEBRTC_WS_BINARY, mask1, payload, 1000, 0);
    rc = parse(&ws, buf, n, &f, NULL);
    n = frame(buf, FIN | NGX_WEBRTC_WS_CONT, mask1, payload, 1000, 0);
    rc = parse(&ws, buf, 4, &f, NULL);
    ok(rc == NGX_WEBRTC_WS_ERROR && ws.close_code == 1009,
       "fragments 1000 + 1000: 1009 from the header of the second");

    /* a huge continuation does not wrap around */

    ws_init(&ws, 1024);
    n = frame(buf, NGX_WEBRTC_WS_TEXT, mask1, payload, 10, 0);
    rc = parse(&ws, buf, n, &f, NULL);
    n = frame(buf, NGX_WEBRTC_WS_CONT, mask1, "", 0, 64);
    memset(buf + 2, 0xff, 8);
    buf[2] = 0x7f;
    rc = parse(&ws, buf, 10, &f, NULL);
    ok(rc == NGX_WEBRTC_WS_ERROR && ws.close_code == 1009,
       "continuation of 2^63-1 bytes: 1009");

    free(buf);
    free(payload);
}


static void
test_fragments(void)
{
    int                    rc;
    size_t                 n, off, total;
    u_char                 buf[256], *copy;
    ngx_webrtc_ws_t        ws;
    ngx_webrtc_ws_frame_t  f;
    u_char                 msg[64];

    /* text + cont + ping + cont(fin) in one buffer, parsed as the handler */

    off = 0;
    off += frame(buf + off, NGX_WEBRTC_WS_TEXT, mask1, "{\"type\"", 7, 0);
    off += frame(buf + off, NGX_WEBRTC_WS_CONT, mask1, ":\"pi", 4, 0);
    off += frame(buf + off, FIN | NGX_WEBRTC_WS_PING, mask1, "hi", 2, 0);
    off += frame(buf + off, FIN | NGX_WEBRTC_WS_CONT, mask1, "ng\"}", 4, 0);
    total = off;

    copy = unit_dup(buf, total);
    ws_init(&ws, 1024);
    off = 0;
    n = 0;

    rc = ngx_webrtc_ws_parse_frame(&ws, copy, total, &f);
    ok(rc == NGX_WEBRTC_WS_OK && !f.fin && f.opcode == NGX_WEBRTC_WS_TEXT
       && ws.opcode == NGX_WEBRTC_WS_TEXT && ws.len == 7,
       "text without FIN: message open, 7 bytes");
    memcpy(msg + n, copy + f.header_len, f.payload_len);
    n += f.payload_len;
    off += f.header_len + f.payload_len;

    rc = ngx_webrtc_ws_parse_frame(&ws, copy + off, total - off, &f);
    ok(rc == NGX_WEBRTC_WS_OK && !f.fin && f.opcode == NGX_WEBRTC_WS_CONT
       && ws.opcode == NGX_WEBRTC_WS_TEXT && ws.len == 11,
       "continuation: still text, 11 bytes");
    memcpy(msg + n, copy + off + f.header_len, f.payload_len);
    n += f.payload_len;
    off += f.header_len + f.payload_len;

    rc = ngx_webrtc_ws_parse_frame(&ws, copy + off, total - off, &f);
    ok(rc == NGX_WEBRTC_WS_OK && f.fin && f.opcode == NGX_WEBRTC_WS_PING
       && ws.opcode == NGX_WEBRTC_WS_TEXT && ws.len == 11
       && memcmp(copy + off + f.header_len, "hi", 2) == 0,
       "a ping in between: state kept, payload unmasked");
    off += f.header_len + f.payload_len;

    rc = ngx_webrtc_ws_parse_frame(&ws, copy + off, total - off, &f);
    ok(rc == NGX_WEBRTC_WS_OK && f.fin && f.opcode == NGX_WEBRTC_WS_CONT
       && ws.opcode == NGX_WEBRTC_WS_TEXT && ws.len == 15,
       "last continuation: FIN, 15 bytes");
    memcpy(msg + n, copy + off + f.header_len, f.payload_len);
    n += f.payload_len;
    off += f.header_len + f.payload_len;

    is_int(off, total, "four frames consumed the buffer");
    is_mem(msg, n, "{\"type\":\"ping\"}", "the message assembled");
    free(copy);

    /*
     * the parser leaves the message open after FIN: the caller resets
     * ws->opcode and ws->len when it has taken the message
     */

    n = frame(buf, FIN | NGX_WEBRTC_WS_TEXT, mask1, "x", 1, 0);
    rc = parse(&ws, buf, n, &f, NULL);
    ok(rc == NGX_WEBRTC_WS_ERROR && ws.close_code == 1002,
       "without the caller's reset, a new message is refused");

    ws.opcode = 0;
    ws.len = 0;
    ws.close_code = 0;
    ws.error = NULL;
    rc = parse(&ws, buf, n, &f, NULL);
    ok(rc == NGX_WEBRTC_WS_OK && ws.opcode == NGX_WEBRTC_WS_TEXT
       && ws.len == 1, "after the reset, a new text message");

    ws.opcode = 0;
    ws.len = 0;
    n = frame(buf, NGX_WEBRTC_WS_BINARY, mask1, "ab", 2, 0);
    rc = parse(&ws, buf, n, &f, NULL);
    n = frame(buf, FIN | NGX_WEBRTC_WS_CONT, mask1, "c", 1, 0);
    rc = parse(&ws, buf, n, &f, NULL);
    ok(rc == NGX_WEBRTC_WS_OK && ws.opcode == NGX_WEBRTC_WS_BINARY
       && ws.len == 3, "fragmented binary: opcode binary, 3 bytes");

    /* a truncated continuation changes nothing */

    ws_init(&ws, 1024);
    n = frame(buf, NGX_WEBRTC_WS_TEXT, mask1, "ab", 2, 0);
    rc = parse(&ws, buf, n, &f, NULL);
    n = frame(buf, FIN | NGX_WEBRTC_WS_CONT, mask1, "cdef", 4, 0);
    rc = parse(&ws, buf, n - 1, &f, NULL);
    ok(rc == NGX_WEBRTC_WS_AGAIN && ws.len == 2 && ws.opcode == 1,
       "truncated continuation: AGAIN, state unchanged");
}


static void
test_frame_header(void)
{
    size_t                 n, i;
    u_char                 buf[16], *copy, *p;
    ngx_webrtc_ws_t        ws;
    ngx_webrtc_ws_frame_t  f;

    static const struct {
        uint64_t      len;
        size_t        n;
        const u_char  h[10];
    } cases[] = {
        { 0,     2,  { 0x81, 0x00 } },
        { 125,   2,  { 0x81, 0x7d } },
        { 126,   4,  { 0x81, 0x7e, 0x00, 0x7e } },
        { 65535, 4,  { 0x81, 0x7e, 0xff, 0xff } },
        { 65536, 10, { 0x81, 0x7f, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00 } },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(buf, 0xee, sizeof(buf));
        n = ngx_webrtc_ws_frame_header(buf, NGX_WEBRTC_WS_TEXT, cases[i].len);

        ok(n == cases[i].n && memcmp(buf, cases[i].h, n) == 0
           && buf[n] == 0xee,
           "server header for %llu bytes: %zu bytes",
           (unsigned long long) cases[i].len, cases[i].n);

        /* the client's view of it: masked with a zero mask, parsed back */

        p = malloc(cases[i].n + 4 + cases[i].len);
        memcpy(p, buf, n);
        p[1] |= 0x80;
        memset(p + n, 0, 4 + cases[i].len);
        copy = unit_dup(p, n + 4 + cases[i].len);
        ws_init(&ws, 1024 * 1024);

        ok(ngx_webrtc_ws_parse_frame(&ws, copy, n + 4 + cases[i].len, &f)
           == NGX_WEBRTC_WS_OK
           && f.payload_len == cases[i].len && f.header_len == n + 4
           && f.fin && f.opcode == NGX_WEBRTC_WS_TEXT,
           "server header for %llu bytes parses back",
           (unsigned long long) cases[i].len);

        free(copy);
        free(p);
    }

    n = ngx_webrtc_ws_frame_header(buf, NGX_WEBRTC_WS_CLOSE, 2);
    ok(n == 2 && buf[0] == 0x88 && buf[1] == 0x02, "close header");

    n = ngx_webrtc_ws_frame_header(buf, NGX_WEBRTC_WS_PONG, 5);
    ok(n == 2 && buf[0] == 0x8a && buf[1] == 0x05, "pong header");

    n = ngx_webrtc_ws_frame_header(buf, NGX_WEBRTC_WS_BINARY,
                                   0x0102030405060708ULL);
    ok(n == 10 && buf[0] == 0x82 && buf[1] == 127 && buf[2] == 1
       && buf[9] == 8, "64-bit length in network order");
}


/* Unicode 15, table 3-7: well-formed UTF-8 byte sequences */

static int
utf8_ref(const u_char *p, size_t len)
{
    size_t  i, n;
    u_char  lo, hi;

    for (i = 0; i < len; i += n) {

        if (p[i] < 0x80) {
            n = 1;
            continue;
        }

        lo = 0x80;
        hi = 0xbf;

        if (p[i] >= 0xc2 && p[i] <= 0xdf) {
            n = 2;

        } else if (p[i] >= 0xe0 && p[i] <= 0xef) {
            n = 3;

            if (p[i] == 0xe0) {
                lo = 0xa0;

            } else if (p[i] == 0xed) {
                hi = 0x9f;
            }

        } else if (p[i] >= 0xf0 && p[i] <= 0xf4) {
            n = 4;

            if (p[i] == 0xf0) {
                lo = 0x90;

            } else if (p[i] == 0xf4) {
                hi = 0x8f;
            }

        } else {
            return 0;
        }

        if (len - i < n || p[i + 1] < lo || p[i + 1] > hi) {
            return 0;
        }

        if ((n > 2 && (p[i + 2] & 0xc0) != 0x80)
            || (n > 3 && (p[i + 3] & 0xc0) != 0x80))
        {
            return 0;
        }
    }

    return 1;
}


static int
utf8(const char *s, size_t len)
{
    int      rc;
    u_char  *copy;

    copy = unit_dup(s, len);
    rc = ngx_webrtc_utf8_valid(copy, len);
    free(copy);

    return rc;
}


#define UTF8(s)  utf8(s, sizeof(s) - 1)


static void
test_utf8(void)
{
    size_t    i, bad, len;
    uint32_t  a, b, c, d;
    u_char    s[4];

    static const u_char  ends[] = { 0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90,
                                    0x9f, 0xa0, 0xbf, 0xc0, 0xf4, 0xff };

    ok(UTF8(""), "empty string");
    ok(UTF8("{\"type\":\"ping\"}"), "ASCII");
    ok(utf8("a\0b", 3), "NUL is a character");
    ok(UTF8("\x7f"), "U+007F");
    ok(UTF8("h\xc3\xa9llo"), "U+00E9 (2 bytes)");
    ok(UTF8("\xc2\x80"), "U+0080, the first 2-byte");
    ok(UTF8("\xdf\xbf"), "U+07FF, the last 2-byte");
    ok(UTF8("\xe0\xa0\x80"), "U+0800, the first 3-byte");
    ok(UTF8("\xe2\x82\xac"), "U+20AC (3 bytes)");
    ok(UTF8("\xed\x9f\xbf"), "U+D7FF, before the surrogates");
    ok(UTF8("\xee\x80\x80"), "U+E000, after the surrogates");
    ok(UTF8("\xef\xbf\xbf"), "U+FFFF");
    ok(UTF8("\xf0\x90\x80\x80"), "U+10000, the first 4-byte");
    ok(UTF8("\xf0\x9d\x84\x9e"), "U+1D11E (4 bytes)");
    ok(UTF8("\xf4\x8f\xbf\xbf"), "U+10FFFF, the last");
    ok(UTF8("a\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e" "b"),
       "sequences of every length in a row");
    ok(UTF8("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"),
       "Greek \"kosme\"");

    ok(!UTF8("\xc0\x80"), "overlong C0 80 (NUL)");
    ok(!UTF8("\xc1\xbf"), "overlong C1 BF");
    ok(!UTF8("\xe0\x80\x80"), "overlong E0 80 80");
    ok(!UTF8("\xe0\x9f\xbf"), "overlong E0 9F BF");
    ok(!UTF8("\xf0\x80\x80\x80"), "overlong F0 80 80 80");
    ok(!UTF8("\xf0\x8f\xbf\xbf"), "overlong F0 8F BF BF");
    ok(!UTF8("\xed\xa0\x80"), "surrogate ED A0 80 (U+D800)");
    ok(!UTF8("\xed\xbf\xbf"), "surrogate ED BF BF (U+DFFF)");
    ok(!UTF8("\xed\xa0\xbd\xed\xb2\xa9"), "surrogate pair in CESU-8");
    ok(!UTF8("\xf4\x90\x80\x80"), "F4 90 80 80 (U+110000)");
    ok(!UTF8("\xf5\x80\x80\x80"), "F5 lead byte");
    ok(!UTF8("\xf7\xbf\xbf\xbf"), "F7 BF BF BF");
    ok(!UTF8("\xf8\x88\x80\x80\x80"), "5-byte form");
    ok(!UTF8("\xfc\x84\x80\x80\x80\x80"), "6-byte form");
    ok(!UTF8("\xfe"), "FE");
    ok(!UTF8("\xff"), "FF");
    ok(!UTF8("\xc3"), "truncated 2-byte at the end");
    ok(!UTF8("\xe2\x82"), "truncated 3-byte at the end");
    ok(!UTF8("\xf0\x9d\x84"), "truncated 4-byte at the end");
    ok(!UTF8("ab\xf0"), "a lone 4-byte lead at the end");
    ok(!UTF8("\xe2\x82" "A"), "truncated 3-byte before ASCII");
    ok(!UTF8("\xc3\xc3\xa9"), "a lead byte followed by a lead byte");
    ok(!UTF8("\x80"), "stray continuation 80");
    ok(!UTF8("\xbf"), "stray continuation BF");
    ok(!UTF8("a\x80" "b"), "stray continuation between ASCII");
    ok(!UTF8("\xc3\xa9\xa9"), "an extra continuation byte");

    /* against the table, every string of 1 and 2 bytes ... */

    bad = 0;

    for (a = 0; a < 256; a++) {
        s[0] = (u_char) a;

        if (ngx_webrtc_utf8_valid(s, 1) != utf8_ref(s, 1)) {
            bad++;
        }

        for (b = 0; b < 256; b++) {
            s[1] = (u_char) b;

            if (ngx_webrtc_utf8_valid(s, 2) != utf8_ref(s, 2)) {
                bad++;
            }
        }
    }

    ok(bad == 0, "every string of 1 and 2 bytes as Unicode's table 3-7 "
       "(%zu differ)", bad);

    /* ... of 3 bytes starting with a lead byte, and of 4 bytes */

    bad = 0;

    for (a = 0xc0; a < 256; a++) {
        for (b = 0; b < 256; b++) {
            for (c = 0; c < 256; c++) {
                s[0] = (u_char) a;
                s[1] = (u_char) b;
                s[2] = (u_char) c;

                if (ngx_webrtc_utf8_valid(s, 3) != utf8_ref(s, 3)) {
                    if (bad++ == 0) {
                        diag("  %02x %02x %02x", a, b, c);
                    }
                }
            }
        }
    }

    ok(bad == 0, "every 3-byte string with a lead byte C0-FF as table 3-7 "
       "(%zu differ)", bad);

    bad = 0;

    for (a = 0xf0; a < 256; a++) {
        for (b = 0; b < 256; b++) {
            for (c = 0; c < sizeof(ends); c++) {
                for (d = 0; d < sizeof(ends); d++) {
                    s[0] = (u_char) a;
                    s[1] = (u_char) b;
                    s[2] = ends[c];
                    s[3] = ends[d];

                    for (len = 3; len <= 4; len++) {
                        if (ngx_webrtc_utf8_valid(s, len)
                            != utf8_ref(s, len))
                        {
                            bad++;
                        }
                    }
                }
            }
        }
    }

    ok(bad == 0, "4-byte strings F0-FF xx yy zz as table 3-7 (%zu differ)",
       bad);

    for (i = 0; i < 4; i++) {
        s[i] = 0x80;
    }

    ok(!ngx_webrtc_utf8_valid(s, 4), "four continuation bytes");
}


/* JSON: parses a copy of exactly the string's length */

typedef struct {
    ngx_webrtc_json_t   json;
    u_char             *buf;
    int                 rc;
} json_t;


static json_t  j_state;


static json_t *
json(const char *s, size_t len)
{
    json_t  *j = &j_state;

    free(j->buf);
    j->buf = unit_dup(s, len);
    j->rc = ngx_webrtc_json_parse(&j->json, j->buf, len);

    return j;
}


#define JSON(s)  json(s, sizeof(s) - 1)


static int
get_is(json_t *j, const char *name, const char *expected, size_t len)
{
    ngx_webrtc_json_str_t  *v;

    v = ngx_webrtc_json_get(&j->json, name);

    if (j->rc != NGX_WEBRTC_JSON_OK || v == NULL) {
        diag("  rc %d, \"%s\" %s", j->rc, name, v ? "found" : "not found");
        return 0;
    }

    if (v->len != len || memcmp(v->data, expected, len) != 0) {
        diag("  \"%s\" is '%.*s'", name, (int) v->len, v->data);
        return 0;
    }

    return 1;
}


#define GET(j, name, s)  get_is(j, name, s, sizeof(s) - 1)


static void
test_json(void)
{
    size_t     i, n;
    json_t    *j;
    char       buf[1024];

    static const char  *bad[] = {
        "", " ", "{", "}", "[]", "[\"a\"]", "\"a\"", "null", "1",
        "{\"a\"", "{\"a\":", "{\"a\":\"b\"", "{\"a\":\"b\",", "{\"a\":\"b\",}",
        "{,}", "{\"a\" \"b\"}", "{\"a\"::\"b\"}", "{'a':'b'}", "{a:\"b\"}",
        "{\"a\":\"b\" \"c\":\"d\"}", "{\"a\":\"b\"}x", "{\"a\":\"b\"}}",
        "{\"a\":\"b\"} {\"c\":\"d\"}", "{\"a\":\"b\"},", "{}x", "{} {}",
        "x{}", "{\"a\":\"unterminated}", "{\"a\":1 2}", "{\"a\":[1,2]",
        "{\"a\":{\"b\":1}", "{\"a\":1\"b\"}", "{\"a\":\"b\"\"c\"}",
        "{\"a\":\"x\\\"}", "{\"a\":\"\\",
        NULL
    };

    /* the signaling messages */

    j = JSON("{\"type\":\"publish\",\"stream\":\"test\",\"sdp\":"
             "\"v=0\\r\\no=- 1 2 IN IP4 127.0.0.1\\r\\ns=-\\r\\n\","
             "\"token\":\"s3cr\\/t\"}");
    is_int(j->rc, NGX_WEBRTC_JSON_OK, "publish message parses");
    is_int(j->json.nfields, 4, "publish: 4 fields");
    ok(GET(j, "type", "publish"), "publish: type");
    ok(GET(j, "stream", "test"), "publish: stream");
    ok(GET(j, "sdp", "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n"),
       "publish: sdp with \\r\\n unescaped to CRLF");
    ok(GET(j, "token", "s3cr/t"), "publish: \\/ unescaped");
    ok(ngx_webrtc_json_get(&j->json, "typ") == NULL
       && ngx_webrtc_json_get(&j->json, "types") == NULL
       && ngx_webrtc_json_get(&j->json, "Type") == NULL,
       "get: exact, case-sensitive names");

    j = JSON("{\"type\":\"candidate\",\"candidate\":\"candidate:1 1 udp "
             "2130706431 192.0.2.1 50000 typ host\",\"mid\":\"0\"}");
    ok(GET(j, "candidate",
           "candidate:1 1 udp 2130706431 192.0.2.1 50000 typ host")
       && GET(j, "mid", "0") && GET(j, "type", "candidate"),
       "candidate message");

    j = JSON("{\"type\":\"ping\"}");
    ok(j->rc == NGX_WEBRTC_JSON_OK && j->json.nfields == 1
       && GET(j, "type", "ping"),
       "ping message");

    j = JSON("{\"type\":\"end-of-candidates\"}");
    ok(GET(j, "type", "end-of-candidates"), "end-of-candidates message");

    /* escapes */

    j = JSON("{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}");
    ok(GET(j, "s", "\"\\/\b\f\n\r\t"), "the two-character escapes");

    j = JSON("{\"s\":\"\\u0041\\u00e9\\u00E9\\u20ac\\u07ff\\u0800\\uffff\"}");
    ok(GET(j, "s", "A\xc3\xa9\xc3\xa9\xe2\x82\xac\xdf\xbf\xe0\xa0\x80"
                   "\xef\xbf\xbf"),
       "\\u escapes to UTF-8 of 1, 2 and 3 bytes, either case of hex");

    j = JSON("{\"s\":\"\\ud834\\udd1e\"}");
    ok(GET(j, "s", "\xf0\x9d\x84\x9e"), "surrogate pair: U+1D11E");

    j = JSON("{\"s\":\"\\uD800\\uDC00|\\udbff\\udfff\"}");
    ok(GET(j, "s", "\xf0\x90\x80\x80|\xf4\x8f\xbf\xbf"),
       "surrogate pairs: U+10000 and U+10FFFF");

    j = JSON("{\"s\":\"\\u0000\"}");
    ok(j->rc == NGX_WEBRTC_JSON_OK && get_is(j, "s", "\0", 1),
       "\\u0000 is a NUL byte");

    j = JSON("{\"s\":\"\xc3\xa9\xf0\x9d\x84\x9e\x7f\"}");
    ok(GET(j, "s", "\xc3\xa9\xf0\x9d\x84\x9e\x7f"), "raw UTF-8 and DEL kept");

    j = JSON("{\"ty\\u0070e\":\"pi\\u006eg\"}");
    ok(GET(j, "type", "ping"), "names are unescaped too");

    j = JSON("{\"s\":\"\"}");
    ok(j->rc == NGX_WEBRTC_JSON_OK && GET(j, "s", ""), "empty string");

    ok(JSON("{\"s\":\"\\x41\"}")->rc == NGX_WEBRTC_JSON_ERROR,
       "invalid escape \\x");
    ok(JSON("{\"s\":\"\\a\"}")->rc == NGX_WEBRTC_JSON_ERROR,
       "invalid escape \\a");
    ok(JSON("{\"s\":\"\\U0041\"}")->rc == NGX_WEBRTC_JSON_ERROR,
       "invalid escape \\U");
    ok(JSON("{\"s\":\"\\'\"}")->rc == NGX_WEBRTC_JSON_ERROR,
       "invalid escape \\'");
    ok(JSON("{\"s\":\"\\u12\"}")->rc == NGX_WEBRTC_JSON_ERROR, "short \\u12");
    ok(JSON("{\"s\":\"\\u12G4\"}")->rc == NGX_WEBRTC_JSON_ERROR,
       "non-hex \\u12G4");
    ok(JSON("{\"s\":\"\\u 123\"}")->rc == NGX_WEBRTC_JSON_ERROR,
       "\\u with a space");
    ok(JSON("{\"s\":\"\\u")->rc == NGX_WEBRTC_JSON_ERROR,
       "\\u at the end of input");
    ok(JSON("{\"s\":\"\\")->rc == NGX_WEBRTC_JSON_ERROR,
       "backslash at the end of input");

    ok(JSON("{\"s\":\"\\ud834\"}")->rc == NGX_WEBRTC_JSON_ERROR,
       "lone high surrogate");
    ok(JSON("{\"s\":\"\\ud834x\"}")->rc == NGX_WEBRTC_JSON_ERROR,
       "high surrogate followed by a character");
    ok(JSON("{\"s\":\"\\ud834\\u0041\"}")->rc == NGX_WEBRTC_JSON_ERROR,
       "high surrogate followed by \\u0041");
    ok(JSON("{\"s\":\"\\ud834\\ud834\"}")->rc == NGX_WEBRTC_JSON_ERROR,
       "two high surrogates");
    ok(JSON("{\"s\":\"\\udd1e\"}")->rc == NGX_WEBRTC_JSON_ERROR,
       "lone low surrogate");
    ok(JSON("{\"s\":\"\\udd1e\\ud834\"}")->rc == NGX_WEBRTC_JSON_ERROR,
       "low surrogate before high");
    ok(JSON("{\"s\":\"\\ud834\\n\"}")->rc == NGX_WEBRTC_JSON_ERROR,
       "high surrogate followed by \\n");
    ok(JSON("{\"s\":\"\\ud834\\udd")->rc == NGX_WEBRTC_JSON_ERROR,
       "surrogate pair cut at the end of input");

    /* control characters must be escaped (RFC 8259, 7) */

    for (i = 0; i < 0x20; i++) {
        /* snprintf() counts the NUL of %c too */
        n = (size_t) snprintf(buf, sizeof(buf), "{\"s\":\"a%cb\"}", (int) i);

        if (json(buf, n)->rc != NGX_WEBRTC_JSON_ERROR) {
            break;
        }
    }

    if (!ok(i == 0x20, "raw control characters 0x00-0x1f in a string "
            "rejected"))
    {
        diag("  0x%02zx accepted", i);
    }

    ok(JSON("{\"a\nb\":\"c\"}")->rc == NGX_WEBRTC_JSON_ERROR,
       "raw newline in a name");

    /* other values: recorded raw, not returned by get */

    j = JSON("{\"n\":-12.5e+3,\"t\":true,\"f\":false,\"z\":null,"
             "\"type\":\"x\",\"i\":0}");
    ok(j->rc == NGX_WEBRTC_JSON_OK && j->json.nfields == 6,
       "numbers and literals: 6 fields");
    ok(j->json.fields[0].string == 0 && j->json.fields[0].value.len == 8
       && memcmp(j->json.fields[0].value.data, "-12.5e+3", 8) == 0,
       "a number recorded raw");
    ok(j->json.fields[1].string == 0 && j->json.fields[1].value.len == 4
       && j->json.fields[2].value.len == 5 && j->json.fields[3].value.len == 4,
       "true, false and null recorded raw");
    ok(ngx_webrtc_json_get(&j->json, "n") == NULL
       && ngx_webrtc_json_get(&j->json, "t") == NULL
       && ngx_webrtc_json_get(&j->json, "z") == NULL,
       "get returns strings only");
    ok(GET(j, "type", "x"), "a string among them");

    /* nested values are skipped */

#define NESTED  "{\"b\":[1,2,{\"c\":\"}]\\\"{[\"}],\"d\":{}}"

    j = JSON("{\"a\":" NESTED ",\"e\":[],\"f\":[[[]]],\"type\":\"ping\"}");
    ok(j->rc == NGX_WEBRTC_JSON_OK && j->json.nfields == 4
       && GET(j, "type", "ping"),
       "nested objects and arrays skipped, brackets in strings too");
    ok(ngx_webrtc_json_get(&j->json, "a") == NULL
       && ngx_webrtc_json_get(&j->json, "b") == NULL
       && ngx_webrtc_json_get(&j->json, "c") == NULL,
       "members of nested objects are not members");
    ok(j->json.fields[0].string == 0
       && j->json.fields[0].value.len == sizeof(NESTED) - 1
       && memcmp(j->json.fields[0].value.data, NESTED, sizeof(NESTED) - 1)
          == 0,
       "a nested object recorded raw (%zu bytes)",
       j->json.fields[0].value.len);

    /* nesting depth: 32 levels are skipped, 33 refused */

    n = 0;
    n += (size_t) snprintf(buf + n, sizeof(buf) - n, "{\"a\":");
    for (i = 0; i < 32; i++) {
        buf[n++] = '[';
    }
    for (i = 0; i < 32; i++) {
        buf[n++] = ']';
    }
    buf[n++] = '}';
    ok(json(buf, n)->rc == NGX_WEBRTC_JSON_OK, "32 nested arrays");

    n = 0;
    n += (size_t) snprintf(buf + n, sizeof(buf) - n, "{\"a\":");
    for (i = 0; i < 33; i++) {
        buf[n++] = '[';
    }
    for (i = 0; i < 33; i++) {
        buf[n++] = ']';
    }
    buf[n++] = '}';
    ok(json(buf, n)->rc == NGX_WEBRTC_JSON_ERROR, "33 nested arrays refused");

    n = 0;
    n += (size_t) snprintf(buf + n, sizeof(buf) - n, "{\"a\":");
    for (i = 0; i < 200; i++) {
        buf[n++] = '{';
    }
    ok(json(buf, n)->rc == NGX_WEBRTC_JSON_ERROR, "200 open braces refused");

    /* values that are not JSON */

    ok(JSON("{\"a\":}")->rc == NGX_WEBRTC_JSON_ERROR,
       "member without a value refused");
    ok(JSON("{\"a\": ,\"type\":\"ping\"}")->rc == NGX_WEBRTC_JSON_ERROR,
       "member with only whitespace as value refused");
    ok(JSON("{\"a\":xyz}")->rc == NGX_WEBRTC_JSON_ERROR,
       "invalid literal xyz refused");
    ok(JSON("{\"a\":[1,2}}")->rc == NGX_WEBRTC_JSON_ERROR,
       "mismatched brackets [1,2} refused");

    /* the number of fields */

    n = (size_t) snprintf(buf, sizeof(buf), "{");
    for (i = 0; i < 20; i++) {
        n += (size_t) snprintf(buf + n, sizeof(buf) - n, "%s\"k%zu\":\"v%zu\"",
                               i ? "," : "", i, i);
    }
    n += (size_t) snprintf(buf + n, sizeof(buf) - n, "}");

    j = json(buf, n);
    ok(j->rc == NGX_WEBRTC_JSON_OK, "20 fields: parses");
    is_int(j->json.nfields, NGX_WEBRTC_JSON_MAX_FIELDS,
           "20 fields: the first 16 kept");
    ok(GET(j, "k0", "v0") && GET(j, "k15", "v15"),
       "20 fields: the 1st and the 16th found");
    ok(ngx_webrtc_json_get(&j->json, "k16") == NULL
       && ngx_webrtc_json_get(&j->json, "k19") == NULL,
       "20 fields: the 17th and later not found");

    n = (size_t) snprintf(buf, sizeof(buf), "{");
    for (i = 0; i < 20; i++) {
        n += (size_t) snprintf(buf + n, sizeof(buf) - n, "%s\"k%zu\":\"v%zu\"",
                               i ? "," : "", i, i);
    }
    n += (size_t) snprintf(buf + n, sizeof(buf) - n, ",\"x\":\"\\q\"}");
    ok(json(buf, n)->rc == NGX_WEBRTC_JSON_ERROR,
       "an invalid escape in the 21st field is still refused");

    n = (size_t) snprintf(buf, sizeof(buf), "{");
    for (i = 0; i < 16; i++) {
        n += (size_t) snprintf(buf + n, sizeof(buf) - n, "%s\"k%zu\":%zu",
                               i ? "," : "", i, i);
    }
    n += (size_t) snprintf(buf + n, sizeof(buf) - n, "}");
    j = json(buf, n);
    ok(j->rc == NGX_WEBRTC_JSON_OK && j->json.nfields == 16,
       "exactly 16 fields");

    /* duplicates: the first wins */

    j = JSON("{\"type\":\"ping\",\"type\":\"stop\"}");
    ok(j->rc == NGX_WEBRTC_JSON_OK && GET(j, "type", "ping"),
       "duplicate name: the first");

    /* empty objects and whitespace */

    j = JSON("{}");
    ok(j->rc == NGX_WEBRTC_JSON_OK && j->json.nfields == 0, "{}");
    j = JSON(" \t\r\n{ \t\r\n} \t\r\n");
    ok(j->rc == NGX_WEBRTC_JSON_OK && j->json.nfields == 0,
       "{ } with whitespace around");
    ok(ngx_webrtc_json_get(&j->json, "type") == NULL, "{}: no type");

    j = JSON(" \t\r\n{ \"type\" :\n\"ping\" ,\t\"n\" : 1 ,\r\n\"o\" : { } }"
             "\r\n");
    ok(j->rc == NGX_WEBRTC_JSON_OK && j->json.nfields == 3
       && GET(j, "type", "ping"),
       "whitespace between every token");
    ok(JSON("{\"type\":\"ping\"}\f")->rc == NGX_WEBRTC_JSON_ERROR,
       "form feed is not JSON whitespace");
    ok(JSON("\v{}")->rc == NGX_WEBRTC_JSON_ERROR,
       "vertical tab is not JSON whitespace");

    /* malformed */

    for (i = 0; bad[i]; i++) {
        j = json(bad[i], strlen(bad[i]));

        if (j->rc != NGX_WEBRTC_JSON_ERROR) {
            break;
        }
    }

    if (!ok(bad[i] == NULL, "%zu malformed messages refused", i)) {
        diag("  accepted: '%s'", bad[i]);
    }

    free(j_state.buf);
    j_state.buf = NULL;
}


/* escape, then parse back: the bytes come back */

static int
roundtrip(const u_char *s, size_t len)
{
    int                     rc;
    size_t                  n, i;
    u_char                 *buf, *esc;
    ngx_webrtc_json_t       j;
    ngx_webrtc_json_str_t  *v;

    esc = malloc(len * 6 + 1);
    n = ngx_webrtc_json_escape(esc, s, len);

    for (i = 0; i < n; i++) {
        if (esc[i] < 0x20) {
            free(esc);
            return 0;
        }
    }

    buf = malloc(n + 8);
    memcpy(buf, "{\"s\":\"", 6);
    memcpy(buf + 6, esc, n);
    memcpy(buf + 6 + n, "\"}", 2);
    free(esc);

    esc = unit_dup(buf, n + 8);
    free(buf);

    rc = ngx_webrtc_json_parse(&j, esc, n + 8);
    v = (rc == NGX_WEBRTC_JSON_OK) ? ngx_webrtc_json_get(&j, "s") : NULL;

    rc = (v && v->len == len && memcmp(v->data, s, len) == 0);

    free(esc);

    return rc;
}


static void
test_escape(void)
{
    size_t  n, i;
    u_char  src[256], out[256 * 6];

#define ESC_IN  "a\"b\\c\nd\re\tf\x01g\x1f/\x7f"

    n = ngx_webrtc_json_escape(out, (u_char *) ESC_IN, sizeof(ESC_IN) - 1);
    is_mem(out, n, "a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u001f/\x7f",
           "escape: quotes, backslashes, \\n \\r \\t, \\u00XX");

    n = ngx_webrtc_json_escape(out, (u_char *) "", 0);
    is_int(n, 0, "escape: empty");

    n = ngx_webrtc_json_escape(out, (u_char *) "\0", 1);
    is_mem(out, n, "\\u0000", "escape: NUL");

    memset(src, 0x01, 64);
    n = ngx_webrtc_json_escape(out, src, 64);
    is_int(n, 64 * 6, "escape: 6 bytes per control byte, the worst case");

    ok(roundtrip((u_char *) "say \"hi\" \\o/", 12),
       "round trip: quotes and backslashes");
    ok(roundtrip((u_char *) "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\n", 29),
       "round trip: an SDP");
    ok(roundtrip((u_char *) "\\\\\"\"\\", 5), "round trip: \\\\\"\"\\");
    ok(roundtrip((u_char *) "\xc3\xa9\xf0\x9d\x84\x9e", 6),
       "round trip: UTF-8");

    for (i = 0; i < 256; i++) {
        src[i] = (u_char) i;
    }

    ok(roundtrip(src, 256), "round trip: every byte value");
    ok(roundtrip(src, 32), "round trip: every control byte");
}


/* a bounded, deterministic mutation loop */

static uint32_t  seed = 20261121;

static uint32_t
rnd(void)
{
    seed = seed * 1103515245 + 12345;
    return seed >> 8;
}


static void
test_fuzz_frames(void)
{
    int                    rc;
    size_t                 len, off, i, k, n, frames, errors, bad;
    u_char                 base[2048], *p, payload[600];
    ngx_webrtc_ws_t        ws;
    ngx_webrtc_ws_frame_t  f;

    fill(payload, sizeof(payload), 99);

    n = 0;
    n += frame(base + n, NGX_WEBRTC_WS_TEXT, mask1, payload, 100, 0);
    n += frame(base + n, FIN | NGX_WEBRTC_WS_PING, mask1, payload, 10, 0);
    n += frame(base + n, NGX_WEBRTC_WS_CONT, mask1, payload, 130, 0);
    n += frame(base + n, FIN | NGX_WEBRTC_WS_CONT, mask1, payload, 20, 64);
    n += frame(base + n, FIN | NGX_WEBRTC_WS_BINARY, mask1, payload, 300, 0);
    n += frame(base + n, FIN | NGX_WEBRTC_WS_PONG, mask1, payload, 0, 0);
    n += frame(base + n, FIN | NGX_WEBRTC_WS_TEXT, mask1, payload, 5, 16);
    n += frame(base + n, FIN | NGX_WEBRTC_WS_CLOSE, mask1, "\x03\xe8", 2, 0);

    frames = 0;
    errors = 0;
    bad = 0;

    for (i = 0; i < 30000; i++) {
        len = rnd() % (n + 1);
        p = unit_dup(base, len);

        for (k = rnd() % 4; k > 0 && len; k--) {
            p[rnd() % len] = (u_char) rnd();
        }

        ws_init(&ws, 512);
        off = 0;

        for ( ;; ) {
            rc = ngx_webrtc_ws_parse_frame(&ws, p + off, len - off, &f);

            if (rc == NGX_WEBRTC_WS_AGAIN) {
                break;
            }

            if (rc == NGX_WEBRTC_WS_ERROR) {
                errors++;

                if ((ws.close_code != 1002 && ws.close_code != 1009)
                    || ws.error == NULL)
                {
                    bad++;
                }

                break;
            }

            frames++;

            if (f.header_len + f.payload_len > len - off
                || ws.len > ws.max_message
                || (f.opcode >= 8 && (f.payload_len > 125 || !f.fin))
                || (f.opcode < 8 && ws.opcode == 0))
            {
                bad++;
                break;
            }

            off += f.header_len + (size_t) f.payload_len;

            if (f.opcode < 8 && f.fin) {
                ws.opcode = 0;
                ws.len = 0;
            }

            if (off == len) {
                break;
            }
        }

        free(p);
    }

    ok(bad == 0, "30000 mutated frame streams: %zu frames, %zu errors, "
       "%zu broken invariants", frames, errors, bad);
}


static void
test_fuzz_json(void)
{
    int                     rc;
    size_t                  i, k, len, b, parsed, bad;
    u_char                 *p, *end;
    unsigned                f;
    ngx_webrtc_json_t       j;
    ngx_webrtc_json_str_t  *v;
    u_char                  buf[512];

    static const char  *base[] = {
        "{\"type\":\"publish\",\"stream\":\"test\",\"sdp\":\"v=0\\r\\n"
        "a=x:\\u00e9\\ud834\\udd1e\\\"\\\\\",\"token\":\"t\"}",
        "{\"type\":\"candidate\",\"candidate\":\"candidate:1 1 udp 1 "
        "127.0.0.1 9 typ host\",\"mid\":\"0\",\"n\":[1,{\"a\":\"]\"}],"
        "\"o\":{\"x\":null},\"t\":true}",
        " { \"type\" : \"ping\" } ",
    };

    static const u_char  special[] = "\"\\{}[]:, u0dD\x00\x1f\x80\xff";

    parsed = 0;
    bad = 0;

    for (i = 0; i < 60000; i++) {
        b = rnd() % (sizeof(base) / sizeof(base[0]));
        len = strlen(base[b]);
        memcpy(buf, base[b], len);

        for (k = rnd() % 4; k > 0; k--) {
            switch (rnd() % 3) {

            case 0:     /* replace a byte */
                buf[rnd() % len] = (rnd() & 1)
                                   ? special[rnd() % (sizeof(special) - 1)]
                                   : (u_char) rnd();
                break;

            case 1:     /* delete a byte */
                if (len > 1) {
                    b = rnd() % len;
                    memmove(buf + b, buf + b + 1, len - b - 1);
                    len--;
                }
                break;

            default:    /* insert a byte */
                if (len < sizeof(buf)) {
                    b = rnd() % (len + 1);
                    memmove(buf + b + 1, buf + b, len - b);
                    buf[b] = special[rnd() % (sizeof(special) - 1)];
                    len++;
                }
            }
        }

        if (rnd() % 8 == 0) {
            len = rnd() % (len + 1);
        }

        p = unit_dup(buf, len);
        end = p + len;

        rc = ngx_webrtc_json_parse(&j, p, len);

        if (rc == NGX_WEBRTC_JSON_OK) {
            parsed++;

            if (j.nfields > NGX_WEBRTC_JSON_MAX_FIELDS) {
                bad++;
            }

            for (f = 0; f < j.nfields && f < NGX_WEBRTC_JSON_MAX_FIELDS; f++) {
                v = &j.fields[f].value;

                if (j.fields[f].name.data < p
                    || j.fields[f].name.data + j.fields[f].name.len > end
                    || v->data < p || v->data + v->len > end)
                {
                    bad++;
                    continue;
                }

                if (j.fields[f].string && !roundtrip(v->data, v->len)) {
                    bad++;
                }
            }

            v = ngx_webrtc_json_get(&j, "type");
            if (v && (v->data < p || v->data + v->len > end)) {
                bad++;
            }

        } else if (rc != NGX_WEBRTC_JSON_ERROR) {
            bad++;
        }

        free(p);
    }

    ok(bad == 0, "60000 mutated JSON messages: %zu parsed, strings "
       "round-trip, %zu broken invariants", parsed, bad);

    /* random strings: UTF-8 against the table, escape round trip */

    bad = 0;

    for (i = 0; i < 20000; i++) {
        len = rnd() % 24;

        for (k = 0; k < len; k++) {
            b = rnd();
            buf[k] = (b & 0x100) ? (u_char) b : (u_char) (0x80 | (b & 0x7f));

            if ((b & 0x600) == 0) {
                buf[k] = (u_char) (0xe0 + (b & 0x1f));
            }
        }

        p = unit_dup(buf, len);

        if (ngx_webrtc_utf8_valid(p, len) != utf8_ref(p, len)
            || !roundtrip(p, len))
        {
            bad++;
        }

        free(p);
    }

    ok(bad == 0, "20000 random strings: UTF-8 as table 3-7, escape round "
       "trip (%zu differ)", bad);
}


int
main(int argc, char **argv)
{
    unit_init(argc, argv);

    test_lengths();
    test_errors();
    test_max_message();
    test_fragments();
    test_frame_header();
    test_utf8();
    test_json();
    test_escape();
    test_fuzz_frames();
    test_fuzz_json();

    return done();
}
