
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webrtc.h"


static u_char *ngx_http_webrtc_status_delay(u_char *p, u_char *end,
    ngx_atomic_uint_t *delay);


/*
 * GET: the streams, or only the stream of "?stream=NAME", what each
 * worker's media plane did, and the forwarding delay:
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

ngx_int_t
ngx_http_webrtc_status_handler(ngx_http_request_t *r)
{
    u_char                     *p, *end, *buf;
    size_t                      size;
    ngx_str_t                   name;
    ngx_uint_t                  first, i, k, profile;
    ngx_core_conf_t            *cf;
    ngx_webrtc_snapshot_t       snap;
    ngx_webrtc_stream_stat_t   *st;
    ngx_webrtc_worker_stats_t  *ws;
    ngx_atomic_uint_t           delay[NGX_WEBRTC_DELAY_BUCKETS + 1];

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

    size = sizeof("{\"streams\":[],\"workers\":[],\"forwarding\":{"
                  "\"packets\":,\"delay_us\":{\"p50\":,\"p90\":,\"p99\":,"
                  "\"p999\":},\"histogram\":{\"le_us\":[],\"count\":[]}}}\n")
           + 5 * NGX_INT64_LEN
           + NGX_WEBRTC_DELAY_BUCKETS * (NGX_INT_T_LEN + 1)
           + (NGX_WEBRTC_DELAY_BUCKETS + 1) * (NGX_ATOMIC_T_LEN + 1)
           + snap.nstreams
             * (sizeof("{\"name\":\"\",\"live\":false,\"viewers\":,"
                       "\"uptime\":,\"packets_in\":,\"bytes_in\":,"
                       "\"packets_lost\":,\"bitrate_in\":,"
                       "\"h264_profile_level_id\":\"123456\","
                       "\"h264_profile\":\"\",\"h264_label\":\"123456\","
                       "\"h264_label_profile\":\"\"},")
                + NGX_WEBRTC_STREAM_LEN + NGX_INT_T_LEN + NGX_TIME_T_LEN
                + 4 * NGX_INT64_LEN
                + 2 * sizeof("predictive high 4:4:4"))
           + snap.nworkers
             * (sizeof("{\"worker\":,\"pid\":,\"publishers\":,\"viewers\":,"
                       "\"packets_in\":,\"bytes_in\":,\"packets_out\":,"
                       "\"bytes_out\":,\"dropped_out\":,"
                       "\"relay_dropped\":,\"keyframe_requests\":},")
                + NGX_INT_T_LEN + 10 * NGX_ATOMIC_T_LEN);

    buf = ngx_pnalloc(r->pool, size);
    if (buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(buf, "{\"streams\":[", sizeof("{\"streams\":[") - 1);
    end = buf + size;

    for (i = 0; i < snap.nstreams; i++) {
        st = &snap.streams[i];

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

        p = ngx_slprintf(p, end, "}");
    }

    p = ngx_slprintf(p, end, "],\"workers\":[");

    ngx_memzero(delay, sizeof(delay));

    first = 1;

    for (i = 0; i < snap.nworkers; i++) {
        ws = &snap.workers[i];

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

    if (ngx_http_webrtc_header(r, "Cache-Control", (u_char *) "no-store", 8)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

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
