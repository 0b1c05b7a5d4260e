
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#ifndef _NGX_WEBRTC_REGISTRY_H_INCLUDED_
#define _NGX_WEBRTC_REGISTRY_H_INCLUDED_


/*
 * The registry: streams and sessions in the shared memory zone, seen by
 * every worker.  Its records are opaque outside ngx_webrtc_registry.c;
 * every function takes the zone's lock itself and answers with copies.
 * A stream is named by its record and generation: a record that was
 * freed keeps being a stream record (it is reused only for another
 * stream), and its generation tells it apart.
 *
 * Return codes, the same in every function:
 *
 *   NGX_OK        done
 *   NGX_DECLINED  refused by a limit or a precondition (the reason is in
 *                 the out struct)
 *   NGX_BUSY      a live worker serves the session: the owner is in out
 *   NGX_AGAIN     the stream changed since the caller read it
 *   NGX_ABORT     gone: no such session, or a stale stream
 *   NGX_DONE      as the function says
 *   NGX_ERROR     the zone is full, or an internal error
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_webrtc_sdp.h"
#include "ngx_webrtc_srtp.h"
#include "ngx_webrtc_resume.h"


typedef struct ngx_webrtc_stream_s   ngx_webrtc_stream_t;   /* opaque */


/* the worker serving a session's media */

typedef struct {
    ngx_pid_t                     pid;          /* 0: none */
    ngx_int_t                     slot;
    uint32_t                      cycle;        /* of its configuration */
    ngx_uint_t                    handoff;      /* released to adopt */
    u_char                        id[NGX_WEBRTC_ID_LEN];
} ngx_webrtc_owner_t;


/*
 * What a worker that hands a session over on reload leaves for the one
 * that adopts it: the media path, and the SRTP state of each SSRC, exact
 * (written after its last packet)
 */

typedef struct {
    ngx_webrtc_resume_track_t     track;        /* the viewer's SSRC */
    uint32_t                      last_ts;
    uint16_t                      last_seq;
    uint8_t                       started;
    uint8_t                       sent;
    ngx_msec_t                    last_time;    /* monotonic */
    uint32_t                      packets;      /* for sender reports */
    uint32_t                      octets;
} ngx_webrtc_handoff_out_t;


typedef struct {
    ngx_sockaddr_t                remote;
    ngx_sockaddr_t                local;
    ngx_sockaddr_t                listen;
    socklen_t                     remote_len;
    socklen_t                     local_len;
    socklen_t                     listen_len;
    ngx_uint_t                    wildcard;

    ngx_webrtc_handoff_out_t      out[2];       /* a viewer's tracks */
    ngx_uint_t                    nin;          /* a publisher's SSRCs */
    ngx_webrtc_resume_track_t     in[NGX_WEBRTC_MAX_SSRC];
    uint32_t                      ssrc[2];

    ngx_uint_t                    dtls_parked;
    uint8_t                       dtls_key_len;
    uint8_t                       dtls_close_len;
    u_char                        dtls_key[NGX_WEBRTC_DTLS_KEY];
    u_char                        dtls_close[NGX_WEBRTC_DTLS_CLOSE];
} ngx_webrtc_handoff_t;


/* the SRTP master keys and salts of a session, by direction */

typedef struct {
    ngx_uint_t                    gcm;
    u_char                        in[NGX_WEBRTC_SRTP_KEY_LEN];
    u_char                        out[NGX_WEBRTC_SRTP_KEY_LEN];
} ngx_webrtc_keys_t;


/* why a new session was refused, with NGX_DECLINED */

typedef enum {
    NGX_WEBRTC_REFUSED_PUBLISHED = 1,   /* 409: the stream has a publisher */
    NGX_WEBRTC_REFUSED_NOT_PUBLISHED,   /* 404: nothing to watch */
    NGX_WEBRTC_REFUSED_VIEWERS,         /* 503: webrtc_max_viewers */
    NGX_WEBRTC_REFUSED_CLIENT,          /* 429: webrtc_max_client_sessions */
    NGX_WEBRTC_REFUSED_TOKEN            /* 429: webrtc_max_token_sessions */
} ngx_webrtc_refused_e;


/* why the zone closed a session, for the status's counters */

