
/*
 * Copyright (C) nginx-webrtc-module authors
 */


/*
 * unit tests of src/ngx_webrtc_srtp.c: the sessions from DTLS keying
 * material, and libsrtp2's AES-GCM, AES-CM and HMAC-SHA1 from OpenSSL
 * against libsrtp2's own (Debian's: NSS), packet for packet
 */


#include "unit.h"
#include "ngx_webrtc_rtp.h"
#include "ngx_webrtc_srtp.h"

#include <openssl/evp.h>


#define BUF  (1500 + SRTP_MAX_TRAILER_LEN)


typedef struct {
    srtp_t   in;
    srtp_t   out;
} pair_t;


typedef struct {
    pair_t   server;
    pair_t   client;
} sides_t;


static u_char  material[2 * (16 + 14)];

/*
 * linked with --wrap=EVP_CIPHER_CTX_new,--wrap=EVP_MAC_CTX_new: the
 * cipher and MAC contexts ours made
 */
static int     evp_contexts;
static int     mac_contexts;


EVP_CIPHER_CTX *__real_EVP_CIPHER_CTX_new(void);
EVP_CIPHER_CTX *__wrap_EVP_CIPHER_CTX_new(void);
EVP_MAC_CTX *__real_EVP_MAC_CTX_new(EVP_MAC *mac);
EVP_MAC_CTX *__wrap_EVP_MAC_CTX_new(EVP_MAC *mac);

EVP_CIPHER_CTX *
__wrap_EVP_CIPHER_CTX_new(void)
{
    evp_contexts++;
    return __real_EVP_CIPHER_CTX_new();
}


EVP_MAC_CTX *
__wrap_EVP_MAC_CTX_new(EVP_MAC *mac)
{
    mac_contexts++;
    return __real_EVP_MAC_CTX_new(mac);
}


static size_t
make_rtp(u_char *p, uint16_t seq, uint32_t ssrc, size_t payload, int csrc)
{
    size_t  i, n;

    p[0] = 0x80 | (csrc ? 2 : 0);
    p[1] = 0x80 | 96;
    ngx_webrtc_put16(p + 2, seq);
    ngx_webrtc_put32(p + 4, 90000u * seq);
    ngx_webrtc_put32(p + 8, ssrc);
    n = 12;

    if (csrc) {
        ngx_webrtc_put32(p + n, 0xcafe0001);
        ngx_webrtc_put32(p + n + 4, 0xcafe0002);
        n += 8;
    }

    for (i = 0; i < payload; i++) {
        p[n++] = (u_char) (i * 7 + seq);
    }

    return n;
}


static size_t
make_rtcp(u_char *p, uint32_t ssrc)
{
    /* a receiver report with no blocks, then a PLI */

    p[0] = 0x80;
    p[1] = 201;
    ngx_webrtc_put16(p + 2, 1);
    ngx_webrtc_put32(p + 4, ssrc);

    p[8] = 0x81;
    p[9] = 206;
    ngx_webrtc_put16(p + 10, 2);
    ngx_webrtc_put32(p + 12, ssrc);
    ngx_webrtc_put32(p + 16, 0x11223344);

    return 20;
}


static int
sessions(sides_t *s, int gcm)
{
    return ngx_webrtc_srtp_sessions(&s->server.in, &s->server.out, gcm,
                                    material, 0)
               == srtp_err_status_ok
           && ngx_webrtc_srtp_sessions(&s->client.in, &s->client.out, gcm,
                                       material, 1)
               == srtp_err_status_ok;
}


static void
release(sides_t *s)
{
    srtp_dealloc(s->server.in);
    srtp_dealloc(s->server.out);
    srtp_dealloc(s->client.in);
    srtp_dealloc(s->client.out);
}


/*
 * ref is libsrtp2's own implementation, ossl ours, with the same keys:
 * the same packets, and each decrypts the other's
 */

static void
same(sides_t *ref, sides_t *ossl, int gcm, const char *name)
{
    int            i, m, len, len2, bad, tag;
    size_t         plen;
    u_char         a[BUF], b[BUF], plain[BUF];

    static const size_t  sizes[] = { 0, 1, 15, 16, 17, 160, 1188 };

    tag = gcm ? 16 : 10;
    bad = 0;

    for (i = 0; i < (int) (sizeof(sizes) / sizeof(sizes[0])); i++) {

        for (m = 0; m < 2; m++) {
            plen = make_rtp(plain, (uint16_t) (65530 + i * 2 + m), 0x1234,
                            sizes[i], m);

            memcpy(a, plain, plen);
            memcpy(b, plain, plen);
            len = (int) plen;
            len2 = (int) plen;

            if (srtp_protect(ref->server.out, a, &len) != srtp_err_status_ok
                || srtp_protect(ossl->server.out, b, &len2)
                   != srtp_err_status_ok)
            {
                bad++;
                diag("protect failed, payload %zu", sizes[i]);
                continue;
            }

            if (len != len2 || len != (int) plen + tag
                || memcmp(a, b, len) != 0)
            {
                bad++;
                diag("different SRTP, payload %zu csrc %d", sizes[i], m);
                continue;
            }

            if (srtp_unprotect(ossl->client.in, a, &len)
                != srtp_err_status_ok
                || srtp_unprotect(ref->client.in, b, &len2)
                   != srtp_err_status_ok
                || len != (int) plen || len2 != (int) plen
                || memcmp(a, plain, plen) != 0
                || memcmp(b, plain, plen) != 0)
            {
                bad++;
                diag("unprotect failed, payload %zu csrc %d", sizes[i], m);
            }
        }
    }

    is_int(bad, 0, "%s SRTP: OpenSSL's and libsrtp2's give the same "
           "packets across a rollover, each decrypts the other's", name);

    /* SRTCP: the index follows the packet, and the AAD with GCM */

    plen = make_rtcp(plain, 0x5678);
    bad = 0;

    for (i = 0; i < 3; i++) {
        memcpy(a, plain, plen);
        memcpy(b, plain, plen);
        len = (int) plen;
        len2 = (int) plen;

        if (srtp_protect_rtcp(ossl->client.out, a, &len)
            != srtp_err_status_ok
            || srtp_protect_rtcp(ref->client.out, b, &len2)
               != srtp_err_status_ok
            || len != len2 || memcmp(a, b, len) != 0
            || srtp_unprotect_rtcp(ref->server.in, a, &len)
               != srtp_err_status_ok
            || srtp_unprotect_rtcp(ossl->server.in, b, &len2)
               != srtp_err_status_ok
            || len != (int) plen || memcmp(a, plain, plen) != 0
            || memcmp(b, plain, plen) != 0)
        {
            bad++;
        }
    }

    is_int(bad, 0, "%s SRTCP: the same packets, each decrypts the other's",
           name);
}


