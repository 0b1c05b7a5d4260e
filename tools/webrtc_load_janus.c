
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>

#include <stun/usages/ice.h>

#include "webrtc_load.h"


/*
 * Janus (janus-gateway) as the server under test, for side-by-side
 * benchmarks:
 *
 * --rtp HOST:AUDIO_PORT:VIDEO_PORT: the publisher sends the synthetic
 * stream of webrtc_load_media.c, unchanged (same frames, pacing, send
 * stamps), as plain RTP to a streaming plugin mountpoint: Opus to one
 * port, VP8 to the other.  The media code sends everything on the peer's
 * one socket through SRTP; here that SRTP session has the null cipher
 * and no authentication (packets leave it unchanged) and the socket is
 * a loopback UDP socket to a relay in this process that sends each RTP
 * packet to its port by payload type (RTCP and STUN are dropped).
 *
 * --janus URL --mountpoint ID: viewers through Janus's HTTP API: create
 * a session, attach janus.plugin.streaming, "watch" the mountpoint, take
 * Janus's JSEP offer from the session's long poll, answer it (recvonly,
 * a=setup:active, our host candidate) with "start".  Janus offers, so it
 * is the controlling full ICE agent (RFC 8445, 6.1.1): the viewer is the
 * controlled one: it sends checks without USE-CANDIDATE and answers
 * Janus's checks (webrtc_load_peer.c hands STUN requests to
 * wl_janus_stun_request()).  DTLS (client), the fingerprint check, SRTP
 * and every counter are webrtc_load_peer.c's and webrtc_load_media.c's.
 * Consent checks (RFC 7675) are sent from here, as the controlled agent.
 * The session is kept alive with "keepalive" every 20 s and destroyed at
 * the end (counted as DELETEs).
 */


#define WL_JANUS_KEEPALIVE      (20 * WL_SEC)
#define WL_JANUS_CHECK_WAIT     (2 * WL_SEC)
#define WL_JANUS_DTLS_RTO       50000           /* us, see below */
#define WL_JANUS_BODY           32768
#define WL_JANUS_ANSWER         8192
#define WL_JANUS_PATH           (WL_URL_LEN + 64)

/* RFC 8445, 5.1.2.1: a host candidate, local preference 65535 */
#define WL_JANUS_PRIORITY       ((126u << 24) | (65535u << 8) | 255u)

#define WL_JANUS_RCVBUF         (1024 * 1024)
#define WL_JANUS_RELAY_BATCH    32


typedef enum {
    WL_JANUS_VIEWER = 0,
    WL_JANUS_RELAY
} wl_janus_kind_e;


typedef enum {
    WL_JANUS_IDLE = 0,
    WL_JANUS_CREATE,
    WL_JANUS_ATTACH,
    WL_JANUS_WATCH,
    WL_JANUS_POLL,
    WL_JANUS_START,
    WL_JANUS_UP,
    WL_JANUS_DONE
} wl_janus_step_e;


typedef struct wl_janus_s  wl_janus_t;

struct wl_janus_s {
    int                         type;           /* WL_EV_JANUS */
    wl_janus_kind_e             kind;
    int                         fd;             /* the relay's */
    wl_peer_t                  *peer;
    wl_janus_step_e             step;

    uint64_t                    session;
    uint64_t                    handle;
    wl_http_t                  *http;
    int64_t                     offer_deadline;
    int64_t                     keepalive_next;
    int64_t                     consent_next;
    unsigned                    destroying:1;
    unsigned                    destroyed:1;
    unsigned                    checked:1;      /* Janus's check came */

    wl_janus_t                 *next;
};


