
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <srtp2/auth.h>
#include <srtp2/cipher.h>

#include "ngx_webrtc_srtp.h"


/* a call the compiler cannot drop, as it could a memset() of dead keys */
static void *(*const volatile ngx_webrtc_srtp_wipe)(void *, int, size_t) =
    memset;


/*
 * libsrtp2's ciphers from OpenSSL: AES-GCM (RFC 7714), AES-CM and
 * HMAC-SHA1 (RFC 3711).
 *
 * Debian's libsrtp2 is built with NSS, whose PKCS#11 layer allocates,
 * locks and looks up a context on every operation: in a fan-out to a
 * few hundred viewers that was a third of a worker's time with AES-GCM,
 * and AES-CM with HMAC-SHA1 cost 10-15 us a packet.  libsrtp2 lets a
 * program replace the implementation of a cipher or an authentication
 * type; these keep the key schedule of a session in OpenSSL's context
 * and set only the counter or the nonce per packet.  libsrtp2 still
 * forms the packets, the nonces, the replay window and the session keys
 * (with the AES-CM here).  Each type runs its known answer test when it
 * is loaded.
 */

/* the state of either cipher: GCM's tag length, counter mode's salt */

typedef struct {
    EVP_CIPHER_CTX     *ctx;
    int                 tag_len;
    uint8_t             offset[16];
} ngx_webrtc_srtp_evp_t;


typedef struct {
    EVP_MAC_CTX        *ctx;
} ngx_webrtc_srtp_hmac_t;


static srtp_err_status_t ngx_webrtc_srtp_evp_alloc(srtp_cipher_pointer_t *cp,
    const srtp_cipher_type_t *type, int key_len, int tag_len);
static srtp_err_status_t ngx_webrtc_srtp_evp_dealloc(srtp_cipher_pointer_t c);
static srtp_err_status_t ngx_webrtc_srtp_crypt(void *state, uint8_t *buf,
    unsigned int *len);

static srtp_err_status_t ngx_webrtc_srtp_gcm_alloc(srtp_cipher_pointer_t *cp,
    int key_len, int tag_len);
static srtp_err_status_t ngx_webrtc_srtp_gcm_init(void *state,
    const uint8_t *key);
static srtp_err_status_t ngx_webrtc_srtp_gcm_set_iv(void *state, uint8_t *iv,
    srtp_cipher_direction_t direction);
static srtp_err_status_t ngx_webrtc_srtp_gcm_set_aad(void *state,
    const uint8_t *aad, uint32_t len);
static srtp_err_status_t ngx_webrtc_srtp_gcm_get_tag(void *state,
    uint8_t *tag, uint32_t *len);
static srtp_err_status_t ngx_webrtc_srtp_gcm_decrypt(void *state,
    uint8_t *buf, unsigned int *len);

static srtp_err_status_t ngx_webrtc_srtp_cm_alloc(srtp_cipher_pointer_t *cp,
    int key_len, int tag_len);
static srtp_err_status_t ngx_webrtc_srtp_cm_init(void *state,
    const uint8_t *key);
static srtp_err_status_t ngx_webrtc_srtp_cm_set_iv(void *state, uint8_t *iv,
    srtp_cipher_direction_t direction);

static srtp_err_status_t ngx_webrtc_srtp_hmac_alloc(srtp_auth_pointer_t *ap,
    int key_len, int out_len);
static srtp_err_status_t ngx_webrtc_srtp_hmac_dealloc(srtp_auth_pointer_t a);
static srtp_err_status_t ngx_webrtc_srtp_hmac_init(void *state,
    const uint8_t *key, int key_len);
static srtp_err_status_t ngx_webrtc_srtp_hmac_start(void *state);
static srtp_err_status_t ngx_webrtc_srtp_hmac_update(void *state,
    const uint8_t *buf, int len);
static srtp_err_status_t ngx_webrtc_srtp_hmac_compute(void *state,
    const uint8_t *buf, int len, int tag_len, uint8_t *tag);


