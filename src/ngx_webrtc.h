
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#ifndef _NGX_WEBRTC_H_INCLUDED_
#define _NGX_WEBRTC_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "ngx_webrtc_sdp.h"


#define NGX_WEBRTC_ID_LEN           32      /* 128 random bits, hex */
#define NGX_WEBRTC_UFRAG_LEN        8       /* 48 bits, RFC 8445 needs 24 */
#define NGX_WEBRTC_PWD_LEN          32      /* 192 bits, RFC 8445 needs 128 */
#define NGX_WEBRTC_STREAM_LEN       64
#define NGX_WEBRTC_FP_TEXT_LEN      (sizeof("sha-256 ") - 1 + 32 * 3 - 1)

#define NGX_WEBRTC_MAX_WORKERS      (NGX_PTR_SIZE * 8)   /* a bit each */
#define NGX_WEBRTC_DELAY_BUCKETS    31      /* and one past the last */

/* why a session closed, told to the worker serving its media */
#define NGX_WEBRTC_CLOSE_DELETED    0       /* WHIP/WHEP DELETE */
#define NGX_WEBRTC_CLOSE_CONSENT    1       /* RFC 7675 */
#define NGX_WEBRTC_CLOSE_EXPIRED    2       /* the zone timed it out */
#define NGX_WEBRTC_CLOSE_SIGNALING  3       /* its WebSocket ended */


typedef struct ngx_webrtc_stream_s   ngx_webrtc_stream_t;
typedef struct ngx_webrtc_session_s  ngx_webrtc_session_t;


/*
 * the sessions of one client address, for webrtc_max_client_sessions, or
 * of one role's bearer token (a keyed hash), webrtc_max_token_sessions
 */

#define NGX_WEBRTC_CLIENT_KEY_LEN   16

typedef struct {
    ngx_str_node_t                node;
    ngx_uint_t                    sessions;
    u_char                        addr[NGX_WEBRTC_CLIENT_KEY_LEN];
} ngx_webrtc_client_t;


/* a session: one peer connection of a publisher or a viewer */

struct ngx_webrtc_session_s {
    ngx_str_node_t                id_node;
    ngx_str_node_t                ufrag_node;
    ngx_queue_t                   expire;        /* oldest first */
    ngx_queue_t                   queue;         /* in stream->viewers */
    ngx_webrtc_stream_t          *stream;
    ngx_webrtc_client_t          *client;
    ngx_webrtc_client_t          *token;

    time_t                        created;
    time_t                        expires;
    ngx_uint_t                    role;          /* ngx_webrtc_role_e */
    ngx_uint_t                    restarts;

    /* the worker serving the media, once ICE nominated a path */
    ngx_pid_t                     owner_pid;
    ngx_int_t                     owner_slot;

    /* remote addresses with a valid check: nginx UDP connections, all */
    ngx_uint_t                    naddrs;

    /* DTLS completed, told by the worker serving the media */
    ngx_uint_t                    established;

    u_char                        id[NGX_WEBRTC_ID_LEN];
    u_char                        ufrag[NGX_WEBRTC_UFRAG_LEN];
    u_char                        pwd[NGX_WEBRTC_PWD_LEN];

    size_t                        remote_ufrag_len;
    size_t                        remote_pwd_len;
    u_char                        remote_ufrag[NGX_WEBRTC_SDP_ICE_MAX];
    u_char                        remote_pwd[NGX_WEBRTC_SDP_ICE_MAX];

    ngx_uint_t                    nfingerprints;
    ngx_webrtc_fingerprint_t      fingerprints[NGX_WEBRTC_SDP_MAX_FINGERPRINTS];

    ngx_webrtc_track_t            tracks[2];     /* [0] audio, [1] video */
};


/* a stream: one publisher, any number of viewers, by name */

struct ngx_webrtc_stream_s {
    ngx_str_node_t                node;
    ngx_webrtc_session_t         *publisher;
    ngx_queue_t                   viewers;
    ngx_uint_t                    nviewers;
    time_t                        created;

    /*
     * a chunk of the zone may hold another stream later: workers check
     * this with its address
     */
    uint32_t                      gen;

