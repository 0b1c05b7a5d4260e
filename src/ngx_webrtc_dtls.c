
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include <openssl/err.h>

#include "ngx_webrtc_media.h"


/*
 * DTLS 1.2 server (RFC 5763, RFC 8842: we answer a=setup:passive) over
 * the shared UDP socket: datagrams are written into a memory BIO, and a
 * BIO of our own sends each record OpenSSL writes as one datagram.  The
 * retransmission timer is an nginx timer.
 */


#define NGX_WEBRTC_DTLS_MTU         1200
#define NGX_WEBRTC_SRTP_PROFILES                                             \
    "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"


static int ngx_webrtc_dtls_verify_cb(int ok, X509_STORE_CTX *x509_store);
static int ngx_webrtc_bio_write(BIO *b, const char *data, int len);
static long ngx_webrtc_bio_ctrl(BIO *b, int cmd, long num, void *ptr);
static int ngx_webrtc_bio_create(BIO *b);
static void ngx_webrtc_dtls_timer_handler(ngx_event_t *ev);
static void ngx_webrtc_dtls_set_timer(ngx_webrtc_peer_t *peer);
static ngx_int_t ngx_webrtc_dtls_established(ngx_webrtc_peer_t *peer);
static ngx_int_t ngx_webrtc_dtls_check_fingerprint(ngx_webrtc_peer_t *peer,
    X509 *cert);


static SSL_CTX     *ngx_webrtc_dtls_ctx;
static BIO_METHOD  *ngx_webrtc_bio_method;
static int          ngx_webrtc_dtls_index = -1;


/* per worker: the certificate generated in the master is inherited */

ngx_int_t
ngx_webrtc_dtls_init(ngx_cycle_t *cycle)
{
    ngx_webrtc_core_conf_t  *ccf;

    ccf = ngx_webrtc_core_conf(cycle);

    ngx_webrtc_dtls_ctx = SSL_CTX_new(DTLS_server_method());
    if (ngx_webrtc_dtls_ctx == NULL) {
        ngx_ssl_error(NGX_LOG_ALERT, cycle->log, 0, "SSL_CTX_new() failed");
        return NGX_ERROR;
    }

    /* RFC 8827, 6.5: DTLS 1.2 at least */

    if (SSL_CTX_set_min_proto_version(ngx_webrtc_dtls_ctx, DTLS1_2_VERSION)
        != 1
        || SSL_CTX_use_certificate(ngx_webrtc_dtls_ctx, ccf->cert) != 1
        || SSL_CTX_use_PrivateKey(ngx_webrtc_dtls_ctx, ccf->key) != 1)
    {
        ngx_ssl_error(NGX_LOG_ALERT, cycle->log, 0,
                      "cannot set up the DTLS context");
        return NGX_ERROR;
    }

    /* RFC 5764, 4.1.2; note: returns 0 on success */

    if (SSL_CTX_set_tlsext_use_srtp(ngx_webrtc_dtls_ctx,
                                    NGX_WEBRTC_SRTP_PROFILES)
        != 0)
    {
        ngx_ssl_error(NGX_LOG_ALERT, cycle->log, 0,
                      "SSL_CTX_set_tlsext_use_srtp() failed");
        return NGX_ERROR;
    }

    /*
     * the peer's certificate is self-signed: it is checked against the
     * a=fingerprint of its offer, so a mismatch fails the handshake with
     * an alert
     */

    ngx_webrtc_dtls_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);

    if (ngx_webrtc_dtls_index == -1) {
        ngx_ssl_error(NGX_LOG_ALERT, cycle->log, 0,
                      "SSL_get_ex_new_index() failed");
        return NGX_ERROR;
    }

    SSL_CTX_set_verify(ngx_webrtc_dtls_ctx,
                       SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       ngx_webrtc_dtls_verify_cb);

    SSL_CTX_set_options(ngx_webrtc_dtls_ctx, SSL_OP_NO_QUERY_MTU);
    SSL_CTX_set_read_ahead(ngx_webrtc_dtls_ctx, 1);

    ngx_webrtc_bio_method = BIO_meth_new(BIO_get_new_index()
                                         | BIO_TYPE_SOURCE_SINK,
                                         "nginx webrtc");
    if (ngx_webrtc_bio_method == NULL
        || BIO_meth_set_write(ngx_webrtc_bio_method, ngx_webrtc_bio_write)
           != 1
        || BIO_meth_set_ctrl(ngx_webrtc_bio_method, ngx_webrtc_bio_ctrl) != 1
        || BIO_meth_set_create(ngx_webrtc_bio_method, ngx_webrtc_bio_create)
           != 1)
    {
        ngx_ssl_error(NGX_LOG_ALERT, cycle->log, 0,
                      "cannot create the DTLS BIO method");
        return NGX_ERROR;
    }

    return NGX_OK;
}