/*
 * The known answer: test case 4 of "The Galois/Counter Mode of Operation
 * (GCM)" (McGrew, Viega), with a 16- and an 8-octet tag; libsrtp2 keys
 * carry the salt after the key, the cipher ignores it.
 */

static const uint8_t  ngx_webrtc_srtp_gcm_kat_key[] = {
    0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65, 0x73, 0x1c,
    0x6d, 0x6a, 0x8f, 0x94, 0x67, 0x30, 0x83, 0x08,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00
};

static uint8_t  ngx_webrtc_srtp_gcm_kat_iv[] = {
    0xca, 0xfe, 0xba, 0xbe, 0xfa, 0xce, 0xdb, 0xad,
    0xde, 0xca, 0xf8, 0x88
};

static const uint8_t  ngx_webrtc_srtp_gcm_kat_aad[] = {
    0xfe, 0xed, 0xfa, 0xce, 0xde, 0xad, 0xbe, 0xef,
    0xfe, 0xed, 0xfa, 0xce, 0xde, 0xad, 0xbe, 0xef,
    0xab, 0xad, 0xda, 0xd2
};

static const uint8_t  ngx_webrtc_srtp_gcm_kat_plain[] = {
    0xd9, 0x31, 0x32, 0x25, 0xf8, 0x84, 0x06, 0xe5,
    0xa5, 0x59, 0x09, 0xc5, 0xaf, 0xf5, 0x26, 0x9a,
    0x86, 0xa7, 0xa9, 0x53, 0x15, 0x34, 0xf7, 0xda,
    0x2e, 0x4c, 0x30, 0x3d, 0x8a, 0x31, 0x8a, 0x72,
    0x1c, 0x3c, 0x0c, 0x95, 0x95, 0x68, 0x09, 0x53,
    0x2f, 0xcf, 0x0e, 0x24, 0x49, 0xa6, 0xb5, 0x25,
    0xb1, 0x6a, 0xed, 0xf5, 0xaa, 0x0d, 0xe6, 0x57,
    0xba, 0x63, 0x7b, 0x39
};

static const uint8_t  ngx_webrtc_srtp_gcm_kat_cipher[] = {
    0x42, 0x83, 0x1e, 0xc2, 0x21, 0x77, 0x74, 0x24,
    0x4b, 0x72, 0x21, 0xb7, 0x84, 0xd0, 0xd4, 0x9c,
    0xe3, 0xaa, 0x21, 0x2f, 0x2c, 0x02, 0xa4, 0xe0,
    0x35, 0xc1, 0x7e, 0x23, 0x29, 0xac, 0xa1, 0x2e,
    0x21, 0xd5, 0x14, 0xb2, 0x54, 0x66, 0x93, 0x1c,
    0x7d, 0x8f, 0x6a, 0x5a, 0xac, 0x84, 0xaa, 0x05,
    0x1b, 0xa3, 0x0b, 0x39, 0x6a, 0x0a, 0xac, 0x97,
    0x3d, 0x58, 0xe0, 0x91,
    0x5b, 0xc9, 0x4f, 0xbc, 0x32, 0x21, 0xa5, 0xdb,
    0x94, 0xfa, 0xe9, 0x5a, 0xe7, 0x12, 0x1a, 0x47
};


static const srtp_cipher_test_case_t  ngx_webrtc_srtp_gcm_kat_8 = {
    SRTP_AES_GCM_128_KEY_LEN_WSALT,
    ngx_webrtc_srtp_gcm_kat_key,
    ngx_webrtc_srtp_gcm_kat_iv,
    sizeof(ngx_webrtc_srtp_gcm_kat_plain),
    ngx_webrtc_srtp_gcm_kat_plain,
    sizeof(ngx_webrtc_srtp_gcm_kat_plain) + 8,
    ngx_webrtc_srtp_gcm_kat_cipher,
    sizeof(ngx_webrtc_srtp_gcm_kat_aad),
    ngx_webrtc_srtp_gcm_kat_aad,
    8,
    NULL
};

