
/*
 * Copyright (C) nginx-webrtc-module authors
 */


/*
 * Unit tests of the pure SDP codec (src/ngx_webrtc_sdp.c).
 *
 *     build/unit/sdp_test t/sdp
 *
 * Built by "make unit" with -fsanitize=address,undefined: the truncation
 * and mutation loops are there for the sanitizers to catch out of bounds
 * accesses, the other tests check parsed and negotiated values against the
 * captured offers in t/sdp.
 */


#include <stdint.h>
#include <dirent.h>

#include "unit.h"
#include "ngx_webrtc_sdp.h"
#include "sdp_answer.h"


#define ANSWER_SIZE  16384

#define H264_CB_FMTP                                                         \
    "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"

#define FB_VIDEO                                                             \
    (NGX_WEBRTC_FB_NACK | NGX_WEBRTC_FB_PLI | NGX_WEBRTC_FB_FIR              \
     | NGX_WEBRTC_FB_REMB)


static const u_char  fp32[32] = {
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
    0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
    0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
    0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10
};


/* big structures: static, not on the stack */
static ngx_webrtc_sdp_t     offer;
static ngx_webrtc_sdp_t     reply;
static ngx_webrtc_answer_t  answer;
static ngx_webrtc_answer_t  published;
static u_char               out[ANSWER_SIZE];


/* helpers */

/* the text most recently given to parse_text(), parsed strings point in */
static u_char  *text_buf;


static int
str_eq(const ngx_webrtc_sdp_str_t *s, const char *lit)
{
    return s->len == strlen(lit)
           && (s->len == 0 || memcmp(s->data, lit, s->len) == 0);
}


/* "\n" becomes "\r\n"; the copy is exactly as long as the text */

static int
parse_text(ngx_webrtc_sdp_t *sdp, const char *text, int fragment)
{
    size_t       n, i;
    const char  *p;

    n = 0;

    for (p = text; *p; p++) {
        n += (*p == '\n') ? 2 : 1;
    }

    free(text_buf);
    text_buf = malloc(n ? n : 1);

    if (text_buf == NULL) {
        printf("Bail out! malloc() failed\n");
        exit(2);
    }

    for (p = text, i = 0; *p; p++) {
        if (*p == '\n') {
            text_buf[i++] = '\r';
        }

        text_buf[i++] = (u_char) *p;
    }

    return ngx_webrtc_sdp_parse(sdp, text_buf, n, fragment);
}


/* text with the first "from" replaced by "to", malloc()ed */

static char *
subst(const char *text, const char *from, const char *to)
{
    char        *s;
    size_t       flen, tlen, len;
    const char  *at;

    at = strstr(text, from);

    if (at == NULL) {
        printf("Bail out! \"%s\" is not in the template\n", from);
        exit(2);
    }

    flen = strlen(from);
    tlen = strlen(to);
    len = strlen(text) - flen + tlen;

    s = malloc(len + 1);
    if (s == NULL) {
        printf("Bail out! malloc() failed\n");
        exit(2);
    }

    memcpy(s, text, at - text);
    memcpy(s + (at - text), to, tlen);
    strcpy(s + (at - text) + tlen, at + flen);

    return s;
}


/* one line "line\r\n" in an SDP of len bytes */

static int
has_line(const u_char *buf, size_t len, const char *line)
{
    size_t         n;
    const u_char  *p, *end;

    n = strlen(line);
    p = buf;
    end = buf + len;

    while (p < end) {
        if ((size_t) (end - p) >= n + 2 && memcmp(p, line, n) == 0
            && p[n] == '\r' && p[n + 1] == '\n')
        {
            return 1;
        }

        p = memchr(p, '\n', end - p);
        if (p == NULL) {
            break;
        }

        p++;
    }

    return 0;
}


static int
has_text(const u_char *buf, size_t len, const char *text)
{
    size_t  n, i;

    n = strlen(text);

    for (i = 0; i + n <= len; i++) {
        if (memcmp(buf + i, text, n) == 0) {
            return 1;
        }
    }

    return 0;
}


static ngx_webrtc_sdp_format_t *
format(ngx_webrtc_sdp_media_t *m, unsigned pt)
{
    unsigned  i;

    for (i = 0; i < m->nformats; i++) {
        if (m->formats[i].pt == pt) {
            return &m->formats[i];
        }
    }

    return NULL;
}


static unsigned
ext_id(ngx_webrtc_sdp_media_t *m, unsigned ext)
{
    unsigned  i;

    for (i = 0; i < m->nextmaps; i++) {
        if (m->extmaps[i].ext == ext) {
            return m->extmaps[i].id;
        }
    }

    return 0;
}


static unsigned
track_nexts(ngx_webrtc_track_t *tr)
{
    unsigned  i, n;

    for (i = 0, n = 0; i < NGX_WEBRTC_EXT_N; i++) {
        n += (tr->ext[i] != 0);
    }

    return n;
}


/* an error reason must be one non-empty line */

static void
check_error(const char *error, const char *name)
{
    ok(error != NULL && error[0] != '\0' && strchr(error, '\n') == NULL
       && strchr(error, '\r') == NULL,
       "%s: error is one line: \"%s\"", name, error ? error : "(null)");
}


/* decodes the first "a=fingerprint:sha-256 XX:..." of an SDP text */

static int
text_fingerprint(const u_char *buf, size_t len, u_char *fp)
{
    size_t         n, i;
    unsigned       v;
    const u_char  *p, *end;
    static const char  key[] = "a=fingerprint:sha-256 ";

    end = buf + len;
    n = sizeof(key) - 1;

    for (p = buf; p + n <= end; p++) {
        if (memcmp(p, key, n) == 0) {
            break;
        }
    }

    if (p + n > end) {
        return 0;
    }

    p += n;

    for (i = 0; i < 32; i++, p += 3) {
        if (p + 2 > end || sscanf((const char *) p, "%2x", &v) != 1) {
            return 0;
        }

        fp[i] = (u_char) v;
    }

    return 1;
}


static void
prefs_all(ngx_webrtc_codec_prefs_t *prefs)
{
    memset(prefs, 0, sizeof(ngx_webrtc_codec_prefs_t));

    prefs->audio[prefs->naudio++] = NGX_WEBRTC_CODEC_OPUS;

    prefs->video[prefs->nvideo++] = NGX_WEBRTC_CODEC_H264;
    prefs->video[prefs->nvideo++] = NGX_WEBRTC_CODEC_VP8;
    prefs->video[prefs->nvideo++] = NGX_WEBRTC_CODEC_VP9;
    prefs->video[prefs->nvideo++] = NGX_WEBRTC_CODEC_AV1;
}





/* parse, check_offer, negotiate_publish a fixture with all codecs */

static u_char *
publish_fixture(const char *name, ngx_webrtc_sdp_t *sdp,
    ngx_webrtc_answer_t *a, size_t *len)
{
    u_char                    *buf;
    ngx_webrtc_codec_prefs_t   prefs;

    buf = unit_fixture(name, len);
    if (buf == NULL) {
        return NULL;
    }

    prefs_all(&prefs);
    answer_init(a);

    if (!is_int(ngx_webrtc_sdp_parse(sdp, buf, *len, 0), NGX_WEBRTC_SDP_OK,
                "%s parses", name)
        || !is_int(ngx_webrtc_sdp_check_offer(sdp), NGX_WEBRTC_SDP_OK,
                   "%s passes check_offer", name)
        || !is_int(ngx_webrtc_sdp_negotiate_publish(sdp, &prefs, NULL, a),
                   NGX_WEBRTC_SDP_OK, "%s: negotiate_publish", name))
    {
        diag("  error: %s / %s", sdp->error ? sdp->error : "-",
             a->error ? a->error : "-");
        free(buf);
        return NULL;
    }

    return buf;
}


/* the next space separated token of a list */

static int
next_token(ngx_webrtc_sdp_str_t *list, ngx_webrtc_sdp_str_t *tok)
{
    while (list->len && list->data[0] == ' ') {
        list->data++;
        list->len--;
    }

    if (list->len == 0) {
        return 0;
    }

    tok->data = list->data;

    for (tok->len = 0; tok->len < list->len && tok->data[tok->len] != ' ';
         tok->len++)
    {
        /* void */
    }

    list->data += tok->len;
    list->len -= tok->len;

    return 1;
}


/*
 * Writes the answer to the offer and parses it back: what a browser
 * would see.
 */

static size_t
check_answer(const char *name, ngx_webrtc_sdp_t *o, ngx_webrtc_answer_t *a)
{
    size_t                       len;
    unsigned                     i, n, first, nacc, ntok;
    ngx_webrtc_track_t          *tr;
    ngx_webrtc_sdp_str_t         list, tok;
    ngx_webrtc_sdp_media_t      *m, *om;
    ngx_webrtc_sdp_format_t     *f;
    ngx_webrtc_answer_media_t   *am;
    ngx_webrtc_sdp_candidate_t  *c;

    len = ngx_webrtc_sdp_write_answer(out, sizeof(out) - 1, o, a);

    if (!ok(len > 0 && len < sizeof(out) - 1, "%s: answer written (%zu)",
            name, len))
    {
        return 0;
    }

    out[len] = '\0';

    if (!is_int(ngx_webrtc_sdp_parse(&reply, out, len, 0), NGX_WEBRTC_SDP_OK,
                "%s: answer parses back", name))
    {
        diag("  %s, line %u", reply.error, reply.error_line);
        diag("%s", out);
        return 0;
    }

    ok(memcmp(out, "v=0\r\n", 5) == 0, "%s: answer starts with v=0", name);
    ok(reply.ice_lite && has_line(out, len, "a=ice-lite"),
       "%s: answer has a=ice-lite", name);
    is_int(reply.nmedia, o->nmedia, "%s: as many m= sections as the offer",
           name);
    ok(!has_text(out, len, "transport-cc")
       && !has_text(out, len, "transport-wide-cc"),
       "%s: no transport-cc in the answer", name);

    /* a=group:BUNDLE lists the accepted mids, in order */

    list = reply.bundle;
    nacc = 0;
    ntok = 0;

    for (i = 0; i < o->nmedia; i++) {
        if (a->media[i].state != NGX_WEBRTC_ANSWER_ACCEPTED) {
            continue;
        }

        nacc++;

        if (next_token(&list, &tok)
            && tok.len == o->media[i].mid.len
            && memcmp(tok.data, o->media[i].mid.data, tok.len) == 0)
        {
            ntok++;
        }
    }

    ok(ntok == nacc && !next_token(&list, &tok),
       "%s: a=group:BUNDLE lists the %u accepted mids", name, nacc);

    first = 1;

    for (i = 0; i < o->nmedia && i < reply.nmedia; i++) {
        m = &reply.media[i];
        om = &o->media[i];
        am = &a->media[i];

        ok(m->mid.len == om->mid.len
           && memcmp(m->mid.data, om->mid.data, m->mid.len) == 0,
           "%s: m=%u has the offer's mid", name, i);
        ok(m->type.len == om->type.len
           && memcmp(m->type.data, om->type.data, m->type.len) == 0,
           "%s: m=%u has the offer's media type", name, i);

        if (am->state != NGX_WEBRTC_ANSWER_ACCEPTED) {
            ok(m->port == 0 && m->ncandidates == 0 && m->nextmaps == 0
               && !m->bundle_only,
               "%s: m=%u rejected with port 0", name, i);

            /* webrtcbin checks the transport of rejected sections too */

            ok(str_eq(&m->transport.ufrag, "Srv1")
               && str_eq(&m->transport.pwd, "abcdefghijklmnopqrstuv+/")
               && m->transport.nfingerprints == 1
               && m->transport.setup == NGX_WEBRTC_SETUP_PASSIVE,
               "%s: m=%u rejected, with ICE, fingerprint and setup",
               name, i);
            ok(om->nformats == 0
               || (m->has_direction
                   && m->direction == NGX_WEBRTC_DIR_INACTIVE),
               "%s: m=%u rejected RTP section is inactive", name, i);
            continue;
        }

        tr = (am->track != NGX_WEBRTC_NO_TRACK) ? &a->tracks[am->track]
                                                : NULL;

        is_int(m->port, 10000, "%s: m=%u port of the first candidate",
               name, i);
        ok(!m->bundle_only, "%s: m=%u no a=bundle-only in an answer",
           name, i);
        ok(m->has_direction && m->direction == am->direction,
           "%s: m=%u direction %u", name, i, am->direction);
        is_int(m->nformats, 1, "%s: m=%u one payload type", name, i);
        ok(m->rtcp_mux, "%s: m=%u a=rtcp-mux", name, i);
        is_int(m->transport.setup, NGX_WEBRTC_SETUP_PASSIVE,
               "%s: m=%u a=setup:passive", name, i);
        ok(str_eq(&m->transport.ufrag, "Srv1")
           && str_eq(&m->transport.pwd, "abcdefghijklmnopqrstuv+/"),
           "%s: m=%u a=ice-ufrag and a=ice-pwd", name, i);
        ok(m->transport.nfingerprints == 1
           && m->transport.fingerprints[0].hash == NGX_WEBRTC_HASH_SHA256
           && m->transport.fingerprints[0].len == 32
           && memcmp(m->transport.fingerprints[0].value, fp32, 32) == 0,
           "%s: m=%u a=fingerprint", name, i);

        f = &m->formats[0];

        if (tr) {
            is_int(f->pt, tr->pt, "%s: m=%u pt %u", name, i, tr->pt);
            ok(f->has_rtpmap && f->codec == tr->codec
               && f->clock == tr->clock
               && f->channels == (tr->kind == NGX_WEBRTC_MEDIA_AUDIO
                                  ? tr->channels : 1),
               "%s: m=%u a=rtpmap %s/%u", name, i,
               ngx_webrtc_codec_name(tr->codec), tr->clock);
            is_int(f->fb, tr->fb, "%s: m=%u a=rtcp-fb", name, i);
            ok(f->fmtp.len == tr->fmtp_len
               && (tr->fmtp_len == 0
                   || memcmp(f->fmtp.data, tr->fmtp, tr->fmtp_len) == 0),
               "%s: m=%u a=fmtp '%.*s'", name, i, (int) tr->fmtp_len,
               tr->fmtp);
            is_int(m->nextmaps, track_nexts(tr), "%s: m=%u extmap count",
                   name, i);

            for (n = 0; n < NGX_WEBRTC_EXT_N; n++) {
                if (tr->ext[n]) {
                    is_int(ext_id(m, n), tr->ext[n],
                           "%s: m=%u a=extmap:%u (ext %u)", name, i,
                           tr->ext[n], n);
                }
            }

            is_int(m->rtcp_rsize, tr->rtcp_rsize, "%s: m=%u a=rtcp-rsize",
                   name, i);

            if (am->direction == NGX_WEBRTC_DIR_SENDONLY) {
                ok(m->nssrcs == 1 && m->ssrcs[0] == tr->ssrc,
                   "%s: m=%u a=ssrc:%u", name, i, tr->ssrc);
                ok(str_eq(&m->msid, tr->kind == NGX_WEBRTC_MEDIA_AUDIO
                                    ? "stream-1 audio" : "stream-1 video"),
                   "%s: m=%u a=msid", name, i);

            } else {
                ok(m->nssrcs == 0 && m->msid.len == 0,
                   "%s: m=%u no a=ssrc, no a=msid when receiving", name, i);
            }

        } else {
            /* an inactive section echoes the offer's first format */
            ok(f->pt == om->formats[0].pt && m->nssrcs == 0,
               "%s: m=%u inactive, echoes pt %u", name, i,
               om->formats[0].pt);
        }

        if (first) {
            is_int(m->ncandidates, 2, "%s: m=%u has the 2 candidates",
                   name, i);
            ok(m->end_of_candidates, "%s: m=%u a=end-of-candidates",
               name, i);

            c = &m->candidates[0];
            ok(str_eq(&c->address, "127.0.0.1") && c->port == 10000
               && c->component == 1 && str_eq(&c->transport, "udp")
               && str_eq(&c->type, "host") && c->priority == 2130706431,
               "%s: m=%u first candidate", name, i);

            c = &m->candidates[1];
            ok(str_eq(&c->address, "::1") && c->port == 10000
               && c->component == 1 && str_eq(&c->type, "host")
               && c->priority < m->candidates[0].priority
               && !str_eq(&c->foundation, "1"),
               "%s: m=%u second candidate", name, i);

            first = 0;

        } else {
            ok(m->ncandidates == 0 && !m->end_of_candidates,
               "%s: m=%u no candidates after the first m= section", name, i);
        }
    }

    ok(has_line(out, len, "c=IN IP4 127.0.0.1"),
       "%s: c= line of the first candidate", name);

    return len;
}


static void
test_helpers(void)
{
    unsigned  i, j;

    static const struct {
        const char  *name;
        unsigned     codec;
    } names[] = {
        { "opus", NGX_WEBRTC_CODEC_OPUS },
        { "OPUS", NGX_WEBRTC_CODEC_OPUS },
        { "h264", NGX_WEBRTC_CODEC_H264 },
        { "vp8", NGX_WEBRTC_CODEC_VP8 },
        { "Vp9", NGX_WEBRTC_CODEC_VP9 },
        { "av1", NGX_WEBRTC_CODEC_AV1 },
        { "RTX", NGX_WEBRTC_CODEC_RTX },
        { "red", NGX_WEBRTC_CODEC_RED },
        { "ulpfec", NGX_WEBRTC_CODEC_ULPFEC },
        { "pcmu", NGX_WEBRTC_CODEC_PCMU },
        { "PCMA", NGX_WEBRTC_CODEC_PCMA },
        { "G722", NGX_WEBRTC_CODEC_G722 },
        { "CN", NGX_WEBRTC_CODEC_CN },
        { "telephone-event", NGX_WEBRTC_CODEC_TELEPHONE_EVENT },
        { "flexfec-03", NGX_WEBRTC_CODEC_UNKNOWN },
        { "H26", NGX_WEBRTC_CODEC_UNKNOWN },
        { "H2644", NGX_WEBRTC_CODEC_UNKNOWN },
        { "", NGX_WEBRTC_CODEC_UNKNOWN },
    };

    static const struct {
        uint32_t     plid;
        unsigned     profile;
    } profiles[] = {
        { 0x42001f, NGX_WEBRTC_H264_BASELINE },
        { 0x42000a, NGX_WEBRTC_H264_BASELINE },
        { 0x42e01f, NGX_WEBRTC_H264_CONSTRAINED_BASELINE },
        { 0x42c01f, NGX_WEBRTC_H264_CONSTRAINED_BASELINE },
        { 0x42401f, NGX_WEBRTC_H264_CONSTRAINED_BASELINE },
        { 0x4d001f, NGX_WEBRTC_H264_MAIN },
        { 0x4d401f, NGX_WEBRTC_H264_MAIN },
        { 0x4d801f, NGX_WEBRTC_H264_CONSTRAINED_BASELINE },
        { 0x58c01f, NGX_WEBRTC_H264_CONSTRAINED_BASELINE },
        { 0x58801f, NGX_WEBRTC_H264_BASELINE },
        { 0x640c1f, NGX_WEBRTC_H264_CONSTRAINED_HIGH },
        { 0x64001f, NGX_WEBRTC_H264_HIGH },
        { 0x640034, NGX_WEBRTC_H264_HIGH },
        { 0xf4001f, NGX_WEBRTC_H264_PREDICTIVE_HIGH_444 },
        { 0x6e001f, NGX_WEBRTC_H264_UNKNOWN },   /* High 10 */
        { 0x42101f, NGX_WEBRTC_H264_BASELINE },  /* set3: level 1b */
        { 0x42081f, NGX_WEBRTC_H264_UNKNOWN },   /* reserved_zero bit */
        { 0x000000, NGX_WEBRTC_H264_UNKNOWN },
    };

    /* [stream][receiver], ITU-T H.264 A.2 */
    static const uint8_t  decodes[7][7] = {
        /* unk CB  B   M   CH  H   P444 */
        {  0,  0,  0,  0,  0,  0,  0 },     /* unknown */
        {  0,  1,  1,  1,  1,  1,  1 },     /* constrained baseline */
        {  0,  0,  1,  0,  0,  0,  0 },     /* baseline */
        {  0,  0,  0,  1,  0,  1,  1 },     /* main */
        {  0,  0,  0,  0,  1,  1,  1 },     /* constrained high */
        {  0,  0,  0,  0,  0,  1,  1 },     /* high */
        {  0,  0,  0,  0,  0,  0,  1 },     /* predictive high 4:4:4 */
    };

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        is_int(ngx_webrtc_codec_by_name((const u_char *) names[i].name,
                                        strlen(names[i].name)),
               names[i].codec, "codec_by_name(\"%s\")", names[i].name);
    }

    is_str(ngx_webrtc_codec_name(NGX_WEBRTC_CODEC_OPUS), "opus",
           "codec_name(opus)");
    is_str(ngx_webrtc_codec_name(NGX_WEBRTC_CODEC_H264), "H264",
           "codec_name(H264)");
    is_str(ngx_webrtc_codec_name(NGX_WEBRTC_CODEC_AV1), "AV1",
           "codec_name(AV1)");
    is_str(ngx_webrtc_codec_name(NGX_WEBRTC_CODEC_UNKNOWN), "unknown",
           "codec_name(unknown)");
    is_str(ngx_webrtc_codec_name(200), "unknown", "codec_name(200)");

    for (i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
        is_int(ngx_webrtc_h264_profile(profiles[i].plid), profiles[i].profile,
               "h264_profile(%06x)", (unsigned) profiles[i].plid);
    }

    for (i = 0; i < 7; i++) {
        for (j = 0; j < 7; j++) {
            is_int(ngx_webrtc_h264_decodes(i, j), decodes[i][j],
                   "h264_decodes(stream %u, receiver %u)", i, j);
        }
    }

    ok(ngx_webrtc_ice_string_valid((const u_char *) "aZ09+/", 6),
       "ice-char: ALPHA DIGIT + /");
    ok(ngx_webrtc_ice_string_valid((const u_char *) "", 0),
       "ice-char: empty string has no bad character");
    ok(!ngx_webrtc_ice_string_valid((const u_char *) "ab-c", 4),
       "ice-char: no '-'");
    ok(!ngx_webrtc_ice_string_valid((const u_char *) "ab c", 4),
       "ice-char: no space");
    ok(!ngx_webrtc_ice_string_valid((const u_char *) "ab\0c", 4),
       "ice-char: no NUL");
    ok(!ngx_webrtc_ice_string_valid((const u_char *) "ab\xc3\xa9", 4),
       "ice-char: no UTF-8");
}


