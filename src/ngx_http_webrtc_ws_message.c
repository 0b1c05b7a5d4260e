
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/crypto.h>

#include "ngx_http_webrtc.h"
#include "ngx_webrtc_ws.h"


/*
 * The JSON messages of a WebSocket signaling connection after the
 * handshake (ngx_http_webrtc_ws.c has the connection, its frames and
 * timers): publish and play offers, candidates, resume, ping, stop,
 * and their replies.
 */


static ngx_int_t ngx_http_webrtc_ws_offer(ngx_http_webrtc_ws_ctx_t *ctx,
    ngx_webrtc_json_t *json, ngx_uint_t role);
static ngx_int_t ngx_http_webrtc_ws_resume(ngx_http_webrtc_ws_ctx_t *ctx,
    ngx_webrtc_json_t *json);
static ngx_int_t ngx_http_webrtc_ws_auth(ngx_http_webrtc_ws_ctx_t *ctx,
    ngx_webrtc_json_t *json, ngx_uint_t role);
static ngx_int_t ngx_http_webrtc_ws_stream(ngx_http_webrtc_ws_ctx_t *ctx,
    ngx_webrtc_json_t *json, ngx_str_t *stream);
static ngx_int_t ngx_http_webrtc_ws_error(ngx_http_webrtc_ws_ctx_t *ctx,
    ngx_uint_t status, ngx_str_t *reason);


/* a complete message; NGX_DONE if the connection was closed */

ngx_int_t
ngx_http_webrtc_ws_message(ngx_http_webrtc_ws_ctx_t *ctx)
{
    unsigned                opcode;
    ngx_int_t               rc;
    ngx_str_t               reason;
    ngx_connection_t       *c;
    ngx_webrtc_json_t       json;
    ngx_webrtc_json_str_t  *type;

    c = ctx->request->connection;

    opcode = ctx->ws.opcode;
    ctx->ws.opcode = 0;
    ctx->ws.len = 0;

    if (opcode != NGX_WEBRTC_WS_TEXT) {
        ngx_log_error(NGX_LOG_INFO, c->log, 0,
                      "webrtc: binary WebSocket message, closing with 1003");
        ngx_http_webrtc_ws_close(ctx, NGX_WEBRTC_WS_UNSUPPORTED,
                                 "text messages only");
        ngx_http_webrtc_ws_finalize(ctx);
        return NGX_DONE;
    }

    if (!ngx_webrtc_utf8_valid(ctx->msg, ctx->msg_len)) {
        ngx_log_error(NGX_LOG_INFO, c->log, 0,
                      "webrtc: invalid UTF-8 in a WebSocket message, "
                      "closing with 1007");
        ngx_http_webrtc_ws_close(ctx, NGX_WEBRTC_WS_BAD_DATA,
                                 "invalid UTF-8");
        ngx_http_webrtc_ws_finalize(ctx);
        return NGX_DONE;
    }

    rc = ngx_webrtc_json_parse(&json, ctx->msg, ctx->msg_len);
    ctx->msg_len = 0;

    type = (rc == NGX_WEBRTC_JSON_OK)
           ? ngx_webrtc_json_get(&json, "type") : NULL;

    if (type == NULL) {
        ngx_str_set(&reason, "message is not a JSON object with a type");
        return ngx_http_webrtc_ws_error(ctx, NGX_HTTP_BAD_REQUEST, &reason);
    }

#define type_is(s)                                                           \
    (type->len == sizeof(s) - 1 && ngx_strncmp(type->data, s, type->len) == 0)

    if (type_is("publish")) {
        return ngx_http_webrtc_ws_offer(ctx, &json,
                                        NGX_WEBRTC_ROLE_PUBLISHER);
    }

    if (type_is("play")) {
        return ngx_http_webrtc_ws_offer(ctx, &json, NGX_WEBRTC_ROLE_VIEWER);
    }

    if (type_is("candidate") || type_is("end-of-candidates")) {
        /* ICE lite: the full agent's checks bring its addresses */
        return NGX_OK;
    }

    if (type_is("resume")) {
        return ngx_http_webrtc_ws_resume(ctx, &json);
    }

    if (type_is("ping")) {
        return ngx_http_webrtc_ws_json(ctx, "{\"type\":\"pong\"}");
    }

    if (type_is("stop")) {
        ngx_http_webrtc_ws_close(ctx, NGX_WEBRTC_WS_NORMAL, "stopped");
        ngx_http_webrtc_ws_finalize(ctx);
        return NGX_DONE;
    }

#undef type_is

    ngx_str_set(&reason, "unknown message type");

    return ngx_http_webrtc_ws_error(ctx, NGX_HTTP_BAD_REQUEST, &reason);
}


