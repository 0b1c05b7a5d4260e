
/*
 * Copyright (C) nginx-webrtc-module authors
 */


/*
 * unit tests of src/ngx_webrtc_resume.c, the SRTP resume rules of
 * doc/registry-design.md (5.3, 5.4; the tests of 11): a sender rebuilt
 * from its key and a lazily written snapshot after a "crash" never
 * protects two packets under one SSRC and index, and the receiver that
 * never stopped decrypts all it sends; a receiver rebuilt from a stale
 * (roc, high) authenticates every packet; SRTCP indices are burnt past
 * the stored one; the RFC 3711 ROC estimate; the seqlock'd double buffer.
 */


#include "unit.h"
#include "ngx_webrtc_srtp.h"
#include "ngx_webrtc_resume.h"

#include <pthread.h>
#include <time.h>


#define BUF          (1500 + SRTP_MAX_TRAILER_LEN)

#define VIDEO        0x11110001u
#define AUDIO        0x22220002u
#define LOCAL        0x33330003u        /* a new RTCP sender SSRC */

#define SLOTS        (1u << 19)         /* indices a track's map holds */
#define RTCP_SLOTS   (1u << 14)

#define SR_EVERY     1000               /* packets between SRs */
#define BURN_STEP    100                /* burns per packet sent, lazily */


/* what the owner writes back: one record of the double buffer */

typedef struct {
    uint32_t                    seq;
    uint32_t                    final;
    ngx_webrtc_resume_track_t   track[2];
} var_t;


typedef struct {
    uint32_t                    ssrc;
    uint64_t                    first;      /* index of its first packet */
    uint64_t                    next;       /* the next index to send */
    uint16_t                    written;    /* high of the last write */
    int                         sending;    /* a packet protected by the
                                               current sender */
    uint32_t                    rtcp;       /* last SRTCP index used */
    uint32_t                    floor;      /* the burn's end, once rebuilt */
    uint32_t                    burn;       /* SRTCP indices still to burn */
    uint64_t                   *map;        /* hash by index - first */
    uint64_t                   *rtcp_map;   /* hash by SRTCP index */
} track_t;


typedef struct {
    int                         gcm;
    srtp_t                      out;        /* the sender, rebuilt */
    srtp_t                      in;         /* the receiver, never stops */
    srtp_t                      unused[2];
    track_t                     t[2];
    var_t                       vars[2];    /* "shared memory" */
    uint64_t                    made;       /* packets made, in payloads */
    u_char                      key[NGX_WEBRTC_SRTP_KEY_LEN];
    int                         die;        /* in the next write */
    int                         dead;

    /* what went wrong */
    unsigned                    reuse;      /* one index, two packets */
    unsigned                    rtcp_reuse;
    unsigned                    bad_roc;    /* libsrtp2's ROC not ours */
    unsigned                    fail;       /* protect or unprotect */
    unsigned                    rtcp_fail;
    unsigned                    after;      /* packets after a rebuild */
    unsigned                    srs;        /* SRs after a rebuild */
} run_t;


typedef struct {
    const char                 *name;
    int                         crashes;
    int                         torn;       /* bit c: crash c + 1 dies in
                                               the next snapshot write */
    int                         final;      /* hand-over: a final write */
    int                         margin;     /* -1: ngx_webrtc_resume_margin */
    int                         announce;   /* the adopter writes I' - 1
                                               before its first packet */
    int                         bad;        /* expected: an index reused */
    uint64_t                    at;         /* crash 1 when video's next
                                               index is this, not at
                                               random */
} scenario_t;


static u_char    material[2 * (16 + 14)];
static uint64_t  rng = 0x9e3779b97f4a7c15ull;


static uint64_t
random64(void)
{
    /* xorshift64* */

    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;

    return rng * 0x2545f4914f6cdd1dull;
}


static uint32_t
random_below(uint32_t n)
{
    return (uint32_t) (random64() % n);
}


static uint64_t
hash(const u_char *p, size_t len)
{
    size_t    i;
    uint64_t  h;

    /* FNV-1a, never 0: 0 marks an unused slot */

    h = 0xcbf29ce484222325ull;

    for (i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }

    return h ? h : 1;
}


static void
put16(u_char *p, uint16_t v)
{
    p[0] = (u_char) (v >> 8);
    p[1] = (u_char) v;
}


static void
put32(u_char *p, uint32_t v)
{
    p[0] = (u_char) (v >> 24);
    p[1] = (u_char) (v >> 16);
    p[2] = (u_char) (v >> 8);
    p[3] = (u_char) v;
}


static uint32_t
get32(const u_char *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
           | ((uint32_t) p[2] << 8) | p[3];
}


/* an RTP packet whose payload names it: no two packets are alike */

static size_t
make_rtp(u_char *p, uint32_t ssrc, uint16_t seq, uint64_t made)
{
    size_t  i, n;

    p[0] = 0x80;
    p[1] = 96;
    put16(p + 2, seq);
    put32(p + 4, (uint32_t) (made * 3000));
    put32(p + 8, ssrc);

    n = 12;

    for (i = 0; i < 8; i++) {
        p[n++] = (u_char) (made >> (8 * i));
    }

    for (i = 0; i < 40; i++) {
        p[n++] = (u_char) (i * 7 + made);
    }

    return n;
}


/* a sender report with no report blocks (RFC 3550, 6.4.1) */

static size_t
make_sr(u_char *p, uint32_t ssrc, uint64_t made)
{
    p[0] = 0x80;
    p[1] = 200;
    put16(p + 2, 6);
    put32(p + 4, ssrc);
    put32(p + 8, (uint32_t) (made >> 32));
    put32(p + 12, (uint32_t) made);
    put32(p + 16, (uint32_t) (made * 3000));
    put32(p + 20, (uint32_t) made);
    put32(p + 24, (uint32_t) made * 100);

    return 28;
}


