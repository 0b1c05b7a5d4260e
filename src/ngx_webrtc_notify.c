
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>

#include "ngx_webrtc_media.h"


/*
 * Webhooks (webrtc_notify): the worker serving a session's media tells an
 * HTTP endpoint when the media starts, once DTLS is established
 * ("publish" or "play"), and when the session ends ("unpublish" or
 * "leave", with the reason), each a JSON POST.  Never in the way of
 * media: a worker holds at most "queue" events, sends "connections" at a
 * time over nginx's own peer connections (ngx_event_connect_peer()), each
 * bounded by "timeout", and sends a failed one again "retries" times, 1,
 * 2, 4... s later; then the event is logged and dropped.  A session handed
 * over on reload or adopted after a crash goes on without a new start.
 */


#define NGX_WEBRTC_NOTIFY_JSON  512


typedef struct {
    ngx_queue_t                 queue;          /* waiting */
    ngx_event_t                 retry;
    ngx_peer_connection_t       peer;
    ngx_uint_t                  tries;
    unsigned                    active:1;
    unsigned                    connected:1;
    size_t                      sent;
    size_t                      len;
    size_t                      nstatus;
    u_char                      status[16];
    u_char                      id[NGX_WEBRTC_ID_LEN];
    const char                 *event;
    u_char                      data[1];        /* the request */
} ngx_webrtc_notify_t;


static void ngx_webrtc_notify_post(ngx_webrtc_notify_conf_t *nf,
    ngx_webrtc_notify_t *n);
static void ngx_webrtc_notify_next(ngx_webrtc_notify_conf_t *nf);
static void ngx_webrtc_notify_start(ngx_webrtc_notify_conf_t *nf,
    ngx_webrtc_notify_t *n);
static void ngx_webrtc_notify_write_handler(ngx_event_t *wev);
static void ngx_webrtc_notify_read_handler(ngx_event_t *rev);
static ngx_int_t ngx_webrtc_notify_connected(ngx_webrtc_notify_t *n);
static void ngx_webrtc_notify_done(ngx_webrtc_notify_t *n,
    const char *error);
static void ngx_webrtc_notify_retry_handler(ngx_event_t *ev);
static ngx_webrtc_notify_conf_t *ngx_webrtc_notify_conf(void);


static ngx_queue_t  ngx_webrtc_notify_waiting;
static ngx_uint_t   ngx_webrtc_notify_held;     /* waiting, sent, retried */
static ngx_uint_t   ngx_webrtc_notify_active;
static ngx_uint_t   ngx_webrtc_notify_dropped;
static time_t       ngx_webrtc_notify_dropped_logged;


/* what a peer's event says, queued to be sent */

void
ngx_webrtc_notify(ngx_webrtc_peer_t *peer, const char *event,
    const char *reason)
{
    u_char                    *p, *last;
    size_t                     len;
    ngx_time_t                *tp;
    ngx_webrtc_notify_t       *n;
    ngx_webrtc_notify_conf_t  *nf;
    u_char                     json[NGX_WEBRTC_NOTIFY_JSON];
    u_char                     addr[NGX_SOCKADDR_STRLEN];

    nf = ngx_webrtc_notify_conf();

    if (nf == NULL) {
        return;
    }

    if (ngx_webrtc_notify_held >= nf->queue) {
        ngx_webrtc_notify_dropped++;

        if (ngx_webrtc_notify_dropped_logged != ngx_time()) {
            ngx_webrtc_notify_dropped_logged = ngx_time();

            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "webrtc notify: %ui events held, %ui dropped "
                          "so far", ngx_webrtc_notify_held,
                          ngx_webrtc_notify_dropped);
        }

        return;
    }

    len = 0;

    if (peer->has_path) {
        len = ngx_sock_ntop(&peer->path.sockaddr.sockaddr, peer->path.socklen,
                            addr, NGX_SOCKADDR_STRLEN, 1);
    }

    tp = ngx_timeofday();

    last = json + NGX_WEBRTC_NOTIFY_JSON;

    /* stream names are of A-Z a-z 0-9 - _ . ~, reasons ours: no escapes */

    p = ngx_slprintf(json, last,
                     "{\"event\":\"%s\",\"stream\":\"%*s\","
                     "\"session\":\"%*s\",\"role\":\"%s\","
                     "\"address\":\"%*s\",\"time\":%T%03M",
                     event, peer->stream_name_len, peer->stream_name,
                     (size_t) NGX_WEBRTC_ID_LEN, peer->id,
                     peer->role == NGX_WEBRTC_ROLE_PUBLISHER ? "publisher"
                                                            : "viewer",
                     len, addr, tp->sec, tp->msec);

    if (reason) {
        p = ngx_slprintf(p, last, ",\"reason\":\"%s\",\"packets_in\":%ui,"
                         "\"packets_out\":%ui",
                         reason, peer->packets_in, peer->packets_out);
    }

    p = ngx_slprintf(p, last, "}");

    len = p - json;

    n = ngx_alloc(sizeof(ngx_webrtc_notify_t) + nf->request.len
                  + NGX_OFF_T_LEN + sizeof(CRLF CRLF) + len, ngx_cycle->log);
    if (n == NULL) {
        return;
    }

    ngx_memzero(n, sizeof(ngx_webrtc_notify_t));

    n->event = event;
    ngx_memcpy(n->id, peer->id, NGX_WEBRTC_ID_LEN);

    p = ngx_sprintf(n->data, "%V%uz" CRLF CRLF, &nf->request, len);
    p = ngx_cpymem(p, json, len);

    n->len = p - n->data;

    ngx_webrtc_notify_held++;

    ngx_webrtc_notify_post(nf, n);
}


