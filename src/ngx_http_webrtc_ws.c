
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webrtc.h"
#include "ngx_webrtc_ws.h"


/*
 * WebSocket signaling (RFC 6455) on the nginx connection after the
 * Upgrade, with JSON messages:
 *
 *   -> {"type":"publish"|"play","stream":S,"sdp":OFFER[,"token":T]}
 *   <- {"type":"answer","sdp":ANSWER,"session":ID}
 *   -> {"type":"candidate","candidate":"candidate:...","mid":M}
 *   -> {"type":"end-of-candidates"}
 *   -> {"type":"ping"}              <- {"type":"pong"}
 *   -> {"type":"stop"}
 *   <- {"type":"event","event":"publisher-started"|"publisher-stopped",...}
 *   <- {"type":"viewers","stream":S,"count":N}
 *   <- {"type":"error","status":N,"reason":TEXT}
 *   -> {"type":"resume","session":ID,"role":"publish"|"play","stream":S
 *       [,"token":T]}
 *   <- {"type":"resumed","session":ID}
 *
 * One session per connection: closing the connection ends it, except on
 * reload (doc/registry-design.md, 7.9): an exiting worker closes it with
 * 1012 and leaves the session detached for webrtc_ws_resume_timeout, for
 * the client to resume it on a new connection.
 */


#define NGX_HTTP_WEBRTC_WS_OUT        (64 * 1024)
#define NGX_HTTP_WEBRTC_WS_TICK       1000
#define NGX_HTTP_WEBRTC_WS_IDLE       60        /* s without a message */
#define NGX_HTTP_WEBRTC_WS_LINGER     2000

/* the IANA WebSocket close code registry: "Service Restart" */
#define NGX_HTTP_WEBRTC_WS_RESTART    1012


static void ngx_http_webrtc_ws_read(ngx_http_request_t *r);
static void ngx_http_webrtc_ws_write(ngx_http_request_t *r);
static ngx_int_t ngx_http_webrtc_ws_frames(ngx_http_webrtc_ws_ctx_t *ctx);
static ngx_int_t ngx_http_webrtc_ws_send(ngx_http_webrtc_ws_ctx_t *ctx,
    unsigned opcode, u_char *p, size_t len);
static void ngx_http_webrtc_ws_shutdown(ngx_http_webrtc_ws_ctx_t *ctx);
static void ngx_http_webrtc_ws_timer(ngx_event_t *ev);
static void ngx_http_webrtc_ws_cleanup(void *data);


ngx_int_t
ngx_http_webrtc_ws_handler(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_connection_t            *c;
    ngx_pool_cleanup_t          *cln;
    ngx_http_webrtc_ws_ctx_t    *ctx;
    ngx_http_webrtc_loc_conf_t  *wlcf;

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webrtc_module);
    c = r->connection;

    rc = ngx_http_webrtc_ws_handshake(r, wlcf);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_webrtc_ws_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->request = r;
    ctx->ws.max_message = wlcf->max_message;
    ctx->in_size = wlcf->max_message + 256;

    if (r->header_in) {
        /* and whatever the client sent along with its handshake */
        ctx->in_size += r->header_in->last - r->header_in->pos;
    }

    ctx->in = ngx_pnalloc(r->pool, ctx->in_size);
    ctx->msg = ngx_pnalloc(r->pool, wlcf->max_message);
    ctx->out = ngx_pnalloc(r->pool, NGX_HTTP_WEBRTC_WS_OUT);
    ctx->scratch = ngx_pnalloc(r->pool, NGX_HTTP_WEBRTC_WS_OUT);
    ctx->live = -1;
    ctx->viewers = -1;
    ctx->last_input = ngx_time();

    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (ctx->in == NULL || ctx->msg == NULL || ctx->out == NULL
        || ctx->scratch == NULL || cln == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_webrtc_ws_cleanup;
    cln->data = ctx;

    ngx_http_set_ctx(r, ctx, ngx_http_webrtc_module);

    /* bytes the client sent after its handshake */

    if (r->header_in && r->header_in->last > r->header_in->pos) {
        ctx->in_len = r->header_in->last - r->header_in->pos;
        ngx_memcpy(ctx->in, r->header_in->pos, ctx->in_len);
        r->header_in->pos += ctx->in_len;
    }

    r->headers_out.status = NGX_HTTP_SWITCHING_PROTOCOLS;
    ngx_str_set(&r->headers_out.status_line, "101 Switching Protocols");
    r->headers_out.content_length_n = -1;
    r->keepalive = 0;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK) {
        return rc;
    }

    if (ngx_http_send_special(r, NGX_HTTP_FLUSH) == NGX_ERROR) {
        return NGX_ERROR;
    }

    r->main->count++;

    r->read_event_handler = ngx_http_webrtc_ws_read;
    r->write_event_handler = ngx_http_webrtc_ws_write;

    /*
     * the tick is not cancelable: on graceful shutdown a worker waits for
     * it, and it closes the connection with 1001
     */

    ctx->tick.handler = ngx_http_webrtc_ws_timer;
    ctx->tick.data = ctx;
    ctx->tick.log = c->log;

    ngx_add_timer(&ctx->tick, NGX_HTTP_WEBRTC_WS_TICK);

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0, "webrtc websocket open");

    /* frames that came with the handshake are read in the event loop */
    ngx_post_event(c->read, &ngx_posted_events);

    return NGX_DONE;
}