/*
 * the SRTCP index of a protected packet: E | index follows the
 * ciphertext (RFC 3711, 3.4) and, with AES-GCM, the tag (RFC 7714, 9)
 */

static uint32_t
srtcp_index(const u_char *p, int len, int gcm)
{
    return get32(p + len - (gcm ? 4 : 4 + 10)) & 0x7fffffff;
}


static void
keys(int gcm, int client, u_char *in_key, u_char *out_key)
{
    ngx_webrtc_srtp_keys(material, gcm, client, in_key, out_key);
}


/*
 * the writer dies inside ngx_webrtc_resume_put(): the record it writes,
 * the one not holding the newest complete snapshot, is left odd and half
 * copied
 */

static void
tear(run_t *r, const var_t *var)
{
    int     i;
    var_t   newest;

    i = 1;

    if (ngx_webrtc_resume_get(r->vars, sizeof(var_t), &newest)
        == NGX_WEBRTC_RESUME_OK)
    {
        i = (r->vars[0].seq == newest.seq) ? 1 : 0;
        r->vars[i].seq = newest.seq + 1;

    } else {
        r->vars[i].seq = 1;
    }

    memcpy((u_char *) &r->vars[i] + sizeof(uint32_t),
           (const u_char *) var + sizeof(uint32_t),
           (sizeof(var_t) - sizeof(uint32_t)) / 2);
}


/* the owner's write: a snapshot of both tracks */

static void
write_back(run_t *r, int final)
{
    int        k;
    var_t      var;
    uint32_t   roc;
    uint64_t   high;
    track_t   *t;

    memset(&var, 0, sizeof(var_t));

    for (k = 0; k < 2; k++) {
        t = &r->t[k];
        high = t->next - 1;

        /*
         * libsrtp2's ROC, as the module reads it, once the stream
         * protected a packet; before that it reads 0 (a rebuilt stream)
         */

        if (t->sending) {
            if (srtp_get_stream_roc(r->out, t->ssrc, &roc)
                != srtp_err_status_ok
                || roc != (uint32_t) (high >> 16))
            {
                r->bad_roc++;
            }

        } else {
            roc = (uint32_t) (high >> 16);
        }

        var.track[k].ssrc = t->ssrc;
        var.track[k].roc = roc;
        var.track[k].high = (uint16_t) high;
        var.track[k].rtcp_index = (t->rtcp > t->floor) ? t->rtcp : t->floor;
        t->written = (uint16_t) high;
    }

    var.final = final;

    if (r->die) {
        tear(r, &var);
        r->dead = 1;
        return;
    }

    ngx_webrtc_resume_put(r->vars, sizeof(var_t), &var);
}


static void
send_rtp(run_t *r, int k)
{
    int        len;
    size_t     plen;
    uint32_t   roc;
    uint64_t   h, index, *slot;
    track_t   *t;
    u_char     pkt[BUF], plain[BUF];

    t = &r->t[k];
    index = t->next++;

    plen = make_rtp(plain, t->ssrc, (uint16_t) index, r->made++);
    memcpy(pkt, plain, plen);
    len = (int) plen;

    if (srtp_protect(r->out, pkt, &len) != srtp_err_status_ok) {
        r->fail++;
        return;
    }

    /* the index libsrtp2 used is the one the caller meant */

    if (srtp_get_stream_roc(r->out, t->ssrc, &roc) != srtp_err_status_ok
        || roc != (uint32_t) (index >> 16))
    {
        r->bad_roc++;
    }

    t->sending = 1;

    h = hash(plain, plen);

    if (index - t->first >= SLOTS) {
        r->fail++;
        return;
    }

    slot = &t->map[index - t->first];

    if (*slot != 0 && *slot != h) {
        r->reuse++;
    }

    *slot = h;

    if (srtp_unprotect(r->in, pkt, &len) != srtp_err_status_ok
        || len != (int) plen || memcmp(pkt, plain, plen) != 0)
    {
        r->fail++;
    }

    /* 5.3: a track triggers a write after NGX_WEBRTC_RESUME_WINDOW */

    if ((uint16_t) ((uint16_t) index - t->written)
        >= NGX_WEBRTC_RESUME_WINDOW)
    {
        write_back(r, 0);
    }
}


static void
send_sr(run_t *r, int k)
{
    int        len;
    size_t     plen;
    uint32_t   index;
    uint64_t   h, *slot;
    track_t   *t;
    u_char     pkt[BUF], plain[BUF];

    t = &r->t[k];

    if (t->burn > 0) {
        /* held back until the burn is done */
        return;
    }

    plen = make_sr(plain, t->ssrc, r->made++);
    memcpy(pkt, plain, plen);
    len = (int) plen;

    if (srtp_protect_rtcp(r->out, pkt, &len) != srtp_err_status_ok) {
        r->rtcp_fail++;
        return;
    }

    index = srtcp_index(pkt, len, r->gcm);
    h = hash(plain, plen);

    if (index >= RTCP_SLOTS) {
        r->rtcp_fail++;
        return;
    }

    slot = &t->rtcp_map[index];

    if (*slot != 0 && *slot != h) {
        r->rtcp_reuse++;
    }

    *slot = h;

    if (t->floor > 0 && t->rtcp == 0) {
        /* the first SR after a rebuild: just past the burn */

        if (index != t->floor + 1) {
            r->rtcp_fail++;
        }

        r->srs = 0;
    }

    if (index > t->rtcp) {
        t->rtcp = index;
    }

    r->srs++;

    /* write-through: RTCP is rare */

    write_back(r, 0);

    if (srtp_unprotect_rtcp(r->in, pkt, &len) != srtp_err_status_ok
        || len != (int) plen || memcmp(pkt, plain, plen) != 0)
    {
        r->rtcp_fail++;
    }
}