/* a changed bit anywhere fails authentication, and changes nothing */

static void
tampered(sides_t *ossl, int gcm, const char *name)
{
    int      n, i, len, tag;
    size_t   plen;
    u_char   a[BUF], b[BUF], plain[BUF];

    static const char  *where[] = { "header", "payload", "tag" };

    tag = gcm ? 16 : 10;

    for (n = 0; n < 3; n++) {
        plen = make_rtp(plain, (uint16_t) (100 + n), 0x1234, 200, 0);
        memcpy(a, plain, plen);
        len = (int) plen;

        if (srtp_protect(ossl->server.out, a, &len) != srtp_err_status_ok) {
            ok(0, "%s: protect", name);
            continue;
        }

        i = (n == 0) ? 7 : (n == 1) ? 40 : len - 1;
        a[i] ^= 0x01;
        memcpy(b, a, len);

        is_int(srtp_unprotect(ossl->client.in, a, &len),
               srtp_err_status_auth_fail,
               "%s: a bit of the %s changed: authentication fails",
               name, where[n]);

        b[i] ^= 0x01;
        len = (int) plen + tag;

        ok(srtp_unprotect(ossl->client.in, b, &len) == srtp_err_status_ok
           && len == (int) plen && memcmp(b, plain, plen) == 0,
           "%s: the packet itself still decrypts after that", name);
    }

    /* shorter than a tag */

    memcpy(a, plain, 12);
    memset(a + 12, 0, 8);
    len = 12 + tag - 2;

    ok(srtp_unprotect(ossl->client.in, a, &len) != srtp_err_status_ok,
       "%s: a packet shorter than its tag is refused", name);
}


int
main(int argc, char **argv)
{
    int       i, made, macs;
    sides_t   nss_gcm, nss_cm, ossl_gcm, ossl_cm;

    unit_init(argc, argv);

    for (i = 0; i < (int) sizeof(material); i++) {
        material[i] = (u_char) (i * 13 + 5);
    }

    is_int(srtp_init(), srtp_err_status_ok, "srtp_init()");

    /* libsrtp2's own implementations first: these sessions keep them */

    ok(sessions(&nss_gcm, 1) && sessions(&nss_cm, 0),
       "sessions with libsrtp2's ciphers, AES-GCM and AES-CM");
    ok(evp_contexts == 0 && mac_contexts == 0,
       "no OpenSSL cipher or MAC context in those");

    /* each replacement runs its known answer test */

    is_int(ngx_webrtc_srtp_use_openssl(), srtp_err_status_ok,
           "OpenSSL's AES-CM, HMAC-SHA1 and AES-GCM loaded into libsrtp2 "
           "(known answers pass)");
    ok(evp_contexts > 0, "the tests ran on OpenSSL's cipher contexts");

    /*
     * a session has two ciphers (RTP, RTCP) and derives its keys with a
     * third, AES-CM, now OpenSSL's too
     */

    made = evp_contexts;
    ok(sessions(&ossl_gcm, 1), "sessions, OpenSSL's AES-GCM");
    is_int(evp_contexts - made, 4 * 3, "4 sessions: 12 OpenSSL cipher "
           "contexts, key derivation included");

    made = evp_contexts;
    macs = mac_contexts;
    ok(sessions(&ossl_cm, 0), "sessions, OpenSSL's AES-CM and HMAC-SHA1");
    is_int(evp_contexts - made, 4 * 3, "4 sessions: 12 OpenSSL cipher "
           "contexts, key derivation included");
    is_int(mac_contexts - macs, 4 * 2, "4 sessions: 8 OpenSSL HMAC "
           "contexts (RTP, RTCP)");

    same(&nss_gcm, &ossl_gcm, 1, "AES-GCM");
    same(&nss_cm, &ossl_cm, 0, "AES-CM + HMAC-SHA1-80");

    tampered(&ossl_gcm, 1, "AES-GCM");
    tampered(&ossl_cm, 0, "AES-CM + HMAC-SHA1-80");

    release(&nss_gcm);
    release(&nss_cm);
    release(&ossl_gcm);
    release(&ossl_cm);

    return done();
}
