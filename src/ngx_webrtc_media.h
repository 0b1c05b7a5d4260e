
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#ifndef _NGX_WEBRTC_MEDIA_H_INCLUDED_
#define _NGX_WEBRTC_MEDIA_H_INCLUDED_


/* the media plane: private to the stream module and its helpers */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include <srtp2/srtp.h>

#include "ngx_webrtc.h"
#include "ngx_webrtc_rtp.h"
#include "ngx_webrtc_srtp.h"


#define NGX_WEBRTC_MTU              1500
#define NGX_WEBRTC_SRTP_OVERHEAD    (SRTP_MAX_TRAILER_LEN + 16)
#define NGX_WEBRTC_PLI_INTERVAL     500         /* ms, per stream */
#define NGX_WEBRTC_PLI_RETRY        20          /* ms, publisher handed over */
#define NGX_WEBRTC_PLI_RETRIES      100
#define NGX_WEBRTC_PLI_GATHER       200         /* ms, viewers handed over */
#define NGX_WEBRTC_PLI_GATHER_OFF   10000       /* ms, after one ran out */
#define NGX_WEBRTC_REMB_INTERVAL    1000
#define NGX_WEBRTC_REMB_BITRATE     4000000
#define NGX_WEBRTC_CACHE_SIZE       256         /* video packets, 2^n */
#define NGX_WEBRTC_RESEND_MAX       300         /* per viewer and second */
#define NGX_WEBRTC_OUT_WINDOW       256         /* indices, 64 * n */



typedef struct ngx_webrtc_peer_s          ngx_webrtc_peer_t;


/*
 * Where a peer's media goes: our socket, its address, and the local
 * address it sent to (for wildcard listens)
 */

typedef struct {
    ngx_socket_t                fd;
    ngx_connection_t           *tcp;            /* ICE-TCP: the connection */
    socklen_t                   socklen;
    socklen_t                   local_socklen;
    ngx_uint_t                  wildcard;
    ngx_sockaddr_t              sockaddr;
    ngx_sockaddr_t              local;
    ngx_sockaddr_t              listen;         /* the listen address */
    socklen_t                   listen_socklen;
} ngx_webrtc_path_t;

typedef struct ngx_webrtc_local_stream_s  ngx_webrtc_local_stream_t;


/* what a viewer's outgoing track continues from, per kind */

typedef struct {
    uint32_t                    src_ssrc;
    uint32_t                    ts_offset;
    uint32_t                    last_ts;
    uint16_t                    seq_offset;
    uint16_t                    last_seq;
    ngx_msec_t                  last_time;
    unsigned                    started:1;
    unsigned                    blocked:1;      /* codec differs */
    unsigned                    sent:1;
    unsigned                    rebased:1;      /* base in the window */
    unsigned                    fenced:1;       /* adopted: nothing before
                                                   base, another worker
                                                   may have used it */
    unsigned                    resumed_set:1;
    uint8_t                     ext_map[16];
    uint32_t                    packets;
    uint32_t                    octets;
    uint32_t                    sr_mid;         /* the last SR's NTP */
    ngx_msec_t                  sr_time;        /* when it went */
    ngx_uint_t                  epoch;          /* of local->epoch */

    /* SRTCP sent with the track's SSRC; indices to burn first (adopted) */
    uint32_t                    rtcp;
    uint32_t                    burn;

    /* adopted: where the worker before stopped, until a packet is sent */
    ngx_webrtc_resume_track_t   resumed;

    /* in the zone's state: the highest index and SRTCP count written */
    uint16_t                    written;
    uint32_t                    rtcp_written;

    /* the SRTP indices used: the highest, those before it, the base */
    uint16_t                    high;
    uint16_t                    base;
    uint64_t                    window[NGX_WEBRTC_OUT_WINDOW / 64];
} ngx_webrtc_out_t;


/* what a publisher's track delivered, for receiver reports */