static void
send_one(run_t *r, uint64_t n)
{
    int        k;
    track_t   *t;

    /* three video packets to an audio one */

    k = (n % 4 == 3) ? 1 : 0;
    t = &r->t[k];

    /* a rebuilt track burns SRTCP indices lazily, a step a packet */

    if (t->burn > 0
        && ngx_webrtc_resume_burn(r->out, t->ssrc, &t->burn, BURN_STEP)
           == NGX_WEBRTC_RESUME_ERROR)
    {
        r->rtcp_fail++;
        t->burn = 0;
    }

    send_rtp(r, k);

    if (r->dead) {
        return;
    }

    if (n % SR_EVERY == SR_EVERY - 1) {
        send_sr(r, 0);
        send_sr(r, 1);
    }
}


/* the adopter: the keys and the newest complete snapshot */

static int
rebuild(run_t *r, const scenario_t *sc, var_t *used)
{
    int                         k;
    uint32_t                    margin;
    ngx_webrtc_resume_next_t    next[2];

    if (ngx_webrtc_resume_get(r->vars, sizeof(var_t), used)
        != NGX_WEBRTC_RESUME_OK)
    {
        return 0;
    }

    margin = (sc->margin >= 0) ? (uint32_t) sc->margin
                               : ngx_webrtc_resume_margin(used->final);

    srtp_dealloc(r->out);

    if (ngx_webrtc_resume_sender(&r->out, r->gcm, r->key, used->track, 2,
                                 margin, next)
        != NGX_WEBRTC_RESUME_OK)
    {
        r->out = NULL;
        return 0;
    }

    for (k = 0; k < 2; k++) {

        if (used->track[k].ssrc != r->t[k].ssrc
            || next[k].index
               != ngx_webrtc_resume_index(used->track[k].roc,
                                          used->track[k].high) + margin
            || next[k].burn
               != used->track[k].rtcp_index + NGX_WEBRTC_RESUME_RTCP_MARGIN)
        {
            return 0;
        }

        /* the caller goes on at I' (it rewrites sequence numbers) */

        r->t[k].next = next[k].index;
        r->t[k].written = used->track[k].high;
        r->t[k].sending = 0;
        r->t[k].rtcp = 0;
        r->t[k].burn = next[k].burn;
        r->t[k].floor = next[k].burn;
    }

    r->die = 0;
    r->dead = 0;

    if (sc->announce) {
        write_back(r, 0);
    }

    return 1;
}


static void
scenario(int gcm, const scenario_t *sc)
{
    int          k, c, good;
    var_t        used, newest;
    run_t        r;
    uint32_t     lag, maxlag;
    uint64_t     n, end, last[2];
    const char  *profile;
    u_char       unused_key[NGX_WEBRTC_SRTP_KEY_LEN];

    profile = gcm ? "AES-GCM" : "AES-CM";

    memset(&r, 0, sizeof(run_t));
    r.gcm = gcm;

    /* the server sends, the client receives, from one handshake */

    if (ngx_webrtc_srtp_sessions(&r.unused[0], &r.out, gcm, material, 0)
        != srtp_err_status_ok
        || ngx_webrtc_srtp_sessions(&r.in, &r.unused[1], gcm, material, 1)
           != srtp_err_status_ok)
    {
        ok(0, "%s %s: sessions", profile, sc->name);
        return;
    }

    keys(gcm, 0, unused_key, r.key);

    /* video starts near a wrap, audio far from one */

    r.t[0].ssrc = VIDEO;
    r.t[0].first = 60000;
    r.t[1].ssrc = AUDIO;
    r.t[1].first = 1000;

    for (k = 0; k < 2; k++) {
        r.t[k].next = r.t[k].first;
        r.t[k].map = calloc(SLOTS, sizeof(uint64_t));
        r.t[k].rtcp_map = calloc(RTCP_SLOTS, sizeof(uint64_t));

        if (r.t[k].map == NULL || r.t[k].rtcp_map == NULL) {
            printf("Bail out! calloc() failed\n");
            exit(2);
        }
    }

    /* the mapping's first write, before its first packet */
    write_back(&r, 0);

    n = 0;
    good = 1;
    maxlag = 0;
    memset(&used, 0, sizeof(var_t));

    for (c = 0; good && c < sc->crashes; c++) {

        /* the first crash anywhere in 70,000 packets, a second soon */

        end = n + ((c == 0) ? 1000 + random_below(69000)
                            : 1 + random_below(300));

        if (c > 0 && (sc->torn & (1 << c))) {
            /* at once: in the adopter's first write */
            end = n;
        }

        if (c == 0 && sc->at) {
            end = (uint64_t) -1;
        }

        for ( /* void */ ; n < end; n++) {

            if (c == 0 && sc->at && r.t[0].next >= sc->at) {
                break;
            }

            send_one(&r, n);
        }

        if (sc->torn & (1 << c)) {

            /* the next write, whenever it comes, dies half done */

            newest.seq = 0;
            (void) ngx_webrtc_resume_get(r.vars, sizeof(var_t), &newest);

            r.die = 1;

            for (end = n + 4096; !r.dead && n < end; n++) {
                send_one(&r, n);
            }

            if (!r.dead) {
                ok(0, "%s %s: a write came", profile, sc->name);
                good = 0;
                break;
            }
        }

        if (sc->final) {
            /* a hand-over: the exact state after the last protect */
            write_back(&r, 1);
        }

        for (k = 0; k < 2; k++) {
            last[k] = r.t[k].next - 1;
        }

        if (!rebuild(&r, sc, &used)) {
            good = 0;
            break;
        }

        if (c == 0 && sc->at) {
            ok((r.t[0].next >> 16) == used.track[0].roc + 1,
               "%s %s: the record has roc %u high %u, I' = %llu has roc "
               "%u", profile, sc->name, (unsigned) used.track[0].roc,
               (unsigned) used.track[0].high,
               (unsigned long long) r.t[0].next,
               (unsigned) (r.t[0].next >> 16));
        }

        if (sc->torn & (1 << c)) {
            is_int(used.seq, newest.seq, "%s %s: crash %d in a write: "
                   "the older complete record is read, not the torn one",
                   profile, sc->name, c + 1);
        }

        for (k = 0; k < 2; k++) {
            lag = (uint32_t) (last[k]
                              - ngx_webrtc_resume_index(used.track[k].roc,
                                                        used.track[k].high));
            if (lag > maxlag) {
                maxlag = lag;
            }
        }

        diag("%s %s: crash %d after %llu packets, the record read is "
             "%u video and %u audio packets behind", profile, sc->name,
             c + 1, (unsigned long long) n,
             (unsigned) (last[0]
                         - ngx_webrtc_resume_index(used.track[0].roc,
                                                   used.track[0].high)),
             (unsigned) (last[1]
                         - ngx_webrtc_resume_index(used.track[1].roc,
                                                   used.track[1].high)));
    }

    /* after the last rebuild 90,000 packets: a wrap of video's ROC */

    for (end = n + 90000; good && n < end; n++) {
        send_one(&r, n);
        r.after++;
    }

    ok(good, "%s %s: rebuilt from the keys and the newest complete "
       "snapshot", profile, sc->name);

    if (sc->bad) {
        ok(r.reuse > 0, "%s %s: the index map finds indices used for two "
           "different packets (%u)", profile, sc->name, r.reuse);

    } else {
        is_int(r.reuse, 0, "%s %s: no index protected two different "
               "packets", profile, sc->name);
        is_int(r.fail, 0, "%s %s: the receiver that never stopped "
               "decrypts every packet, %u after the rebuild", profile,
               sc->name, r.after);
        is_int(r.bad_roc, 0, "%s %s: every packet at the index meant, "
               "across ROC wraps (video index %llu to %llu)", profile,
               sc->name, (unsigned long long) r.t[0].first,
               (unsigned long long) r.t[0].next);
        is_int(r.rtcp_reuse + r.rtcp_fail, 0, "%s %s: SRTCP: no index "
               "repeated, every SR accepted, %u after the rebuild",
               profile, sc->name, r.srs);
    }

    if (sc->torn & 1) {
        ok(maxlag > 0 && maxlag < 2 * NGX_WEBRTC_RESUME_WINDOW,
           "%s %s: the record read is %u packets of a track behind, less "
           "than two windows", profile, sc->name, maxlag);
    }

    if (sc->final) {
        is_int(maxlag, 0, "%s %s: the final record is exact", profile,
               sc->name);
    }

    for (k = 0; k < 2; k++) {
        free(r.t[k].map);
        free(r.t[k].rtcp_map);
    }

    srtp_dealloc(r.out);
    srtp_dealloc(r.in);
    srtp_dealloc(r.unused[0]);
    srtp_dealloc(r.unused[1]);
}