static ngx_webrtc_notify_conf_t *
ngx_webrtc_notify_conf(void)
{
    ngx_webrtc_core_conf_t  *ccf;

    ccf = ngx_webrtc_core_conf((ngx_cycle_t *) ngx_cycle);

    if (ccf == NULL || ccf->notify == NULL) {
        return NULL;
    }

    if (ngx_webrtc_notify_waiting.next == NULL) {
        ngx_queue_init(&ngx_webrtc_notify_waiting);
    }

    return ccf->notify;
}


static void
ngx_webrtc_notify_post(ngx_webrtc_notify_conf_t *nf, ngx_webrtc_notify_t *n)
{
    ngx_queue_insert_tail(&ngx_webrtc_notify_waiting, &n->queue);

    ngx_webrtc_notify_next(nf);
}


static void
ngx_webrtc_notify_next(ngx_webrtc_notify_conf_t *nf)
{
    ngx_queue_t          *q;
    ngx_webrtc_notify_t  *n;

    while (ngx_webrtc_notify_active < nf->connections
           && !ngx_queue_empty(&ngx_webrtc_notify_waiting))
    {
        q = ngx_queue_head(&ngx_webrtc_notify_waiting);
        ngx_queue_remove(q);

        n = ngx_queue_data(q, ngx_webrtc_notify_t, queue);

        ngx_webrtc_notify_start(nf, n);
    }
}


static void
ngx_webrtc_notify_start(ngx_webrtc_notify_conf_t *nf, ngx_webrtc_notify_t *n)
{
    ngx_int_t          rc;
    ngx_connection_t  *c;

    ngx_memzero(&n->peer, sizeof(ngx_peer_connection_t));

    n->peer.sockaddr = nf->addr.sockaddr;
    n->peer.socklen = nf->addr.socklen;
    n->peer.name = &nf->addr.name;
    n->peer.get = ngx_event_get_peer;
    n->peer.log = ngx_cycle->log;
    n->peer.log_error = NGX_ERROR_ERR;

    n->sent = 0;
    n->nstatus = 0;
    n->connected = 0;
    n->active = 1;
    ngx_webrtc_notify_active++;

    rc = ngx_event_connect_peer(&n->peer);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        ngx_webrtc_notify_done(n, "could not connect");
        return;
    }

    c = n->peer.connection;

    c->data = n;
    c->log = ngx_cycle->log;
    c->read->log = c->log;
    c->write->log = c->log;
    c->read->handler = ngx_webrtc_notify_read_handler;
    c->write->handler = ngx_webrtc_notify_write_handler;

    ngx_add_timer(c->write, nf->timeout);

    if (rc == NGX_OK) {
        n->connected = 1;
        ngx_webrtc_notify_write_handler(c->write);
    }
}


/* whether a connect() in progress succeeded */

static ngx_int_t
ngx_webrtc_notify_connected(ngx_webrtc_notify_t *n)
{
    int        err;
    socklen_t  len;

    if (n->connected) {
        return NGX_OK;
    }

    err = 0;
    len = sizeof(int);

    if (getsockopt(n->peer.connection->fd, SOL_SOCKET, SO_ERROR,
                   (void *) &err, &len)
        == -1)
    {
        err = ngx_socket_errno;
    }

    if (err) {
        ngx_webrtc_notify_done(n, "could not connect");
        return NGX_ERROR;
    }

    n->connected = 1;

    return NGX_OK;
}


