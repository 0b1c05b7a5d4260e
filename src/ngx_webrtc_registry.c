
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "ngx_webrtc_registry_private.h"


static ngx_int_t ngx_webrtc_registry_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_webrtc_registry_expire_one(ngx_webrtc_registry_ctx_t *ctx,
    ngx_webrtc_session_t *s, ngx_log_t *log, const char *why,
    ngx_webrtc_owner_t *owners, ngx_uint_t *nowners,
    ngx_webrtc_closed_e reason);


/*
 * The registry shared by all workers: streams by name, sessions by id
 * (signaling on any worker) and by local ICE ufrag (datagrams on any
 * worker).  Only this file knows the records; each exported function
 * locks the slab pool's mutex, which nginx unlocks if its holder dies,
 * does a lookup and a few stores or copies, and unlocks.  The static
 * functions below them are called with the lock held.
 */


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
ngx_webrtc_registry_add_zone(ngx_conf_t *cf, ngx_str_t *name, void *tag,
    ngx_shm_zone_t **zone)
{
    ngx_shm_zone_t             *shm_zone;
    ngx_webrtc_registry_ctx_t  *ctx;

    ctx = ngx_pcalloc(cf->pool, sizeof(ngx_webrtc_registry_ctx_t));
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    /* the size is set when the configuration is complete */

    shm_zone = ngx_shared_memory_add(cf, name, 0, tag);
    if (shm_zone == NULL) {
        return NGX_ERROR;
    }

    shm_zone->init = ngx_webrtc_registry_init_zone;
    shm_zone->data = ctx;

    *zone = shm_zone;

    return NGX_OK;
}


static ngx_int_t
ngx_webrtc_registry_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_webrtc_registry_ctx_t  *octx = data;

    size_t                      len;
    ngx_webrtc_registry_sh_t   *sh;
    ngx_webrtc_registry_ctx_t  *ctx;

    ctx = shm_zone->data;

    if (octx) {
        /*
         * reload: sessions and streams survive, and the old workers hand
         * theirs over to the new configuration's
         */
        ctx->sh = octx->sh;
        ctx->shpool = octx->shpool;

        ngx_shmtx_lock(&ctx->shpool->mutex);
        ctx->sh->cycle++;
        ngx_shmtx_unlock(&ctx->shpool->mutex);

        return NGX_OK;
    }

    ctx->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

#if (NGX_LINUX && defined MADV_DONTDUMP)

    /* SRTP master keys and the DTLS key: not in a worker's core dump */

    if (madvise(shm_zone->shm.addr, shm_zone->shm.size, MADV_DONTDUMP) == -1) {
        ngx_log_error(NGX_LOG_WARN, shm_zone->shm.log, ngx_errno,
                      "madvise(MADV_DONTDUMP) failed");
    }

#endif

    if (shm_zone->shm.exists) {
        ctx->sh = ctx->shpool->data;
        return NGX_OK;
    }

    sh = ngx_slab_calloc(ctx->shpool, sizeof(ngx_webrtc_registry_sh_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    ctx->sh = sh;
    ctx->shpool->data = sh;

    ngx_rbtree_init(&sh->sessions, &sh->sessions_sentinel,
                    ngx_str_rbtree_insert_value);
    ngx_rbtree_init(&sh->ufrags, &sh->ufrags_sentinel,
                    ngx_str_rbtree_insert_value);
    ngx_rbtree_init(&sh->streams, &sh->streams_sentinel,
                    ngx_str_rbtree_insert_value);
    ngx_rbtree_init(&sh->clients, &sh->clients_sentinel,
                    ngx_str_rbtree_insert_value);
    ngx_rbtree_init(&sh->tokens, &sh->tokens_sentinel,
                    ngx_str_rbtree_insert_value);
    ngx_rbtree_init(&sh->paths, &sh->paths_sentinel,
                    ngx_str_rbtree_insert_value);
    ngx_queue_init(&sh->expire);

    if (RAND_bytes(sh->token_key, sizeof(sh->token_key)) != 1) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "RAND_bytes() failed");
        return NGX_ERROR;
    }

    /* a slot for every worker there may be, reloads included */

    sh->workers = ngx_slab_calloc(ctx->shpool, NGX_WEBRTC_MAX_WORKERS
                                  * sizeof(ngx_webrtc_worker_stats_t));
    if (sh->workers == NULL) {
        return NGX_ERROR;
    }

    sh->nworkers = NGX_WEBRTC_MAX_WORKERS;

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


