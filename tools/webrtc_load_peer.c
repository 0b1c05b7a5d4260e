
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stun/usages/ice.h>

#include "webrtc_load.h"


/*
 * One peer: signaling (WHIP or WHEP), ICE as the controlling agent,
 * the DTLS client handshake and SRTP, on one connected UDP socket.
 * RFC 7983 demultiplexes what arrives on it by the first byte.
 */


#define WL_DTLS_MTU             1200
#define WL_RECV_BATCH           32
#define WL_RECV_SIZE            2048
#define WL_RCVBUF               (1024 * 1024)
#define WL_RECV_CONTROL         (CMSG_SPACE(sizeof(uint32_t))                 \
                                 + CMSG_SPACE(sizeof(struct timespec)))

#define WL_RTO_MIN              (100 * WL_MS)
#define WL_RTO_MAX              (1600 * WL_MS)

/* RFC 8445, 5.1.2.1: a peer-reflexive candidate, local preference 65535 */
#define WL_ICE_PRIORITY         ((110u << 24) | (65535u << 8) | 255u)

#define WL_SRTP_PROFILES                                                     \
    "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"


static int wl_peer_socket(wl_peer_t *p, int family);
static int wl_peer_move(wl_peer_t *p);
static void wl_peer_answer(wl_http_t *h, void *data);
static void wl_peer_deleted(wl_http_t *h, void *data);
static void wl_peer_release(wl_peer_t *p);
static void wl_peer_set_timer(wl_peer_t *p, int64_t pub_next);

static int wl_ice_check(wl_peer_t *p, int nominate);
static void wl_consent_unanswered(wl_peer_t *p);
static void wl_ice_input(wl_peer_t *p, u_char *buf, size_t len,
    int64_t now, int64_t arrived);

static void wl_dtls_start(wl_peer_t *p, int64_t now);
static void wl_dtls_handshake(wl_peer_t *p, int64_t now);
static void wl_dtls_input(wl_peer_t *p, u_char *buf, size_t len,
    int64_t now);
static void wl_dtls_established(wl_peer_t *p, int64_t now);
static void wl_dtls_set_timer(wl_peer_t *p, int64_t now);
static const char *wl_dtls_error(void);
static int wl_srtp_create(wl_peer_t *p, unsigned long profile,
    u_char *material);

static int wl_verify_cb(int ok, X509_STORE_CTX *store);
static int wl_bio_write(BIO *b, const char *data, int len);
static long wl_bio_ctrl(BIO *b, int cmd, long num, void *ptr);
static int wl_bio_create(BIO *b);


char                    wl_fingerprint[256];

const char             *wl_fail_names[WL_FAIL_N] = {
    "http_status",
    "http_error",
    "http_timeout",
    "sdp",
    "ice_timeout",
    "ice_error",
    "dtls_timeout",
    "dtls_error",
    "fingerprint",
    "srtp",
    "closed",
    "local",
    "stalled"
};

static unsigned         wl_fail_logged[WL_FAIL_N];

static SSL_CTX         *wl_dtls_ctx;
static BIO_METHOD      *wl_bio_method;

static u_char           wl_offer[16384];

static u_char           wl_rbuf[WL_RECV_BATCH][WL_RECV_SIZE];
static u_char           wl_rctl[WL_RECV_BATCH][WL_RECV_CONTROL];
static struct iovec     wl_riov[WL_RECV_BATCH];
static struct mmsghdr   wl_rmsg[WL_RECV_BATCH];


/* comprehension-required attributes of responses must be known */

static const uint16_t  wl_stun_attrs[] = {
    STUN_ATTRIBUTE_MAPPED_ADDRESS,
    STUN_ATTRIBUTE_USERNAME,
    STUN_ATTRIBUTE_MESSAGE_INTEGRITY,
    STUN_ATTRIBUTE_ERROR_CODE,
    STUN_ATTRIBUTE_UNKNOWN_ATTRIBUTES,
    STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS,
    STUN_ATTRIBUTE_PRIORITY,
    STUN_ATTRIBUTE_USE_CANDIDATE,
    STUN_ATTRIBUTE_ICE_CONTROLLED,
    STUN_ATTRIBUTE_ICE_CONTROLLING,
    STUN_ATTRIBUTE_FINGERPRINT,
    0
};


/*
 * Once per process: libsrtp2, an ECDSA P-256 self-signed certificate
 * (its sha-256 fingerprint goes into every offer) and the DTLS context.
 */

