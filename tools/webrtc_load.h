
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#ifndef _WEBRTC_LOAD_H_INCLUDED_
#define _WEBRTC_LOAD_H_INCLUDED_


/*
 * webrtc-load: a WHIP/WHEP load generator.  One process, epoll, no
 * thread per peer: every viewer (and the publisher) is a connected UDP
 * socket doing ICE as the controlling agent (libnice's STUN usage API),
 * a DTLS 1.2 client handshake (OpenSSL) and SRTP (libsrtp2).  The pure
 * SDP and RTP codecs of the module (src/) are compiled in.
 */


#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <openssl/ssl.h>
#include <srtp2/srtp.h>
#include <stun/stunagent.h>

#include "ngx_webrtc_sdp.h"
#include "ngx_webrtc_rtp.h"
#include "ngx_webrtc_srtp.h"


#define WL_MS                   1000000LL       /* in ns */
#define WL_SEC                  1000000000LL

#define WL_MTU                  1500
#define WL_RTP_MAX              1200            /* plain RTP packets */
#define WL_SRTP_ROOM            (SRTP_MAX_TRAILER_LEN + 16)
#define WL_RTCP_MAX             512

/*
 * Every RTP packet of the publisher carries, at this offset of its
 * payload (after the VP8 payload descriptor and the room of a VP8 key
 * frame header), a magic number and the CLOCK_MONOTONIC time it was
 * sent, so that viewers on the same host measure per-packet latency.
 */
#define WL_STAMP_OFFSET         14
#define WL_STAMP_MAGIC          0x574c4431      /* "WLD1" */
#define WL_STAMP_LEN            12

#define WL_UFRAG_LEN            8
#define WL_PWD_LEN              24
#define WL_LOCATION_LEN         512
#define WL_URL_LEN              1024

/*
 * a viewer's media stalls when no RTP arrives for longer than this while
 * its publisher is live; a consent check is unanswered without a valid
 * response this long after it was sent
 */
#define WL_STALL                (1000 * WL_MS)
#define WL_CONSENT_WAIT         (2000 * WL_MS)

#define WL_MUTATE_MAX           1000000         /* --mutate */
#define WL_MUTATE_BUF           2048            /* a mutated datagram */

/* 16 linear sub-buckets per power of two of microseconds: 6 % apart */
#define WL_HIST_SUB             16
#define WL_HIST_N               (WL_HIST_SUB * 29)

/* --marks: events read from stdin, their labels (webrtc_load_gaps.c) */
#define WL_MARKS                16
#define WL_MARK_GROUPS          4
#define WL_MARK_LABEL           16


typedef enum {
    WL_EV_PEER = 1,
    WL_EV_HTTP,
    WL_EV_PIPE,
    WL_EV_JANUS,                                /* webrtc_load_janus.c */
    WL_EV_MARK                                  /* webrtc_load_gaps.c */
} wl_ev_type_e;


/* ICE-TCP (webrtc_load_tcp.c): a peer's buffers of framed packets */
#define WL_TCP_IN               16384
#define WL_TCP_OUT              16384           /* a viewer's */
#define WL_TCP_OUT_PUB          (1024 * 1024)   /* the publisher's */
#define WL_TCP_RCVBUF           4096            /* --tcp-stall viewers */


typedef enum {
    WL_ROLE_VIEWER = 0,
    WL_ROLE_PUBLISHER
} wl_role_e;


/* why a peer failed: each is counted, none is hidden */
typedef enum {
    WL_FAIL_HTTP_STATUS = 0,    /* not 201 */
    WL_FAIL_HTTP,               /* connect, TLS, malformed response */
    WL_FAIL_HTTP_TIMEOUT,
    WL_FAIL_SDP,                /* bad answer, no loopback candidate */
    WL_FAIL_ICE_TIMEOUT,
    WL_FAIL_ICE,                /* error response, role conflict */
    WL_FAIL_DTLS_TIMEOUT,
    WL_FAIL_DTLS,
    WL_FAIL_FINGERPRINT,        /* certificate != a=fingerprint */
    WL_FAIL_SRTP,
    WL_FAIL_CLOSED,             /* close_notify or ICMP from the server */
    WL_FAIL_LOCAL,              /* our own sockets, memory */
    WL_FAIL_STALLED,            /* no RTP for WL_STALL when the run ended */
    WL_FAIL_N
} wl_fail_e;


