
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "ngx_webrtc.h"


#define NGX_WEBRTC_EXPIRE_INTERVAL  1000


static void *ngx_webrtc_core_create_conf(ngx_cycle_t *cycle);
static char *ngx_webrtc_core_init_conf(ngx_cycle_t *cycle, void *conf);
static ngx_int_t ngx_webrtc_core_load_cert(ngx_cycle_t *cycle,
    ngx_webrtc_core_conf_t *ccf);
static ngx_int_t ngx_webrtc_core_generate_cert(ngx_cycle_t *cycle,
    ngx_webrtc_core_conf_t *ccf);
static ngx_int_t ngx_webrtc_core_keep_cert(ngx_cycle_t *cycle,
    ngx_webrtc_core_conf_t *ccf);
static ngx_int_t ngx_webrtc_core_fingerprint(ngx_cycle_t *cycle,
    ngx_webrtc_core_conf_t *ccf);
static void ngx_webrtc_core_cleanup(void *data);
static ngx_int_t ngx_webrtc_core_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_webrtc_core_init_process(ngx_cycle_t *cycle);
static void ngx_webrtc_core_expire_handler(ngx_event_t *ev);


static ngx_command_t  ngx_webrtc_core_commands[] = {

    { ngx_string("webrtc_zone_size"),
      NGX_MAIN_CONF|NGX_DIRECT_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      0,
      offsetof(ngx_webrtc_core_conf_t, zone_size),
      NULL },

    { ngx_string("webrtc_consent_timeout"),
      NGX_MAIN_CONF|NGX_DIRECT_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      0,
      offsetof(ngx_webrtc_core_conf_t, consent_timeout),
      NULL },

    { ngx_string("webrtc_handshake_timeout"),
      NGX_MAIN_CONF|NGX_DIRECT_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      0,
      offsetof(ngx_webrtc_core_conf_t, handshake_timeout),
      NULL },

    { ngx_string("webrtc_notify"),
      NGX_MAIN_CONF|NGX_DIRECT_CONF|NGX_CONF_1MORE,
      ngx_webrtc_notify_directive,
      0,
      0,
      NULL },

    { ngx_string("webrtc_certificate"),
      NGX_MAIN_CONF|NGX_DIRECT_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      0,
      offsetof(ngx_webrtc_core_conf_t, certificate),
      NULL },

    { ngx_string("webrtc_certificate_key"),
      NGX_MAIN_CONF|NGX_DIRECT_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      0,
      offsetof(ngx_webrtc_core_conf_t, certificate_key),
      NULL },

      ngx_null_command
};


static ngx_core_module_t  ngx_webrtc_core_module_ctx = {
    ngx_string("webrtc"),
    ngx_webrtc_core_create_conf,
    ngx_webrtc_core_init_conf
};