/*
 * Every captured offer: the transport and media values the rest of the
 * module relies on.
 */

static void
test_chromium_offers(void)
{
    size_t                    len;
    u_char                   *buf, fp[32];
    unsigned                  i, k, play, nvideo, ncand;
    ngx_webrtc_sdp_media_t   *a, *v;
    ngx_webrtc_sdp_format_t  *f;

    static const struct {
        const char  *name;
        unsigned     play;
        unsigned     nvideo;
        unsigned     ncand;             /* in each m= section that has */
        unsigned     balanced;
    } files[] = {
        { "chromium-publish-vp8.sdp", 0, 23, 8, 0 },
        { "chromium-publish-h264.sdp", 0, 23, 8, 0 },
        { "chromium-publish-vp9.sdp", 0, 23, 8, 0 },
        { "chromium-publish-av1.sdp", 0, 23, 8, 0 },
        { "chromium-publish-nocand.sdp", 0, 23, 0, 0 },
        { "chromium-publish-balanced.sdp", 0, 23, 8, 1 },
        { "chromium-play.sdp", 1, 34, 8, 0 },
        { "chromium-play-h264.sdp", 1, 34, 8, 0 },
    };

    /* Chromium 156: the H.264 payload types and their rtx */
    static const struct {
        uint8_t   pt;
        uint8_t   pmode;
        uint8_t   profile;
        uint32_t  plid;
        uint8_t   rtx;
    } h264[] = {
        { 102, 1, NGX_WEBRTC_H264_BASELINE, 0x42001f, 103 },
        { 104, 0, NGX_WEBRTC_H264_BASELINE, 0x42001f, 107 },
        { 108, 1, NGX_WEBRTC_H264_CONSTRAINED_BASELINE, 0x42e01f, 109 },
        { 114, 0, NGX_WEBRTC_H264_CONSTRAINED_BASELINE, 0x42e01f, 115 },
        { 116, 1, NGX_WEBRTC_H264_MAIN, 0x4d001f, 117 },
        { 39, 0, NGX_WEBRTC_H264_MAIN, 0x4d001f, 40 },
        { 41, 1, NGX_WEBRTC_H264_PREDICTIVE_HIGH_444, 0xf4001f, 42 },
        { 43, 0, NGX_WEBRTC_H264_PREDICTIVE_HIGH_444, 0xf4001f, 44 },
    };

    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        const char  *name = files[i].name;

        play = files[i].play;
        nvideo = files[i].nvideo;
        ncand = files[i].ncand;

        buf = unit_fixture(name, &len);
        if (buf == NULL) {
            continue;
        }

        if (!is_int(ngx_webrtc_sdp_parse(&offer, buf, len, 0),
                    NGX_WEBRTC_SDP_OK, "%s parses", name))
        {
            diag("  %s, line %u", offer.error, offer.error_line);
            free(buf);
            continue;
        }

        ok(offer.error == NULL, "%s: no error", name);
        is_int(ngx_webrtc_sdp_check_offer(&offer), NGX_WEBRTC_SDP_OK,
               "%s passes check_offer", name);

        ok(!offer.fragment && !offer.ice_lite && offer.has_version,
           "%s: v=0, not a fragment, not ICE lite", name);
        is_mem(offer.bundle.data, offer.bundle.len, " 0 1",
               "%s: a=group:BUNDLE 0 1", name);
        is_int(offer.bundle_tag, 0, "%s: BUNDLE tag is m= 0", name);
        is_int(offer.nmedia, 2, "%s: two m= sections", name);

        a = &offer.media[0];
        v = &offer.media[1];

        ok(a->kind == NGX_WEBRTC_MEDIA_AUDIO && str_eq(&a->type, "audio")
           && str_eq(&a->mid, "0"), "%s: m=0 audio, mid 0", name);
        ok(v->kind == NGX_WEBRTC_MEDIA_VIDEO && str_eq(&v->type, "video")
           && str_eq(&v->mid, "1"), "%s: m=1 video, mid 1", name);
        ok(str_eq(&a->proto, "UDP/TLS/RTP/SAVPF")
           && str_eq(&v->proto, "UDP/TLS/RTP/SAVPF"),
           "%s: UDP/TLS/RTP/SAVPF", name);
        ok(a->bundled && v->bundled, "%s: both bundled", name);
        ok(a->rtcp_mux && v->rtcp_mux && a->rtcp_rsize && v->rtcp_rsize,
           "%s: rtcp-mux, rtcp-rsize", name);
        ok(a->has_direction && v->has_direction
           && a->direction == (play ? NGX_WEBRTC_DIR_RECVONLY
                                    : NGX_WEBRTC_DIR_SENDONLY)
           && v->direction == a->direction,
           "%s: %s", name, play ? "recvonly" : "sendonly");
        ok(a->port != 0 && v->port != 0, "%s: ports", name);

        /* transport */

        is_int(offer.ice.ufrag.len, 4, "%s: ice-ufrag of 4", name);
        is_int(offer.ice.pwd.len, 24, "%s: ice-pwd of 24", name);
        ok(a->transport.ufrag.len == 4 && v->transport.ufrag.len == 4
           && memcmp(a->transport.ufrag.data, v->transport.ufrag.data, 4)
              == 0
           && a->transport.ufrag.data == offer.ice.ufrag.data,
           "%s: same ufrag in both sections", name);
        ok(ngx_webrtc_ice_string_valid(offer.ice.pwd.data, offer.ice.pwd.len),
           "%s: ice-pwd is ice-chars", name);
        is_int(offer.transport.ufrag.len, 0, "%s: no session level ufrag",
               name);
        is_int(offer.ice.nfingerprints, 1, "%s: one fingerprint", name);
        ok(offer.ice.fingerprints[0].hash == NGX_WEBRTC_HASH_SHA256
           && offer.ice.fingerprints[0].len == 32,
           "%s: sha-256 of 32 bytes", name);
        ok(text_fingerprint(buf, len, fp)
           && memcmp(fp, offer.ice.fingerprints[0].value, 32) == 0,
           "%s: fingerprint bytes", name);
        is_int(offer.ice.setup, NGX_WEBRTC_SETUP_ACTPASS,
               "%s: setup actpass", name);

        /* candidates: max-bundle puts them in the first section only */

        is_int(a->ncandidates, ncand, "%s: m=0 %u candidates", name, ncand);
        is_int(a->ncandidates_total, ncand, "%s: m=0 candidates total",
               name);
        is_int(v->ncandidates, files[i].balanced ? ncand : 0,
               "%s: m=1 candidates", name);
        ok(!a->end_of_candidates && !v->end_of_candidates,
           "%s: no end-of-candidates", name);

        if (ncand) {
            ok(str_eq(&a->candidates[0].address, "127.0.0.1")
               && a->candidates[0].port == a->port
               && a->candidates[0].component == 1
               && a->candidates[0].priority == 2122194687
               && str_eq(&a->candidates[0].transport, "udp")
               && str_eq(&a->candidates[0].type, "host"),
               "%s: first candidate", name);
            ok(str_eq(&a->candidates[2].address, "::1")
               && str_eq(&a->candidates[7].transport, "tcp")
               && a->candidates[7].port == 9,
               "%s: IPv6 and TCP candidates", name);
        }

        /* audio formats */

        is_int(a->nformats, 8, "%s: 8 audio payload types", name);

        f = format(a, 111);
        ok(f && f->codec == NGX_WEBRTC_CODEC_OPUS && f->clock == 48000
           && f->channels == 2 && f->has_rtpmap && str_eq(&f->name, "opus")
           && !f->stereo && f->fb == NGX_WEBRTC_FB_TRANSPORT_CC,
           "%s: 111 opus/48000/2, transport-cc", name);
        ok(f && str_eq(&f->fmtp, "minptime=10;useinbandfec=1"),
           "%s: 111 fmtp", name);

        f = format(a, 63);
        ok(f && f->codec == NGX_WEBRTC_CODEC_RED && f->clock == 48000
           && f->channels == 2 && f->apt == 0,
           "%s: 63 red/48000/2", name);

        ok((f = format(a, 9)) && f->codec == NGX_WEBRTC_CODEC_G722
           && f->clock == 8000 && f->channels == 1, "%s: 9 G722", name);
        ok((f = format(a, 0)) && f->codec == NGX_WEBRTC_CODEC_PCMU,
           "%s: 0 PCMU", name);
        ok((f = format(a, 8)) && f->codec == NGX_WEBRTC_CODEC_PCMA,
           "%s: 8 PCMA", name);
        ok((f = format(a, 13)) && f->codec == NGX_WEBRTC_CODEC_CN,
           "%s: 13 CN", name);
        ok((f = format(a, 110))
           && f->codec == NGX_WEBRTC_CODEC_TELEPHONE_EVENT
           && f->clock == 48000, "%s: 110 telephone-event/48000", name);
        ok((f = format(a, 126))
           && f->codec == NGX_WEBRTC_CODEC_TELEPHONE_EVENT
           && f->clock == 8000, "%s: 126 telephone-event/8000", name);

        /* audio header extensions */

        is_int(a->nextmaps, 4, "%s: 4 audio extmaps", name);
        ok(ext_id(a, NGX_WEBRTC_EXT_AUDIO_LEVEL) == 1
           && ext_id(a, NGX_WEBRTC_EXT_ABS_SEND_TIME) == 2
           && ext_id(a, NGX_WEBRTC_EXT_TRANSPORT_CC) == 3
           && ext_id(a, NGX_WEBRTC_EXT_MID) == 4,
           "%s: audio-level 1, abs-send-time 2, transport-cc 3, mid 4",
           name);

        /* video formats */

        is_int(v->nformats, nvideo, "%s: %u video payload types", name,
               nvideo);


        for (k = 0; k < sizeof(h264) / sizeof(h264[0]); k++) {

            if (!play && h264[k].pt >= 41 && h264[k].pt <= 44) {
                /* Chromium sends no High 4:4:4, receives it */
                ok(format(v, h264[k].pt) == NULL, "%s: no pt %u", name,
                   h264[k].pt);
                continue;
            }

            f = format(v, h264[k].pt);

            ok(f && f->codec == NGX_WEBRTC_CODEC_H264 && f->clock == 90000
               && f->channels == 1
               && f->packetization_mode == h264[k].pmode
               && f->h264_profile == h264[k].profile
               && f->profile_level_id == h264[k].plid
               && f->fb == (FB_VIDEO | NGX_WEBRTC_FB_TRANSPORT_CC),
               "%s: %u H264 %06x packetization-mode=%u", name, h264[k].pt,
               (unsigned) h264[k].plid, h264[k].pmode);

            f = format(v, h264[k].rtx);
            ok(f && f->codec == NGX_WEBRTC_CODEC_RTX && f->apt == h264[k].pt
               && f->fb == 0,
               "%s: %u rtx apt=%u", name, h264[k].rtx, h264[k].pt);
        }

        ok((f = format(v, 96)) && f->codec == NGX_WEBRTC_CODEC_VP8
           && f->clock == 90000 && f->fmtp.len == 0
           && f->fb == (FB_VIDEO | NGX_WEBRTC_FB_TRANSPORT_CC),
           "%s: 96 VP8, all feedback", name);
        ok((f = format(v, 97)) && f->codec == NGX_WEBRTC_CODEC_RTX
           && f->apt == 96, "%s: 97 rtx apt=96", name);
        ok((f = format(v, 98)) && f->codec == NGX_WEBRTC_CODEC_VP9
           && f->profile == 0, "%s: 98 VP9 profile-id=0", name);
        ok((f = format(v, 100)) && f->codec == NGX_WEBRTC_CODEC_VP9
           && f->profile == 2, "%s: 100 VP9 profile-id=2", name);
        ok((f = format(v, 45)) && f->codec == NGX_WEBRTC_CODEC_AV1
           && f->profile == 0
           && str_eq(&f->fmtp, "level-idx=5;profile=0;tier=0"),
           "%s: 45 AV1 profile 0", name);
        ok((f = format(v, 118)) && f->codec == NGX_WEBRTC_CODEC_RED,
           "%s: 118 red", name);
        ok((f = format(v, 119)) && f->codec == NGX_WEBRTC_CODEC_RTX
           && f->apt == 118, "%s: 119 rtx apt=118", name);
        ok((f = format(v, 120)) && f->codec == NGX_WEBRTC_CODEC_ULPFEC,
           "%s: 120 ulpfec", name);

        if (play) {
            ok((f = format(v, 35)) && f->codec == NGX_WEBRTC_CODEC_VP9
               && f->profile == 1, "%s: 35 VP9 profile-id=1", name);
            ok((f = format(v, 37)) && f->codec == NGX_WEBRTC_CODEC_VP9
               && f->profile == 3, "%s: 37 VP9 profile-id=3", name);
            ok((f = format(v, 47)) && f->codec == NGX_WEBRTC_CODEC_AV1
               && f->profile == 1, "%s: 47 AV1 profile 1", name);
            ok((f = format(v, 49)) && f->codec == NGX_WEBRTC_CODEC_UNKNOWN
               && str_eq(&f->name, "flexfec-03")
               && f->fb == (NGX_WEBRTC_FB_REMB
                            | NGX_WEBRTC_FB_TRANSPORT_CC),
               "%s: 49 flexfec-03 is unknown", name);
        }

        /* video header extensions */

        is_int(v->nextmaps, 11, "%s: 11 video extmaps", name);
        ok(ext_id(v, NGX_WEBRTC_EXT_TOFFSET) == 14
           && ext_id(v, NGX_WEBRTC_EXT_ABS_SEND_TIME) == 2
           && ext_id(v, NGX_WEBRTC_EXT_VIDEO_ORIENTATION) == 13
           && ext_id(v, NGX_WEBRTC_EXT_TRANSPORT_CC) == 3
           && ext_id(v, NGX_WEBRTC_EXT_PLAYOUT_DELAY) == 5
           && ext_id(v, NGX_WEBRTC_EXT_MID) == 4
           && ext_id(v, NGX_WEBRTC_EXT_AUDIO_LEVEL) == 0,
           "%s: toffset 14, abs-send-time 2, video-orientation 13, "
           "transport-cc 3, playout-delay 5, mid 4", name);
        ok(v->extmaps[5].id == 6
           && v->extmaps[5].ext == NGX_WEBRTC_EXT_UNKNOWN
           && str_eq(&v->extmaps[5].uri, "http://www.webrtc.org/"
                     "experiments/rtp-hdrext/video-content-type"),
           "%s: video-content-type is unknown", name);

        /* ssrcs */

        if (play) {
            ok(a->nssrcs == 0 && v->nssrcs == 0 && v->rtx_ssrc == 0,
               "%s: no a=ssrc", name);

        } else {
            ok(a->nssrcs == 1 && a->rtx_ssrc == 0, "%s: one audio ssrc",
               name);
            ok(v->nssrcs == 2 && v->rtx_ssrc == v->ssrcs[1]
               && v->ssrcs[0] != v->ssrcs[1],
               "%s: video ssrc and its FID rtx ssrc", name);
            ok(a->msid.len > 0 && v->msid.len > 0, "%s: a=msid", name);
        }

        free(buf);
    }

    /* literal values of one capture */

    buf = unit_fixture("chromium-publish-h264.sdp", &len);

    if (buf && ngx_webrtc_sdp_parse(&offer, buf, len, 0) == NGX_WEBRTC_SDP_OK
        && ngx_webrtc_sdp_check_offer(&offer) == NGX_WEBRTC_SDP_OK)
    {
        ok(str_eq(&offer.ice.ufrag, "rFkc")
           && str_eq(&offer.ice.pwd, "FF016w6KWxVmdug4MRWahciX"),
           "publish-h264: ufrag rFkc");
        ok(offer.ice.fingerprints[0].value[0] == 0xa0
           && offer.ice.fingerprints[0].value[31] == 0x0a,
           "publish-h264: fingerprint A0:..:0A");
        is_int(offer.media[0].port, 35474, "publish-h264: audio port");
        is_int(offer.media[1].port, 9, "publish-h264: video port 9");
        is_int(offer.media[0].ssrcs[0], 2868486040u,
               "publish-h264: audio ssrc");
        ok(offer.media[1].ssrcs[0] == 1915305977u
           && offer.media[1].rtx_ssrc == 2777080743u,
           "publish-h264: video ssrc and rtx ssrc");
        ok(str_eq(&offer.media[1].msid,
                  "1e4781b7-50f2-434c-9093-5d0fd3ac171a "
                  "7bf37405-2f09-4070-93e2-f521c6a32b01"),
           "publish-h264: video msid");
        is_int(offer.media[1].formats[0].pt, 102,
               "publish-h264: H264 102 listed first");
    }

    free(buf);
}


/* the publisher's tracks, as negotiated from a fixture */