typedef enum {
    WL_PEER_IDLE = 0,
    WL_PEER_SIGNALING,
    WL_PEER_ICE,
    WL_PEER_DTLS,
    WL_PEER_CONNECTED,
    WL_PEER_FAILED,
    WL_PEER_CLOSED
} wl_peer_state_e;


/*
 * --mutate: what a mutated datagram was made of (webrtc_load_mutate.c).
 * Each is one of our own datagrams, changed; or random, with a first
 * byte in a range of RFC 7983, 7.
 */
typedef enum {
    WL_MUT_STUN_BITFLIP = 0,    /* our last Binding request */
    WL_MUT_STUN_BYTE,
    WL_MUT_STUN_TRUNCATE,
    WL_MUT_STUN_APPEND,
    WL_MUT_STUN_LENGTH,         /* the message's or an attribute's */
    WL_MUT_DTLS_BITFLIP,        /* a handshake record we sent */
    WL_MUT_DTLS_BYTE,
    WL_MUT_DTLS_TRUNCATE,
    WL_MUT_DTLS_APPEND,
    WL_MUT_DTLS_LENGTH,         /* the record's or the handshake's */
    WL_MUT_DTLS_REPLAY,         /* a handshake record as it was */
    WL_MUT_HELLO_REPLAY,        /* the ClientHello as it was */
    WL_MUT_SRTP_BITFLIP,        /* the publisher's SRTP */
    WL_MUT_SRTP_BYTE,
    WL_MUT_SRTP_TRUNCATE,
    WL_MUT_SRTP_APPEND,
    WL_MUT_SRTP_LENGTH,         /* CSRC count, extension length */
    WL_MUT_SRTP_REPLAY,         /* an old or a recent packet as it was */
    WL_MUT_SRTCP_BITFLIP,       /* receiver or sender reports */
    WL_MUT_SRTCP_BYTE,
    WL_MUT_SRTCP_TRUNCATE,
    WL_MUT_SRTCP_APPEND,
    WL_MUT_SRTCP_LENGTH,        /* the RTCP length word */
    WL_MUT_SRTCP_REPLAY,
    WL_MUT_RANDOM_STUN,         /* first byte 0-3 */
    WL_MUT_RANDOM_DTLS,         /* 20-63 */
    WL_MUT_RANDOM_RTP,          /* 128-191 */
    WL_MUT_RANDOM_OTHER,        /* none the server serves */
    WL_MUT_N
} wl_mut_e;


/* what a peer keeps of its own datagrams for --mutate */
typedef enum {
    WL_KEEP_DTLS = 0,
    WL_KEEP_SRTP,
    WL_KEEP_SRTCP
} wl_keep_e;


typedef struct {
    uint64_t                    count;
    uint64_t                    sum;            /* us */
    uint64_t                    max;            /* us */
    uint64_t                    bucket[WL_HIST_N];
} wl_hist_t;


/*
 * --marks: an event (a reload, a worker killed) marked at a time; the
 * viewers that had media then, those whose media never came back after
 * it, and the longest gap of the others around it
 */
typedef struct {
    int64_t                     t;              /* CLOCK_MONOTONIC, ns */
    uint64_t                    group;          /* its label's */
    uint64_t                    live;
    uint64_t                    lost;
    uint64_t                    max_gap_ms;
} wl_mark_t;


/* the marks of one label: per viewer, its longest gap around any */
typedef struct {
    char                        label[WL_MARK_LABEL];
    uint64_t                    marks;
    uint64_t                    live;           /* viewers, at one mark */
    uint64_t                    lost;           /* at one mark at least */
    uint64_t                    failed;         /* from its first mark on */
    uint64_t                    closed;         /* of those, fail.closed */
    wl_hist_t                   gap;            /* us, of those not lost */
} wl_mark_group_t;


/*
 * Gaps per viewer, rebuilt at each snapshot from the viewers and from
 * those replaced by --churn: each viewer's longest gap (max_gap), and
 * the marks'.
 */