typedef struct {
    uint32_t                    cycles;
    uint16_t                    base_seq;
    uint16_t                    max_seq;
    uint32_t                    received;
    uint32_t                    expected_prior;
    uint32_t                    received_prior;
    uint32_t                    lsr;            /* middle of the SR's NTP */
    ngx_msec_t                  lsr_time;
    unsigned                    started:1;
} ngx_webrtc_in_t;


struct ngx_webrtc_peer_s {
    ngx_pool_t                 *pool;
    ngx_log_t                   log;
    ngx_connection_t           *connection;     /* the nominated 5-tuple */
    ngx_webrtc_path_t           path;
    ngx_webrtc_path_t           candidate;      /* another worker's */
    ngx_msec_t                  path_time;      /* the last move */
    unsigned                    has_path:1;
    unsigned                    has_candidate:1;
    ngx_str_node_t              node;           /* in the worker's peers */
    ngx_webrtc_stream_t        *stream;         /* the registry's */
    uint32_t                    stream_gen;
    size_t                      stream_name_len;
    u_char                      stream_name[NGX_WEBRTC_STREAM_LEN];
    ngx_webrtc_local_stream_t  *local;
    ngx_queue_t                 queue;          /* in local->viewers */

    u_char                      id[NGX_WEBRTC_ID_LEN];
    ngx_uint_t                  role;
    ngx_webrtc_track_t          tracks[2];

    ngx_uint_t                  nfingerprints;
    ngx_webrtc_fingerprint_t    fingerprints[NGX_WEBRTC_SDP_MAX_FINGERPRINTS];

    SSL                        *ssl;            /* NULL once parked */
    BIO                        *rbio;
    u_char                      dtls_key[NGX_WEBRTC_DTLS_KEY];
    u_char                      dtls_close[NGX_WEBRTC_DTLS_CLOSE];
    uint8_t                     dtls_key_len;
    uint8_t                     dtls_close_len;
    ngx_event_t                 dtls_timer;
    ngx_event_t                 remb_timer;

    srtp_t                      srtp_in;
    srtp_t                      srtp_out;

    ngx_webrtc_out_t            out[2];         /* viewer */
    uint32_t                    ssrc[2];        /* publisher's, learnt */
    ngx_webrtc_in_t             in[2];
    uint32_t                    local_ssrc;     /* ours in RTCP */

    uint32_t                    h264_sps;       /* the last SPS's */
    ngx_msec_t                  h264_time;      /* its zone update */

    uint32_t                    in_ssrc[NGX_WEBRTC_MAX_SSRC];
    uint16_t                    in_high[NGX_WEBRTC_MAX_SSRC];
    uint32_t                    in_rtp;         /* a bit an SSRC: RTP */
    ngx_uint_t                  nin_ssrc;

    /*
     * adopted: the SSRCs the worker before received, each added to
     * srtp_in at its first packet with the rollover counter it had
     */
    ngx_webrtc_resume_track_t  *resume;
    ngx_uint_t                  nresume;
    uint8_t                     resume_tries[NGX_WEBRTC_MAX_SSRC];
    ngx_webrtc_keys_t          *keys;
    ngx_msec_t                  written_time;   /* the zone's state */

    ngx_uint_t                  packets_in;
    ngx_uint_t                  packets_out;

    /* a publisher's, added to the stream's counters in the zone so far */
    uint64_t                    bytes_in;
    ngx_uint_t                  packets_counted;
    uint64_t                    bytes_counted;
    uint32_t                    lost_counted[2];
    ngx_msec_t                  counted_time;

    /* quality, told to the zone by the sweep (ngx_webrtc_peer_stats()) */
    uint32_t                    q_lost;
    uint32_t                    q_fraction;
    uint32_t                    q_jitter;       /* RTP units, video */
    ngx_msec_t                  q_rtt;
    uint32_t                    q_nacks;
    uint32_t                    q_plis;
    uint64_t                    q_bytes_in;     /* at the last sweep */
    uint64_t                    q_bytes_out;
    uint64_t                    q_bitrate_in;
    uint64_t                    q_bitrate_out;
    ngx_msec_t                  q_time;
    time_t                      nominated;
    const char                 *cipher;         /* DTLS, this worker's */
    const char                 *profile;

