
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#if (NGX_HAVE_MALLOC_TRIM)
#include <malloc.h>
#endif

#include "ngx_webrtc_media.h"


/*
 * A DTLS session parked after the handshake: the SSL object freed, the
 * peer's record key kept to authenticate its alerts, our close_notify
 * kept to be sent at the end; the heap trimmed after many are released.
 */


#define NGX_WEBRTC_TRIM_DELAY       1000
#define NGX_WEBRTC_TRIM_INTERVAL    10000
#define NGX_WEBRTC_TRIM_RELEASED    32


static ngx_int_t ngx_webrtc_dtls_park_keys(ngx_webrtc_peer_t *peer);
static ngx_int_t ngx_webrtc_dtls_parked_alert(ngx_webrtc_peer_t *peer,
    u_char *rec);


#if (NGX_HAVE_MALLOC_TRIM)
static void ngx_webrtc_dtls_trim_handler(ngx_event_t *ev);

static ngx_event_t       ngx_webrtc_dtls_trim;
static ngx_connection_t  ngx_webrtc_dtls_dumb;
static ngx_uint_t        ngx_webrtc_dtls_released;
static ngx_msec_t        ngx_webrtc_dtls_last_trim;
#endif

static EVP_CIPHER_CTX  *ngx_webrtc_dtls_alert_ctx;


/*
 * After the handshake the SSL object, some 70 KB with its buffers, only
 * serves two records: the peer's close_notify and ours.  Once the peer has
 * shown it holds the keys (an authenticated SRTP or SRTCP packet; browsers
 * and libwebrtc use them only once the handshake completed, that is once
 * they got our Finished: they will not retransmit their last flight), a
 * DTLS 1.2 AES-GCM session keeps just what these need: the peer's record
 * key and salt to authenticate its alerts, and our close_notify, written
 * now (we send no other record after the handshake, so its sequence
 * number stays right).  Other ciphers keep the SSL object.
 */

void
ngx_webrtc_dtls_park(ngx_webrtc_peer_t *peer)
{
    if (peer->ssl == NULL || !peer->dtls_done || peer->dtls_kept) {
        return;
    }

    if (ngx_webrtc_dtls_park_keys(peer) != NGX_OK) {
        /*
         * tried once; note: SSL_free_buffers() is not an option, the next
         * record written crashes OpenSSL 3.0's DTLS
         */
        peer->dtls_kept = 1;
        return;
    }

    peer->dtls_parked = 1;
    peer->dtls_capture = 1;
    peer->dtls_close_len = 0;

    ERR_clear_error();
    (void) SSL_shutdown(peer->ssl);

    peer->dtls_capture = 0;

    if (peer->dtls_close_len == 0) {
        /* no close_notify to send later: the object stays */
        ngx_log_error(NGX_LOG_ALERT, &peer->log, 0,
                      "webrtc: DTLS close_notify not written, "
                      "keeping the DTLS state");
        ngx_explicit_memzero(peer->dtls_key, sizeof(peer->dtls_key));
        peer->dtls_parked = 0;
        peer->dtls_kept = 1;
        return;
    }

    SSL_free(peer->ssl);
    peer->ssl = NULL;
    peer->rbio = NULL;

    /* released on media: the release timer has nothing left to do */

    if (peer->dtls_timer.timer_set) {
        ngx_del_timer(&peer->dtls_timer);
    }

#if (NGX_HAVE_MALLOC_TRIM)
    ngx_webrtc_dtls_released_one();
#endif

    ngx_log_debug3(NGX_LOG_DEBUG_STREAM, &peer->log, 0,
                   "webrtc session %*s: DTLS state released, "
                   "close_notify of %uz bytes kept",
                   (size_t) NGX_WEBRTC_ID_LEN, peer->id,
                   (size_t) peer->dtls_close_len);
}


#if (NGX_HAVE_MALLOC_TRIM)

/*
 * Viewers joining together handshake together: the SSL objects they
 * release leave holes in the heap that glibc keeps, and so do sessions
 * leaving together.  Once enough were released, the free pages go back to
 * the system; a trim walks the whole heap (some 4 ms for 500 sessions), so
 * it runs at most every 10 seconds.
 */

void
ngx_webrtc_dtls_released_one(void)
{
    ngx_webrtc_dtls_released++;

    if (ngx_webrtc_dtls_trim.timer_set || ngx_exiting) {
        return;
    }

    ngx_webrtc_dtls_trim.data = &ngx_webrtc_dtls_dumb;
    ngx_webrtc_dtls_trim.handler = ngx_webrtc_dtls_trim_handler;
    ngx_webrtc_dtls_trim.log = ngx_cycle->log;
    ngx_webrtc_dtls_trim.cancelable = 1;

    /* as the cache manager: the event's data is a connection */
    ngx_webrtc_dtls_dumb.fd = (ngx_socket_t) -1;

    ngx_add_timer(&ngx_webrtc_dtls_trim, NGX_WEBRTC_TRIM_DELAY);
}