typedef struct {
    wl_hist_t                   viewer_gap;     /* us, one a viewer */
    uint64_t                    nmarks;
    uint64_t                    ngroups;
    wl_mark_t                   mark[WL_MARKS];
    wl_mark_group_t             group[WL_MARK_GROUPS];
} wl_gaps_t;


/*
 * Cumulative counters of one process.  With --procs each child sends
 * its snapshot over a pipe every second; the parent sums them and
 * reports the differences between seconds.  Everything from "viewers"
 * up to http_status is a uint64_t that is summed.
 */
typedef struct {
    uint64_t                    magic;
    uint64_t                    done;           /* the process finished */
    uint64_t                    min_rtp;        /* gauge: fewest, a viewer */

    /* --mutate gauges: fewest, shortest, longest of the processes */
    uint64_t                    min_rtp_after;  /* a viewer, after burst */
    uint64_t                    mutate_after_ms;    /* since the burst */
    uint64_t                    mutate_burst_ms;

    uint64_t                    max_gap_ms;     /* gauge: longest, a viewer */

    /* viewers */
    uint64_t                    viewers;        /* to run */
    uint64_t                    launched;
    uint64_t                    connected_ever;
    uint64_t                    connected_now;  /* gauge */
    uint64_t                    waiting;        /* gauge: no media yet */
    uint64_t                    failed;
    uint64_t                    fail[WL_FAIL_N];

    uint64_t                    rx_datagrams;
    uint64_t                    rx_bytes;
    uint64_t                    rtp_packets;    /* decrypted */
    uint64_t                    rtp_bytes;
    uint64_t                    rtcp_packets;
    uint64_t                    decrypt_errors;
    uint64_t                    client_drops;   /* our socket buffers */
    uint64_t                    expected;       /* from sequence numbers */
    uint64_t                    received;
    uint64_t                    consent_sent;
    uint64_t                    consent_ok;
    uint64_t                    deleted;
    uint64_t                    delete_failed;
    uint64_t                    rr_sent;        /* receiver reports */
    uint64_t                    close_notify;   /* sent instead of DELETE */
    uint64_t                    stalls;         /* gaps over WL_STALL */
    uint64_t                    stalled_viewers;    /* with one at least */
    uint64_t                    consent_unanswered; /* in WL_CONSENT_WAIT */
    uint64_t                    churn_joined;   /* --churn: new viewers */
    uint64_t                    churn_left;     /* with a DELETE */
    uint64_t                    churn_vanished; /* without */

    /* publisher */
    uint64_t                    pub_connected;  /* gauge */
    uint64_t                    pub_failed;
    uint64_t                    frames;
    uint64_t                    keyframes;
    uint64_t                    tx_packets;
    uint64_t                    tx_bytes;
    uint64_t                    tx_drops;
    uint64_t                    pli;
    uint64_t                    fir;
    uint64_t                    nack;
    uint64_t                    remb;
    uint64_t                    rr;
    uint64_t                    remb_bps;       /* gauge: last REMB */
    uint64_t                    rx_rtcp_pub;
    uint64_t                    pub_consent_unanswered;

    /* --index-check, --dup-every: webrtc_load_index.c */
    uint64_t                    nonce_reuse;    /* an index, other bytes */
    uint64_t                    index_repeats;  /* an index, same bytes */
    uint64_t                    index_nacks;    /* --nack-every */
    uint64_t                    pub_dups;

    /* --mutate */
    uint64_t                    mutate[WL_MUT_N];   /* sent, by kind */
    uint64_t                    mutate_errors;      /* send() failed */
    uint64_t                    mutate_peers;       /* bursts done */
    uint64_t                    mutate_alive;       /* gauge */
    uint64_t                    mutate_closed;      /* gauge */
    uint64_t                    rtp_during_mutate;
    uint64_t                    rtp_after_mutate;
    uint64_t                    rtcp_after_mutate;  /* the publisher's */
    uint64_t                    consent_after_mutate;

    /* ICE-TCP, --tcp-stall-*: webrtc_load_tcp.c */
    uint64_t                    tcp_viewers;    /* connected over TCP */
    uint64_t                    tcp_out_drops;  /* our queue was full */
    uint64_t                    stall_viewers;  /* stopped reading */
    uint64_t                    stall_resumed;  /* RTP after reading again */
    uint64_t                    stall_keyframes;    /* a key frame after */
    uint64_t                    stall_consent;  /* unanswered, excused */

    uint32_t                    http_status[600];

    wl_hist_t                   latency;        /* send to arrival */
    wl_hist_t                   queue;          /* arrival to decrypt */
    wl_hist_t                   ttfp;           /* POST to first packet */
    wl_hist_t                   setup_http;     /* POST to answer */
    wl_hist_t                   setup_ice;      /* answer to ICE done */
    wl_hist_t                   setup_dtls;     /* ICE to DTLS done */

    wl_gaps_t                   gaps;           /* webrtc_load_gaps.c */
} wl_stats_t;