static void
check_publish_tracks(const char *name, ngx_webrtc_sdp_t *o,
    ngx_webrtc_answer_t *a, unsigned codec, unsigned pt, const char *fmtp,
    const char *opus_fmtp, int chromium)
{
    ngx_webrtc_track_t      *tr;
    ngx_webrtc_sdp_media_t  *m;

    is_int(a->nmedia, 2, "%s: answer has 2 m= sections", name);
    ok(a->media[0].state == NGX_WEBRTC_ANSWER_ACCEPTED
       && a->media[0].direction == NGX_WEBRTC_DIR_RECVONLY
       && a->media[0].track == 0,
       "%s: audio accepted, recvonly, track 0", name);
    ok(a->media[1].state == NGX_WEBRTC_ANSWER_ACCEPTED
       && a->media[1].direction == NGX_WEBRTC_DIR_RECVONLY
       && a->media[1].track == 1,
       "%s: video accepted, recvonly, track 1", name);

    /* audio */

    tr = &a->tracks[0];
    m = &o->media[0];

    ok(tr->kind == NGX_WEBRTC_MEDIA_AUDIO && tr->mline == 0
       && tr->mid_len == 1 && tr->mid[0] == '0',
       "%s: audio track, m=0, mid 0", name);
    ok(tr->codec == NGX_WEBRTC_CODEC_OPUS && tr->pt == 111
       && tr->clock == 48000 && tr->channels == 2,
       "%s: audio opus/48000/2 pt 111", name);
    is_int(tr->fb, 0, "%s: audio: no rtcp-fb (transport-cc dropped)", name);
    is_mem(tr->fmtp, tr->fmtp_len, opus_fmtp, "%s: audio fmtp", name);
    ok(m->nssrcs >= 1 && tr->ssrc == m->ssrcs[0] && tr->ssrc != 0,
       "%s: audio ssrc %u from a=ssrc", name, tr->ssrc);
    is_int(tr->ext[NGX_WEBRTC_EXT_TRANSPORT_CC], 0,
           "%s: audio: no transport-cc extension", name);

    if (chromium) {
        ok(tr->ext[NGX_WEBRTC_EXT_MID] == 4
           && tr->ext[NGX_WEBRTC_EXT_ABS_SEND_TIME] == 2
           && tr->ext[NGX_WEBRTC_EXT_AUDIO_LEVEL] == 1
           && track_nexts(tr) == 3,
           "%s: audio exts: mid 4, abs-send-time 2, audio-level 1", name);
        is_int(tr->rtcp_rsize, 1, "%s: audio rtcp-rsize", name);

    } else {
        is_int(track_nexts(tr), 0, "%s: audio: no extensions", name);
    }

    /* video */

    tr = &a->tracks[1];
    m = &o->media[1];

    ok(tr->kind == NGX_WEBRTC_MEDIA_VIDEO && tr->mline == 1
       && tr->mid_len == 1 && tr->mid[0] == '1',
       "%s: video track, m=1, mid 1", name);
    ok(tr->codec == codec && tr->pt == pt && tr->clock == 90000,
       "%s: video %s pt %u (got %s pt %u)", name,
       ngx_webrtc_codec_name(codec), pt, ngx_webrtc_codec_name(tr->codec),
       tr->pt);
    is_mem(tr->fmtp, tr->fmtp_len, fmtp, "%s: video fmtp", name);
    ok(m->nssrcs >= 1 && tr->ssrc == m->ssrcs[0] && tr->ssrc != m->rtx_ssrc,
       "%s: video ssrc %u is the media one, not FID rtx", name, tr->ssrc);
    is_int(tr->ext[NGX_WEBRTC_EXT_TRANSPORT_CC], 0,
           "%s: video: no transport-cc extension", name);
    ok(!(tr->fb & NGX_WEBRTC_FB_TRANSPORT_CC),
       "%s: video: no transport-cc feedback", name);

    if (chromium) {
        is_int(tr->fb, FB_VIDEO, "%s: video fb nack, pli, fir, remb", name);
        ok(tr->ext[NGX_WEBRTC_EXT_MID] == 4
           && tr->ext[NGX_WEBRTC_EXT_ABS_SEND_TIME] == 2
           && tr->ext[NGX_WEBRTC_EXT_TOFFSET] == 14
           && tr->ext[NGX_WEBRTC_EXT_VIDEO_ORIENTATION] == 13
           && track_nexts(tr) == 4,
           "%s: video exts: mid 4, abs-send-time 2, toffset 14, "
           "video-orientation 13", name);
        ok(tr->ssrc == m->ssrcs[0] && m->rtx_ssrc == m->ssrcs[1],
           "%s: FID group seen", name);
        is_int(tr->rtcp_rsize, 1, "%s: video rtcp-rsize", name);

    } else {
        is_int(tr->fb, NGX_WEBRTC_FB_NACK | NGX_WEBRTC_FB_PLI
                       | NGX_WEBRTC_FB_REMB,
               "%s: video fb nack, pli, remb", name);
        is_int(track_nexts(tr), 0, "%s: video: no extensions", name);
    }

    if (codec == NGX_WEBRTC_CODEC_H264) {
        is_int(tr->packetization_mode, 1, "%s: packetization-mode 1", name);
    }
}


static void
test_publish(void)
{
    size_t         len, n;
    u_char        *buf;
    unsigned       i;
    char           line[256];
    const char    *name;

    static const struct {
        const char  *name;
        unsigned     codec;
        unsigned     pt;
        const char  *fmtp;
        int          chromium;
    } cases[] = {
        { "chromium-publish-vp8.sdp", NGX_WEBRTC_CODEC_VP8, 96, "", 1 },
        { "chromium-publish-h264.sdp", NGX_WEBRTC_CODEC_H264, 108,
          H264_CB_FMTP, 1 },
        { "chromium-publish-vp9.sdp", NGX_WEBRTC_CODEC_VP9, 98,
          "profile-id=0", 1 },
        { "chromium-publish-av1.sdp", NGX_WEBRTC_CODEC_AV1, 45,
          "level-idx=5;profile=0;tier=0", 1 },
        { "chromium-publish-nocand.sdp", NGX_WEBRTC_CODEC_VP8, 96, "", 1 },
        { "chromium-publish-balanced.sdp", NGX_WEBRTC_CODEC_VP8, 96, "", 1 },
        { "edge-session-level-ice.sdp", NGX_WEBRTC_CODEC_VP8, 96, "", 1 },
        { "edge-group-ls.sdp", NGX_WEBRTC_CODEC_VP8, 96, "", 1 },
        { "edge-uppercase-codecs.sdp", NGX_WEBRTC_CODEC_H264, 108,
          H264_CB_FMTP, 1 },
        { "edge-lowercase-codecs.sdp", NGX_WEBRTC_CODEC_H264, 108,
          H264_CB_FMTP, 1 },
        { "edge-lf-only.sdp", NGX_WEBRTC_CODEC_VP8, 96, "", 1 },
        { "edge-obs-h264-high.sdp", NGX_WEBRTC_CODEC_H264, 96,
          "level-asymmetry-allowed=1;packetization-mode=1;"
          "profile-level-id=64001f", 0 },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        name = cases[i].name;

        buf = publish_fixture(name, &offer, &answer, &len);
        if (buf == NULL) {
            continue;
        }

        check_publish_tracks(name, &offer, &answer, cases[i].codec,
                             cases[i].pt, cases[i].fmtp,
                             cases[i].chromium
                             ? "minptime=10;useinbandfec=1"
                             : "minptime=10;useinbandfec=1;stereo=1;"
                               "sprop-stereo=1",
                             cases[i].chromium);

        n = check_answer(name, &offer, &answer);

        if (n) {
            ok(has_line(out, n, "a=group:BUNDLE 0 1"),
               "%s: a=group:BUNDLE 0 1", name);
            ok(has_line(out, n, "m=audio 10000 UDP/TLS/RTP/SAVPF 111"),
               "%s: m=audio line", name);
            snprintf(line, sizeof(line), "m=video 10000 UDP/TLS/RTP/SAVPF %u",
                     cases[i].pt);
            ok(has_line(out, n, line), "%s: %s", name, line);
            snprintf(line, sizeof(line), "a=rtpmap:%u %s/90000", cases[i].pt,
                     ngx_webrtc_codec_name(cases[i].codec));
            ok(has_line(out, n, line), "%s: %s", name, line);

            if (cases[i].fmtp[0]) {
                snprintf(line, sizeof(line), "a=fmtp:%u %s", cases[i].pt,
                         cases[i].fmtp);
                ok(has_line(out, n, line), "%s: %s", name, line);
            }

            ok(has_line(out, n, "a=rtpmap:111 opus/48000/2"),
               "%s: a=rtpmap:111 opus/48000/2", name);
            ok(has_line(out, n, "a=fingerprint:sha-256 " FP32),
               "%s: a=fingerprint line", name);
            ok(has_line(out, n,
                        "a=candidate:1 1 udp 2130706431 127.0.0.1 10000 "
                        "typ host")
               && has_line(out, n,
                           "a=candidate:2 1 udp 2130706175 ::1 10000 "
                           "typ host"),
               "%s: a=candidate lines", name);
            ok(has_line(out, n, "a=msid-semantic: WMS stream-1"),
               "%s: a=msid-semantic", name);
            ok(!has_text(out, n, "a=ssrc:") && !has_text(out, n, "a=msid:"),
               "%s: no a=ssrc, a=msid when receiving", name);
            ok(!has_text(out, n, "rtx") && !has_text(out, n, "red/")
               && !has_text(out, n, "ulpfec"),
               "%s: no rtx, red, ulpfec", name);

            if (cases[i].chromium) {
                ok(has_line(out, n,
                            "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid")
                   && has_line(out, n, "a=extmap:14 "
                               "urn:ietf:params:rtp-hdrext:toffset")
                   && has_line(out, n, "a=extmap:1 "
                               "urn:ietf:params:rtp-hdrext:ssrc-audio-level"),
                   "%s: a=extmap lines", name);
            }
        }

        free(buf);
    }
}


/* codec preferences and the codec of the stream's viewers */

static void
test_publish_prefs(void)
{
    size_t                     len;
    u_char                    *vp8, *h264;
    ngx_webrtc_track_t         prefer[2];
    ngx_webrtc_codec_prefs_t   prefs;

    vp8 = unit_fixture("chromium-publish-vp8.sdp", &len);
    if (vp8 == NULL
        || ngx_webrtc_sdp_parse(&offer, vp8, len, 0) != NGX_WEBRTC_SDP_OK
        || ngx_webrtc_sdp_check_offer(&offer) != NGX_WEBRTC_SDP_OK)
    {
        ok(0, "chromium-publish-vp8.sdp for prefs");
        free(vp8);
        return;
    }

    /* one codec allowed: the offer's first of that codec */

    memset(&prefs, 0, sizeof(prefs));
    prefs.audio[prefs.naudio++] = NGX_WEBRTC_CODEC_OPUS;
    prefs.video[prefs.nvideo++] = NGX_WEBRTC_CODEC_H264;

    answer_init(&answer);
    ok(ngx_webrtc_sdp_negotiate_publish(&offer, &prefs, NULL, &answer)
       == NGX_WEBRTC_SDP_OK
       && answer.tracks[1].codec == NGX_WEBRTC_CODEC_H264
       && answer.tracks[1].pt == 108
       && answer.tracks[1].profile_level_id == 0x42e01f,
       "prefs H264 only: constrained baseline 108 of a VP8 first offer");

    prefs.video[0] = NGX_WEBRTC_CODEC_VP9;
    ok(ngx_webrtc_sdp_negotiate_publish(&offer, &prefs, NULL, &answer)
       == NGX_WEBRTC_SDP_OK
       && answer.tracks[1].codec == NGX_WEBRTC_CODEC_VP9
       && answer.tracks[1].pt == 98 && answer.tracks[1].profile == 0,
       "prefs VP9 only: 98 profile 0");

    prefs.video[0] = NGX_WEBRTC_CODEC_AV1;
    ok(ngx_webrtc_sdp_negotiate_publish(&offer, &prefs, NULL, &answer)
       == NGX_WEBRTC_SDP_OK
       && answer.tracks[1].codec == NGX_WEBRTC_CODEC_AV1
       && answer.tracks[1].pt == 45,
       "prefs AV1 only: 45");

    /* the preference order does not override the publisher's order */

    prefs.video[0] = NGX_WEBRTC_CODEC_AV1;
    prefs.video[prefs.nvideo++] = NGX_WEBRTC_CODEC_VP8;
    ok(ngx_webrtc_sdp_negotiate_publish(&offer, &prefs, NULL, &answer)
       == NGX_WEBRTC_SDP_OK && answer.tracks[1].pt == 96,
       "prefs AV1, VP8: the offer's first, VP8");

    prefs.nvideo = 0;
    answer.error = NULL;
    is_int(ngx_webrtc_sdp_negotiate_publish(&offer, &prefs, NULL, &answer),
           NGX_WEBRTC_SDP_DECLINED, "no video codec allowed");
    check_error(answer.error, "no video codec allowed");
    ok(answer.error && strstr(answer.error, "no common video codec"),
       "no video codec allowed: \"no common video codec\"");

    prefs.video[prefs.nvideo++] = NGX_WEBRTC_CODEC_VP8;
    prefs.naudio = 0;
    answer.error = NULL;
    is_int(ngx_webrtc_sdp_negotiate_publish(&offer, &prefs, NULL, &answer),
           NGX_WEBRTC_SDP_DECLINED, "no audio codec allowed");
    ok(answer.error && strstr(answer.error, "no common audio codec"),
       "no audio codec allowed: \"no common audio codec\"");

    prefs.audio[prefs.naudio++] = NGX_WEBRTC_CODEC_PCMU;
    ok(ngx_webrtc_sdp_negotiate_publish(&offer, &prefs, NULL, &answer)
       == NGX_WEBRTC_SDP_OK
       && answer.tracks[0].codec == NGX_WEBRTC_CODEC_PCMU
       && answer.tracks[0].pt == 0 && answer.tracks[0].clock == 8000
       && answer.tracks[0].channels == 1 && answer.tracks[0].fmtp_len == 0,
       "prefs PCMU: static pt 0");
    check_answer("prefs PCMU", &offer, &answer);
    ok(has_line(out, strlen((char *) out), "a=rtpmap:0 PCMU/8000"),
       "prefs PCMU: a=rtpmap:0 PCMU/8000");

    /* the stream's viewers use a codec: the publisher is asked for it */

    prefs_all(&prefs);
    memset(prefer, 0, sizeof(prefer));

    prefer[1].kind = NGX_WEBRTC_MEDIA_VIDEO;
    prefer[1].codec = NGX_WEBRTC_CODEC_H264;
    prefer[1].h264_profile = NGX_WEBRTC_H264_CONSTRAINED_BASELINE;

    ok(ngx_webrtc_sdp_negotiate_publish(&offer, &prefs, prefer, &answer)
       == NGX_WEBRTC_SDP_OK && answer.tracks[1].pt == 108
       && answer.tracks[0].pt == 111,
       "prefer H264 constrained baseline: 108");

    prefer[1].h264_profile = NGX_WEBRTC_H264_HIGH;
    ok(ngx_webrtc_sdp_negotiate_publish(&offer, &prefs, prefer, &answer)
       == NGX_WEBRTC_SDP_OK && answer.tracks[1].pt == 108,
       "prefer H264 high: constrained baseline 108, not baseline 102");

    prefer[1].h264_profile = NGX_WEBRTC_H264_BASELINE;
    ok(ngx_webrtc_sdp_negotiate_publish(&offer, &prefs, prefer, &answer)
       == NGX_WEBRTC_SDP_OK && answer.tracks[1].pt == 102,
       "prefer H264 baseline: 102");

    prefer[1].codec = NGX_WEBRTC_CODEC_VP9;
    prefer[1].profile = 2;
    ok(ngx_webrtc_sdp_negotiate_publish(&offer, &prefs, prefer, &answer)
       == NGX_WEBRTC_SDP_OK && answer.tracks[1].pt == 100
       && answer.tracks[1].profile == 2,
       "prefer VP9 profile 2: 100");
    is_mem(answer.tracks[1].fmtp, answer.tracks[1].fmtp_len, "profile-id=2",
           "prefer VP9 profile 2: fmtp");

    prefer[1].profile = 1;
    ok(ngx_webrtc_sdp_negotiate_publish(&offer, &prefs, prefer, &answer)
       == NGX_WEBRTC_SDP_OK && answer.tracks[1].pt == 96,
       "prefer VP9 profile 1, not offered: the offer's first, VP8");

    prefer[1].kind = 0;
    prefer[1].codec = NGX_WEBRTC_CODEC_AV1;
    ok(ngx_webrtc_sdp_negotiate_publish(&offer, &prefs, prefer, &answer)
       == NGX_WEBRTC_SDP_OK && answer.tracks[1].pt == 96,
       "prefer track of kind 0 is ignored");

    /* an H.264 first offer with prefer VP8 */

    h264 = unit_fixture("chromium-publish-h264.sdp", &len);

    if (h264
        && ngx_webrtc_sdp_parse(&offer, h264, len, 0) == NGX_WEBRTC_SDP_OK
        && ngx_webrtc_sdp_check_offer(&offer) == NGX_WEBRTC_SDP_OK)
    {
        prefer[1].kind = NGX_WEBRTC_MEDIA_VIDEO;
        prefer[1].codec = NGX_WEBRTC_CODEC_VP8;
        ok(ngx_webrtc_sdp_negotiate_publish(&offer, &prefs, prefer, &answer)
           == NGX_WEBRTC_SDP_OK && answer.tracks[1].pt == 96,
           "publish-h264, prefer VP8: 96");

        prefs.nvideo = 0;
        prefs.video[prefs.nvideo++] = NGX_WEBRTC_CODEC_VP8;
        prefer[1].kind = 0;
        ok(ngx_webrtc_sdp_negotiate_publish(&offer, &prefs, NULL, &answer)
           == NGX_WEBRTC_SDP_OK && answer.tracks[1].pt == 96,
           "publish-h264, prefs VP8 only: 96");
    }

    free(h264);
    free(vp8);
}


/*
 * A viewer's offer against the tracks of a stream: the viewer's payload
 * types for the stream's codec, the stream's codec parameters.
 */

static int
play(const char *name, const char *viewer, const ngx_webrtc_track_t *stream,
    u_char **buf)
{
    int     rc;
    size_t  len;

    *buf = unit_fixture(viewer, &len);
    if (*buf == NULL) {
        return -100;
    }

    if (ngx_webrtc_sdp_parse(&offer, *buf, len, 0) != NGX_WEBRTC_SDP_OK
        || ngx_webrtc_sdp_check_offer(&offer) != NGX_WEBRTC_SDP_OK)
    {
        ok(0, "%s: %s parses", name, viewer);
        return -100;
    }

    answer_init(&answer);

    rc = ngx_webrtc_sdp_negotiate_play(&offer, stream, &answer);

    if (rc == NGX_WEBRTC_SDP_OK) {
        answer.tracks[0].ssrc = 0x11111111;
        answer.tracks[1].ssrc = 0xdeadbeef;
    }

    return rc;
}


