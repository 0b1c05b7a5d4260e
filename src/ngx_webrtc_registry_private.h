
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#ifndef _NGX_WEBRTC_REGISTRY_PRIVATE_H_INCLUDED_
#define _NGX_WEBRTC_REGISTRY_PRIVATE_H_INCLUDED_


/*
 * The registry's records, known only to ngx_webrtc_registry*.c: the
 * functions declared here are called with the zone locked.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_webrtc.h"


/*
 * the sessions of one client address, for webrtc_max_client_sessions, or
 * of one role's bearer token (a keyed hash), webrtc_max_token_sessions
 */

typedef struct {
    ngx_str_node_t                node;
    ngx_uint_t                    sessions;
    u_char                        addr[NGX_WEBRTC_CLIENT_KEY_LEN];
} ngx_webrtc_client_t;


/* a session's keys, and the state a hand-over leaves */

#define NGX_WEBRTC_PATH_KEY_LEN       (1 + 2 + 16)

/*
 * The state is written by the worker serving the session: lazily while it
 * runs (a crash leaves the last write), exactly when it hands the session
 * over.  Two copies: a write goes into the one not current and then makes
 * it current, so a worker that dies in the middle of one (nginx unlocks
 * the zone after it) leaves the one before whole.
 */

typedef struct {
    ngx_webrtc_keys_t             keys;
    ngx_uint_t                    has_state;
    ngx_uint_t                    cur;
    ngx_uint_t                    final;         /* written at hand-over */
    ngx_webrtc_handoff_t          state[2];
} ngx_webrtc_media_t;


/* a session: one peer connection of a publisher or a viewer */

typedef struct {
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

    /*
     * its WebSocket closed on reload: the time until which the client may
     * resume it on a new one (0: not detached)
     */
    time_t                        detached;

    /* the worker serving the media, once ICE nominated a path */
    ngx_pid_t                     owner_pid;
    ngx_int_t                     owner_slot;
    uint32_t                      owner_cycle;

    /* released by a worker that exited on reload, for a new one to adopt */
    ngx_uint_t                    handoff;

    /* the SRTP keys, once DTLS completed, and what a hand-over leaves */
    ngx_webrtc_media_t           *media;

    /* by the media path's remote address, in the zone's paths */
    ngx_str_node_t                path_node;
    u_char                        path_key[NGX_WEBRTC_PATH_KEY_LEN];

    /* remote addresses with a valid check: nginx UDP connections, all */
    ngx_uint_t                    naddrs;

    /* DTLS completed, told by the worker serving the media */
    ngx_uint_t                    established;

    /* its quality, told by that worker once a second */
    ngx_webrtc_quality_t          quality;

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
} ngx_webrtc_session_t;


/*
 * A stream: one publisher, any number of viewers, by name.  Its record
 * stays a stream record when freed (on the free list, gen 0), so that a
 * worker holding it with an old generation reads a stream, never another
 * kind of record.
 */

struct ngx_webrtc_stream_s {
    ngx_str_node_t                node;
    ngx_webrtc_session_t         *publisher;
    ngx_queue_t                   viewers;
    ngx_uint_t                    nviewers;
    time_t                        created;
    ngx_webrtc_stream_t          *next_free;

    /* 0 while free; unique while the zone lives */
    uint32_t                      gen;

    /* bumped when tracks change: offers negotiated before are again */
    uint32_t                      version;

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
    ngx_rbtree_t                  paths;         /* by remote address */
    ngx_rbtree_node_t             paths_sentinel;

    /*
     * configurations: the newest (bumped by each reload that keeps the
     * zone), the newest whose workers started, and the sessions handed
     * over by exiting workers, not adopted yet
     */
    uint32_t                      cycle;
    uint32_t                      worker_cycle;
    ngx_uint_t                    handoffs;

    /* the generated DTLS certificate, kept across reloads */
    ngx_str_t                     cert;
    ngx_str_t                     cert_key;

    /* the HMAC key of token hashes, random, made with the zone */
    u_char                        token_key[32];

    ngx_queue_t                   expire;