typedef struct {
    int                         https;
    char                        host[256];      /* for Host: and SNI */
    uint16_t                    port;
    char                        path[WL_URL_LEN];
    struct sockaddr_storage     addr;
    socklen_t                   addrlen;
} wl_url_t;


typedef struct wl_http_s    wl_http_t;
typedef struct wl_peer_s    wl_peer_t;
typedef struct wl_mutate_s  wl_mutate_t;
typedef struct wl_index_s   wl_index_t;
typedef struct wl_tcp_s     wl_tcp_t;

typedef void (*wl_http_handler_pt)(wl_http_t *h, void *data);


struct wl_http_s {
    int                         type;           /* WL_EV_HTTP */
    int                         fd;
    int                         state;
    uint32_t                    events;
    SSL                        *ssl;
    int64_t                     started;
    int64_t                     deadline;

    u_char                     *out;
    size_t                      out_len;
    size_t                      out_sent;

    u_char                     *in;
    size_t                      in_len;
    size_t                      in_size;

    /* the response */
    int                         status;
    int                         timed_out;
    const char                 *error;          /* NULL: a response */
    u_char                     *body;
    size_t                      body_len;
    char                        location[WL_LOCATION_LEN];

    wl_http_handler_pt          handler;
    void                       *data;
    wl_http_t                  *prev;
    wl_http_t                  *next;
};


/* sequence numbers of one received SSRC, for loss (RFC 3550, A.1) */
typedef struct {
    uint32_t                    ssrc;
    unsigned                    started:1;
    uint16_t                    max_seq;
    uint32_t                    cycles;
    uint32_t                    base;
    uint64_t                    received;
    uint32_t                    lsr;            /* its last SR's NTP */
    int64_t                     lsr_time;
} wl_seq_t;


typedef struct {
    u_char                      data[WL_RTP_MAX];
    uint16_t                    len;
} wl_queued_t;


#define WL_PACER_QUEUE          1024


/* the synthetic stream of a publisher */
typedef struct {
    uint32_t                    video_ssrc;
    uint32_t                    audio_ssrc;
    uint32_t                    rtx_ssrc;       /* announced, unused */
    uint16_t                    video_seq;
    uint16_t                    audio_seq;
    uint32_t                    video_ts0;
    uint32_t                    audio_ts0;
    uint16_t                    picture_id;

    int64_t                     start;
    uint64_t                    frame;          /* frames sent */
    uint64_t                    audio_frame;
    int64_t                     next_frame;
    int64_t                     next_audio;
    int64_t                     next_sr;
    unsigned                    gop_pos;        /* frames since key frame */
    unsigned                    key_requested:1;

    /* RFC 3550 sender statistics */
    uint32_t                    video_packets;
    uint32_t                    video_octets;
    uint32_t                    audio_packets;
    uint32_t                    audio_octets;

    /* pacer: video packets wait here, audio goes first */
    int64_t                     pace_next;
    unsigned                    qhead;
    unsigned                    qlen;
    wl_queued_t                 queue[WL_PACER_QUEUE];
} wl_pub_t;


struct wl_peer_s {
    int                         type;           /* WL_EV_PEER */
    int                         fd;
    unsigned                    index;
    wl_role_e                   role;
    wl_peer_state_e             state;
    wl_fail_e                   fail;

    int64_t                     launched;       /* POST started */
    int64_t                     answered;
    int64_t                     ice_done;
    int64_t                     deadline;       /* of the current state */
    int64_t                     timer;          /* next wl_peer_timer() */