static const srtp_cipher_test_case_t  ngx_webrtc_srtp_gcm_kat = {
    SRTP_AES_GCM_128_KEY_LEN_WSALT,
    ngx_webrtc_srtp_gcm_kat_key,
    ngx_webrtc_srtp_gcm_kat_iv,
    sizeof(ngx_webrtc_srtp_gcm_kat_plain),
    ngx_webrtc_srtp_gcm_kat_plain,
    sizeof(ngx_webrtc_srtp_gcm_kat_cipher),
    ngx_webrtc_srtp_gcm_kat_cipher,
    sizeof(ngx_webrtc_srtp_gcm_kat_aad),
    ngx_webrtc_srtp_gcm_kat_aad,
    16,
    &ngx_webrtc_srtp_gcm_kat_8
};


static const srtp_cipher_type_t  ngx_webrtc_srtp_gcm_type = {
    ngx_webrtc_srtp_gcm_alloc,
    ngx_webrtc_srtp_evp_dealloc,
    ngx_webrtc_srtp_gcm_init,
    ngx_webrtc_srtp_gcm_set_aad,
    ngx_webrtc_srtp_crypt,
    ngx_webrtc_srtp_gcm_decrypt,
    ngx_webrtc_srtp_gcm_set_iv,
    ngx_webrtc_srtp_gcm_get_tag,
    "AES-128 GCM, OpenSSL",
    &ngx_webrtc_srtp_gcm_kat,
    SRTP_AES_GCM_128
};


/*
 * AES-CM: RFC 3711, B.2, the first two blocks of keystream; the salt
 * follows the key.
 */

static const uint8_t  ngx_webrtc_srtp_cm_kat_key[] = {
    0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
    0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c,
    0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,
    0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd
};

static uint8_t  ngx_webrtc_srtp_cm_kat_iv[16];

static const uint8_t  ngx_webrtc_srtp_cm_kat_plain[32];

static const uint8_t  ngx_webrtc_srtp_cm_kat_cipher[] = {
    0xe0, 0x3e, 0xad, 0x09, 0x35, 0xc9, 0x5e, 0x80,
    0xe1, 0x66, 0xb1, 0x6d, 0xd9, 0x2b, 0x4e, 0xb4,
    0xd2, 0x35, 0x13, 0x16, 0x2b, 0x02, 0xd0, 0xf7,
    0x2a, 0x43, 0xa2, 0xfe, 0x4a, 0x5f, 0x97, 0xab
};

static const srtp_cipher_test_case_t  ngx_webrtc_srtp_cm_kat = {
    SRTP_AES_ICM_128_KEY_LEN_WSALT,
    ngx_webrtc_srtp_cm_kat_key,
    ngx_webrtc_srtp_cm_kat_iv,
    sizeof(ngx_webrtc_srtp_cm_kat_plain),
    ngx_webrtc_srtp_cm_kat_plain,
    sizeof(ngx_webrtc_srtp_cm_kat_cipher),
    ngx_webrtc_srtp_cm_kat_cipher,
    0,
    NULL,
    0,
    NULL
};


static const srtp_cipher_type_t  ngx_webrtc_srtp_cm_type = {
    ngx_webrtc_srtp_cm_alloc,
    ngx_webrtc_srtp_evp_dealloc,
    ngx_webrtc_srtp_cm_init,
    NULL,
    ngx_webrtc_srtp_crypt,                  /* the same xor both ways */
    ngx_webrtc_srtp_crypt,
    ngx_webrtc_srtp_cm_set_iv,
    NULL,
    "AES-128 counter mode, OpenSSL",
    &ngx_webrtc_srtp_cm_kat,
    SRTP_AES_ICM_128
};


/* HMAC-SHA1: RFC 2202, test case 1 */

static const uint8_t  ngx_webrtc_srtp_hmac_kat_key[] = {
    0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
    0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
    0x0b, 0x0b, 0x0b, 0x0b
};

static const uint8_t  ngx_webrtc_srtp_hmac_kat_data[] = "Hi There";

static const uint8_t  ngx_webrtc_srtp_hmac_kat_tag[] = {
    0xb6, 0x17, 0x31, 0x86, 0x55, 0x05, 0x72, 0x64,
    0xe2, 0x8b, 0xc0, 0xb6, 0xfb, 0x37, 0x8c, 0x8e,
    0xf1, 0x46, 0xbe, 0x00
};