/*
 * The DTLS certificate made by the first configuration that used the zone
 * (DER, key in PKCS#8): NGX_OK, the one given is kept now; NGX_DONE, the
 * zone's is copied out (into pool) for this configuration to use;
 * NGX_DECLINED, the zone is full, the one given is used.  In the master.
 */

ngx_int_t
ngx_webrtc_registry_certificate(ngx_shm_zone_t *shm_zone, ngx_pool_t *pool,
    ngx_str_t *cert, ngx_str_t *key, ngx_str_t *kept_cert,
    ngx_str_t *kept_key)
{
    u_char                     *p;
    ngx_int_t                   rc;
    ngx_webrtc_registry_sh_t   *sh;
    ngx_webrtc_registry_ctx_t  *ctx;

    ctx = shm_zone->data;
    sh = ctx->sh;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    if (sh->cert.len) {
        kept_cert->data = ngx_pnalloc(pool, sh->cert.len + sh->cert_key.len);

        if (kept_cert->data == NULL) {
            rc = NGX_ERROR;
            goto done;
        }

        kept_cert->len = sh->cert.len;
        ngx_memcpy(kept_cert->data, sh->cert.data, sh->cert.len);

        kept_key->data = kept_cert->data + sh->cert.len;
        kept_key->len = sh->cert_key.len;
        ngx_memcpy(kept_key->data, sh->cert_key.data, sh->cert_key.len);

        rc = NGX_DONE;
        goto done;
    }

    p = ngx_slab_alloc_locked(ctx->shpool, cert->len + key->len);

    if (p == NULL) {
        rc = NGX_DECLINED;
        goto done;
    }

    sh->cert.data = p;
    sh->cert.len = cert->len;
    ngx_memcpy(p, cert->data, cert->len);

    sh->cert_key.data = p + cert->len;
    sh->cert_key.len = key->len;
    ngx_memcpy(sh->cert_key.data, key->data, key->len);

    rc = NGX_OK;

done:

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return rc;
}


/* the zone of the running configuration */

ngx_webrtc_registry_ctx_t *
ngx_webrtc_registry_get(void)
{
    ngx_webrtc_core_conf_t  *ccf;

    ccf = ngx_webrtc_core_conf((ngx_cycle_t *) ngx_cycle);

    return ccf->shm_zone->data;
}


/*
 * This worker's statistics slot in the zone: atomics it adds to lock-free
 * (and, for a while after a reload, the old worker of the slot too), read
 * by the status location of any worker
 */

static ngx_webrtc_worker_stats_t  *ngx_webrtc_registry_stats;


void
ngx_webrtc_registry_stats_init(ngx_uint_t slot)
{
    ngx_webrtc_worker_stats_t  *ws;
    ngx_webrtc_registry_ctx_t  *ctx;

    ctx = ngx_webrtc_registry_get();

    if (slot >= ctx->sh->nworkers) {
        ngx_webrtc_registry_stats = NULL;
        return;
    }

    ws = &ctx->sh->workers[slot];

    /* the counters go on across reloads, the peers are this worker's */

    ws->pid = ngx_pid;
    ws->publishers = 0;
    ws->viewers = 0;

    ngx_webrtc_registry_stats = ws;
}


/* a peer attached to or detached from the fan-out (n is 1 or -1) */

void
ngx_webrtc_registry_count_peer(ngx_uint_t role, ngx_int_t n)
{
    ngx_webrtc_worker_stats_t  *ws;

    ws = ngx_webrtc_registry_stats;

    /* after a reload the slot is the new worker's */

    if (ws == NULL || ws->pid != (ngx_atomic_uint_t) ngx_pid) {
        return;
    }

    (void) ngx_atomic_fetch_add(role == NGX_WEBRTC_ROLE_PUBLISHER
                                ? &ws->publishers : &ws->viewers,
                                (ngx_atomic_int_t) n);
}