static int
ngx_webrtc_dtls_verify_cb(int ok, X509_STORE_CTX *x509_store)
{
    SSL                *ssl;
    X509               *cert;
    ngx_webrtc_peer_t  *peer;

    if (X509_STORE_CTX_get_error_depth(x509_store) != 0) {
        /* the chain is not what is checked: the leaf's fingerprint is */
        return 1;
    }

    ssl = X509_STORE_CTX_get_ex_data(x509_store,
                                     SSL_get_ex_data_X509_STORE_CTX_idx());
    peer = ssl ? SSL_get_ex_data(ssl, ngx_webrtc_dtls_index) : NULL;
    cert = X509_STORE_CTX_get_current_cert(x509_store);

    if (peer == NULL || cert == NULL) {
        return 0;
    }

    return ngx_webrtc_dtls_check_fingerprint(peer, cert) == NGX_OK;
}


ngx_int_t
ngx_webrtc_dtls_create(ngx_webrtc_peer_t *peer)
{
    BIO        *wbio;
    ngx_log_t  *log;

    log = &peer->log;

    peer->ssl = SSL_new(ngx_webrtc_dtls_ctx);
    if (peer->ssl == NULL) {
        ngx_ssl_error(NGX_LOG_ALERT, log, 0, "SSL_new() failed");
        return NGX_ERROR;
    }

    peer->rbio = BIO_new(BIO_s_mem());
    wbio = BIO_new(ngx_webrtc_bio_method);

    if (peer->rbio == NULL || wbio == NULL) {
        ngx_ssl_error(NGX_LOG_ALERT, log, 0, "BIO_new() failed");

        if (peer->rbio) {
            BIO_free(peer->rbio);
            peer->rbio = NULL;
        }

        if (wbio) {
            BIO_free(wbio);
        }

        return NGX_ERROR;
    }

    BIO_set_mem_eof_return(peer->rbio, -1);
    BIO_set_data(wbio, peer);

    if (SSL_set_ex_data(peer->ssl, ngx_webrtc_dtls_index, peer) != 1) {
        ngx_ssl_error(NGX_LOG_ALERT, log, 0, "SSL_set_ex_data() failed");
        BIO_free(peer->rbio);
        BIO_free(wbio);
        peer->rbio = NULL;
        return NGX_ERROR;
    }

    SSL_set_bio(peer->ssl, peer->rbio, wbio);
    SSL_set_accept_state(peer->ssl);
    SSL_set_mtu(peer->ssl, NGX_WEBRTC_DTLS_MTU);

    peer->dtls_timer.handler = ngx_webrtc_dtls_timer_handler;
    peer->dtls_timer.data = peer;
    peer->dtls_timer.log = log;
    peer->dtls_timer.cancelable = 1;

    return NGX_OK;
}


/*
 * NGX_OK: the handshake completed with this datagram; NGX_AGAIN: nothing
 * more to do; NGX_DONE: the peer sent close_notify; NGX_ERROR: close it.
 */

ngx_int_t
ngx_webrtc_dtls_input(ngx_webrtc_peer_t *peer, u_char *data, size_t len)
{
    int         n, err;
    ngx_log_t  *log;
    u_char      buf[NGX_WEBRTC_MTU];

    log = &peer->log;

    if (BIO_write(peer->rbio, data, len) != (int) len) {
        return NGX_ERROR;
    }

    if (!peer->dtls_done) {

        ERR_clear_error();

        n = SSL_do_handshake(peer->ssl);

        if (n == 1) {
            if (peer->dtls_timer.timer_set) {
                ngx_del_timer(&peer->dtls_timer);
            }

            return ngx_webrtc_dtls_established(peer);
        }

        err = SSL_get_error(peer->ssl, n);

        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
            ngx_webrtc_dtls_set_timer(peer);
            return NGX_AGAIN;
        }

        ngx_ssl_error(NGX_LOG_INFO, log, 0,
                      "webrtc: DTLS handshake failed");
        return NGX_ERROR;
    }

    for ( ;; ) {
        ERR_clear_error();

        n = SSL_read(peer->ssl, buf, sizeof(buf));

        if (n > 0) {
            /* application data (SCTP for data channels): not served */
            continue;
        }

        err = SSL_get_error(peer->ssl, n);

        if (err == SSL_ERROR_ZERO_RETURN) {
            return NGX_DONE;
        }

        if (err == SSL_ERROR_WANT_READ) {
            return NGX_AGAIN;
        }

        ngx_ssl_error(NGX_LOG_INFO, log, 0, "webrtc: DTLS read failed");
        return NGX_ERROR;
    }
}