static const srtp_auth_test_case_t  ngx_webrtc_srtp_hmac_kat = {
    sizeof(ngx_webrtc_srtp_hmac_kat_key),
    ngx_webrtc_srtp_hmac_kat_key,
    sizeof(ngx_webrtc_srtp_hmac_kat_data) - 1,
    ngx_webrtc_srtp_hmac_kat_data,
    sizeof(ngx_webrtc_srtp_hmac_kat_tag),
    ngx_webrtc_srtp_hmac_kat_tag,
    NULL
};


static const srtp_auth_type_t  ngx_webrtc_srtp_hmac_type = {
    ngx_webrtc_srtp_hmac_alloc,
    ngx_webrtc_srtp_hmac_dealloc,
    ngx_webrtc_srtp_hmac_init,
    ngx_webrtc_srtp_hmac_compute,
    ngx_webrtc_srtp_hmac_update,
    ngx_webrtc_srtp_hmac_start,
    "HMAC-SHA1, OpenSSL",
    &ngx_webrtc_srtp_hmac_kat,
    SRTP_HMAC_SHA1
};


/*
 * RFC 5764, 4.2: the material is client_write_key | server_write_key |
 * client_write_salt | server_write_salt.  The keys of our side of the
 * DTLS handshake (client or server) encrypt what we send, the other
 * side's decrypt what arrives.  Each key comes out as libsrtp2 takes it:
 * the master key, then the master salt.
 */

void
ngx_webrtc_srtp_keys(const u_char *material, int gcm, int client,
    u_char *in_key, u_char *out_key)
{
    size_t         klen, slen;
    const u_char  *ck, *sk, *cs, *ss;

    klen = 16;
    slen = gcm ? 12 : 14;

    ck = material;
    sk = material + klen;
    cs = material + 2 * klen;
    ss = material + 2 * klen + slen;

    memcpy(in_key, client ? sk : ck, klen);
    memcpy(in_key + klen, client ? ss : cs, slen);
    memcpy(out_key, client ? ck : sk, klen);
    memcpy(out_key + klen, client ? cs : ss, slen);
}


/*
 * The policy of one direction: any SSRC is accepted, inbound or
 * outbound; what we send may repeat a sequence number (retransmissions
 * answering NACKs).  The key is used, not copied, by srtp_create() and
 * srtp_add_stream().
 */

void
ngx_webrtc_srtp_policy(srtp_policy_t *policy, int gcm, int inbound,
    const u_char *key)
{
    memset(policy, 0, sizeof(srtp_policy_t));

    if (gcm) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy->rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy->rtcp);

    } else {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy->rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy->rtcp);
    }

    policy->ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
    policy->key = (u_char *) key;
    policy->window_size = 1024;
    policy->allow_repeat_tx = !inbound;
}


srtp_err_status_t
ngx_webrtc_srtp_sessions(srtp_t *in, srtp_t *out, int gcm,
    const u_char *material, int client)
{
    srtp_policy_t       pin, pout;
    srtp_err_status_t   err;
    u_char              in_key[NGX_WEBRTC_SRTP_KEY_LEN];
    u_char              out_key[NGX_WEBRTC_SRTP_KEY_LEN];

    ngx_webrtc_srtp_keys(material, gcm, client, in_key, out_key);

    ngx_webrtc_srtp_policy(&pin, gcm, 1, in_key);
    ngx_webrtc_srtp_policy(&pout, gcm, 0, out_key);

    *in = NULL;
    *out = NULL;

    err = srtp_create(in, &pin);

    if (err == srtp_err_status_ok) {
        err = srtp_create(out, &pout);

        if (err != srtp_err_status_ok) {
            srtp_dealloc(*in);
            *in = NULL;
            *out = NULL;
        }
    }

    (void) ngx_webrtc_srtp_wipe(in_key, 0, sizeof(in_key));
    (void) ngx_webrtc_srtp_wipe(out_key, 0, sizeof(out_key));

    return err;
}