    ngx_msec_t                  consent_time;   /* refreshed by SRTP */
    ngx_msec_t                  resend_start;   /* a viewer's NACK budget */
    ngx_uint_t                  resent;

    unsigned                    dtls_done:1;
    unsigned                    dtls_parked:1;
    unsigned                    dtls_kept:1;
    unsigned                    dtls_forged:1;  /* logged */
    unsigned                    dtls_short:1;   /* logged */
    unsigned                    zone_missing:1; /* at the last sweep */
    unsigned                    dtls_capture:1;
    unsigned                    srtp_ready:1;
    unsigned                    closed:1;
    unsigned                    ssrc_logged:1;
    unsigned                    h264_logged:1;
    unsigned                    unprotect_logged:2;  /* 1 SRTP, 2 SRTCP */
    unsigned                    adopted:1;
    unsigned                    handed_off:1;
};


/* a recent video packet of the publisher, to answer NACKs */

typedef struct {
    uint32_t                    ssrc;
    uint16_t                    seq;
    uint16_t                    len;
    u_char                      data[NGX_WEBRTC_MTU];
} ngx_webrtc_cached_t;


/* a stream's peers in this worker */

struct ngx_webrtc_local_stream_s {
    ngx_rbtree_node_t           node;           /* key: zone address */
    ngx_webrtc_stream_t        *stream;
    uint32_t                    gen;            /* of the zone's stream */
    unsigned                    orphan:1;       /* not in the tree */
    ngx_webrtc_peer_t          *publisher;
    u_char                      publisher_id[NGX_WEBRTC_ID_LEN];
    ngx_uint_t                  epoch;          /* publishers seen */
    ngx_queue_t                 viewers;
    ngx_uint_t                  nviewers;
    ngx_msec_t                  last_pli;
    ngx_uint_t                  pli_retries;
    ngx_msec_t                  pli_gather;     /* waiting since */
    ngx_msec_t                  pli_gather_off; /* one ran out then */
    unsigned                    pli_gathering:1;
    ngx_event_t                 pli_timer;      /* a request held back */
    ngx_webrtc_cached_t        *cache;          /* [NGX_WEBRTC_CACHE_SIZE] */
    ngx_uint_t                  nacks;          /* answered from the cache */
    ngx_msec_t                  last_nack;      /* sent upstream */
    size_t                      name_len;
    u_char                      name[NGX_WEBRTC_STREAM_LEN];
};


/* the messages between workers */
#define NGX_WEBRTC_RELAY_RTP        1
#define NGX_WEBRTC_RELAY_SR         2
#define NGX_WEBRTC_RELAY_KEYFRAME   3
#define NGX_WEBRTC_RELAY_CLOSE      4
#define NGX_WEBRTC_RELAY_NACK       5
#define NGX_WEBRTC_RELAY_PATH       6
#define NGX_WEBRTC_RELAY_FORWARD    7


typedef struct {
    ngx_uint_t                  n;
    ngx_socket_t               *fds;            /* [n][2] */
} ngx_webrtc_relay_t;


/* RFC 6347, 4.1: a record's header; an AES-GCM alert record's body */
#define NGX_WEBRTC_DTLS_HEADER      13
#define NGX_WEBRTC_DTLS_ALERT       21
#define NGX_WEBRTC_GCM_NONCE        8
#define NGX_WEBRTC_GCM_TAG          16
#define NGX_WEBRTC_GCM_ALERT        (NGX_WEBRTC_GCM_NONCE + 2                 \
                                     + NGX_WEBRTC_GCM_TAG)
#define NGX_WEBRTC_POLY1305_TAG     16


/* dtls */
ngx_int_t ngx_webrtc_dtls_init(ngx_cycle_t *cycle);
ngx_int_t ngx_webrtc_dtls_create(ngx_webrtc_peer_t *peer);
ngx_int_t ngx_webrtc_dtls_input(ngx_webrtc_peer_t *peer, u_char *data,
    size_t len);
