
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <openssl/rand.h>

#include "ngx_webrtc.h"


/*
 * The registry shared by all workers: streams by name, sessions by id
 * (signaling on any worker) and by local ICE ufrag (datagrams on any
 * worker).  Every function here is called with the slab pool locked.
 */


static ngx_str_node_t *ngx_webrtc_shm_lookup(ngx_rbtree_t *tree, u_char *key,
    size_t len);
static ngx_int_t ngx_webrtc_shm_count(ngx_webrtc_shm_ctx_t *ctx,
    ngx_rbtree_t *tree, u_char *key, size_t len, ngx_uint_t max,
    ngx_webrtc_client_t **clp);
static void ngx_webrtc_shm_uncount(ngx_webrtc_shm_ctx_t *ctx,
    ngx_rbtree_t *tree, ngx_webrtc_client_t *cl);


/* the upper bounds of the forwarding delay buckets, in microseconds */

const ngx_uint_t  ngx_webrtc_delay_bounds[NGX_WEBRTC_DELAY_BUCKETS] = {
    10, 15, 20, 30, 50, 70,
    100, 150, 200, 300, 500, 700,
    1000, 1500, 2000, 3000, 5000, 7000,
    10000, 15000, 20000, 30000, 50000, 70000,
    100000, 150000, 200000, 300000, 500000, 700000,
    1000000
};