/*
 * SRTCP alone: a sender's SRs, the last index written through but one
 * (the crash came between a protect and its write), the sender rebuilt
 */

static void
srtcp(int gcm)
{
    int                         i, len, reuse, rejected, first;
    size_t                      plen;
    srtp_t                      out, in, unused[2];
    uint32_t                    index, left, stored, calls;
    uint64_t                    h, map[256][2];
    const char                 *profile;
    ngx_webrtc_resume_next_t    next;
    ngx_webrtc_resume_track_t   track;
    u_char                      in_key[NGX_WEBRTC_SRTP_KEY_LEN];
    u_char                      key[NGX_WEBRTC_SRTP_KEY_LEN];
    u_char                      pkt[BUF], plain[BUF];

    profile = gcm ? "AES-GCM" : "AES-CM";

    if (ngx_webrtc_srtp_sessions(&unused[0], &out, gcm, material, 0)
        != srtp_err_status_ok
        || ngx_webrtc_srtp_sessions(&in, &unused[1], gcm, material, 1)
           != srtp_err_status_ok)
    {
        ok(0, "%s SRTCP: sessions", profile);
        return;
    }

    keys(gcm, 0, in_key, key);

    /* map[index][0]: the video SR's hash, [1]: the LOCAL one's */
    memset(map, 0, sizeof(map));

    reuse = 0;
    rejected = 0;
    stored = 0;
    index = 0;

    for (i = 0; i < 100; i++) {
        plen = make_sr(plain, VIDEO, (uint64_t) i);
        memcpy(pkt, plain, plen);
        len = (int) plen;

        if (srtp_protect_rtcp(out, pkt, &len) != srtp_err_status_ok) {
            rejected++;
            continue;
        }

        index = srtcp_index(pkt, len, gcm);
        map[index][0] = hash(plain, plen);

        if (srtp_unprotect_rtcp(in, pkt, &len) != srtp_err_status_ok) {
            rejected++;
        }

        if (i < 99) {
            stored = index;
        }
    }

    is_int(rejected, 0, "%s SRTCP: 100 SRs accepted, index %u last, %u "
           "written through", profile, (unsigned) index, (unsigned) stored);

    track.ssrc = VIDEO;
    track.roc = 0;
    track.high = 500;
    track.flags = 0;
    track.rtcp_index = stored;

    for (first = 0; first < 3; first++) {

        /* 0: burnt; 1: no burn (the bug); 2: a new SSRC, no burn */

        srtp_dealloc(out);

        if (ngx_webrtc_resume_sender(&out, gcm, key, &track, 1,
                                     NGX_WEBRTC_RESUME_MARGIN, &next)
            != NGX_WEBRTC_RESUME_OK)
        {
            ok(0, "%s SRTCP: rebuilt", profile);
            out = NULL;
            break;
        }

        calls = 0;

        if (first == 0) {
            is_int(next.burn, stored + NGX_WEBRTC_RESUME_RTCP_MARGIN,
                   "%s SRTCP: the burn goes to the stored index + %d",
                   profile, NGX_WEBRTC_RESUME_RTCP_MARGIN);

            left = next.burn;

            while (ngx_webrtc_resume_burn(out, VIDEO, &left, 7)
                   == NGX_WEBRTC_RESUME_AGAIN && calls < 1000)
            {
                calls++;
            }

            ok(left == 0 && calls == (next.burn + 6) / 7 - 1,
               "%s SRTCP: burnt 7 at a time, %u calls again", profile,
               (unsigned) calls);
        }

        plen = make_sr(plain, (first == 2) ? LOCAL : VIDEO,
                       1000 + (uint64_t) first);
        memcpy(pkt, plain, plen);
        len = (int) plen;

        if (srtp_protect_rtcp(out, pkt, &len) != srtp_err_status_ok) {
            ok(0, "%s SRTCP: protect after the rebuild", profile);
            continue;
        }

        index = srtcp_index(pkt, len, gcm);
        h = hash(plain, plen);

        if (index < 256) {
            reuse = (map[index][first == 2] != 0
                     && map[index][first == 2] != h);
            map[index][first == 2] = h;
        }

        rejected = (srtp_unprotect_rtcp(in, pkt, &len)
                    != srtp_err_status_ok);

        switch (first) {

        case 0:
            ok(index == stored + NGX_WEBRTC_RESUME_RTCP_MARGIN + 1
               && !reuse && !rejected,
               "%s SRTCP: burnt: the next SR has index %u, past the stored "
               "%u + %d, repeats none and is accepted", profile,
               (unsigned) index, (unsigned) stored,
               NGX_WEBRTC_RESUME_RTCP_MARGIN);
            break;

        case 1:
            ok(index == 1 && reuse && rejected,
               "%s SRTCP: not burnt: index %u again, for another SR (the "
               "map sees it), and the receiver refuses it as a replay",
               profile, (unsigned) index);
            break;

        default:
            ok(index == 1 && !reuse && !rejected,
               "%s SRTCP: a new sender SSRC, not burnt: index %u, a new "
               "index space, accepted", profile, (unsigned) index);
        }
    }

    srtp_dealloc(out);
    srtp_dealloc(in);
    srtp_dealloc(unused[0]);
    srtp_dealloc(unused[1]);
}