static void
ngx_webrtc_dtls_trim_handler(ngx_event_t *ev)
{
    ngx_msec_t  elapsed;

    if (ngx_webrtc_dtls_released < NGX_WEBRTC_TRIM_RELEASED) {
        return;
    }

    elapsed = ngx_current_msec - ngx_webrtc_dtls_last_trim;

    if (ngx_webrtc_dtls_last_trim && elapsed < NGX_WEBRTC_TRIM_INTERVAL) {
        ngx_add_timer(ev, NGX_WEBRTC_TRIM_INTERVAL - elapsed);
        return;
    }

    ngx_webrtc_dtls_released = 0;
    ngx_webrtc_dtls_last_trim = ngx_current_msec;

    (void) malloc_trim(0);
}

#endif


/*
 * RFC 5246, 6.3 and RFC 5288, 3: the key block is PRF(master_secret,
 * "key expansion", server_random + client_random); for AES-GCM it is
 * client_write_key server_write_key client_write_IV[4] server_write_IV[4].
 * The peer is the DTLS client.
 */

static ngx_int_t
ngx_webrtc_dtls_park_keys(ngx_webrtc_peer_t *peer)
{
    size_t              len, klen;
    ngx_int_t           rc;
    unsigned long       id;
    SSL_SESSION        *session;
    const EVP_MD       *md;
    EVP_PKEY_CTX       *pctx;
    const SSL_CIPHER   *cipher;
    u_char              master[SSL_MAX_MASTER_KEY_LENGTH];
    u_char              server_random[SSL3_RANDOM_SIZE];
    u_char              client_random[SSL3_RANDOM_SIZE];
    u_char              block[2 * 32 + 2 * 4];

    if (SSL_version(peer->ssl) != DTLS1_2_VERSION) {
        return NGX_DECLINED;
    }

    cipher = SSL_get_current_cipher(peer->ssl);
    id = cipher ? SSL_CIPHER_get_id(cipher) : 0;

    switch (id) {

    case TLS1_CK_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:
    case TLS1_CK_ECDHE_RSA_WITH_AES_128_GCM_SHA256:
        klen = 16;
        md = EVP_sha256();
        break;

    case TLS1_CK_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384:
    case TLS1_CK_ECDHE_RSA_WITH_AES_256_GCM_SHA384:
        klen = 32;
        md = EVP_sha384();
        break;

    default:
        return NGX_DECLINED;
    }

    session = SSL_get_session(peer->ssl);
    if (session == NULL) {
        return NGX_DECLINED;
    }

    len = SSL_SESSION_get_master_key(session, master, sizeof(master));

    if (len != SSL_MAX_MASTER_KEY_LENGTH
        || SSL_get_server_random(peer->ssl, server_random,
                                 sizeof(server_random))
           != sizeof(server_random)
        || SSL_get_client_random(peer->ssl, client_random,
                                 sizeof(client_random))
           != sizeof(client_random))
    {
        ngx_explicit_memzero(master, sizeof(master));
        return NGX_DECLINED;
    }

    rc = NGX_DECLINED;
    len = 2 * klen + 2 * 4;

    pctx = EVP_PKEY_CTX_new_id(EVP_PKEY_TLS1_PRF, NULL);

    if (pctx != NULL
        && EVP_PKEY_derive_init(pctx) == 1
        && EVP_PKEY_CTX_set_tls1_prf_md(pctx, md) == 1
        && EVP_PKEY_CTX_set1_tls1_prf_secret(pctx, master,
                                             SSL_MAX_MASTER_KEY_LENGTH)
           == 1
        && EVP_PKEY_CTX_add1_tls1_prf_seed(pctx,
                                           (u_char *) "key expansion", 13)
           == 1
        && EVP_PKEY_CTX_add1_tls1_prf_seed(pctx, server_random,
                                           sizeof(server_random))
           == 1
        && EVP_PKEY_CTX_add1_tls1_prf_seed(pctx, client_random,
                                           sizeof(client_random))
           == 1
        && EVP_PKEY_derive(pctx, block, &len) == 1
        && len == 2 * klen + 2 * 4)
    {
        /* client_write_key, client_write_IV */
        ngx_memcpy(peer->dtls_key, block, klen);
        ngx_memcpy(peer->dtls_key + klen, block + 2 * klen, 4);
        peer->dtls_key_len = klen;
        rc = NGX_OK;

    } else {
        ngx_ssl_error(NGX_LOG_ALERT, &peer->log, 0,
                      "webrtc: DTLS key block not derived, "
                      "keeping the DTLS state");
    }

    if (pctx) {
        EVP_PKEY_CTX_free(pctx);
    }

    ngx_explicit_memzero(master, sizeof(master));
    ngx_explicit_memzero(block, sizeof(block));

    return rc;
}