typedef enum {
    NGX_WEBRTC_CLOSED_DELETED = 0,      /* a DELETE of its URL */
    NGX_WEBRTC_CLOSED_SIGNALING,        /* by id: its WebSocket ended */
    NGX_WEBRTC_CLOSED_MEDIA,            /* by the worker serving its media */
    NGX_WEBRTC_CLOSED_TIMEOUT,          /* ICE, DTLS or consent, in the zone */
    NGX_WEBRTC_CLOSED_NOT_RESUMED,      /* its WebSocket not resumed */
    NGX_WEBRTC_CLOSED_WORKER_EXITED,    /* its worker exited, no keys kept */
    NGX_WEBRTC_CLOSED_CONSENT,          /* ICE consent expired (media) */
    NGX_WEBRTC_CLOSED_DTLS,             /* DTLS failed or timed out */
    NGX_WEBRTC_CLOSED_CLIENT,           /* the client's DTLS close_notify */
    NGX_WEBRTC_CLOSED_LAST
} ngx_webrtc_closed_e;


/*
 * Sessions made, closed and refused since the zone was created, by role
 * (0: publishers, 1: viewers); refusals by ngx_webrtc_refused_e, [0] the
 * zone full
 */

typedef struct {
    uint64_t                      created[2];
    uint64_t                      closed[2][NGX_WEBRTC_CLOSED_LAST];
    uint64_t                      refused[NGX_WEBRTC_REFUSED_TOKEN + 1];
    uint64_t                      addresses_refused; /* checks, past
                                                        max_addresses */
} ngx_webrtc_session_stats_t;


typedef struct {
    ngx_uint_t                    exists;
    ngx_uint_t                    published;
    ngx_uint_t                    nviewers;
    uint32_t                      version;      /* of tracks; 0: no stream */
    ngx_webrtc_track_t            tracks[2];
} ngx_webrtc_stream_info_t;


typedef struct {
    ngx_str_t                    *stream;
    ngx_uint_t                    role;
    time_t                        timeout;      /* ICE and DTLS to finish */

    /* what was negotiated, against ngx_webrtc_stream_info_t */
    uint32_t                      version;
    ngx_uint_t                    with_viewers; /* a publisher's, on tracks */
    ngx_webrtc_track_t           *tracks;       /* [2], the answer's */

    /* the client's ICE credentials, DTLS fingerprints */
    ngx_webrtc_sdp_str_t          remote_ufrag;
    ngx_webrtc_sdp_str_t          remote_pwd;
    ngx_uint_t                    nfingerprints;
    ngx_webrtc_fingerprint_t     *fingerprints;

    /* limits: 0 is none */
    u_char                       *client;       /* address bytes */
    size_t                        client_len;
    u_char                       *token;        /* keyed hash, or NULL */
    ngx_uint_t                    max_viewers;
    ngx_uint_t                    max_client;
    ngx_uint_t                    max_token;

    /* out, with NGX_DECLINED */
    ngx_webrtc_refused_e          refused;
    ngx_uint_t                    count;        /* viewers, sessions */
} ngx_webrtc_session_req_t;


typedef struct {
    ngx_uint_t                    role;
    u_char                        id[NGX_WEBRTC_ID_LEN];
    u_char                        ufrag[NGX_WEBRTC_UFRAG_LEN];
    u_char                        pwd[NGX_WEBRTC_PWD_LEN];
    size_t                        remote_ufrag_len;
    u_char                        remote_ufrag[NGX_WEBRTC_SDP_ICE_MAX];
    size_t                        mid_len;      /* the first track's */
    u_char                        mid[NGX_WEBRTC_SDP_MID_LEN];
} ngx_webrtc_session_info_t;


/* a connectivity check of a session's, by ngx_webrtc_registry_check() */

typedef struct {
    ngx_uint_t                    counted;      /* in: the address is */
    ngx_uint_t                    max_addresses;
    time_t                        consent;      /* the new deadline */
    time_t                        handshake_timeout;

    /* out */
    ngx_uint_t                    naddrs;
    ngx_uint_t                    expired;      /* made to expire now */
    ngx_uint_t                    owner_exited; /* and closed for it */
    ngx_pid_t                     owner_pid;    /* serving its media, or 0 */
} ngx_webrtc_check_t;


/* what a worker takes over with a session's media, a copy */