static ngx_int_t
ngx_webrtc_dtls_established(ngx_webrtc_peer_t *peer)
{
    X509                    *cert;
    ngx_int_t                rc;
    ngx_log_t               *log;
    const SRTP_PROTECTION_PROFILE  *profile;
    u_char                   material[2 * (16 + 14)];
    size_t                   len;

    log = &peer->log;

#if (OPENSSL_VERSION_NUMBER >= 0x30000000L)
    cert = SSL_get1_peer_certificate(peer->ssl);
#else
    cert = SSL_get_peer_certificate(peer->ssl);
#endif

    if (cert == NULL) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "webrtc: DTLS peer sent no certificate");
        return NGX_ERROR;
    }

    rc = ngx_webrtc_dtls_check_fingerprint(peer, cert);
    X509_free(cert);

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    /* RFC 5764, 4.2: the keys for SRTP come from the handshake */

    profile = SSL_get_selected_srtp_profile(peer->ssl);

    if (profile == NULL) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "webrtc: DTLS peer negotiated no SRTP profile");
        return NGX_ERROR;
    }

    len = (profile->id == SRTP_AEAD_AES_128_GCM) ? 2 * (16 + 12)
                                                  : 2 * (16 + 14);

    if (SSL_export_keying_material(peer->ssl, material, len,
                                   "EXTRACTOR-dtls_srtp", 19, NULL, 0, 0)
        != 1)
    {
        ngx_ssl_error(NGX_LOG_ALERT, log, 0,
                      "SSL_export_keying_material() failed");
        return NGX_ERROR;
    }

    rc = ngx_webrtc_srtp_create(peer, profile->id, material, len);

    ngx_explicit_memzero(material, sizeof(material));

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    peer->dtls_done = 1;

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "webrtc session %*s: DTLS %s established, %s",
                  (size_t) NGX_WEBRTC_ID_LEN, peer->id,
                  SSL_get_version(peer->ssl), profile->name);

    return NGX_OK;
}


/*
 * RFC 8122, 5 and RFC 8842, 5.1: the certificate MUST match a fingerprint
 * of the offer, which arrived over authenticated signaling; otherwise the
 * session is torn down and no media flows.
 */

static ngx_int_t
ngx_webrtc_dtls_check_fingerprint(ngx_webrtc_peer_t *peer, X509 *cert)
{
    ngx_uint_t                 i;
    unsigned int               len;
    const EVP_MD              *md;
    ngx_webrtc_fingerprint_t  *fp;
    u_char                     buf[EVP_MAX_MD_SIZE];

    for (i = 0; i < peer->nfingerprints; i++) {
        fp = &peer->fingerprints[i];

        switch (fp->hash) {
        case NGX_WEBRTC_HASH_SHA1:
            md = EVP_sha1();
            break;
        case NGX_WEBRTC_HASH_SHA224:
            md = EVP_sha224();
            break;
        case NGX_WEBRTC_HASH_SHA256:
            md = EVP_sha256();
            break;
        case NGX_WEBRTC_HASH_SHA384:
            md = EVP_sha384();
            break;
        default:
            md = EVP_sha512();
            break;
        }

        if (X509_digest(cert, md, buf, &len) == 1
            && len == fp->len
            && CRYPTO_memcmp(buf, fp->value, len) == 0)
        {
            return NGX_OK;
        }
    }

    ngx_log_error(NGX_LOG_INFO, &peer->log, 0,
                  "webrtc session %*s: DTLS certificate does not match "
                  "the a=fingerprint of the offer, closing",
                  (size_t) NGX_WEBRTC_ID_LEN, peer->id);

    return NGX_ERROR;
}


static void
ngx_webrtc_dtls_set_timer(ngx_webrtc_peer_t *peer)
{
    struct timeval  tv;

    if (DTLSv1_get_timeout(peer->ssl, &tv) == 1) {
        ngx_add_timer(&peer->dtls_timer,
                      (ngx_msec_t) tv.tv_sec * 1000 + tv.tv_usec / 1000 + 1);
    }
}