/* a parked session's datagram: only the peer's alerts are of interest */

ngx_int_t
ngx_webrtc_dtls_parked_input(ngx_webrtc_peer_t *peer, u_char *p, size_t len)
{
    size_t     n;
    ngx_int_t  rc;

    /* RFC 6347, 4.1: type, version, epoch, sequence_number, length */

    while (len >= NGX_WEBRTC_DTLS_HEADER) {
        n = ((size_t) p[11] << 8) + p[12];

        if (n > len - NGX_WEBRTC_DTLS_HEADER) {
            break;
        }

        /* epoch 1, an alert: explicit nonce, level, description, tag */

        if (p[0] == NGX_WEBRTC_DTLS_ALERT && p[3] == 0 && p[4] == 1
            && n == NGX_WEBRTC_GCM_ALERT)
        {
            rc = ngx_webrtc_dtls_parked_alert(peer, p);

            if (rc == NGX_DONE || rc == NGX_ERROR) {
                return rc;
            }
        }

        p += NGX_WEBRTC_DTLS_HEADER + n;
        len -= NGX_WEBRTC_DTLS_HEADER + n;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_STREAM, &peer->log, 0,
                   "webrtc: DTLS record after the handshake ignored");

    return NGX_AGAIN;
}


/*
 * NGX_DONE: the peer's close_notify; NGX_ERROR: its fatal alert;
 * NGX_DECLINED: another alert, or one that failed authentication
 */

static ngx_int_t
ngx_webrtc_dtls_parked_alert(ngx_webrtc_peer_t *peer, u_char *rec)
{
    int              n, ok;
    u_char          *body;
    EVP_CIPHER_CTX  *ctx;
    u_char           nonce[12], aad[13], alert[2], last[16];

    /* one context a worker, set up again for each alert */

    if (ngx_webrtc_dtls_alert_ctx == NULL) {
        ngx_webrtc_dtls_alert_ctx = EVP_CIPHER_CTX_new();

        if (ngx_webrtc_dtls_alert_ctx == NULL) {
            ngx_ssl_error(NGX_LOG_ALERT, &peer->log, 0,
                          "EVP_CIPHER_CTX_new() failed");
            return NGX_DECLINED;
        }
    }

    ctx = ngx_webrtc_dtls_alert_ctx;
    body = rec + NGX_WEBRTC_DTLS_HEADER;

    /* RFC 5288, 3 and RFC 6347, 4.1.2.1: the nonce and additional data */

    ngx_memcpy(nonce, peer->dtls_key + peer->dtls_key_len, 4);
    ngx_memcpy(nonce + 4, body, NGX_WEBRTC_GCM_NONCE);

    ngx_memcpy(aad, rec + 3, 8);
    aad[8] = rec[0];
    aad[9] = rec[1];
    aad[10] = rec[2];
    aad[11] = 0;
    aad[12] = 2;

    ok = EVP_DecryptInit_ex(ctx, peer->dtls_key_len == 16 ? EVP_aes_128_gcm()
                                                          : EVP_aes_256_gcm(),
                            NULL, NULL, NULL) == 1
         && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1
         && EVP_DecryptInit_ex(ctx, NULL, NULL, peer->dtls_key, nonce) == 1
         && EVP_DecryptUpdate(ctx, NULL, &n, aad, sizeof(aad)) == 1
         && EVP_DecryptUpdate(ctx, alert, &n,
                              body + NGX_WEBRTC_GCM_NONCE, 2) == 1
         && n == 2
         && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, NGX_WEBRTC_GCM_TAG,
                                body + NGX_WEBRTC_GCM_NONCE + 2) == 1
         && EVP_DecryptFinal_ex(ctx, last, &n) == 1;

    if (!ok) {
        /* RFC 6347, 4.1.2.7: silently discarded; logged once a session */

        if (!peer->dtls_forged) {
            peer->dtls_forged = 1;
            ngx_log_error(NGX_LOG_INFO, &peer->log, 0,
                          "webrtc session %*s: DTLS alert failed "
                          "authentication, ignored",
                          (size_t) NGX_WEBRTC_ID_LEN, peer->id);
        }

        return NGX_DECLINED;
    }

    /* RFC 5246, 7.2: close_notify, or any fatal alert, ends it */

    if (alert[1] == 0) {
        return NGX_DONE;
    }

    if (alert[0] == 2) {
        ngx_log_error(NGX_LOG_INFO, &peer->log, 0,
                      "webrtc session %*s: DTLS fatal alert %d",
                      (size_t) NGX_WEBRTC_ID_LEN, peer->id, (int) alert[1]);
        return NGX_ERROR;
    }

    return NGX_DECLINED;
}