/* a publisher's RTP packet received */

void
ngx_webrtc_registry_count_in(size_t len)
{
    ngx_webrtc_worker_stats_t  *ws;

    ws = ngx_webrtc_registry_stats;

    if (ws) {
        (void) ngx_atomic_fetch_add(&ws->packets_in, 1);
        (void) ngx_atomic_fetch_add(&ws->bytes_in, len);
    }
}


/*
 * A batch to viewers: "sent" of "n" packets taken by the kernel, and the
 * forwarding delay from "arrival" (microseconds of the publisher packet's
 * receive timestamp, 0: unknown) to now
 */

void
ngx_webrtc_registry_count_out(ngx_uint_t n, ngx_uint_t sent, size_t bytes,
    uint64_t arrival)
{
    uint64_t                    delay;
    ngx_uint_t                  k;
    struct timeval              tv;
    ngx_webrtc_worker_stats_t  *ws;

    ws = ngx_webrtc_registry_stats;

    if (ws == NULL || n == 0) {
        return;
    }

    (void) ngx_atomic_fetch_add(&ws->packets_out, sent);
    (void) ngx_atomic_fetch_add(&ws->bytes_out, bytes);
    (void) ngx_atomic_fetch_add(&ws->dropped_out, n - sent);

    if (arrival == 0 || sent == 0) {
        return;
    }

    ngx_gettimeofday(&tv);

    delay = (uint64_t) tv.tv_sec * 1000000 + tv.tv_usec;
    delay = (delay > arrival) ? delay - arrival : 0;

    for (k = 0; k < NGX_WEBRTC_DELAY_BUCKETS; k++) {
        if (delay <= ngx_webrtc_delay_bounds[k]) {
            break;
        }
    }

    (void) ngx_atomic_fetch_add(&ws->delay[k], sent);
    (void) ngx_atomic_fetch_add(&ws->delay_sum, delay * sent);
}


/* a key frame request sent, or a packet the channel to a worker dropped */

void
ngx_webrtc_registry_count_event(ngx_uint_t counter)
{
    ngx_webrtc_worker_stats_t  *ws;

    ws = ngx_webrtc_registry_stats;

    if (ws == NULL) {
        return;
    }

    (void) ngx_atomic_fetch_add(counter == NGX_WEBRTC_COUNT_KEYFRAME
                                ? &ws->keyframe_requests
                                : &ws->relay_dropped, 1);
}


/*
 * The bearer token of a role as HMAC-SHA-256 with the zone's random key
 * over the role and the token, cut to NGX_WEBRTC_CLIENT_KEY_LEN bytes:
 * the zone counts a token's sessions without holding it
 */

ngx_int_t
ngx_webrtc_registry_token_hash(ngx_uint_t role, ngx_str_t *token,
    u_char *hash, ngx_log_t *log)
{
    u_char                     *p;
    unsigned int                len;
    ngx_webrtc_registry_ctx_t  *ctx;
    u_char                      md[EVP_MAX_MD_SIZE];

    ctx = ngx_webrtc_registry_get();

    p = ngx_alloc(1 + token->len, log);
    if (p == NULL) {
        return NGX_ERROR;
    }

    p[0] = (u_char) role;
    ngx_memcpy(p + 1, token->data, token->len);

    /* the key is written once, with the zone: no lock */

    if (HMAC(EVP_sha256(), ctx->sh->token_key, sizeof(ctx->sh->token_key),
             p, 1 + token->len, md, &len)
        == NULL)
    {
        ngx_free(p);
        ngx_ssl_error(NGX_LOG_ALERT, log, 0, "HMAC() failed");
        return NGX_ERROR;
    }

    ngx_free(p);

    ngx_memcpy(hash, md, NGX_WEBRTC_CLIENT_KEY_LEN);

    return NGX_OK;
}


/*
 * Closes sessions whose ICE never completed or whose consent expired;
 * a session a live worker serves is closed by that worker, or 10 seconds
 * later here, and then its worker is named in owners to be told (when
 * NGX_WEBRTC_EXPIRE_OWNERS are, the rest waits for the next sweep).
 * Also closes the sessions whose WebSocket closed on reload and that were
 * not resumed by their deadline.
 */