typedef struct {
    ngx_uint_t                    role;
    ngx_webrtc_stream_t          *stream;
    uint32_t                      stream_gen;
    size_t                        stream_name_len;
    u_char                        stream_name[NGX_WEBRTC_STREAM_LEN];
    ngx_uint_t                    established;
    ngx_webrtc_owner_t            owner;        /* with NGX_BUSY */
    ngx_webrtc_track_t            tracks[2];
    ngx_uint_t                    nfingerprints;
    ngx_webrtc_fingerprint_t      fingerprints[NGX_WEBRTC_SDP_MAX_FINGERPRINTS];
} ngx_webrtc_claim_t;


/* the status location's copy of the zone */

typedef struct {
    ngx_str_t                     name;
    ngx_uint_t                    live;
    ngx_uint_t                    nviewers;
    time_t                        created;
    uint64_t                      packets_in;
    uint64_t                      bytes_in;
    uint64_t                      packets_lost;
    uint64_t                      bitrate_in;
    ngx_uint_t                    h264;         /* video is H.264 */
    uint32_t                      h264_sps;
    uint32_t                      h264_label;
} ngx_webrtc_stream_stat_t;


typedef struct {
    ngx_webrtc_stream_stat_t     *streams;
    ngx_uint_t                    nstreams;
    ngx_webrtc_worker_stats_t    *workers;      /* copies */
    ngx_uint_t                    nworkers;
    ngx_webrtc_session_stats_t    sessions;
} ngx_webrtc_snapshot_t;


/* a session, for the status location (ngx_webrtc_registry_report()) */

typedef struct {
    u_char                        id[NGX_WEBRTC_ID_LEN];
    ngx_uint_t                    role;
    size_t                        stream_len;
    u_char                        stream[NGX_WEBRTC_STREAM_LEN];
    time_t                        created;
    ngx_int_t                     worker;       /* its media's, -1: none */
    ngx_uint_t                    handoff;      /* between workers */
    ngx_uint_t                    established;  /* DTLS completed */
    ngx_webrtc_quality_t          quality;
} ngx_webrtc_session_report_t;


typedef struct {
    ngx_webrtc_session_report_t  *sessions;
    ngx_uint_t                    n;
    ngx_uint_t                    total;        /* beyond n: not copied */
} ngx_webrtc_report_t;


ngx_int_t ngx_webrtc_registry_add_zone(ngx_conf_t *cf, ngx_str_t *name,
    void *tag, ngx_shm_zone_t **zone);
ngx_int_t ngx_webrtc_registry_certificate(ngx_shm_zone_t *shm_zone,
    ngx_pool_t *pool, ngx_str_t *cert, ngx_str_t *key, ngx_str_t *kept_cert,
    ngx_str_t *kept_key);

/* a worker's counters */
#define NGX_WEBRTC_COUNT_KEYFRAME       0
#define NGX_WEBRTC_COUNT_RELAY_DROPPED  1

void ngx_webrtc_registry_stats_init(ngx_uint_t slot);
void ngx_webrtc_registry_count_peer(ngx_uint_t role, ngx_int_t n);
void ngx_webrtc_registry_count_in(size_t len);
void ngx_webrtc_registry_count_out(ngx_uint_t n, ngx_uint_t sent,
    size_t bytes, uint64_t arrival);
void ngx_webrtc_registry_count_event(ngx_uint_t counter);

/* signaling */
ngx_int_t ngx_webrtc_registry_token_hash(ngx_uint_t role, ngx_str_t *token,
    u_char *hash, ngx_log_t *log);
ngx_int_t ngx_webrtc_registry_stream_info(ngx_str_t *name,
    ngx_webrtc_stream_info_t *info);
ngx_int_t ngx_webrtc_registry_session_create(ngx_webrtc_session_req_t *req,
    ngx_webrtc_session_info_t *out);
ngx_int_t ngx_webrtc_registry_session_find(ngx_str_t *id, ngx_uint_t role,
    ngx_str_t *stream, ngx_webrtc_session_info_t *out);
ngx_int_t ngx_webrtc_registry_ice_restart(ngx_str_t *id, ngx_uint_t role,
    ngx_str_t *stream, ngx_webrtc_sdp_str_t *ufrag, ngx_webrtc_sdp_str_t *pwd,
    ngx_webrtc_session_info_t *out);
ngx_int_t ngx_webrtc_registry_session_end(ngx_str_t *id, ngx_uint_t role,
    ngx_str_t *stream, ngx_webrtc_owner_t *owner);
ngx_int_t ngx_webrtc_registry_detach_signaling(ngx_str_t *id,
    time_t deadline);