static void
test_play(void)
{
    size_t               len, n;
    u_char              *pub, *buf;
    unsigned             i;
    ngx_webrtc_track_t   stream[2], *tr;

    static const struct {
        const char  *publisher;
        const char  *viewer;
        unsigned     codec;
        unsigned     pt;
        const char  *fmtp;
    } cases[] = {
        { "chromium-publish-vp8.sdp", "chromium-play.sdp",
          NGX_WEBRTC_CODEC_VP8, 96, "" },
        { "chromium-publish-vp8.sdp", "chromium-play-h264.sdp",
          NGX_WEBRTC_CODEC_VP8, 96, "" },
        { "chromium-publish-h264.sdp", "chromium-play.sdp",
          NGX_WEBRTC_CODEC_H264, 108, H264_CB_FMTP },
        { "chromium-publish-h264.sdp", "chromium-play-h264.sdp",
          NGX_WEBRTC_CODEC_H264, 108, H264_CB_FMTP },
        { "chromium-publish-vp9.sdp", "chromium-play.sdp",
          NGX_WEBRTC_CODEC_VP9, 98, "profile-id=0" },
        { "chromium-publish-av1.sdp", "chromium-play.sdp",
          NGX_WEBRTC_CODEC_AV1, 45, "level-idx=5;profile=0;tier=0" },
        { "edge-obs-h264-high.sdp", "chromium-play.sdp",
          NGX_WEBRTC_CODEC_H264, 41,
          "level-asymmetry-allowed=1;packetization-mode=1;"
          "profile-level-id=f4001f" },
        { "edge-obs-h264-high.sdp", "chromium-play-h264.sdp",
          NGX_WEBRTC_CODEC_H264, 41,
          "level-asymmetry-allowed=1;packetization-mode=1;"
          "profile-level-id=f4001f" },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char  name[128];
        int   obs;

        snprintf(name, sizeof(name), "%s -> %s", cases[i].publisher,
                 cases[i].viewer);

        obs = (strstr(cases[i].publisher, "obs") != NULL);

        pub = publish_fixture(cases[i].publisher, &offer, &published, &len);
        if (pub == NULL) {
            continue;
        }

        memcpy(stream, published.tracks, sizeof(stream));

        if (!is_int(play(name, cases[i].viewer, stream, &buf),
                    NGX_WEBRTC_SDP_OK, "%s: negotiate_play", name))
        {
            diag("  %s", answer.error ? answer.error : "-");
            free(buf);
            free(pub);
            continue;
        }

        ok(answer.media[0].state == NGX_WEBRTC_ANSWER_ACCEPTED
           && answer.media[0].direction == NGX_WEBRTC_DIR_SENDONLY
           && answer.media[0].track == 0
           && answer.media[1].state == NGX_WEBRTC_ANSWER_ACCEPTED
           && answer.media[1].direction == NGX_WEBRTC_DIR_SENDONLY
           && answer.media[1].track == 1,
           "%s: both sendonly", name);

        /* audio: the viewer's opus */

        tr = &answer.tracks[0];
        ok(tr->kind == NGX_WEBRTC_MEDIA_AUDIO
           && tr->codec == NGX_WEBRTC_CODEC_OPUS && tr->pt == 111
           && tr->clock == 48000 && tr->channels == 2 && tr->fb == 0,
           "%s: audio opus 111", name);
        is_mem(tr->fmtp, tr->fmtp_len,
               obs ? "minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1"
                   : "minptime=10;useinbandfec=1",
               "%s: opus fmtp", name);

        /* the viewer's ids, only what the publisher sends, no mid */

        if (obs) {
            is_int(track_nexts(tr), 0, "%s: audio: no extensions, OBS "
                   "negotiated none", name);

        } else {
            ok(tr->ext[NGX_WEBRTC_EXT_AUDIO_LEVEL] == 1
               && tr->ext[NGX_WEBRTC_EXT_ABS_SEND_TIME] == 2
               && track_nexts(tr) == 2,
               "%s: audio exts: audio-level 1, abs-send-time 2", name);
        }

        /* video: the stream's codec at the viewer's payload type */

        tr = &answer.tracks[1];
        ok(tr->kind == NGX_WEBRTC_MEDIA_VIDEO && tr->codec == cases[i].codec
           && tr->pt == cases[i].pt && tr->clock == 90000
           && tr->mline == 1,
           "%s: video %s at the viewer's pt %u (got %u)", name,
           ngx_webrtc_codec_name(cases[i].codec), cases[i].pt, tr->pt);
        is_mem(tr->fmtp, tr->fmtp_len, cases[i].fmtp, "%s: video fmtp",
               name);
        is_int(tr->fb, FB_VIDEO, "%s: viewer's nack, pli, fir, remb", name);
        ok(tr->ext[NGX_WEBRTC_EXT_MID] == 0
           && tr->ext[NGX_WEBRTC_EXT_TRANSPORT_CC] == 0
           && tr->ext[NGX_WEBRTC_EXT_PLAYOUT_DELAY] == 0,
           "%s: video: no mid, transport-cc, playout-delay", name);

        if (obs) {
            is_int(track_nexts(tr), 0, "%s: video: no extensions", name);
            ok(tr->h264_profile == NGX_WEBRTC_H264_PREDICTIVE_HIGH_444
               && tr->profile_level_id == 0xf4001f
               && tr->packetization_mode == 1,
               "%s: High publisher meets the viewer's f4001f", name);

        } else {
            ok(tr->ext[NGX_WEBRTC_EXT_ABS_SEND_TIME] == 2
               && tr->ext[NGX_WEBRTC_EXT_TOFFSET] == 14
               && tr->ext[NGX_WEBRTC_EXT_VIDEO_ORIENTATION] == 13
               && track_nexts(tr) == 3,
               "%s: video exts: abs-send-time 2, toffset 14, "
               "video-orientation 13", name);
        }

        n = check_answer(name, &offer, &answer);

        if (n) {
            ok(has_line(out, n, "a=ssrc:286331153 cname:nginx-cname")
               && has_line(out, n, "a=ssrc:286331153 msid:stream-1 audio")
               && has_line(out, n, "a=ssrc:3735928559 cname:nginx-cname")
               && has_line(out, n, "a=ssrc:3735928559 msid:stream-1 video"),
               "%s: a=ssrc lines", name);
            ok(has_line(out, n, "a=msid:stream-1 audio")
               && has_line(out, n, "a=msid:stream-1 video"),
               "%s: a=msid lines", name);
            ok(!has_text(out, n, "a=recvonly")
               && !has_text(out, n, "sdes:mid"),
               "%s: no recvonly, no mid extension", name);
        }

        free(buf);
        free(pub);
    }
}


/* hand-made stream tracks against Chromium's receive codecs */

static void
test_play_tracks(void)
{
    u_char              *buf;
    ngx_webrtc_track_t   stream[2];

    memset(stream, 0, sizeof(stream));

    stream[1].kind = NGX_WEBRTC_MEDIA_VIDEO;
    stream[1].codec = NGX_WEBRTC_CODEC_VP9;
    stream[1].clock = 90000;
    stream[1].profile = 2;
    stream[1].ext[NGX_WEBRTC_EXT_ABS_SEND_TIME] = 9;
    stream[1].ext[NGX_WEBRTC_EXT_MID] = 3;

    /* video only: audio is inactive */

    if (is_int(play("vp9 profile 2", "chromium-play.sdp", stream, &buf),
               NGX_WEBRTC_SDP_OK, "VP9 profile 2 stream: negotiate_play"))
    {
        ok(answer.tracks[1].pt == 100 && answer.tracks[1].profile == 2,
           "VP9 profile 2: the viewer's profile-id=2 pt 100");
        is_mem(answer.tracks[1].fmtp, answer.tracks[1].fmtp_len,
               "profile-id=2", "VP9 profile 2: fmtp");
        ok(answer.tracks[1].ext[NGX_WEBRTC_EXT_ABS_SEND_TIME] == 2
           && track_nexts(&answer.tracks[1]) == 1,
           "VP9 profile 2: abs-send-time at the viewer's id 2 only");
        ok(answer.media[0].state == NGX_WEBRTC_ANSWER_ACCEPTED
           && answer.media[0].direction == NGX_WEBRTC_DIR_INACTIVE
           && answer.media[0].track == NGX_WEBRTC_NO_TRACK
           && answer.tracks[0].kind == 0,
           "no audio in the stream: audio inactive");

        check_answer("vp9 profile 2", &offer, &answer);
        ok(has_line(out, strlen((char *) out), "a=inactive")
           && has_line(out, strlen((char *) out), "a=rtpmap:111 opus/48000/2"),
           "vp9 profile 2: inactive audio echoes opus");
    }

    free(buf);

    /* profiles the viewer lacks */

    stream[1].profile = 3;
    stream[1].codec = NGX_WEBRTC_CODEC_AV1;
    answer.error = NULL;

    if (is_int(play("av1 profile 3", "chromium-play.sdp", stream, &buf),
               NGX_WEBRTC_SDP_DECLINED, "AV1 profile 3 stream: "
               "DECLINED"))
    {
        check_error(answer.error, "AV1 profile 3");
        ok(answer.error && strstr(answer.error, "no common video codec"),
           "AV1 profile 3: \"%s\"", answer.error);
    }

    free(buf);

    stream[1].codec = NGX_WEBRTC_CODEC_H264;
    stream[1].profile = 0;
    stream[1].packetization_mode = 1;
    stream[1].profile_level_id = 0x6e001f;
    stream[1].h264_profile = NGX_WEBRTC_H264_UNKNOWN;

    is_int(play("h264 high 10", "chromium-play.sdp", stream, &buf),
           NGX_WEBRTC_SDP_DECLINED, "H264 High 10 stream: DECLINED");
    check_error(answer.error, "H264 High 10");
    free(buf);

    /* H.264 packetization-mode 0 meets the viewer's mode 0 entry */

    stream[1].packetization_mode = 0;
    stream[1].profile_level_id = 0x42e01f;
    stream[1].h264_profile = NGX_WEBRTC_H264_CONSTRAINED_BASELINE;

    if (is_int(play("h264 pmode 0", "chromium-play.sdp", stream, &buf),
               NGX_WEBRTC_SDP_OK, "H264 CB mode 0 stream: negotiate_play"))
    {
        ok(answer.tracks[1].pt == 114
           && answer.tracks[1].packetization_mode == 0,
           "H264 CB mode 0: pt 114");
    }

    free(buf);

    /* Main meets Main, Constrained High meets the viewer's f4001f */

    stream[1].packetization_mode = 1;
    stream[1].profile_level_id = 0x4d001f;
    stream[1].h264_profile = NGX_WEBRTC_H264_MAIN;

    if (is_int(play("h264 main", "chromium-play.sdp", stream, &buf),
               NGX_WEBRTC_SDP_OK, "H264 Main stream: negotiate_play"))
    {
        is_int(answer.tracks[1].pt, 116, "H264 Main: pt 116");
    }

    free(buf);

    stream[1].profile_level_id = 0x640c1f;
    stream[1].h264_profile = NGX_WEBRTC_H264_CONSTRAINED_HIGH;

    if (is_int(play("h264 ch", "chromium-play.sdp", stream, &buf),
               NGX_WEBRTC_SDP_OK, "H264 Constrained High: negotiate_play"))
    {
        is_int(answer.tracks[1].pt, 41, "H264 Constrained High: pt 41");
    }

    free(buf);

    /* audio only, and a stream with no tracks */

    memset(stream, 0, sizeof(stream));
    stream[0].kind = NGX_WEBRTC_MEDIA_AUDIO;
    stream[0].codec = NGX_WEBRTC_CODEC_OPUS;
    stream[0].clock = 48000;
    stream[0].channels = 2;

    if (is_int(play("audio only", "chromium-play.sdp", stream, &buf),
               NGX_WEBRTC_SDP_OK, "audio only stream: negotiate_play"))
    {
        ok(answer.media[1].direction == NGX_WEBRTC_DIR_INACTIVE
           && answer.media[0].direction == NGX_WEBRTC_DIR_SENDONLY
           && track_nexts(&answer.tracks[0]) == 0,
           "audio only: video inactive, no audio extensions");
        check_answer("audio only", &offer, &answer);
        ok(has_line(out, strlen((char *) out), "a=rtpmap:96 VP8/90000"),
           "audio only: inactive video echoes VP8 96");
    }

    free(buf);

    stream[0].codec = NGX_WEBRTC_CODEC_PCMU;
    stream[0].clock = 8000;

    if (is_int(play("pcmu", "chromium-play.sdp", stream, &buf),
               NGX_WEBRTC_SDP_OK, "PCMU stream: negotiate_play"))
    {
        is_int(answer.tracks[0].pt, 0, "PCMU stream: static pt 0");
    }

    free(buf);

    stream[0].codec = NGX_WEBRTC_CODEC_OPUS;
    stream[0].clock = 16000;
    answer.error = NULL;
    is_int(play("opus 16000", "chromium-play.sdp", stream, &buf),
           NGX_WEBRTC_SDP_DECLINED, "opus/16000 stream: DECLINED");
    ok(answer.error && strstr(answer.error, "no common audio codec"),
       "opus/16000: \"%s\"", answer.error ? answer.error : "(null)");
    free(buf);

    memset(stream, 0, sizeof(stream));

    answer.error = NULL;
    is_int(play("no tracks", "chromium-play.sdp", stream, &buf),
           NGX_WEBRTC_SDP_DECLINED, "empty stream: negotiate_play");
    ok(answer.error && strstr(answer.error, "none of the stream's tracks"),
       "empty stream: \"%s\"", answer.error ? answer.error : "(null)");

    free(buf);

    /* a publisher's offer is no viewer's */

    stream[1].kind = NGX_WEBRTC_MEDIA_VIDEO;
    stream[1].codec = NGX_WEBRTC_CODEC_VP8;
    stream[1].clock = 90000;

    answer.error = NULL;
    is_int(play("sendonly viewer", "chromium-publish-vp8.sdp", stream, &buf),
           NGX_WEBRTC_SDP_DECLINED, "sendonly viewer offer: negotiate_play");
    ok(answer.error && strstr(answer.error, "recvonly"),
       "sendonly viewer offer: \"%s\"",
       answer.error ? answer.error : "(null)");

    free(buf);
}


static void
test_bad_fixtures(void)
{
    int                        rc;
    size_t                     len;
    u_char                    *buf;
    unsigned                   i;
    ngx_webrtc_codec_prefs_t   prefs;

    static const struct {
        const char  *name;
        int          check;             /* check_offer */
        int          negotiate;         /* negotiate_publish */
        const char  *error;
    } cases[] = {
        { "bad-no-bundle.sdp", NGX_WEBRTC_SDP_DECLINED, 0, "BUNDLE" },
        { "bad-no-fingerprint.sdp", NGX_WEBRTC_SDP_ERROR, 0,
          "fingerprint" },
        { "bad-no-ice.sdp", NGX_WEBRTC_SDP_ERROR, 0, "ice-ufrag" },
        { "bad-no-codec.sdp", NGX_WEBRTC_SDP_OK, NGX_WEBRTC_SDP_DECLINED,
          "no common audio codec" },
        { "bad-two-video.sdp", NGX_WEBRTC_SDP_OK, NGX_WEBRTC_SDP_DECLINED,
          "more than one video track" },
    };

    prefs_all(&prefs);

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char  *name = cases[i].name;
        const char  *error;

        buf = unit_fixture(name, &len);
        if (buf == NULL) {
            continue;
        }

        is_int(ngx_webrtc_sdp_parse(&offer, buf, len, 0), NGX_WEBRTC_SDP_OK,
               "%s parses", name);

        rc = ngx_webrtc_sdp_check_offer(&offer);
        is_int(rc, cases[i].check, "%s: check_offer", name);

        if (rc != NGX_WEBRTC_SDP_OK) {
            error = offer.error;

        } else {
            answer_init(&answer);
            is_int(ngx_webrtc_sdp_negotiate_publish(&offer, &prefs, NULL,
                                                    &answer),
                   cases[i].negotiate, "%s: negotiate_publish", name);
            error = answer.error;
        }

        check_error(error, name);
        ok(error && strstr(error, cases[i].error),
           "%s: error mentions \"%s\"", name, cases[i].error);

        free(buf);
    }

    /* bad-no-codec: video alone fails the same way */

    buf = unit_fixture("bad-no-codec.sdp", &len);

    if (buf && ngx_webrtc_sdp_parse(&offer, buf, len, 0) == NGX_WEBRTC_SDP_OK
        && ngx_webrtc_sdp_check_offer(&offer) == NGX_WEBRTC_SDP_OK)
    {
        ok(str_eq(&offer.media[0].formats[0].name, "BAR")
           && offer.media[0].formats[0].codec == NGX_WEBRTC_CODEC_UNKNOWN
           && str_eq(&offer.media[1].formats[0].name, "FOO"),
           "bad-no-codec: BAR and FOO are unknown");

        prefs.audio[prefs.naudio++] = NGX_WEBRTC_CODEC_UNKNOWN;
        answer_init(&answer);
        is_int(ngx_webrtc_sdp_negotiate_publish(&offer, &prefs, NULL,
                                                &answer),
               NGX_WEBRTC_SDP_DECLINED, "bad-no-codec: video too");
        ok(answer.error && strstr(answer.error, "no common video codec"),
           "bad-no-codec: \"%s\"", answer.error ? answer.error : "(null)");
    }

    free(buf);
}


static void
test_edge_fixtures(void)
{
    size_t   len;
    u_char  *buf, *vp8;
    size_t   vp8_len;

    /* session level ICE and fingerprint */

    buf = publish_fixture("edge-session-level-ice.sdp", &offer, &answer,
                          &len);
    if (buf) {
        ok(offer.media[0].transport.ufrag.len == 0
           && offer.media[0].transport.nfingerprints == 0,
           "edge-session-level-ice: nothing at media level");
        ok(str_eq(&offer.transport.ufrag, "wzdI")
           && str_eq(&offer.ice.ufrag, "wzdI")
           && str_eq(&offer.ice.pwd, "ghZnNFre9NBo2dvpI6YfmdjL")
           && offer.ice.nfingerprints == 1
           && offer.ice.fingerprints[0].value[0] == 0xc6
           && offer.ice.setup == NGX_WEBRTC_SETUP_ACTPASS,
           "edge-session-level-ice: effective transport from session level");
        free(buf);
    }

    buf = publish_fixture("edge-group-ls.sdp", &offer, &answer, &len);
    if (buf) {
        is_mem(offer.bundle.data, offer.bundle.len, " 0 1",
               "edge-group-ls: BUNDLE group unchanged by a=group:LS");
        free(buf);
    }

    buf = publish_fixture("edge-uppercase-codecs.sdp", &offer, &answer, &len);
    if (buf) {
        ok(str_eq(&offer.media[0].formats[0].name, "OPUS")
           && offer.media[0].formats[0].codec == NGX_WEBRTC_CODEC_OPUS
           && format(&offer.media[1], 103)->codec == NGX_WEBRTC_CODEC_RTX,
           "edge-uppercase-codecs: OPUS, RTX recognized");
        check_answer("edge-uppercase-codecs", &offer, &answer);
        ok(has_line(out, strlen((char *) out), "a=rtpmap:111 opus/48000/2"),
           "edge-uppercase-codecs: answer says opus");
        free(buf);
    }

    buf = publish_fixture("edge-lowercase-codecs.sdp", &offer, &answer, &len);
    if (buf) {
        ok(str_eq(&format(&offer.media[1], 108)->name, "h264")
           && format(&offer.media[1], 96)->codec == NGX_WEBRTC_CODEC_VP8,
           "edge-lowercase-codecs: h264, vp8 recognized");
        check_answer("edge-lowercase-codecs", &offer, &answer);
        ok(has_line(out, strlen((char *) out), "a=rtpmap:108 H264/90000"),
           "edge-lowercase-codecs: answer says H264");
        free(buf);
    }

    /* LF only: parsed exactly as the CRLF original */

    buf = publish_fixture("edge-lf-only.sdp", &offer, &answer, &len);
    vp8 = unit_fixture("chromium-publish-vp8.sdp", &vp8_len);

    if (buf && vp8
        && ngx_webrtc_sdp_parse(&reply, vp8, vp8_len, 0) == NGX_WEBRTC_SDP_OK)
    {
        unsigned  i, k, same;

        ok(memchr(buf, '\r', len) == NULL && len < vp8_len,
           "edge-lf-only: no CR");

        same = (offer.nmedia == reply.nmedia);

        for (i = 0; same && i < offer.nmedia; i++) {
            ngx_webrtc_sdp_media_t  *a = &offer.media[i], *b = &reply.media[i];

            same = a->nformats == b->nformats && a->nextmaps == b->nextmaps
                   && a->ncandidates == b->ncandidates
                   && a->nssrcs == b->nssrcs && a->rtx_ssrc == b->rtx_ssrc
                   && a->transport.ufrag.len == b->transport.ufrag.len
                   && a->transport.pwd.len == b->transport.pwd.len
                   && a->msid.len == b->msid.len
                   && a->direction == b->direction;

            for (k = 0; same && k < a->nformats; k++) {
                same = a->formats[k].pt == b->formats[k].pt
                       && a->formats[k].codec == b->formats[k].codec
                       && a->formats[k].fb == b->formats[k].fb
                       && a->formats[k].apt == b->formats[k].apt
                       && a->formats[k].fmtp.len == b->formats[k].fmtp.len
                       && (a->formats[k].fmtp.len == 0
                           || memcmp(a->formats[k].fmtp.data,
                                     b->formats[k].fmtp.data,
                                     a->formats[k].fmtp.len) == 0);
            }

            for (k = 0; same && k < a->ncandidates; k++) {
                same = a->candidates[k].type.len == b->candidates[k].type.len
                       && a->candidates[k].priority
                          == b->candidates[k].priority;
            }
        }

        ok(same, "edge-lf-only: parsed like chromium-publish-vp8.sdp");
        ok(str_eq(&format(&offer.media[1], 108)->fmtp,
                  "level-asymmetry-allowed=1;packetization-mode=1;"
                  "profile-level-id=42e01f")
           && str_eq(&offer.media[0].candidates[0].type, "host")
           && str_eq(&offer.ice.pwd, "ghZnNFre9NBo2dvpI6YfmdjL"),
           "edge-lf-only: no CR left in values");
    }

    free(vp8);
    free(buf);

    /* OBS: session level fingerprint, media level ICE, no candidates */

    buf = publish_fixture("edge-obs-h264-high.sdp", &offer, &answer, &len);
    if (buf) {
        ok(offer.transport.nfingerprints == 1
           && offer.media[0].transport.nfingerprints == 0
           && offer.ice.nfingerprints == 1
           && offer.ice.fingerprints[0].value[0] == 0x3b,
           "edge-obs-h264-high: session level fingerprint");
        ok(str_eq(&offer.ice.ufrag, "hG7k")
           && offer.ice.setup == NGX_WEBRTC_SETUP_ACTPASS,
           "edge-obs-h264-high: media level ICE after the codecs");
        ok(offer.media[0].ncandidates == 0 && offer.media[1].ncandidates == 0,
           "edge-obs-h264-high: no candidates");
        ok(offer.media[0].formats[0].stereo
           && offer.media[1].formats[0].h264_profile
              == NGX_WEBRTC_H264_HIGH
           && offer.media[1].formats[0].profile_level_id == 0x64001f,
           "edge-obs-h264-high: stereo opus, H264 High");
        ok(answer.tracks[0].stereo && answer.tracks[1].h264_profile
                                      == NGX_WEBRTC_H264_HIGH,
           "edge-obs-h264-high: High profile publisher accepted");
        free(buf);
    }
}