/*
 * AES-CM first: the key derivation of every session uses it.  Once all
 * three are loaded an NSS build of libsrtp2 needs NSS for none of them;
 * a failure leaves libsrtp2's own implementation of that type.
 */

srtp_err_status_t
ngx_webrtc_srtp_use_openssl(void)
{
    srtp_err_status_t  err;

    err = srtp_replace_cipher_type(&ngx_webrtc_srtp_cm_type,
                                   SRTP_AES_ICM_128);
    if (err != srtp_err_status_ok) {
        return err;
    }

    err = srtp_replace_auth_type(&ngx_webrtc_srtp_hmac_type, SRTP_HMAC_SHA1);
    if (err != srtp_err_status_ok) {
        return err;
    }

    return srtp_replace_cipher_type(&ngx_webrtc_srtp_gcm_type,
                                    SRTP_AES_GCM_128);
}


static srtp_err_status_t
ngx_webrtc_srtp_evp_alloc(srtp_cipher_pointer_t *cp,
    const srtp_cipher_type_t *type, int key_len, int tag_len)
{
    srtp_cipher_t          *c;
    ngx_webrtc_srtp_evp_t  *evp;

    c = calloc(1, sizeof(srtp_cipher_t) + sizeof(ngx_webrtc_srtp_evp_t));
    if (c == NULL) {
        return srtp_err_status_alloc_fail;
    }

    evp = (ngx_webrtc_srtp_evp_t *) (c + 1);

    evp->ctx = EVP_CIPHER_CTX_new();
    if (evp->ctx == NULL) {
        free(c);
        return srtp_err_status_alloc_fail;
    }

    evp->tag_len = tag_len;

    c->type = type;
    c->state = evp;
    c->key_len = key_len;

    /* libsrtp2 takes the AEAD path of SRTP or counter mode's IV by this */
    c->algorithm = type->id;

    *cp = c;

    return srtp_err_status_ok;
}


static srtp_err_status_t
ngx_webrtc_srtp_evp_dealloc(srtp_cipher_pointer_t c)
{
    ngx_webrtc_srtp_evp_t  *evp;

    evp = c->state;

    /* frees the key schedule cleansed */
    EVP_CIPHER_CTX_free(evp->ctx);
    (void) ngx_webrtc_srtp_wipe(evp->offset, 0, sizeof(evp->offset));

    free(c);

    return srtp_err_status_ok;
}


static srtp_err_status_t
ngx_webrtc_srtp_gcm_alloc(srtp_cipher_pointer_t *cp, int key_len,
    int tag_len)
{
    if (key_len != SRTP_AES_GCM_128_KEY_LEN_WSALT
        || (tag_len != 16 && tag_len != 8))
    {
        return srtp_err_status_bad_param;
    }

    return ngx_webrtc_srtp_evp_alloc(cp, &ngx_webrtc_srtp_gcm_type, key_len,
                                     tag_len);
}


static srtp_err_status_t
ngx_webrtc_srtp_gcm_init(void *state, const uint8_t *key)
{
    ngx_webrtc_srtp_evp_t  *gcm = state;

    /* the key schedule once; the salt is libsrtp2's, in the nonce */

    if (EVP_CipherInit_ex(gcm->ctx, EVP_aes_128_gcm(), NULL, key, NULL, 1)
        != 1)
    {
        return srtp_err_status_init_fail;
    }

    return srtp_err_status_ok;
}


static srtp_err_status_t
ngx_webrtc_srtp_gcm_set_iv(void *state, uint8_t *iv,
    srtp_cipher_direction_t direction)
{
    ngx_webrtc_srtp_evp_t  *gcm = state;

    if (direction != srtp_direction_encrypt
        && direction != srtp_direction_decrypt)
    {
        return srtp_err_status_bad_param;
    }

    /* RFC 7714, 8.1: a 12-octet nonce; the key stays */

    if (EVP_CipherInit_ex(gcm->ctx, NULL, NULL, NULL, iv,
                          direction == srtp_direction_encrypt)
        != 1)
    {
        return srtp_err_status_init_fail;
    }

    return srtp_err_status_ok;
}


