
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


/* a client's sessions are counted by its address, or its token's hash */
#define NGX_WEBRTC_CLIENT_KEY_LEN   16

#define NGX_WEBRTC_EXPIRE_OWNERS    64

#define NGX_WEBRTC_MAX_SSRC         16      /* a peer sends with */

/* a released DTLS state: the peer's AES-256 key and salt, a GCM alert */
#define NGX_WEBRTC_DTLS_KEY         (32 + 4)
#define NGX_WEBRTC_DTLS_CLOSE       48


/*
 * What a worker's media plane did, written by that worker (and, for a
 * while after a reload, by the old one it replaced: atomic adds) and read
 * by the status location of any.  "delay" counts the packets sent to viewers
 * by the time from the publisher packet's arrival (the kernel's receive
 * timestamp) to their hand-off to the kernel, in the buckets of
 * ngx_webrtc_delay_bounds[]; "delay_sum" adds up those times.
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
    ngx_atomic_t                  delay_sum;     /* of "delay", in us */
} ngx_webrtc_worker_stats_t;


typedef struct {
    ngx_uint_t                    found;
    u_char                        id[NGX_WEBRTC_ID_LEN];
    ngx_uint_t                    use_candidate;
    uint32_t                      priority;
    const char                   *error;
} ngx_webrtc_ice_result_t;


/*
 * A session's quality, told to the zone once a second by the worker
 * serving its media (the sweep) and read by the status location
 */

typedef struct {
    uint64_t                      packets_in;
    uint64_t                      bytes_in;      /* RTP payload */
    uint64_t                      packets_out;
    uint64_t                      bytes_out;     /* RTP payload */
    uint64_t                      bitrate_in;    /* bits/s, last second */
    uint64_t                      bitrate_out;
    uint32_t                      lost;          /* video, cumulative */
    uint32_t                      fraction_lost; /* of 256, last report */
    uint32_t                      jitter_us;     /* a viewer's report */
    uint32_t                      rtt_ms;        /* 0: not known */
    uint32_t                      nacks;         /* of a viewer, to a
                                                    publisher */
    uint32_t                      plis;          /* the same, PLI, FIR */
    time_t                        nominated;     /* 0: not known */
    ngx_uint_t                    tcp;           /* ICE-TCP path */
    u_char                        path[NGX_SOCKADDR_STRLEN];
    u_char                        cipher[48];
    u_char                        profile[32];
} ngx_webrtc_quality_t;


/* webrtc_notify */
typedef struct {
    ngx_str_t                     url;
    ngx_addr_t                    addr;
    ngx_str_t                     request;       /* up to Content-Length */
    ngx_msec_t                    timeout;
    ngx_uint_t                    retries;
    ngx_uint_t                    connections;
    ngx_uint_t                    queue;
} ngx_webrtc_notify_conf_t;


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
    ngx_webrtc_notify_conf_t     *notify;
} ngx_webrtc_core_conf_t;


ngx_int_t ngx_webrtc_core_use(ngx_conf_t *cf);
ngx_webrtc_core_conf_t *ngx_webrtc_core_conf(ngx_cycle_t *cycle);
char *ngx_webrtc_notify_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_webrtc_random(u_char *buf, size_t len, const char *alphabet);
const char *ngx_webrtc_h264_profile_name(ngx_uint_t profile);

ngx_int_t ngx_webrtc_ice_process(ngx_log_t *log, u_char *in, size_t len,
    struct sockaddr *sa, socklen_t socklen, u_char *out, size_t *outlen,
    ngx_webrtc_ice_result_t *result);

ngx_int_t ngx_webrtc_relay_init(ngx_cycle_t *cycle);
void ngx_webrtc_relay_close(ngx_int_t slot, ngx_pid_t pid, u_char *id,
    ngx_uint_t reason);
void ngx_webrtc_relay_close_session(u_char *id, ngx_uint_t reason);


#include "ngx_webrtc_registry.h"


extern const ngx_uint_t  ngx_webrtc_delay_bounds[NGX_WEBRTC_DELAY_BUCKETS];

extern ngx_module_t  ngx_webrtc_core_module;
extern ngx_module_t  ngx_http_webrtc_module;
extern ngx_module_t  ngx_stream_webrtc_module;


#endif /* _NGX_WEBRTC_H_INCLUDED_ */