ngx_int_t ngx_webrtc_registry_attach_signaling(ngx_str_t *id, ngx_uint_t role,
    ngx_str_t *stream, ngx_webrtc_session_info_t *out);
ngx_int_t ngx_webrtc_registry_snapshot(ngx_pool_t *pool, ngx_str_t *name,
    ngx_uint_t nworkers, ngx_webrtc_snapshot_t *snap);
ngx_uint_t ngx_webrtc_registry_expire(time_t now, ngx_log_t *log,
    ngx_webrtc_owner_t *owners, ngx_uint_t *nowners);

/* reload: a configuration's workers and the ones before */
void ngx_webrtc_registry_init_worker(void);
uint32_t ngx_webrtc_registry_cycle(void);
ngx_int_t ngx_webrtc_registry_successor(void);

/* media */
ngx_int_t ngx_webrtc_registry_put_keys(u_char *id, ngx_webrtc_keys_t *keys);
ngx_int_t ngx_webrtc_registry_handoff(u_char *id, ngx_webrtc_handoff_t *state);
ngx_int_t ngx_webrtc_registry_put_state(u_char *id,
    ngx_webrtc_handoff_t *state);
ngx_int_t ngx_webrtc_registry_adopt(u_char *id, ngx_webrtc_claim_t *claim,
    ngx_webrtc_keys_t *keys, ngx_webrtc_handoff_t *state, ngx_uint_t *final);
ngx_uint_t ngx_webrtc_registry_pending(ngx_uint_t slot, ngx_uint_t nworkers,
    ngx_uint_t orphans, u_char (*ids)[NGX_WEBRTC_ID_LEN], ngx_uint_t max);
void ngx_webrtc_registry_path_set(u_char *id, struct sockaddr *sockaddr,
    socklen_t socklen);
ngx_int_t ngx_webrtc_registry_path_lookup(struct sockaddr *sockaddr,
    socklen_t socklen, ngx_webrtc_owner_t *owner);
ngx_int_t ngx_webrtc_registry_ice_lookup(u_char *ufrag, size_t len,
    u_char *remote, size_t remote_len, u_char *pwd, u_char *id);
ngx_int_t ngx_webrtc_registry_check(u_char *id, ngx_webrtc_check_t *chk);
void ngx_webrtc_registry_uncount(u_char *id);
ngx_int_t ngx_webrtc_registry_touch(u_char *id, time_t consent,
    ngx_uint_t established);
ngx_int_t ngx_webrtc_registry_consent(u_char *id, time_t *deadline);
ngx_int_t ngx_webrtc_registry_claim(u_char *id, ngx_webrtc_claim_t *out);
ngx_int_t ngx_webrtc_registry_close(u_char *id, ngx_uint_t cause);
ngx_int_t ngx_webrtc_registry_report(ngx_pool_t *pool, ngx_str_t *id,
    ngx_str_t *name, ngx_uint_t max, ngx_webrtc_report_t *rep);
void ngx_webrtc_registry_sweep(u_char **ids, ngx_webrtc_quality_t *stats,
    ngx_uint_t n, u_char *exist);

/* streams */
ngx_int_t ngx_webrtc_registry_stream_worker(ngx_webrtc_stream_t *st,
    uint32_t gen, ngx_uint_t add);
ngx_atomic_uint_t ngx_webrtc_registry_stream_mask(ngx_webrtc_stream_t *st,
    uint32_t gen);
ngx_int_t ngx_webrtc_registry_stream_tracks(ngx_webrtc_stream_t *st,
    uint32_t gen, ngx_webrtc_track_t *tracks);
ngx_int_t ngx_webrtc_registry_stream_publisher(ngx_webrtc_stream_t *st,
    uint32_t gen, ngx_webrtc_owner_t *owner);
ngx_int_t ngx_webrtc_registry_stream_moving(ngx_webrtc_stream_t *st,
    uint32_t gen);
ngx_int_t ngx_webrtc_registry_stream_h264(ngx_webrtc_stream_t *st,
    uint32_t gen, u_char *publisher, uint32_t sps, uint32_t plid,
    ngx_uint_t profile);
void ngx_webrtc_registry_stream_count(ngx_webrtc_stream_t *st, uint32_t gen,
    uint64_t packets, uint64_t bytes, uint64_t lost, uint64_t bitrate,
    ngx_uint_t set_bitrate);


#endif /* _NGX_WEBRTC_REGISTRY_H_INCLUDED_ */