static int wl_janus_rtp_parse(const char *s);
static int wl_janus_udp_socket(wl_peer_t *p);
static int wl_janus_post(wl_janus_t *j, const char *path, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));
static void wl_janus_handler(wl_http_t *h, void *data);
static void wl_janus_poll(wl_janus_t *j);
static void wl_janus_offer(wl_janus_t *j, const u_char *json, size_t len);
static void wl_janus_ice_start(wl_janus_t *j, int64_t now);
static int wl_janus_check(wl_peer_t *p, int send);
static void wl_janus_fail(wl_janus_t *j, wl_fail_e reason,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void wl_janus_destroyed(wl_http_t *h, void *data);
static size_t wl_janus_answer_sdp(wl_peer_t *p, const u_char *offer,
    size_t len, u_char *buf, size_t size);
static bool wl_janus_validater(StunAgent *agent, StunMessage *message,
    uint8_t *username, uint16_t username_len, uint8_t **password,
    size_t *password_len, void *user_data);
static void wl_janus_relay_input(wl_janus_t *j);

static const u_char *wl_json_value(const u_char *p, const u_char *end,
    const char *key);
static int wl_json_u64(const u_char *p, const u_char *end, uint64_t *v);
static size_t wl_json_string(const u_char *p, const u_char *end, u_char *buf,
    size_t size);
static size_t wl_json_escape(const u_char *p, size_t len, u_char *buf,
    size_t size);


static wl_janus_t          *wl_janus_list;
static wl_janus_t         **wl_janus_peers;     /* by wl_peer_t index */
static wl_janus_t           wl_janus_relay;
static int                  wl_janus_rtp_fd[2] = { -1, -1 };
static struct sockaddr_in   wl_janus_rtp_addr[2];      /* audio, video */

static wl_hist_t            wl_janus_relay_delay;
static unsigned             wl_janus_relay_logged;

static u_char               wl_janus_body[WL_JANUS_BODY];
static u_char               wl_janus_sdp_buf[WL_JANUS_ANSWER];
static u_char               wl_janus_esc[2 * WL_JANUS_ANSWER];
static ngx_webrtc_sdp_t     wl_janus_sdp;


/* after the options: --janus URL and --rtp HOST:PORT:PORT */

int
wl_janus_conf(void)
{
    int  rc;

    if (wl_conf.janus) {
        rc = wl_url_parse(&wl_conf.janus_url, wl_conf.janus);

        if (rc != 0 || wl_conf.janus_url.https) {
            wl_log("webrtc-load: --janus \"%s\": %s", wl_conf.janus,
                   rc == -2 ? "only loopback addresses are allowed"
                            : "expected http://127.0.0.1|[::1]|localhost"
                              "[:port]/janus");
            return -1;
        }

        /* the base path without a trailing slash */

        rc = (int) strlen(wl_conf.janus_url.path);

        while (rc > 1 && wl_conf.janus_url.path[rc - 1] == '/') {
            wl_conf.janus_url.path[--rc] = '\0';
        }

        if (wl_conf.mountpoint == NULL) {
            wl_conf.mountpoint = "1";
        }

        if (strspn(wl_conf.mountpoint, "0123456789")
            != strlen(wl_conf.mountpoint)
            && strpbrk(wl_conf.mountpoint, "\"\\") != NULL)
        {
            wl_log("webrtc-load: --mountpoint: a number or a plain string");
            return -1;
        }
    }

    if (wl_conf.rtp && wl_janus_rtp_parse(wl_conf.rtp) != 0) {
        wl_log("webrtc-load: --rtp \"%s\": expected LOOPBACK_IPV4:AUDIO_PORT"
               ":VIDEO_PORT, e.g. 127.0.0.1:15002:15004", wl_conf.rtp);
        return -1;
    }

    return 0;
}


static int
wl_janus_rtp_parse(const char *s)
{
    char          host[64], *end;
    long          port;
    unsigned      i;
    const char   *colon;

    colon = strchr(s, ':');

    if (colon == NULL || (size_t) (colon - s) >= sizeof(host)) {
        return -1;
    }

    memcpy(host, s, colon - s);
    host[colon - s] = '\0';

    for (i = 0; i < 2; i++) {
        memset(&wl_janus_rtp_addr[i], 0, sizeof(struct sockaddr_in));
        wl_janus_rtp_addr[i].sin_family = AF_INET;

        if (strcasecmp(host, "localhost") == 0) {
            wl_janus_rtp_addr[i].sin_addr.s_addr = htonl(INADDR_LOOPBACK);

        } else if (inet_pton(AF_INET, host, &wl_janus_rtp_addr[i].sin_addr)
                   != 1)
        {
            return -1;
        }

        port = strtol(colon + 1, &end, 10);

        if (end == colon + 1 || port < 1 || port > 65535
            || (i == 0 && *end != ':') || (i == 1 && *end != '\0'))
        {
            return -1;
        }

        wl_janus_rtp_addr[i].sin_port = htons((uint16_t) port);

        if (!wl_loopback((struct sockaddr *) &wl_janus_rtp_addr[i])) {
            return -1;
        }

        colon = end;
    }

    return 0;
}


/*
 * The publisher of --rtp: "connected" at once; wl_pub_timer() sends
 * through the null SRTP session to the relay.
 */

int
wl_janus_rtp_start(wl_peer_t *p)
{
    int                  fd, i, size;
    int64_t              now;
    u_char               key[64];
    socklen_t            len;
    srtp_policy_t        policy;
    struct sockaddr_in   sin;
    struct epoll_event   ee;

    now = wl_now();

    p->launched = now;

    /* the relay: a loopback UDP socket that the publisher's socket sends to */

    fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        goto failed;
    }

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    size = 4 * 1024 * 1024;
    (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));

    len = sizeof(sin);

    if (bind(fd, (struct sockaddr *) &sin, sizeof(sin)) == -1
        || getsockname(fd, (struct sockaddr *) &sin, &len) == -1)
    {
        close(fd);
        goto failed;
    }

    wl_janus_relay.type = WL_EV_JANUS;
    wl_janus_relay.kind = WL_JANUS_RELAY;
    wl_janus_relay.fd = fd;
    wl_janus_relay.peer = p;

    ee.events = EPOLLIN;
    ee.data.ptr = &wl_janus_relay;

    if (epoll_ctl(wl_epfd, EPOLL_CTL_ADD, fd, &ee) == -1) {
        goto failed;
    }

    /* the publisher's own socket, connected to the relay */

    p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (p->fd == -1) {
        goto failed;
    }

    size = 4 * 1024 * 1024;
    (void) setsockopt(p->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));

    if (connect(p->fd, (struct sockaddr *) &sin, sizeof(sin)) == -1) {
        goto failed;
    }

    /* to Janus: audio and video from their own sockets, as ffmpeg does */

    for (i = 0; i < 2; i++) {
        wl_janus_rtp_fd[i] = socket(AF_INET,
                                    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                                    0);
        if (wl_janus_rtp_fd[i] == -1) {
            goto failed;
        }

        size = 4 * 1024 * 1024;
        (void) setsockopt(wl_janus_rtp_fd[i], SOL_SOCKET, SO_SNDBUF, &size,
                          sizeof(size));

        if (connect(wl_janus_rtp_fd[i],
                    (struct sockaddr *) &wl_janus_rtp_addr[i],
                    sizeof(struct sockaddr_in))
            == -1)
        {
            goto failed;
        }
    }

    /* SRTP with the null cipher and no tag: RTP leaves it as it was */

    memset(&policy, 0, sizeof(srtp_policy_t));
    memset(key, 0, sizeof(key));

    srtp_crypto_policy_set_null_cipher_hmac_null(&policy.rtp);
    srtp_crypto_policy_set_null_cipher_hmac_null(&policy.rtcp);

    policy.ssrc.type = ssrc_any_outbound;
    policy.key = key;
    policy.window_size = 1024;
    policy.allow_repeat_tx = 1;

    if (srtp_create(&p->srtp_out, &policy) != srtp_err_status_ok) {
        p->srtp_out = NULL;
        goto failed;
    }

    /* the mountpoint's payload types (bench/janus/run-janus) */

    p->audio_pt = 111;
    p->video_pt = 96;
    p->video_codec = NGX_WEBRTC_CODEC_VP8;

    p->state = WL_PEER_CONNECTED;

    /* no ICE: webrtc_load_peer.c must not send consent checks */
    p->consent_next = INT64_MAX;

    wl_stats.pub_connected = 1;

    wl_log("webrtc-load: publisher: plain RTP to %s (Opus pt 111 to port %u,"
           " VP8 pt 96 to port %u)", wl_conf.rtp,
           (unsigned) ntohs(wl_janus_rtp_addr[0].sin_port),
           (unsigned) ntohs(wl_janus_rtp_addr[1].sin_port));

    wl_pub_start(p, now);

    p->timer = now;

    return 0;