ngx_uint_t
ngx_webrtc_registry_expire(time_t now, ngx_log_t *log,
    ngx_webrtc_owner_t *owners, ngx_uint_t *nowners)
{
    time_t                      first;
    ngx_uint_t                  n;
    ngx_queue_t                *q, *next;
    ngx_webrtc_session_t       *s;
    ngx_webrtc_registry_ctx_t  *ctx;

    ctx = ngx_webrtc_registry_get();

    n = 0;
    *nowners = 0;

    ngx_shmtx_lock(&ctx->shpool->mutex);

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
            && ngx_webrtc_registry_owner_live(s) == NGX_OK)
        {
            continue;
        }

        if (s->owner_pid && *nowners == NGX_WEBRTC_EXPIRE_OWNERS) {
            break;
        }

        ngx_webrtc_registry_expire_one(ctx, s, log, "timed out", owners,
                                       nowners, NGX_WEBRTC_CLOSED_TIMEOUT);
        n++;
    }

    /*
     * doc/registry-design.md, 7.9: detached sessions are not in deadline
     * order; all are looked at, only when the earliest deadline is due
     */

    if (ctx->sh->detach_next == 0 || ctx->sh->detach_next > now) {
        goto done;
    }

    first = 0;

    for (q = ngx_queue_head(&ctx->sh->expire);
         q != ngx_queue_sentinel(&ctx->sh->expire);
         q = next)
    {
        next = ngx_queue_next(q);
        s = ngx_queue_data(q, ngx_webrtc_session_t, expire);

        if (s->detached == 0) {
            continue;
        }

        if (s->detached > now
            || (s->owner_pid && *nowners == NGX_WEBRTC_EXPIRE_OWNERS))
        {
            if (first == 0 || s->detached < first) {
                first = s->detached;
            }

            continue;
        }

        ngx_webrtc_registry_expire_one(ctx, s, log,
                                       "closed: signaling closed, not resumed",
                                       owners, nowners,
                                       NGX_WEBRTC_CLOSED_NOT_RESUMED);
        n++;
    }

    ctx->sh->detach_next = first;

done:

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return n;
}


/*
 * Whether the worker serving a session is there.  A worker of this
 * configuration or an older one; kill() fails for one that exited and
 * was reaped
 */