static void
ngx_http_webrtc_ws_read(ngx_http_request_t *r)
{
    ssize_t                    n;
    ngx_connection_t          *c;
    ngx_http_webrtc_ws_ctx_t  *ctx;

    c = r->connection;
    ctx = ngx_http_get_module_ctx(r, ngx_http_webrtc_module);

    if (ctx->finalized) {
        return;
    }

    if (c->close) {
        /* graceful shutdown */
        ngx_http_webrtc_ws_shutdown(ctx);
        return;
    }

    if (ctx->in_len && !ctx->closing
        && ngx_http_webrtc_ws_frames(ctx) != NGX_OK)
    {
        return;
    }

    for ( ;; ) {

        if (ctx->in_len == ctx->in_size) {
            /* a frame larger than the buffer is refused by the parser */
            ngx_http_webrtc_ws_close(ctx, NGX_WEBRTC_WS_TOO_BIG,
                                     "message too big");
            ngx_http_webrtc_ws_finalize(ctx);
            return;
        }

        n = c->recv(c, ctx->in + ctx->in_len, ctx->in_size - ctx->in_len);

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == NGX_ERROR || n == 0) {
            /* the client went away */
            ctx->lingering = 1;
            ngx_http_webrtc_ws_finalize(ctx);
            return;
        }

        ctx->in_len += n;
        ctx->last_input = ngx_time();

        if (ctx->closing) {
            /* after our close frame: the client's own ends it at once */
            ctx->in_len = 0;

            if (ctx->lingering) {
                ngx_http_webrtc_ws_finalize(ctx);
                return;
            }

            continue;
        }

        if (ngx_http_webrtc_ws_frames(ctx) != NGX_OK) {
            return;
        }
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_http_webrtc_ws_finalize(ctx);
    }
}


/* processes the complete frames buffered; NGX_DONE if it closed */