int
wl_peer_init(void)
{
    int             i;
    u_char          md[EVP_MAX_MD_SIZE];
    X509           *x;
    EVP_PKEY       *key;
    X509_NAME      *name;
    unsigned int    n;

    if (srtp_init() != srtp_err_status_ok) {
        wl_log("webrtc-load: srtp_init() failed");
        return -1;
    }

    /* the module's SRTP ciphers: OpenSSL's (src/ngx_webrtc_srtp.c) */

    if (ngx_webrtc_srtp_use_openssl() != srtp_err_status_ok) {
        wl_log("webrtc-load: OpenSSL ciphers for SRTP not all loaded, "
               "libsrtp2's own are used");
    }

    key = EVP_EC_gen("P-256");
    x = X509_new();

    if (key == NULL || x == NULL) {
        goto failed;
    }

    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), wl_random32() & 0x7fffffff);
    X509_gmtime_adj(X509_getm_notBefore(x), -86400);
    X509_gmtime_adj(X509_getm_notAfter(x), 30 * 86400);
    X509_set_pubkey(x, key);

    name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (u_char *) "webrtc-load", -1, -1, 0);
    X509_set_issuer_name(x, name);

    if (X509_sign(x, key, EVP_sha256()) == 0
        || X509_digest(x, EVP_sha256(), md, &n) != 1 || n != 32)
    {
        goto failed;
    }

    /*
     * "$f" follows "a=fingerprint:sha-256 " in the offers; --fingerprint
     * adds a sha-1 line after it, and "weak" spoils the sha-256 one: the
     * server checks the strongest hash function (RFC 8122, 5)
     */

    if (wl_conf.fingerprint && strcmp(wl_conf.fingerprint, "weak") == 0) {
        md[0] ^= 0xff;
    }

    for (i = 0; i < 32; i++) {
        sprintf(wl_fingerprint + i * 3, "%02X%s", md[i], i < 31 ? ":" : "");
    }

    if (wl_conf.fingerprint && strcmp(wl_conf.fingerprint, "sha-256") != 0) {
        if (X509_digest(x, EVP_sha1(), md, &n) != 1 || n != 20) {
            goto failed;
        }

        strcat(wl_fingerprint, "\r\na=fingerprint:sha-1 ");

        for (i = 0; i < 20; i++) {
            sprintf(wl_fingerprint + strlen(wl_fingerprint), "%02X%s", md[i],
                    i < 19 ? ":" : "");
        }
    }

    wl_dtls_ctx = SSL_CTX_new(DTLS_client_method());
    if (wl_dtls_ctx == NULL) {
        goto failed;
    }

    SSL_CTX_set_min_proto_version(wl_dtls_ctx, DTLS1_2_VERSION);

    if (SSL_CTX_use_certificate(wl_dtls_ctx, x) != 1
        || SSL_CTX_use_PrivateKey(wl_dtls_ctx, key) != 1)
    {
        goto failed;
    }

    /* RFC 8827, 6.5: ECDHE-ECDSA with AES-GCM first, as browsers */

    if (SSL_CTX_set_cipher_list(wl_dtls_ctx,
                                wl_conf.dtls_ciphers
                                ? wl_conf.dtls_ciphers
                                : "ECDHE-ECDSA-AES128-GCM-SHA256:"
                                  "ECDHE-ECDSA-AES256-GCM-SHA384:"
                                  "ECDHE-ECDSA-CHACHA20-POLY1305:"
                                  "ECDHE-RSA-AES128-GCM-SHA256:"
                                  "ECDHE-RSA-AES256-GCM-SHA384")
        != 1)
    {
        goto failed;
    }

    /* returns 0 on success */

    if (SSL_CTX_set_tlsext_use_srtp(wl_dtls_ctx,
                                    wl_conf.srtp_profiles
                                    ? wl_conf.srtp_profiles
                                    : WL_SRTP_PROFILES)
        != 0)
    {
        wl_log("webrtc-load: bad SRTP profiles");
        goto failed;
    }

    /* the certificate is checked against the answer's a=fingerprint */

    SSL_CTX_set_verify(wl_dtls_ctx, SSL_VERIFY_PEER, wl_verify_cb);
    SSL_CTX_set_options(wl_dtls_ctx, SSL_OP_NO_QUERY_MTU);
    SSL_CTX_set_read_ahead(wl_dtls_ctx, 1);

    wl_bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
                                 "webrtc-load datagram");
    if (wl_bio_method == NULL) {
        goto failed;
    }

    BIO_meth_set_write(wl_bio_method, wl_bio_write);
    BIO_meth_set_ctrl(wl_bio_method, wl_bio_ctrl);
    BIO_meth_set_create(wl_bio_method, wl_bio_create);

    X509_free(x);
    EVP_PKEY_free(key);

    for (i = 0; i < WL_RECV_BATCH; i++) {
        wl_riov[i].iov_base = wl_rbuf[i];
        wl_riov[i].iov_len = WL_RECV_SIZE;
    }

    return 0;

failed:

    wl_log("webrtc-load: DTLS setup failed: %s", wl_dtls_error());

    X509_free(x);
    EVP_PKEY_free(key);

    return -1;
}


wl_peer_t *
wl_peer_create(wl_role_e role, unsigned index)
{
    u_char      r[8];
    wl_pub_t   *pub;
    wl_peer_t  *p;

    p = calloc(1, sizeof(wl_peer_t));
    if (p == NULL) {
        return NULL;
    }

    p->type = WL_EV_PEER;
    p->fd = -1;
    p->role = role;
    p->index = index;

    wl_sdp_ice_chars(p->ufrag, WL_UFRAG_LEN);
    wl_sdp_ice_chars(p->pwd, WL_PWD_LEN);

    wl_random_fill(r, sizeof(r));
    memcpy(&p->tie, r, sizeof(r));

    stun_agent_init(&p->agent, wl_stun_attrs, STUN_COMPATIBILITY_RFC5389,
                    STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS
                    | STUN_AGENT_USAGE_USE_FINGERPRINT);

    if (role == WL_ROLE_PUBLISHER) {
        pub = calloc(1, sizeof(wl_pub_t));
        if (pub == NULL) {
            free(p);
            return NULL;
        }

        pub->video_ssrc = wl_random32() | 1;
        pub->audio_ssrc = wl_random32() | 1;
        pub->rtx_ssrc = wl_random32() | 1;
        pub->video_seq = (uint16_t) wl_random32();
        pub->audio_seq = (uint16_t) wl_random32();
        pub->video_ts0 = wl_random32();
        pub->audio_ts0 = wl_random32();
        pub->picture_id = (uint16_t) (wl_random32() & 0x7fff);

        wl_dup_init(pub);

        p->pub = pub;
    }

    if (wl_mutate_peer(p) != 0 || wl_tcp_create(p) != 0) {
        free(p->mutate);
        free(p->pub);
        free(p);
        return NULL;
    }

    return p;
}


/* a new local port for an established peer: a nominating check from it */

static int
wl_peer_move(wl_peer_t *p)
{
    unsigned  old;

    old = p->local_port;

    close(p->fd);
    p->fd = -1;

    if (wl_peer_socket(p, p->remote.ss_family) != 0
        || connect(p->fd, (struct sockaddr *) &p->remote, p->remote_len)
           == -1)
    {
        return -1;
    }

    wl_log("webrtc-load: viewer %u moved from port %u to %u", p->index,
           old, (unsigned) p->local_port);

    return wl_ice_check(p, 1);
}


