
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webrtc.h"


/* the Prometheus form's size: HELP and TYPE lines, a sample's line */
#define NGX_HTTP_WEBRTC_PROM_HEAD   8192
#define NGX_HTTP_WEBRTC_PROM_LINE   128

/* a session's JSON at most, and the sessions of a stream listed */
#define NGX_HTTP_WEBRTC_SESSION_LEN   1024
#define NGX_HTTP_WEBRTC_SESSIONS      1000


/* a worker's counter in the Prometheus form */

typedef struct {
    const char                 *name;
    const char                 *help;
    size_t                      offset;    /* in ngx_webrtc_worker_stats_t */
} ngx_http_webrtc_status_counter_t;


/* a cause of refusal: its ngx_webrtc_refused_e, 0 for the zone full */

typedef struct {
    ngx_uint_t                  refused;
    const char                 *cause;
} ngx_http_webrtc_status_cause_t;


static ngx_int_t ngx_http_webrtc_status_session(ngx_http_request_t *r,
    ngx_str_t *id);
static u_char *ngx_http_webrtc_status_report(u_char *p, u_char *end,
    ngx_webrtc_session_report_t *sr);
static ngx_int_t ngx_http_webrtc_status_json(ngx_http_request_t *r,
    ngx_webrtc_snapshot_t *snap, ngx_webrtc_report_t *rep);
static u_char *ngx_http_webrtc_status_delay(u_char *p, u_char *end,
    ngx_atomic_uint_t *delay);
static ngx_int_t ngx_http_webrtc_status_prometheus(ngx_http_request_t *r,
    ngx_webrtc_snapshot_t *snap);
static u_char *ngx_http_webrtc_status_family(u_char *p, u_char *end,
    const char *name, const char *type, const char *help);
static u_char *ngx_http_webrtc_status_seconds(u_char *p, u_char *end,
    uint64_t us);


static ngx_http_webrtc_status_counter_t  ngx_http_webrtc_status_counters[] = {

    { "worker_received_packets_total",
      "RTP packets the worker received from publishers.",
      offsetof(ngx_webrtc_worker_stats_t, packets_in) },

    { "worker_received_bytes_total",
      "Bytes of RTP the worker received from publishers, decrypted.",
      offsetof(ngx_webrtc_worker_stats_t, bytes_in) },

    { "worker_sent_packets_total",
      "Packets the worker handed to the kernel for its viewers.",
      offsetof(ngx_webrtc_worker_stats_t, packets_out) },

    { "worker_sent_bytes_total",
      "Bytes the worker handed to the kernel for its viewers, encrypted.",
      offsetof(ngx_webrtc_worker_stats_t, bytes_out) },

    { "worker_dropped_packets_total",
      "Packets to viewers the kernel refused: a full socket send buffer.",
      offsetof(ngx_webrtc_worker_stats_t, dropped_out) },

    { "worker_relay_dropped_messages_total",
      "Messages to other workers dropped on a full socket buffer.",
      offsetof(ngx_webrtc_worker_stats_t, relay_dropped) },

    { "worker_keyframe_requests_total",
      "Key frame requests the worker sent for its viewers.",
      offsetof(ngx_webrtc_worker_stats_t, keyframe_requests) },

    { NULL, NULL, 0 }
};


static const char  *ngx_http_webrtc_status_roles[] = {
    "publisher", "viewer"
};


/* by ngx_webrtc_closed_e */

static const char  *ngx_http_webrtc_status_closed[] = {
    "deleted", "signaling", "media", "timeout", "not_resumed",
    "worker_exited", "consent", "dtls", "client"
};


/* the refusals by a limit */

static ngx_http_webrtc_status_cause_t  ngx_http_webrtc_status_refused[] = {
    { 0, "zone_full" },
    { NGX_WEBRTC_REFUSED_VIEWERS, "max_viewers" },
    { NGX_WEBRTC_REFUSED_CLIENT, "client_sessions" },
    { NGX_WEBRTC_REFUSED_TOKEN, "token_sessions" }
};