ngx_module_t  ngx_webrtc_core_module = {
    NGX_MODULE_V1,
    &ngx_webrtc_core_module_ctx,            /* module context */
    ngx_webrtc_core_commands,               /* module directives */
    NGX_CORE_MODULE,                        /* module type */
    NULL,                                   /* init master */
    ngx_webrtc_core_init_module,            /* init module */
    ngx_webrtc_core_init_process,           /* init process */
    NULL,                                   /* init thread */
    NULL,                                   /* exit thread */
    NULL,                                   /* exit process */
    NULL,                                   /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_str_t  ngx_webrtc_zone_name = ngx_string("webrtc");


static void *
ngx_webrtc_core_create_conf(ngx_cycle_t *cycle)
{
    ngx_webrtc_core_conf_t  *ccf;

    ccf = ngx_pcalloc(cycle->pool, sizeof(ngx_webrtc_core_conf_t));
    if (ccf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     ccf->certificate = { 0, NULL };
     *     ccf->certificate_key = { 0, NULL };
     *     ccf->cert = NULL;
     *     ccf->key = NULL;
     *     ccf->shm_zone = NULL;
     */

    ccf->zone_size = NGX_CONF_UNSET_SIZE;
    ccf->consent_timeout = NGX_CONF_UNSET;
    ccf->handshake_timeout = NGX_CONF_UNSET;

    return ccf;
}


static char *
ngx_webrtc_core_init_conf(ngx_cycle_t *cycle, void *conf)
{
    ngx_webrtc_core_conf_t *ccf = conf;

    ngx_pool_cleanup_t  *cln;

    ngx_conf_init_size_value(ccf->zone_size, 16 * 1024 * 1024);
    ngx_conf_init_value(ccf->consent_timeout, 30);
    ngx_conf_init_value(ccf->handshake_timeout, 20);

    if (ccf->zone_size < 16 * ngx_pagesize) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "\"webrtc_zone_size\" of %uz is too small",
                      ccf->zone_size);
        return NGX_CONF_ERROR;
    }

    if (ccf->shm_zone == NULL) {
        /* the module is loaded but no webrtc location or server uses it */
        return NGX_CONF_OK;
    }

    ccf->shm_zone->shm.size = ccf->zone_size;

    cln = ngx_pool_cleanup_add(cycle->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_webrtc_core_cleanup;
    cln->data = ccf;

    if (ccf->certificate.len || ccf->certificate_key.len) {

        if (ccf->certificate.len == 0 || ccf->certificate_key.len == 0) {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                          "\"webrtc_certificate\" and "
                          "\"webrtc_certificate_key\" must be set together");
            return NGX_CONF_ERROR;
        }

        if (ngx_webrtc_core_load_cert(cycle, ccf) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

    } else if (ngx_webrtc_core_generate_cert(cycle, ccf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_webrtc_core_fingerprint(cycle, ccf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


ngx_int_t
ngx_webrtc_core_use(ngx_conf_t *cf)
{
    ngx_webrtc_core_conf_t  *ccf;

    ccf = ngx_webrtc_core_conf(cf->cycle);

    if (ccf->shm_zone) {
        return NGX_OK;
    }

    /* the size is set by ngx_webrtc_core_init_conf() */

    return ngx_webrtc_registry_add_zone(cf, &ngx_webrtc_zone_name,
                                        &ngx_webrtc_core_module,
                                        &ccf->shm_zone);
}


ngx_webrtc_core_conf_t *
ngx_webrtc_core_conf(ngx_cycle_t *cycle)
{
    return (ngx_webrtc_core_conf_t *) ngx_get_conf(cycle->conf_ctx,
                                                   ngx_webrtc_core_module);
}


static ngx_int_t
ngx_webrtc_core_load_cert(ngx_cycle_t *cycle, ngx_webrtc_core_conf_t *ccf)
{
    BIO  *bio;

    if (ngx_get_full_name(cycle->pool, &cycle->conf_prefix, &ccf->certificate)
        != NGX_OK
        || ngx_get_full_name(cycle->pool, &cycle->conf_prefix,
                             &ccf->certificate_key)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* ngx_conf_set_str_slot() values are null-terminated */

    bio = BIO_new_file((char *) ccf->certificate.data, "r");
    if (bio == NULL) {
        ngx_ssl_error(NGX_LOG_EMERG, cycle->log, 0,
                      "BIO_new_file(\"%V\") failed", &ccf->certificate);
        return NGX_ERROR;
    }

    ccf->cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);

    if (ccf->cert == NULL) {
        ngx_ssl_error(NGX_LOG_EMERG, cycle->log, 0,
                      "cannot load webrtc certificate \"%V\"",
                      &ccf->certificate);
        return NGX_ERROR;
    }

    bio = BIO_new_file((char *) ccf->certificate_key.data, "r");
    if (bio == NULL) {
        ngx_ssl_error(NGX_LOG_EMERG, cycle->log, 0,
                      "BIO_new_file(\"%V\") failed", &ccf->certificate_key);
        return NGX_ERROR;
    }

    ccf->key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);

    if (ccf->key == NULL) {
        ngx_ssl_error(NGX_LOG_EMERG, cycle->log, 0,
                      "cannot load webrtc certificate key \"%V\"",
                      &ccf->certificate_key);
        return NGX_ERROR;
    }

    if (X509_check_private_key(ccf->cert, ccf->key) != 1) {
        ngx_ssl_error(NGX_LOG_EMERG, cycle->log, 0,
                      "webrtc certificate \"%V\" does not match key \"%V\"",
                      &ccf->certificate, &ccf->certificate_key);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * RFC 8827, 6.5: an ECDSA P-256 certificate; browsers verify it only
 * against the fingerprint in the signaling, so it is self-signed and
 * generated once per configuration, in the master, for all workers
 */

static ngx_int_t
ngx_webrtc_core_generate_cert(ngx_cycle_t *cycle, ngx_webrtc_core_conf_t *ccf)
{
    uint32_t    serial;
    X509_NAME  *name;

    ccf->key = EVP_EC_gen("P-256");
    if (ccf->key == NULL) {
        ngx_ssl_error(NGX_LOG_EMERG, cycle->log, 0, "EVP_EC_gen() failed");
        return NGX_ERROR;
    }

    ccf->cert = X509_new();
    if (ccf->cert == NULL) {
        ngx_ssl_error(NGX_LOG_EMERG, cycle->log, 0, "X509_new() failed");
        return NGX_ERROR;
    }

    if (RAND_bytes((u_char *) &serial, sizeof(serial)) != 1) {
        ngx_ssl_error(NGX_LOG_EMERG, cycle->log, 0, "RAND_bytes() failed");
        return NGX_ERROR;
    }

    name = X509_get_subject_name(ccf->cert);

    if (X509_set_version(ccf->cert, 2) != 1
        || ASN1_INTEGER_set(X509_get_serialNumber(ccf->cert),
                            serial & 0x7fffffff) != 1
        || X509_gmtime_adj(X509_getm_notBefore(ccf->cert), -86400) == NULL
        || X509_gmtime_adj(X509_getm_notAfter(ccf->cert), 86400L * 365)
           == NULL
        || X509_set_pubkey(ccf->cert, ccf->key) != 1
        || X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                      (u_char *) "nginx-webrtc", -1, -1, 0)
           != 1
        || X509_set_issuer_name(ccf->cert, name) != 1
        || X509_sign(ccf->cert, ccf->key, EVP_sha256()) == 0)
    {
        ngx_ssl_error(NGX_LOG_EMERG, cycle->log, 0,
                      "cannot generate webrtc certificate");
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* RFC 8122, 5: the fingerprint as upper case hex pairs joined by colons */

static ngx_int_t
ngx_webrtc_core_fingerprint(ngx_cycle_t *cycle, ngx_webrtc_core_conf_t *ccf)
{
    u_char        *p;
    unsigned int   i, len;
    u_char         md[EVP_MAX_MD_SIZE];

    static u_char  hex[] = "0123456789ABCDEF";

    if (X509_digest(ccf->cert, EVP_sha256(), md, &len) != 1 || len != 32) {
        ngx_ssl_error(NGX_LOG_EMERG, cycle->log, 0, "X509_digest() failed");
        return NGX_ERROR;
    }

    p = ngx_pnalloc(cycle->pool, NGX_WEBRTC_FP_TEXT_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ccf->fingerprint.data = p;
    p = ngx_cpymem(p, "sha-256 ", sizeof("sha-256 ") - 1);

    for (i = 0; i < len; i++) {
        if (i) {
            *p++ = ':';
        }

        *p++ = hex[md[i] >> 4];
        *p++ = hex[md[i] & 0xf];
    }

    ccf->fingerprint.len = p - ccf->fingerprint.data;

    return NGX_OK;
}


static void
ngx_webrtc_core_cleanup(void *data)
{
    ngx_webrtc_core_conf_t  *ccf = data;

    if (ccf->cert) {
        X509_free(ccf->cert);
        ccf->cert = NULL;
    }

    if (ccf->key) {
        EVP_PKEY_free(ccf->key);
        ccf->key = NULL;
    }
}


/* fills buf with random characters of a power-of-two sized alphabet */

ngx_int_t
ngx_webrtc_random(u_char *buf, size_t len, const char *alphabet)
{
    size_t  i, mask;

    if (RAND_bytes(buf, len) != 1) {
        return NGX_ERROR;
    }

    mask = ngx_strlen(alphabet) - 1;

    for (i = 0; i < len; i++) {
        buf[i] = alphabet[buf[i] & mask];
    }

    return NGX_OK;
}


static ngx_int_t
ngx_webrtc_core_init_module(ngx_cycle_t *cycle)
{
    ngx_webrtc_core_conf_t  *ccf;

    ccf = ngx_webrtc_core_conf(cycle);

    if (ccf == NULL || ccf->shm_zone == NULL || ngx_test_config) {
        return NGX_OK;
    }

    /*
     * the certificate made for the first configuration is kept in the
     * zone and used by the next ones: the fingerprint answers gave before
     * a reload is still the one DTLS shows after it
     */

    if (ccf->certificate.len == 0
        && ngx_webrtc_core_keep_cert(cycle, ccf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (!ccf->media) {
        return NGX_OK;
    }

    /* in the master, before workers are forked */

    return ngx_webrtc_relay_init(cycle);
}


static ngx_int_t
ngx_webrtc_core_keep_cert(ngx_cycle_t *cycle, ngx_webrtc_core_conf_t *ccf)
{
    int                 n;
    X509               *cert;
    u_char             *p;
    ngx_int_t           rc;
    ngx_str_t           der, key, kept_der, kept_key;
    EVP_PKEY           *pkey;
    const u_char       *q;

    der.len = 0;
    key.len = 0;

    n = i2d_X509(ccf->cert, NULL);

    if (n > 0) {
        der.data = ngx_pnalloc(cycle->pool, n);
        if (der.data == NULL) {
            return NGX_ERROR;
        }

        p = der.data;
        der.len = i2d_X509(ccf->cert, &p);
    }

    n = i2d_PrivateKey(ccf->key, NULL);

    if (n > 0) {
        key.data = ngx_pnalloc(cycle->pool, n);
        if (key.data == NULL) {
            return NGX_ERROR;
        }

        p = key.data;
        key.len = i2d_PrivateKey(ccf->key, &p);
    }

    if (der.len == 0 || key.len == 0) {
        ngx_ssl_error(NGX_LOG_EMERG, cycle->log, 0,
                      "cannot encode webrtc certificate");
        return NGX_ERROR;
    }

    rc = ngx_webrtc_registry_certificate(ccf->shm_zone, cycle->pool, &der,
                                         &key, &kept_der, &kept_key);

    ngx_explicit_memzero(key.data, key.len);

    if (rc != NGX_DONE) {
        /* kept now, or the zone is full: this one is used */
        return (rc == NGX_ERROR) ? NGX_ERROR : NGX_OK;
    }

    q = kept_der.data;
    cert = d2i_X509(NULL, &q, kept_der.len);

    q = kept_key.data;
    pkey = d2i_AutoPrivateKey(NULL, &q, kept_key.len);

    ngx_explicit_memzero(kept_key.data, kept_key.len);

    if (cert == NULL || pkey == NULL) {
        ngx_ssl_error(NGX_LOG_ALERT, cycle->log, 0,
                      "cannot decode the kept webrtc certificate, "
                      "a new one is used");
        X509_free(cert);
        EVP_PKEY_free(pkey);
        return NGX_OK;
    }

    X509_free(ccf->cert);
    EVP_PKEY_free(ccf->key);

    ccf->cert = cert;
    ccf->key = pkey;

    return ngx_webrtc_core_fingerprint(cycle, ccf);
}


static ngx_int_t
ngx_webrtc_core_init_process(ngx_cycle_t *cycle)
{
    ngx_event_t             *ev;
    ngx_webrtc_core_conf_t  *ccf;

    ccf = ngx_webrtc_core_conf(cycle);

    if (ccf == NULL || ccf->shm_zone == NULL
        || (ngx_process != NGX_PROCESS_WORKER
            && ngx_process != NGX_PROCESS_SINGLE))
    {
        return NGX_OK;
    }

    /* sessions that never connect, or lost consent, are freed by any worker */

    ev = &ccf->expire_event;
    ev->handler = ngx_webrtc_core_expire_handler;
    ev->data = ccf;
    ev->log = cycle->log;
    ev->cancelable = 1;

    ngx_add_timer(ev, NGX_WEBRTC_EXPIRE_INTERVAL);

    return NGX_OK;
}


static void
ngx_webrtc_core_expire_handler(ngx_event_t *ev)
{
    ngx_uint_t          i, n;
    ngx_webrtc_owner_t  owners[NGX_WEBRTC_EXPIRE_OWNERS];

    (void) ngx_webrtc_registry_expire(ngx_time(), ev->log, owners, &n);

    /* a worker still serving a session the zone no longer has stops */

    for (i = 0; i < n; i++) {
        ngx_webrtc_relay_close(owners[i].slot, owners[i].pid, owners[i].id,
                               NGX_WEBRTC_CLOSE_EXPIRED);
    }

    if (!ngx_exiting) {
        ngx_add_timer(ev, NGX_WEBRTC_EXPIRE_INTERVAL);
    }
}


/* ngx_webrtc_h264_profile_e, as the status location and logs name it */

const char *
ngx_webrtc_h264_profile_name(ngx_uint_t profile)
{
    static const char  *names[] = {
        "unknown",
        "constrained baseline",
        "baseline",
        "main",
        "constrained high",
        "high",
        "predictive high 4:4:4"
    };

    if (profile >= sizeof(names) / sizeof(names[0])) {
        return names[0];
    }

    return names[profile];
}