static int
wl_peer_socket(wl_peer_t *p, int family)
{
    int                   fd, one, size;
    socklen_t             len;
    struct epoll_event    ee;
    struct sockaddr_in6   sin6;
    struct sockaddr_in    sin;

    fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        return -1;
    }

    if (family == AF_INET) {
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

        if (p->index == 0 && p->role == WL_ROLE_VIEWER) {
            sin.sin_port = htons((uint16_t) wl_conf.local_port);
        }

        if (bind(fd, (struct sockaddr *) &sin, sizeof(sin)) == -1) {
            goto failed;
        }

        len = sizeof(sin);

        if (getsockname(fd, (struct sockaddr *) &sin, &len) == -1) {
            goto failed;
        }

        p->local_port = ntohs(sin.sin_port);

    } else {
        memset(&sin6, 0, sizeof(sin6));
        sin6.sin6_family = AF_INET6;
        sin6.sin6_addr = in6addr_loopback;

        if (bind(fd, (struct sockaddr *) &sin6, sizeof(sin6)) == -1) {
            goto failed;
        }

        len = sizeof(sin6);

        if (getsockname(fd, (struct sockaddr *) &sin6, &len) == -1) {
            goto failed;
        }

        p->local_port = ntohs(sin6.sin6_port);
    }

    /* key frames arrive in bursts; drops are counted, see SO_RXQ_OVFL */

    size = WL_RCVBUF;
    (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));

    one = 1;
    (void) setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));

    /*
     * the kernel's arrival time of each datagram: latency is measured to
     * it, so that our own queueing (a busy load generator) is apart
     */

    (void) setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));

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


/* WHIP or WHEP: POST the offer */

void
wl_peer_start(wl_peer_t *p)
{
    size_t           len;
    const wl_url_t  *u;

    p->launched = wl_now();
    p->state = WL_PEER_SIGNALING;

    if (p->role == WL_ROLE_VIEWER) {
        wl_stats.launched++;
    }

    if (wl_peer_socket(p, AF_INET) != 0) {
        wl_peer_fail(p, WL_FAIL_LOCAL, "UDP socket: %s", strerror(errno));
        return;
    }

    len = wl_sdp_offer(p, wl_offer, sizeof(wl_offer));
    if (len == 0) {
        wl_peer_fail(p, WL_FAIL_LOCAL, "offer too large");
        return;
    }

    u = (p->role == WL_ROLE_PUBLISHER) ? &wl_conf.whip_url
                                       : &wl_conf.whep_url;

    p->http = wl_http_request(u, "POST", u->path, "application/sdp",
                              wl_offer, len, wl_peer_answer, p);

    if (p->http == NULL) {
        wl_peer_fail(p, WL_FAIL_LOCAL, "cannot start the POST: %s",
                     strerror(errno));
    }
}


static void
wl_peer_answer(wl_http_t *h, void *data)
{
    wl_peer_t  *p = data;

    char        *e;
    int64_t      now;
    const char  *reason;

    p->http = NULL;

    if (h->error) {
        wl_peer_fail(p, h->timed_out ? WL_FAIL_HTTP_TIMEOUT : WL_FAIL_HTTP,
                     "POST: %s", h->error);
        return;
    }

    if (h->status != 201) {
        if (p->role == WL_ROLE_VIEWER) {
            wl_stats.http_status[h->status]++;
        }

        /* the module's errors are one line of text */

        e = memchr(h->body, '\n', h->body_len);

        wl_peer_fail(p, WL_FAIL_HTTP_STATUS, "POST: HTTP %d %.*s",
                     h->status,
                     (int) (e ? (size_t) (e - (char *) h->body)
                              : (h->body_len > 100 ? 100 : h->body_len)),
                     (char *) h->body);
        return;
    }

    now = wl_now();

    p->answered = now;

    if (p->role == WL_ROLE_VIEWER) {
        wl_hist_add(&wl_stats.setup_http, (now - p->launched) / 1000);
    }

    snprintf(p->location, sizeof(p->location), "%s", h->location);

    if (p->location[0] == '\0') {
        wl_log("webrtc-load: %s %u: 201 without Location",
               p->role == WL_ROLE_PUBLISHER ? "publisher" : "viewer",
               p->index);
    }

    if (wl_stopping) {
        /* too late: only the DELETE is left to do */
        p->state = WL_PEER_CLOSED;
        wl_peer_release(p);
        return;
    }

    reason = wl_sdp_answer(p, h->body, h->body_len);

    if (reason) {
        wl_peer_fail(p, WL_FAIL_SDP, "answer: %s", reason);
        return;
    }

    if (p->tcp) {
        if (wl_tcp_connect(p) != 0) {
            wl_peer_fail(p, WL_FAIL_LOCAL, "TCP socket: %s", strerror(errno));
            return;
        }

    } else if (p->remote.ss_family != AF_INET) {
        close(p->fd);
        p->fd = -1;

        if (wl_peer_socket(p, p->remote.ss_family) != 0) {
            wl_peer_fail(p, WL_FAIL_LOCAL, "UDP socket: %s",
                         strerror(errno));
            return;
        }
    }

    if (p->tcp == NULL
        && connect(p->fd, (struct sockaddr *) &p->remote, p->remote_len)
           == -1)
    {
        wl_peer_fail(p, WL_FAIL_LOCAL, "connect(): %s", strerror(errno));
        return;
    }

    /* RFC 8445, 7.2.4 and 8.1.1: the controlling agent nominates */

    p->state = WL_PEER_ICE;
    p->deadline = now + (int64_t) (wl_conf.ice_timeout * WL_SEC);
    p->rto = WL_RTO_MIN;

    if (wl_ice_check(p, 1) != 0) {
        wl_peer_fail(p, WL_FAIL_LOCAL, "cannot create a STUN check");
        return;
    }

    p->stun_tries = 1;
    p->stun_next = now + p->rto;

    wl_peer_set_timer(p, 0);
}