ngx_int_t
ngx_webrtc_shm_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_webrtc_shm_ctx_t  *octx = data;

    size_t                 len;
    ngx_webrtc_shm_ctx_t  *ctx;

    ctx = shm_zone->data;

    if (octx) {
        /* reload: sessions and streams survive */
        ctx->sh = octx->sh;
        ctx->shpool = octx->shpool;
        return NGX_OK;
    }

    ctx->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        ctx->sh = ctx->shpool->data;
        return NGX_OK;
    }

    ctx->sh = ngx_slab_alloc(ctx->shpool, sizeof(ngx_webrtc_shm_t));
    if (ctx->sh == NULL) {
        return NGX_ERROR;
    }

    ctx->shpool->data = ctx->sh;

    ngx_rbtree_init(&ctx->sh->sessions, &ctx->sh->sessions_sentinel,
                    ngx_str_rbtree_insert_value);
    ngx_rbtree_init(&ctx->sh->ufrags, &ctx->sh->ufrags_sentinel,
                    ngx_str_rbtree_insert_value);
    ngx_rbtree_init(&ctx->sh->streams, &ctx->sh->streams_sentinel,
                    ngx_str_rbtree_insert_value);
    ngx_rbtree_init(&ctx->sh->clients, &ctx->sh->clients_sentinel,
                    ngx_str_rbtree_insert_value);
    ngx_rbtree_init(&ctx->sh->tokens, &ctx->sh->tokens_sentinel,
                    ngx_str_rbtree_insert_value);
    ngx_queue_init(&ctx->sh->expire);

    if (RAND_bytes(ctx->sh->token_key, sizeof(ctx->sh->token_key)) != 1) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "RAND_bytes() failed");
        return NGX_ERROR;
    }

    ctx->sh->nsessions = 0;
    ctx->sh->nstreams = 0;
    ctx->sh->stream_gen = 0;

    /* a slot for every worker there may be, reloads included */

    ctx->sh->workers = ngx_slab_calloc(ctx->shpool, NGX_WEBRTC_MAX_WORKERS
                                       * sizeof(ngx_webrtc_worker_stats_t));
    if (ctx->sh->workers == NULL) {
        return NGX_ERROR;
    }

    ctx->sh->nworkers = NGX_WEBRTC_MAX_WORKERS;

    len = sizeof(" in webrtc zone \"\"") + shm_zone->shm.name.len;

    ctx->shpool->log_ctx = ngx_slab_alloc(ctx->shpool, len);
    if (ctx->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(ctx->shpool->log_ctx, " in webrtc zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* running out of zone memory is answered with 503, not logged */
    ctx->shpool->log_nomem = 0;

    return NGX_OK;
}


static ngx_str_node_t *
ngx_webrtc_shm_lookup(ngx_rbtree_t *tree, u_char *key, size_t len)
{
    ngx_str_t  name;

    name.data = key;
    name.len = len;

    return ngx_str_rbtree_lookup(tree, &name, ngx_crc32_short(key, len));
}


ngx_webrtc_stream_t *
ngx_webrtc_stream_lookup(ngx_webrtc_shm_ctx_t *ctx, ngx_str_t *name)
{
    ngx_str_node_t  *sn;

    sn = ngx_webrtc_shm_lookup(&ctx->sh->streams, name->data, name->len);

    if (sn == NULL) {
        return NULL;
    }

    return (ngx_webrtc_stream_t *)
               ((u_char *) sn - offsetof(ngx_webrtc_stream_t, node));
}


ngx_webrtc_stream_t *
ngx_webrtc_stream_create(ngx_webrtc_shm_ctx_t *ctx, ngx_str_t *name)
{
    ngx_webrtc_stream_t  *st;

    if (name->len > NGX_WEBRTC_STREAM_LEN) {
        return NULL;
    }

    st = ngx_slab_calloc_locked(ctx->shpool, sizeof(ngx_webrtc_stream_t));
    if (st == NULL) {
        return NULL;
    }

    ngx_memcpy(st->name, name->data, name->len);

    st->node.str.data = st->name;
    st->node.str.len = name->len;
    st->node.node.key = ngx_crc32_short(name->data, name->len);
    st->created = ngx_time();
    st->gen = ++ctx->sh->stream_gen;

    ngx_queue_init(&st->viewers);

    ngx_rbtree_insert(&ctx->sh->streams, &st->node.node);
    ctx->sh->nstreams++;

    return st;
}


/* frees a stream nobody publishes or watches any more */

void
ngx_webrtc_stream_release(ngx_webrtc_shm_ctx_t *ctx, ngx_webrtc_stream_t *st)
{
    if (st->publisher || st->nviewers) {
        return;
    }

    ngx_rbtree_delete(&ctx->sh->streams, &st->node.node);
    ctx->sh->nstreams--;

    ngx_slab_free_locked(ctx->shpool, st);
}


ngx_webrtc_session_t *
ngx_webrtc_session_create(ngx_webrtc_shm_ctx_t *ctx, ngx_webrtc_stream_t *st,
    ngx_uint_t role, time_t timeout)
{
    ngx_webrtc_session_t  *s;

    s = ngx_slab_calloc_locked(ctx->shpool, sizeof(ngx_webrtc_session_t));
    if (s == NULL) {
        return NULL;
    }

    do {
        if (ngx_webrtc_random(s->id, NGX_WEBRTC_ID_LEN, "0123456789abcdef")
            != NGX_OK)
        {
            ngx_slab_free_locked(ctx->shpool, s);
            return NULL;
        }

    } while (ngx_webrtc_shm_lookup(&ctx->sh->sessions, s->id,
                                   NGX_WEBRTC_ID_LEN));

    if (ngx_webrtc_session_new_ufrag(ctx, s) != NGX_OK) {
        ngx_slab_free_locked(ctx->shpool, s);
        return NULL;
    }

    s->id_node.str.data = s->id;
    s->id_node.str.len = NGX_WEBRTC_ID_LEN;
    s->id_node.node.key = ngx_crc32_short(s->id, NGX_WEBRTC_ID_LEN);
    ngx_rbtree_insert(&ctx->sh->sessions, &s->id_node.node);

    s->role = role;
    s->stream = st;
    s->created = ngx_time();
    s->expires = s->created + timeout;

    ngx_queue_insert_tail(&ctx->sh->expire, &s->expire);

    if (role == NGX_WEBRTC_ROLE_PUBLISHER) {
        st->publisher = s;
        ngx_queue_init(&s->queue);

    } else {
        ngx_queue_insert_tail(&st->viewers, &s->queue);
        st->nviewers++;
    }

    ctx->sh->nsessions++;

    return s;
}


/*
 * a fresh local ICE ufrag and password: at session creation and on ICE
 * restart (RFC 8445, 9), re-keying the ufrag index
 */

ngx_int_t
ngx_webrtc_session_new_ufrag(ngx_webrtc_shm_ctx_t *ctx,
    ngx_webrtc_session_t *s)
{
    u_char  ufrag[NGX_WEBRTC_UFRAG_LEN];

    static const char  ice_chars[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    do {
        if (ngx_webrtc_random(ufrag, NGX_WEBRTC_UFRAG_LEN, ice_chars)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

    } while (ngx_webrtc_shm_lookup(&ctx->sh->ufrags, ufrag,
                                   NGX_WEBRTC_UFRAG_LEN));

    if (ngx_webrtc_random(s->pwd, NGX_WEBRTC_PWD_LEN, ice_chars) != NGX_OK) {
        return NGX_ERROR;
    }

    if (s->ufrag_node.str.data) {
        ngx_rbtree_delete(&ctx->sh->ufrags, &s->ufrag_node.node);
    }

    ngx_memcpy(s->ufrag, ufrag, NGX_WEBRTC_UFRAG_LEN);

    s->ufrag_node.str.data = s->ufrag;
    s->ufrag_node.str.len = NGX_WEBRTC_UFRAG_LEN;
    s->ufrag_node.node.key = ngx_crc32_short(s->ufrag, NGX_WEBRTC_UFRAG_LEN);
    ngx_rbtree_insert(&ctx->sh->ufrags, &s->ufrag_node.node);

    return NGX_OK;
}


ngx_webrtc_session_t *
ngx_webrtc_session_lookup(ngx_webrtc_shm_ctx_t *ctx, u_char *id, size_t len)
{
    ngx_str_node_t  *sn;

    sn = ngx_webrtc_shm_lookup(&ctx->sh->sessions, id, len);

    if (sn == NULL) {
        return NULL;
    }

    return (ngx_webrtc_session_t *)
               ((u_char *) sn - offsetof(ngx_webrtc_session_t, id_node));
}


ngx_webrtc_session_t *
ngx_webrtc_session_lookup_ufrag(ngx_webrtc_shm_ctx_t *ctx, u_char *ufrag,
    size_t len)
{
    ngx_str_node_t  *sn;

    sn = ngx_webrtc_shm_lookup(&ctx->sh->ufrags, ufrag, len);

    if (sn == NULL) {
        return NULL;
    }

    return (ngx_webrtc_session_t *)
               ((u_char *) sn - offsetof(ngx_webrtc_session_t, ufrag_node));
}


void
ngx_webrtc_session_close(ngx_webrtc_shm_ctx_t *ctx, ngx_webrtc_session_t *s)
{
    ngx_webrtc_stream_t  *st;

    st = s->stream;

    if (s->role == NGX_WEBRTC_ROLE_PUBLISHER) {
        if (st->publisher == s) {
            st->publisher = NULL;
        }

    } else {
        ngx_queue_remove(&s->queue);
        st->nviewers--;
    }

    ngx_rbtree_delete(&ctx->sh->sessions, &s->id_node.node);
    ngx_rbtree_delete(&ctx->sh->ufrags, &s->ufrag_node.node);
    ngx_queue_remove(&s->expire);
    ctx->sh->nsessions--;

    if (s->client) {
        ngx_webrtc_shm_uncount(ctx, &ctx->sh->clients, s->client);
    }

    if (s->token) {
        ngx_webrtc_shm_uncount(ctx, &ctx->sh->tokens, s->token);
    }

    ngx_slab_free_locked(ctx->shpool, s);

    ngx_webrtc_stream_release(ctx, st);
}


/* consent refreshed: the expiry queue stays ordered */

void
ngx_webrtc_session_touch(ngx_webrtc_shm_ctx_t *ctx, ngx_webrtc_session_t *s,
    time_t expires)
{
    s->expires = expires;

    ngx_queue_remove(&s->expire);
    ngx_queue_insert_tail(&ctx->sh->expire, &s->expire);
}


/*
 * Counts the session in its client address's: NGX_DECLINED when that
 * address has max sessions already (0: no bound), NGX_ERROR when the zone
 * is full
 */

ngx_int_t
ngx_webrtc_session_client(ngx_webrtc_shm_ctx_t *ctx, ngx_webrtc_session_t *s,
    u_char *addr, size_t len, ngx_uint_t max)
{
    return ngx_webrtc_shm_count(ctx, &ctx->sh->clients, addr,
                                ngx_min(len, NGX_WEBRTC_CLIENT_KEY_LEN), max,
                                &s->client);
}


/*
 * The same for the bearer token the session was created with, by its
 * keyed hash (NGX_WEBRTC_CLIENT_KEY_LEN bytes): the token itself is never
 * in the zone
 */

ngx_int_t
ngx_webrtc_session_token(ngx_webrtc_shm_ctx_t *ctx, ngx_webrtc_session_t *s,
    u_char *hash, ngx_uint_t max)
{
    return ngx_webrtc_shm_count(ctx, &ctx->sh->tokens, hash,
                                NGX_WEBRTC_CLIENT_KEY_LEN, max, &s->token);
}


/* one more session of the key in the tree, *clp its entry */

static ngx_int_t
ngx_webrtc_shm_count(ngx_webrtc_shm_ctx_t *ctx, ngx_rbtree_t *tree,
    u_char *key, size_t len, ngx_uint_t max, ngx_webrtc_client_t **clp)
{
    ngx_str_node_t       *sn;
    ngx_webrtc_client_t  *cl;

    sn = ngx_webrtc_shm_lookup(tree, key, len);

    if (sn) {
        cl = (ngx_webrtc_client_t *) sn;

        if (max && cl->sessions >= max) {
            return NGX_DECLINED;
        }

    } else {
        cl = ngx_slab_calloc_locked(ctx->shpool, sizeof(ngx_webrtc_client_t));
        if (cl == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(cl->addr, key, len);
        cl->node.str.data = cl->addr;
        cl->node.str.len = len;
        cl->node.node.key = ngx_crc32_short(cl->addr, len);
        ngx_rbtree_insert(tree, &cl->node.node);
    }

    cl->sessions++;
    *clp = cl;

    return NGX_OK;
}


static void
ngx_webrtc_shm_uncount(ngx_webrtc_shm_ctx_t *ctx, ngx_rbtree_t *tree,
    ngx_webrtc_client_t *cl)
{
    if (--cl->sessions == 0) {
        ngx_rbtree_delete(tree, &cl->node.node);
        ngx_slab_free_locked(ctx->shpool, cl);
    }
}


/* expired now: at the queue's head, which stays ordered */

void
ngx_webrtc_session_expire(ngx_webrtc_shm_ctx_t *ctx, ngx_webrtc_session_t *s,
    time_t now)
{
    s->expires = now;

    ngx_queue_remove(&s->expire);
    ngx_queue_insert_head(&ctx->sh->expire, &s->expire);
}


/*
 * closes sessions whose ICE never completed or whose consent expired;
 * a session a live worker serves is closed by that worker, or 10 seconds
 * later here, and then its worker is named in owners to be told (when
 * NGX_WEBRTC_EXPIRE_OWNERS are, the rest waits for the next sweep)
 */

ngx_uint_t
ngx_webrtc_shm_expire(ngx_webrtc_shm_ctx_t *ctx, time_t now, ngx_log_t *log,
    ngx_webrtc_owner_t *owners, ngx_uint_t *nowners)
{
    ngx_uint_t             n;
    ngx_queue_t           *q, *next;
    ngx_webrtc_owner_t    *o;
    ngx_webrtc_session_t  *s;

    n = 0;
    *nowners = 0;

    for (q = ngx_queue_head(&ctx->sh->expire);
         q != ngx_queue_sentinel(&ctx->sh->expire);
         q = next)
    {
        next = ngx_queue_next(q);
        s = ngx_queue_data(q, ngx_webrtc_session_t, expire);

        if (s->expires > now) {
            /* the queue is ordered: refreshed sessions move to its tail */
            break;
        }

        if (s->owner_pid && now - s->expires < 10
            && kill(s->owner_pid, 0) == 0)
        {
            continue;
        }

        if (s->owner_pid && *nowners == NGX_WEBRTC_EXPIRE_OWNERS) {
            break;
        }

        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "webrtc %s session %*s of stream \"%V\" timed out",
                      s->role == NGX_WEBRTC_ROLE_PUBLISHER ? "publisher"
                                                           : "viewer",
                      (size_t) NGX_WEBRTC_ID_LEN, s->id,
                      &s->stream->node.str);

        if (s->owner_pid) {
            o = &owners[(*nowners)++];
            o->pid = s->owner_pid;
            o->slot = s->owner_slot;
            ngx_memcpy(o->id, s->id, NGX_WEBRTC_ID_LEN);
        }

        ngx_webrtc_session_close(ctx, s);
        n++;
    }

    return n;
}
