
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#ifndef _NGX_WEBRTC_WS_H_INCLUDED_
#define _NGX_WEBRTC_WS_H_INCLUDED_


/*
 * Pure WebSocket (RFC 6455) framing for a server and UTF-8 validation;
 * the JSON of the signaling messages is in ngx_webrtc_json.h, included
 * here for the callers.  libc only.
 */


#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ngx_webrtc_json.h"


#define NGX_WEBRTC_WS_CONT          0x0
#define NGX_WEBRTC_WS_TEXT          0x1
#define NGX_WEBRTC_WS_BINARY        0x2
#define NGX_WEBRTC_WS_CLOSE         0x8
#define NGX_WEBRTC_WS_PING          0x9
#define NGX_WEBRTC_WS_PONG          0xa

/* RFC 6455, 7.4.1 */
#define NGX_WEBRTC_WS_NORMAL        1000
#define NGX_WEBRTC_WS_GOING_AWAY    1001
#define NGX_WEBRTC_WS_PROTOCOL      1002
#define NGX_WEBRTC_WS_UNSUPPORTED   1003
#define NGX_WEBRTC_WS_BAD_DATA      1007
#define NGX_WEBRTC_WS_POLICY        1008
#define NGX_WEBRTC_WS_TOO_BIG       1009

/* ngx_webrtc_ws_parse_frame(): the values of NGX_OK, NGX_ERROR, NGX_AGAIN */
#define NGX_WEBRTC_WS_OK            0
#define NGX_WEBRTC_WS_ERROR        -1
#define NGX_WEBRTC_WS_AGAIN        -2


typedef struct {
    unsigned                    fin:1;
    unsigned                    opcode:4;
    size_t                      header_len;
    uint64_t                    payload_len;
} ngx_webrtc_ws_frame_t;


/* assembly of a message from data frames, control frames in between */

typedef struct {
    size_t                      max_message;
    size_t                      len;            /* of the message so far */
    unsigned                    opcode:4;       /* 0: no message open */

    uint16_t                    close_code;
    const char                 *error;
} ngx_webrtc_ws_t;


int ngx_webrtc_ws_parse_frame(ngx_webrtc_ws_t *ws, u_char *p, size_t len,
    ngx_webrtc_ws_frame_t *f);
size_t ngx_webrtc_ws_frame_header(u_char *buf, unsigned opcode,
    uint64_t len);
int ngx_webrtc_utf8_valid(const u_char *p, size_t len);


#endif /* _NGX_WEBRTC_WS_H_INCLUDED_ */