static void
ngx_webrtc_notify_write_handler(ngx_event_t *wev)
{
    ssize_t                    sent;
    ngx_connection_t          *c;
    ngx_webrtc_notify_t       *n;
    ngx_webrtc_notify_conf_t  *nf;

    c = wev->data;
    n = c->data;

    if (wev->timedout) {
        ngx_webrtc_notify_done(n, "timed out");
        return;
    }

    if (ngx_webrtc_notify_connected(n) != NGX_OK) {
        return;
    }

    while (n->sent < n->len) {
        sent = c->send(c, n->data + n->sent, n->len - n->sent);

        if (sent == NGX_AGAIN) {
            if (ngx_handle_write_event(wev, 0) != NGX_OK) {
                ngx_webrtc_notify_done(n, "failed");
            }

            return;
        }

        if (sent == NGX_ERROR) {
            ngx_webrtc_notify_done(n, "could not send");
            return;
        }

        n->sent += sent;
    }

    /* the request went: the status line is waited for */

    nf = ngx_webrtc_notify_conf();

    if (wev->timer_set) {
        ngx_del_timer(wev);
    }

    wev->handler = ngx_webrtc_notify_write_handler;

    ngx_add_timer(c->read, nf ? nf->timeout : 5000);

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_webrtc_notify_done(n, "failed");
    }
}


/* "HTTP/1.1 204 ...": the status is all that is read */

static void
ngx_webrtc_notify_read_handler(ngx_event_t *rev)
{
    ssize_t               n;
    ngx_int_t             status;
    ngx_connection_t     *c;
    ngx_webrtc_notify_t  *nt;

    c = rev->data;
    nt = c->data;

    if (rev->timedout) {
        ngx_webrtc_notify_done(nt, "timed out");
        return;
    }

    if (ngx_webrtc_notify_connected(nt) != NGX_OK) {
        return;
    }

    while (nt->nstatus < 12) {
        n = c->recv(c, nt->status + nt->nstatus,
                    sizeof(nt->status) - nt->nstatus);

        if (n == NGX_AGAIN) {
            if (ngx_handle_read_event(rev, 0) != NGX_OK) {
                ngx_webrtc_notify_done(nt, "failed");
            }

            return;
        }

        if (n == NGX_ERROR || n == 0) {
            ngx_webrtc_notify_done(nt, "closed without a response");
            return;
        }

        nt->nstatus += n;
    }

    if (ngx_strncmp(nt->status, "HTTP/1.", 7) != 0 || nt->status[8] != ' ') {
        ngx_webrtc_notify_done(nt, "no HTTP response");
        return;
    }

    status = ngx_atoi(&nt->status[9], 3);

    if (status >= 200 && status < 300) {
        ngx_webrtc_notify_done(nt, NULL);
        return;
    }

    ngx_webrtc_notify_done(nt, "not a 2xx response");
}


static void
ngx_webrtc_notify_done(ngx_webrtc_notify_t *n, const char *error)
{
    ngx_msec_t                 delay;
    ngx_webrtc_notify_conf_t  *nf;

    if (n->peer.connection) {
        ngx_close_connection(n->peer.connection);
        n->peer.connection = NULL;
    }

    if (n->active) {
        n->active = 0;
        ngx_webrtc_notify_active--;
    }

    nf = ngx_webrtc_notify_conf();

    if (error == NULL) {
        ngx_log_debug3(NGX_LOG_DEBUG_EVENT, ngx_cycle->log, 0,
                       "webrtc notify \"%s\" of session %*s sent",
                       n->event, (size_t) NGX_WEBRTC_ID_LEN, n->id);
        goto free;
    }

    if (n->nstatus >= 12) {
        n->status[12] = '\0';
    }

    if (nf && n->tries < nf->retries && !ngx_exiting) {
        delay = (ngx_msec_t) 1000 << ngx_min(n->tries, 5);
        n->tries++;

        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "webrtc notify \"%s\" of session %*s to \"%V\" %s%s%s, "
                      "again in %M ms", n->event,
                      (size_t) NGX_WEBRTC_ID_LEN, n->id, &nf->url, error,
                      n->nstatus >= 12 ? ": " : "",
                      n->nstatus >= 12 ? (char *) n->status + 9 : "", delay);

        n->retry.handler = ngx_webrtc_notify_retry_handler;
        n->retry.data = n;
        n->retry.log = ngx_cycle->log;
        n->retry.cancelable = 1;

        ngx_add_timer(&n->retry, delay);

        goto next;
    }

    ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                  "webrtc notify \"%s\" of session %*s to \"%V\" %s%s%s "
                  "after %ui tries, dropped", n->event,
                  (size_t) NGX_WEBRTC_ID_LEN, n->id,
                  nf ? &nf->url : n->peer.name, error,
                  n->nstatus >= 12 ? ": " : "",
                  n->nstatus >= 12 ? (char *) n->status + 9 : "",
                  n->tries + 1);

