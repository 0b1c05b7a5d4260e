
/*
 * Copyright (C) nginx-webrtc-module authors
 */


/*
 * unit tests of src/ngx_webrtc_srtp.c: the sessions from DTLS keying
 * material, and libsrtp2's AES-GCM from OpenSSL against libsrtp2's own
 * (Debian's: NSS), packet for packet
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


static u_char  material[2 * (16 + 14)];

/* linked with --wrap=EVP_CIPHER_CTX_new: the cipher contexts ours made */
static int     evp_contexts;


EVP_CIPHER_CTX *__real_EVP_CIPHER_CTX_new(void);
EVP_CIPHER_CTX *__wrap_EVP_CIPHER_CTX_new(void);

EVP_CIPHER_CTX *
__wrap_EVP_CIPHER_CTX_new(void)
{
    evp_contexts++;
    return __real_EVP_CIPHER_CTX_new();
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
mapped(const char *lib)
{
    int    found;
    FILE  *f;
    char   line[512];

    f = fopen("/proc/self/maps", "r");
    if (f == NULL) {
        return 0;
    }

    found = 0;

    while (fgets(line, sizeof(line), f) != NULL) {
        if (strstr(line, lib) != NULL) {
            found = 1;
            break;
        }
    }

    fclose(f);

    return found;
}


static int
sessions(pair_t *server, pair_t *client, int gcm)
{
    return ngx_webrtc_srtp_sessions(&server->in, &server->out, gcm, material,
                                    0)
               == srtp_err_status_ok
           && ngx_webrtc_srtp_sessions(&client->in, &client->out, gcm,
                                       material, 1)
               == srtp_err_status_ok;
}


int
main(int argc, char **argv)
{
    int                 i, n, m, len, len2, bad, kat, nss;
    u_char              a[BUF], b[BUF], plain[BUF];
    size_t              plen;
    pair_t              nss_server, nss_client, ossl_server, ossl_client;
    pair_t              cm_server, cm_client;
    srtp_err_status_t   err;

    static const size_t  sizes[] = { 0, 1, 15, 16, 17, 160, 1188 };

    unit_init(argc, argv);

    for (i = 0; i < (int) sizeof(material); i++) {
        material[i] = (u_char) (i * 13 + 5);
    }

    is_int(srtp_init(), srtp_err_status_ok, "srtp_init()");

    /* libsrtp2's own AES-GCM first: these sessions keep it */

    ok(sessions(&nss_server, &nss_client, 1), "sessions, libsrtp2's GCM");
    is_int(evp_contexts, 0, "no OpenSSL cipher context in those");

    nss = mapped("libsoftokn3");

    /* the replacement runs the known answer test, 16- and 8-octet tags */

    is_int(ngx_webrtc_srtp_use_openssl(), srtp_err_status_ok,
           "OpenSSL's AES-GCM loaded into libsrtp2 (known answers pass)");

    ok(evp_contexts > 0, "the test ran on OpenSSL's cipher contexts");

    kat = evp_contexts;

    ok(sessions(&ossl_server, &ossl_client, 1), "sessions, OpenSSL's GCM");

    /* RTP and RTCP of four sessions */

    ok(evp_contexts - kat >= 8, "the new sessions use OpenSSL's cipher "
       "contexts (%d made)", evp_contexts - kat);
    ok(sessions(&cm_server, &cm_client, 0), "sessions, AES-CM + HMAC-SHA1");

    /* the same packets, the same bytes, and each side decrypts the other's */

    bad = 0;

    for (n = 0; n < (int) (sizeof(sizes) / sizeof(sizes[0])); n++) {

        for (m = 0; m < 2; m++) {
            plen = make_rtp(plain, (uint16_t) (65530 + n * 2 + m), 0x1234,
                            sizes[n], m);

            memcpy(a, plain, plen);
            memcpy(b, plain, plen);
            len = (int) plen;
            len2 = (int) plen;

            if (srtp_protect(nss_server.out, a, &len) != srtp_err_status_ok
                || srtp_protect(ossl_server.out, b, &len2)
                   != srtp_err_status_ok)
            {
                bad++;
                diag("protect failed, payload %zu", sizes[n]);
                continue;
            }

            if (len != len2 || len != (int) plen + 16
                || memcmp(a, b, len) != 0)
            {
                bad++;
                diag("different SRTP, payload %zu csrc %d", sizes[n], m);
                continue;
            }

            if (srtp_unprotect(ossl_client.in, a, &len) != srtp_err_status_ok
                || srtp_unprotect(nss_client.in, b, &len2)
                   != srtp_err_status_ok
                || len != (int) plen || len2 != (int) plen
                || memcmp(a, plain, plen) != 0
                || memcmp(b, plain, plen) != 0)
            {
                bad++;
                diag("unprotect failed, payload %zu csrc %d", sizes[n], m);
            }
        }
    }

    is_int(bad, 0, "SRTP: OpenSSL's and libsrtp2's GCM give the same "
                   "packets across a rollover, each decrypts the other's");

    /* SRTCP: the AEAD path with its index in the additional data */

    plen = make_rtcp(plain, 0x5678);

    bad = 0;

    for (n = 0; n < 3; n++) {
        memcpy(a, plain, plen);
        memcpy(b, plain, plen);
        len = (int) plen;
        len2 = (int) plen;

        if (srtp_protect_rtcp(ossl_client.out, a, &len) != srtp_err_status_ok
            || srtp_protect_rtcp(nss_client.out, b, &len2)
               != srtp_err_status_ok
            || len != len2 || memcmp(a, b, len) != 0
            || srtp_unprotect_rtcp(nss_server.in, a, &len)
               != srtp_err_status_ok
            || srtp_unprotect_rtcp(ossl_server.in, b, &len2)
               != srtp_err_status_ok
            || len != (int) plen || memcmp(a, plain, plen) != 0
            || memcmp(b, plain, plen) != 0)
        {
            bad++;
        }
    }

    is_int(bad, 0, "SRTCP: the same packets, each decrypts the other's");

    /* a changed bit anywhere fails authentication, and changes nothing */

    for (n = 0; n < 3; n++) {
        static const char  *where[] = { "header", "payload", "tag" };

        plen = make_rtp(plain, (uint16_t) (100 + n), 0x1234, 200, 0);
        memcpy(a, plain, plen);
        len = (int) plen;

        if (srtp_protect(ossl_server.out, a, &len) != srtp_err_status_ok) {
            ok(0, "protect");
            continue;
        }

        i = (n == 0) ? 7 : (n == 1) ? 40 : len - 1;
        a[i] ^= 0x01;
        memcpy(b, a, len);

        err = srtp_unprotect(ossl_client.in, a, &len);

        is_int(err, srtp_err_status_auth_fail, "a bit of the %s changed: "
               "authentication fails", where[n]);

        a[i] ^= 0x01;
        b[i] ^= 0x01;
        len = (int) plen + 16;

        ok(srtp_unprotect(ossl_client.in, b, &len) == srtp_err_status_ok
           && len == (int) plen && memcmp(b, plain, plen) == 0,
           "the packet itself still decrypts after that");
    }

    /* shorter than a tag */

    memcpy(a, plain, 12);
    memset(a + 12, 0, 8);
    len = 20;

    ok(srtp_unprotect(ossl_client.in, a, &len) != srtp_err_status_ok,
       "a packet with a truncated tag is refused");

    /* AES-CM + HMAC-SHA1 80 still works (libsrtp2's own) */

    plen = make_rtp(plain, 7, 0x99, 300, 0);
    memcpy(a, plain, plen);
    len = (int) plen;

    ok(srtp_protect(cm_server.out, a, &len) == srtp_err_status_ok
       && len == (int) plen + 10
       && srtp_unprotect(cm_client.in, a, &len) == srtp_err_status_ok
       && len == (int) plen && memcmp(a, plain, plen) == 0,
       "AES-CM + HMAC-SHA1-80 round trip");

    srtp_dealloc(nss_server.in);
    srtp_dealloc(nss_server.out);
    srtp_dealloc(nss_client.in);
    srtp_dealloc(nss_client.out);
    srtp_dealloc(ossl_server.in);
    srtp_dealloc(ossl_server.out);
    srtp_dealloc(ossl_client.in);
    srtp_dealloc(ossl_client.out);
    srtp_dealloc(cm_server.in);
    srtp_dealloc(cm_server.out);
    srtp_dealloc(cm_client.in);
    srtp_dealloc(cm_client.out);

    /*
     * an NSS build of libsrtp2 unloads NSS with its last cipher: the
     * replacement keeps a session, so a new GCM session, whose only NSS
     * ciphers are those of its key derivation, does not load it again
     */

    if (nss) {
        ok(sessions(&ossl_server, &ossl_client, 1), "one more GCM session");
        srtp_dealloc(ossl_server.in);
        srtp_dealloc(ossl_server.out);
        srtp_dealloc(ossl_client.in);
        srtp_dealloc(ossl_client.out);

        ok(mapped("libsoftokn3"), "NSS stays loaded with no session left");

    } else {
        diag("libsrtp2 without NSS: no check of NSS staying loaded");
    }

    return done();
}
