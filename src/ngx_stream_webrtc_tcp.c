
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>

#include "ngx_stream_webrtc.h"


/*
 * ICE-TCP, passive (RFC 6544): a client that cannot send UDP connects to
 * a TCP listen of the webrtc server and sends its STUN checks, DTLS and
 * SRTP on the connection, each packet framed by a 2-byte length (RFC 4571).
 * A frame is a datagram to the same code as UDP's; what the session sends
 * goes into the connection framed the same way.  The connection belongs
 * to the worker that accepted it, so is the session once nominated on it.
 *
 * A viewer whose connection takes less than the stream sends: what the
 * kernel does not take waits in a queue of webrtc_tcp_buffer bytes, and a
 * packet that does not fit is dropped whole, as a congested network
 * would; once the queue drained, the publisher is asked for a key frame.
 */


#define NGX_STREAM_WEBRTC_TCP_FRAME  (NGX_WEBRTC_MTU + NGX_WEBRTC_SRTP_OVERHEAD)


struct ngx_stream_webrtc_tcp_s {
    /* a frame being read: its length, then its bytes */
    u_char                      in[2 + NGX_STREAM_WEBRTC_TCP_FRAME];
    size_t                      in_len;

    /* what the kernel did not take yet, a ring */
    u_char                     *out;
    size_t                      out_size;
    size_t                      out_head;
    size_t                      out_len;

    ngx_uint_t                  dropped;        /* since the last drain */
    ngx_uint_t                  dropped_total;
};


static void ngx_stream_webrtc_tcp_read_handler(ngx_event_t *rev);
static void ngx_stream_webrtc_tcp_write_handler(ngx_event_t *wev);
static ngx_int_t ngx_stream_webrtc_tcp_input(ngx_stream_webrtc_ctx_t *ctx,
    u_char *p, size_t n);
static ngx_int_t ngx_stream_webrtc_tcp_flush(ngx_connection_t *c,
    ngx_stream_webrtc_tcp_t *tcp);
static ngx_int_t ngx_stream_webrtc_tcp_queue(ngx_stream_webrtc_tcp_t *tcp,
    u_char *p, size_t len);
static void ngx_stream_webrtc_tcp_drained(ngx_connection_t *c);


static u_char  ngx_stream_webrtc_tcp_buf[16384];


void
ngx_stream_webrtc_tcp_init(ngx_stream_webrtc_ctx_t *ctx)
{
    int                            sndbuf;
    ngx_buf_t                     *b;
    ngx_connection_t              *c;
    ngx_stream_webrtc_srv_conf_t  *wscf;

    c = ctx->session->connection;

    wscf = ngx_stream_get_module_srv_conf(ctx->session,
                                          ngx_stream_webrtc_module);

    ctx->tcp = ngx_pcalloc(c->pool, sizeof(ngx_stream_webrtc_tcp_t));
    if (ctx->tcp == NULL) {
        ngx_stream_finalize_session(ctx->session,
                                    NGX_STREAM_INTERNAL_SERVER_ERROR);
        return;
    }

    ctx->tcp->out_size = wscf->tcp_buffer;

    /*
     * the kernel's send buffer as big as the queue, unless the listen
     * sets one ("sndbuf="): Linux would grow it to tcp_wmem's maximum for
     * a reader that stopped, and hold seconds of a stream there, where
     * no packet is dropped and no key frame mends the video
     */

    if (c->listening == NULL || c->listening->sndbuf == -1) {
        sndbuf = (int) wscf->tcp_buffer;

        if (setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, (const void *) &sndbuf,
                       sizeof(int))
            == -1)
        {
            ngx_log_error(NGX_LOG_ALERT, c->log, ngx_socket_errno,
                          "setsockopt(SO_SNDBUF, %d) failed", sndbuf);
        }
    }

    c->log->action = "serving webrtc media over TCP";
    c->read->handler = ngx_stream_webrtc_tcp_read_handler;
    c->write->handler = ngx_stream_webrtc_tcp_write_handler;

    /* closed on graceful shutdown: ICE-TCP sessions are not handed over */
    c->idle = 1;

    /* the first frame must be a valid check, soon */
    ngx_add_timer(c->read, NGX_STREAM_WEBRTC_ADDRESS_TIMEOUT);

    /* what a preread phase (or the PROXY protocol's read) left */

    b = c->buffer;

    if (b && b->last > b->pos) {
        ctx->handling = 1;
        (void) ngx_stream_webrtc_tcp_input(ctx, b->pos, b->last - b->pos);
        ctx->handling = 0;

        b->pos = b->last;

        if (ctx->close) {
            ngx_stream_webrtc_close(ctx);
            return;
        }
    }

    ngx_stream_webrtc_tcp_read_handler(c->read);
}