free:

    ngx_webrtc_notify_held--;
    ngx_free(n);

next:

    if (nf) {
        ngx_webrtc_notify_next(nf);
    }
}


static void
ngx_webrtc_notify_retry_handler(ngx_event_t *ev)
{
    ngx_webrtc_notify_t       *n;
    ngx_webrtc_notify_conf_t  *nf;

    n = ev->data;

    nf = ngx_webrtc_notify_conf();

    if (nf == NULL) {
        ngx_webrtc_notify_held--;
        ngx_free(n);
        return;
    }

    ngx_webrtc_notify_post(nf, n);
}


/*
 * webrtc_notify http://host[:port]/path [timeout=time] [retries=number]
 *     [connections=number] [queue=number];
 */

char *
ngx_webrtc_notify_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_webrtc_core_conf_t *ccf = conf;

    u_char                    *p;
    ngx_str_t                 *value, s, authority;
    ngx_int_t                  n;
    ngx_uint_t                 i;
    ngx_url_t                  u;
    ngx_msec_t                 ms;
    ngx_webrtc_notify_conf_t  *nf;

    if (ccf->notify) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strncasecmp(value[1].data, (u_char *) "http://", 7) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"webrtc_notify\" takes an http:// URL (for "
                           "https, point it at an nginx location that "
                           "proxies), not \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    nf = ngx_pcalloc(cf->pool, sizeof(ngx_webrtc_notify_conf_t));
    if (nf == NULL) {
        return NGX_CONF_ERROR;
    }

    nf->url = value[1];
    nf->timeout = 5000;
    nf->retries = 3;
    nf->connections = 4;
    nf->queue = 1000;

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url.data = value[1].data + 7;
    u.url.len = value[1].len - 7;
    u.default_port = 80;
    u.uri_part = 1;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        if (u.err) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "%s in \"webrtc_notify\" URL \"%V\"",
                               u.err, &value[1]);
        }

        return NGX_CONF_ERROR;
    }

    if (u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "no address of \"webrtc_notify\" URL \"%V\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    nf->addr = u.addrs[0];

    /* the request line and headers, the length and body added per event */

    authority.data = u.url.data;
    authority.len = u.uri.len ? (size_t) (u.uri.data - u.url.data) : u.url.len;

    if (u.uri.len == 0) {
        ngx_str_set(&u.uri, "/");
    }

    nf->request.len = sizeof("POST  HTTP/1.1" CRLF "Host: " CRLF
                             "User-Agent: nginx-webrtc-module" CRLF
                             "Content-Type: application/json" CRLF
                             "Connection: close" CRLF
                             "Content-Length: ") - 1
                      + u.uri.len + authority.len;

    nf->request.data = ngx_pnalloc(cf->pool, nf->request.len);
    if (nf->request.data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = ngx_sprintf(nf->request.data, "POST %V HTTP/1.1" CRLF "Host: %V" CRLF
                    "User-Agent: nginx-webrtc-module" CRLF
                    "Content-Type: application/json" CRLF
                    "Connection: close" CRLF
                    "Content-Length: ", &u.uri, &authority);

    nf->request.len = p - nf->request.data;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "timeout=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

            ms = ngx_parse_time(&s, 0);
            if (ms == (ngx_msec_t) NGX_ERROR || ms == 0) {
                goto invalid;
            }

            nf->timeout = ms;
            continue;
        }

        if (ngx_strncmp(value[i].data, "retries=", 8) == 0) {
            n = ngx_atoi(value[i].data + 8, value[i].len - 8);
            if (n == NGX_ERROR || n > 10) {
                goto invalid;
            }

            nf->retries = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "connections=", 12) == 0) {
            n = ngx_atoi(value[i].data + 12, value[i].len - 12);
            if (n == NGX_ERROR || n == 0 || n > 64) {
                goto invalid;
            }

            nf->connections = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "queue=", 6) == 0) {
            n = ngx_atoi(value[i].data + 6, value[i].len - 6);
            if (n == NGX_ERROR || n == 0 || n > 100000) {
                goto invalid;
            }

            nf->queue = n;
            continue;
        }

        goto invalid;
    }

    ccf->notify = nf;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" of \"webrtc_notify\"",
                       &value[i]);

    return NGX_CONF_ERROR;
}