/* a sender at a given index, libsrtp2 only */

static srtp_t
sender_at(int gcm, const u_char *key, uint32_t ssrc, uint64_t index)
{
    srtp_t         out;
    srtp_policy_t  policy;

    ngx_webrtc_srtp_policy(&policy, gcm, 0, key);
    policy.ssrc.type = ssrc_specific;
    policy.ssrc.value = ssrc;

    if (srtp_create(&out, &policy) != srtp_err_status_ok) {
        return NULL;
    }

    if (srtp_set_stream_roc(out, ssrc, (uint32_t) (index >> 16))
        != srtp_err_status_ok)
    {
        srtp_dealloc(out);
        return NULL;
    }

    return out;
}


static int
protect_at(srtp_t out, uint32_t ssrc, uint64_t index, u_char *pkt,
    u_char *plain, size_t *plen)
{
    int  len;

    *plen = make_rtp(plain, ssrc, (uint16_t) index, index);
    memcpy(pkt, plain, *plen);
    len = (int) *plen;

    if (srtp_protect(out, pkt, &len) != srtp_err_status_ok) {
        return -1;
    }

    return len;
}


/*
 * the receiver rebuilt from (roc, high): the first packet comes d
 * packets later (or, a bad stored state, at first); count packets follow
 */

static void
receiver(int gcm, uint32_t roc, uint16_t high, uint64_t first,
    uint32_t expect, int retry, int rtcp_first, unsigned count,
    const char *name)
{
    int                         len, len0;
    size_t                      plen;
    srtp_t                      out, in;
    uint32_t                    v;
    unsigned                    i, fail;
    uint64_t                    index;
    const char                 *profile;
    srtp_err_status_t           err;
    ngx_webrtc_resume_track_t   track;
    u_char                      in_key[NGX_WEBRTC_SRTP_KEY_LEN];
    u_char                      out_key[NGX_WEBRTC_SRTP_KEY_LEN];
    u_char                      pkt[BUF], plain[BUF];

    profile = gcm ? "AES-GCM" : "AES-CM";

    /* the client sends to the server: the server's in key */

    keys(gcm, 1, in_key, out_key);

    out = sender_at(gcm, out_key, VIDEO, first);
    keys(gcm, 0, in_key, out_key);

    if (out == NULL
        || ngx_webrtc_resume_receiver(&in, gcm, in_key)
           != NGX_WEBRTC_RESUME_OK)
    {
        ok(0, "%s %s: sessions", profile, name);
        return;
    }

    fail = 0;

    if (rtcp_first) {
        /* an SR of the stored SSRC first: the template makes a stream */

        plen = make_sr(plain, VIDEO, 1);
        memcpy(pkt, plain, plen);
        len = (int) plen;

        if (srtp_protect_rtcp(out, pkt, &len) != srtp_err_status_ok
            || srtp_unprotect_rtcp(in, pkt, &len) != srtp_err_status_ok)
        {
            fail++;
        }
    }

    track.ssrc = VIDEO;
    track.roc = roc;
    track.high = high;
    track.flags = 0;
    track.rtcp_index = 0;

    len = protect_at(out, VIDEO, first, pkt, plain, &plen);
    len0 = len;

    if (len < 0
        || ngx_webrtc_resume_in_stream(in, gcm, in_key, &track,
                                       (uint16_t) first, &v)
           != NGX_WEBRTC_RESUME_OK)
    {
        ok(0, "%s %s: the first packet's stream", profile, name);
        srtp_dealloc(out);
        srtp_dealloc(in);
        return;
    }

    ok((v != expect) == retry, "%s %s: stored roc %u high %u, first "
       "packet index %llu (roc %u seq %u): estimated roc %u", profile, name,
       (unsigned) roc, (unsigned) high, (unsigned long long) first,
       (unsigned) (first >> 16), (unsigned) (first & 0xffff),
       (unsigned) v);

    err = ngx_webrtc_resume_unprotect(in, pkt, &len, &v);

    ok(err == srtp_err_status_ok && len == (int) plen
       && memcmp(pkt, plain, plen) == 0 && v == expect,
       "%s %s: the first packet authenticates at roc %u", profile, name,
       (unsigned) expect);

    (void) len0;

    for (i = 1; i < count; i++) {
        index = first + i;

        len = protect_at(out, VIDEO, index, pkt, plain, &plen);

        if (len < 0
            || srtp_unprotect(in, pkt, &len) != srtp_err_status_ok
            || len != (int) plen || memcmp(pkt, plain, plen) != 0)
        {
            fail++;
        }
    }

    is_int(fail, 0, "%s %s: all %u packets authenticate (to index %llu)",
           profile, name, count, (unsigned long long) (first + count - 1));

    srtp_dealloc(out);
    srtp_dealloc(in);
}