    char                        ufrag[WL_UFRAG_LEN + 1];
    char                        pwd[WL_PWD_LEN + 1];
    char                        remote_ufrag[NGX_WEBRTC_SDP_ICE_MAX + 1];
    char                        remote_pwd[NGX_WEBRTC_SDP_ICE_MAX + 1];
    u_char                      remote_fp[32];  /* sha-256 */
    char                        location[WL_LOCATION_LEN];

    uint16_t                    local_port;
    struct sockaddr_storage     remote;
    socklen_t                   remote_len;

    uint8_t                     audio_pt;       /* of the answer */
    uint8_t                     video_pt;
    uint8_t                     video_codec;

    /* ICE, controlling (RFC 8445, 7.2) */
    StunAgent                   agent;
    uint64_t                    tie;
    u_char                      stun[576];
    size_t                      stun_len;
    unsigned                    stun_pending:1;
    unsigned                    stun_tries;
    int64_t                     stun_next;
    int64_t                     rto;
    int64_t                     consent_next;
    int64_t                     consent_deadline;   /* 0: none pending */
    int64_t                     rr_next;        /* viewer: receiver report */
    int64_t                     move_next;      /* viewer: --move-every */

    /* DTLS, SRTP */
    SSL                        *ssl;
    BIO                        *rbio;
    int64_t                     dtls_next;
    u_char                     *capture;        /* DTLS records, not sent */
    size_t                      capture_len;
    srtp_t                      srtp_in;
    srtp_t                      srtp_out;

    wl_http_t                  *http;
    unsigned                    deleting:1;
    unsigned                    deleted:1;
    unsigned                    got_first:1;

    /* received media */
    uint64_t                    rtp_packets;
    int64_t                     last_rtp;       /* arrival, or connected */
    int64_t                     max_gap;        /* ns, publisher live */
    unsigned                    stalls;         /* gaps over WL_STALL */
    uint32_t                    drops;          /* SO_RXQ_OVFL */
    int64_t                     failed_at;

    /* --marks: bit i for mark i; its longest gap, ns */
    uint32_t                    mark_live;      /* media at the mark */
    uint32_t                    mark_resumed;   /* RTP after it */
    int64_t                     mark_gap[WL_MARKS];
    wl_seq_t                    seq[2];         /* audio, video */

    wl_pub_t                   *pub;
    wl_mutate_t                *mutate;         /* --mutate */
    wl_index_t                 *indices;        /* --index-check */

    /* per viewer, for its line with --tcp-viewers (webrtc_load_tcp.c) */
    uint64_t                    decrypt_errors;
    uint64_t                    consent_sent;
    uint64_t                    consent_ok;
    uint64_t                    consent_unanswered;

    /* ICE-TCP (RFC 6544, RFC 4571): NULL over UDP */
    wl_tcp_t                   *tcp;

    /* --tcp-stall-after: stops reading for --tcp-stall-for */
    unsigned                    stall:1;        /* one of those */
    unsigned                    stalling:1;
    unsigned                    stall_done:1;
    unsigned                    stall_key_first:1;  /* first frame key */
    unsigned                    stall_frame_seen:1;
    int64_t                     stall_start;
    int64_t                     stall_end;
    int64_t                     stall_first;    /* RTP after it, arrival */
    int64_t                     stall_key;      /* a key frame starts */
    uint64_t                    stall_rtp_before;
    uint64_t                    stall_rtp_to_key;   /* after, before key */
    uint64_t                    stall_expected; /* at its end */
    uint64_t                    stall_received;
};


