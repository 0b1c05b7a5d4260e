
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "ngx_webrtc_media.h"


/*
 * DTLS 1.2 server (RFC 5763, RFC 8842: we answer a=setup:passive) over
 * the shared UDP socket: datagrams are written into a memory BIO, and a
 * BIO of our own sends each record OpenSSL writes as one datagram.  The
 * retransmission timer is an nginx timer.
 */


#define NGX_WEBRTC_DTLS_MTU         1200

/*
 * RFC 8827, 6.5: TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 is what browsers
 * offer first.  AEAD suites only: OpenSSL 3.0's DTLS answers a CBC record
 * that fails authentication with a fatal alert, where RFC 6347, 4.1.2.7
 * asks to discard it, so one forged datagram would end a session.
 */
#define NGX_WEBRTC_DTLS_CIPHERS     "ECDHE+AESGCM:ECDHE+CHACHA20"

/*
 * the SSL object of a peer that completed the handshake but sends no
 * media is released this long after, when it can no longer need to
 * retransmit its last flight (a browser's timer is 1 s, doubling)
 */
#define NGX_WEBRTC_DTLS_RELEASE     10000

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
static ngx_int_t ngx_webrtc_dtls_check_records(ngx_webrtc_peer_t *peer,
    u_char *p, size_t len);


static SSL_CTX         *ngx_webrtc_dtls_ctx;
static BIO_METHOD      *ngx_webrtc_bio_method;
static int              ngx_webrtc_dtls_index = -1;


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
        || SSL_CTX_set_cipher_list(ngx_webrtc_dtls_ctx,
                                   NGX_WEBRTC_DTLS_CIPHERS)
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

    SSL_CTX_set_options(ngx_webrtc_dtls_ctx,
                        SSL_OP_NO_QUERY_MTU|SSL_OP_NO_RENEGOTIATION
                        |SSL_OP_NO_TICKET);
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
 * more to do; NGX_DONE: the peer sent close_notify; NGX_ERROR: close it
 * (a failure, or the peer's fatal alert).
 */

ngx_int_t
ngx_webrtc_dtls_input(ngx_webrtc_peer_t *peer, u_char *data, size_t len)
{
    int         n, err;
    ngx_log_t  *log;
    u_char      buf[NGX_WEBRTC_MTU];

    log = &peer->log;

    if (peer->ssl == NULL) {
        return peer->dtls_parked ? ngx_webrtc_dtls_parked_input(peer, data, len)
                                 : NGX_AGAIN;
    }

    if (ngx_webrtc_dtls_check_records(peer, data, len) != NGX_OK) {
        return NGX_AGAIN;
    }

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

            ngx_add_timer(&peer->dtls_timer, NGX_WEBRTC_DTLS_RELEASE);

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


/*
 * RFC 6347, 4.1.2.7: an invalid record is silently discarded.  OpenSSL
 * 3.0 (seen with 3.0.19) answers an encrypted record shorter than its
 * cipher's explicit nonce and tag with a fatal internal_error alert
 * instead: one forged datagram on the session's 5-tuple would end it.
 * Such a datagram does not reach OpenSSL.
 */

static ngx_int_t
ngx_webrtc_dtls_check_records(ngx_webrtc_peer_t *peer, u_char *p,
    size_t len)
{
    size_t             n, min;
    const SSL_CIPHER  *cipher;

    cipher = SSL_get_current_cipher(peer->ssl);

    if (cipher == NULL) {
        cipher = SSL_get_pending_cipher(peer->ssl);
    }

    /*
     * the least of the suites allowed while none is chosen (before the
     * ClientHello OpenSSL discards encrypted records anyway)
     */

    min = NGX_WEBRTC_POLY1305_TAG;

    if (cipher && SSL_CIPHER_get_cipher_nid(cipher) != NID_chacha20_poly1305) {
        min = NGX_WEBRTC_GCM_NONCE + NGX_WEBRTC_GCM_TAG;
    }

    /* RFC 6347, 4.1: type, version, epoch, sequence_number, length */

    while (len >= NGX_WEBRTC_DTLS_HEADER) {
        n = ((size_t) p[11] << 8) + p[12];

        if (n > len - NGX_WEBRTC_DTLS_HEADER) {
            /* OpenSSL drops the rest of the datagram */
            break;
        }

        if ((p[3] != 0 || p[4] != 0) && n < min) {

            if (!peer->dtls_short) {
                peer->dtls_short = 1;

                ngx_log_error(NGX_LOG_INFO, &peer->log, 0,
                              "webrtc session %*s: encrypted DTLS record "
                              "of %uz bytes, shorter than its cipher's "
                              "overhead, dropped",
                              (size_t) NGX_WEBRTC_ID_LEN, peer->id, n);
            }

            return NGX_DECLINED;
        }

        p += NGX_WEBRTC_DTLS_HEADER + n;
        len -= NGX_WEBRTC_DTLS_HEADER + n;
    }

    return NGX_OK;
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
    ngx_webrtc_keys_t        keys;

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

    len = ngx_webrtc_srtp_material_len(profile->id == SRTP_AEAD_AES_128_GCM);

    if (SSL_export_keying_material(peer->ssl, material, len,
                                   "EXTRACTOR-dtls_srtp", 19, NULL, 0, 0)
        != 1)
    {
        ngx_ssl_error(NGX_LOG_ALERT, log, 0,
                      "SSL_export_keying_material() failed");
        return NGX_ERROR;
    }

    rc = ngx_webrtc_srtp_create(peer, profile->id, material);

    /* the keys into the zone, for a worker that takes the session over */

    if (rc == NGX_OK) {
        keys.gcm = (profile->id == SRTP_AEAD_AES_128_GCM);
        ngx_webrtc_srtp_keys(material, keys.gcm, 0, keys.in, keys.out);

        if (ngx_webrtc_registry_put_keys(peer->id, &keys) == NGX_ERROR) {
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "webrtc zone is full, session %*s cannot be "
                          "handed over on reload",
                          (size_t) NGX_WEBRTC_ID_LEN, peer->id);
        }

        ngx_explicit_memzero(&keys, sizeof(keys));
    }

    ngx_explicit_memzero(material, sizeof(material));

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    peer->dtls_done = 1;

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "webrtc session %*s: DTLS %s established, %s, %s",
                  (size_t) NGX_WEBRTC_ID_LEN, peer->id,
                  SSL_get_version(peer->ssl), SSL_get_cipher_name(peer->ssl),
                  profile->name);

    peer->cipher = SSL_get_cipher_name(peer->ssl);
    peer->profile = profile->name;

    ngx_webrtc_notify(peer, peer->role == NGX_WEBRTC_ROLE_PUBLISHER
                            ? "publish" : "play", NULL);

    return NGX_OK;
}