failed:

    wl_log("webrtc-load: publisher: cannot set up plain RTP: %s",
           strerror(errno));

    wl_stats.pub_failed++;
    p->state = WL_PEER_FAILED;
    p->fail = WL_FAIL_LOCAL;
    wl_peer_close(p);

    return -1;
}


/*
 * RTP to its port by payload type; RTCP (sender reports) is not sent.
 * The time from the send stamp to here is this hop's share of the
 * viewers' latency: kept, and logged at the end.
 */

static void
wl_janus_relay_input(wl_janus_t *j)
{
    int             i, n, k, round;
    int64_t         now;
    uint64_t        sent;
    u_char         *b;
    u_char          buf[WL_JANUS_RELAY_BATCH][WL_MTU];
    struct iovec    iov[WL_JANUS_RELAY_BATCH];
    struct mmsghdr  msg[WL_JANUS_RELAY_BATCH];

    for (round = 0; round < 8; round++) {

        memset(msg, 0, sizeof(msg));

        for (i = 0; i < WL_JANUS_RELAY_BATCH; i++) {
            iov[i].iov_base = buf[i];
            iov[i].iov_len = WL_MTU;
            msg[i].msg_hdr.msg_iov = &iov[i];
            msg[i].msg_hdr.msg_iovlen = 1;
        }

        n = recvmmsg(j->fd, msg, WL_JANUS_RELAY_BATCH, MSG_DONTWAIT, NULL);

        if (n <= 0) {
            return;
        }

        now = wl_now();

        for (i = 0; i < n; i++) {
            if (msg[i].msg_len < 12 || buf[i][0] < 128 || buf[i][0] > 191
                || ngx_webrtc_is_rtcp(buf[i], msg[i].msg_len))
            {
                continue;
            }

            k = ((buf[i][1] & 0x7f) == j->peer->audio_pt) ? 0 : 1;

            /* the publisher's packets: no CSRC, no extension */

            b = buf[i] + 12 + WL_STAMP_OFFSET;

            if (msg[i].msg_len >= 12 + WL_STAMP_OFFSET + WL_STAMP_LEN
                && ngx_webrtc_get32(b) == WL_STAMP_MAGIC)
            {
                sent = (uint64_t) ngx_webrtc_get32(b + 4) << 32
                       | ngx_webrtc_get32(b + 8);

                if ((uint64_t) now >= sent) {
                    wl_hist_add(&wl_janus_relay_delay,
                                ((uint64_t) now - sent) / 1000);
                }
            }

            if (send(wl_janus_rtp_fd[k], buf[i], msg[i].msg_len,
                     MSG_DONTWAIT)
                != (ssize_t) msg[i].msg_len)
            {
                wl_stats.tx_drops++;
            }
        }

        if (n < WL_JANUS_RELAY_BATCH) {
            return;
        }
    }
}


void
wl_janus_event(void *data)
{
    wl_janus_t  *j = data;

    if (j->kind == WL_JANUS_RELAY) {
        wl_janus_relay_input(j);
    }
}


/* a viewer: its UDP socket, then "create" */

void
wl_janus_start(wl_peer_t *p)
{
    wl_janus_t  *j;

    p->launched = wl_now();
    p->state = WL_PEER_SIGNALING;

    wl_stats.launched++;

    j = calloc(1, sizeof(wl_janus_t));
    if (j == NULL) {
        p->state = WL_PEER_FAILED;
        p->fail = WL_FAIL_LOCAL;
        wl_stats.failed++;
        wl_stats.fail[WL_FAIL_LOCAL]++;
        return;
    }

    j->type = WL_EV_JANUS;
    j->kind = WL_JANUS_VIEWER;
    j->fd = -1;
    j->peer = p;
    j->next = wl_janus_list;
    wl_janus_list = j;

    if (wl_janus_peers == NULL) {
        wl_janus_peers = calloc(wl_conf.viewers + 1, sizeof(wl_janus_t *));
    }

    if (wl_janus_peers && p->index <= wl_conf.viewers) {
        wl_janus_peers[p->index] = j;
    }

    if (wl_janus_udp_socket(p) != 0) {
        wl_janus_fail(j, WL_FAIL_LOCAL, "UDP socket: %s", strerror(errno));
        return;
    }

    j->step = WL_JANUS_CREATE;

    if (wl_janus_post(j, wl_conf.janus_url.path,
                      "{\"janus\":\"create\",\"transaction\":\"c%u\"}",
                      p->index)
        != 0)
    {
        wl_janus_fail(j, WL_FAIL_LOCAL, "cannot start the request: %s",
                      strerror(errno));
    }
}


/* as webrtc_load_peer.c's: on 127.0.0.1, timestamps, drop counter */

static int
wl_janus_udp_socket(wl_peer_t *p)
{
    int                  fd, one, size;
    socklen_t            len;
    struct sockaddr_in   sin;
    struct epoll_event   ee;

    fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        return -1;
    }

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    len = sizeof(sin);

    if (bind(fd, (struct sockaddr *) &sin, sizeof(sin)) == -1
        || getsockname(fd, (struct sockaddr *) &sin, &len) == -1)
    {
        goto failed;
    }

    p->local_port = ntohs(sin.sin_port);

    size = WL_JANUS_RCVBUF;
    (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));

    one = 1;
    (void) setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
    (void) setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));

    /* webrtc_load_peer.c reads it */

    ee.events = EPOLLIN;
    ee.data.ptr = p;

    if (epoll_ctl(wl_epfd, EPOLL_CTL_ADD, fd, &ee) == -1) {
        goto failed;
    }

    p->fd = fd;
    p->drops = 0;

    return 0;

