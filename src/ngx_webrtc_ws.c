
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