void
wl_peer_event(wl_peer_t *p)
{
    int               i, n, round;
    int64_t           now, offset, arrived;
    uint32_t          drops;
    struct msghdr    *msg;
    struct cmsghdr   *cmsg;
    struct timespec   ts;

    if (p->tcp) {
        wl_tcp_event(p);
        return;
    }

    for (round = 0; round < 8 && p->fd != -1; round++) {

        for (i = 0; i < WL_RECV_BATCH; i++) {
            msg = &wl_rmsg[i].msg_hdr;
            msg->msg_name = NULL;
            msg->msg_namelen = 0;
            msg->msg_iov = &wl_riov[i];
            msg->msg_iovlen = 1;
            msg->msg_control = wl_rctl[i];
            msg->msg_controllen = sizeof(wl_rctl[i]);
            msg->msg_flags = 0;
        }

        n = recvmmsg(p->fd, wl_rmsg, WL_RECV_BATCH, MSG_DONTWAIT, NULL);

        if (n == -1) {
            if (errno == ECONNREFUSED && p->state == WL_PEER_CONNECTED
                && !wl_stopping)
            {
                wl_peer_fail(p, WL_FAIL_CLOSED,
                             "the server's UDP port is closed");
            }

            return;
        }

        now = wl_now();

        /* SO_TIMESTAMPNS is CLOCK_REALTIME, send times CLOCK_MONOTONIC */

        clock_gettime(CLOCK_REALTIME, &ts);
        offset = (int64_t) ts.tv_sec * WL_SEC + ts.tv_nsec - wl_now();

        for (i = 0; i < n && p->fd != -1; i++) {
            msg = &wl_rmsg[i].msg_hdr;
            arrived = now;

            for (cmsg = CMSG_FIRSTHDR(msg);
                 cmsg;
                 cmsg = CMSG_NXTHDR(msg, cmsg))
            {
                if (cmsg->cmsg_level == SOL_SOCKET
                    && cmsg->cmsg_type == SO_RXQ_OVFL)
                {
                    memcpy(&drops, CMSG_DATA(cmsg), sizeof(uint32_t));

                    if (drops > p->drops) {
                        wl_stats.client_drops += drops - p->drops;
                        p->drops = drops;
                    }

                } else if (cmsg->cmsg_level == SOL_SOCKET
                           && cmsg->cmsg_type == SCM_TIMESTAMPNS)
                {
                    memcpy(&ts, CMSG_DATA(cmsg), sizeof(struct timespec));
                    arrived = (int64_t) ts.tv_sec * WL_SEC + ts.tv_nsec
                              - offset;

                    if (arrived > now) {
                        arrived = now;
                    }
                }
            }

            wl_peer_input(p, wl_rbuf[i], wl_rmsg[i].msg_len, now, arrived);
        }

        if (n < WL_RECV_BATCH) {
            return;
        }
    }
}


/* RFC 7983, 7: STUN 0-3, DTLS 20-63, RTP and RTCP 128-191 */

void
wl_peer_input(wl_peer_t *p, u_char *buf, size_t len, int64_t now,
    int64_t arrived)
{
    int                 n;
    srtp_err_status_t   rc;

    if (p->role == WL_ROLE_VIEWER) {
        wl_stats.rx_datagrams++;
        wl_stats.rx_bytes += len;
    }

    if (len == 0) {
        return;
    }

    if (buf[0] < 4) {
        wl_ice_input(p, buf, len, now, arrived);
        return;
    }

    if (buf[0] >= 20 && buf[0] <= 63) {
        wl_dtls_input(p, buf, len, now);
        return;
    }

    if (buf[0] < 128 || buf[0] > 191 || p->srtp_in == NULL) {
        return;
    }

    n = (int) len;

    if (ngx_webrtc_is_rtcp(buf, len)) {
        rc = srtp_unprotect_rtcp(p->srtp_in, buf, &n);

        if (rc != srtp_err_status_ok) {
            wl_stats.decrypt_errors++;
            p->decrypt_errors++;
            return;
        }

        if (p->role == WL_ROLE_PUBLISHER) {
            wl_pub_rtcp(p, buf, n);
            wl_mutate_media(p);

        } else {
            wl_stats.rtcp_packets++;
            wl_view_sr(p, buf, n);
        }

        return;
    }

    if (wl_conf.index_check && p->role == WL_ROLE_VIEWER) {
        wl_index_check(p, buf, len);
    }

    rc = srtp_unprotect(p->srtp_in, buf, &n);

    if (rc != srtp_err_status_ok) {
        wl_stats.decrypt_errors++;
        p->decrypt_errors++;
        return;
    }

    if (p->role == WL_ROLE_VIEWER) {
        wl_view_rtp(p, buf, n, now, arrived);

        if (p->stall_done && p->stall_key == 0) {
            wl_tcp_rtp(p, buf, n, arrived);
        }
    }
}