    /* workers with viewers of the stream, a bit each */
    ngx_atomic_t                  workers;

    /* the publisher's negotiated tracks, kept while viewers wait */
    ngx_webrtc_track_t            tracks[2];

    /*
     * H.264: the profile-level-id the publisher's offer said, and the one
     * of the SPS it sends (0: none seen yet); tracks[1] has the SPS's
     * profile once seen, so viewers are negotiated against what is sent
     */
    uint32_t                      h264_label;
    uint32_t                      h264_sps;

    /* what the publishers sent, told by their worker once a second */
    uint64_t                      packets_in;
    uint64_t                      bytes_in;
    uint64_t                      packets_lost;
    uint64_t                      bitrate_in;    /* in the last second */

    u_char                        name[NGX_WEBRTC_STREAM_LEN];
};


/* the worker serving a session's media, told when the session is gone */

#define NGX_WEBRTC_EXPIRE_OWNERS      64

typedef struct {
    ngx_pid_t                     pid;
    ngx_int_t                     slot;
    u_char                        id[NGX_WEBRTC_ID_LEN];
} ngx_webrtc_owner_t;


/*
 * What a worker's media plane did, written by that worker (and, for a
 * while after a reload, by the old one it replaced: atomic adds) and read
 * by the status location of any.  "delay" counts the packets sent to viewers
 * by the time from the publisher packet's arrival (the kernel's receive
 * timestamp) to their hand-off to the kernel, in the buckets of
 * ngx_webrtc_delay_bounds[].
 */

typedef struct {
    ngx_atomic_t                  pid;
    ngx_atomic_t                  publishers;
    ngx_atomic_t                  viewers;
    ngx_atomic_t                  packets_in;    /* publishers' RTP */
    ngx_atomic_t                  bytes_in;
    ngx_atomic_t                  packets_out;   /* to viewers */
    ngx_atomic_t                  bytes_out;
    ngx_atomic_t                  dropped_out;   /* socket buffer full */
    ngx_atomic_t                  relay_dropped; /* to other workers */
    ngx_atomic_t                  keyframe_requests; /* PLIs, or to the
                                                      publisher's worker */
    ngx_atomic_t                  delay[NGX_WEBRTC_DELAY_BUCKETS + 1];
} ngx_webrtc_worker_stats_t;


typedef struct {
    ngx_rbtree_t                  sessions;      /* by id */
    ngx_rbtree_node_t             sessions_sentinel;
    ngx_rbtree_t                  ufrags;        /* by local ICE ufrag */
    ngx_rbtree_node_t             ufrags_sentinel;
    ngx_rbtree_t                  streams;       /* by name */
    ngx_rbtree_node_t             streams_sentinel;
    ngx_rbtree_t                  clients;       /* by address */
    ngx_rbtree_node_t             clients_sentinel;
    ngx_rbtree_t                  tokens;        /* by token hash */
    ngx_rbtree_node_t             tokens_sentinel;

    /* the HMAC key of token hashes, random, made with the zone */
    u_char                        token_key[32];

    ngx_queue_t                   expire;

    ngx_uint_t                    nsessions;
    ngx_uint_t                    nstreams;
    uint32_t                      stream_gen;

    /* [nworkers], by worker number */
    ngx_webrtc_worker_stats_t    *workers;
    ngx_uint_t                    nworkers;
} ngx_webrtc_shm_t;


typedef struct {
    ngx_webrtc_shm_t             *sh;
    ngx_slab_pool_t              *shpool;
} ngx_webrtc_shm_ctx_t;


typedef struct {
    ngx_webrtc_session_t         *session;
    u_char                        id[NGX_WEBRTC_ID_LEN];
    ngx_uint_t                    use_candidate;
    uint32_t                      priority;
    const char                   *error;
} ngx_webrtc_ice_result_t;