/* a small valid offer the malformed variants are made of */

static const char  mini[] =
    "v=0\n"
    "o=- 1 2 IN IP4 127.0.0.1\n"
    "s=-\n"
    "t=0 0\n"
    "a=group:BUNDLE 0 1\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\n"
    "c=IN IP4 0.0.0.0\n"
    "a=ice-ufrag:Ab+/\n"
    "a=ice-pwd:abcdefghijklmnopqrstuv\n"
    "a=fingerprint:sha-256 " FP32 "\n"
    "a=setup:actpass\n"
    "a=mid:0\n"
    "a=candidate:1 1 udp 2130706431 192.0.2.1 5000 typ host\n"
    "a=sendonly\n"
    "a=rtcp-mux\n"
    "a=rtpmap:111 opus/48000/2\n"
    "a=ssrc:1 cname:x\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97\n"
    "c=IN IP4 0.0.0.0\n"
    "a=mid:1\n"
    "a=sendonly\n"
    "a=rtcp-mux\n"
    "a=rtpmap:96 VP8/90000\n"
    "a=rtcp-fb:96 nack\n"
    "a=rtpmap:97 rtx/90000\n"
    "a=fmtp:97 apt=96\n"
    "a=ssrc-group:FID 2 3\n"
    "a=ssrc:2 cname:x\n"
    "a=ssrc:3 cname:x\n";


#define UFRAG_256                                                            \
    "0123456789012345678901234567890123456789012345678901234567890123"       \
    "0123456789012345678901234567890123456789012345678901234567890123"       \
    "0123456789012345678901234567890123456789012345678901234567890123"       \
    "0123456789012345678901234567890123456789012345678901234567890123"


static void
test_malformed(void)
{
    int                        rc;
    char                      *text, *p;
    unsigned                   i;
    ngx_webrtc_codec_prefs_t   prefs;

    /* from, to, what parse() returns, then check_offer() */

    static const struct {
        const char  *from;
        const char  *to;
        int          parse;
        int          check;
    } cases[] = {
        { "", "", NGX_WEBRTC_SDP_OK, NGX_WEBRTC_SDP_OK },

        /* lines */
        { "v=0\n", "v=1\n", NGX_WEBRTC_SDP_ERROR, 0 },
        { "v=0\n", "v=00\n", NGX_WEBRTC_SDP_ERROR, 0 },
        { "v=0\n", "v=\n", NGX_WEBRTC_SDP_ERROR, 0 },
        { "v=0\n", "", NGX_WEBRTC_SDP_ERROR, 0 },
        { "v=0\n", "\n\nv=0\n", NGX_WEBRTC_SDP_OK, NGX_WEBRTC_SDP_OK },
        { "s=-\n", "s=-\nv=0\n", NGX_WEBRTC_SDP_ERROR, 0 },
        { "s=-\n", "s=-\nhello\n", NGX_WEBRTC_SDP_ERROR, 0 },
        { "s=-\n", "s=-\nhello world=1\n", NGX_WEBRTC_SDP_ERROR, 0 },
        { "s=-\n", "s=-\n=x\n", NGX_WEBRTC_SDP_ERROR, 0 },
        { "s=-\n", "s=-\nA=x\n", NGX_WEBRTC_SDP_ERROR, 0 },
        { "s=-\n", "s=-\n1=x\n", NGX_WEBRTC_SDP_ERROR, 0 },
        { "s=-\n", "s=-\nx\n", NGX_WEBRTC_SDP_ERROR, 0 },
        { "s=-\n", "s=-\na\n", NGX_WEBRTC_SDP_ERROR, 0 },
        { "s=-\n", "s=-\n \n", NGX_WEBRTC_SDP_ERROR, 0 },
        { "s=-\n", "s=-\nb=AS:30\nz=\n", NGX_WEBRTC_SDP_OK,
          NGX_WEBRTC_SDP_OK },
        { "s=-\n", "s=-\n\n\n", NGX_WEBRTC_SDP_OK, NGX_WEBRTC_SDP_OK },
        { "s=-\n", "s=-\na=\na=:\na=x-unknown:1 2 3\n", NGX_WEBRTC_SDP_OK,
          NGX_WEBRTC_SDP_OK },
        { "s=-\n", "s=-\ts\n", NGX_WEBRTC_SDP_OK, NGX_WEBRTC_SDP_OK },
        { "s=-\n", "s=caf\xc3\xa9\n", NGX_WEBRTC_SDP_OK, NGX_WEBRTC_SDP_OK },
        { "s=-\n", "s=-\x01\n", NGX_WEBRTC_SDP_ERROR, 0 },
        { "s=-\n", "s=-\x1f\n", NGX_WEBRTC_SDP_ERROR, 0 },
        { "s=-\n", "s=-\x7f\n", NGX_WEBRTC_SDP_ERROR, 0 },
        { "s=-\n", "s=-\r-\n", NGX_WEBRTC_SDP_ERROR, 0 },
        { "s=-\n", "s=-\x1b[0m\n", NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=mid:0\n", "a=mid:0\x0b\n", NGX_WEBRTC_SDP_ERROR, 0 },

        /* m= lines */
        { "m=audio 9 UDP", "m=audio 70000 UDP", NGX_WEBRTC_SDP_ERROR, 0 },
        { "m=audio 9 UDP", "m=audio 65536 UDP", NGX_WEBRTC_SDP_ERROR, 0 },
        { "m=audio 9 UDP", "m=audio x UDP", NGX_WEBRTC_SDP_ERROR, 0 },
        { "m=audio 9 UDP", "m=audio -1 UDP", NGX_WEBRTC_SDP_ERROR, 0 },
        { "m=audio 9 UDP", "m=audio 9x UDP", NGX_WEBRTC_SDP_ERROR, 0 },
        { "m=audio 9 UDP", "m=audio /2 UDP", NGX_WEBRTC_SDP_ERROR, 0 },
        { "m=audio 9 UDP", "m=audio 99999999999 UDP",
          NGX_WEBRTC_SDP_ERROR, 0 },
        { "m=audio 9 UDP", "m=audio 9/2 UDP", NGX_WEBRTC_SDP_OK,
          NGX_WEBRTC_SDP_OK },
        { "m=audio 9 UDP", "m=audio 65535 UDP", NGX_WEBRTC_SDP_OK,
          NGX_WEBRTC_SDP_OK },
        { "m=audio 9 UDP/TLS/RTP/SAVPF 111\n", "m=audio\n",
          NGX_WEBRTC_SDP_ERROR, 0 },
        { "m=audio 9 UDP/TLS/RTP/SAVPF 111\n", "m=audio 9\n",
          NGX_WEBRTC_SDP_ERROR, 0 },
        { "m=audio 9 UDP/TLS/RTP/SAVPF 111\n", "m=\n",
          NGX_WEBRTC_SDP_ERROR, 0 },
        { "m=audio 9 UDP/TLS/RTP/SAVPF 111\n",
          "m=audio 9 UDP/TLS/RTP/SAVPF\n", NGX_WEBRTC_SDP_ERROR, 0 },
        { "SAVPF 111\n", "SAVPF 128\n", NGX_WEBRTC_SDP_ERROR, 0 },
        { "SAVPF 111\n", "SAVPF 111 x\n", NGX_WEBRTC_SDP_ERROR, 0 },
        { "SAVPF 111\n", "SAVPF 111 111\n", NGX_WEBRTC_SDP_OK,
          NGX_WEBRTC_SDP_OK },

        /* rtpmap */
        { "a=rtpmap:111 opus/48000/2", "a=rtpmap:200 opus/48000/2",
          NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=rtpmap:111 opus/48000/2", "a=rtpmap:128 opus/48000/2",
          NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=rtpmap:111 opus/48000/2", "a=rtpmap:x opus/48000/2",
          NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=rtpmap:111 opus/48000/2", "a=rtpmap:111",
          NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus",
          NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=rtpmap:111 opus/48000/2", "a=rtpmap:111 /48000/2",
          NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus/",
          NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus/0/2",
          NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus/48k/2",
          NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus/48000/0",
          NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus/48000/",
          NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus/48000/256",
          NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=rtpmap:111 opus/48000/2", "a=rtpmap:112 opus/48000/2",
          NGX_WEBRTC_SDP_OK, NGX_WEBRTC_SDP_OK },

        /* fmtp, rtcp-fb, extmap, ssrc */
        { "a=fmtp:97 apt=96", "a=fmtp:x apt=96", NGX_WEBRTC_SDP_ERROR,
          0 },
        { "a=fmtp:97 apt=96", "a=fmtp:", NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=fmtp:97 apt=96", "a=fmtp:97 profile-level-id=42e01",
          NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=fmtp:97 apt=96", "a=fmtp:97 profile-level-id=42e01g",
          NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=fmtp:97 apt=96", "a=fmtp:97 apt=96;;x;=;apt=;apt=999",
          NGX_WEBRTC_SDP_OK, NGX_WEBRTC_SDP_OK },
        { "a=rtcp-fb:96 nack", "a=rtcp-fb:96", NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=rtcp-fb:96 nack", "a=rtcp-fb:x nack", NGX_WEBRTC_SDP_ERROR,
          0 },
        { "a=rtcp-fb:96 nack", "a=rtcp-fb:* nack", NGX_WEBRTC_SDP_OK,
          NGX_WEBRTC_SDP_OK },
        { "a=rtcp-fb:96 nack", "a=rtcp-fb:96 nack sli", NGX_WEBRTC_SDP_OK,
          NGX_WEBRTC_SDP_OK },
        { "a=mid:1\n", "a=mid:1\na=extmap:0 urn:x\n",
          NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=mid:1\n", "a=mid:1\na=extmap:256 urn:x\n",
          NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=mid:1\n", "a=mid:1\na=extmap:1\n", NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=mid:1\n", "a=mid:1\na=extmap:/sendonly urn:x\n",
          NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=mid:1\n", "a=mid:1\na=extmap:255/sendonly urn:x\n",
          NGX_WEBRTC_SDP_OK, NGX_WEBRTC_SDP_OK },
        { "a=ssrc:1 cname:x", "a=ssrc:x cname:x", NGX_WEBRTC_SDP_ERROR,
          0 },
        { "a=ssrc:1 cname:x", "a=ssrc:4294967296 cname:x",
          NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=ssrc:1 cname:x", "a=ssrc:4294967295 cname:x",
          NGX_WEBRTC_SDP_OK, NGX_WEBRTC_SDP_OK },
        { "a=ssrc-group:FID 2 3", "a=ssrc-group:FID 2",
          NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=ssrc-group:FID 2 3", "a=ssrc-group:", NGX_WEBRTC_SDP_ERROR,
          0 },
        { "a=ssrc-group:FID 2 3", "a=ssrc-group:SIM 2 3 4",
          NGX_WEBRTC_SDP_OK, NGX_WEBRTC_SDP_OK },

        /* fingerprint */
        { FP32 "\n", "00:11\n", NGX_WEBRTC_SDP_ERROR, 0 },
        { ":10\n", "\n", NGX_WEBRTC_SDP_ERROR, 0 },
        { ":10\n", ":10:\n", NGX_WEBRTC_SDP_ERROR, 0 },
        { ":10\n", ":1\n", NGX_WEBRTC_SDP_ERROR, 0 },
        { "00:11:22", "0G:11:22", NGX_WEBRTC_SDP_ERROR, 0 },
        { "00:11:22", "00-11:22", NGX_WEBRTC_SDP_ERROR, 0 },
        { "00:11:22", ":0011:22", NGX_WEBRTC_SDP_ERROR, 0 },
        { "00:11:22", "  00:11:22", NGX_WEBRTC_SDP_OK, NGX_WEBRTC_SDP_OK },
        { "sha-256 ", "sha-1 ", NGX_WEBRTC_SDP_ERROR, 0 },
        { "sha-256 ", "SHA-256 ", NGX_WEBRTC_SDP_OK, NGX_WEBRTC_SDP_OK },
        { "sha-256 ", "md5 ", NGX_WEBRTC_SDP_OK, NGX_WEBRTC_SDP_ERROR },
        { "a=fingerprint:sha-256 " FP32, "a=fingerprint:sha-256",
          NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=fingerprint:sha-256 " FP32, "a=fingerprint:",
          NGX_WEBRTC_SDP_ERROR, 0 },

        /* ICE */
        { "a=ice-ufrag:Ab+/", "a=ice-ufrag:Ab+", NGX_WEBRTC_SDP_ERROR,
          0 },
        { "a=ice-ufrag:Ab+/", "a=ice-ufrag:Ab-/", NGX_WEBRTC_SDP_ERROR,
          0 },
        { "a=ice-ufrag:Ab+/", "a=ice-ufrag:Ab /", NGX_WEBRTC_SDP_ERROR,
          0 },
        { "a=ice-ufrag:Ab+/", "a=ice-ufrag:Ab=/", NGX_WEBRTC_SDP_ERROR,
          0 },
        { "a=ice-ufrag:Ab+/", "a=ice-ufrag:", NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=ice-ufrag:Ab+/", "a=ice-ufrag:" UFRAG_256, NGX_WEBRTC_SDP_OK,
          NGX_WEBRTC_SDP_OK },
        { "a=ice-ufrag:Ab+/", "a=ice-ufrag:" UFRAG_256 "0",
          NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=ice-pwd:abcdefghijklmnopqrstuv",
          "a=ice-pwd:abcdefghijklmnopqrstu", NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=ice-pwd:abcdefghijklmnopqrstuv",
          "a=ice-pwd:abcdefghijklmnopqrstu_", NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=ice-pwd:abcdefghijklmnopqrstuv", "a=ice-pwd:" UFRAG_256 "0",
          NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=ice-ufrag:Ab+/\n", "", NGX_WEBRTC_SDP_OK,
          NGX_WEBRTC_SDP_ERROR },
        { "a=ice-pwd:abcdefghijklmnopqrstuv\n", "", NGX_WEBRTC_SDP_OK,
          NGX_WEBRTC_SDP_ERROR },

        /* setup, mid, BUNDLE */
        { "a=setup:actpass", "a=setup:bogus", NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=setup:actpass", "a=setup:", NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=setup:actpass", "a=setup:active", NGX_WEBRTC_SDP_OK,
          NGX_WEBRTC_SDP_OK },
        { "a=setup:actpass", "a=setup:passive", NGX_WEBRTC_SDP_OK,
          NGX_WEBRTC_SDP_DECLINED },
        { "a=setup:actpass", "a=setup:holdconn", NGX_WEBRTC_SDP_OK,
          NGX_WEBRTC_SDP_DECLINED },
        { "a=setup:actpass\n", "", NGX_WEBRTC_SDP_OK, NGX_WEBRTC_SDP_OK },
        { "s=-\n", "s=-\na=ice-lite\n", NGX_WEBRTC_SDP_OK,
          NGX_WEBRTC_SDP_DECLINED },
        { "a=mid:0\n", "a=mid:\n", NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=mid:0\n", "a=mid:0 1\n", NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=mid:0\n", "a=mid:0123456789012345678901234567890123\n",
          NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=mid:0\n", "a=mid:audio\n", NGX_WEBRTC_SDP_OK,
          NGX_WEBRTC_SDP_ERROR },
        { "a=group:BUNDLE 0 1", "a=group:BUNDLE 1 0", NGX_WEBRTC_SDP_OK,
          NGX_WEBRTC_SDP_ERROR },
        { "a=group:BUNDLE 0 1", "a=group:BUNDLE 7 0", NGX_WEBRTC_SDP_OK,
          NGX_WEBRTC_SDP_ERROR },
        { "a=group:BUNDLE 0 1", "a=group:BUNDLE", NGX_WEBRTC_SDP_OK,
          NGX_WEBRTC_SDP_DECLINED },
        { "a=group:BUNDLE 0 1", "a=group:BUNDLE   ", NGX_WEBRTC_SDP_OK,
          NGX_WEBRTC_SDP_DECLINED },
        { "a=group:BUNDLE 0 1", "a=group:BUNDLEX 0 1", NGX_WEBRTC_SDP_OK,
          NGX_WEBRTC_SDP_DECLINED },
        { "a=group:BUNDLE 0 1", "a=group:bundle 0 1", NGX_WEBRTC_SDP_OK,
          NGX_WEBRTC_SDP_DECLINED },
        { "a=group:BUNDLE 0 1\n", "a=group:BUNDLE 0\na=group:BUNDLE 1\n",
          NGX_WEBRTC_SDP_DECLINED, 0 },
        { "a=group:BUNDLE 0 1\n", "", NGX_WEBRTC_SDP_OK,
          NGX_WEBRTC_SDP_DECLINED },

        /* candidates */
        { "typ host\n", "typ host raddr 0.0.0.0 rport 0 generation 0\n",
          NGX_WEBRTC_SDP_OK, NGX_WEBRTC_SDP_OK },
        { "typ host\n", "typ srflx raddr 10.0.0.1 rport 5000\n",
          NGX_WEBRTC_SDP_OK, NGX_WEBRTC_SDP_OK },
        { "a=candidate:1 1 udp", "a=candidate:1 1 UDP", NGX_WEBRTC_SDP_OK,
          NGX_WEBRTC_SDP_OK },
        { "typ host\n", "typ\n", NGX_WEBRTC_SDP_ERROR, 0 },
        { "typ host\n", "typ bogus\n", NGX_WEBRTC_SDP_OK, 0 },
        { "typ host\n", "type host\n", NGX_WEBRTC_SDP_ERROR, 0 },
        { "typ host\n", "\n", NGX_WEBRTC_SDP_ERROR, 0 },
        { " 5000 typ", " 65536 typ", NGX_WEBRTC_SDP_ERROR, 0 },
        { " 5000 typ", " x typ", NGX_WEBRTC_SDP_ERROR, 0 },
        { " 5000 typ", " typ", NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=candidate:1 1 udp", "a=candidate:1 0 udp",
          NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=candidate:1 1 udp", "a=candidate:1 257 udp",
          NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=candidate:1 1 udp", "a=candidate:1 x udp",
          NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=candidate:1 1 udp", "a=candidate:1-2 1 udp",
          NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=candidate:1 1 udp",
          "a=candidate:012345678901234567890123456789012 1 udp",
          NGX_WEBRTC_SDP_ERROR, 0 },
        { "udp 2130706431", "udp 0", NGX_WEBRTC_SDP_ERROR, 0 },
        { "udp 2130706431", "udp 4294967296", NGX_WEBRTC_SDP_ERROR, 0 },
        { "udp 2130706431", "udp -1", NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=candidate:1 1 udp 2130706431 192.0.2.1 5000 typ host",
          "a=candidate:", NGX_WEBRTC_SDP_ERROR, 0 },
        { "a=candidate:1 1 udp 2130706431 192.0.2.1 5000 typ host",
          "a=candidate:1 1 udp 2130706431", NGX_WEBRTC_SDP_ERROR, 0 },
    };

    prefs_all(&prefs);

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char  name[160];

        text = subst(mini, cases[i].from, cases[i].to);

        snprintf(name, sizeof(name), "\"%.40s\" -> \"%.60s\"",
                 cases[i].from, cases[i].to);

        /* the TAP line shows control characters as dots */

        for (p = name; *p; p++) {
            if ((u_char) *p < 0x20 || (u_char) *p >= 0x7f) {
                *p = '.';
            }
        }

        rc = parse_text(&offer, text, 0);

        if (!is_int(rc, cases[i].parse, "parse %s", name)) {
            diag("  error: %s, line %u", offer.error ? offer.error : "-",
                 offer.error_line);
        }

        if (rc != NGX_WEBRTC_SDP_OK) {
            check_error(offer.error, name);
            ok(offer.error_line > 0, "%s: error line %u", name,
               offer.error_line);
            free(text);
            continue;
        }

        ok(offer.error == NULL && offer.error_line == 0, "%s: no error",
           name);

        rc = ngx_webrtc_sdp_check_offer(&offer);

        if (!is_int(rc, cases[i].check, "check_offer %s", name)) {
            diag("  error: %s", offer.error ? offer.error : "-");
        }

        if (rc != NGX_WEBRTC_SDP_OK) {
            check_error(offer.error, name);
            free(text);
            continue;
        }

        /* whatever is accepted can be answered */

        answer_init(&answer);
        rc = ngx_webrtc_sdp_negotiate_publish(&offer, &prefs, NULL, &answer);

        if (rc == NGX_WEBRTC_SDP_OK) {
            ok(ngx_webrtc_sdp_write_answer(out, sizeof(out), &offer, &answer)
               > 0, "%s: answer written", name);

        } else {
            check_error(answer.error, name);
        }

        free(text);
    }
}