void
wl_peer_timer(wl_peer_t *p, int64_t now)
{
    int64_t  pub_next;

    pub_next = 0;

    switch (p->state) {

    case WL_PEER_ICE:
        if (now >= p->deadline) {
            wl_peer_fail(p, WL_FAIL_ICE_TIMEOUT,
                         "no answer to %u connectivity checks",
                         p->stun_tries);
            return;
        }

        if (now >= p->stun_next) {
            /*
             * RFC 8489, 6.2.1: the same transaction, a longer RTO; over
             * TCP a request is not retransmitted (6.2.2), only waited for
             */
            if (p->tcp == NULL) {
                (void) wl_peer_send(p, p->stun, p->stun_len);
            }

            p->stun_tries++;
            p->rto = p->rto * 2 > WL_RTO_MAX ? WL_RTO_MAX : p->rto * 2;
            p->stun_next = now + p->rto;
        }

        break;

    case WL_PEER_DTLS:
        if (now >= p->deadline) {
            wl_peer_fail(p, WL_FAIL_DTLS_TIMEOUT, "DTLS handshake timed out");
            return;
        }

        if (p->dtls_next && now >= p->dtls_next) {
            ERR_clear_error();

            if (DTLSv1_handle_timeout(p->ssl) < 0) {
                wl_peer_fail(p, WL_FAIL_DTLS, "DTLS retransmission: %s",
                             wl_dtls_error());
                return;
            }

            wl_dtls_set_timer(p, now);
            return;
        }

        break;

    case WL_PEER_CONNECTED:

        /*
         * RFC 7675, 5.1: consent freshness; a check without a valid
         * response in WL_CONSENT_WAIT is counted as unanswered (once):
         * a response tells by its arrival time; without one, it is
         * given up another WL_CONSENT_WAIT later (our own queueing)
         */

        if (p->consent_deadline
            && now >= p->consent_deadline + WL_CONSENT_WAIT)
        {
            wl_consent_unanswered(p);
        }

        if (now >= p->consent_next) {
            if (p->consent_deadline) {
                /* given up by the next check before its deadline */
                wl_consent_unanswered(p);
            }

            if (wl_ice_check(p, 0) == 0) {
                p->consent_deadline = now + WL_CONSENT_WAIT;

                if (p->role == WL_ROLE_VIEWER) {
                    wl_stats.consent_sent++;
                    p->consent_sent++;
                }
            }

            p->consent_next = now
                         + (int64_t) (wl_conf.consent_interval * WL_SEC);
        }

        /*
         * --move-every: the old port is gone, as on a network change; the
         * server moves the path on the RTCP that follows the check
         */

        if (p->role == WL_ROLE_VIEWER && wl_conf.move_every
            && now >= p->move_next)
        {
            p->move_next = now + (int64_t) (wl_conf.move_every * WL_SEC);

            if (wl_peer_move(p) != 0) {
                wl_peer_fail(p, WL_FAIL_LOCAL, "UDP socket: %s",
                             strerror(errno));
                return;
            }

            p->rr_next = now;
        }

        /* a receiver's RTCP each second, as browsers send */

        if (p->role == WL_ROLE_VIEWER && !wl_conf.no_rtcp
            && now >= p->rr_next)
        {
            wl_view_rr(p);
            p->rr_next = now + (wl_conf.pli_flood ? WL_SEC / 50 : WL_SEC);
        }

        if (p->pub) {
            pub_next = wl_pub_timer(p, now);
        }

        break;

    default:
        p->timer = 0;
        return;
    }

    wl_peer_set_timer(p, pub_next);
}


static void
wl_peer_set_timer(wl_peer_t *p, int64_t pub_next)
{
    int64_t  t;

    switch (p->state) {

    case WL_PEER_ICE:
        t = p->stun_next < p->deadline ? p->stun_next : p->deadline;
        break;

    case WL_PEER_DTLS:
        t = (p->dtls_next && p->dtls_next < p->deadline) ? p->dtls_next
                                                         : p->deadline;
        break;

    case WL_PEER_CONNECTED:
        t = p->consent_next;

        if (p->consent_deadline
            && p->consent_deadline + WL_CONSENT_WAIT < t)
        {
            t = p->consent_deadline + WL_CONSENT_WAIT;
        }

        if (p->role == WL_ROLE_VIEWER && !wl_conf.no_rtcp && p->rr_next < t)
        {
            t = p->rr_next;
        }

        if (p->role == WL_ROLE_VIEWER && wl_conf.move_every
            && p->move_next < t)
        {
            t = p->move_next;
        }

        if (pub_next && pub_next < t) {
            t = pub_next;
        }

        break;

    default:
        t = 0;
    }

    p->timer = t;
}


ssize_t
wl_peer_send(wl_peer_t *p, const u_char *buf, size_t len)
{
    if (p->fd == -1) {
        return -1;
    }

    if (p->tcp) {
        return wl_tcp_send(p, buf, len);
    }

    return send(p->fd, buf, len, MSG_DONTWAIT);
}


/* a DELETE of the session resource; 1 if it started */

int
wl_peer_delete(wl_peer_t *p)
{
    char             path[WL_URL_LEN], *slash;
    wl_url_t         u;
    const wl_url_t  *base;

    if (p->location[0] == '\0' || p->deleting || p->http) {
        return 0;
    }

    p->deleting = 1;

    base = (p->role == WL_ROLE_PUBLISHER) ? &wl_conf.whip_url
                                          : &wl_conf.whep_url;

    if (strncasecmp(p->location, "http://", 7) == 0
        || strncasecmp(p->location, "https://", 8) == 0)
    {
        if (wl_url_parse(&u, p->location) != 0) {
            wl_log("webrtc-load: Location \"%s\" refused: only loopback "
                   "URLs are requested", p->location);
            wl_stats.delete_failed++;
            return 0;
        }

        snprintf(path, sizeof(path), "%s", u.path);

    } else if (p->location[0] == '/') {
        u = *base;
        snprintf(path, sizeof(path), "%s", p->location);

    } else {
        /* RFC 3986, 5.2.3: relative to the endpoint's directory */
        u = *base;
        slash = strrchr(u.path, '/');
        snprintf(path, sizeof(path), "%.*s/%s",
                 (int) (slash ? slash - u.path : 0), u.path, p->location);
    }

    p->http = wl_http_request(&u, "DELETE", path, NULL, NULL, 0,
                              wl_peer_deleted, p);

    if (p->http == NULL) {
        wl_stats.delete_failed++;
        p->deleted = 1;
        return 0;
    }

    return 1;
}