/*
 * RFC 8122, 5 and RFC 8842, 5.1: the certificate MUST match a fingerprint
 * of the offer, which arrived over authenticated signaling; otherwise the
 * session is torn down and no media flows.  Of several fingerprints, those
 * of the strongest hash function are checked (RFC 8122, 5): a weak one
 * beside a strong one (Firefox may list sha-1 too) proves nothing.
 */

static ngx_int_t
ngx_webrtc_dtls_check_fingerprint(ngx_webrtc_peer_t *peer, X509 *cert)
{
    ngx_uint_t                 i, strongest;
    unsigned int               len;
    const EVP_MD              *md;
    ngx_webrtc_fingerprint_t  *fp;
    u_char                     buf[EVP_MAX_MD_SIZE];

    strongest = 0;

    for (i = 0; i < peer->nfingerprints; i++) {
        strongest = ngx_max(strongest, peer->fingerprints[i].hash);
    }

    for (i = 0; i < peer->nfingerprints; i++) {
        fp = &peer->fingerprints[i];

        if (fp->hash != strongest) {
            continue;
        }

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

    if (peer->closed) {
        return;
    }

    if (peer->dtls_done) {

        if (peer->ssl == NULL || peer->dtls_kept) {
            return;
        }

        /*
         * no SRTP or SRTCP came to show the peer has the keys: a peer that
         * answers consent and sends no media must not keep the SSL object
         * for as long as it does
         */

        peer->log.action = "releasing DTLS state";

        ngx_webrtc_dtls_park(peer);

        ngx_log_error(NGX_LOG_INFO, &peer->log, 0,
                      "webrtc session %*s: no SRTP or SRTCP %M ms after "
                      "the DTLS handshake, DTLS state %s",
                      (size_t) NGX_WEBRTC_ID_LEN, peer->id,
                      (ngx_msec_t) NGX_WEBRTC_DTLS_RELEASE,
                      peer->ssl ? "kept" : "released");

        peer->log.action = NULL;
        return;
    }

    peer->log.action = "handshaking DTLS";

    if (DTLSv1_handle_timeout(peer->ssl) < 0) {
        ngx_webrtc_peer_close(peer, NGX_WEBRTC_CLOSED_DTLS,
                              "DTLS handshake timed out");
        return;
    }

    ngx_webrtc_dtls_set_timer(peer);

    peer->log.action = NULL;
}


/*
 * A peer handed over on reload: its DTLS state goes without a
 * close_notify, the session goes on in another worker
 */

void
ngx_webrtc_dtls_drop(ngx_webrtc_peer_t *peer)
{
    if (peer->dtls_timer.timer_set) {
        ngx_del_timer(&peer->dtls_timer);
    }

    if (peer->ssl) {
#if (NGX_HAVE_MALLOC_TRIM)
        ngx_webrtc_dtls_released_one();
#endif
        SSL_free(peer->ssl);
        peer->ssl = NULL;
        peer->rbio = NULL;
    }

    ngx_explicit_memzero(peer->dtls_key, sizeof(peer->dtls_key));
    peer->dtls_parked = 0;
}


void
ngx_webrtc_dtls_free(ngx_webrtc_peer_t *peer)
{
    if (peer->dtls_timer.timer_set) {
        ngx_del_timer(&peer->dtls_timer);
    }

#if (NGX_HAVE_MALLOC_TRIM)
    ngx_webrtc_dtls_released_one();
#endif

    if (peer->ssl) {
        if (peer->dtls_done) {
            /* close_notify, best effort */
            (void) SSL_shutdown(peer->ssl);
        }

        SSL_free(peer->ssl);
        peer->ssl = NULL;
        peer->rbio = NULL;

    } else if (peer->dtls_parked) {
        if (peer->dtls_close_len) {
            (void) ngx_webrtc_peer_send(peer, peer->dtls_close,
                                        peer->dtls_close_len);
        }

        ngx_explicit_memzero(peer->dtls_key, sizeof(peer->dtls_key));
        peer->dtls_parked = 0;
    }
}


/* each record OpenSSL writes is one datagram to the peer */

static int
ngx_webrtc_bio_write(BIO *b, const char *data, int len)
{
    ngx_webrtc_peer_t  *peer;

    peer = BIO_get_data(b);

    if (peer->dtls_capture) {
        /* parking: our close_notify is kept for the end */

        if (peer->dtls_close_len == 0 && len <= (int) sizeof(peer->dtls_close))
        {
            ngx_memcpy(peer->dtls_close, data, len);
            peer->dtls_close_len = len;
        }

        return len;
    }

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