static ngx_int_t
ngx_http_webrtc_ws_offer(ngx_http_webrtc_ws_ctx_t *ctx,
    ngx_webrtc_json_t *json, ngx_uint_t role)
{
    u_char                   *p;
    ngx_int_t                 rc;
    ngx_str_t                 stream, sdp, reason;
    ngx_pool_t               *pool;
    ngx_http_request_t       *r;
    ngx_webrtc_json_str_t    *v;
    ngx_http_webrtc_offer_t   offer;

    r = ctx->request;

    if (ctx->session) {
        ngx_str_set(&reason, "one session per connection");
        return ngx_http_webrtc_ws_error(ctx, NGX_HTTP_CONFLICT, &reason);
    }

    rc = ngx_http_webrtc_ws_stream(ctx, json, &stream);

    if (rc == NGX_OK) {
        rc = ngx_http_webrtc_ws_auth(ctx, json, role);
    }

    if (rc != NGX_OK) {
        return (rc == NGX_DECLINED) ? NGX_OK : rc;
    }

    v = ngx_webrtc_json_get(json, "sdp");

    if (v == NULL || v->len == 0) {
        ngx_str_set(&reason, "no sdp offer");
        return ngx_http_webrtc_ws_error(ctx, NGX_HTTP_BAD_REQUEST, &reason);
    }

    sdp.data = v->data;
    sdp.len = v->len;

    /* the stream name outlives the message buffer */

    ngx_memcpy(ctx->stream_name, stream.data, stream.len);
    stream.data = ctx->stream_name;

    /*
     * the offer's parse and answer buffers live in a pool of their own:
     * a connection may try again and again, its pool must not grow
     */

    pool = ngx_create_pool(4096, r->connection->log);
    if (pool == NULL) {
        ngx_http_webrtc_ws_finalize(ctx);
        return NGX_DONE;
    }

    rc = ngx_http_webrtc_offer(r, pool, role, &stream, &sdp, &offer);

    if (rc != NGX_OK) {
        ngx_destroy_pool(pool);
        ngx_http_webrtc_ws_finalize(ctx);
        return NGX_DONE;
    }

    if (offer.status) {
        rc = ngx_http_webrtc_ws_error(ctx, offer.status, &offer.reason);
        ngx_destroy_pool(pool);
        return rc;
    }

    ctx->session = 1;
    ctx->role = role;
    ctx->stream = stream;
    ngx_memcpy(ctx->id, offer.id, NGX_WEBRTC_ID_LEN);

    p = ngx_pnalloc(pool, offer.answer.len * 6);
    if (p == NULL) {
        ngx_destroy_pool(pool);
        ngx_http_webrtc_ws_finalize(ctx);
        return NGX_DONE;
    }

    sdp.data = p;
    sdp.len = ngx_webrtc_json_escape(p, offer.answer.data, offer.answer.len);

    rc = ngx_http_webrtc_ws_json(ctx,
                                 "{\"type\":\"answer\",\"session\":\"%*s\","
                                 "\"sdp\":\"%V\"}",
                                 (size_t) NGX_WEBRTC_ID_LEN, ctx->id, &sdp);

    ngx_destroy_pool(pool);

    if (rc != NGX_OK) {
        return rc;
    }

    /* the stream's state at once */
    ngx_http_webrtc_ws_tick(&ctx->tick);

    return ctx->finalized ? NGX_DONE : NGX_OK;
}