static void
wl_peer_deleted(wl_http_t *h, void *data)
{
    wl_peer_t  *p = data;

    p->http = NULL;
    p->deleted = 1;

    if (p->tcp && p->fd != -1) {
        close(p->fd);
        p->fd = -1;
    }

    if (h->error == NULL && h->status >= 200 && h->status < 300) {
        if (p->role == WL_ROLE_VIEWER) {
            wl_stats.deleted++;
        }

        return;
    }

    if (p->role == WL_ROLE_VIEWER) {
        wl_stats.delete_failed++;
    }

    if (p->role == WL_ROLE_PUBLISHER || wl_stats.delete_failed <= 3) {
        wl_log("webrtc-load: %s %u: DELETE %s: %s%d",
               p->role == WL_ROLE_PUBLISHER ? "publisher" : "viewer",
               p->index, p->location, h->error ? h->error : "HTTP ",
               h->error ? 0 : h->status);
    }
}


void
wl_peer_close(wl_peer_t *p)
{
    if (p->state == WL_PEER_CONNECTED && p->role == WL_ROLE_PUBLISHER) {
        wl_stats.pub_connected = 0;
    }

    if (p->state != WL_PEER_FAILED) {
        p->state = WL_PEER_CLOSED;
    }

    wl_peer_release(p);
}


/*
 * As a browser's pc.close(): a DTLS close_notify.  A copy with a broken
 * authentication tag goes first, as one forged on the path would: the
 * server must ignore it and close on the real one.  0 if it was sent.
 */

int
wl_peer_close_notify(wl_peer_t *p)
{
    u_char  buf[WL_RTCP_MAX];

    p->capture = buf;
    p->capture_len = 0;

    ERR_clear_error();
    (void) SSL_shutdown(p->ssl);

    p->capture = NULL;

    if (p->capture_len == 0) {
        return -1;
    }

    buf[p->capture_len - 1] ^= 0x01;
    (void) wl_peer_send(p, buf, p->capture_len);

    buf[p->capture_len - 1] ^= 0x01;

    if (wl_peer_send(p, buf, p->capture_len) <= 0) {
        return -1;
    }

    wl_stats.close_notify++;

    return 0;
}


void
wl_peer_fail(wl_peer_t *p, wl_fail_e reason, const char *fmt, ...)
{
    char     buf[512];
    va_list  args;

    if (p->state == WL_PEER_FAILED || p->state == WL_PEER_CLOSED) {
        return;
    }

    va_start(args, fmt);
    vsnprintf(buf, sizeof(buf), fmt, args);
    va_end(args);

    if (p->role == WL_ROLE_VIEWER) {
        wl_stats.failed++;
        wl_stats.fail[reason]++;

        if (wl_fail_logged[reason]++ < 3) {
            wl_log("webrtc-load: viewer %u failed (%s): %s%s", p->index,
                   wl_fail_names[reason], buf,
                   wl_fail_logged[reason] == 3 ? " (no more of these)" : "");
        }

    } else {
        if (p->state == WL_PEER_CONNECTED) {
            wl_stats.pub_connected = 0;
        }

        wl_stats.pub_failed++;
        wl_log("webrtc-load: publisher failed (%s): %s",
               wl_fail_names[reason], buf);
    }

    p->state = WL_PEER_FAILED;
    p->fail = reason;
    p->failed_at = wl_now();

    wl_peer_release(p);
}


static void
wl_peer_release(wl_peer_t *p)
{
    if (p->ssl) {
        SSL_free(p->ssl);
        p->ssl = NULL;
        p->rbio = NULL;
    }

    if (p->srtp_in) {
        srtp_dealloc(p->srtp_in);
        p->srtp_in = NULL;
    }

    if (p->srtp_out) {
        srtp_dealloc(p->srtp_out);
        p->srtp_out = NULL;
    }

    if (p->fd != -1) {
        if (p->tcp && p->state == WL_PEER_CLOSED && p->location[0]
            && !p->deleted)
        {
            /*
             * ICE-TCP: the server ends the session with the connection,
             * which is kept (not read) until the DELETE is answered
             */
            wl_tcp_linger(p);

        } else {
            close(p->fd);
            p->fd = -1;
        }
    }

    p->timer = 0;
}


/*
 * A Binding request, RFC 8445, 7.2.2: USERNAME "remote:local", the
 * server's password, PRIORITY, ICE-CONTROLLING with our tie-breaker,
 * USE-CANDIDATE when nominating.
 */

static void
wl_consent_unanswered(wl_peer_t *p)
{
    int  excused;

    excused = wl_tcp_consent_excused(p);

    p->consent_deadline = 0;

    if (excused) {
        /* a --tcp-stall viewer that did not read its socket then */
        wl_stats.stall_consent++;

    } else if (p->role == WL_ROLE_VIEWER) {
        wl_stats.consent_unanswered++;
        p->consent_unanswered++;

    } else {
        wl_stats.pub_consent_unanswered++;
    }
}


/*
 * When the run ends: a viewer whose RTP stopped (or never came) over
 * WL_STALL ago while its publisher is live was not served to the end:
 * it failed.  1 if so.
 */

int
wl_view_stalled(wl_peer_t *p, int64_t now)
{
    int64_t  gap;

    if (p->role != WL_ROLE_VIEWER || p->state != WL_PEER_CONNECTED
        || !wl_publisher_live())
    {
        return 0;
    }

    gap = now - p->last_rtp;

    if (gap <= WL_STALL) {
        return 0;
    }

    wl_view_gap(p, gap);
    wl_marks_gap(p, p->last_rtp, now, 0);
    wl_peer_fail(p, WL_FAIL_STALLED, "%s RTP for %.1f s when the run ended",
                 p->got_first ? "no" : "never any", gap / 1e9);

    return 1;
}


static int
wl_ice_check(wl_peer_t *p, int nominate)
{
    return wl_peer_stun_check(p, nominate, 1, WL_ICE_PRIORITY, 1);
}


/*
 * A Binding request of either role into p->stun (an unanswered one is
 * given up), sent if asked; 0 or -1
 */

