
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "webrtc_load.h"


/*
 * ICE-TCP, as a browser that cannot send UDP: the answer's passive TCP
 * host candidate (RFC 6544) is connected to, and every packet of the peer
 * (STUN checks, DTLS records, SRTP, SRTCP) goes on the connection framed
 * by a 2-byte length (RFC 4571), as it would in one datagram; what comes
 * back is cut into frames and goes where a datagram would.
 *
 * --tcp-stall-after S --tcp-stall-for D: the first --tcp-stall-viewers
 * TCP viewers, with a small SO_RCVBUF, stop reading their connection S s
 * after the start for D s (a viewer too slow for the stream), then read
 * again: what they get after it, and the first VP8 key frame.
 */


struct wl_tcp_s {
    unsigned                    connecting:1;
    uint32_t                    events;         /* of epoll, now */

    u_char                     *in;
    size_t                      in_len;

    u_char                     *out;
    size_t                      out_len;
    size_t                      out_size;
};


static void wl_tcp_interest(wl_peer_t *p);
static int wl_tcp_flush(wl_peer_t *p);
static void wl_tcp_read(wl_peer_t *p);


int64_t  wl_tcp_t0;


/* the options, checked once */

int
wl_tcp_conf(void)
{
    if (wl_conf.tcp_viewers > wl_conf.viewers) {
        wl_conf.tcp_viewers = wl_conf.viewers;
    }

    if (wl_conf.tcp_viewers == 0 && !wl_conf.tcp_publisher) {
        if (wl_conf.tcp_stall_after) {
            wl_log("webrtc-load: --tcp-stall-after needs TCP viewers");
            return -1;
        }

        return 0;
    }

    if (wl_conf.janus || wl_conf.rtp) {
        wl_log("webrtc-load: ICE-TCP is for WHIP and WHEP");
        return -1;
    }

    if (wl_conf.move_every || wl_conf.local_port) {
        wl_log("webrtc-load: --move-every and --local-port are for UDP");
        return -1;
    }

    if (wl_conf.tcp_stall_after) {
        if (wl_conf.tcp_stall_for <= 0) {
            wl_log("webrtc-load: --tcp-stall-after needs --tcp-stall-for");
            return -1;
        }

        if (wl_conf.tcp_stall_viewers == 0) {
            wl_conf.tcp_stall_viewers = 1;
        }

        if (wl_conf.tcp_stall_viewers > wl_conf.tcp_viewers) {
            wl_conf.tcp_stall_viewers = wl_conf.tcp_viewers;
        }
    }

    if (wl_conf.tcp_rcvbuf == 0) {
        wl_conf.tcp_rcvbuf = WL_TCP_RCVBUF;
    }

    return 0;
}


/* a TCP peer's buffers: the first --tcp-viewers viewers, --tcp-publisher */

int
wl_tcp_create(wl_peer_t *p)
{
    wl_tcp_t  *tcp;

    if (p->role == WL_ROLE_VIEWER ? p->index >= wl_conf.tcp_viewers
                                  : !wl_conf.tcp_publisher)
    {
        return 0;
    }

    tcp = calloc(1, sizeof(wl_tcp_t));
    if (tcp == NULL) {
        return -1;
    }

    tcp->out_size = (p->role == WL_ROLE_PUBLISHER) ? WL_TCP_OUT_PUB
                                                   : WL_TCP_OUT;
    tcp->in = malloc(WL_TCP_IN);
    tcp->out = malloc(tcp->out_size);

    if (tcp->in == NULL || tcp->out == NULL) {
        free(tcp->in);
        free(tcp->out);
        free(tcp);
        return -1;
    }

    p->tcp = tcp;

    p->stall = (p->role == WL_ROLE_VIEWER && wl_conf.tcp_stall_after
                && p->index < wl_conf.tcp_stall_viewers);

    return 0;
}


void
wl_tcp_free(wl_peer_t *p)
{
    if (p->tcp && p->fd != -1) {
        close(p->fd);
        p->fd = -1;
    }

    if (p->tcp) {
        free(p->tcp->in);
        free(p->tcp->out);
        free(p->tcp);
        p->tcp = NULL;
    }
}