/*
 * doc/registry-design.md, 7.9: a session whose WebSocket an exiting worker
 * closed with 1012, taken by this connection; the client tells its role
 * and stream, and shows the token of its role, as in its offer
 */

static ngx_int_t
ngx_http_webrtc_ws_resume(ngx_http_webrtc_ws_ctx_t *ctx,
    ngx_webrtc_json_t *json)
{
    ngx_int_t                   rc;
    ngx_str_t                   id, stream, reason;
    ngx_uint_t                  role;
    ngx_webrtc_json_str_t      *v;
    ngx_webrtc_session_info_t   info;

    if (ctx->session) {
        ngx_str_set(&reason, "one session per connection");
        return ngx_http_webrtc_ws_error(ctx, NGX_HTTP_CONFLICT, &reason);
    }

    v = ngx_webrtc_json_get(json, "role");

    if (v && v->len == 7 && ngx_strncmp(v->data, "publish", 7) == 0) {
        role = NGX_WEBRTC_ROLE_PUBLISHER;

    } else if (v && v->len == 4 && ngx_strncmp(v->data, "play", 4) == 0) {
        role = NGX_WEBRTC_ROLE_VIEWER;

    } else {
        ngx_str_set(&reason, "no role: \"publish\" or \"play\"");
        return ngx_http_webrtc_ws_error(ctx, NGX_HTTP_BAD_REQUEST, &reason);
    }

    v = ngx_webrtc_json_get(json, "session");

    if (v == NULL || v->len == 0) {
        ngx_str_set(&reason, "no session to resume");
        return ngx_http_webrtc_ws_error(ctx, NGX_HTTP_BAD_REQUEST, &reason);
    }

    id.data = v->data;
    id.len = v->len;

    rc = ngx_http_webrtc_ws_stream(ctx, json, &stream);

    if (rc == NGX_OK) {
        rc = ngx_http_webrtc_ws_auth(ctx, json, role);
    }

    if (rc != NGX_OK) {
        return (rc == NGX_DECLINED) ? NGX_OK : rc;
    }

    rc = ngx_webrtc_registry_attach_signaling(&id, role, &stream, &info);

    if (rc == NGX_ABORT) {
        ngx_str_set(&reason, "no such session");
        return ngx_http_webrtc_ws_error(ctx, NGX_HTTP_NOT_FOUND, &reason);
    }

    if (rc != NGX_OK) {
        ngx_str_set(&reason, "the session has its signaling connection");
        return ngx_http_webrtc_ws_error(ctx, NGX_HTTP_CONFLICT, &reason);
    }

    ngx_memcpy(ctx->stream_name, stream.data, stream.len);

    ctx->session = 1;
    ctx->role = role;
    ctx->stream.data = ctx->stream_name;
    ctx->stream.len = stream.len;
    ngx_memcpy(ctx->id, info.id, NGX_WEBRTC_ID_LEN);

    /* the stream's state is told again: it may have changed meanwhile */
    ctx->live = -1;
    ctx->viewers = -1;

    ngx_log_error(NGX_LOG_INFO, ctx->request->connection->log, 0,
                  "webrtc %s session %*s of stream \"%V\" resumed on "
                  "a new WebSocket",
                  role == NGX_WEBRTC_ROLE_PUBLISHER ? "publisher" : "viewer",
                  (size_t) NGX_WEBRTC_ID_LEN, ctx->id, &ctx->stream);

    rc = ngx_http_webrtc_ws_json(ctx,
                                 "{\"type\":\"resumed\",\"session\":\"%*s\"}",
                                 (size_t) NGX_WEBRTC_ID_LEN, ctx->id);
    if (rc != NGX_OK) {
        return rc;
    }

    ngx_http_webrtc_ws_tick(&ctx->tick);

    return ctx->finalized ? NGX_DONE : NGX_OK;
}