void ngx_webrtc_dtls_free(ngx_webrtc_peer_t *peer);
void ngx_webrtc_dtls_drop(ngx_webrtc_peer_t *peer);

/* dtls_park: the DTLS state after the handshake */
void ngx_webrtc_dtls_park(ngx_webrtc_peer_t *peer);
ngx_int_t ngx_webrtc_dtls_parked_input(ngx_webrtc_peer_t *peer,
    u_char *p, size_t len);
#if (NGX_HAVE_MALLOC_TRIM)
void ngx_webrtc_dtls_released_one(void);
#endif

/* keys: SRTP sessions */
ngx_int_t ngx_webrtc_srtp_init(ngx_cycle_t *cycle);
ngx_int_t ngx_webrtc_srtp_create(ngx_webrtc_peer_t *peer, ngx_uint_t profile,
    u_char *material);
void ngx_webrtc_srtp_free(ngx_webrtc_peer_t *peer);

/* relay: the channel between workers */
ngx_int_t ngx_webrtc_relay_init(ngx_cycle_t *cycle);
ngx_int_t ngx_webrtc_relay_init_process(ngx_cycle_t *cycle);
void ngx_webrtc_relay_path(ngx_int_t slot, u_char *id,
    ngx_webrtc_path_t *path);
void ngx_webrtc_relay_forward(ngx_int_t slot, u_char *id, u_char *p,
    size_t len, struct sockaddr *sockaddr, socklen_t socklen);
void ngx_webrtc_relay_send(ngx_uint_t slot, ngx_uint_t type,
    ngx_uint_t kind, ngx_webrtc_stream_t *stream, uint32_t gen, u_char *id,
    u_char *p, size_t len, u_char *tail, size_t tail_len);

extern uint64_t             ngx_webrtc_arrival;
extern ngx_webrtc_relay_t  *ngx_webrtc_relay;

/* fanout: a worker's streams, to its viewers and to the other workers */
ngx_int_t ngx_webrtc_fanout_init_process(ngx_cycle_t *cycle);
ngx_webrtc_local_stream_t *ngx_webrtc_local_lookup(
    ngx_webrtc_stream_t *stream, uint32_t gen);
ngx_int_t ngx_webrtc_relay_attach(ngx_webrtc_peer_t *peer);
void ngx_webrtc_relay_detach(ngx_webrtc_peer_t *peer);
void ngx_webrtc_relay_rtp(ngx_webrtc_peer_t *pub, u_char *p, size_t len);
void ngx_webrtc_relay_fanout(ngx_webrtc_peer_t *pub, ngx_uint_t type,
    ngx_uint_t kind, u_char *p, size_t len);
void ngx_webrtc_relay_local(ngx_webrtc_local_stream_t *ls,
    u_char *id, ngx_uint_t kind, u_char *p, size_t len,
    ngx_webrtc_rtp_t *rtp);
void ngx_webrtc_relay_viewer(ngx_webrtc_peer_t *v, ngx_uint_t kind,
    u_char *p, size_t len, ngx_webrtc_rtp_t *rtp, ngx_uint_t resend);
void ngx_webrtc_batch_flush(void);
void ngx_webrtc_relay_count_stream(ngx_webrtc_peer_t *pub,
    ngx_webrtc_local_stream_t *ls, ngx_uint_t last);


/* feedback: RTCP, key frames, NACK */
void ngx_webrtc_relay_rtcp(ngx_webrtc_peer_t *peer, u_char *p, size_t len);
void ngx_webrtc_relay_local_sr(ngx_webrtc_local_stream_t *ls,
    ngx_uint_t kind, const u_char *sr);
void ngx_webrtc_relay_keyframe(ngx_webrtc_peer_t *peer);
void ngx_webrtc_relay_keyframe_due(ngx_webrtc_local_stream_t *ls);
void ngx_webrtc_relay_keyframe_handler(ngx_event_t *ev);
void ngx_webrtc_relay_publisher_nack(ngx_webrtc_local_stream_t *ls,
    u_char *fci, size_t len);
void ngx_webrtc_relay_remb_handler(ngx_event_t *ev);
void ngx_webrtc_relay_start(ngx_webrtc_peer_t *peer);

