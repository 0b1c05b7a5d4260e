
/*
 * Copyright (C) nginx-webrtc-module authors
 */


/*
 * WebSocket signaling as ngx_http_webrtc_ws_frames() reads it: frames
 * parsed from a buffer of exactly the bytes received, data frames joined
 * into a message buffer of max_message bytes, control frames in between,
 * a complete text message checked as UTF-8 and parsed as JSON, and its
 * strings escaped back.  The input is also parsed as one JSON message.
 */


#include "fuzz.h"
#include "ngx_webrtc_ws.h"


#define MAX_MESSAGE  4096


static void message(u_char *msg, size_t len);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                     rc;
    u_char                 *in, *p, *msg, *text;
    size_t                  len, msg_len;
    ngx_webrtc_ws_t         ws;
    ngx_webrtc_ws_frame_t   f;

    /*
     * the whole input as one message; buffers of the exact size, so that
     * ASan sees a read past the data
     */

    in = malloc(size ? size : 1);
    fuzz_assert(in != NULL, "malloc");

    memcpy(in, data, size);
    message(in, size);

    /* as frames */

    memcpy(in, data, size);

    msg = malloc(MAX_MESSAGE);
    fuzz_assert(msg != NULL, "malloc");

    memset(&ws, 0, sizeof(ngx_webrtc_ws_t));
    ws.max_message = MAX_MESSAGE;

    p = in;
    len = size;
    msg_len = 0;

    for ( ;; ) {
        rc = ngx_webrtc_ws_parse_frame(&ws, p, len, &f);

        if (rc == NGX_WEBRTC_WS_ERROR) {
            fuzz_assert(ws.error != NULL && ws.close_code >= 1000,
                        "an error without a reason or a close code");
            break;
        }

        if (rc == NGX_WEBRTC_WS_AGAIN) {
            break;
        }

        fuzz_assert(rc == NGX_WEBRTC_WS_OK, "an unknown return code");
        fuzz_assert(f.header_len >= 6 && f.header_len <= 14
                    && f.payload_len <= len - f.header_len,
                    "a frame past the bytes received");

        if (f.opcode == NGX_WEBRTC_WS_CLOSE) {
            if (f.payload_len >= 2) {
                (void) ngx_webrtc_utf8_valid(p + f.header_len + 2,
                                             f.payload_len - 2);
            }

            break;
        }

        if (f.opcode == NGX_WEBRTC_WS_TEXT || f.opcode == NGX_WEBRTC_WS_BINARY
            || f.opcode == NGX_WEBRTC_WS_CONT)
        {
            fuzz_assert(f.payload_len <= MAX_MESSAGE - msg_len,
                        "a message past max_message");

            memcpy(msg + msg_len, p + f.header_len, f.payload_len);
            msg_len += f.payload_len;

            if (f.fin) {
                if (ws.opcode == NGX_WEBRTC_WS_TEXT) {
                    text = malloc(msg_len ? msg_len : 1);
                    fuzz_assert(text != NULL, "malloc");

                    memcpy(text, msg, msg_len);
                    message(text, msg_len);
                    free(text);
                }

                ws.opcode = 0;
                ws.len = 0;
                msg_len = 0;
            }
        }

        p += f.header_len + f.payload_len;
        len -= f.header_len + f.payload_len;
    }

    free(msg);
    free(in);

    return 0;
}


static void
message(u_char *msg, size_t len)
{
    size_t                  n;
    u_char                 *esc;
    unsigned                i;
    ngx_webrtc_json_t       json;
    ngx_webrtc_json_str_t  *s;

    static const char  *names[] = { "type", "sdp", "stream", "token" };

    if (!ngx_webrtc_utf8_valid(msg, len)
        || ngx_webrtc_json_parse(&json, msg, len) != NGX_WEBRTC_JSON_OK)
    {
        return;
    }

    fuzz_assert(json.nfields <= NGX_WEBRTC_JSON_MAX_FIELDS,
                "too many JSON fields");

    for (i = 0; i < json.nfields; i++) {
        fuzz_assert(json.fields[i].name.data >= msg
                    && json.fields[i].name.data + json.fields[i].name.len
                       <= msg + len,
                    "a JSON name outside the message");
        fuzz_assert(json.fields[i].value.data >= msg
                    && json.fields[i].value.data + json.fields[i].value.len
                       <= msg + len,
                    "a JSON value outside the message");
    }

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        s = ngx_webrtc_json_get(&json, names[i]);

        if (s == NULL) {
            continue;
        }

        esc = malloc(s->len * 6 + 1);
        fuzz_assert(esc != NULL, "malloc");

        n = ngx_webrtc_json_escape(esc, s->data, s->len);
        fuzz_assert(n <= s->len * 6, "an escaped string past its buffer");

        free(esc);
    }
}