static ngx_int_t
ngx_http_webrtc_ws_frames(ngx_http_webrtc_ws_ctx_t *ctx)
{
    int                     rc;
    u_char                 *payload;
    uint16_t                code;
    ngx_webrtc_ws_frame_t   f;

    while (ctx->in_len) {

        rc = ngx_webrtc_ws_parse_frame(&ctx->ws, ctx->in, ctx->in_len, &f);

        if (rc == NGX_WEBRTC_WS_AGAIN) {
            break;
        }

        if (rc == NGX_WEBRTC_WS_ERROR) {
            ngx_log_error(NGX_LOG_INFO, ctx->request->connection->log, 0,
                          "webrtc: WebSocket %s, closing with %d",
                          ctx->ws.error, (int) ctx->ws.close_code);

            ngx_http_webrtc_ws_close(ctx, ctx->ws.close_code, ctx->ws.error);
            ngx_http_webrtc_ws_finalize(ctx);
            return NGX_DONE;
        }

        payload = ctx->in + f.header_len;

        switch (f.opcode) {

        case NGX_WEBRTC_WS_PING:
            if (ngx_http_webrtc_ws_send(ctx, NGX_WEBRTC_WS_PONG, payload,
                                        f.payload_len)
                != NGX_OK)
            {
                ngx_http_webrtc_ws_finalize(ctx);
                return NGX_DONE;
            }

            break;

        case NGX_WEBRTC_WS_PONG:
            break;

        case NGX_WEBRTC_WS_CLOSE:

            /* RFC 6455, 5.5.1: echo the status code, then close */

            code = NGX_WEBRTC_WS_NORMAL;

            if (f.payload_len == 1) {
                code = NGX_WEBRTC_WS_PROTOCOL;

            } else if (f.payload_len >= 2) {
                code = (uint16_t) (payload[0] << 8 | payload[1]);

                if (code < 1000 || code == 1004 || code == 1005
                    || code == 1006 || (code > 1011 && code < 3000)
                    || code > 4999
                    || !ngx_webrtc_utf8_valid(payload + 2,
                                              f.payload_len - 2))
                {
                    code = NGX_WEBRTC_WS_PROTOCOL;
                }
            }

            ngx_http_webrtc_ws_close(ctx, code, "");
            ngx_http_webrtc_ws_finalize(ctx);
            return NGX_DONE;

        default:

            /* a data frame: its payload joins the message */

            ngx_memcpy(ctx->msg + ctx->msg_len, payload, f.payload_len);
            ctx->msg_len += f.payload_len;

            if (f.fin) {
                if (ngx_http_webrtc_ws_message(ctx) != NGX_OK) {
                    return NGX_DONE;
                }
            }
        }

        if (ctx->finalized || ctx->closing) {
            return NGX_DONE;
        }

        ngx_memmove(ctx->in, ctx->in + f.header_len + f.payload_len,
                    ctx->in_len - f.header_len - f.payload_len);
        ctx->in_len -= f.header_len + f.payload_len;
    }

    return NGX_OK;
}


/* a text frame formatted with ngx_sprintf(); NGX_DONE if it closed */

ngx_int_t
ngx_http_webrtc_ws_json(ngx_http_webrtc_ws_ctx_t *ctx, const char *fmt, ...)
{
    u_char   *last;
    va_list   args;

    va_start(args, fmt);
    last = ngx_vslprintf(ctx->scratch, ctx->scratch + NGX_HTTP_WEBRTC_WS_OUT,
                         fmt, args);
    va_end(args);

    if (ngx_http_webrtc_ws_send(ctx, NGX_WEBRTC_WS_TEXT, ctx->scratch,
                                last - ctx->scratch)
        != NGX_OK)
    {
        ngx_http_webrtc_ws_finalize(ctx);
        return NGX_DONE;
    }

    return NGX_OK;
}


/* queues a frame and writes what the socket takes */

static ngx_int_t
ngx_http_webrtc_ws_send(ngx_http_webrtc_ws_ctx_t *ctx, unsigned opcode,
    u_char *p, size_t len)
{
    if (ctx->out_pos) {
        ngx_memmove(ctx->out, ctx->out + ctx->out_pos,
                    ctx->out_len - ctx->out_pos);
        ctx->out_len -= ctx->out_pos;
        ctx->out_pos = 0;
    }

    if (NGX_HTTP_WEBRTC_WS_OUT - ctx->out_len < len + 10) {
        ngx_log_error(NGX_LOG_INFO, ctx->request->connection->log, 0,
                      "webrtc: WebSocket client does not read, closing");
        return NGX_ERROR;
    }

    ctx->out_len += ngx_webrtc_ws_frame_header(ctx->out + ctx->out_len,
                                               opcode, len);
    ngx_memcpy(ctx->out + ctx->out_len, p, len);
    ctx->out_len += len;

    ngx_http_webrtc_ws_write(ctx->request);

    return ctx->finalized ? NGX_ERROR : NGX_OK;
}