int
wl_peer_stun_check(wl_peer_t *p, int nominate, int controlling,
    uint32_t priority, int send)
{
    int                ulen;
    char               username[2 * NGX_WEBRTC_SDP_ICE_MAX + 2];
    size_t             len;
    StunMessage        msg;
    StunTransactionId  id;

    if (p->stun_pending) {
        memcpy(id, p->stun + STUN_MESSAGE_TRANS_ID_POS,
               STUN_MESSAGE_TRANS_ID_LEN);
        (void) stun_agent_forget_transaction(&p->agent, id);
        p->stun_pending = 0;
    }

    ulen = snprintf(username, sizeof(username), "%s:%s", p->remote_ufrag,
                    p->ufrag);

    len = stun_usage_ice_conncheck_create(&p->agent, &msg, p->stun,
                                          sizeof(p->stun),
                                          (uint8_t *) username, ulen,
                                          (uint8_t *) p->remote_pwd,
                                          strlen(p->remote_pwd),
                                          nominate, controlling, priority,
                                          p->tie, NULL,
                                          STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
    if (len == 0) {
        return -1;
    }

    p->stun_len = len;
    p->stun_pending = 1;

    if (send) {
        (void) wl_peer_send(p, p->stun, len);
    }

    return 0;
}


static void
wl_ice_input(wl_peer_t *p, u_char *buf, size_t len, int64_t now,
    int64_t arrived)
{
    socklen_t                 alen;
    StunClass                 cls;
    StunMessage               msg;
    StunUsageIceReturn        rc;
    StunValidationStatus      valid;
    struct sockaddr_storage   addr;

    /* the checks of a full ICE agent (Janus) */

    if (wl_janus_stun_request(p, buf, len)) {
        return;
    }

    /*
     * responses are matched to our transactions and checked with the
     * server's password; late answers to retransmissions are unmatched
     */

    valid = stun_agent_validate(&p->agent, &msg, buf, len, NULL, NULL);

    if (valid != STUN_VALIDATION_SUCCESS) {
        return;
    }

    cls = stun_message_get_class(&msg);

    if (cls != STUN_RESPONSE && cls != STUN_ERROR) {
        /* an ICE lite server sends no checks */
        return;
    }

    alen = sizeof(addr);
    rc = stun_usage_ice_conncheck_process(&msg, &addr, &alen,
                                          STUN_USAGE_ICE_COMPATIBILITY_RFC5245);

    p->stun_pending = 0;

    if (p->state == WL_PEER_ICE) {

        if (rc == STUN_USAGE_ICE_RETURN_SUCCESS) {
            p->ice_done = now;

            if (p->role == WL_ROLE_VIEWER) {
                wl_hist_add(&wl_stats.setup_ice, (now - p->answered) / 1000);
            }

            wl_dtls_start(p, now);
            return;
        }

        wl_peer_fail(p, WL_FAIL_ICE, "%s",
                     rc == STUN_USAGE_ICE_RETURN_ROLE_CONFLICT
                     ? "487 Role Conflict" : "error response to the check");
        return;
    }

    if (p->state == WL_PEER_CONNECTED && rc == STUN_USAGE_ICE_RETURN_SUCCESS) {
        if (p->role == WL_ROLE_VIEWER) {
            wl_stats.consent_ok++;
            p->consent_ok++;
        }

        if (p->consent_deadline) {
            /* late or not by the kernel's arrival time, not by ours */

            if (arrived > p->consent_deadline) {
                wl_consent_unanswered(p);
            }

            p->consent_deadline = 0;
        }

        wl_mutate_consent(p);
    }
}


/* RFC 5763, 5: the server answered a=setup:passive, we are the client */

static void
wl_dtls_start(wl_peer_t *p, int64_t now)
{
    BIO  *wbio;

    p->ssl = SSL_new(wl_dtls_ctx);
    p->rbio = BIO_new(BIO_s_mem());
    wbio = BIO_new(wl_bio_method);

    if (p->ssl == NULL || p->rbio == NULL || wbio == NULL) {
        if (p->rbio) {
            BIO_free(p->rbio);
            p->rbio = NULL;
        }

        if (wbio) {
            BIO_free(wbio);
        }

        /* an SSL without BIOs is freed by wl_peer_release() */

        wl_peer_fail(p, WL_FAIL_LOCAL, "SSL_new(): %s", wl_dtls_error());
        return;
    }

    BIO_set_mem_eof_return(p->rbio, -1);
    BIO_set_data(wbio, p);

    SSL_set_bio(p->ssl, p->rbio, wbio);
    SSL_set_connect_state(p->ssl);
    SSL_set_mtu(p->ssl, WL_DTLS_MTU);

    /* Janus: a browser's first DTLS retransmission timeout */
    wl_janus_dtls_timer(p->ssl);

    p->state = WL_PEER_DTLS;
    p->deadline = now + (int64_t) (wl_conf.dtls_timeout * WL_SEC);

    wl_dtls_handshake(p, now);
}


static void
wl_dtls_handshake(wl_peer_t *p, int64_t now)
{
    int  n, err;

    ERR_clear_error();

    n = SSL_do_handshake(p->ssl);

    if (n == 1) {
        wl_dtls_established(p, now);
        return;
    }

    err = SSL_get_error(p->ssl, n);

    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        wl_dtls_set_timer(p, now);
        return;
    }

    wl_peer_fail(p, WL_FAIL_DTLS, "DTLS handshake: %s", wl_dtls_error());
}


static void
wl_dtls_input(wl_peer_t *p, u_char *buf, size_t len, int64_t now)
{
    int     n, err;
    u_char  data[WL_MTU];

    if (p->ssl == NULL) {
        return;
    }

    if (BIO_write(p->rbio, buf, (int) len) != (int) len) {
        return;
    }

    if (p->state == WL_PEER_DTLS) {
        wl_dtls_handshake(p, now);
        return;
    }

    for ( ;; ) {
        ERR_clear_error();

        n = SSL_read(p->ssl, data, sizeof(data));

        if (n > 0) {
            continue;
        }

        err = SSL_get_error(p->ssl, n);

        if (err == SSL_ERROR_WANT_READ) {
            return;
        }

        if (wl_stopping) {
            wl_peer_close(p);
            return;
        }

        if (err == SSL_ERROR_ZERO_RETURN) {
            wl_peer_fail(p, WL_FAIL_CLOSED, "DTLS close_notify from the "
                         "server");
            return;
        }

        wl_peer_fail(p, WL_FAIL_DTLS, "DTLS read: %s", wl_dtls_error());
        return;
    }
}