/*
 * Instead of the UDP socket of the offer: a connection to the answer's
 * passive candidate (p->remote), not blocking; what is sent before it is
 * up waits in the queue
 */

int
wl_tcp_connect(wl_peer_t *p)
{
    int                  fd, one, size;
    socklen_t            len;
    wl_tcp_t            *tcp;
    struct epoll_event   ee;
    struct sockaddr_in6  sin6;
    struct sockaddr_in   sin;

    tcp = p->tcp;

    if (p->fd != -1) {
        close(p->fd);
        p->fd = -1;
    }

    fd = socket(p->remote.ss_family,
                SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        return -1;
    }

    one = 1;
    (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    if (p->stall) {
        /* before connect(): the window it announces follows */
        size = (int) wl_conf.tcp_rcvbuf;
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    }

    if (p->remote.ss_family == AF_INET) {
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

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

    if (connect(fd, (struct sockaddr *) &p->remote, p->remote_len) == -1
        && errno != EINPROGRESS)
    {
        goto failed;
    }

    tcp->connecting = 1;
    tcp->in_len = 0;
    tcp->out_len = 0;
    tcp->events = EPOLLIN | EPOLLOUT;

    ee.events = tcp->events;
    ee.data.ptr = p;

    if (epoll_ctl(wl_epfd, EPOLL_CTL_ADD, fd, &ee) == -1) {
        goto failed;
    }

    p->fd = fd;

    return 0;

failed:

    close(fd);
    return -1;
}


/* closed, its DELETE to come: nothing more read or sent */

void
wl_tcp_linger(wl_peer_t *p)
{
    struct epoll_event  ee;

    p->tcp->out_len = 0;
    p->tcp->events = 0;

    ee.events = 0;
    ee.data.ptr = p;

    (void) epoll_ctl(wl_epfd, EPOLL_CTL_MOD, p->fd, &ee);
}


/* RFC 4571, 2: a 2-byte length, then the packet; len or -1 (dropped) */

ssize_t
wl_tcp_send(wl_peer_t *p, const u_char *buf, size_t len)
{
    wl_tcp_t  *tcp;

    tcp = p->tcp;

    if (len > 65535) {
        return -1;
    }

    if (tcp->out_size - tcp->out_len < len + 2) {
        /* as a full socket buffer drops a datagram */
        if (p->role == WL_ROLE_VIEWER) {
            wl_stats.tcp_out_drops++;
        }

        return -1;
    }

    tcp->out[tcp->out_len] = (u_char) (len >> 8);
    tcp->out[tcp->out_len + 1] = (u_char) len;
    memcpy(tcp->out + tcp->out_len + 2, buf, len);
    tcp->out_len += len + 2;

    if (!tcp->connecting && wl_tcp_flush(p) != 0) {
        return -1;
    }

    wl_tcp_interest(p);

    return (ssize_t) len;
}


/* what the kernel takes of the queue; -1 on an error (the peer failed) */

static int
wl_tcp_flush(wl_peer_t *p)
{
    size_t     sent;
    ssize_t    n;
    wl_tcp_t  *tcp;

    tcp = p->tcp;
    sent = 0;

    while (sent < tcp->out_len) {
        n = send(p->fd, tcp->out + sent, tcp->out_len - sent,
                 MSG_DONTWAIT | MSG_NOSIGNAL);

        if (n == -1) {
            if (errno == EAGAIN || errno == EINTR) {
                break;
            }

            if (!wl_stopping) {
                wl_peer_fail(p, WL_FAIL_CLOSED, "ICE-TCP send(): %s",
                             strerror(errno));
            }

            return -1;
        }

        sent += n;
    }

    if (sent) {
        memmove(tcp->out, tcp->out + sent, tcp->out_len - sent);
        tcp->out_len -= sent;
    }

    return 0;
}


/* epoll: reading unless stalled, writing while something waits */

static void
wl_tcp_interest(wl_peer_t *p)
{
    uint32_t             events;
    wl_tcp_t            *tcp;
    struct epoll_event   ee;

    tcp = p->tcp;

    if (p->fd == -1) {
        return;
    }

    events = (p->stalling ? 0 : EPOLLIN)
             | ((tcp->connecting || tcp->out_len) ? EPOLLOUT : 0);

    if (events == tcp->events) {
        return;
    }

    ee.events = events;
    ee.data.ptr = p;

    if (epoll_ctl(wl_epfd, EPOLL_CTL_MOD, p->fd, &ee) == 0) {
        tcp->events = events;
    }
}


void
wl_tcp_event(wl_peer_t *p)
{
    int        err;
    socklen_t  len;
    wl_tcp_t  *tcp;

    tcp = p->tcp;

    if (p->fd == -1 || p->state >= WL_PEER_FAILED) {
        return;
    }

    if (tcp->connecting) {
        err = 0;
        len = sizeof(err);

        if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1) {
            err = errno;
        }

        if (err == EINPROGRESS || err == EALREADY) {
            return;
        }

        if (err) {
            wl_peer_fail(p, WL_FAIL_ICE, "ICE-TCP connect(): %s",
                         strerror(err));
            return;
        }

        tcp->connecting = 0;
    }

    if (tcp->out_len && wl_tcp_flush(p) != 0) {
        return;
    }

    if (!p->stalling) {
        wl_tcp_read(p);
    }

    wl_tcp_interest(p);
}


/*
 * Frames out of the byte stream, each to wl_peer_input() as a datagram
 * (arrival: now, TCP has no datagram to stamp); a few reads at a time
 */

static void
wl_tcp_read(wl_peer_t *p)
{
    int        round;
    size_t     pos, flen;
    ssize_t    n;
    int64_t    now;
    wl_tcp_t  *tcp;

    tcp = p->tcp;

    for (round = 0; round < 8 && p->fd != -1; round++) {

        n = recv(p->fd, tcp->in + tcp->in_len, WL_TCP_IN - tcp->in_len,
                 MSG_DONTWAIT);

        if (n == -1) {
            if (errno == EAGAIN || errno == EINTR) {
                return;
            }

            if (!wl_stopping) {
                wl_peer_fail(p, WL_FAIL_CLOSED, "ICE-TCP recv(): %s",
                             strerror(errno));
            }

            return;
        }

        if (n == 0) {
            if (!wl_stopping) {
                wl_peer_fail(p, p->state == WL_PEER_CONNECTED
                                ? WL_FAIL_CLOSED : WL_FAIL_ICE,
                             "the server closed the ICE-TCP connection");
            }

            return;
        }

        tcp->in_len += n;
        now = wl_now();
        pos = 0;

        while (tcp->in_len - pos >= 2 && p->fd != -1) {
            flen = ((size_t) tcp->in[pos] << 8) | tcp->in[pos + 1];

            if (flen > WL_TCP_IN - 2) {
                wl_peer_fail(p, WL_FAIL_CLOSED,
                             "an ICE-TCP frame of %zu bytes", flen);
                return;
            }

            if (tcp->in_len - pos < 2 + flen) {
                break;
            }

            wl_peer_input(p, tcp->in + pos + 2, flen, now, now);
            pos += 2 + flen;
        }

        if (p->fd == -1 || p->tcp == NULL) {
            return;
        }

        memmove(tcp->in, tcp->in + pos, tcp->in_len - pos);
        tcp->in_len -= pos;

        if ((size_t) n < WL_TCP_IN / 2) {
            return;
        }
    }
}


/*
 * --tcp-stall-*: from wl_tcp_t0 + after to + for, a stall viewer reads
 * nothing (what it sends still goes: consent checks, receiver reports)
 */

void
wl_tcp_stall(wl_peer_t *p, int64_t now)
{
    int64_t  from, to;

    if (!p->stall || p->stall_done || p->fd == -1 || wl_tcp_t0 == 0) {
        return;
    }

    from = wl_tcp_t0 + (int64_t) (wl_conf.tcp_stall_after * WL_SEC);
    to = from + (int64_t) (wl_conf.tcp_stall_for * WL_SEC);

    if (!p->stalling) {
        if (now < from || p->state != WL_PEER_CONNECTED) {
            return;
        }

        p->stalling = 1;
        p->stall_start = now;
        p->stall_rtp_before = p->rtp_packets;
        wl_stats.stall_viewers++;

        wl_log("webrtc-load: viewer %u stops reading its ICE-TCP "
               "connection for %.1f s", p->index, wl_conf.tcp_stall_for);

        wl_tcp_interest(p);
        return;
    }

    if (now < to) {
        return;
    }

    p->stalling = 0;
    p->stall_done = 1;
    p->stall_end = now;
    p->stall_expected = wl_seq_expected(&p->seq[0])
                        + wl_seq_expected(&p->seq[1]);
    p->stall_received = p->seq[0].received + p->seq[1].received;

    if (p->state != WL_PEER_CONNECTED) {
        return;
    }

    wl_log("webrtc-load: viewer %u reads its ICE-TCP connection again",
           p->index);

    wl_tcp_interest(p);
    wl_tcp_event(p);
}


/*
 * After a stall, each RTP packet until the first that starts a VP8 key
 * frame: RFC 7741, 4.2 (payload descriptor: S bit, partition 0), 4.3
 * and RFC 6386, 9.1 (the frame tag's P bit, 0 in a key frame)
 */

void
wl_tcp_rtp(wl_peer_t *p, const u_char *buf, size_t len, int64_t arrived)
{
    size_t             off;
    const u_char      *d;
    ngx_webrtc_rtp_t   rtp;

    if (p->stall_first == 0) {
        p->stall_first = arrived;
        wl_stats.stall_resumed++;
    }

    if (ngx_webrtc_rtp_parse(buf, len, &rtp) != 0 || rtp.pt != p->video_pt
        || rtp.payload_len < 2)
    {
        return;
    }

    d = buf + rtp.header_len;
    off = 1;

    if (d[0] & 0x80) {                          /* X */
        off = 2;

        if (d[1] & 0x80) {                      /* I: PictureID */
            off += (off < rtp.payload_len && (d[off] & 0x80)) ? 2 : 1;
        }

        if (d[1] & 0x40) {                      /* L: TL0PICIDX */
            off++;
        }

        if (d[1] & 0x30) {                      /* T or K */
            off++;
        }
    }

    if (off >= rtp.payload_len || !(d[0] & 0x10) || (d[0] & 0x07) != 0) {
        /* not the start of a frame */
        p->stall_rtp_to_key++;
        return;
    }

    if (d[off] & 0x01) {
        /* an interframe */
        p->stall_frame_seen = 1;
        p->stall_rtp_to_key++;
        return;
    }

    p->stall_key = arrived;
    p->stall_key_first = !p->stall_frame_seen;
    wl_stats.stall_keyframes++;
}


/*
 * A consent check of a stall viewer left unanswered because it did not
 * read: sent before the stall ended, its deadline after the stall began
 */

int
wl_tcp_consent_excused(wl_peer_t *p)
{
    int64_t  sent, from, to;

    if (!p->stall || p->stall_start == 0 || p->consent_deadline == 0) {
        return 0;
    }

    sent = p->consent_deadline - WL_CONSENT_WAIT;
    from = p->stall_start;
    to = p->stall_done ? p->stall_end : wl_now();

    return sent <= to + WL_CONSENT_WAIT
           && p->consent_deadline + WL_CONSENT_WAIT >= from;
}


/*
 * With --tcp-viewers or --tcp-publisher: a JSON line of each viewer of
 * this process before the summary, its transport and what it got
 */

void
wl_tcp_lines(wl_peer_t **viewers, unsigned n, int64_t now)
{
    char        line[1024];
    size_t      len;
    unsigned    i;
    uint64_t    exp, rcv, lost, lost_after;
    wl_peer_t  *p;

    if (wl_conf.tcp_viewers == 0 && !wl_conf.tcp_publisher) {
        return;
    }

    for (i = 0; i < n; i++) {
        p = viewers[i];

        exp = wl_seq_expected(&p->seq[0]) + wl_seq_expected(&p->seq[1]);
        rcv = p->seq[0].received + p->seq[1].received;
        lost = exp > rcv ? exp - rcv : 0;

        len = snprintf(line, sizeof(line),
                       "{\"type\":\"viewer\",\"index\":%u"
                       ",\"transport\":\"%s\",\"state\":\"%s\""
                       ",\"fail\":%s%s%s,\"local_port\":%u"
                       ",\"rtp_packets\":%llu,\"expected\":%llu"
                       ",\"lost\":%llu,\"stalls\":%u,\"max_gap_ms\":%lld"
                       ",\"decrypt_errors\":%llu,\"consent_sent\":%llu"
                       ",\"consent_ok\":%llu,\"consent_unanswered\":%llu",
                       p->index, p->tcp ? "tcp" : "udp",
                       p->state == WL_PEER_CONNECTED ? "connected"
                       : p->state == WL_PEER_FAILED ? "failed"
                       : p->state == WL_PEER_CLOSED ? "closed" : "setup",
                       p->state == WL_PEER_FAILED ? "\"" : "",
                       p->state == WL_PEER_FAILED ? wl_fail_names[p->fail]
                                                  : "null",
                       p->state == WL_PEER_FAILED ? "\"" : "",
                       (unsigned) p->local_port,
                       (unsigned long long) p->rtp_packets,
                       (unsigned long long) exp, (unsigned long long) lost,
                       p->stalls, (long long) (p->max_gap / WL_MS),
                       (unsigned long long) p->decrypt_errors,
                       (unsigned long long) p->consent_sent,
                       (unsigned long long) p->consent_ok,
                       (unsigned long long) p->consent_unanswered);

        if (p->stall && len < sizeof(line)) {
            lost_after = 0;

            if (p->stall_done) {
                exp -= p->stall_expected;
                rcv -= p->stall_received;
                lost_after = exp > rcv ? exp - rcv : 0;
            }

            len += snprintf(line + len, sizeof(line) - len,
                            ",\"stall\":{\"stalled\":%s,\"start_ms\":%lld"
                            ",\"for_ms\":%lld,\"rtp_before\":%llu"
                            ",\"rtp_after\":%llu,\"lost_after\":%llu"
                            ",\"first_rtp_ms\":%lld,\"keyframe\":%s"
                            ",\"keyframe_ms\":%lld,\"keyframe_first\":%s"
                            ",\"rtp_before_key\":%llu}",
                            p->stall_start ? "true" : "false",
                            p->stall_start
                            ? (long long) ((p->stall_start - wl_tcp_t0)
                                           / WL_MS) : -1LL,
                            p->stall_start
                            ? (long long) (((p->stall_done ? p->stall_end
                                                           : now)
                                            - p->stall_start) / WL_MS)
                            : -1LL,
                            (unsigned long long) p->stall_rtp_before,
                            (unsigned long long) (p->stall_start
                                ? p->rtp_packets - p->stall_rtp_before : 0),
                            (unsigned long long) lost_after,
                            p->stall_first
                            ? (long long) ((p->stall_first - p->stall_end)
                                           / WL_MS) : -1LL,
                            p->stall_key ? "true" : "false",
                            p->stall_key
                            ? (long long) ((p->stall_key - p->stall_end)
                                           / WL_MS) : -1LL,
                            p->stall_key_first ? "true" : "false",
                            (unsigned long long) p->stall_rtp_to_key);
        }

        if (len < sizeof(line) - 2) {
            line[len++] = '}';
            line[len++] = '\n';

            /* one write a line: the lines of --procs children mix whole */
            if (write(STDOUT_FILENO, line, len) != (ssize_t) len) {
                return;
            }
        }
    }
}