failed:

    close(fd);
    return -1;
}


/* a JSON request of the Janus API, one at a time per viewer */

static int
wl_janus_post(wl_janus_t *j, const char *path, const char *fmt, ...)
{
    int      n;
    va_list  args;

    va_start(args, fmt);
    n = vsnprintf((char *) wl_janus_body, sizeof(wl_janus_body), fmt, args);
    va_end(args);

    if (n < 0 || (size_t) n >= sizeof(wl_janus_body)) {
        errno = ENOMEM;
        return -1;
    }

    j->http = wl_http_request(&wl_conf.janus_url, "POST", path,
                              "application/json", wl_janus_body, n,
                              wl_janus_handler, j);

    return j->http ? 0 : -1;
}


static void
wl_janus_handler(wl_http_t *h, void *data)
{
    wl_janus_t  *j = data;

    char           path[WL_JANUS_PATH], reason[128];
    int64_t        now;
    wl_peer_t     *p;
    const u_char  *b, *end, *v, *e;

    j->http = NULL;
    p = j->peer;

    if (h->error) {
        if (j->step == WL_JANUS_UP) {
            /* a keepalive: the next one may do */
            return;
        }

        wl_janus_fail(j, h->timed_out ? WL_FAIL_HTTP_TIMEOUT : WL_FAIL_HTTP,
                      "Janus API: %s", h->error);
        return;
    }

    if (h->status != 200) {
        wl_stats.http_status[h->status < 600 ? h->status : 0]++;
        wl_janus_fail(j, WL_FAIL_HTTP_STATUS, "Janus API: HTTP %d",
                      h->status);
        return;
    }

    b = h->body;
    end = b + h->body_len;

    v = wl_json_value(b, end, "janus");

    if (v && end - v >= 7 && memcmp(v, "\"error\"", 7) == 0) {
        e = wl_json_value(b, end, "reason");

        if (e == NULL || wl_json_string(e, end, (u_char *) reason,
                                        sizeof(reason)) == 0)
        {
            strcpy(reason, "?");
        }

        wl_janus_fail(j, WL_FAIL_HTTP_STATUS, "Janus API error: %s", reason);
        return;
    }

    if (wl_stopping && !j->destroying) {
        /* too late: only "destroy" is left to do */
        return;
    }

    now = wl_now();

    switch (j->step) {

    case WL_JANUS_CREATE:
    case WL_JANUS_ATTACH:

        v = wl_json_value(b, end, "data");
        v = v ? wl_json_value(v, end, "id") : NULL;

        if (v == NULL || wl_json_u64(v, end,
                                     j->step == WL_JANUS_CREATE ? &j->session
                                                                : &j->handle)
                         != 0)
        {
            wl_janus_fail(j, WL_FAIL_HTTP, "Janus API: no id in the "
                          "response to \"%s\"",
                          j->step == WL_JANUS_CREATE ? "create" : "attach");
            return;
        }

        j->keepalive_next = now + WL_JANUS_KEEPALIVE;

        if (j->step == WL_JANUS_CREATE) {
            j->step = WL_JANUS_ATTACH;

            snprintf(path, sizeof(path), "%s/%" PRIu64,
                     wl_conf.janus_url.path, j->session);

            if (wl_janus_post(j, path,
                              "{\"janus\":\"attach\",\"plugin\":"
                              "\"janus.plugin.streaming\",\"transaction\":"
                              "\"a%u\"}", p->index)
                != 0)
            {
                wl_janus_fail(j, WL_FAIL_LOCAL, "cannot start the request");
            }

            return;
        }

        /* the time to first packet counts from "watch", as for a WHEP POST */

        j->step = WL_JANUS_WATCH;
        p->launched = now;
        j->offer_deadline = now + (int64_t) (wl_conf.http_timeout * WL_SEC);

        snprintf(path, sizeof(path), "%s/%" PRIu64 "/%" PRIu64,
                 wl_conf.janus_url.path, j->session, j->handle);

        if (wl_janus_post(j, path,
                          "{\"janus\":\"message\",\"transaction\":\"w%u\","
                          "\"body\":{\"request\":\"watch\",\"id\":%s%s%s}}",
                          p->index,
                          strspn(wl_conf.mountpoint, "0123456789")
                          == strlen(wl_conf.mountpoint) ? "" : "\"",
                          wl_conf.mountpoint,
                          strspn(wl_conf.mountpoint, "0123456789")
                          == strlen(wl_conf.mountpoint) ? "" : "\"")
            != 0)
        {
            wl_janus_fail(j, WL_FAIL_LOCAL, "cannot start the request");
        }

        return;

    case WL_JANUS_WATCH:

        /* "ack": the offer comes as an event */

        if (wl_json_value(b, end, "jsep")) {
            wl_janus_offer(j, b, end - b);
            return;
        }

        j->step = WL_JANUS_POLL;
        wl_janus_poll(j);
        return;

    case WL_JANUS_POLL:

        if (wl_json_value(b, end, "jsep")) {
            wl_janus_offer(j, b, end - b);
            return;
        }

        v = wl_json_value(b, end, "plugindata");
        v = v ? wl_json_value(v, end, "error") : NULL;

        if (v) {
            if (wl_json_string(v, end, (u_char *) reason, sizeof(reason))
                == 0)
            {
                strcpy(reason, "?");
            }

            wl_janus_fail(j, WL_FAIL_HTTP_STATUS, "streaming plugin: %s",
                          reason);
            return;
        }

        /* another event, or a keepalive of the long poll */

        if (now >= j->offer_deadline) {
            wl_janus_fail(j, WL_FAIL_HTTP_TIMEOUT, "no JSEP offer from "
                          "Janus in %.0f s", wl_conf.http_timeout);
            return;
        }

        wl_janus_poll(j);
        return;

    case WL_JANUS_START:

        /* Janus has our answer (it is processed before the "ack") */

        wl_janus_ice_start(j, now);
        return;

    default:
        /* keepalive */
        return;
    }
}