static void
wl_dtls_established(wl_peer_t *p, int64_t now)
{
    int                             rc;
    u_char                          md[EVP_MAX_MD_SIZE];
    u_char                          material[2 * (16 + 14)];
    X509                           *cert;
    unsigned int                    n;
    const SRTP_PROTECTION_PROFILE  *profile;

    /* RFC 8842, 5.1: the certificate must match the answer's fingerprint */

    cert = SSL_get1_peer_certificate(p->ssl);

    if (cert == NULL) {
        wl_peer_fail(p, WL_FAIL_FINGERPRINT, "the server sent no "
                     "certificate");
        return;
    }

    rc = X509_digest(cert, EVP_sha256(), md, &n);
    X509_free(cert);

    if (rc != 1 || n != 32 || memcmp(md, p->remote_fp, 32) != 0) {
        wl_peer_fail(p, WL_FAIL_FINGERPRINT, "the DTLS certificate does not "
                     "match the answer's a=fingerprint");
        return;
    }

    profile = SSL_get_selected_srtp_profile(p->ssl);

    if (profile == NULL) {
        wl_peer_fail(p, WL_FAIL_SRTP, "no SRTP profile negotiated");
        return;
    }

    /* RFC 5764, 4.2 */

    n = ngx_webrtc_srtp_material_len(profile->id == SRTP_AEAD_AES_128_GCM);

    if (SSL_export_keying_material(p->ssl, material, n,
                                   "EXTRACTOR-dtls_srtp", 19, NULL, 0, 0)
        != 1)
    {
        wl_peer_fail(p, WL_FAIL_SRTP, "SSL_export_keying_material(): %s",
                     wl_dtls_error());
        return;
    }

    rc = wl_srtp_create(p, profile->id, material);

    OPENSSL_cleanse(material, sizeof(material));

    if (rc != 0) {
        wl_peer_fail(p, WL_FAIL_SRTP, "srtp_create() failed");
        return;
    }

    p->state = WL_PEER_CONNECTED;
    p->dtls_next = 0;
    p->consent_next = now + (int64_t) (wl_conf.consent_interval * WL_SEC);
    p->consent_deadline = 0;
    p->rr_next = now + WL_SEC;
    p->move_next = now + (int64_t) (wl_conf.move_every * WL_SEC);
    p->last_rtp = now;

    if (p->role == WL_ROLE_VIEWER) {
        wl_stats.connected_ever++;

        if (p->tcp) {
            wl_stats.tcp_viewers++;
        }
        wl_hist_add(&wl_stats.setup_dtls, (now - p->ice_done) / 1000);

    } else {
        wl_stats.pub_connected = 1;
        wl_log("webrtc-load: publisher connected: %s, %s, %.1f ms after "
               "the POST", SSL_get_version(p->ssl), profile->name,
               (now - p->launched) / 1e6);
        wl_pub_start(p, now);
    }

    wl_peer_set_timer(p, p->pub ? now : 0);
}


/* we are the DTLS client: our keys encrypt, the server's decrypt */

static int
wl_srtp_create(wl_peer_t *p, unsigned long profile, u_char *material)
{
    if (p->role == WL_ROLE_PUBLISHER) {
        wl_dup_keys(profile == SRTP_AEAD_AES_128_GCM, material);
    }

    return ngx_webrtc_srtp_sessions(&p->srtp_in, &p->srtp_out,
                                    profile == SRTP_AEAD_AES_128_GCM,
                                    material, 1)
           == srtp_err_status_ok ? 0 : -1;
}


static void
wl_dtls_set_timer(wl_peer_t *p, int64_t now)
{
    struct timeval  tv;

    if (DTLSv1_get_timeout(p->ssl, &tv)) {
        p->dtls_next = now + (int64_t) tv.tv_sec * WL_SEC
                       + (int64_t) tv.tv_usec * 1000;

        if (p->dtls_next == now) {
            p->dtls_next = now + 1;
        }

    } else {
        p->dtls_next = 0;
    }

    wl_peer_set_timer(p, 0);
}


static const char *
wl_dtls_error(void)
{
    unsigned long  e;
    const char    *s;

    e = ERR_peek_last_error();
    s = e ? ERR_reason_error_string(e) : NULL;

    return s ? s : "unknown error";
}


/* the fingerprint, not the chain, authenticates the server */

static int
wl_verify_cb(int ok, X509_STORE_CTX *store)
{
    (void) ok;
    (void) store;

    return 1;
}


/* each record OpenSSL writes is one datagram */

static int
wl_bio_write(BIO *b, const char *data, int len)
{
    wl_peer_t  *p;

    p = BIO_get_data(b);

    if (p->capture) {
        if (p->capture_len == 0 && (size_t) len <= WL_RTCP_MAX) {
            memcpy(p->capture, data, len);
            p->capture_len = len;
        }

        return len;
    }

    if (p->state == WL_PEER_DTLS) {
        /* for --mutate: the handshake records we sent */
        wl_mutate_keep(p, WL_KEEP_DTLS, (const u_char *) data, len);
    }

    (void) wl_peer_send(p, (const u_char *) data, len);

    return len;
}


static long
wl_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void) b;
    (void) num;
    (void) ptr;

    switch (cmd) {

    case BIO_CTRL_FLUSH:
        return 1;

    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
        return WL_DTLS_MTU;

    default:
        return 0;
    }
}


static int
wl_bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}