static void
ngx_http_webrtc_ws_write(ngx_http_request_t *r)
{
    ssize_t                    n;
    ngx_connection_t          *c;
    ngx_http_webrtc_ws_ctx_t  *ctx;

    c = r->connection;
    ctx = ngx_http_get_module_ctx(r, ngx_http_webrtc_module);

    if (ctx == NULL || ctx->finalized) {
        return;
    }

    /* the rest of the 101 response, if nginx still holds some */

    if (r->out || (c->buffered & NGX_HTTP_WRITE_BUFFERED)) {
        if (ngx_http_output_filter(r, NULL) == NGX_ERROR) {
            ngx_http_webrtc_ws_finalize(ctx);
            return;
        }

        if (r->out) {
            goto again;
        }
    }

    while (ctx->out_pos < ctx->out_len) {
        n = c->send(c, ctx->out + ctx->out_pos, ctx->out_len - ctx->out_pos);

        if (n == NGX_AGAIN) {
            goto again;
        }

        if (n == NGX_ERROR) {
            ngx_http_webrtc_ws_finalize(ctx);
            return;
        }

        ctx->out_pos += n;
    }

    return;

again:

    if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
        ngx_http_webrtc_ws_finalize(ctx);
    }
}


/* a close frame; the connection lingers for the client's own */

void
ngx_http_webrtc_ws_close(ngx_http_webrtc_ws_ctx_t *ctx, uint16_t code,
    const char *reason)
{
    size_t  len;
    u_char  buf[125];

    if (ctx->closing) {
        return;
    }

    ctx->closing = 1;

    if (ctx->session) {
        ctx->session = 0;
        ngx_webrtc_relay_close_session(ctx->id,
                                       NGX_WEBRTC_CLOSE_SIGNALING);
    }

    len = ngx_min(ngx_strlen(reason), sizeof(buf) - 2);

    buf[0] = (u_char) (code >> 8);
    buf[1] = (u_char) code;
    ngx_memcpy(buf + 2, reason, len);

    (void) ngx_http_webrtc_ws_send(ctx, NGX_WEBRTC_WS_CLOSE, buf, len + 2);
}


/*
 * nginx exits.  On a reload (new workers run or are starting) the session
 * stays: detached until webrtc_ws_resume_timeout from now, and 1012
 * "service restart" tells the client to resume it on a new connection
 * (doc/registry-design.md, 7.9); otherwise 1001 ends it.
 */

static void
ngx_http_webrtc_ws_shutdown(ngx_http_webrtc_ws_ctx_t *ctx)
{
    ngx_int_t                    rc;
    ngx_str_t                    id;
    ngx_connection_t            *c;
    ngx_http_webrtc_loc_conf_t  *wlcf;

    c = ctx->request->connection;

    rc = ngx_terminate ? NGX_DECLINED : ngx_webrtc_registry_successor();

    if (rc != NGX_OK && rc != NGX_AGAIN) {
        ngx_http_webrtc_ws_close(ctx, NGX_WEBRTC_WS_GOING_AWAY,
                                 "server is shutting down");
        ngx_http_webrtc_ws_finalize(ctx);
        return;
    }

    if (ctx->session) {
        wlcf = ngx_http_get_module_loc_conf(ctx->request,
                                            ngx_http_webrtc_module);

        id.data = ctx->id;
        id.len = NGX_WEBRTC_ID_LEN;

        if (ngx_webrtc_registry_detach_signaling(&id,
                                                 ngx_time()
                                                 + wlcf->resume_timeout)
            == NGX_OK)
        {
            ngx_log_error(NGX_LOG_INFO, c->log, 0,
                          "webrtc %s session %*s detached from its "
                          "WebSocket on reload, for %T s",
                          ctx->role == NGX_WEBRTC_ROLE_PUBLISHER
                          ? "publisher" : "viewer",
                          (size_t) NGX_WEBRTC_ID_LEN, ctx->id,
                          wlcf->resume_timeout);
        }

        /* gone or detached: the connection's end does not end it */
        ctx->session = 0;
    }

    ngx_http_webrtc_ws_close(ctx, NGX_HTTP_WEBRTC_WS_RESTART,
                             "service restart");
    ngx_http_webrtc_ws_finalize(ctx);
}


/*
 * After our close frame the connection stays open a moment, so that the
 * client reads the frame (closing with unread input would send a reset)
 * and answers with its own; then, or at any other end, it is closed.
 */

