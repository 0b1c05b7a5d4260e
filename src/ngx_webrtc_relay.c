
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_webrtc_media.h"


/*
 * Fan-out.  reuseport spreads peers over workers by their addresses, so a
 * stream's publisher and its viewers are served by different workers.
 * The publisher's worker decrypts each packet once, sends it to its own
 * viewers, and passes it once to every other worker that has viewers of
 * the stream (a bit each in the stream's "workers" mask in the zone),
 * over a unix datagram socket pair per worker created by the master.
 * Each worker then rewrites and encrypts the packet for its viewers: all
 * cores encrypt for one popular stream, and a packet is copied per worker,
 * never per viewer, before encryption.
 */


#define NGX_WEBRTC_RELAY_BATCH        256


typedef struct {
    uint8_t                     type;
    uint8_t                     kind;
    uint16_t                    len;
    uint32_t                    gen;            /* of the stream */
    ngx_webrtc_stream_t        *stream;
    uint64_t                    arrival;        /* ngx_webrtc_arrival */
    u_char                      id[NGX_WEBRTC_ID_LEN];
} ngx_webrtc_relay_msg_t;


static void ngx_webrtc_relay_read_handler(ngx_event_t *ev);
static void ngx_webrtc_relay_cleanup(void *data);


/*
 * the arrival of the publisher packet being handled, from the kernel's
 * receive timestamp, in microseconds since the epoch; 0 if not known
 */

uint64_t                           ngx_webrtc_arrival;

ngx_webrtc_relay_t                *ngx_webrtc_relay;
static ngx_msec_t                  ngx_webrtc_relay_stray;

/* NGX_WEBRTC_CLOSE_*, as the closing worker logs them */
static const char *ngx_webrtc_close_reasons[] = {
    "deleted",
    "ICE consent expired",
    "timed out",
    "signaling closed"
};


/* in the master: a datagram socket pair per worker */

ngx_int_t
ngx_webrtc_relay_init(ngx_cycle_t *cycle)
{
    int                  sndbuf;
    ngx_uint_t           i;
    ngx_core_conf_t     *ccf;
    ngx_pool_cleanup_t  *cln;
    ngx_webrtc_relay_t  *relay;

    ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx, ngx_core_module);

    relay = ngx_pcalloc(cycle->pool, sizeof(ngx_webrtc_relay_t));
    if (relay == NULL) {
        return NGX_ERROR;
    }

    if ((ngx_uint_t) ccf->worker_processes > NGX_WEBRTC_MAX_WORKERS) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "webrtc media supports at most %d worker processes",
                      NGX_WEBRTC_MAX_WORKERS);
        return NGX_ERROR;
    }

    relay->n = ccf->worker_processes;

    relay->fds = ngx_palloc(cycle->pool, 2 * relay->n * sizeof(ngx_socket_t));
    if (relay->fds == NULL) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(cycle->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < 2 * relay->n; i++) {
        relay->fds[i] = (ngx_socket_t) -1;
    }

    cln->handler = ngx_webrtc_relay_cleanup;
    cln->data = relay;

    sndbuf = 4 * 1024 * 1024;

    for (i = 0; i < relay->n; i++) {
        if (socketpair(AF_UNIX, SOCK_DGRAM, 0, &relay->fds[2 * i]) == -1) {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_socket_errno,
                          "socketpair() failed");
            return NGX_ERROR;
        }

        if (ngx_nonblocking(relay->fds[2 * i]) == -1
            || ngx_nonblocking(relay->fds[2 * i + 1]) == -1)
        {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_socket_errno,
                          ngx_nonblocking_n " failed");
            return NGX_ERROR;
        }

        (void) setsockopt(relay->fds[2 * i], SOL_SOCKET, SO_SNDBUF,
                          &sndbuf, sizeof(int));
        (void) setsockopt(relay->fds[2 * i + 1], SOL_SOCKET, SO_RCVBUF,
                          &sndbuf, sizeof(int));
    }

    ngx_webrtc_relay = relay;

    return NGX_OK;
}


static void
ngx_webrtc_relay_cleanup(void *data)
{
    ngx_webrtc_relay_t  *relay = data;

    ngx_uint_t  i;

    for (i = 0; i < 2 * relay->n; i++) {
        if (relay->fds[i] != (ngx_socket_t) -1) {
            (void) ngx_close_socket(relay->fds[i]);
            relay->fds[i] = (ngx_socket_t) -1;
        }
    }
}


/* in a worker: read our end, keep the others' write ends */

ngx_int_t
ngx_webrtc_relay_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t               i;
    ngx_event_t             *rev;
    ngx_connection_t        *c;
    ngx_webrtc_relay_t      *relay;

    relay = ngx_webrtc_relay;

    if (relay == NULL || ngx_worker >= relay->n) {
        return NGX_OK;
    }

    for (i = 0; i < relay->n; i++) {
        if (i != ngx_worker) {
            (void) ngx_close_socket(relay->fds[2 * i + 1]);
            relay->fds[2 * i + 1] = (ngx_socket_t) -1;
        }
    }

    c = ngx_get_connection(relay->fds[2 * ngx_worker + 1], cycle->log);
    if (c == NULL) {
        return NGX_ERROR;
    }

    c->log = cycle->log;

    /* closed at once on graceful shutdown, see the read handler */
    c->idle = 1;

    rev = c->read;
    rev->handler = ngx_webrtc_relay_read_handler;
    rev->log = cycle->log;
    rev->channel = 1;

    if (ngx_add_event(rev, NGX_READ_EVENT, 0) == NGX_ERROR) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * A session's media path moved to an address another worker receives:
 * that worker tells the one holding the session's DTLS and SRTP state,
 * then passes it what arrives there
 */