static void
wl_janus_poll(wl_janus_t *j)
{
    char     path[WL_JANUS_PATH];
    int64_t  left;

    snprintf(path, sizeof(path), "%s/%" PRIu64 "?maxev=1",
             wl_conf.janus_url.path, j->session);

    j->http = wl_http_request(&wl_conf.janus_url, "GET", path, NULL, NULL, 0,
                              wl_janus_handler, j);

    if (j->http == NULL) {
        wl_janus_fail(j, WL_FAIL_LOCAL, "cannot start the long poll");
        return;
    }

    /* the long poll waits no longer than the offer may take */

    left = j->offer_deadline - wl_now();
    j->http->deadline = j->http->started + (left > 0 ? left : 0);
}


/* the event with Janus's offer: answer it with "start" */

static void
wl_janus_offer(wl_janus_t *j, const u_char *json, size_t json_len)
{
    char           path[WL_JANUS_PATH];
    size_t         len, n;
    int64_t        now;
    wl_peer_t     *p;
    const char    *reason;
    const u_char  *end, *v, *sdp;

    p = j->peer;
    end = json + json_len;

    now = wl_now();

    v = wl_json_value(json, end, "jsep");
    sdp = v ? wl_json_value(v, end, "sdp") : NULL;

    if (sdp == NULL) {
        wl_janus_fail(j, WL_FAIL_SDP, "no sdp in Janus's jsep");
        return;
    }

    /* the offer, unescaped, in wl_janus_esc */

    len = wl_json_string(sdp, end, wl_janus_esc, sizeof(wl_janus_esc));

    if (len == 0) {
        wl_janus_fail(j, WL_FAIL_SDP, "malformed or too large JSEP offer");
        return;
    }

    p->answered = now;
    wl_hist_add(&wl_stats.setup_http, (now - p->launched) / 1000);

    /* its ICE credentials, fingerprint, loopback candidate, payload types */

    reason = wl_sdp_answer(p, wl_janus_esc, len);

    if (reason) {
        wl_janus_fail(j, WL_FAIL_SDP, "offer: %s", reason);
        return;
    }

    if (p->remote.ss_family != AF_INET) {
        wl_janus_fail(j, WL_FAIL_SDP, "offer: an IPv6 candidate");
        return;
    }

    len = wl_janus_answer_sdp(p, wl_janus_esc, len, wl_janus_sdp_buf,
                              sizeof(wl_janus_sdp_buf));
    if (len == 0) {
        wl_janus_fail(j, WL_FAIL_SDP, "cannot answer the offer");
        return;
    }

    n = wl_json_escape(wl_janus_sdp_buf, len, wl_janus_esc,
                       sizeof(wl_janus_esc));
    if (n == 0) {
        wl_janus_fail(j, WL_FAIL_LOCAL, "answer too large");
        return;
    }

    if (connect(p->fd, (struct sockaddr *) &p->remote, p->remote_len) == -1)
    {
        wl_janus_fail(j, WL_FAIL_LOCAL, "connect(): %s", strerror(errno));
        return;
    }

    j->step = WL_JANUS_START;

    snprintf(path, sizeof(path), "%s/%" PRIu64 "/%" PRIu64,
             wl_conf.janus_url.path, j->session, j->handle);

    if (wl_janus_post(j, path,
                      "{\"janus\":\"message\",\"transaction\":\"s%u\","
                      "\"body\":{\"request\":\"start\"},"
                      "\"jsep\":{\"type\":\"answer\",\"trickle\":false,"
                      "\"sdp\":\"%.*s\"}}",
                      p->index, (int) n, (char *) wl_janus_esc)
        != 0)
    {
        wl_janus_fail(j, WL_FAIL_LOCAL, "cannot start the request");
    }
}


/*
 * Our answer, as a browser's to the same offer: every m= section
 * accepted with its first media format (not rtx, red, fec), recvonly,
 * rtcp-mux, the mid and abs-send-time header extensions, our ICE
 * credentials, certificate fingerprint, a=setup:active and our host
 * candidate; all candidates in it (a=end-of-candidates).
 */