/* hand-over on reload */
void ngx_webrtc_peer_exit(void);
ngx_int_t ngx_webrtc_peer_exit_init(ngx_cycle_t *cycle);
void ngx_webrtc_peer_leave_connection(ngx_webrtc_peer_t *peer);
ngx_int_t ngx_webrtc_peer_adopt(u_char *id, ngx_connection_t *c,
    ngx_webrtc_peer_t **peerp);
void ngx_webrtc_peer_adopt_pending(void);
void ngx_webrtc_peer_write_state(ngx_webrtc_peer_t *peer);

#define NGX_WEBRTC_STATE_RTCP       8
#define NGX_WEBRTC_STATE_INTERVAL   1000

/* a viewer's track: state written after so many packets or reports */
#define ngx_webrtc_out_state_due(out)                                         \
    ((uint16_t) ((out)->high - (out)->written) >= NGX_WEBRTC_RESUME_WINDOW    \
     || (out)->rtcp - (out)->rtcp_written >= NGX_WEBRTC_STATE_RTCP)

#define ngx_webrtc_peer_state_due(peer)                                       \
    (ngx_current_msec - (peer)->written_time >= NGX_WEBRTC_STATE_INTERVAL)
srtp_err_status_t ngx_webrtc_peer_unprotect_resumed(ngx_webrtc_peer_t *peer,
    u_char *p, int *n, uint32_t ssrc);

extern ngx_uint_t    ngx_webrtc_handing_off;
extern ngx_uint_t    ngx_webrtc_closing;
extern ngx_rbtree_t  ngx_webrtc_peers;

/* ICE-TCP: a packet framed into a connection (ngx_stream_webrtc_tcp.c) */
ngx_int_t ngx_stream_webrtc_tcp_send(ngx_connection_t *c, u_char *p,
    size_t len);

/* peer: a session in the worker serving its media */
ngx_webrtc_peer_t *ngx_webrtc_peer_create(u_char *id,
    ngx_webrtc_claim_t *claim, ngx_connection_t *c);
void ngx_webrtc_peer_insert(ngx_webrtc_peer_t *peer);
void ngx_webrtc_peer_free(ngx_webrtc_peer_t *peer);
ssize_t ngx_webrtc_peer_send(ngx_webrtc_peer_t *peer, u_char *p, size_t len);
ngx_int_t ngx_webrtc_peer_send_rtcp(ngx_webrtc_peer_t *peer, u_char *p,
    size_t len);
void ngx_webrtc_peer_close(ngx_webrtc_peer_t *peer, ngx_uint_t cause,
    const char *reason);
void ngx_webrtc_peer_stats(ngx_webrtc_peer_t *peer, ngx_webrtc_quality_t *st);
void ngx_webrtc_notify(ngx_webrtc_peer_t *peer, const char *event,
    const char *reason);
ngx_webrtc_peer_t *ngx_webrtc_peer_by_id(u_char *id);
void ngx_webrtc_peer_input(ngx_webrtc_peer_t *peer, u_char *p, size_t len);
void ngx_webrtc_peer_forwarded(ngx_webrtc_peer_t *peer, u_char *p,
    size_t len, struct sockaddr *sockaddr, socklen_t socklen);

/* path: where a peer's media goes */
void ngx_webrtc_peer_set_path(ngx_webrtc_peer_t *peer, ngx_connection_t *c);
ngx_int_t ngx_webrtc_peer_set_remote_path(ngx_webrtc_peer_t *peer,
    ngx_webrtc_path_t *path);
void ngx_webrtc_peer_remote_path(ngx_webrtc_peer_t *peer,
    ngx_webrtc_path_t *path);
ngx_socket_t ngx_webrtc_peer_listen_fd(struct sockaddr *sockaddr,
    socklen_t socklen);
void ngx_webrtc_path_msghdr(ngx_webrtc_path_t *path, struct msghdr *msg,
    u_char *cmsg);


#endif /* _NGX_WEBRTC_MEDIA_H_INCLUDED_ */