void
ngx_webrtc_relay_path(ngx_int_t slot, u_char *id, ngx_webrtc_path_t *path)
{
    if (ngx_webrtc_relay && slot >= 0
        && (ngx_uint_t) slot < ngx_webrtc_relay->n)
    {
        ngx_webrtc_relay_send(slot, NGX_WEBRTC_RELAY_PATH, 0, NULL, 0, id,
                              (u_char *) path, sizeof(ngx_webrtc_path_t),
                              NULL, 0);
    }
}


/*
 * A datagram of another worker's session, with the address it came from
 * (the kind is its length): one from a new address moves the session's
 * path only if it authenticates
 */

void
ngx_webrtc_relay_forward(ngx_int_t slot, u_char *id, u_char *p, size_t len,
    struct sockaddr *sockaddr, socklen_t socklen)
{
    if (socklen > sizeof(struct sockaddr_in6)) {
        socklen = 0;
    }

    if (ngx_webrtc_relay && slot >= 0
        && (ngx_uint_t) slot < ngx_webrtc_relay->n)
    {
        ngx_webrtc_relay_send(slot, NGX_WEBRTC_RELAY_FORWARD, socklen, NULL, 0,
                              id, p, len, (u_char *) sockaddr, socklen);
    }
}


/* closes a session by id, and its media on whichever worker serves it */

void
ngx_webrtc_relay_close_session(u_char *id, ngx_uint_t reason)
{
    ngx_str_t           name;
    ngx_webrtc_owner_t  owner;

    name.data = id;
    name.len = NGX_WEBRTC_ID_LEN;

    if (ngx_webrtc_registry_session_end(&name, 0, NULL, &owner) == NGX_OK) {
        ngx_webrtc_relay_close(owner.slot, owner.pid, id, reason);
    }
}


void
ngx_webrtc_relay_close(ngx_int_t slot, ngx_pid_t pid, u_char *id,
    ngx_uint_t reason)
{
    ngx_webrtc_peer_t  *peer;

    if (pid == 0) {
        return;
    }

    if (pid == ngx_pid) {
        peer = ngx_webrtc_peer_by_id(id);

        if (peer) {
            ngx_webrtc_peer_close(peer, NGX_WEBRTC_CLOSED_MEDIA,
                                  ngx_webrtc_close_reasons[reason]);
        }

        return;
    }

    if (ngx_webrtc_relay == NULL || slot < 0
        || (ngx_uint_t) slot >= ngx_webrtc_relay->n)
    {
        return;
    }

    ngx_webrtc_relay_send(slot, NGX_WEBRTC_RELAY_CLOSE, reason, NULL, 0, id,
                          NULL, 0, NULL, 0);
}


void
ngx_webrtc_relay_send(ngx_uint_t slot, ngx_uint_t type, ngx_uint_t kind,
    ngx_webrtc_stream_t *stream, uint32_t gen, u_char *id, u_char *p,
    size_t len, u_char *tail, size_t tail_len)
{
    struct iovec            iov[3];
    struct msghdr           msg;
    ngx_webrtc_relay_msg_t  hdr;

    ngx_memzero(&hdr, sizeof(ngx_webrtc_relay_msg_t));

    hdr.type = (uint8_t) type;
    hdr.kind = (uint8_t) kind;
    hdr.len = (uint16_t) len;
    hdr.stream = stream;
    hdr.gen = gen;
    hdr.arrival = ngx_webrtc_arrival;

    if (id) {
        ngx_memcpy(hdr.id, id, NGX_WEBRTC_ID_LEN);
    }

    iov[0].iov_base = &hdr;
    iov[0].iov_len = sizeof(ngx_webrtc_relay_msg_t);
    iov[1].iov_base = p;
    iov[1].iov_len = len;
    iov[2].iov_base = tail;
    iov[2].iov_len = tail_len;

    ngx_memzero(&msg, sizeof(struct msghdr));
    msg.msg_iov = iov;
    msg.msg_iovlen = tail_len ? 3 : (len ? 2 : 1);

    /* a full queue drops the packet, as a congested network would */

    if (sendmsg(ngx_webrtc_relay->fds[2 * slot], &msg, MSG_DONTWAIT) != -1) {
        return;
    }

    ngx_webrtc_registry_count_event(NGX_WEBRTC_COUNT_RELAY_DROPPED);

    /*
     * the other worker's sweep closes the session later; a lost path is
     * sent again with the next nominating check
     */

    if (type == NGX_WEBRTC_RELAY_CLOSE || type == NGX_WEBRTC_RELAY_PATH) {
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, ngx_socket_errno,
                      "webrtc session %*s: %s message to worker %ui "
                      "lost, sendmsg() failed",
                      (size_t) NGX_WEBRTC_ID_LEN, id,
                      type == NGX_WEBRTC_RELAY_CLOSE ? "close" : "path",
                      slot);
    }
}