ngx_int_t
ngx_webrtc_registry_owner_live(ngx_webrtc_session_t *s)
{
    if (s->owner_pid == ngx_pid) {
        return NGX_OK;
    }

    if (kill(s->owner_pid, 0) == -1 && ngx_errno == NGX_ESRCH) {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* an expired session: logged, its media owner named to be told, closed */

static void
ngx_webrtc_registry_expire_one(ngx_webrtc_registry_ctx_t *ctx,
    ngx_webrtc_session_t *s, ngx_log_t *log, const char *why,
    ngx_webrtc_owner_t *owners, ngx_uint_t *nowners,
    ngx_webrtc_closed_e reason)
{
    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "webrtc %s session %*s of stream \"%V\" %s",
                  s->role == NGX_WEBRTC_ROLE_PUBLISHER ? "publisher"
                                                       : "viewer",
                  (size_t) NGX_WEBRTC_ID_LEN, s->id, &s->stream->node.str,
                  why);

    if (s->owner_pid) {
        ngx_webrtc_registry_owner(s, &owners[(*nowners)++]);
    }

    ngx_webrtc_registry_session_closed(ctx, s, reason);
}


/* who serves a session's media, a copy */

void
ngx_webrtc_registry_owner(ngx_webrtc_session_t *s, ngx_webrtc_owner_t *owner)
{
    owner->pid = s->owner_pid;
    owner->slot = s->owner_slot;
    owner->cycle = s->owner_cycle;
    owner->handoff = s->handoff;
    ngx_memcpy(owner->id, s->id, NGX_WEBRTC_ID_LEN);
}


ngx_str_node_t *
ngx_webrtc_registry_lookup(ngx_rbtree_t *tree, u_char *key, size_t len)
{
    ngx_str_t  name;

    name.data = key;
    name.len = len;

    return ngx_str_rbtree_lookup(tree, &name, ngx_crc32_short(key, len));
}


ngx_webrtc_stream_t *
ngx_webrtc_registry_stream(ngx_webrtc_registry_ctx_t *ctx, ngx_str_t *name)
{
    ngx_str_node_t  *sn;

    sn = ngx_webrtc_registry_lookup(&ctx->sh->streams, name->data, name->len);

    if (sn == NULL) {
        return NULL;
    }

    return (ngx_webrtc_stream_t *)
               ((u_char *) sn - offsetof(ngx_webrtc_stream_t, node));
}


ngx_webrtc_stream_t *
ngx_webrtc_registry_stream_create(ngx_webrtc_registry_ctx_t *ctx,
    ngx_str_t *name)
{
    ngx_webrtc_stream_t  *st;

    if (name->len > NGX_WEBRTC_STREAM_LEN) {
        return NULL;
    }

    st = ctx->sh->free_streams;

    if (st) {
        ctx->sh->free_streams = st->next_free;
        ngx_memzero(st, sizeof(ngx_webrtc_stream_t));

    } else {
        st = ngx_slab_calloc_locked(ctx->shpool, sizeof(ngx_webrtc_stream_t));
        if (st == NULL) {
            return NULL;
        }
    }

    ngx_memcpy(st->name, name->data, name->len);

    st->node.str.data = st->name;
    st->node.str.len = name->len;
    st->node.node.key = ngx_crc32_short(name->data, name->len);
    st->created = ngx_time();

    if (++ctx->sh->stream_gen == 0) {
        ctx->sh->stream_gen = 1;
    }

    /* versions too are unique: an offer of a stream made again is again */

    st->gen = ctx->sh->stream_gen;
    st->version = st->gen;

    ngx_queue_init(&st->viewers);

    ngx_rbtree_insert(&ctx->sh->streams, &st->node.node);
    ctx->sh->nstreams++;

    return st;
}


/*
 * Frees a stream nobody publishes or watches any more: onto the free
 * list, never back to the slab, so its record stays a stream's
 */

void
ngx_webrtc_registry_stream_release(ngx_webrtc_registry_ctx_t *ctx,
    ngx_webrtc_stream_t *st)
{
    if (st->publisher || st->nviewers) {
        return;
    }

    ngx_rbtree_delete(&ctx->sh->streams, &st->node.node);
    ctx->sh->nstreams--;

    st->gen = 0;
    st->workers = 0;
    st->next_free = ctx->sh->free_streams;
    ctx->sh->free_streams = st;
}


ngx_webrtc_session_t *
ngx_webrtc_registry_session_new(ngx_webrtc_registry_ctx_t *ctx,
    ngx_webrtc_stream_t *st, ngx_uint_t role, time_t timeout)
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

    } while (ngx_webrtc_registry_lookup(&ctx->sh->sessions, s->id,
                                        NGX_WEBRTC_ID_LEN));

    if (ngx_webrtc_registry_new_ufrag(ctx, s) != NGX_OK) {
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
ngx_webrtc_registry_new_ufrag(ngx_webrtc_registry_ctx_t *ctx,
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

    } while (ngx_webrtc_registry_lookup(&ctx->sh->ufrags, ufrag,
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
ngx_webrtc_registry_session(ngx_webrtc_registry_ctx_t *ctx, u_char *id)
{
    ngx_str_node_t  *sn;

    sn = ngx_webrtc_registry_lookup(&ctx->sh->sessions, id, NGX_WEBRTC_ID_LEN);

    if (sn == NULL) {
        return NULL;
    }

    return (ngx_webrtc_session_t *)
               ((u_char *) sn - offsetof(ngx_webrtc_session_t, id_node));
}


/* the session of a URL: of this role and stream */

ngx_webrtc_session_t *
ngx_webrtc_registry_session_of(ngx_webrtc_registry_ctx_t *ctx, ngx_str_t *id,
    ngx_uint_t role, ngx_str_t *stream)
{
    ngx_webrtc_session_t  *s;

    if (id->len != NGX_WEBRTC_ID_LEN) {
        return NULL;
    }

    s = ngx_webrtc_registry_session(ctx, id->data);

    if (s == NULL
        || s->role != role
        || s->stream->node.str.len != stream->len
        || ngx_strncmp(s->stream->name, stream->data, stream->len) != 0)
    {
        return NULL;
    }

    return s;
}


void
ngx_webrtc_registry_session_close(ngx_webrtc_registry_ctx_t *ctx,
    ngx_webrtc_session_t *s)
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
        ngx_webrtc_registry_uncount_key(ctx, &ctx->sh->clients, s->client);
    }

    if (s->token) {
        ngx_webrtc_registry_uncount_key(ctx, &ctx->sh->tokens, s->token);
    }

    if (s->handoff) {
        ctx->sh->handoffs--;
    }

    if (s->path_node.str.len) {
        ngx_rbtree_delete(&ctx->sh->paths, &s->path_node.node);
    }

    if (s->media) {
        ngx_explicit_memzero(s->media, sizeof(ngx_webrtc_media_t));
        ngx_slab_free_locked(ctx->shpool, s->media);
    }

    ngx_slab_free_locked(ctx->shpool, s);

    ngx_webrtc_registry_stream_release(ctx, st);
}


/* consent refreshed: the expiry queue stays ordered */

void
ngx_webrtc_registry_session_touch(ngx_webrtc_registry_ctx_t *ctx,
    ngx_webrtc_session_t *s, time_t expires)
{
    s->expires = expires;

    ngx_queue_remove(&s->expire);
    ngx_queue_insert_tail(&ctx->sh->expire, &s->expire);
}


void
ngx_webrtc_registry_session_info(ngx_webrtc_session_t *s,
    ngx_webrtc_session_info_t *out)
{
    ngx_webrtc_track_t  *tr;

    out->role = s->role;
    ngx_memcpy(out->id, s->id, NGX_WEBRTC_ID_LEN);
    ngx_memcpy(out->ufrag, s->ufrag, NGX_WEBRTC_UFRAG_LEN);
    ngx_memcpy(out->pwd, s->pwd, NGX_WEBRTC_PWD_LEN);

    out->remote_ufrag_len = s->remote_ufrag_len;
    ngx_memcpy(out->remote_ufrag, s->remote_ufrag, s->remote_ufrag_len);

    tr = s->tracks[0].kind ? &s->tracks[0] : &s->tracks[1];
    out->mid_len = tr->mid_len;
    ngx_memcpy(out->mid, tr->mid, tr->mid_len);
}


void
ngx_webrtc_registry_set_remote(ngx_webrtc_session_t *s,
    ngx_webrtc_sdp_str_t *ufrag, ngx_webrtc_sdp_str_t *pwd)
{
    s->remote_ufrag_len = ngx_min(ufrag->len, NGX_WEBRTC_SDP_ICE_MAX);
    s->remote_pwd_len = ngx_min(pwd->len, NGX_WEBRTC_SDP_ICE_MAX);

    if (s->remote_ufrag_len) {
        ngx_memcpy(s->remote_ufrag, ufrag->data, s->remote_ufrag_len);
    }

    if (s->remote_pwd_len) {
        ngx_memcpy(s->remote_pwd, pwd->data, s->remote_pwd_len);
    }
}


/* one more session of the key in the tree, *clp its entry */

ngx_int_t
ngx_webrtc_registry_count(ngx_webrtc_registry_ctx_t *ctx, ngx_rbtree_t *tree,
    u_char *key, size_t len, ngx_uint_t max, ngx_webrtc_client_t **clp,
    ngx_uint_t *count)
{
    ngx_str_node_t       *sn;
    ngx_webrtc_client_t  *cl;

    sn = ngx_webrtc_registry_lookup(tree, key, len);

    if (sn) {
        cl = (ngx_webrtc_client_t *) sn;

        if (max && cl->sessions >= max) {
            *count = cl->sessions;
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


void
ngx_webrtc_registry_uncount_key(ngx_webrtc_registry_ctx_t *ctx,
    ngx_rbtree_t *tree, ngx_webrtc_client_t *cl)
{
    if (--cl->sessions == 0) {
        ngx_rbtree_delete(tree, &cl->node.node);
        ngx_slab_free_locked(ctx->shpool, cl);
    }
}