static void
test_malformed_more(void)
{
    int                        rc;
    char                      *text, *p;
    size_t                     n, len;
    u_char                    *buf;
    unsigned                   i;
    ngx_webrtc_codec_prefs_t   prefs;

    static const char  section[] =
        "m=audio 9 UDP/TLS/RTP/SAVPF 111\n"
        "a=mid:x\n"
        "a=rtcp-mux\n"
        "a=rtpmap:111 opus/48000/2\n";

    prefs_all(&prefs);

    /* empty input, NULL input */

    buf = unit_dup("", 0);
    is_int(ngx_webrtc_sdp_parse(&offer, buf, 0, 0), NGX_WEBRTC_SDP_ERROR,
           "empty offer: ERROR");
    check_error(offer.error, "empty offer");
    is_int(ngx_webrtc_sdp_parse(&offer, buf, 0, 1), NGX_WEBRTC_SDP_OK,
           "empty fragment parses");
    is_int(ngx_webrtc_sdp_check_fragment(&offer), NGX_WEBRTC_SDP_ERROR,
           "empty fragment: check_fragment ERROR");
    check_error(offer.error, "empty fragment");
    free(buf);

    is_int(parse_text(&offer, "\n\r\n\n", 0), NGX_WEBRTC_SDP_ERROR,
           "empty lines only: ERROR");
    is_int(parse_text(&offer, "v=0", 0), NGX_WEBRTC_SDP_OK,
           "v=0 alone, no newline, parses");
    is_int(ngx_webrtc_sdp_check_offer(&offer), NGX_WEBRTC_SDP_ERROR,
           "v=0 alone: check_offer ERROR, no m=");
    check_error(offer.error, "v=0 alone");
    is_int(parse_text(&offer, "v=1", 0), NGX_WEBRTC_SDP_ERROR,
           "v=1: ERROR");
    is_int(offer.error_line, 1, "v=1: error on line 1");
    is_int(parse_text(&offer, "o=- 1 1 IN IP4 0.0.0.0\nv=0\n", 0),
           NGX_WEBRTC_SDP_ERROR, "o= before v=: ERROR");
    check_error(offer.error, "o= before v=");

    /* the line number of an error */

    text = subst(mini, "a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus");
    p = strstr(text, "a=rtpmap:111");

    for (n = 1, i = 0; text + i < p; i++) {
        n += (text[i] == '\n');
    }

    is_int(parse_text(&offer, text, 0), NGX_WEBRTC_SDP_ERROR,
           "bad a=rtpmap: ERROR");
    is_int(offer.error_line, n, "bad a=rtpmap: error on line %zu", n);
    ok(offer.error && strstr(offer.error, "rtpmap"),
       "bad a=rtpmap: \"%s\"", offer.error ? offer.error : "(null)");
    free(text);

    /* NUL bytes */

    len = strlen(mini);
    p = strstr(mini, "a=mid:0");

    for (i = 0; i < 3; i++) {
        buf = unit_dup(mini, len);
        buf[(p - mini) + 2 + i * 2] = '\0';

        is_int(ngx_webrtc_sdp_parse(&offer, buf, len, 0),
               NGX_WEBRTC_SDP_ERROR, "NUL at %u in a=mid: ERROR",
               i * 2);
        ok(offer.error && strstr(offer.error, "control character"),
           "NUL: \"%s\"", offer.error ? offer.error : "(null)");
        free(buf);
    }

    buf = unit_dup("v=0\0\n", 5);
    is_int(ngx_webrtc_sdp_parse(&offer, buf, 5, 0), NGX_WEBRTC_SDP_ERROR,
           "v=0 NUL: ERROR");
    free(buf);

    buf = unit_dup("\0", 1);
    is_int(ngx_webrtc_sdp_parse(&offer, buf, 1, 0), NGX_WEBRTC_SDP_ERROR,
           "a single NUL: ERROR");
    free(buf);

    /* 8 m= sections are fine, 9 are too many */

    for (n = 8; n <= 9; n++) {
        size_t  size;

        size = sizeof(mini) + n * sizeof(section);
        text = malloc(size);

        if (text == NULL) {
            break;
        }

        strcpy(text, mini);

        /* mids x2, x3, ...: each m= section's mid is its own */

        for (i = 2; i < n; i++) {
            strcat(text, section);
            *strstr(text + strlen(text) - sizeof(section) + 1, "x") =
                (char) ('0' + i);
        }

        rc = parse_text(&offer, text, 0);

        if (n == 8) {
            is_int(rc, NGX_WEBRTC_SDP_OK, "8 m= sections parse");
            is_int(offer.nmedia, 8, "8 m= sections");

            answer_init(&answer);
            ok(ngx_webrtc_sdp_check_offer(&offer) == NGX_WEBRTC_SDP_OK
               && ngx_webrtc_sdp_negotiate_publish(&offer, &prefs, NULL,
                                                   &answer)
                  == NGX_WEBRTC_SDP_OK,
               "8 m= sections: negotiated");
            ok(answer.media[2].state == NGX_WEBRTC_ANSWER_REJECTED
               && answer.media[7].state == NGX_WEBRTC_ANSWER_REJECTED,
               "8 m= sections: the ones out of BUNDLE rejected");
            check_answer("8 m= sections", &offer, &answer);

        } else {
            is_int(rc, NGX_WEBRTC_SDP_DECLINED, "9 m= sections: "
                   "DECLINED");
            check_error(offer.error, "9 m= sections");
            ok(offer.error && strstr(offer.error, "too many m="),
               "9 m= sections: \"%s\"", offer.error ? offer.error : "-");
        }

        free(text);
    }

    /* 48 payload types are fine, 49 are too many */

    for (n = 48; n <= 49; n++) {
        char  line[512];

        p = line;
        p += sprintf(p, "SAVPF 111");

        for (i = 1; i < n; i++) {
            p += sprintf(p, " %u", i);
        }

        strcpy(p, "\n");

        text = subst(mini, "SAVPF 111\n", line);
        rc = parse_text(&offer, text, 0);

        if (n == 48) {
            ok(rc == NGX_WEBRTC_SDP_OK && offer.media[0].nformats == 48,
               "48 payload types parse");

        } else {
            is_int(rc, NGX_WEBRTC_SDP_DECLINED,
                   "49 payload types: DECLINED");
            check_error(offer.error, "49 payload types");
        }

        free(text);
    }

    /* more candidates, extmaps, ssrcs, fingerprints than are kept */

    {
        char  lines[16384];

        p = lines;
        p += sprintf(p, "a=mid:0\n");

        for (i = 0; i < 30; i++) {
            p += sprintf(p, "a=candidate:%u 1 udp %u 192.0.2.%u 5000 "
                         "typ host\n", i, 1000 + i, i);
            p += sprintf(p, "a=extmap:%u urn:x-%u\n", i + 1, i);
            p += sprintf(p, "a=ssrc:%u cname:x\n", 100 + i);
            p += sprintf(p, "a=fingerprint:sha-256 " FP32 "\n");
        }

        text = subst(mini, "a=mid:0\n", lines);
        rc = parse_text(&offer, text, 0);

        ok(rc == NGX_WEBRTC_SDP_OK
           && offer.media[0].ncandidates == NGX_WEBRTC_SDP_MAX_CANDIDATES
           && offer.media[0].ncandidates_total == 31
           && offer.media[0].nextmaps == NGX_WEBRTC_SDP_MAX_EXTMAP
           && offer.media[0].nssrcs == NGX_WEBRTC_SDP_MAX_SSRC
           && offer.media[0].transport.nfingerprints
              == NGX_WEBRTC_SDP_MAX_FINGERPRINTS,
           "more of each than kept: parsed, counted, capped");
        ok(ngx_webrtc_sdp_check_offer(&offer) == NGX_WEBRTC_SDP_OK,
           "more of each than kept: check_offer");
        free(text);
    }

    /* rejected sections: no rtcp-mux, a data channel, port 0 */

    text = subst(mini, "a=mid:1\n",
                 "a=mid:1\na=extmap:2 urn:ietf:params:rtp-hdrext:toffset\n");
    p = subst(text, "a=rtcp-mux\na=rtpmap:96", "a=rtpmap:96");
    free(text);
    text = subst(p, "a=group:BUNDLE 0 1", "a=group:BUNDLE 1 0 2");
    free(p);
    p = text;

    {
        static const char  dc[] =
            "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\n"
            "c=IN IP4 0.0.0.0\n"
            "a=mid:2\n"
            "a=sctp-port:5000\n";

        text = malloc(strlen(p) + sizeof(dc));
        strcpy(text, p);
        strcat(text, dc);
        free(p);
    }

    /* the BUNDLE tag is mid 1 (video), which has no ICE: check fails */

    ok(parse_text(&offer, text, 0) == NGX_WEBRTC_SDP_OK
       && ngx_webrtc_sdp_check_offer(&offer) == NGX_WEBRTC_SDP_ERROR,
       "BUNDLE tag without ICE: ERROR");

    p = subst(text, "a=group:BUNDLE 1 0 2", "a=group:BUNDLE 0 1 2");
    free(text);
    text = p;

    answer_init(&answer);

    if (ok(parse_text(&offer, text, 0) == NGX_WEBRTC_SDP_OK
           && ngx_webrtc_sdp_check_offer(&offer) == NGX_WEBRTC_SDP_OK
           && ngx_webrtc_sdp_negotiate_publish(&offer, &prefs, NULL,
                                               &answer)
              == NGX_WEBRTC_SDP_OK,
           "no rtcp-mux video, data channel: negotiated"))
    {
        ok(offer.media[2].kind == NGX_WEBRTC_MEDIA_APPLICATION
           && offer.media[2].nformats == 0 && offer.media[2].bundled,
           "data channel parsed");
        ok(answer.media[0].state == NGX_WEBRTC_ANSWER_ACCEPTED
           && answer.media[1].state == NGX_WEBRTC_ANSWER_REJECTED
           && answer.media[2].state == NGX_WEBRTC_ANSWER_REJECTED
           && answer.tracks[1].kind == 0,
           "video without rtcp-mux and data channel rejected");

        n = check_answer("rejected sections", &offer, &answer);
        ok(n && has_line(out, n, "a=group:BUNDLE 0")
           && has_line(out, n, "m=video 0 UDP/TLS/RTP/SAVPF 96")
           && has_line(out, n,
                       "m=application 0 UDP/DTLS/SCTP webrtc-datachannel"),
           "rejected sections: port 0, out of BUNDLE");
    }

    free(text);

    /* nothing to receive: DECLINED */

    text = subst(mini, "a=sendonly\n", "a=recvonly\n");
    p = subst(text, "a=sendonly\n", "a=inactive\n");
    free(text);
    answer_init(&answer);

    is_int(parse_text(&offer, p, 0) == NGX_WEBRTC_SDP_OK
           && ngx_webrtc_sdp_check_offer(&offer) == NGX_WEBRTC_SDP_OK
           ? ngx_webrtc_sdp_negotiate_publish(&offer, &prefs, NULL, &answer)
           : 1,
           NGX_WEBRTC_SDP_DECLINED, "publish offer that sends nothing");
    check_error(answer.error, "publish offer that sends nothing");
    free(p);

    /* sendrecv and a session level direction */

    text = subst(mini, "a=sendonly\n", "a=sendrecv\n");
    answer_init(&answer);
    ok(parse_text(&offer, text, 0) == NGX_WEBRTC_SDP_OK
       && ngx_webrtc_sdp_check_offer(&offer) == NGX_WEBRTC_SDP_OK
       && ngx_webrtc_sdp_negotiate_publish(&offer, &prefs, NULL, &answer)
          == NGX_WEBRTC_SDP_OK
       && answer.media[0].direction == NGX_WEBRTC_DIR_RECVONLY,
       "sendrecv publisher: answered recvonly");
    free(text);

    text = subst(mini, "a=sendonly\n", "");
    p = subst(text, "a=sendonly\n", "");
    free(text);
    text = subst(p, "s=-\n", "s=-\na=recvonly\n");
    free(p);
    ok(parse_text(&offer, text, 0) == NGX_WEBRTC_SDP_OK
       && offer.media[0].direction == NGX_WEBRTC_DIR_RECVONLY
       && !offer.media[0].has_direction
       && offer.media[1].direction == NGX_WEBRTC_DIR_RECVONLY,
       "session level a=recvonly applies to the m= sections");
    free(text);

    /* ICE lite both: DECLINED with a reason */

    text = subst(mini, "s=-\n", "s=-\na=ice-lite\n");
    ok(parse_text(&offer, text, 0) == NGX_WEBRTC_SDP_OK && offer.ice_lite,
       "a=ice-lite seen");
    is_int(ngx_webrtc_sdp_check_offer(&offer), NGX_WEBRTC_SDP_DECLINED,
           "ICE lite offerer: DECLINED");
    check_error(offer.error, "ICE lite offerer");
    free(text);
}


static const char  frag_rfc8840[] =
    "a=ice-ufrag:EsAw\n"
    "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\n"
    "m=audio 9 RTP/AVP 0\n"
    "a=mid:0\n"
    "a=candidate:1 1 UDP 2130706431 198.51.100.1 49174 typ host\n"
    "a=candidate:2 1 UDP 1694498815 192.0.2.3 49174 typ srflx "
    "raddr 198.51.100.1 rport 49174\n"
    "a=end-of-candidates\n";