static void
ngx_webrtc_relay_read_handler(ngx_event_t *ev)
{
    ssize_t                     n;
    ngx_uint_t                  i;
    size_t                      len;
    u_char                     *p;
    ngx_connection_t           *c;
    ngx_webrtc_peer_t          *peer;
    ngx_webrtc_rtp_t            rtp;
    ngx_webrtc_relay_msg_t     *hdr;
    ngx_webrtc_local_stream_t  *ls;
    ngx_webrtc_path_t           path;
    u_char                      buf[sizeof(ngx_webrtc_relay_msg_t)
                                    + NGX_WEBRTC_MTU];

    c = ev->data;

    if (c->close) {
        /*
         * graceful shutdown: the channel is an idle connection, so that
         * this runs at once on a reload even in a worker without UDP
         * connections; sessions are handed over or closed
         */
        ngx_webrtc_peer_exit();
        ngx_close_connection(c);
        return;
    }

    /* a bounded batch: the socket is level-triggered, the rest follows */

    for (i = 0; i < NGX_WEBRTC_RELAY_BATCH; i++) {
        n = recv(c->fd, buf, sizeof(buf), 0);

        if (n == -1) {
            if (ngx_socket_errno != NGX_EAGAIN
                && ngx_socket_errno != NGX_EINTR)
            {
                ngx_log_error(NGX_LOG_ALERT, ev->log, ngx_socket_errno,
                              "webrtc relay recv() failed");
            }

            break;
        }

        if ((size_t) n < sizeof(ngx_webrtc_relay_msg_t)) {
            continue;
        }

        hdr = (ngx_webrtc_relay_msg_t *) buf;
        p = buf + sizeof(ngx_webrtc_relay_msg_t);
        len = n - sizeof(ngx_webrtc_relay_msg_t);

        ngx_webrtc_arrival = hdr->arrival;

        if (hdr->type == NGX_WEBRTC_RELAY_CLOSE
            || hdr->type == NGX_WEBRTC_RELAY_PATH
            || hdr->type == NGX_WEBRTC_RELAY_FORWARD)
        {
            peer = ngx_webrtc_peer_by_id(hdr->id);

            if (peer == NULL) {
                continue;
            }

            if (hdr->type == NGX_WEBRTC_RELAY_CLOSE) {
                ngx_webrtc_peer_close(peer, NGX_WEBRTC_CLOSED_MEDIA,
                                      ngx_webrtc_close_reasons[hdr->kind]);

            } else if (hdr->type == NGX_WEBRTC_RELAY_FORWARD) {
                if (hdr->len <= len && hdr->kind == len - hdr->len) {
                    ngx_webrtc_peer_forwarded(peer, p, hdr->len,
                                            (struct sockaddr *) (p + hdr->len),
                                              hdr->kind);
                }

            } else if (len == sizeof(ngx_webrtc_path_t)) {
                ngx_memcpy(&path, p, sizeof(ngx_webrtc_path_t));
                ngx_webrtc_peer_remote_path(peer, &path);
            }

            continue;
        }

        ls = ngx_webrtc_local_lookup(hdr->stream, hdr->gen);

        if (ls == NULL || hdr->kind > 1) {

            /*
             * a stream this worker has no viewers of, by a bit an exiting
             * worker of the same slot left: cleared, a few a second
             */

            if (hdr->type == NGX_WEBRTC_RELAY_RTP && ls == NULL
                && !ngx_webrtc_handing_off
                && ngx_current_msec - ngx_webrtc_relay_stray >= 100)
            {
                ngx_webrtc_relay_stray = ngx_current_msec;
                (void) ngx_webrtc_registry_stream_worker(hdr->stream,
                                                         hdr->gen, 0);
            }

            continue;
        }

        switch (hdr->type) {

        case NGX_WEBRTC_RELAY_RTP:
            if (ngx_webrtc_rtp_parse(p, len, &rtp) == 0) {
                ngx_webrtc_relay_local(ls, hdr->id, hdr->kind, p, len, &rtp);
            }

            break;

        case NGX_WEBRTC_RELAY_SR:
            if (len >= 28) {
                ngx_webrtc_relay_local_sr(ls, hdr->kind, p);
            }

            break;

        case NGX_WEBRTC_RELAY_KEYFRAME:
            if (ls->publisher) {
                ngx_webrtc_relay_keyframe_due(ls);
            }

            break;

        case NGX_WEBRTC_RELAY_NACK:
            if (ls->publisher) {
                ngx_webrtc_relay_publisher_nack(ls, p, len);
            }

            break;
        }
    }

    ngx_webrtc_arrival = 0;

    if (ngx_handle_read_event(ev, 0) != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, ev->log, 0,
                      "webrtc relay: cannot handle read event");
    }
}