/* a packet no ROC authenticates: each try on a copy, nothing changes */

static void
receiver_forged(int gcm)
{
    int                         len;
    size_t                      plen;
    srtp_t                      out, in;
    uint32_t                    v;
    uint64_t                    first;
    const char                 *profile;
    srtp_err_status_t           err;
    ngx_webrtc_resume_track_t   track;
    u_char                      in_key[NGX_WEBRTC_SRTP_KEY_LEN];
    u_char                      out_key[NGX_WEBRTC_SRTP_KEY_LEN];
    u_char                      pkt[BUF], plain[BUF], sent[BUF];

    profile = gcm ? "AES-GCM" : "AES-CM";

    first = ngx_webrtc_resume_index(4, 1000);

    keys(gcm, 1, in_key, out_key);
    out = sender_at(gcm, out_key, VIDEO, first);
    keys(gcm, 0, in_key, out_key);

    if (out == NULL
        || ngx_webrtc_resume_receiver(&in, gcm, in_key)
           != NGX_WEBRTC_RESUME_OK)
    {
        ok(0, "%s forged: sessions", profile);
        return;
    }

    track.ssrc = VIDEO;
    track.roc = 4;
    track.high = 900;
    track.flags = 0;
    track.rtcp_index = 0;

    len = protect_at(out, VIDEO, first, pkt, plain, &plen);
    memcpy(sent, pkt, len);

    (void) ngx_webrtc_resume_in_stream(in, gcm, in_key, &track, 1000, &v);

    /* a bit of the payload changed */

    pkt[30] ^= 0x10;
    memcpy(plain, pkt, len);

    err = ngx_webrtc_resume_unprotect(in, pkt, &len, &v);

    ok(err == srtp_err_status_auth_fail && v == 4
       && len == (int) plen + (gcm ? 16 : 10)
       && memcmp(pkt, plain, len) == 0,
       "%s: a forged packet fails at roc 4, 5 and 3, and is returned as "
       "it came", profile);

    memcpy(pkt, sent, len);

    ok(ngx_webrtc_resume_unprotect(in, pkt, &len, &v) == srtp_err_status_ok
       && v == 4 && len == (int) plen,
       "%s: the real packet after it authenticates at roc 4", profile);

    srtp_dealloc(out);
    srtp_dealloc(in);
}


static void
roc_table(void)
{
    unsigned   i, bad;
    int32_t    d;
    uint32_t   roc;
    uint16_t   high;
    uint64_t   base, index;

    static const struct {
        uint32_t   roc;
        uint16_t   high;
        uint16_t   seq;
        uint32_t   expect;
        const char *why;
    } cases[] = {
        { 0, 0, 0, 0, "nothing yet" },
        { 0, 100, 200, 0, "ahead" },
        { 3, 100, 50, 3, "a little behind" },
        { 0, 100, 40000, 0, "far above a low high, roc 0: no roc - 1" },
        { 1, 100, 40000, 0, "far above a low high: the previous roc" },
        { 1, 100, 32868, 1, "2^15 above a low high: this roc" },
        { 1, 100, 32869, 0, "2^15 + 1 above: the previous roc" },
        { 1, 65530, 3, 2, "a wrap between high 65,530 and seq 3" },
        { 2, 49950, 4415, 3, "the design's case: 20,001 on, past a wrap" },
        { 1, 40000, 7231, 2, "32,767 on, past a wrap: the next roc" },
        { 1, 40000, 7232, 1, "2^15 on, past a wrap: this roc (behind)" },
        { 1, 32768, 0, 1, "high 2^15, seq 0: this roc" },
        { 5, 32767, 65535, 5, "high 2^15 - 1, seq 65,535: this roc" },
        { 5, 32766, 65535, 4, "high 2^15 - 2, seq 65,535: the previous" },
        { 7, 65535, 65535, 7, "the same seq" },
        { 7, 65535, 0, 8, "the next one, wrapped" },
        { 0xffffffffu, 65535, 0, 0xffffffffu, "the last roc has no next" },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        is_int(ngx_webrtc_resume_roc(cases[i].roc, cases[i].high,
                                     cases[i].seq),
               cases[i].expect, "resume_roc(%u, %u, %u) = %u: %s",
               (unsigned) cases[i].roc, (unsigned) cases[i].high,
               (unsigned) cases[i].seq, (unsigned) cases[i].expect,
               cases[i].why);
    }

    /* any packet within 2^15 - 1 either side gets its own roc */

    bad = 0;

    for (i = 0; i < 200000; i++) {
        roc = 1 + random_below(1000);
        high = (uint16_t) random64();
        d = (int32_t) random_below(65535) - 32767;

        base = ngx_webrtc_resume_index(roc, high);
        index = base + d;

        if (ngx_webrtc_resume_roc(roc, high, (uint16_t) index)
            != (uint32_t) (index >> 16))
        {
            bad++;
        }
    }

    is_int(bad, 0, "resume_roc: 200,000 random packets within 32,767 of "
           "high, either side: each its own roc");
}


/* large, so that a writer can lap a reader in the middle of a copy */

#define WORDS  2048

typedef struct {
    uint32_t    seq;
    uint32_t    a;
    uint64_t    b;
    uint32_t    c[WORDS];
} rec_t;