/*
 * GET: the streams, or only the stream of "?stream=NAME", what each
 * worker's media plane did, the forwarding delay, and the sessions; in
 * JSON, or in the Prometheus text format with "webrtc_status prometheus"
 * or "?format=prometheus"
 */

ngx_int_t
ngx_http_webrtc_status_handler(ngx_http_request_t *r)
{
    ngx_str_t                    name, format, id;
    ngx_uint_t                   prometheus;
    ngx_webrtc_report_t          rep, *report;
    ngx_core_conf_t             *cf;
    ngx_webrtc_snapshot_t        snap;
    ngx_http_webrtc_loc_conf_t  *wlcf;

    if (r->method != NGX_HTTP_GET && r->method != NGX_HTTP_HEAD) {
        ngx_http_discard_request_body(r);

        if (ngx_http_webrtc_header(r, "Allow", (u_char *) "GET, HEAD", 9)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_webrtc_error(r, NGX_HTTP_NOT_ALLOWED,
                                     "method not allowed, GET the status");
    }

    ngx_http_discard_request_body(r);

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webrtc_module);

    prometheus = (wlcf->status == NGX_HTTP_WEBRTC_STATUS_PROMETHEUS);

    if (ngx_http_arg(r, (u_char *) "format", 6, &format) == NGX_OK) {

        if (format.len == 10
            && ngx_strncmp(format.data, "prometheus", 10) == 0)
        {
            prometheus = 1;

        } else if (format.len == 4
                   && ngx_strncmp(format.data, "json", 4) == 0)
        {
            prometheus = 0;

        } else {
            return ngx_http_webrtc_error(r, NGX_HTTP_BAD_REQUEST,
                                         "bad format, \"json\" or "
                                         "\"prometheus\"");
        }
    }

    if (ngx_http_arg(r, (u_char *) "session", 7, &id) == NGX_OK) {
        return ngx_http_webrtc_status_session(r, &id);
    }

    if (ngx_http_arg(r, (u_char *) "stream", 6, &name) != NGX_OK) {
        name.len = 0;
    }

    if (name.len && ngx_http_webrtc_stream_name_valid(&name) != NGX_OK) {
        return ngx_http_webrtc_error(r, NGX_HTTP_BAD_REQUEST,
                                     "bad stream name");
    }

    cf = (ngx_core_conf_t *) ngx_get_conf(ngx_cycle->conf_ctx,
                                          ngx_core_module);

    /* the workers of this configuration; a reload with fewer leaves slots */

    if (ngx_webrtc_registry_snapshot(r->pool, &name,
                                     (ngx_uint_t) cf->worker_processes, &snap)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_webrtc_header(r, "Cache-Control", (u_char *) "no-store", 8)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (prometheus) {
        return ngx_http_webrtc_status_prometheus(r, &snap);
    }

    /* a stream asked for by name: its sessions too */

    report = NULL;

    if (name.len) {
        ngx_str_null(&id);

        if (ngx_webrtc_registry_report(r->pool, &id, &name,
                                       NGX_HTTP_WEBRTC_SESSIONS, &rep)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        report = &rep;
    }

    return ngx_http_webrtc_status_json(r, &snap, report);
}


/* ?session=ID: {"session":{...}} */

static ngx_int_t
ngx_http_webrtc_status_session(ngx_http_request_t *r, ngx_str_t *id)
{
    u_char               *p, *buf;
    ngx_str_t             name;
    ngx_webrtc_report_t   rep;

    ngx_str_null(&name);

    if (ngx_webrtc_registry_report(r->pool, id, &name, 1, &rep) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rep.n == 0) {
        return ngx_http_webrtc_error(r, NGX_HTTP_NOT_FOUND, "no such session");
    }

    if (ngx_http_webrtc_header(r, "Cache-Control", (u_char *) "no-store", 8)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    buf = ngx_pnalloc(r->pool, NGX_HTTP_WEBRTC_SESSION_LEN + 16);
    if (buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(buf, "{\"session\":", sizeof("{\"session\":") - 1);
    p = ngx_http_webrtc_status_report(p, buf + NGX_HTTP_WEBRTC_SESSION_LEN,
                                      &rep.sessions[0]);
    *p++ = '}';
    *p++ = LF;

    return ngx_http_webrtc_send(r, NGX_HTTP_OK, "application/json", buf,
                                p - buf);
}


/*
 * A session: {"id":S,"stream":S,"role":"publisher"|"viewer",
 * "state":"signaled"|"connecting"|"connected"|"moving","worker":N|null,
 * "age":SEC,"since_nominated":SEC|null,"path":"udp ADDR:PORT"|null,
 * "dtls_cipher":S|null,"srtp_profile":S|null,"packets_in":N,"bytes_in":N,
 * "packets_out":N,"bytes_out":N,"bitrate_in":BPS,"bitrate_out":BPS,
 * "packets_lost":N,"fraction_lost":F,"jitter_ms":F|null,"rtt_ms":N|null,
 * "nacks":N,"plis":N}
 */

static u_char *
ngx_http_webrtc_status_report(u_char *p, u_char *end,
    ngx_webrtc_session_report_t *sr)
{
    const char            *state;
    ngx_webrtc_quality_t  *q;

    q = &sr->quality;

    if (sr->handoff) {
        state = "moving";

    } else if (sr->worker < 0) {
        state = "signaled";

    } else {
        state = sr->established ? "connected" : "connecting";
    }

    p = ngx_slprintf(p, end, "{\"id\":\"%*s\",\"stream\":\"%*s\","
                     "\"role\":\"%s\",\"state\":\"%s\"",
                     (size_t) NGX_WEBRTC_ID_LEN, sr->id,
                     sr->stream_len, sr->stream,
                     sr->role == NGX_WEBRTC_ROLE_PUBLISHER ? "publisher"
                                                          : "viewer",
                     state);

    if (sr->worker >= 0) {
        p = ngx_slprintf(p, end, ",\"worker\":%i", sr->worker);

    } else {
        p = ngx_slprintf(p, end, ",\"worker\":null");
    }

    p = ngx_slprintf(p, end, ",\"age\":%T", ngx_time() - sr->created);

    if (q->nominated) {
        p = ngx_slprintf(p, end, ",\"since_nominated\":%T",
                         ngx_time() - q->nominated);

    } else {
        p = ngx_slprintf(p, end, ",\"since_nominated\":null");
    }

    if (q->path[0]) {
        p = ngx_slprintf(p, end, ",\"path\":\"%s %s\"",
                         q->tcp ? "tcp" : "udp", q->path);

    } else {
        p = ngx_slprintf(p, end, ",\"path\":null");
    }

    if (q->cipher[0]) {
        p = ngx_slprintf(p, end, ",\"dtls_cipher\":\"%s\","
                         "\"srtp_profile\":\"%s\"", q->cipher, q->profile);

    } else {
        p = ngx_slprintf(p, end, ",\"dtls_cipher\":null,"
                         "\"srtp_profile\":null");
    }

    p = ngx_slprintf(p, end, ",\"packets_in\":%uL,\"bytes_in\":%uL,"
                     "\"packets_out\":%uL,\"bytes_out\":%uL,"
                     "\"bitrate_in\":%uL,\"bitrate_out\":%uL,"
                     "\"packets_lost\":%uD,\"fraction_lost\":%uD.%03uD",
                     q->packets_in, q->bytes_in, q->packets_out, q->bytes_out,
                     q->bitrate_in, q->bitrate_out, q->lost,
                     q->fraction_lost / 256,
                     (q->fraction_lost % 256) * 1000 / 256);

    if (q->jitter_us) {
        p = ngx_slprintf(p, end, ",\"jitter_ms\":%uD.%03uD",
                         q->jitter_us / 1000, q->jitter_us % 1000);

    } else {
        p = ngx_slprintf(p, end, ",\"jitter_ms\":null");
    }

    if (q->rtt_ms) {
        p = ngx_slprintf(p, end, ",\"rtt_ms\":%uD", q->rtt_ms);

    } else {
        p = ngx_slprintf(p, end, ",\"rtt_ms\":null");
    }

    return ngx_slprintf(p, end, ",\"nacks\":%uD,\"plis\":%uD}",
                        q->nacks, q->plis);
}


/*
 * The JSON form:
 *
 * {"streams":[{"name":S,"live":true,"viewers":N,"uptime":SEC,
 *              "packets_in":N,"bytes_in":N,"packets_lost":N,
 *              "bitrate_in":BPS[,"h264_profile_level_id":"64001f"|null,
 *              "h264_profile":S,"h264_label":"42e01f",
 *              "h264_label_profile":S]},...],
 *  "workers":[{"worker":N,"pid":N,"publishers":N,"viewers":N,
 *              "packets_in":N,"bytes_in":N,"packets_out":N,"bytes_out":N,
 *              "dropped_out":N,"relay_dropped":N},...],
 *  "forwarding":{"packets":N,"delay_us":{"p50":N,"p90":N,"p99":N,
 *                "p999":N},"histogram":{"le_us":[...],"count":[...]}}}
 *
 * "count" has one bucket more than "le_us": those past the last bound.
 */

static ngx_int_t
ngx_http_webrtc_status_json(ngx_http_request_t *r,
    ngx_webrtc_snapshot_t *snap, ngx_webrtc_report_t *rep)
{
    u_char                     *p, *end, *buf;
    size_t                      size;
    ngx_uint_t                  first, i, k, profile;
    ngx_webrtc_stream_stat_t   *st;
    ngx_webrtc_worker_stats_t  *ws;
    ngx_atomic_uint_t           delay[NGX_WEBRTC_DELAY_BUCKETS + 1];

    size = sizeof("{\"streams\":[],\"workers\":[],\"forwarding\":{"
                  "\"packets\":,\"delay_us\":{\"p50\":,\"p90\":,\"p99\":,"
                  "\"p999\":},\"histogram\":{\"le_us\":[],\"count\":[]}}}\n")
           + 5 * NGX_INT64_LEN
           + NGX_WEBRTC_DELAY_BUCKETS * (NGX_INT_T_LEN + 1)
           + (NGX_WEBRTC_DELAY_BUCKETS + 1) * (NGX_ATOMIC_T_LEN + 1)
           + snap->nstreams
             * (sizeof("{\"name\":\"\",\"live\":false,\"viewers\":,"
                       "\"uptime\":,\"packets_in\":,\"bytes_in\":,"
                       "\"packets_lost\":,\"bitrate_in\":,"
                       "\"h264_profile_level_id\":\"123456\","
                       "\"h264_profile\":\"\",\"h264_label\":\"123456\","
                       "\"h264_label_profile\":\"\"},")
                + NGX_WEBRTC_STREAM_LEN + NGX_INT_T_LEN + NGX_TIME_T_LEN
                + 4 * NGX_INT64_LEN
                + 2 * sizeof("predictive high 4:4:4"))
           + snap->nworkers
             * (sizeof("{\"worker\":,\"pid\":,\"publishers\":,\"viewers\":,"
                       "\"packets_in\":,\"bytes_in\":,\"packets_out\":,"
                       "\"bytes_out\":,\"dropped_out\":,"
                       "\"relay_dropped\":,\"keyframe_requests\":},")
                + NGX_INT_T_LEN + 10 * NGX_ATOMIC_T_LEN)
           + (rep ? sizeof(",\"sessions\":[],\"sessions_total\":")
                    + NGX_INT_T_LEN
                    + rep->n * (NGX_HTTP_WEBRTC_SESSION_LEN + 1)
                  : 0);

    buf = ngx_pnalloc(r->pool, size);
    if (buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(buf, "{\"streams\":[", sizeof("{\"streams\":[") - 1);
    end = buf + size;

    for (i = 0; i < snap->nstreams; i++) {
        st = &snap->streams[i];

        p = ngx_slprintf(p, end, "%s{\"name\":\"%V\",\"live\":%s,"
                         "\"viewers\":%ui,\"uptime\":%T,"
                         "\"packets_in\":%uL,\"bytes_in\":%uL,"
                         "\"packets_lost\":%uL,\"bitrate_in\":%uL",
                         i ? "," : "", &st->name,
                         st->live ? "true" : "false",
                         st->nviewers, ngx_time() - st->created,
                         st->packets_in, st->bytes_in, st->packets_lost,
                         st->bitrate_in);

        /* H.264: what the publisher's SPS says, and what its offer did */

        if (st->h264) {
            if (st->h264_sps) {
                profile = ngx_webrtc_h264_profile(st->h264_sps);

                p = ngx_slprintf(p, end,
                                 ",\"h264_profile_level_id\":\"%06xD\","
                                 "\"h264_profile\":\"%s\"",
                                 st->h264_sps,
                                 ngx_webrtc_h264_profile_name(profile));

            } else {
                p = ngx_slprintf(p, end, ",\"h264_profile_level_id\":null");
            }

            profile = ngx_webrtc_h264_profile(st->h264_label);

            p = ngx_slprintf(p, end, ",\"h264_label\":\"%06xD\","
                             "\"h264_label_profile\":\"%s\"",
                             st->h264_label,
                             ngx_webrtc_h264_profile_name(profile));
        }

        if (rep) {
            p = ngx_slprintf(p, end, ",\"sessions\":[");

            for (k = 0; k < rep->n; k++) {
                if (k) {
                    *p++ = ',';
                }

                p = ngx_http_webrtc_status_report(p, end, &rep->sessions[k]);
            }

            p = ngx_slprintf(p, end, "],\"sessions_total\":%ui",
                             rep->total);
        }

        p = ngx_slprintf(p, end, "}");
    }

    p = ngx_slprintf(p, end, "],\"workers\":[");

    ngx_memzero(delay, sizeof(delay));

    first = 1;

    for (i = 0; i < snap->nworkers; i++) {
        ws = &snap->workers[i];

        if (ws->pid == 0) {
            /* not started: master_process off, or no stream server */
            continue;
        }

        /*
         * an old worker's last peer may have left after the new one had
         * taken the slot: not below 0
         */

        p = ngx_slprintf(p, end, "%s{\"worker\":%ui,\"pid\":%uA,"
                         "\"publishers\":%A,\"viewers\":%A,"
                         "\"packets_in\":%uA,\"bytes_in\":%uA,"
                         "\"packets_out\":%uA,\"bytes_out\":%uA,"
                         "\"dropped_out\":%uA,\"relay_dropped\":%uA,"
                         "\"keyframe_requests\":%uA}",
                         first ? "" : ",", i, ws->pid,
                         ngx_max((ngx_atomic_int_t) ws->publishers, 0),
                         ngx_max((ngx_atomic_int_t) ws->viewers, 0),
                         ws->packets_in, ws->bytes_in, ws->packets_out,
                         ws->bytes_out, ws->dropped_out, ws->relay_dropped,
                         ws->keyframe_requests);
        first = 0;

        for (k = 0; k <= NGX_WEBRTC_DELAY_BUCKETS; k++) {
            delay[k] += ws->delay[k];
        }
    }

    p = ngx_http_webrtc_status_delay(p, end, delay);

    return ngx_http_webrtc_send(r, NGX_HTTP_OK, "application/json", buf,
                                p - buf);
}


/*
 * The forwarding delay's percentiles, each interpolated within its
 * bucket, and the buckets.
 */

static u_char *
ngx_http_webrtc_status_delay(u_char *p, u_char *end, ngx_atomic_uint_t *delay)
{
    uint64_t     total, rank, seen, lo, hi;
    ngx_uint_t   i, k;
    static const struct {
        const char  *name;
        uint64_t     permille;
    } pct[] = {
        { "p50", 500 }, { "p90", 900 }, { "p99", 990 }, { "p999", 999 }
    };

    total = 0;

    for (k = 0; k <= NGX_WEBRTC_DELAY_BUCKETS; k++) {
        total += delay[k];
    }

    p = ngx_slprintf(p, end, "],\"forwarding\":{\"packets\":%uL,"
                     "\"delay_us\":{", total);

    for (i = 0; i < sizeof(pct) / sizeof(pct[0]); i++) {

        /* the smallest delay with at least permille of the packets */

        rank = (total * pct[i].permille + 999) / 1000;
        seen = 0;
        hi = 0;

        for (k = 0; total && k <= NGX_WEBRTC_DELAY_BUCKETS; k++) {
            lo = k ? ngx_webrtc_delay_bounds[k - 1] : 0;

            if (k == NGX_WEBRTC_DELAY_BUCKETS) {
                /* past the last bound: no more is known */
                hi = lo;
                break;
            }

            hi = ngx_webrtc_delay_bounds[k];

            if (seen + delay[k] >= rank) {
                hi = lo + (hi - lo) * (rank - seen) / delay[k];
                break;
            }

            seen += delay[k];
        }

        p = ngx_slprintf(p, end, "%s\"%s\":%uL", i ? "," : "", pct[i].name,
                         hi);
    }

    p = ngx_slprintf(p, end, "},\"histogram\":{\"le_us\":[");

    for (k = 0; k < NGX_WEBRTC_DELAY_BUCKETS; k++) {
        p = ngx_slprintf(p, end, "%s%ui", k ? "," : "",
                         ngx_webrtc_delay_bounds[k]);
    }

    p = ngx_slprintf(p, end, "],\"count\":[");

    for (k = 0; k <= NGX_WEBRTC_DELAY_BUCKETS; k++) {
        p = ngx_slprintf(p, end, "%s%uA", k ? "," : "", delay[k]);
    }

    return ngx_slprintf(p, end, "]}}}\n");
}


/*
 * The Prometheus text exposition format 0.0.4: families "nginx_webrtc_*",
 * each with HELP and TYPE, its samples together.  Stream names need no
 * escaping in a label value: ngx_http_webrtc_stream_name_valid() allows
 * no '"', '\' or newline.  Per-session series are not given.
 */

static ngx_int_t
ngx_http_webrtc_status_prometheus(ngx_http_request_t *r,
    ngx_webrtc_snapshot_t *snap)
{
    u_char                            *p, *end, *buf;
    size_t                             size;
    uint64_t                           total, sum;
    ngx_uint_t                         i, k, nworkers;
    ngx_atomic_uint_t                  v;
    ngx_webrtc_stream_stat_t          *st;
    ngx_webrtc_worker_stats_t         *ws;
    ngx_webrtc_session_stats_t        *ss;
    ngx_http_webrtc_status_counter_t  *c;

    nworkers = 0;

    for (i = 0; i < snap->nworkers; i++) {
        if (snap->workers[i].pid) {
            nworkers++;
        }
    }

    size = NGX_HTTP_WEBRTC_PROM_HEAD
           + snap->nstreams * 6
             * (NGX_HTTP_WEBRTC_PROM_LINE + NGX_WEBRTC_STREAM_LEN
                + NGX_INT64_LEN)
           + nworkers * 9 * (NGX_HTTP_WEBRTC_PROM_LINE + NGX_ATOMIC_T_LEN)
           + (NGX_WEBRTC_DELAY_BUCKETS + 3)
             * (NGX_HTTP_WEBRTC_PROM_LINE + NGX_INT64_LEN)
           + (2 + 2 * NGX_WEBRTC_CLOSED_LAST + 5)
             * (NGX_HTTP_WEBRTC_PROM_LINE + NGX_INT64_LEN);

    buf = ngx_pnalloc(r->pool, size);
    if (buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = buf;
    end = buf + size;

    /* streams */

    p = ngx_http_webrtc_status_family(p, end, "stream_live", "gauge",
            "Whether the stream has a publisher (1), or only viewers "
            "waiting (0).");

    for (i = 0; i < snap->nstreams; i++) {
        st = &snap->streams[i];
        p = ngx_slprintf(p, end, "nginx_webrtc_stream_live{stream=\"%V\"} "
                         "%ui\n", &st->name, st->live ? 1 : 0);
    }

    p = ngx_http_webrtc_status_family(p, end, "stream_viewers", "gauge",
            "Viewer sessions of the stream, connected or not.");

    for (i = 0; i < snap->nstreams; i++) {
        st = &snap->streams[i];
        p = ngx_slprintf(p, end, "nginx_webrtc_stream_viewers"
                         "{stream=\"%V\"} %ui\n", &st->name, st->nviewers);
    }

    p = ngx_http_webrtc_status_family(p, end,
            "stream_received_bits_per_second", "gauge",
            "Bits a second from the publisher over the last second.");

    for (i = 0; i < snap->nstreams; i++) {
        st = &snap->streams[i];
        p = ngx_slprintf(p, end, "nginx_webrtc_stream_received_bits_per_second"
                         "{stream=\"%V\"} %uL\n", &st->name, st->bitrate_in);
    }

    p = ngx_http_webrtc_status_family(p, end,
            "stream_received_packets_total", "counter",
            "RTP packets the stream's publishers sent, decrypted.");

    for (i = 0; i < snap->nstreams; i++) {
        st = &snap->streams[i];
        p = ngx_slprintf(p, end, "nginx_webrtc_stream_received_packets_total"
                         "{stream=\"%V\"} %uL\n", &st->name, st->packets_in);
    }

    p = ngx_http_webrtc_status_family(p, end,
            "stream_received_bytes_total", "counter",
            "Bytes of RTP the stream's publishers sent, decrypted.");

    for (i = 0; i < snap->nstreams; i++) {
        st = &snap->streams[i];
        p = ngx_slprintf(p, end, "nginx_webrtc_stream_received_bytes_total"
                         "{stream=\"%V\"} %uL\n", &st->name, st->bytes_in);
    }

    p = ngx_http_webrtc_status_family(p, end,
            "stream_lost_packets_total", "counter",
            "Publisher packets that never arrived (RFC 3550 sequence gaps).");

    for (i = 0; i < snap->nstreams; i++) {
        st = &snap->streams[i];
        p = ngx_slprintf(p, end, "nginx_webrtc_stream_lost_packets_total"
                         "{stream=\"%V\"} %uL\n", &st->name,
                         st->packets_lost);
    }

    /* workers, by slot: an old worker's last peer may leave late */

    p = ngx_http_webrtc_status_family(p, end, "worker_peers", "gauge",
            "Peers whose media the worker serves, by role.");

    for (i = 0; i < snap->nworkers; i++) {
        ws = &snap->workers[i];

        if (ws->pid) {
            p = ngx_slprintf(p, end,
                    "nginx_webrtc_worker_peers{worker=\"%ui\","
                    "role=\"publisher\"} %A\n"
                    "nginx_webrtc_worker_peers{worker=\"%ui\","
                    "role=\"viewer\"} %A\n",
                    i, ngx_max((ngx_atomic_int_t) ws->publishers, 0),
                    i, ngx_max((ngx_atomic_int_t) ws->viewers, 0));
        }
    }

    for (c = ngx_http_webrtc_status_counters; c->name; c++) {
        p = ngx_http_webrtc_status_family(p, end, c->name, "counter",
                                          c->help);

        for (i = 0; i < snap->nworkers; i++) {
            ws = &snap->workers[i];

            if (ws->pid) {
                v = *(ngx_atomic_uint_t *) ((u_char *) ws + c->offset);
                p = ngx_slprintf(p, end, "nginx_webrtc_%s{worker=\"%ui\"} "
                                 "%uA\n", c->name, i, v);
            }
        }
    }

    /* the forwarding delay of all workers: cumulative buckets, seconds */

    p = ngx_http_webrtc_status_family(p, end, "forwarding_delay_seconds",
            "histogram",
            "Time from a publisher packet's arrival (the kernel's receive "
            "timestamp) to the hand-off of a viewer's copy to the kernel.");

    total = 0;
    sum = 0;

    for (k = 0; k <= NGX_WEBRTC_DELAY_BUCKETS; k++) {

        for (i = 0; i < snap->nworkers; i++) {
            total += snap->workers[i].delay[k];
        }

        p = ngx_slprintf(p, end, "nginx_webrtc_forwarding_delay_seconds"
                         "_bucket{le=\"");

        if (k < NGX_WEBRTC_DELAY_BUCKETS) {
            p = ngx_http_webrtc_status_seconds(p, end,
                                               ngx_webrtc_delay_bounds[k]);

        } else {
            p = ngx_slprintf(p, end, "+Inf");
        }

        p = ngx_slprintf(p, end, "\"} %uL\n", total);
    }

    for (i = 0; i < snap->nworkers; i++) {
        sum += snap->workers[i].delay_sum;
    }

    p = ngx_slprintf(p, end, "nginx_webrtc_forwarding_delay_seconds_sum ");
    p = ngx_http_webrtc_status_seconds(p, end, sum);
    p = ngx_slprintf(p, end, "\nnginx_webrtc_forwarding_delay_seconds_count "
                     "%uL\n", total);

    /* sessions */

    ss = &snap->sessions;

    p = ngx_http_webrtc_status_family(p, end, "sessions_created_total",
            "counter", "Sessions created (WHIP, WHEP, WebSocket), by role.");

    for (i = 0; i < 2; i++) {
        p = ngx_slprintf(p, end, "nginx_webrtc_sessions_created_total"
                         "{role=\"%s\"} %uL\n",
                         ngx_http_webrtc_status_roles[i], ss->created[i]);
    }

    p = ngx_http_webrtc_status_family(p, end, "sessions_closed_total",
            "counter", "Sessions closed, by role and reason.");

    for (i = 0; i < 2; i++) {
        for (k = 0; k < NGX_WEBRTC_CLOSED_LAST; k++) {
            p = ngx_slprintf(p, end, "nginx_webrtc_sessions_closed_total"
                             "{role=\"%s\",reason=\"%s\"} %uL\n",
                             ngx_http_webrtc_status_roles[i],
                             ngx_http_webrtc_status_closed[k],
                             ss->closed[i][k]);
        }
    }

    p = ngx_http_webrtc_status_family(p, end, "sessions_refused_total",
            "counter", "New sessions refused by a limit, by cause.");

    for (i = 0;
         i < sizeof(ngx_http_webrtc_status_refused)
             / sizeof(ngx_http_webrtc_status_refused[0]);
         i++)
    {
        p = ngx_slprintf(p, end, "nginx_webrtc_sessions_refused_total"
                         "{cause=\"%s\"} %uL\n",
                         ngx_http_webrtc_status_refused[i].cause,
                         ss->refused[ngx_http_webrtc_status_refused[i]
                                         .refused]);
    }

    p = ngx_http_webrtc_status_family(p, end, "ice_checks_refused_total",
            "counter", "Connectivity checks from a new address of a session "
            "refused, past webrtc_max_addresses.");

    p = ngx_slprintf(p, end, "nginx_webrtc_ice_checks_refused_total %uL\n",
                     ss->addresses_refused);

    return ngx_http_webrtc_send(r, NGX_HTTP_OK,
                                "text/plain; version=0.0.4; charset=utf-8",
                                buf, p - buf);
}


static u_char *
ngx_http_webrtc_status_family(u_char *p, u_char *end, const char *name,
    const char *type, const char *help)
{
    return ngx_slprintf(p, end, "# HELP nginx_webrtc_%s %s\n"
                        "# TYPE nginx_webrtc_%s %s\n",
                        name, help, name, type);
}


/* microseconds as seconds, no trailing zeros: "0.00015", "1" */

static u_char *
ngx_http_webrtc_status_seconds(u_char *p, u_char *end, uint64_t us)
{
    u_char  *start;

    start = p;

    p = ngx_slprintf(p, end, "%uL.%06uL", us / 1000000, us % 1000000);

    while (p > start && p[-1] == '0') {
        p--;
    }

    if (p > start && p[-1] == '.') {
        p--;
    }

    return p;
}
