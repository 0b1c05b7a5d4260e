
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#ifndef _NGX_HTTP_WEBRTC_H_INCLUDED_
#define _NGX_HTTP_WEBRTC_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_webrtc.h"
#include "ngx_webrtc_ws.h"


#define NGX_HTTP_WEBRTC_ANSWER_SIZE   16384
#define NGX_HTTP_WEBRTC_NEGOTIATE_TRIES  3     /* a stream changing meanwhile */
#define NGX_HTTP_WEBRTC_UNPROCESSABLE 422
#define NGX_HTTP_WEBRTC_UPGRADE_REQUIRED 426

/* the loc conf's "status": webrtc_status [json | prometheus] */
#define NGX_HTTP_WEBRTC_STATUS_JSON        1
#define NGX_HTTP_WEBRTC_STATUS_PROMETHEUS  2


typedef struct {
    ngx_str_t                   url;
    ngx_str_t                   username;
    ngx_str_t                   credential;
    ngx_str_t                   secret;
    time_t                      ttl;
} ngx_http_webrtc_ice_server_t;


typedef struct {
    ngx_uint_t                  role;
    ngx_flag_t                  websocket;
    ngx_uint_t                  status;         /* NGX_HTTP_WEBRTC_STATUS_* */
    ngx_array_t                *candidates;     /* of ngx_str_t "addr port" */
    ngx_array_t                *ice_servers;
    ngx_http_complex_value_t   *token;          /* both roles, unmerged */
    ngx_http_complex_value_t   *tokens[3];      /* by ngx_webrtc_role_e */
    ngx_webrtc_codec_prefs_t    prefs;
    ngx_flag_t                  video_set;
    ngx_flag_t                  audio_set;
    ngx_array_t                *origins;        /* of ngx_str_t */
    size_t                      max_message;
    time_t                      resume_timeout; /* of a WebSocket session */
    ngx_uint_t                  max_viewers;    /* of a stream, 0: any */
    ngx_uint_t                  max_client_sessions;  /* 0: any */
    ngx_uint_t                  max_token_sessions;   /* 0: any */
} ngx_http_webrtc_loc_conf_t;


typedef struct {
    ngx_str_t                   stream;
    ngx_str_t                   id;
} ngx_http_webrtc_ctx_t;


#define NGX_HTTP_WEBRTC_ORIGIN_LEN  (sizeof("https://") - 1 + 256)


/* RFC 6454: a scheme, a host, a port */
typedef struct {
    ngx_str_t                   scheme;
    ngx_str_t                   host;
    ngx_uint_t                  port;
} ngx_http_webrtc_origin_t;


typedef struct {
    ngx_uint_t                  status;         /* 0: an answer */
    ngx_str_t                   reason;
    ngx_str_t                   answer;
    u_char                      id[NGX_WEBRTC_ID_LEN];
    u_char                      ufrag[NGX_WEBRTC_UFRAG_LEN];
} ngx_http_webrtc_offer_t;


/* a WebSocket signaling connection */
typedef struct {
    ngx_http_request_t         *request;
    ngx_webrtc_ws_t             ws;

    u_char                     *in;
    size_t                      in_len;
    size_t                      in_size;

    u_char                     *msg;
    size_t                      msg_len;

    u_char                     *out;
    size_t                      out_pos;
    size_t                      out_len;

    u_char                     *scratch;        /* a JSON message */

    ngx_event_t                 tick;
    time_t                      last_input;

    ngx_str_t                   stream;
    u_char                      stream_name[NGX_WEBRTC_STREAM_LEN];
    ngx_uint_t                  role;
    u_char                      id[NGX_WEBRTC_ID_LEN];
    ngx_int_t                   live;           /* -1: not told yet */
    ngx_int_t                   viewers;

    unsigned                    session:1;
    unsigned                    closing:1;
    unsigned                    lingering:1;
    unsigned                    finalized:1;
} ngx_http_webrtc_ws_ctx_t;


ngx_int_t ngx_http_webrtc_offer(ngx_http_request_t *r, ngx_pool_t *pool,
    ngx_uint_t role, ngx_str_t *stream, ngx_str_t *body,
    ngx_http_webrtc_offer_t *out);
ngx_int_t ngx_http_webrtc_patch(ngx_http_request_t *r,
    ngx_http_webrtc_ctx_t *ctx, ngx_str_t *body);
ngx_int_t ngx_http_webrtc_delete(ngx_http_request_t *r,
    ngx_http_webrtc_ctx_t *ctx);
ngx_int_t ngx_http_webrtc_stream_name_valid(ngx_str_t *name);
ngx_int_t ngx_http_webrtc_add_variables(ngx_conf_t *cf);
ngx_int_t ngx_http_webrtc_origin_parse(ngx_str_t *o,
    ngx_http_webrtc_origin_t *out);
ngx_http_complex_value_t *ngx_http_webrtc_token(
    ngx_http_webrtc_loc_conf_t *wlcf, ngx_uint_t role);
ngx_int_t ngx_http_webrtc_send(ngx_http_request_t *r, ngx_uint_t status,
    const char *type, u_char *body, size_t len);
ngx_int_t ngx_http_webrtc_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *fmt, ...);
ngx_int_t ngx_http_webrtc_header(ngx_http_request_t *r, const char *name,
    u_char *value, size_t len);
ngx_int_t ngx_http_webrtc_etag(ngx_http_request_t *r, u_char *ufrag);

ngx_int_t ngx_http_webrtc_ws_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_webrtc_ws_handshake(ngx_http_request_t *r,
    ngx_http_webrtc_loc_conf_t *wlcf);
ngx_int_t ngx_http_webrtc_ws_message(ngx_http_webrtc_ws_ctx_t *ctx);
ngx_int_t ngx_http_webrtc_ws_json(ngx_http_webrtc_ws_ctx_t *ctx,
    const char *fmt, ...);
void ngx_http_webrtc_ws_close(ngx_http_webrtc_ws_ctx_t *ctx, uint16_t code,
    const char *reason);
void ngx_http_webrtc_ws_finalize(ngx_http_webrtc_ws_ctx_t *ctx);
void ngx_http_webrtc_ws_tick(ngx_event_t *ev);
ngx_int_t ngx_http_webrtc_status_handler(ngx_http_request_t *r);


void *ngx_http_webrtc_create_loc_conf(ngx_conf_t *cf);
char *ngx_http_webrtc_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
char *ngx_http_webrtc_bearer_token(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_webrtc_origins(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_webrtc_candidate(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_webrtc_ice_server(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_webrtc_codecs(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


extern const char  ngx_http_webrtc_frag_type[];
extern ngx_module_t  ngx_http_webrtc_module;


#endif /* _NGX_HTTP_WEBRTC_H_INCLUDED_ */
