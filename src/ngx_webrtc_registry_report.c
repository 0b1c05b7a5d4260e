
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_webrtc_registry_private.h"


/*
 * What the status location shows of sessions: one by its id, or those of
 * a stream (its publisher first), max at most, copied under the lock
 */


static void ngx_webrtc_registry_report_one(ngx_webrtc_session_t *s,
    ngx_webrtc_session_report_t *r);


ngx_int_t
ngx_webrtc_registry_report(ngx_pool_t *pool, ngx_str_t *id, ngx_str_t *name,
    ngx_uint_t max, ngx_webrtc_report_t *rep)
{
    ngx_queue_t                *q;
    ngx_str_node_t             *sn;
    ngx_webrtc_stream_t        *st;
    ngx_webrtc_session_t       *s;
    ngx_webrtc_registry_ctx_t  *ctx;

    ctx = ngx_webrtc_registry_get();

    rep->n = 0;
    rep->total = 0;

    rep->sessions = ngx_palloc(pool,
                               max * sizeof(ngx_webrtc_session_report_t));
    if (rep->sessions == NULL) {
        return NGX_ERROR;
    }

    ngx_shmtx_lock(&ctx->shpool->mutex);

    if (id->len) {
        s = (id->len == NGX_WEBRTC_ID_LEN)
            ? ngx_webrtc_registry_session(ctx, id->data) : NULL;

        if (s && max) {
            ngx_webrtc_registry_report_one(s, &rep->sessions[rep->n++]);
            rep->total = 1;
        }

        goto done;
    }

    sn = ngx_webrtc_registry_lookup(&ctx->sh->streams, name->data, name->len);

    if (sn == NULL) {
        goto done;
    }

    st = (ngx_webrtc_stream_t *) sn;

    if (st->publisher) {
        rep->total++;

        if (rep->n < max) {
            ngx_webrtc_registry_report_one(st->publisher,
                                           &rep->sessions[rep->n++]);
        }
    }

    for (q = ngx_queue_head(&st->viewers);
         q != ngx_queue_sentinel(&st->viewers);
         q = ngx_queue_next(q))
    {
        rep->total++;

        if (rep->n < max) {
            s = ngx_queue_data(q, ngx_webrtc_session_t, queue);
            ngx_webrtc_registry_report_one(s, &rep->sessions[rep->n++]);
        }
    }

done:

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return NGX_OK;
}


static void
ngx_webrtc_registry_report_one(ngx_webrtc_session_t *s,
    ngx_webrtc_session_report_t *r)
{
    ngx_memcpy(r->id, s->id, NGX_WEBRTC_ID_LEN);

    r->role = s->role;
    r->stream_len = s->stream->node.str.len;
    ngx_memcpy(r->stream, s->stream->name, r->stream_len);
    r->created = s->created;
    r->worker = s->owner_pid ? s->owner_slot : -1;
    r->handoff = s->handoff;
    r->established = s->established;
    r->quality = s->quality;
}