static rec_t         shared[2];
static volatile int  writer_done;


static void *
writer(void *data)
{
    int       k;
    rec_t     rec;
    uint32_t  i;

    (void) data;

    for (i = 1; i <= 100000; i++) {
        rec.seq = 0;
        rec.a = i;
        rec.b = (uint64_t) i << 32 | i;

        for (k = 0; k < WORDS; k++) {
            rec.c[k] = i ^ (uint32_t) k;
        }

        ngx_webrtc_resume_put(shared, sizeof(rec_t), &rec);
    }

    __atomic_store_n(&writer_done, 1, __ATOMIC_RELEASE);

    return NULL;
}


static void
seqlock(void)
{
    int           k, rc, torn, reads, again, back;
    rec_t         vars[2];
    static rec_t  rec, half;
    uint32_t   last;
    pthread_t  thread;

    memset(vars, 0, sizeof(vars));

    is_int(ngx_webrtc_resume_get(vars, sizeof(rec_t), &rec),
           NGX_WEBRTC_RESUME_DECLINED, "seqlock: nothing written: declined");

    memset(&rec, 0, sizeof(rec_t));
    rec.a = 1;
    ngx_webrtc_resume_put(vars, sizeof(rec_t), &rec);

    ok(ngx_webrtc_resume_get(vars, sizeof(rec_t), &rec)
       == NGX_WEBRTC_RESUME_OK && rec.a == 1 && rec.seq == 2,
       "seqlock: one write is read, seq 2");

    rec.a = 2;
    ngx_webrtc_resume_put(vars, sizeof(rec_t), &rec);
    rec.a = 3;
    ngx_webrtc_resume_put(vars, sizeof(rec_t), &rec);

    ok(ngx_webrtc_resume_get(vars, sizeof(rec_t), &rec)
       == NGX_WEBRTC_RESUME_OK && rec.a == 3 && rec.seq == 6,
       "seqlock: the newest of three writes, seq 6");

    /* the writer dies in the copy of the fourth: the third is read */

    k = (vars[0].seq == 6) ? 1 : 0;
    vars[k].seq = 7;
    vars[k].a = 4;

    ok(ngx_webrtc_resume_get(vars, sizeof(rec_t), &rec)
       == NGX_WEBRTC_RESUME_OK && rec.a == 3 && rec.seq == 6,
       "seqlock: a torn write is skipped, the older record read");

    /* the next writer overwrites the torn record, not the good one */

    rec.a = 5;
    ngx_webrtc_resume_put(vars, sizeof(rec_t), &rec);

    ok(ngx_webrtc_resume_get(vars, sizeof(rec_t), &rec)
       == NGX_WEBRTC_RESUME_OK && rec.a == 5 && rec.seq == 10
       && vars[1 - k].a == 3 && vars[1 - k].seq == 6,
       "seqlock: the next write replaces the torn record (seq 10), the "
       "complete one stays");

    /* the very first write torn: nothing complete */

    memset(vars, 0, sizeof(vars));
    vars[1].seq = 1;

    is_int(ngx_webrtc_resume_get(vars, sizeof(rec_t), &rec),
           NGX_WEBRTC_RESUME_DECLINED,
           "seqlock: only a torn first write: declined");

    /* a live writer: every record read is whole, never older */

    memset(shared, 0, sizeof(shared));
    writer_done = 0;

    if (pthread_create(&thread, NULL, writer, NULL) != 0) {
        ok(0, "seqlock: a writer thread");
        return;
    }

    torn = 0;
    reads = 0;
    again = 0;
    back = 0;
    last = 0;

    while (!__atomic_load_n(&writer_done, __ATOMIC_ACQUIRE)
           && reads < 2000000)
    {
        rc = ngx_webrtc_resume_get(shared, sizeof(rec_t), &half);

        if (rc == NGX_WEBRTC_RESUME_AGAIN) {
            again++;
            continue;
        }

        if (rc != NGX_WEBRTC_RESUME_OK) {
            continue;
        }

        reads++;

        if (half.b != ((uint64_t) half.a << 32 | half.a)) {
            torn++;
        }

        for (k = 0; k < WORDS; k++) {
            if (half.c[k] != (half.a ^ (uint32_t) k)) {
                torn++;
                break;
            }
        }

        if (half.a < last) {
            back++;
        }

        last = half.a;
    }

    pthread_join(thread, NULL);

    diag("seqlock: %d reads during 100,000 writes, %d gave up (again)",
         reads, again);

    ok(reads > 0 && torn == 0 && back == 0,
       "seqlock: a reader beside a live writer reads whole records only, "
       "never an older one after a newer (%d reads)", reads);

    ok(ngx_webrtc_resume_get(shared, sizeof(rec_t), &rec)
       == NGX_WEBRTC_RESUME_OK && rec.a == 100000,
       "seqlock: the last write is read after the writer ends");
}


/* the cost of a burnt SRTCP index: a number, not an assertion */

static void
burn_cost(int gcm)
{
    int                         rc;
    double                      us;
    srtp_t                      out;
    uint32_t                    left, n;
    struct timespec             t0, t1;
    ngx_webrtc_resume_next_t    next;
    ngx_webrtc_resume_track_t   track;
    u_char                      in_key[NGX_WEBRTC_SRTP_KEY_LEN];
    u_char                      key[NGX_WEBRTC_SRTP_KEY_LEN];

    keys(gcm, 0, in_key, key);

    memset(&track, 0, sizeof(track));
    track.ssrc = VIDEO;
    track.rtcp_index = 100000 - NGX_WEBRTC_RESUME_RTCP_MARGIN;

    if (ngx_webrtc_resume_sender(&out, gcm, key, &track, 1, 1, &next)
        != NGX_WEBRTC_RESUME_OK)
    {
        ok(0, "burn cost: sender");
        return;
    }

    left = next.burn;
    n = left;

    clock_gettime(CLOCK_MONOTONIC, &t0);

    do {
        rc = ngx_webrtc_resume_burn(out, VIDEO, &left, 8192);
    } while (rc == NGX_WEBRTC_RESUME_AGAIN);

    clock_gettime(CLOCK_MONOTONIC, &t1);

    us = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec))
         / 1e3 / n;

    ok(rc == NGX_WEBRTC_RESUME_OK && left == 0,
       "%s: %u SRTCP indices burnt, 8,192 a call",
       gcm ? "AES-GCM" : "AES-CM + HMAC-SHA1", (unsigned) n);

    diag("burn cost, %s, OpenSSL's ciphers: %.3f us an index (this "
         "binary: -O1, ASan)", gcm ? "AES-GCM" : "AES-CM + HMAC-SHA1", us);

    srtp_dealloc(out);
}