static srtp_err_status_t
ngx_webrtc_srtp_gcm_set_aad(void *state, const uint8_t *aad, uint32_t len)
{
    int                     n;
    ngx_webrtc_srtp_evp_t  *gcm = state;

    if (EVP_CipherUpdate(gcm->ctx, NULL, &n, aad, (int) len) != 1) {
        return srtp_err_status_algo_fail;
    }

    return srtp_err_status_ok;
}


/* the in-place encryption of GCM and counter mode, counter mode's decryption */

static srtp_err_status_t
ngx_webrtc_srtp_crypt(void *state, uint8_t *buf, unsigned int *len)
{
    int                     n;
    ngx_webrtc_srtp_evp_t  *evp = state;

    if (EVP_CipherUpdate(evp->ctx, buf, &n, buf, (int) *len) != 1
        || (unsigned int) n != *len)
    {
        return srtp_err_status_cipher_fail;
    }

    return srtp_err_status_ok;
}


static srtp_err_status_t
ngx_webrtc_srtp_gcm_get_tag(void *state, uint8_t *tag, uint32_t *len)
{
    int                     n;
    ngx_webrtc_srtp_evp_t  *gcm = state;

    if (EVP_CipherFinal_ex(gcm->ctx, tag, &n) != 1
        || EVP_CIPHER_CTX_ctrl(gcm->ctx, EVP_CTRL_GCM_GET_TAG, gcm->tag_len,
                               tag)
           != 1)
    {
        return srtp_err_status_algo_fail;
    }

    *len = gcm->tag_len;

    return srtp_err_status_ok;
}


/* the tag follows the ciphertext; *len counts both and loses the tag */

static srtp_err_status_t
ngx_webrtc_srtp_gcm_decrypt(void *state, uint8_t *buf, unsigned int *len)
{
    int                     n;
    unsigned int            size;
    ngx_webrtc_srtp_evp_t  *gcm = state;

    if (*len < (unsigned int) gcm->tag_len) {
        return srtp_err_status_bad_param;
    }

    size = *len - gcm->tag_len;

    if (EVP_CIPHER_CTX_ctrl(gcm->ctx, EVP_CTRL_GCM_SET_TAG, gcm->tag_len,
                            buf + size)
        != 1
        || EVP_CipherUpdate(gcm->ctx, buf, &n, buf, (int) size) != 1
        || (unsigned int) n != size)
    {
        return srtp_err_status_algo_fail;
    }

    if (EVP_CipherFinal_ex(gcm->ctx, buf + size, &n) != 1) {
        return srtp_err_status_auth_fail;
    }

    *len = size;

    return srtp_err_status_ok;
}


static srtp_err_status_t
ngx_webrtc_srtp_cm_alloc(srtp_cipher_pointer_t *cp, int key_len, int tag_len)
{
    /* no tag in counter mode */
    (void) tag_len;

    if (key_len != SRTP_AES_ICM_128_KEY_LEN_WSALT) {
        return srtp_err_status_bad_param;
    }

    return ngx_webrtc_srtp_evp_alloc(cp, &ngx_webrtc_srtp_cm_type, key_len,
                                     0);
}


static srtp_err_status_t
ngx_webrtc_srtp_cm_init(void *state, const uint8_t *key)
{
    ngx_webrtc_srtp_evp_t  *cm = state;

    /* RFC 3711, 4.1.1: the 112-bit salt, shifted left 16 bits */

    memcpy(cm->offset, key + 16, 14);
    cm->offset[14] = 0;
    cm->offset[15] = 0;

    if (EVP_EncryptInit_ex(cm->ctx, EVP_aes_128_ctr(), NULL, key, NULL)
        != 1)
    {
        return srtp_err_status_init_fail;
    }

    return srtp_err_status_ok;
}