static size_t
wl_janus_answer_sdp(wl_peer_t *p, const u_char *offer, size_t len,
    u_char *buf, size_t size)
{
    int                       n;
    char                     *out, *last;
    unsigned                  i, k, f;
    ngx_webrtc_sdp_t         *sdp;
    ngx_webrtc_sdp_media_t   *m;
    ngx_webrtc_sdp_format_t  *fmt;
    ngx_webrtc_sdp_extmap_t  *x;

    sdp = &wl_janus_sdp;

    if (ngx_webrtc_sdp_parse(sdp, offer, len, 0) != NGX_WEBRTC_SDP_OK) {
        return 0;
    }

    out = (char *) buf;
    last = (char *) buf + size;

#define WL_PUT(...)                                                          \
    do {                                                                     \
        n = snprintf(out, last - out, __VA_ARGS__);                          \
        if (n < 0 || n >= last - out) {                                      \
            return 0;                                                        \
        }                                                                    \
        out += n;                                                            \
    } while (0)

    WL_PUT("v=0\r\n"
           "o=- %u%u 2 IN IP4 127.0.0.1\r\n"
           "s=-\r\n"
           "t=0 0\r\n",
           (unsigned) wl_random32() >> 1, (unsigned) wl_random32() >> 1);

    for (k = 0; k < sdp->bundle.len && sdp->bundle.data[k] == ' '; k++) {
        /* void */
    }

    if (k < sdp->bundle.len) {
        WL_PUT("a=group:BUNDLE %.*s\r\n", (int) (sdp->bundle.len - k),
               sdp->bundle.data + k);
    }

    WL_PUT("a=msid-semantic: WMS\r\n");

    for (i = 0; i < sdp->nmedia; i++) {
        m = &sdp->media[i];

        for (f = 0; f < m->nformats; f++) {
            switch (m->formats[f].codec) {
            case NGX_WEBRTC_CODEC_UNKNOWN:
            case NGX_WEBRTC_CODEC_RTX:
            case NGX_WEBRTC_CODEC_RED:
            case NGX_WEBRTC_CODEC_ULPFEC:
            case NGX_WEBRTC_CODEC_CN:
            case NGX_WEBRTC_CODEC_TELEPHONE_EVENT:
                continue;
            }

            break;
        }

        if (m->port == 0 || f == m->nformats) {
            /* rejected */
            WL_PUT("m=%.*s 0 %.*s %u\r\n", (int) m->type.len, m->type.data,
                   (int) m->proto.len, m->proto.data,
                   m->nformats ? m->formats[0].pt : 0);

            if (m->mid.len) {
                WL_PUT("a=mid:%.*s\r\n", (int) m->mid.len, m->mid.data);
            }

            continue;
        }

        fmt = &m->formats[f];

        WL_PUT("m=%.*s 9 UDP/TLS/RTP/SAVPF %u\r\n"
               "c=IN IP4 127.0.0.1\r\n"
               "a=rtcp:9 IN IP4 0.0.0.0\r\n",
               (int) m->type.len, m->type.data, fmt->pt);

        if (i == 0) {
            WL_PUT("a=candidate:1 1 udp 2122260223 127.0.0.1 %u typ host"
                   " generation 0\r\n"
                   "a=end-of-candidates\r\n", (unsigned) p->local_port);
        }

        WL_PUT("a=ice-ufrag:%s\r\n"
               "a=ice-pwd:%s\r\n"
               "a=fingerprint:sha-256 %s\r\n"
               "a=setup:active\r\n",
               p->ufrag, p->pwd, wl_fingerprint);

        if (m->mid.len) {
            WL_PUT("a=mid:%.*s\r\n", (int) m->mid.len, m->mid.data);
        }

        for (k = 0; k < m->nextmaps; k++) {
            x = &m->extmaps[k];

            if (x->ext == NGX_WEBRTC_EXT_MID
                || x->ext == NGX_WEBRTC_EXT_ABS_SEND_TIME)
            {
                WL_PUT("a=extmap:%u %.*s\r\n", x->id, (int) x->uri.len,
                       x->uri.data);
            }
        }

        WL_PUT("a=recvonly\r\n"
               "a=rtcp-mux\r\n"
               "a=rtpmap:%u %.*s/%u%s\r\n",
               fmt->pt, (int) fmt->name.len, fmt->name.data, fmt->clock,
               fmt->channels == 2 ? "/2" : "");

        if (m->kind == NGX_WEBRTC_MEDIA_VIDEO) {
            WL_PUT("a=rtcp-fb:%u nack\r\n"
                   "a=rtcp-fb:%u nack pli\r\n"
                   "a=rtcp-fb:%u ccm fir\r\n", fmt->pt, fmt->pt, fmt->pt);
        }

        if (fmt->fmtp.len) {
            WL_PUT("a=fmtp:%u %.*s\r\n", fmt->pt, (int) fmt->fmtp.len,
                   fmt->fmtp.data);
        }
    }

#undef WL_PUT

    return out - (char *) buf;
}


/*
 * Janus knows our answer: ICE, as the controlled agent.  Our check goes
 * out as the triggered check of Janus's first one (RFC 8445, 7.3.1.4),
 * or after WL_JANUS_CHECK_WAIT (half --ice-timeout at most) if none
 * comes.  Janus takes DTLS only once it has selected a pair, which it
 * does when its own (nominating: aggressive nomination is its default)
 * check is answered: a ClientHello sent on the success of an earlier
 * check of ours would be lost and resent only after OpenSSL's 1 s DTLS
 * timer (browsers start at 50 ms), which would be charged to Janus.
 */

static void
wl_janus_ice_start(wl_janus_t *j, int64_t now)
{
    wl_peer_t  *p;

    p = j->peer;

    j->step = WL_JANUS_UP;

    if (p->state != WL_PEER_SIGNALING) {
        return;
    }

    p->state = WL_PEER_ICE;
    p->deadline = now + (int64_t) (wl_conf.ice_timeout * WL_SEC);
    p->rto = 100 * WL_MS;

    if (wl_janus_check(p, 0) != 0) {
        wl_janus_fail(j, WL_FAIL_LOCAL, "cannot create a STUN check");
        return;
    }

    if (j->checked) {
        /* Janus's check came before its "ack" */
        (void) wl_peer_send(p, p->stun, p->stun_len);

        p->stun_tries = 1;
        p->stun_next = now + p->rto;
        p->timer = p->stun_next;

        j->consent_next = 0;
        return;
    }

    /* webrtc_load_peer.c sends it then, and retransmits it */

    p->stun_tries = 0;
    p->stun_next = now + (WL_JANUS_CHECK_WAIT < (p->deadline - now) / 2
                          ? WL_JANUS_CHECK_WAIT : (p->deadline - now) / 2);
    p->timer = p->stun_next;

    j->consent_next = 0;
}


/*
 * A Binding request of the controlled agent, RFC 8445, 7.2.2: USERNAME
 * "remote:local", Janus's password, PRIORITY, ICE-CONTROLLED; no
 * USE-CANDIDATE (Janus nominates).
 */

static int
wl_janus_check(wl_peer_t *p, int send)
{
    return wl_peer_stun_check(p, 0, 0, WL_JANUS_PRIORITY, send);
}


/*
 * From webrtc_load_peer.c, for every STUN message a peer receives: 1 if
 * it was a Binding request (a check of a full ICE agent, Janus's) and is
 * answered or dropped here, 0 for anything else.
 */