static void
ngx_stream_webrtc_tcp_read_handler(ngx_event_t *rev)
{
    ssize_t                   n;
    ngx_connection_t         *c;
    ngx_stream_session_t     *s;
    ngx_stream_webrtc_ctx_t  *ctx;

    c = rev->data;
    s = c->data;
    ctx = ngx_stream_get_module_ctx(s, ngx_stream_webrtc_module);

    if (c->close) {

        /*
         * graceful shutdown: the worker's UDP sessions are handed over,
         * this one ends (with a DTLS close_notify on its connection)
         */

        ctx->handling = 1;

        ngx_webrtc_peer_exit();

        if (ctx->peer) {
            /* ngx_webrtc_peer_exit() ran before: its connection went */
            ngx_webrtc_closing = 1;
            ngx_webrtc_peer_close(ctx->peer, NGX_WEBRTC_CLOSED_WORKER_EXITED,
                                  "worker exiting, ICE-TCP");
            ngx_webrtc_closing = 0;
        }

        ctx->handling = 0;

        ngx_stream_webrtc_close(ctx);
        return;
    }

    if (rev->timedout) {
        rev->timedout = 0;

        if (ngx_stream_webrtc_timeout(ctx) != NGX_OK) {
            return;
        }
    }

    ctx->handling = 1;

    for ( ;; ) {
        n = c->recv(c, ngx_stream_webrtc_tcp_buf,
                    sizeof(ngx_stream_webrtc_tcp_buf));

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == NGX_ERROR || n == 0) {
            ngx_log_error(NGX_LOG_INFO, c->log, 0,
                          "webrtc: ICE-TCP connection closed by the client");
            ctx->close = 1;
            break;
        }

        if (ngx_stream_webrtc_tcp_input(ctx, ngx_stream_webrtc_tcp_buf, n)
            != NGX_OK)
        {
            ctx->close = 1;
        }

        if (ctx->close) {
            break;
        }
    }

    ctx->handling = 0;

    if (ctx->close) {
        ngx_stream_webrtc_close(ctx);
        return;
    }

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_stream_webrtc_close(ctx);
    }
}


/* RFC 4571: 2 bytes of length, then the packet */