/*
 * The message's stream name, checked: NGX_OK; NGX_DECLINED if an error
 * message was sent, NGX_DONE if the connection closed
 */

static ngx_int_t
ngx_http_webrtc_ws_stream(ngx_http_webrtc_ws_ctx_t *ctx,
    ngx_webrtc_json_t *json, ngx_str_t *stream)
{
    ngx_int_t               rc;
    ngx_str_t               reason;
    ngx_webrtc_json_str_t  *v;

    v = ngx_webrtc_json_get(json, "stream");

    if (v == NULL) {
        ngx_str_set(&reason, "no stream name");
        rc = ngx_http_webrtc_ws_error(ctx, NGX_HTTP_BAD_REQUEST, &reason);
        return (rc == NGX_OK) ? NGX_DECLINED : rc;
    }

    stream->data = v->data;
    stream->len = v->len;

    if (ngx_http_webrtc_stream_name_valid(stream) != NGX_OK) {
        ngx_str_set(&reason, "bad stream name");
        rc = ngx_http_webrtc_ws_error(ctx, NGX_HTTP_NOT_FOUND, &reason);
        return (rc == NGX_OK) ? NGX_DECLINED : rc;
    }

    return NGX_OK;
}


/*
 * RFC 6750 has no header for browsers' WebSockets: a "token" member,
 * checked against the token of the message's role.  NGX_OK; NGX_DECLINED
 * if an error message was sent, NGX_DONE if the connection closed
 */

static ngx_int_t
ngx_http_webrtc_ws_auth(ngx_http_webrtc_ws_ctx_t *ctx,
    ngx_webrtc_json_t *json, ngx_uint_t role)
{
    ngx_int_t                    rc;
    ngx_str_t                    token, given, reason;
    ngx_http_request_t          *r;
    ngx_webrtc_json_str_t       *v;
    ngx_http_complex_value_t    *cv;
    ngx_http_webrtc_loc_conf_t  *wlcf;

    r = ctx->request;
    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webrtc_module);

    cv = ngx_http_webrtc_token(wlcf, role);

    if (cv == NULL) {
        return NGX_OK;
    }

    if (ngx_http_complex_value(r, cv, &token) != NGX_OK) {
        ngx_http_webrtc_ws_finalize(ctx);
        return NGX_DONE;
    }

    v = ngx_webrtc_json_get(json, "token");
    given.data = v ? v->data : NULL;
    given.len = v ? v->len : 0;

    if (token.len
        && given.len == token.len
        && CRYPTO_memcmp(given.data, token.data, token.len) == 0)
    {
        return NGX_OK;
    }

    if (token.len == 0) {
        ngx_str_set(&reason, "no bearer token is set for this stream");

    } else if (given.len) {
        ngx_str_set(&reason, "invalid bearer token");

    } else {
        ngx_str_set(&reason, "bearer token required");
    }

    rc = ngx_http_webrtc_ws_error(ctx, NGX_HTTP_UNAUTHORIZED, &reason);

    return (rc == NGX_OK) ? NGX_DECLINED : rc;
}


static ngx_int_t
ngx_http_webrtc_ws_error(ngx_http_webrtc_ws_ctx_t *ctx, ngx_uint_t status,
    ngx_str_t *reason)
{
    size_t  len;
    u_char  buf[6 * 160];

    ngx_log_error(NGX_LOG_INFO, ctx->request->connection->log, 0,
                  "webrtc: %V", reason);

    len = ngx_webrtc_json_escape(buf, reason->data,
                                 ngx_min(reason->len, 160));

    return ngx_http_webrtc_ws_json(ctx,
                                   "{\"type\":\"error\",\"status\":%ui,"
                                   "\"reason\":\"%*s\"}",
                                   status, len, buf);
}