    /* the earliest deadline of a detached session, 0: none (a hint) */
    time_t                        detach_next;

    ngx_uint_t                    nsessions;
    ngx_uint_t                    nstreams;
    uint32_t                      stream_gen;
    ngx_webrtc_stream_t          *free_streams;

    /* [nworkers], by worker number */
    ngx_webrtc_worker_stats_t    *workers;
    ngx_uint_t                    nworkers;

    ngx_webrtc_session_stats_t    stats;
} ngx_webrtc_registry_sh_t;


typedef struct {
    ngx_webrtc_registry_sh_t     *sh;
    ngx_slab_pool_t              *shpool;
} ngx_webrtc_registry_ctx_t;


ngx_webrtc_registry_ctx_t *ngx_webrtc_registry_get(void);
ngx_str_node_t *ngx_webrtc_registry_lookup(ngx_rbtree_t *tree,
    u_char *key, size_t len);
ngx_webrtc_stream_t *ngx_webrtc_registry_stream(
    ngx_webrtc_registry_ctx_t *ctx, ngx_str_t *name);
ngx_webrtc_stream_t *ngx_webrtc_registry_stream_create(
    ngx_webrtc_registry_ctx_t *ctx, ngx_str_t *name);
void ngx_webrtc_registry_stream_release(ngx_webrtc_registry_ctx_t *ctx,
    ngx_webrtc_stream_t *st);
ngx_webrtc_session_t *ngx_webrtc_registry_session_new(
    ngx_webrtc_registry_ctx_t *ctx, ngx_webrtc_stream_t *st, ngx_uint_t role,
    time_t timeout);
ngx_int_t ngx_webrtc_registry_new_ufrag(ngx_webrtc_registry_ctx_t *ctx,
    ngx_webrtc_session_t *s);
ngx_webrtc_session_t *ngx_webrtc_registry_session(
    ngx_webrtc_registry_ctx_t *ctx, u_char *id);
ngx_webrtc_session_t *ngx_webrtc_registry_session_of(
    ngx_webrtc_registry_ctx_t *ctx, ngx_str_t *id, ngx_uint_t role,
    ngx_str_t *stream);
void ngx_webrtc_registry_session_close(ngx_webrtc_registry_ctx_t *ctx,
    ngx_webrtc_session_t *s);
void ngx_webrtc_registry_session_closed(ngx_webrtc_registry_ctx_t *ctx,
    ngx_webrtc_session_t *s, ngx_webrtc_closed_e reason);
void ngx_webrtc_registry_session_touch(ngx_webrtc_registry_ctx_t *ctx,
    ngx_webrtc_session_t *s, time_t expires);
void ngx_webrtc_registry_session_info(ngx_webrtc_session_t *s,
    ngx_webrtc_session_info_t *out);
void ngx_webrtc_registry_set_remote(ngx_webrtc_session_t *s,
    ngx_webrtc_sdp_str_t *ufrag, ngx_webrtc_sdp_str_t *pwd);
ngx_int_t ngx_webrtc_registry_count(ngx_webrtc_registry_ctx_t *ctx,
    ngx_rbtree_t *tree, u_char *key, size_t len, ngx_uint_t max,
    ngx_webrtc_client_t **clp, ngx_uint_t *count);
void ngx_webrtc_registry_uncount_key(ngx_webrtc_registry_ctx_t *ctx,
    ngx_rbtree_t *tree, ngx_webrtc_client_t *cl);
ngx_int_t ngx_webrtc_registry_owner_live(ngx_webrtc_session_t *s);
void ngx_webrtc_registry_owner(ngx_webrtc_session_t *s,
    ngx_webrtc_owner_t *owner);

/* ngx_webrtc_registry_media.c */
void ngx_webrtc_registry_claim_copy(ngx_webrtc_session_t *s,
    ngx_webrtc_claim_t *out);

/* ngx_webrtc_registry_handoff.c: this worker's configuration */
extern uint32_t  ngx_webrtc_registry_my_cycle;


#endif /* _NGX_WEBRTC_REGISTRY_PRIVATE_H_INCLUDED_ */