static void
ngx_webrtc_dtls_timer_handler(ngx_event_t *ev)
{
    ngx_webrtc_peer_t  *peer = ev->data;

    if (peer->dtls_done || peer->closed) {
        return;
    }

    if (DTLSv1_handle_timeout(peer->ssl) < 0) {
        ngx_webrtc_peer_close(peer, "DTLS handshake timed out");
        return;
    }

    ngx_webrtc_dtls_set_timer(peer);
}


void
ngx_webrtc_dtls_free(ngx_webrtc_peer_t *peer)
{
    if (peer->dtls_timer.timer_set) {
        ngx_del_timer(&peer->dtls_timer);
    }

    if (peer->ssl) {
        if (peer->dtls_done) {
            /* close_notify, best effort */
            (void) SSL_shutdown(peer->ssl);
        }

        SSL_free(peer->ssl);
        peer->ssl = NULL;
        peer->rbio = NULL;
    }
}


/* each record OpenSSL writes is one datagram to the peer */

static int
ngx_webrtc_bio_write(BIO *b, const char *data, int len)
{
    ngx_webrtc_peer_t  *peer;

    peer = BIO_get_data(b);

    (void) ngx_webrtc_peer_send(peer, (u_char *) data, len);

    return len;
}


static long
ngx_webrtc_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    switch (cmd) {

    case BIO_CTRL_FLUSH:
        return 1;

    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
        return NGX_WEBRTC_DTLS_MTU;

    default:
        return 0;
    }
}


static int
ngx_webrtc_bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}


ngx_int_t
ngx_webrtc_srtp_init(ngx_cycle_t *cycle)
{
    srtp_err_status_t  err;

    err = srtp_init();

    if (err != srtp_err_status_ok) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "srtp_init() failed: %d", (int) err);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * RFC 5764, 4.2: client_write_key | server_write_key | client_write_salt
 * | server_write_salt.  We are the DTLS server: the client's keys
 * decrypt what arrives, ours encrypt what we send.
 */

ngx_int_t
ngx_webrtc_srtp_create(ngx_webrtc_peer_t *peer, ngx_uint_t profile,
    u_char *material, size_t len)
{
    size_t              klen, slen;
    srtp_policy_t       in, out;
    srtp_err_status_t   err;
    u_char              in_key[32], out_key[32];

    klen = 16;
    slen = (profile == SRTP_AEAD_AES_128_GCM) ? 12 : 14;

    ngx_memcpy(in_key, material, klen);
    ngx_memcpy(in_key + klen, material + 2 * klen, slen);
    ngx_memcpy(out_key, material + klen, klen);
    ngx_memcpy(out_key + klen, material + 2 * klen + slen, slen);

    ngx_memzero(&in, sizeof(srtp_policy_t));
    ngx_memzero(&out, sizeof(srtp_policy_t));

    if (profile == SRTP_AEAD_AES_128_GCM) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&in.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&in.rtcp);

    } else {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&in.rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&in.rtcp);
    }

    out.rtp = in.rtp;
    out.rtcp = in.rtcp;

    in.ssrc.type = ssrc_any_inbound;
    in.key = in_key;
    in.window_size = 1024;

    out.ssrc.type = ssrc_any_outbound;
    out.key = out_key;
    out.window_size = 1024;

    /* retransmissions answering NACKs repeat sequence numbers */
    out.allow_repeat_tx = 1;

    err = srtp_create(&peer->srtp_in, &in);

    if (err == srtp_err_status_ok) {
        err = srtp_create(&peer->srtp_out, &out);

        if (err != srtp_err_status_ok) {
            srtp_dealloc(peer->srtp_in);
            peer->srtp_in = NULL;
        }
    }

    ngx_explicit_memzero(in_key, sizeof(in_key));
    ngx_explicit_memzero(out_key, sizeof(out_key));

    if (err != srtp_err_status_ok) {
        ngx_log_error(NGX_LOG_ALERT, &peer->log, 0,
                      "srtp_create() failed: %d", (int) err);
        return NGX_ERROR;
    }

    peer->srtp_ready = 1;

    return NGX_OK;
}


void
ngx_webrtc_srtp_free(ngx_webrtc_peer_t *peer)
{
    if (peer->srtp_in) {
        srtp_dealloc(peer->srtp_in);
        peer->srtp_in = NULL;
    }

    if (peer->srtp_out) {
        srtp_dealloc(peer->srtp_out);
        peer->srtp_out = NULL;
    }

    peer->srtp_ready = 0;
}