typedef struct {
    const char                 *whep;
    const char                 *whip;
    wl_url_t                    whep_url;
    wl_url_t                    whip_url;
    unsigned                    viewers;
    double                      ramp;           /* viewers/s, 0: no limit */
    unsigned                    concurrency;    /* signaling in flight */
    double                      duration;       /* s */
    unsigned                    procs;
    unsigned                    publish:1;
    unsigned                    insecure:1;
    unsigned                    close_notify:1;
    unsigned                    no_rtcp:1;      /* viewers: none at all */
    unsigned                    rtcp_ssrcs;     /* RR sender SSRCs, abuse */
    unsigned                    pli_flood;      /* PLIs a compound, abuse */
    double                      move_every;     /* s, viewers; 0: never */
    unsigned                    local_port;     /* the first viewer's */
    unsigned                    index_check:1;  /* webrtc_load_index.c */
    unsigned                    dup_every;
    unsigned                    nack_every;
    double                      ssrc_switch;    /* s */
    uint32_t                    ssrc;           /* 0: random */
    int                         seq;            /* -1: random */
    double                      churn_min;      /* --churn, s; 0: none */
    double                      churn_max;
    unsigned                    vanish;         /* % of churned viewers */
    unsigned                    mutate;         /* datagrams a peer */
    unsigned                    mutate_rate;    /* a second, all peers */
    uint64_t                    seed;           /* of the mutations */
    unsigned                    json:1;
    unsigned                    marks:1;        /* --marks: from stdin */
    double                      mark_window;    /* s */
    const char                 *cacert;
    const char                 *token;
    const char                 *srtp_profiles;
    const char                 *dtls_ciphers;
    const char                 *fingerprint;   /* NULL: sha-256 */

    uint64_t                    bitrate;        /* video, bit/s */
    double                      fps;
    double                      gop;            /* s */

    double                      http_timeout;
    double                      ice_timeout;
    double                      dtls_timeout;
    double                      consent_interval;

    const char                 *pids;
    const char                 *nginx_pid_file;

    /* Janus: webrtc_load_janus.c */
    const char                 *janus;          /* --janus URL */
    wl_url_t                    janus_url;
    const char                 *mountpoint;
    const char                 *rtp;            /* --rtp HOST:PORT:PORT */

    /* ICE-TCP: webrtc_load_tcp.c */
    unsigned                    tcp_viewers;    /* the first N viewers */
    unsigned                    tcp_publisher:1;
    double                      tcp_stall_after;    /* s; 0: none */
    double                      tcp_stall_for;      /* s */
    unsigned                    tcp_stall_viewers;  /* the first M */
    unsigned                    tcp_rcvbuf;         /* theirs */
} wl_conf_t;


extern wl_conf_t    wl_conf;
extern int          wl_mutate_phase;        /* 0 before, 1 burst, 2 after */
extern wl_stats_t   wl_stats;
extern int          wl_epfd;
extern unsigned     wl_http_active;
extern int          wl_stopping;
extern char         wl_fingerprint[];
extern const char  *wl_fail_names[];
extern pid_t       *wl_children;
extern unsigned     wl_nchildren;
extern int64_t      wl_marks_t0;


int64_t wl_now(void);
void wl_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint32_t wl_random32(void);
void wl_random_fill(u_char *p, size_t len);
int wl_loopback(const struct sockaddr *sa);

int wl_url_parse(wl_url_t *u, const char *s);
int wl_http_init(void);
wl_http_t *wl_http_request(const wl_url_t *u, const char *method,
    const char *path, const char *ctype, const u_char *body, size_t len,
    wl_http_handler_pt handler, void *data);
void wl_http_event(wl_http_t *h);
int64_t wl_http_timers(int64_t now);

size_t wl_sdp_offer(wl_peer_t *p, u_char *buf, size_t size);
const char *wl_sdp_answer(wl_peer_t *p, const u_char *body, size_t len);
void wl_sdp_ice_chars(char *buf, size_t len);

int wl_peer_init(void);
wl_peer_t *wl_peer_create(wl_role_e role, unsigned index);
void wl_peer_start(wl_peer_t *p);
void wl_peer_event(wl_peer_t *p);
void wl_peer_timer(wl_peer_t *p, int64_t now);
int wl_peer_delete(wl_peer_t *p);
void wl_peer_close(wl_peer_t *p);
int wl_peer_close_notify(wl_peer_t *p);
int wl_peer_stun_check(wl_peer_t *p, int nominate, int controlling,
    uint32_t priority, int send);
ssize_t wl_peer_send(wl_peer_t *p, const u_char *buf, size_t len);