static void
test_fragments(void)
{
    char                        *text;
    ngx_webrtc_sdp_media_t      *m;
    ngx_webrtc_sdp_candidate_t  *c;

    /* RFC 8840, 9: session level credentials */

    if (is_int(parse_text(&offer, frag_rfc8840, 1), NGX_WEBRTC_SDP_OK,
               "RFC 8840 sdpfrag parses as a fragment"))
    {
        is_int(ngx_webrtc_sdp_check_fragment(&offer), NGX_WEBRTC_SDP_OK,
               "RFC 8840 sdpfrag: check_fragment");
        ok(offer.fragment && !offer.has_version && offer.nmedia == 1,
           "RFC 8840 sdpfrag: one m= section, no v=");
        ok(str_eq(&offer.ice.ufrag, "EsAw")
           && str_eq(&offer.ice.pwd, "P2uYro0UCOQ4zxjKXaWCBui1"),
           "RFC 8840 sdpfrag: ufrag and pwd");

        m = &offer.media[0];
        ok(str_eq(&m->mid, "0") && m->end_of_candidates
           && m->ncandidates == 2 && m->nformats == 1
           && m->formats[0].codec == NGX_WEBRTC_CODEC_PCMU,
           "RFC 8840 sdpfrag: mid 0, 2 candidates, end-of-candidates");

        c = &m->candidates[0];
        ok(str_eq(&c->foundation, "1") && c->component == 1
           && str_eq(&c->transport, "UDP") && c->priority == 2130706431
           && str_eq(&c->address, "198.51.100.1") && c->port == 49174
           && str_eq(&c->type, "host"),
           "RFC 8840 sdpfrag: host candidate");

        c = &m->candidates[1];
        ok(str_eq(&c->address, "192.0.2.3") && str_eq(&c->type, "srflx")
           && c->priority == 1694498815,
           "RFC 8840 sdpfrag: srflx candidate");
    }

    is_int(parse_text(&offer, frag_rfc8840, 0), NGX_WEBRTC_SDP_ERROR,
           "RFC 8840 sdpfrag is no offer");

    /* RFC 9725, 4.3.1: credentials in the m= section, BUNDLE group */

    text = subst(frag_rfc8840,
                 "a=ice-ufrag:EsAw\na=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\n"
                 "m=audio 9 RTP/AVP 0\na=mid:0\n",
                 "a=group:BUNDLE 0 1\n"
                 "m=audio 9 UDP/TLS/RTP/SAVPF 111\na=mid:0\n"
                 "a=ice-ufrag:EsAw\na=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\n");

    ok(parse_text(&offer, text, 1) == NGX_WEBRTC_SDP_OK
       && ngx_webrtc_sdp_check_fragment(&offer) == NGX_WEBRTC_SDP_OK
       && str_eq(&offer.ice.ufrag, "EsAw")
       && offer.media[0].ncandidates == 2,
       "sdpfrag with media level credentials");
    free(text);

    /* an ICE restart: credentials only */

    ok(parse_text(&offer, "a=ice-ufrag:Zz9+\n"
                          "a=ice-pwd:0123456789012345678901\n", 1)
       == NGX_WEBRTC_SDP_OK
       && ngx_webrtc_sdp_check_fragment(&offer) == NGX_WEBRTC_SDP_OK
       && offer.nmedia == 0 && str_eq(&offer.ice.ufrag, "Zz9+"),
       "sdpfrag with credentials only");

    ok(parse_text(&offer, "a=ice-ufrag:Zz9+\n"
                          "a=ice-pwd:0123456789012345678901\n"
                          "m=audio 9 RTP/AVP 0\n"
                          "a=mid:0\n"
                          "a=end-of-candidates\n", 1)
       == NGX_WEBRTC_SDP_OK
       && ngx_webrtc_sdp_check_fragment(&offer) == NGX_WEBRTC_SDP_OK
       && offer.media[0].end_of_candidates
       && offer.media[0].ncandidates == 0,
       "sdpfrag with end-of-candidates only");

    /* what is wrong */

    text = subst(frag_rfc8840, "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\n", "");
    ok(parse_text(&offer, text, 1) == NGX_WEBRTC_SDP_OK
       && ngx_webrtc_sdp_check_fragment(&offer) == NGX_WEBRTC_SDP_ERROR,
       "sdpfrag without ice-pwd: ERROR");
    check_error(offer.error, "sdpfrag without ice-pwd");
    free(text);

    text = subst(frag_rfc8840, "a=ice-ufrag:EsAw\n", "");
    ok(parse_text(&offer, text, 1) == NGX_WEBRTC_SDP_OK
       && ngx_webrtc_sdp_check_fragment(&offer) == NGX_WEBRTC_SDP_ERROR,
       "sdpfrag without ice-ufrag: ERROR");
    free(text);

    text = subst(frag_rfc8840, "a=ice-ufrag:EsAw", "a=ice-ufrag:Es");
    is_int(parse_text(&offer, text, 1), NGX_WEBRTC_SDP_ERROR,
           "sdpfrag with a short ufrag: ERROR");
    free(text);

    text = subst(frag_rfc8840, "typ srflx", "type srflx");
    is_int(parse_text(&offer, text, 1), NGX_WEBRTC_SDP_ERROR,
           "sdpfrag with a bad candidate: ERROR");
    check_error(offer.error, "sdpfrag with a bad candidate");
    free(text);

    text = subst(frag_rfc8840, "a=mid:0\n", "a=mid:0\nhello\n");
    is_int(parse_text(&offer, text, 1), NGX_WEBRTC_SDP_ERROR,
           "sdpfrag with a bad line: ERROR");
    free(text);

    /* a=candidate before any m=: ignored */

    ok(parse_text(&offer, "a=ice-ufrag:Zz9+\n"
                          "a=ice-pwd:0123456789012345678901\n"
                          "a=candidate:1 1 udp 1 192.0.2.1 1 typ host\n", 1)
       == NGX_WEBRTC_SDP_OK
       && offer.nmedia == 0,
       "session level a=candidate is ignored");
}


static void
test_write_fragment(void)
{
    size_t                   len, n;
    u_char                  *b;
    ngx_webrtc_sdp_media_t  *m;

    static const u_char  mid32[] = "0123456789abcdef0123456789abcdef";

    answer_init(&answer);

    len = ngx_webrtc_sdp_write_fragment(out, sizeof(out), &answer,
                                        (const u_char *) "0", 1);

    if (!ok(len > 0, "write_fragment (%zu bytes)", len)) {
        return;
    }

    ok(has_line(out, len, "a=ice-ufrag:Srv1")
       && has_line(out, len, "a=ice-pwd:abcdefghijklmnopqrstuv+/")
       && has_line(out, len, "a=mid:0")
       && has_line(out, len, "a=end-of-candidates"),
       "fragment lines");
    ok(out[len - 1] == '\n' && out[len - 2] == '\r', "fragment ends in CRLF");

    b = unit_dup(out, len);

    if (is_int(ngx_webrtc_sdp_parse(&reply, b, len, 1), NGX_WEBRTC_SDP_OK,
               "fragment parses back"))
    {
        is_int(ngx_webrtc_sdp_check_fragment(&reply), NGX_WEBRTC_SDP_OK,
               "fragment: check_fragment");
        ok(reply.ice_lite && str_eq(&reply.ice.ufrag, "Srv1")
           && str_eq(&reply.ice.pwd, "abcdefghijklmnopqrstuv+/"),
           "fragment: ice-lite, ufrag, pwd");

        m = &reply.media[0];
        ok(reply.nmedia == 1 && str_eq(&m->mid, "0")
           && m->ncandidates == 2 && m->end_of_candidates,
           "fragment: mid 0, 2 candidates, end-of-candidates");
        ok(str_eq(&m->candidates[0].address, "127.0.0.1")
           && m->candidates[0].port == 10000
           && str_eq(&m->candidates[1].address, "::1")
           && m->candidates[1].port == 10000
           && str_eq(&m->candidates[1].type, "host"),
           "fragment: candidates");
    }

    is_int(ngx_webrtc_sdp_parse(&reply, b, len, 0), NGX_WEBRTC_SDP_ERROR,
           "fragment is no offer (no v=)");
    free(b);

    /* every buffer size short of the full one fails without overflow */

    for (n = 0; n < len; n++) {
        b = malloc(n ? n : 1);

        if (ngx_webrtc_sdp_write_fragment(b, n, &answer,
                                          (const u_char *) "0", 1) != 0)
        {
            break;
        }

        free(b);
    }

    ok(n == len, "write_fragment fails on all %zu short buffers", len);

    if (n < len) {
        free(b);
    }

    b = malloc(len);
    ok(ngx_webrtc_sdp_write_fragment(b, len, &answer, (const u_char *) "0",
                                     1) == len
       && memcmp(b, out, len) == 0,
       "write_fragment fits a buffer of exactly its size");
    free(b);

    /* no candidates, a long mid */

    answer.ncandidates = 0;
    len = ngx_webrtc_sdp_write_fragment(out, sizeof(out), &answer, mid32, 32);
    b = unit_dup(out, len);

    ok(len > 0 && ngx_webrtc_sdp_parse(&reply, b, len, 1) == NGX_WEBRTC_SDP_OK
       && reply.media[0].ncandidates == 0
       && reply.media[0].end_of_candidates
       && reply.media[0].mid.len == 32,
       "fragment without candidates, mid of 32");
    free(b);
}


/* the tracks of a stream, as published by a fixture */

static int
make_stream(const char *name, ngx_webrtc_track_t *stream)
{
    size_t   len;
    u_char  *buf;

    memset(stream, 0, 2 * sizeof(ngx_webrtc_track_t));

    buf = publish_fixture(name, &reply, &published, &len);
    if (buf == NULL) {
        return 0;
    }

    memcpy(stream, published.tracks, 2 * sizeof(ngx_webrtc_track_t));
    free(buf);

    return 1;
}


/*
 * Runs an input through everything the module does with a peer's SDP.
 * Returns the number of steps passed; *bad counts answers that do not
 * parse back and error reasons that are not one line.
 */

static unsigned
exercise(const u_char *p, size_t len, int fragment,
    const ngx_webrtc_track_t *stream, unsigned *bad)
{
    int                        rc;
    size_t                     n;
    u_char                    *b;
    unsigned                   steps;
    const char                *error;
    ngx_webrtc_codec_prefs_t   prefs;

    rc = ngx_webrtc_sdp_parse(&offer, p, len, fragment);

    if (rc != NGX_WEBRTC_SDP_OK) {
        error = offer.error;
        goto failed;
    }

    if (fragment) {
        if (ngx_webrtc_sdp_check_fragment(&offer) != NGX_WEBRTC_SDP_OK) {
            error = offer.error;
            goto failed;
        }

        answer_init(&answer);

        n = ngx_webrtc_sdp_write_fragment(out, sizeof(out), &answer,
                    offer.nmedia ? offer.media[0].mid.data
                                 : (const u_char *) "0",
                    offer.nmedia ? offer.media[0].mid.len : 1);

        if (n == 0) {
            (*bad)++;
        }

        return 2;
    }

    if (ngx_webrtc_sdp_check_offer(&offer) != NGX_WEBRTC_SDP_OK) {
        error = offer.error;
        goto failed;
    }

    steps = 2;

    prefs_all(&prefs);

    answer_init(&answer);

    if (ngx_webrtc_sdp_negotiate_publish(&offer, &prefs, stream, &answer)
        == NGX_WEBRTC_SDP_OK)
    {
        steps++;

        n = ngx_webrtc_sdp_write_answer(out, sizeof(out), &offer, &answer);
        b = unit_dup(out, n);

        if (n == 0
            || ngx_webrtc_sdp_parse(&reply, b, n, 0) != NGX_WEBRTC_SDP_OK)
        {
            if ((*bad)++ < 3) {
                diag("publish answer does not parse back: %s",
                     n ? reply.error : "not written");
                diag("%.*s", (int) n, out);
            }
        }

        free(b);

    } else {
        error = answer.error;

        if (error == NULL || error[0] == '\0' || strchr(error, '\n')) {
            (*bad)++;
        }
    }

    answer_init(&answer);

    if (ngx_webrtc_sdp_negotiate_play(&offer, stream, &answer)
        == NGX_WEBRTC_SDP_OK)
    {
        steps++;

        answer.tracks[0].ssrc = 1;
        answer.tracks[1].ssrc = 2;

        n = ngx_webrtc_sdp_write_answer(out, sizeof(out), &offer, &answer);
        b = unit_dup(out, n);

        if (n == 0
            || ngx_webrtc_sdp_parse(&reply, b, n, 0) != NGX_WEBRTC_SDP_OK)
        {
            if ((*bad)++ < 3) {
                diag("play answer does not parse back: %s",
                     n ? reply.error : "not written");
                diag("%.*s", (int) n, out);
            }
        }

        free(b);

    } else {
        error = answer.error;

        if (error == NULL || error[0] == '\0' || strchr(error, '\n')) {
            (*bad)++;
        }
    }

    return steps;

failed:

    if (error == NULL || error[0] == '\0' || strchr(error, '\n')) {
        (*bad)++;
    }

    return rc == NGX_WEBRTC_SDP_OK ? 1 : 0;
}


/* every prefix of a real offer: parsed, never a crash */

static void
test_truncated(void)
{
    size_t               len, n;
    u_char              *buf, *cut;
    unsigned             i, bad, steps, parsed, checked;
    ngx_webrtc_track_t   stream[2];

    static const char  *files[] = {
        "chromium-publish-h264.sdp",
        "chromium-publish-balanced.sdp",
        "chromium-play.sdp",
        "edge-obs-h264-high.sdp",
        "edge-lf-only.sdp",
    };

    make_stream("chromium-publish-h264.sdp", stream);

    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        buf = unit_fixture(files[i], &len);
        if (buf == NULL) {
            continue;
        }

        bad = 0;
        parsed = 0;
        checked = 0;

        for (n = 0; n <= len; n++) {
            cut = unit_dup(buf, n);

            steps = exercise(cut, n, 0, stream, &bad);
            parsed += (steps >= 1);
            checked += (steps >= 2);

            free(cut);
        }

        is_int(bad, 0, "%s cut at each of %zu lengths: no bad answer or "
               "error reason (%u parse, %u pass check_offer)", files[i],
               len + 1, parsed, checked);

        /*
         * the whole offer passes the checks and one negotiation: a
         * viewer's is no publisher's, a publisher's no viewer's
         */

        is_int(exercise(buf, len, 0, stream, &bad), 3, "%s: whole offer",
               files[i]);

        /* and as a fragment */

        for (n = 0; n <= len; n++) {
            cut = unit_dup(buf, n);
            (void) exercise(cut, n, 1, stream, &bad);
            free(cut);
        }

        is_int(bad, 0, "%s cut, as a fragment", files[i]);

        free(buf);
    }
}


/* every buffer size short of the answer fails without overflow */

static void
test_small_buffers(void)
{
    size_t               len, full, n;
    u_char              *buf, *b;
    unsigned             fails;
    ngx_webrtc_track_t   stream[2];

    buf = publish_fixture("chromium-publish-h264.sdp", &offer, &answer, &len);
    if (buf == NULL) {
        return;
    }

    full = ngx_webrtc_sdp_write_answer(out, sizeof(out), &offer, &answer);
    ok(full > 0, "publish answer is %zu bytes", full);

    for (n = 0, fails = 0; n < full; n++) {
        b = malloc(n ? n : 1);
        fails += (ngx_webrtc_sdp_write_answer(b, n, &offer, &answer) == 0);
        free(b);
    }

    is_int(fails, full, "write_answer fails on every short buffer");

    b = malloc(full);
    ok(ngx_webrtc_sdp_write_answer(b, full, &offer, &answer) == full
       && memcmp(b, out, full) == 0,
       "write_answer fits a buffer of exactly its size");
    free(b);
    free(buf);

    /* a viewer's answer */

    if (!make_stream("chromium-publish-vp8.sdp", stream)) {
        return;
    }

    if (play("small buffers", "chromium-play.sdp", stream, &buf)
        != NGX_WEBRTC_SDP_OK)
    {
        ok(0, "small buffers: negotiate_play");
        free(buf);
        return;
    }

    full = ngx_webrtc_sdp_write_answer(out, sizeof(out), &offer, &answer);

    for (n = 0, fails = 0; n < full; n++) {
        b = malloc(n ? n : 1);
        fails += (ngx_webrtc_sdp_write_answer(b, n, &offer, &answer) == 0);
        free(b);
    }

    ok(full > 0 && fails == full, "play answer of %zu bytes: write_answer "
       "fails on every short buffer", full);

    free(buf);
}


/* xorshift32: a fixed sequence, so that a failure reproduces */

static uint32_t  fuzz_state = 0x9e3779b9;


static uint32_t
fuzz_rand(void)
{
    fuzz_state ^= fuzz_state << 13;
    fuzz_state ^= fuzz_state >> 17;
    fuzz_state ^= fuzz_state << 5;

    return fuzz_state;
}


/* cc -DFUZZ_ITERATIONS=1000000 ... for a longer run */
#ifndef FUZZ_ITERATIONS
#define FUZZ_ITERATIONS  20000
#endif
#define FUZZ_ROOM        256


static void
test_fuzz(void)
{
    size_t               len[6], n, at, k;
    u_char              *base[6], *work, *exact;
    unsigned             i, j, nbase, b, bad, steps[5], fragment, s;
    ngx_webrtc_track_t   stream[2][2];

    static const char  *files[] = {
        "chromium-publish-h264.sdp",
        "chromium-play.sdp",
        "edge-obs-h264-high.sdp",
        "chromium-publish-balanced.sdp",
        "edge-session-level-ice.sdp",
    };

    static const u_char  special[] =
        " :/=;\r\n\t0123456789aAvm-*\0\x7f\x80\xff";

    make_stream("chromium-publish-vp8.sdp", stream[0]);
    make_stream("edge-obs-h264-high.sdp", stream[1]);

    nbase = 0;

    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        base[nbase] = unit_fixture(files[i], &len[nbase]);

        if (base[nbase]) {
            nbase++;
        }
    }

    /* the RFC 8840 fragment, in CRLF */

    parse_text(&offer, frag_rfc8840, 1);
    len[nbase] = 0;

    for (n = 0; frag_rfc8840[n]; n++) {
        len[nbase] += (frag_rfc8840[n] == '\n') ? 2 : 1;
    }

    base[nbase] = unit_dup(text_buf, len[nbase]);
    nbase++;

    work = malloc(8192 + FUZZ_ROOM);
    bad = 0;
    memset(steps, 0, sizeof(steps));

    for (i = 0; i < FUZZ_ITERATIONS; i++) {
        b = i % nbase;
        fragment = (b == nbase - 1) || (fuzz_rand() % 16 == 0);

        n = len[b];

        if (n > 8192) {
            n = 8192;
        }

        memcpy(work, base[b], n);

        for (j = 1 + fuzz_rand() % 4; j; j--) {

            if (n == 0) {
                break;
            }

            at = fuzz_rand() % n;

            switch (fuzz_rand() % 7) {

            case 0:
                work[at] = (u_char) fuzz_rand();
                break;

            case 1:
            case 2:
                work[at] = special[fuzz_rand() % (sizeof(special) - 1)];
                break;

            case 3:
                /* delete up to 16 bytes */
                k = 1 + fuzz_rand() % 16;
                k = (k > n - at) ? n - at : k;
                memmove(work + at, work + at + k, n - at - k);
                n -= k;
                break;

            case 4:
                /* insert a byte */
                if (n < 8192 + FUZZ_ROOM) {
                    memmove(work + at + 1, work + at, n - at);
                    work[at] = special[fuzz_rand() % (sizeof(special) - 1)];
                    n++;
                }

                break;

            case 5:
                /* copy up to 64 bytes over another place */
                k = 1 + fuzz_rand() % 64;
                s = fuzz_rand() % n;
                k = (k > n - at) ? n - at : k;
                k = (k > n - s) ? n - s : k;
                memmove(work + at, work + s, k);
                break;

            default:
                /* truncate */
                n = at + (fuzz_rand() % 64);
                n = (n > len[b]) ? len[b] : n;
                break;
            }
        }

        exact = unit_dup(work, n);

        s = exercise(exact, n, fragment, stream[i & 1], &bad);
        steps[s]++;

        free(exact);
    }

    is_int(bad, 0, "fuzz: %u mutated inputs, no bad answer or error reason",
           FUZZ_ITERATIONS);
    diag("fuzz: %u rejected by parse, %u by a check, %u negotiated one "
         "role, %u both", steps[0], steps[1], steps[3], steps[4]);
    ok(steps[3] + steps[4] > FUZZ_ITERATIONS / 10,
       "fuzz: a good share of the mutations get through to an answer");

    free(work);

    for (i = 0; i < nbase; i++) {
        free(base[i]);
    }
}


/* RFC 8843, 7.3.1: the answer's group follows the offer's; its tag */

static void
test_bundle_order(void)
{
    char                      *text, *out, *mid1, *cand;
    size_t                     len, n;
    u_char                    *buf;
    ngx_webrtc_sdp_t           sdp;
    ngx_webrtc_answer_t        a;
    ngx_webrtc_codec_prefs_t   prefs;

    buf = unit_fixture("chromium-publish-vp8.sdp", &len);
    if (buf == NULL) {
        return;
    }

    text = malloc(len + 1);
    memcpy(text, buf, len);
    text[len] = '\0';
    free(buf);

    out = subst(text, "a=group:BUNDLE 0 1", "a=group:BUNDLE 1 0");
    free(text);

    prefs_all(&prefs);
    answer_init(&a);

    /* the fixture has CRLF already: parsed as it is, out stays alive */

    ok(ngx_webrtc_sdp_parse(&sdp, (u_char *) out, strlen(out), 0)
       == NGX_WEBRTC_SDP_OK
       && ngx_webrtc_sdp_check_offer(&sdp) == NGX_WEBRTC_SDP_OK
       && ngx_webrtc_sdp_negotiate_publish(&sdp, &prefs, NULL, &a)
          == NGX_WEBRTC_SDP_OK,
       "offer with BUNDLE 1 0 negotiated");
    is_int(sdp.bundle_tag, 1, "its tag is the video section");

    text = malloc(16384);
    n = ngx_webrtc_sdp_write_answer((u_char *) text, 16383, &sdp, &a);
    text[n] = '\0';

    ok(n && strstr(text, "a=group:BUNDLE 1 0\r\n") != NULL,
       "answer group: BUNDLE 1 0");

    mid1 = strstr(text, "a=mid:1\r\n");
    cand = strstr(text, "a=candidate:");
    ok(mid1 && cand && cand > mid1,
       "candidates in the tagged (video) section, after the audio one");

    free(text);
    free(out);
}