static srtp_err_status_t
ngx_webrtc_srtp_cm_set_iv(void *state, uint8_t *iv,
    srtp_cipher_direction_t direction)
{
    size_t                 i;
    uint8_t                counter[16];
    ngx_webrtc_srtp_evp_t  *cm = state;

    /* the same keystream both ways */
    (void) direction;

    /* the counter is the salt xor the IV libsrtp2 forms from SSRC, index */

    for (i = 0; i < 16; i++) {
        counter[i] = cm->offset[i] ^ iv[i];
    }

    if (EVP_EncryptInit_ex(cm->ctx, NULL, NULL, NULL, counter) != 1) {
        return srtp_err_status_init_fail;
    }

    return srtp_err_status_ok;
}


static srtp_err_status_t
ngx_webrtc_srtp_hmac_alloc(srtp_auth_pointer_t *ap, int key_len, int out_len)
{
    EVP_MAC                 *mac;
    srtp_auth_t             *a;
    ngx_webrtc_srtp_hmac_t  *hmac;

    if (key_len < 0 || key_len > 20 || out_len < 0 || out_len > 20) {
        return srtp_err_status_bad_param;
    }

    a = calloc(1, sizeof(srtp_auth_t) + sizeof(ngx_webrtc_srtp_hmac_t));
    if (a == NULL) {
        return srtp_err_status_alloc_fail;
    }

    hmac = (ngx_webrtc_srtp_hmac_t *) (a + 1);

    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL) {
        free(a);
        return srtp_err_status_alloc_fail;
    }

    /* the context holds a reference to the algorithm */

    hmac->ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);

    if (hmac->ctx == NULL) {
        free(a);
        return srtp_err_status_alloc_fail;
    }

    a->type = &ngx_webrtc_srtp_hmac_type;
    a->state = hmac;
    a->out_len = out_len;
    a->key_len = key_len;
    a->prefix_len = 0;

    *ap = a;

    return srtp_err_status_ok;
}


static srtp_err_status_t
ngx_webrtc_srtp_hmac_dealloc(srtp_auth_pointer_t a)
{
    ngx_webrtc_srtp_hmac_t  *hmac;

    hmac = a->state;

    /* frees the keyed digests cleansed */
    EVP_MAC_CTX_free(hmac->ctx);

    free(a);

    return srtp_err_status_ok;
}


static srtp_err_status_t
ngx_webrtc_srtp_hmac_init(void *state, const uint8_t *key, int key_len)
{
    OSSL_PARAM               params[2];
    ngx_webrtc_srtp_hmac_t  *hmac = state;

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *) "SHA1", 0);
    params[1] = OSSL_PARAM_construct_end();

    if (EVP_MAC_init(hmac->ctx, key, key_len, params) != 1) {
        return srtp_err_status_init_fail;
    }

    return srtp_err_status_ok;
}


/* a new message with the key kept */

static srtp_err_status_t
ngx_webrtc_srtp_hmac_start(void *state)
{
    ngx_webrtc_srtp_hmac_t  *hmac = state;

    if (EVP_MAC_init(hmac->ctx, NULL, 0, NULL) != 1) {
        return srtp_err_status_auth_fail;
    }

    return srtp_err_status_ok;
}


static srtp_err_status_t
ngx_webrtc_srtp_hmac_update(void *state, const uint8_t *buf, int len)
{
    ngx_webrtc_srtp_hmac_t  *hmac = state;

    if (EVP_MAC_update(hmac->ctx, buf, len) != 1) {
        return srtp_err_status_auth_fail;
    }

    return srtp_err_status_ok;
}


static srtp_err_status_t
ngx_webrtc_srtp_hmac_compute(void *state, const uint8_t *buf, int len,
    int tag_len, uint8_t *tag)
{
    size_t                   n;
    uint8_t                  md[EVP_MAX_MD_SIZE];
    ngx_webrtc_srtp_hmac_t  *hmac = state;

    if (tag_len < 0 || tag_len > 20
        || EVP_MAC_update(hmac->ctx, buf, len) != 1
        || EVP_MAC_final(hmac->ctx, md, &n, sizeof(md)) != 1
        || n < (size_t) tag_len)
    {
        return srtp_err_status_auth_fail;
    }

    memcpy(tag, md, tag_len);

    return srtp_err_status_ok;
}