int
wl_janus_stun_request(wl_peer_t *p, u_char *buf, size_t len)
{
    bool                   control;
    size_t                 rlen;
    u_char                 reply[576];
    StunMessage            req, msg;
    StunUsageIceReturn     rc;
    StunValidationStatus   valid;

    if (wl_conf.janus == NULL || len < 20
        || (((buf[0] << 8) | buf[1]) & 0x0110) != 0)
    {
        /* not a request */
        return 0;
    }

    if (p->fd == -1 || p->remote_len == 0) {
        return 1;
    }

    valid = stun_agent_validate(&p->agent, &req, buf, len,
                                wl_janus_validater, p);

    if (valid != STUN_VALIDATION_SUCCESS
        || stun_message_get_method(&req) != STUN_BINDING)
    {
        return 1;
    }

    control = false;
    rlen = sizeof(reply);

    rc = stun_usage_ice_conncheck_create_reply(&p->agent, &req, &msg, reply,
                                               &rlen, &p->remote,
                                               p->remote_len, &control,
                                               p->tie,
                                          STUN_USAGE_ICE_COMPATIBILITY_RFC5245);

    if ((rc == STUN_USAGE_ICE_RETURN_SUCCESS
         || rc == STUN_USAGE_ICE_RETURN_ROLE_CONFLICT)
        && rlen > 0)
    {
        (void) wl_peer_send(p, reply, rlen);
    }

    if (rc != STUN_USAGE_ICE_RETURN_SUCCESS) {
        return 1;
    }

    if (wl_janus_peers && p->index <= wl_conf.viewers
        && wl_janus_peers[p->index])
    {
        wl_janus_peers[p->index]->checked = 1;
    }

    if (p->state == WL_PEER_ICE && p->stun_tries == 0) {
        /* the triggered check, see wl_janus_ice_start() */

        (void) wl_peer_send(p, p->stun, p->stun_len);

        p->stun_tries = 1;
        p->stun_next = wl_now() + p->rto;
        p->timer = p->stun_next;
    }

    return 1;
}


/*
 * Janus starts its DTLS server only once it has selected a pair, which
 * it does in its handle's loop after our answer to its nominating check:
 * a ClientHello can come first and be lost.  Browsers resend it soon:
 * WebRTC's first retransmission timeout is twice the ICE RTT, at least
 * 50 ms (kMinDtlsHandshakeTimeoutMs); OpenSSL's default, 1 s, would be
 * charged to Janus.  From webrtc_load_peer.c for every DTLS client;
 * only with --janus (the WHEP viewers of nginx keep OpenSSL's timer).
 */

static unsigned int
wl_janus_dtls_timer_cb(SSL *ssl, unsigned int timer_us)
{
    (void) ssl;

    if (timer_us == 0) {
        return WL_JANUS_DTLS_RTO;
    }

    /* doubled, at most 60 s, as OpenSSL's own */
    return timer_us >= 30000000 ? 60000000 : 2 * timer_us;
}


void
wl_janus_dtls_timer(SSL *ssl)
{
    if (wl_conf.janus) {
        DTLS_set_timer_cb(ssl, wl_janus_dtls_timer_cb);
    }
}


/* USERNAME "our-ufrag:janus-ufrag": our password */

static bool
wl_janus_validater(StunAgent *agent, StunMessage *message, uint8_t *username,
    uint16_t username_len, uint8_t **password, size_t *password_len,
    void *user_data)
{
    wl_peer_t  *p = user_data;

    size_t  n;

    (void) agent;
    (void) message;

    n = strlen(p->ufrag);

    if (username_len <= n || memcmp(username, p->ufrag, n) != 0
        || username[n] != ':')
    {
        return false;
    }

    *password = (uint8_t *) p->pwd;
    *password_len = strlen(p->pwd);

    return true;
}


/*
 * Every WL_TICK: keepalives of the Janus sessions, consent checks of
 * the controlled viewers (webrtc_load_peer.c's are the controlling
 * agent's: they are held back), the offer's deadline.
 */

void
wl_janus_timers(int64_t now)
{
    char         path[WL_JANUS_PATH];
    wl_peer_t   *p;
    wl_janus_t  *j;

    for (j = wl_janus_list; j; j = j->next) {
        p = j->peer;

        if (wl_stopping || p->state == WL_PEER_FAILED
            || p->state == WL_PEER_CLOSED)
        {
            continue;
        }

        if (p->state == WL_PEER_CONNECTED) {

            if (j->consent_next == 0) {
                j->consent_next = now
                         + (int64_t) (wl_conf.consent_interval * WL_SEC);
            }

            /* not webrtc_load_peer.c's, see above */
            p->consent_next = INT64_MAX;

            if (now >= j->consent_next) {
                if (wl_janus_check(p, 1) == 0) {
                    wl_stats.consent_sent++;
                }

                j->consent_next = now
                         + (int64_t) (wl_conf.consent_interval * WL_SEC);
            }
        }

        if (j->step == WL_JANUS_UP && j->http == NULL
            && now >= j->keepalive_next
            && wl_http_active < wl_conf.concurrency)
        {
            j->keepalive_next = now + WL_JANUS_KEEPALIVE;

            snprintf(path, sizeof(path), "%s/%" PRIu64,
                     wl_conf.janus_url.path, j->session);

            (void) wl_janus_post(j, path,
                                 "{\"janus\":\"keepalive\",\"transaction\":"
                                 "\"k%u\"}", p->index);
        }
    }
}


static void
wl_janus_fail(wl_janus_t *j, wl_fail_e reason, const char *fmt, ...)
{
    char        buf[512];
    va_list     args;
    wl_peer_t  *p;

    static unsigned  logged[WL_FAIL_N];

    p = j->peer;

    if (p->state == WL_PEER_FAILED || p->state == WL_PEER_CLOSED) {
        return;
    }

    va_start(args, fmt);
    vsnprintf(buf, sizeof(buf), fmt, args);
    va_end(args);

    wl_stats.failed++;
    wl_stats.fail[reason]++;

    if (logged[reason]++ < 3) {
        wl_log("webrtc-load: viewer %u failed (%s): %s%s", p->index,
               wl_fail_names[reason], buf,
               logged[reason] == 3 ? " (no more of these)" : "");
    }

    p->state = WL_PEER_FAILED;
    p->fail = reason;
    p->failed_at = wl_now();

    /* closes the socket; the session is destroyed at the end */
    wl_peer_close(p);
}