/*
 * chromium-publish-vp8.sdp with edits, each "from" replaced by its "to";
 * parsed, checked and negotiated for publishing.  Returns the offer's
 * text (malloc()ed: the offer points into it), NULL if the fixture is
 * missing.  *rc is what the codec returned first that was not OK.
 */

static char *
publish_edited(const char *const *edits, int *rc, size_t *alen)
{
    char                      *text, *next;
    size_t                     len;
    u_char                    *buf;
    ngx_webrtc_codec_prefs_t   prefs;

    buf = unit_fixture("chromium-publish-vp8.sdp", &len);
    if (buf == NULL) {
        return NULL;
    }

    text = malloc(len + 1);
    memcpy(text, buf, len);
    text[len] = '\0';
    free(buf);

    for ( /* void */ ; edits[0]; edits += 2) {
        next = subst(text, edits[0], edits[1]);
        free(text);
        text = next;
    }

    prefs_all(&prefs);
    answer_init(&answer);
    *alen = 0;

    *rc = ngx_webrtc_sdp_parse(&offer, (u_char *) text, strlen(text), 0);

    if (*rc == NGX_WEBRTC_SDP_OK) {
        *rc = ngx_webrtc_sdp_check_offer(&offer);
    }

    if (*rc == NGX_WEBRTC_SDP_OK) {
        *rc = ngx_webrtc_sdp_negotiate_publish(&offer, &prefs, NULL, &answer);
    }

    if (*rc == NGX_WEBRTC_SDP_OK) {
        *alen = ngx_webrtc_sdp_write_answer(out, sizeof(out) - 1, &offer,
                                            &answer);
        out[*alen] = '\0';
    }

    return text;
}


/* the video m= section of the answer in out[], up to the end */

static const u_char *
answer_video(size_t len, size_t *vlen)
{
    const u_char  *v;

    v = (const u_char *) strstr((char *) out, "m=video");

    *vlen = v ? len - (v - out) : 0;

    return v ? v : out;
}


/* RFC 8843, 6: a=bundle-only; RFC 8853: simulcast; RFC 7587: opus */

static void
test_bundle_only_simulcast(void)
{
    int                  rc;
    char                *text;
    size_t               len, vlen;
    unsigned             i;
    const u_char        *v;
    ngx_webrtc_track_t  *tr;

    static const char *const  bundle_only[] = {
        "m=video 9 ", "m=video 0 ",
        "a=mid:1\r\n", "a=mid:1\r\na=bundle-only\r\n",
        NULL
    };

    static const char *const  bundle_only_ungrouped[] = {
        "m=video 9 ", "m=video 0 ",
        "a=mid:1\r\n", "a=mid:1\r\na=bundle-only\r\n",
        "a=group:BUNDLE 0 1", "a=group:BUNDLE 0",
        NULL
    };

    static const char *const  port_zero[] = {
        "m=video 9 ", "m=video 0 ",
        NULL
    };

    static const char *const  bundle_only_first[] = {
        "m=audio 33091 ", "m=audio 0 ",
        "a=mid:0\r\n", "a=mid:0\r\na=bundle-only\r\n",
        NULL
    };

#define SIMULCAST(list)                                                      \
        "a=mid:1\r\n",                                                      \
        "a=mid:1\r\na=rid:0 send\r\na=rid:1 send\r\na=rid:2 send\r\n"       \
        "a=simulcast:send " list "\r\n"

    static const char *const  simulcast[] = { SIMULCAST("0;1;2"), NULL };
    static const char *const  simulcast_paused[] = {
        SIMULCAST("~2;1,0"), NULL
    };
    static const char *const  simulcast_unknown[] = {
        SIMULCAST("0;1;3"), NULL
    };
    static const char *const  simulcast_no_ext[] = {
        SIMULCAST("0;1;2"),
        "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n", "",
        NULL
    };
    static const char *const  simulcast_named[] = {
        "a=mid:1\r\n",
        "a=mid:1\r\na=rid:h send\r\na=rid:f send max-width=1280\r\n"
        "a=rid:q send\r\na=simulcast:send h;f;q\r\n",
        NULL
    };
    static const char *const  bad_rid[] = {
        "a=mid:1\r\n", "a=mid:1\r\na=rid:a.b send\r\n", NULL
    };
    static const char *const  repeated_rid[] = {
        "a=mid:1\r\n", "a=mid:1\r\na=rid:0 send\r\na=rid:0 recv\r\n", NULL
    };
    static const char *const  bad_simulcast[] = {
        "a=mid:1\r\n", "a=mid:1\r\na=simulcast:sendrecv 0\r\n", NULL
    };
    static const char *const  opus_mono_rtpmap[] = {
        "a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus/48000", NULL
    };

    /* a bundle-only section in the group is live */

    text = publish_edited(bundle_only, &rc, &len);
    if (text == NULL) {
        return;
    }

    ok(rc == NGX_WEBRTC_SDP_OK && offer.media[1].port == 0
       && offer.media[1].bundle_only
       && answer.media[1].state == NGX_WEBRTC_ANSWER_ACCEPTED
       && answer.tracks[1].kind == NGX_WEBRTC_MEDIA_VIDEO
       && answer.tracks[1].codec == NGX_WEBRTC_CODEC_VP8,
       "bundle-only: port 0 video section accepted, VP8");
    ok(len && check_answer("bundle-only", &offer, &answer),
       "bundle-only: answer complete");
    ok(has_line(out, len, "a=group:BUNDLE 0 1")
       && has_line(out, len, "m=video 10000 UDP/TLS/RTP/SAVPF 96")
       && !has_text(out, len, "bundle-only"),
       "bundle-only: answered with the port, without a=bundle-only");
    free(text);

    /* RFC 8843, 6: bundle-only outside the group is not usable */

    text = publish_edited(bundle_only_ungrouped, &rc, &len);
    ok(rc == NGX_WEBRTC_SDP_OK
       && answer.media[1].state == NGX_WEBRTC_ANSWER_REJECTED
       && answer.tracks[1].kind == 0
       && has_line(out, len, "m=video 0 UDP/TLS/RTP/SAVPF 96")
       && has_line(out, len, "a=group:BUNDLE 0"),
       "bundle-only outside the BUNDLE group: rejected, audio kept");
    ok(len && check_answer("bundle-only ungrouped", &offer, &answer),
       "bundle-only outside the BUNDLE group: answer complete");
    free(text);

    /* RFC 3264, 8.2: port 0 without bundle-only is a rejected section */

    text = publish_edited(port_zero, &rc, &len);
    ok(rc == NGX_WEBRTC_SDP_OK
       && answer.media[1].state == NGX_WEBRTC_ANSWER_REJECTED
       && answer.tracks[1].kind == 0,
       "port 0 without bundle-only: video rejected");
    ok(len && check_answer("port 0", &offer, &answer),
       "port 0 without bundle-only: answer complete");
    free(text);

    /* the BUNDLE-tag itself bundle-only: still the group's transport */

    text = publish_edited(bundle_only_first, &rc, &len);
    ok(rc == NGX_WEBRTC_SDP_OK
       && answer.media[0].state == NGX_WEBRTC_ANSWER_ACCEPTED
       && answer.media[1].state == NGX_WEBRTC_ANSWER_ACCEPTED,
       "bundle-only tagged section: both accepted");
    free(text);

    /* simulcast: every layer received, layer "0" forwarded */

    text = publish_edited(simulcast, &rc, &len);
    tr = &answer.tracks[1];
    v = answer_video(len, &vlen);

    ok(rc == NGX_WEBRTC_SDP_OK && offer.media[1].nrids == 3
       && offer.media[1].simulcast,
       "simulcast: offer parsed, 3 rids");
    ok(tr->rid_len == 1 && tr->rid[0] == '0'
       && tr->ext[NGX_WEBRTC_EXT_RID] == 10,
       "simulcast: layer 0 kept, rtp-stream-id is extension 10");
    ok(has_line(v, vlen, "a=rid:0 recv") && has_line(v, vlen, "a=rid:1 recv")
       && has_line(v, vlen, "a=rid:2 recv")
       && has_line(v, vlen, "a=simulcast:recv 0;1;2")
       && has_line(v, vlen,
                   "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id")
       && !has_text(v, vlen, "repaired-rtp-stream-id"),
       "simulcast: answer receives the 3 layers, with rtp-stream-id");
    ok(len && check_answer("simulcast", &offer, &answer),
       "simulcast: answer complete");
    free(text);

    text = publish_edited(simulcast_paused, &rc, &len);
    v = answer_video(len, &vlen);
    ok(rc == NGX_WEBRTC_SDP_OK && answer.tracks[1].rid_len == 1
       && answer.tracks[1].rid[0] == '0'
       && has_line(v, vlen, "a=simulcast:recv ~2;1,0"),
       "simulcast: paused layer and alternatives, layer 0 kept");
    free(text);

    text = publish_edited(simulcast_named, &rc, &len);
    v = answer_video(len, &vlen);
    ok(rc == NGX_WEBRTC_SDP_OK && answer.tracks[1].rid_len == 1
       && answer.tracks[1].rid[0] == 'h'
       && has_line(v, vlen, "a=rid:f recv")
       && has_line(v, vlen, "a=simulcast:recv h;f;q"),
       "simulcast: without a layer 0 the first one listed is kept");
    free(text);

    /* declined: RFC 8829, 5.3.1, the publisher sends its first layer */

    text = publish_edited(simulcast_unknown, &rc, &len);
    v = answer_video(len, &vlen);
    ok(rc == NGX_WEBRTC_SDP_OK && answer.tracks[1].rid_len == 0
       && answer.tracks[1].ext[NGX_WEBRTC_EXT_RID] == 0
       && !has_text(v, vlen, "a=simulcast") && !has_text(v, vlen, "a=rid")
       && !has_text(v, vlen, "rtp-stream-id"),
       "simulcast naming a rid without a=rid: declined");
    free(text);

    text = publish_edited(simulcast_no_ext, &rc, &len);
    v = answer_video(len, &vlen);
    ok(rc == NGX_WEBRTC_SDP_OK && answer.tracks[1].rid_len == 0
       && !has_text(v, vlen, "a=simulcast"),
       "simulcast without the rtp-stream-id extension: declined");
    free(text);

    /* no simulcast: no rtp-stream-id, although Chromium offers it */

    text = publish_edited(bundle_only + 4, &rc, &len);
    ok(rc == NGX_WEBRTC_SDP_OK && answer.tracks[1].rid_len == 0
       && answer.tracks[1].ext[NGX_WEBRTC_EXT_RID] == 0
       && !has_text(out, len, "rtp-stream-id"),
       "no simulcast: no rtp-stream-id in the answer");
    free(text);

    text = publish_edited(bad_rid, &rc, &len);
    ok(rc == NGX_WEBRTC_SDP_ERROR && offer.error
       && strstr(offer.error, "a=rid"), "a=rid with a '.': malformed");
    free(text);

    text = publish_edited(repeated_rid, &rc, &len);
    ok(rc == NGX_WEBRTC_SDP_ERROR, "a repeated a=rid: malformed");
    free(text);

    text = publish_edited(bad_simulcast, &rc, &len);
    ok(rc == NGX_WEBRTC_SDP_ERROR && offer.error
       && strstr(offer.error, "a=simulcast"),
       "a=simulcast:sendrecv: malformed");
    free(text);

    /* RFC 5888, 5: a BUNDLE group names each of the m= sections once */

    {
        char  *group;

        static const char *const  group_twice[] = {
            "a=group:BUNDLE 0 1", "a=group:BUNDLE 0 1 0", NULL
        };
        static const char *const  group_more[] = {
            "a=group:BUNDLE 0 1", "a=group:BUNDLE 0 1 2", NULL
        };
        static const char *const  same_mid[] = {
            "a=mid:1\r\n", "a=mid:0\r\n", NULL
        };
        const char  *group_huge[3] = { "a=group:BUNDLE 0 1", NULL, NULL };

        text = publish_edited(group_twice, &rc, &len);
        ok(rc == NGX_WEBRTC_SDP_ERROR && offer.error
           && strstr(offer.error, "twice"),
           "BUNDLE 0 1 0: malformed, a mid twice");
        free(text);

        text = publish_edited(group_more, &rc, &len);
        ok(rc == NGX_WEBRTC_SDP_ERROR && offer.error
           && strstr(offer.error, "more mids"),
           "BUNDLE 0 1 2 with 2 sections: malformed");
        free(text);

        text = publish_edited(same_mid, &rc, &len);
        ok(rc == NGX_WEBRTC_SDP_ERROR && offer.error
           && strstr(offer.error, "same a=mid"),
           "two sections with mid 0: malformed");
        free(text);

        /* 9,000 repeats overflowed the 16 KB answer (issue 14, 6) */

        group = malloc(20 + 2 * 9000);
        strcpy(group, "a=group:BUNDLE 0 1");

        for (i = 0; i < 9000; i++) {
            strcat(group + 16 + 2 * i, " 0");
        }

        group_huge[1] = group;
        text = publish_edited(group_huge, &rc, &len);
        ok(rc == NGX_WEBRTC_SDP_ERROR,
           "BUNDLE 0 1 and 9,000 more 0s: malformed");
        free(text);
        free(group);
    }

    /* RFC 7587, 7: "opus/48000" is read as "opus/48000/2" */

    text = publish_edited(opus_mono_rtpmap, &rc, &len);
    ok(rc == NGX_WEBRTC_SDP_OK
       && answer.tracks[0].codec == NGX_WEBRTC_CODEC_OPUS
       && answer.tracks[0].channels == 2
       && has_line(out, len, "a=rtpmap:111 opus/48000/2"),
       "opus/48000 without channels: accepted as opus/48000/2");
    free(text);
}


/*
 * Offers refused although not named bad-*: what the server does not do,
 * with the start of the reason it gives
 */

static const struct {
    const char  *name;
    const char  *reason;
} unsupported[] = {
    { "obs-publish-hevc.sdp", "no common video codec" },
    { NULL, NULL }
};


static int
fixture_cmp(const void *a, const void *b)
{
    return strcmp(*(char * const *) a, *(char * const *) b);
}


/*
 * Every offer in t/sdp/, whoever wrote it (Chromium, Firefox, GStreamer,
 * OBS, Safari, or a hand edit): a bad-* one is refused with a one-line
 * reason, any other is answered and its answer parses back complete.
 * A *-play* offer is answered against a VP8 and an H.264 stream and must
 * receive at least one of them.  A bundle-only section in the BUNDLE
 * group is answered as a live one (RFC 8843, 6).
 */

static void
test_every_fixture(void)
{
    int                  rc, rc2, bad, play, answered;
    char                *names[256], *name;
    size_t               len;
    u_char              *buf;
    DIR                 *dir;
    unsigned             i, j, k, n;
    const char          *reason, *error;
    struct dirent       *de;
    ngx_webrtc_track_t   streams[2][2];
    ngx_webrtc_sdp_media_t    *m;
    ngx_webrtc_codec_prefs_t   prefs;

    if (!make_stream("chromium-publish-vp8.sdp", streams[0])
        || !make_stream("chromium-publish-h264.sdp", streams[1]))
    {
        ok(0, "fixtures: streams to play");
        return;
    }

    dir = opendir(unit_dir);

    if (!ok(dir != NULL, "fixtures: %s opened", unit_dir)) {
        return;
    }

    n = 0;

    while ((de = readdir(dir)) != NULL && n < 256) {
        len = strlen(de->d_name);

        if (len > 4 && strcmp(de->d_name + len - 4, ".sdp") == 0) {
            names[n++] = strdup(de->d_name);
        }
    }

    closedir(dir);

    qsort(names, n, sizeof(char *), fixture_cmp);

    ok(n >= 60, "fixtures: %u offers in %s", n, unit_dir);

    prefs_all(&prefs);

    for (i = 0; i < n; i++) {
        name = names[i];

        buf = unit_fixture(name, &len);
        if (buf == NULL) {
            continue;
        }

        bad = (strncmp(name, "bad-", 4) == 0 || strstr(name, "-bad-"));
        play = (strstr(name, "-play") != NULL);

        reason = NULL;

        for (j = 0; unsupported[j].name; j++) {
            if (strcmp(unsupported[j].name, name) == 0) {
                reason = unsupported[j].reason;
            }
        }

        answered = 0;
        error = NULL;

        rc = ngx_webrtc_sdp_parse(&offer, buf, len, 0);

        if (rc == NGX_WEBRTC_SDP_OK) {
            rc = ngx_webrtc_sdp_check_offer(&offer);
        }

        if (rc != NGX_WEBRTC_SDP_OK) {
            error = offer.error;

        } else if (play) {
            rc2 = NGX_WEBRTC_SDP_DECLINED;

            for (k = 0; k < 2; k++) {
                answer_init(&answer);

                if (ngx_webrtc_sdp_negotiate_play(&offer, streams[k],
                                                  &answer)
                    == NGX_WEBRTC_SDP_OK)
                {
                    rc2 = NGX_WEBRTC_SDP_OK;

                    if (!bad && !reason
                        && check_answer(name, &offer, &answer) == 0)
                    {
                        rc2 = NGX_WEBRTC_SDP_ERROR;
                        break;
                    }

                } else {
                    error = answer.error;
                }
            }

            rc = rc2;
            answered = (rc == NGX_WEBRTC_SDP_OK);

        } else {
            answer_init(&answer);
            rc = ngx_webrtc_sdp_negotiate_publish(&offer, &prefs, NULL,
                                                  &answer);
            error = answer.error;

            if (rc == NGX_WEBRTC_SDP_OK && !bad && !reason) {
                answered = (check_answer(name, &offer, &answer) != 0);
            }
        }

        if (bad || reason) {
            ok(rc != NGX_WEBRTC_SDP_OK && error != NULL
               && strpbrk(error, "\r\n") == NULL
               && (reason == NULL
                   || strncmp(error, reason, strlen(reason)) == 0),
               "fixture %s refused: %s", name, error ? error : "(none)");

            free(buf);
            continue;
        }

        if (!ok(answered, "fixture %s answered", name)) {
            diag("  error: %s", error ? error : "(none)");
            free(buf);
            continue;
        }

        for (j = 0; j < offer.nmedia; j++) {
            m = &offer.media[j];

            if (m->bundle_only && m->bundled && m->rtcp_mux
                && (m->kind == NGX_WEBRTC_MEDIA_AUDIO
                    || m->kind == NGX_WEBRTC_MEDIA_VIDEO))
            {
                is_int(answer.media[j].state, NGX_WEBRTC_ANSWER_ACCEPTED,
                       "fixture %s: bundle-only m=%u accepted", name, j);
            }
        }

        free(buf);
    }

    for (i = 0; i < n; i++) {
        free(names[i]);
    }
}


int
main(int argc, char **argv)
{
    unit_init(argc, argv);

    test_helpers();
    test_chromium_offers();
    test_publish();
    test_publish_prefs();
    test_play();
    test_play_tracks();
    test_bad_fixtures();
    test_edge_fixtures();
    test_malformed();
    test_malformed_more();
    test_fragments();
    test_write_fragment();
    test_truncated();
    test_small_buffers();
    test_bundle_order();
    test_bundle_only_simulcast();
    test_every_fixture();
    test_fuzz();

    free(text_buf);

    return done();
}