static void
sender_errors(void)
{
    srtp_t                      out;
    ngx_webrtc_resume_next_t    next[2];
    ngx_webrtc_resume_track_t   tracks[2];
    u_char                      in_key[NGX_WEBRTC_SRTP_KEY_LEN];
    u_char                      key[NGX_WEBRTC_SRTP_KEY_LEN];

    keys(0, 0, in_key, key);

    memset(tracks, 0, sizeof(tracks));
    tracks[0].ssrc = VIDEO;
    tracks[1].ssrc = VIDEO;

    ok(ngx_webrtc_resume_sender(&out, 0, key, tracks, 2, 1, next)
       == NGX_WEBRTC_RESUME_ERROR && out == NULL,
       "sender: an SSRC twice is refused");

    tracks[1].ssrc = AUDIO;
    tracks[1].roc = 0xffffffffu;
    tracks[1].high = 65000;

    ok(ngx_webrtc_resume_sender(&out, 0, key, tracks, 2, 1024, next)
       == NGX_WEBRTC_RESUME_ERROR && out == NULL,
       "sender: an index past 2^48 is refused (the key is used up)");

    tracks[1].roc = 0;
    tracks[1].rtcp_index = 0x7fffffff - NGX_WEBRTC_RESUME_RTCP_MARGIN;

    ok(ngx_webrtc_resume_sender(&out, 0, key, tracks, 2, 1024, next)
       == NGX_WEBRTC_RESUME_ERROR && out == NULL,
       "sender: no SRTCP index left past the burn: refused");

    tracks[1].rtcp_index -= 1;

    ok(ngx_webrtc_resume_sender(&out, 0, key, tracks, 2, 1024, next)
       == NGX_WEBRTC_RESUME_OK && next[1].burn == 0x7ffffffe
       && next[0].index == 1024,
       "sender: the last SRTCP index left for a packet: built");

    srtp_dealloc(out);
}


int
main(int argc, char **argv)
{
    int         i, gcm;
    size_t      k;

    static const scenario_t  scenarios[] = {
        { "crash, margin 1,024", 1, 0, 0, -1, 1, 0, 0 },
        { "crash in a write, margin 1,024", 1, 1, 0, -1, 1, 0, 0 },
        { "hand-over, final record, margin 1", 1, 0, 1, -1, 1, 0, 0 },
        { "two crashes, the second in the adopter's first write",
          2, 2, 0, -1, 1, 0, 0 },
        { "two crashes, the adopter not writing I' - 1 first",
          2, 2, 0, -1, 0, 1, 0 },
        { "crash, margin 0 (the bug)", 1, 0, 0, 0, 1, 1, 0 },
        { "crash with video's record under 1,024 below a wrap",
          1, 0, 0, -1, 1, 0, 65536 - 300 },
    };

    unit_init(argc, argv);

    /* the crash points: RESUME_SEED=N repeats or varies them */

    if (getenv("RESUME_SEED") != NULL) {
        rng = strtoull(getenv("RESUME_SEED"), NULL, 0) | 1;
    }

    diag("RESUME_SEED=%llu", (unsigned long long) rng);

    for (i = 0; i < (int) sizeof(material); i++) {
        material[i] = (u_char) (i * 29 + 11);
    }

    is_int(srtp_init(), srtp_err_status_ok, "srtp_init()");
    is_int(ngx_webrtc_srtp_use_openssl(), srtp_err_status_ok,
           "OpenSSL's ciphers in libsrtp2");

    roc_table();
    seqlock();
    sender_errors();

    for (gcm = 0; gcm < 2; gcm++) {

        for (k = 0; k < sizeof(scenarios) / sizeof(scenarios[0]); k++) {
            scenario(gcm, &scenarios[k]);
        }

        srtcp(gcm);

        receiver(gcm, 7, 1000, ngx_webrtc_resume_index(7, 1001), 7, 0, 0,
                 5000, "receiver, 1 packet behind");
        receiver(gcm, 1, 20000, ngx_webrtc_resume_index(1, 20000) + 32767,
                 1, 0, 0, 15000, "receiver, 32,767 behind");
        receiver(gcm, 1, 40000, ngx_webrtc_resume_index(1, 40000) + 32767,
                 2, 0, 0, 15000, "receiver, 32,767 behind, past a wrap");
        receiver(gcm, 5, 65530, ngx_webrtc_resume_index(6, 3), 6, 0, 0,
                 15000, "receiver, high 65,530, first seq 3");
        receiver(gcm, 2, 49950, ngx_webrtc_resume_index(3, 4415), 3, 0, 1,
                 15000, "receiver, an SR first, then 20,001 on past a wrap");
        receiver(gcm, 0, 100, 2000, 0, 0, 0, 2000, "receiver, roc 0");
        receiver(gcm, 1, 10000, ngx_webrtc_resume_index(2, 20000), 2, 1, 0,
                 2000, "receiver, stale by 75,536: roc + 1 retried");
        receiver(gcm, 3, 65000, ngx_webrtc_resume_index(2, 65100), 2, 1, 0,
                 2000, "receiver, roc stored newer than high: roc - 1 "
                 "retried");
        receiver_forged(gcm);

        burn_cost(gcm);
    }

    return done();
}