static ngx_int_t
ngx_stream_webrtc_tcp_input(ngx_stream_webrtc_ctx_t *ctx, u_char *p,
    size_t n)
{
    size_t                    len, need;
    ngx_stream_webrtc_tcp_t  *tcp;

    tcp = ctx->tcp;

    while (n && !ctx->close) {

        /* the length */

        if (tcp->in_len < 2) {
            tcp->in[tcp->in_len++] = *p++;
            n--;

            if (tcp->in_len < 2) {
                continue;
            }

            len = (tcp->in[0] << 8) | tcp->in[1];

            if (len == 0 || len > NGX_STREAM_WEBRTC_TCP_FRAME) {
                ngx_log_error(NGX_LOG_INFO, ctx->session->connection->log, 0,
                              "webrtc: ICE-TCP frame of %uz bytes, "
                              "connection closed", len);
                return NGX_ERROR;
            }

            continue;
        }

        len = (tcp->in[0] << 8) | tcp->in[1];

        need = ngx_min(2 + len - tcp->in_len, n);

        ngx_memcpy(tcp->in + tcp->in_len, p, need);
        tcp->in_len += need;
        p += need;
        n -= need;

        if (tcp->in_len < 2 + len) {
            break;
        }

        tcp->in_len = 0;

        ngx_stream_webrtc_datagram(ctx, tcp->in + 2, len);

        if (!ctx->valid && ctx->peer == NULL) {

            /* the first frame of a connection must be a valid check */

            ngx_log_error(NGX_LOG_INFO, ctx->session->connection->log, 0,
                          "webrtc: ICE-TCP connection without a valid ICE "
                          "check closed");
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * A packet to the client: framed into the connection, or into its queue
 * when the kernel does not take it now; dropped whole when that is full
 * (NGX_DECLINED)
 */

ngx_int_t
ngx_stream_webrtc_tcp_send(ngx_connection_t *c, u_char *p, size_t len)
{
    ssize_t                   n;
    u_char                    frame[2 + NGX_STREAM_WEBRTC_TCP_FRAME];
    ngx_stream_webrtc_ctx_t  *ctx;
    ngx_stream_webrtc_tcp_t  *tcp;

    ctx = ngx_stream_get_module_ctx((ngx_stream_session_t *) c->data,
                                    ngx_stream_webrtc_module);
    tcp = ctx->tcp;

    if (tcp == NULL || len > NGX_STREAM_WEBRTC_TCP_FRAME || c->error) {
        return NGX_DECLINED;
    }

    frame[0] = (u_char) (len >> 8);
    frame[1] = (u_char) len;
    ngx_memcpy(frame + 2, p, len);

    len += 2;

    if (tcp->out_len) {
        return ngx_stream_webrtc_tcp_queue(tcp, frame, len);
    }

    n = c->send(c, frame, len);

    if (n == NGX_ERROR) {
        c->error = 1;
        return NGX_DECLINED;
    }

    if (n == NGX_AGAIN) {
        n = 0;
    }

    if ((size_t) n == len) {
        return NGX_OK;
    }

    /* the rest of a frame begun must follow it, whatever the queue's size */

    if (tcp->out == NULL) {
        tcp->out = ngx_palloc(c->pool, tcp->out_size);
        if (tcp->out == NULL) {
            c->error = 1;
            return NGX_DECLINED;
        }
    }

    ngx_memcpy(tcp->out, frame + n, len - n);
    tcp->out_head = 0;
    tcp->out_len = len - n;

    if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
        c->error = 1;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_stream_webrtc_tcp_queue(ngx_stream_webrtc_tcp_t *tcp, u_char *p,
    size_t len)
{
    size_t  tail, first;

    if (tcp->out_size - tcp->out_len < len) {
        tcp->dropped++;
        tcp->dropped_total++;
        return NGX_DECLINED;
    }

    tail = (tcp->out_head + tcp->out_len) % tcp->out_size;
    first = ngx_min(len, tcp->out_size - tail);

    ngx_memcpy(tcp->out + tail, p, first);
    ngx_memcpy(tcp->out, p + first, len - first);

    tcp->out_len += len;

    return NGX_OK;
}


static void
ngx_stream_webrtc_tcp_write_handler(ngx_event_t *wev)
{
    ngx_connection_t         *c;
    ngx_stream_session_t     *s;
    ngx_stream_webrtc_ctx_t  *ctx;

    c = wev->data;
    s = c->data;
    ctx = ngx_stream_get_module_ctx(s, ngx_stream_webrtc_module);

    if (ngx_stream_webrtc_tcp_flush(c, ctx->tcp) != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, c->log, ngx_socket_errno,
                      "webrtc: ICE-TCP send failed");
        ctx->close = 1;
    }

    if (ctx->close) {
        ngx_stream_webrtc_close(ctx);
        return;
    }

    if (ngx_handle_write_event(wev, 0) != NGX_OK) {
        ngx_stream_webrtc_close(ctx);
    }
}


static ngx_int_t
ngx_stream_webrtc_tcp_flush(ngx_connection_t *c, ngx_stream_webrtc_tcp_t *tcp)
{
    size_t   len;
    ssize_t  n;

    while (tcp->out_len) {
        len = ngx_min(tcp->out_len, tcp->out_size - tcp->out_head);

        n = c->send(c, tcp->out + tcp->out_head, len);

        if (n == NGX_ERROR) {
            c->error = 1;
            return NGX_ERROR;
        }

        if (n == NGX_AGAIN) {
            return NGX_OK;
        }

        tcp->out_head = (tcp->out_head + n) % tcp->out_size;
        tcp->out_len -= n;
    }

    tcp->out_head = 0;

    if (tcp->dropped) {
        ngx_log_debug1(NGX_LOG_DEBUG_STREAM, c->log, 0,
                       "webrtc: ICE-TCP queue drained, %ui packets dropped",
                       tcp->dropped);

        tcp->dropped = 0;

        /* what was dropped broke the video: a key frame mends it */
        ngx_stream_webrtc_tcp_drained(c);
    }

    return NGX_OK;
}


/* packets a viewer lost in the queue: a key frame mends its video */

static void
ngx_stream_webrtc_tcp_drained(ngx_connection_t *c)
{
    ngx_stream_webrtc_ctx_t  *ctx;

    ctx = ngx_stream_get_module_ctx((ngx_stream_session_t *) c->data,
                                    ngx_stream_webrtc_module);

    if (ctx->peer && ctx->peer->role == NGX_WEBRTC_ROLE_VIEWER) {
        ngx_webrtc_relay_keyframe(ctx->peer);
    }
}