void
ngx_http_webrtc_ws_finalize(ngx_http_webrtc_ws_ctx_t *ctx)
{
    ngx_http_request_t  *r;

    r = ctx->request;

    if (ctx->finalized) {
        return;
    }

    if (ctx->closing && !ctx->lingering && !ngx_exiting
        && !r->connection->error)
    {
        ctx->lingering = 1;

        if (ctx->tick.timer_set) {
            ngx_del_timer(&ctx->tick);
        }

        ngx_add_timer(&ctx->tick, NGX_HTTP_WEBRTC_WS_LINGER);
        return;
    }

    ctx->finalized = 1;

    if (ctx->tick.timer_set) {
        ngx_del_timer(&ctx->tick);
    }

    /*
     * posts the termination: the event handler that called us runs the
     * posted requests once it is done with the request
     */
    ngx_http_finalize_request(r, NGX_ERROR);
}


static void
ngx_http_webrtc_ws_timer(ngx_event_t *ev)
{
    ngx_connection_t          *c;
    ngx_http_webrtc_ws_ctx_t  *ctx;

    ctx = ev->data;
    c = ctx->request->connection;

    ngx_http_webrtc_ws_tick(ev);

    /* a timer: nothing else runs a termination the tick posted */
    ngx_http_run_posted_requests(c);
}


/*
 * Every second: the idle limit, and the stream's state pushed to the
 * client when it changed (the registry is shared by all workers)
 */

void
ngx_http_webrtc_ws_tick(ngx_event_t *ev)
{
    ngx_int_t                  live, viewers;
    ngx_webrtc_stream_info_t   info;
    ngx_http_webrtc_ws_ctx_t  *ctx;

    ctx = ev->data;

    if (ctx->finalized) {
        return;
    }

    if (ctx->lingering) {
        ngx_http_webrtc_ws_finalize(ctx);
        return;
    }

    if (ngx_exiting || ngx_terminate) {
        ngx_http_webrtc_ws_shutdown(ctx);
        return;
    }

    if (ev->timedout) {
        ev->timedout = 0;

        if (ngx_time() - ctx->last_input > NGX_HTTP_WEBRTC_WS_IDLE) {
            ngx_log_error(NGX_LOG_INFO, ev->log, 0,
                          "webrtc: WebSocket idle, closing");
            ngx_http_webrtc_ws_close(ctx, NGX_WEBRTC_WS_GOING_AWAY, "idle");
            ngx_http_webrtc_ws_finalize(ctx);
            return;
        }
    }

    if (ctx->session) {
        (void) ngx_webrtc_registry_stream_info(&ctx->stream, &info);

        live = info.published;
        viewers = (ngx_int_t) info.nviewers;

        if (ctx->role == NGX_WEBRTC_ROLE_VIEWER && live != ctx->live) {
            ctx->live = live;

            if (ngx_http_webrtc_ws_json(ctx,
                                        "{\"type\":\"event\",\"event\":"
                                        "\"publisher-%s\",\"stream\":\"%V\"}",
                                        live ? "started" : "stopped",
                                        &ctx->stream)
                != NGX_OK)
            {
                return;
            }
        }

        if (viewers != ctx->viewers) {
            ctx->viewers = viewers;

            if (ngx_http_webrtc_ws_json(ctx,
                                        "{\"type\":\"viewers\",\"stream\":"
                                        "\"%V\",\"count\":%i}",
                                        &ctx->stream, viewers)
                != NGX_OK)
            {
                return;
            }
        }
    }

    if (!ev->timer_set) {
        ngx_add_timer(ev, NGX_HTTP_WEBRTC_WS_TICK);
    }
}


/* the connection's end ends its session, wherever its media is served */

static void
ngx_http_webrtc_ws_cleanup(void *data)
{
    ngx_http_webrtc_ws_ctx_t  *ctx = data;

    if (ctx->tick.timer_set) {
        ngx_del_timer(&ctx->tick);
    }

    if (ctx->session) {
        ctx->session = 0;
        ngx_webrtc_relay_close_session(ctx->id,
                                       NGX_WEBRTC_CLOSE_SIGNALING);
    }
}