typedef struct {
    size_t                        zone_size;
    time_t                        consent_timeout;
    time_t                        handshake_timeout;
    ngx_str_t                     certificate;
    ngx_str_t                     certificate_key;

    X509                         *cert;
    EVP_PKEY                     *key;
    ngx_str_t                     fingerprint;   /* "sha-256 AB:..:EF" */

    ngx_shm_zone_t               *shm_zone;
    ngx_event_t                   expire_event;
    ngx_flag_t                    media;         /* a stream server */
} ngx_webrtc_core_conf_t;


ngx_int_t ngx_webrtc_core_use(ngx_conf_t *cf);
ngx_webrtc_core_conf_t *ngx_webrtc_core_conf(ngx_cycle_t *cycle);
ngx_int_t ngx_webrtc_random(u_char *buf, size_t len, const char *alphabet);
const char *ngx_webrtc_h264_profile_name(ngx_uint_t profile);

ngx_int_t ngx_webrtc_ice_process(ngx_webrtc_shm_ctx_t *shm, ngx_log_t *log,
    u_char *in, size_t len, struct sockaddr *sa, socklen_t socklen,
    u_char *out, size_t *outlen, ngx_webrtc_ice_result_t *result);

ngx_int_t ngx_webrtc_shm_init_zone(ngx_shm_zone_t *shm_zone, void *data);
ngx_webrtc_stream_t *ngx_webrtc_stream_lookup(ngx_webrtc_shm_ctx_t *ctx,
    ngx_str_t *name);
ngx_webrtc_stream_t *ngx_webrtc_stream_create(ngx_webrtc_shm_ctx_t *ctx,
    ngx_str_t *name);
void ngx_webrtc_stream_release(ngx_webrtc_shm_ctx_t *ctx,
    ngx_webrtc_stream_t *st);
ngx_webrtc_session_t *ngx_webrtc_session_create(ngx_webrtc_shm_ctx_t *ctx,
    ngx_webrtc_stream_t *st, ngx_uint_t role, time_t timeout);
ngx_webrtc_session_t *ngx_webrtc_session_lookup(ngx_webrtc_shm_ctx_t *ctx,
    u_char *id, size_t len);
ngx_webrtc_session_t *ngx_webrtc_session_lookup_ufrag(
    ngx_webrtc_shm_ctx_t *ctx, u_char *ufrag, size_t len);
ngx_int_t ngx_webrtc_session_new_ufrag(ngx_webrtc_shm_ctx_t *ctx,
    ngx_webrtc_session_t *s);
void ngx_webrtc_session_close(ngx_webrtc_shm_ctx_t *ctx,
    ngx_webrtc_session_t *s);
void ngx_webrtc_session_touch(ngx_webrtc_shm_ctx_t *ctx,
    ngx_webrtc_session_t *s, time_t expires);
void ngx_webrtc_session_expire(ngx_webrtc_shm_ctx_t *ctx,
    ngx_webrtc_session_t *s, time_t now);
ngx_int_t ngx_webrtc_session_client(ngx_webrtc_shm_ctx_t *ctx,
    ngx_webrtc_session_t *s, u_char *addr, size_t len, ngx_uint_t max);
ngx_int_t ngx_webrtc_session_token(ngx_webrtc_shm_ctx_t *ctx,
    ngx_webrtc_session_t *s, u_char *hash, ngx_uint_t max);
ngx_int_t ngx_webrtc_relay_init(ngx_cycle_t *cycle);
void ngx_webrtc_relay_close(ngx_int_t slot, ngx_pid_t pid, u_char *id,
    ngx_uint_t reason);
void ngx_webrtc_relay_close_session(u_char *id, ngx_uint_t reason);

ngx_uint_t ngx_webrtc_shm_expire(ngx_webrtc_shm_ctx_t *ctx, time_t now,
    ngx_log_t *log, ngx_webrtc_owner_t *owners, ngx_uint_t *nowners);


extern const ngx_uint_t  ngx_webrtc_delay_bounds[NGX_WEBRTC_DELAY_BUCKETS];

extern ngx_module_t  ngx_webrtc_core_module;
extern ngx_module_t  ngx_http_webrtc_module;
extern ngx_module_t  ngx_stream_webrtc_module;


#endif /* _NGX_WEBRTC_H_INCLUDED_ */