/* "destroy" every session, bounded by --concurrency; 1 when all are done */

int
wl_janus_teardown(void)
{
    int          busy;
    char         path[WL_JANUS_PATH];
    wl_janus_t  *j;

    busy = 0;

    if (wl_conf.rtp && !wl_janus_relay_logged) {
        wl_janus_relay_logged = 1;

        wl_log("webrtc-load: publisher: the relay to Janus's ports added "
               "p50 %.3f p99 %.3f max %.3f ms to the send stamps (%llu "
               "packets)",
               wl_hist_pct(&wl_janus_relay_delay, 0.5) / 1000,
               wl_hist_pct(&wl_janus_relay_delay, 0.99) / 1000,
               wl_janus_relay_delay.max / 1000.0,
               (unsigned long long) wl_janus_relay_delay.count);
    }

    for (j = wl_janus_list; j; j = j->next) {

        if (j->session == 0 || j->destroyed) {
            continue;
        }

        busy = 1;

        if (j->http || j->destroying || wl_http_active >= wl_conf.concurrency)
        {
            continue;
        }

        j->destroying = 1;

        snprintf(path, sizeof(path), "%s/%" PRIu64, wl_conf.janus_url.path,
                 j->session);

        snprintf((char *) wl_janus_body, sizeof(wl_janus_body),
                 "{\"janus\":\"destroy\",\"transaction\":\"d%u\"}",
                 j->peer->index);

        j->http = wl_http_request(&wl_conf.janus_url, "POST", path,
                                  "application/json", wl_janus_body,
                                  strlen((char *) wl_janus_body),
                                  wl_janus_destroyed, j);

        if (j->http == NULL) {
            j->destroyed = 1;
            wl_stats.delete_failed++;
        }
    }

    return !busy;
}


static void
wl_janus_destroyed(wl_http_t *h, void *data)
{
    wl_janus_t  *j = data;

    const u_char  *v;

    j->http = NULL;
    j->destroyed = 1;
    j->step = WL_JANUS_DONE;

    v = (h->error == NULL && h->status == 200)
        ? wl_json_value(h->body, h->body + h->body_len, "janus") : NULL;

    if (v && h->body + h->body_len - v >= 9
        && memcmp(v, "\"success\"", 9) == 0)
    {
        wl_stats.deleted++;
        return;
    }

    if (wl_stats.delete_failed++ < 3) {
        wl_log("webrtc-load: viewer %u: destroy of Janus session %" PRIu64
               ": %s%d", j->peer->index, j->session,
               h->error ? h->error : "HTTP ", h->error ? 0 : h->status);
    }
}


/*
 * A small JSON reader for Janus's replies: the value of the first
 * "key": at or after p (the replies are small and flat enough for this;
 * keys are not looked for inside strings, which are skipped).
 */

static const u_char *
wl_json_value(const u_char *p, const u_char *end, const char *key)
{
    size_t         n;
    const u_char  *s;

    n = strlen(key);

    while (p < end) {

        if (*p != '"') {
            p++;
            continue;
        }

        /* a string: a key if a colon follows */

        s = ++p;

        while (p < end && *p != '"') {
            if (*p == '\\') {
                p++;
            }

            p++;
        }

        if (p >= end) {
            return NULL;
        }

        p++;

        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'
                           || *p == '\n'))
        {
            p++;
        }

        if (p < end && *p == ':') {
            p++;

            while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'
                               || *p == '\n'))
            {
                p++;
            }

            if ((size_t) (p - s) > n && memcmp(s, key, n) == 0
                && s[n] == '"')
            {
                return p;
            }
        }
    }

    return NULL;
}


static int
wl_json_u64(const u_char *p, const u_char *end, uint64_t *v)
{
    uint64_t  n;

    if (p >= end || *p < '0' || *p > '9') {
        return -1;
    }

    for (n = 0; p < end && *p >= '0' && *p <= '9'; p++) {
        n = n * 10 + (*p - '0');
    }

    *v = n;

    return 0;
}


/* a JSON string into buf, NUL-terminated; its length, 0 on error */

static size_t
wl_json_string(const u_char *p, const u_char *end, u_char *buf, size_t size)
{
    u_char    *o, *last;
    unsigned   c, i;

    if (p >= end || *p != '"' || size == 0) {
        return 0;
    }

    p++;
    o = buf;
    last = buf + size - 1;

    while (p < end && *p != '"') {

        if (o == last) {
            return 0;
        }

        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }

        if (++p == end) {
            return 0;
        }

        switch (*p++) {
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case '/': *o++ = '/'; break;
        case '\\': *o++ = '\\'; break;
        case '"': *o++ = '"'; break;

        case 'u':
            if (end - p < 4) {
                return 0;
            }

            for (c = 0, i = 0; i < 4; i++, p++) {
                c <<= 4;

                if (*p >= '0' && *p <= '9') {
                    c |= *p - '0';

                } else if ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'f') {
                    c |= (*p | 0x20) - 'a' + 10;

                } else {
                    return 0;
                }
            }

            /* SDP is ASCII */
            *o++ = (u_char) (c < 0x80 ? c : '?');
            break;

        default:
            return 0;
        }
    }

    if (p == end) {
        return 0;
    }

    *o = '\0';

    return o - buf;
}


static size_t
wl_json_escape(const u_char *p, size_t len, u_char *buf, size_t size)
{
    u_char        *o, *last;
    const u_char  *end;

    o = buf;
    last = buf + size;

    for (end = p + len; p < end; p++) {

        if (last - o < 2) {
            return 0;
        }

        switch (*p) {
        case '\r': *o++ = '\\'; *o++ = 'r'; break;
        case '\n': *o++ = '\\'; *o++ = 'n'; break;
        case '"': *o++ = '\\'; *o++ = '"'; break;
        case '\\': *o++ = '\\'; *o++ = '\\'; break;

        default:
            if (*p < 0x20) {
                continue;
            }

            *o++ = *p;
        }
    }

    return o - buf;
}