void wl_pub_start(wl_peer_t *p, int64_t now);
int64_t wl_pub_timer(wl_peer_t *p, int64_t now);
void wl_pub_rtcp(wl_peer_t *p, const u_char *buf, size_t len);
void wl_view_rr(wl_peer_t *p);
void wl_view_sr(wl_peer_t *p, const u_char *buf, size_t len);
void wl_view_gap(wl_peer_t *p, int64_t gap);
int wl_view_stalled(wl_peer_t *p, int64_t now);
int wl_publisher_live(void);

int wl_churn_init(unsigned n);
void wl_churn(wl_peer_t **viewers, unsigned n, int64_t now);
void wl_view_rtp(wl_peer_t *p, const u_char *buf, size_t len, int64_t now,
    int64_t arrived);
uint64_t wl_seq_expected(const wl_seq_t *s);

int wl_marks_init(int fd, int parent, int64_t start, wl_peer_t **viewers,
    unsigned n);
void wl_marks_event(void *ev);
void wl_marks_gap(wl_peer_t *p, int64_t from, int64_t to, int resumed);
void wl_children_mark(const char *line, size_t len);
void wl_gaps_retire(wl_peer_t *p);
void wl_gaps_snapshot(wl_gaps_t *g, wl_peer_t **viewers, unsigned n);
void wl_gaps_add(wl_gaps_t *r, const wl_gaps_t *a);

int wl_mutate_peer(wl_peer_t *p);
void wl_mutate_keep(wl_peer_t *p, wl_keep_e what, const u_char *buf,
    size_t len);
int64_t wl_mutate_timer(wl_peer_t *pub, wl_peer_t **viewers, unsigned n,
    int64_t now);
void wl_mutate_gauges(wl_peer_t *pub, wl_peer_t **viewers, unsigned n,
    int64_t now);
void wl_mutate_media(wl_peer_t *p);
void wl_mutate_consent(wl_peer_t *p);
extern const char  *wl_mut_names[];

void wl_index_check(wl_peer_t *p, const u_char *buf, size_t len);
void wl_dup_init(wl_pub_t *pub);
void wl_dup_keys(int gcm, const u_char *material);
int wl_dup_before(wl_pub_t *pub, u_char *buf, size_t len);
void wl_dup_after(wl_peer_t *p);

int wl_janus_conf(void);
int wl_janus_rtp_start(wl_peer_t *p);
void wl_janus_start(wl_peer_t *p);
void wl_janus_event(void *data);
int wl_janus_stun_request(wl_peer_t *p, u_char *buf, size_t len);
void wl_janus_dtls_timer(SSL *ssl);
void wl_janus_timers(int64_t now);
int wl_janus_teardown(void);

int wl_tcp_conf(void);
int wl_tcp_create(wl_peer_t *p);
void wl_tcp_free(wl_peer_t *p);
void wl_tcp_linger(wl_peer_t *p);
int wl_tcp_connect(wl_peer_t *p);
void wl_tcp_event(wl_peer_t *p);
ssize_t wl_tcp_send(wl_peer_t *p, const u_char *buf, size_t len);
void wl_tcp_stall(wl_peer_t *p, int64_t now);
void wl_tcp_rtp(wl_peer_t *p, const u_char *buf, size_t len,
    int64_t arrived);
int wl_tcp_consent_excused(wl_peer_t *p);
void wl_tcp_lines(wl_peer_t **viewers, unsigned n, int64_t now);
void wl_peer_input(wl_peer_t *p, u_char *buf, size_t len, int64_t now,
    int64_t arrived);
void wl_peer_fail(wl_peer_t *p, wl_fail_e reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
extern int64_t      wl_tcp_t0;

void wl_hist_add(wl_hist_t *h, uint64_t us);
double wl_hist_pct(const wl_hist_t *h, double q);
void wl_hist_merge(wl_hist_t *r, const wl_hist_t *a);
void wl_hist_sub(wl_hist_t *r, const wl_hist_t *a, const wl_hist_t *b);
void wl_stats_add(wl_stats_t *r, const wl_stats_t *a);
int wl_server_init(void);
void wl_report_start(void);
void wl_report(const wl_stats_t *now, const wl_stats_t *prev, double t,
    double dt, int final);


#endif /* _WEBRTC_LOAD_H_INCLUDED_ */
