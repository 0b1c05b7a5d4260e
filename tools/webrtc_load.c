
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <openssl/rand.h>

#include "webrtc_load.h"


/*
 * webrtc-load --whep URL --viewers N [--ramp R/s] --duration S
 * webrtc-load --whip URL --publish --duration S [--bitrate 2000k] ...
 * webrtc-load --janus URL --mountpoint ID --viewers N ...   (Janus)
 * webrtc-load --publish --rtp HOST:APORT:VPORT ...          (Janus)
 *
 * The main loop: epoll over the peers' UDP sockets, the signaling
 * requests and the children's pipes; timers are scanned every
 * WL_TICK; a report every second; DELETE of every session at the end.
 */


#define WL_TICK                 (5 * WL_MS)
#define WL_STATS_MAGIC          0x776c7374
#define WL_MAX_PROCS            64
#define WL_MAX_VIEWERS          100000

/* long options without a letter: webrtc_load_index.c */
#define WL_OPT_INDEX_CHECK      0x100
#define WL_OPT_DUP_EVERY        0x101
#define WL_OPT_SSRC_SWITCH      0x102
#define WL_OPT_SSRC             0x103
#define WL_OPT_SEQ              0x104
#define WL_OPT_NACK_EVERY       0x105
#define WL_OPT_CHURN            0x106           /* webrtc_load_churn.c */
#define WL_OPT_VANISH           0x107
#define WL_OPT_MOVE_EVERY       0x108           /* webrtc_load_peer.c */
#define WL_OPT_LOCAL_PORT       0x10a
#define WL_OPT_NO_RTCP          0x109
#define WL_OPT_MARKS            0x10b           /* webrtc_load_gaps.c */
#define WL_OPT_MARK_WINDOW      0x10c
#define WL_OPT_TCP              0x10d           /* webrtc_load_tcp.c */
#define WL_OPT_TCP_VIEWERS      0x10e
#define WL_OPT_TCP_PUBLISHER    0x10f
#define WL_OPT_TCP_STALL_AFTER  0x110
#define WL_OPT_TCP_STALL_FOR    0x111
#define WL_OPT_TCP_STALL_VIEWERS 0x112
#define WL_OPT_TCP_RCVBUF       0x113


typedef struct {
    int                         type;           /* WL_EV_PIPE */
    int                         fd;
    int                         go;
    pid_t                       pid;
    unsigned                    done:1;
    size_t                      got;
    wl_stats_t                  snap;
    wl_stats_t                  buf;
} wl_child_t;


static int wl_options(int argc, char **argv);
static void wl_usage(void);
static int wl_seconds(const char *s, double *v);
static int wl_setup(void);
static int wl_fork(void);
static int wl_loop(void);
static void wl_stop(void);
static int wl_all_down(void);
static int wl_teardown(void);
static void wl_snapshot(wl_stats_t *s);
static void wl_total(wl_stats_t *s);
static void wl_child_read(wl_child_t *c);
static void wl_send_go(void);
static void wl_signal_handler(int signo);


wl_conf_t                wl_conf;
wl_stats_t               wl_stats;
int                      wl_epfd = -1;
int                      wl_stopping;

static volatile sig_atomic_t  wl_signaled;

static wl_peer_t       **wl_viewers;
static unsigned          wl_nviewers;
static unsigned          wl_viewer_base;
static wl_peer_t        *wl_publisher;

static wl_child_t       *wl_procs;
static unsigned          wl_nprocs;
static int               wl_report_fd = -1;     /* a child's pipe */
static int               wl_go_fd = -1;
static unsigned          wl_go_sent;

static uint64_t          wl_rand_state;


int
main(int argc, char **argv)
{
    int  rc;

    if (wl_options(argc, argv) != 0) {
        return 1;
    }

    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, wl_signal_handler);
    signal(SIGTERM, wl_signal_handler);

    if (wl_server_init() != 0) {
        wl_log("webrtc-load: bad --pids \"%s\"", wl_conf.pids);
        return 1;
    }

    if (RAND_bytes((u_char *) &wl_rand_state, sizeof(uint64_t)) != 1) {
        return 1;
    }

    wl_rand_state |= 1;

    wl_nviewers = wl_conf.viewers;

    if (wl_conf.procs > 1 && wl_conf.viewers) {
        rc = wl_fork();

        if (rc < 0) {
            return 1;
        }

        if (rc == 1) {
            /* a child: its share of the viewers, no publisher */
            wl_conf.publish = 0;
        }
    }

    if (wl_setup() != 0) {
        return 1;
    }

    return wl_loop();
}



static int
wl_options(int argc, char **argv)
{
    int            c, rc;
    char          *end;
    double         v;
    struct rlimit  rl;

    static const struct option  options[] = {
        { "whep", required_argument, NULL, 'e' },
        { "whip", required_argument, NULL, 'i' },
        { "viewers", required_argument, NULL, 'n' },
        { "ramp", required_argument, NULL, 'r' },
        { "duration", required_argument, NULL, 'd' },
        { "insecure", no_argument, NULL, 'k' },
        { "close-notify", no_argument, NULL, 'Q' },
        { "no-rtcp", no_argument, NULL, WL_OPT_NO_RTCP },
        { "rtcp-ssrcs", required_argument, NULL, 'X' },
        { "pli-flood", required_argument, NULL, 'L' },
        { "move-every", required_argument, NULL, WL_OPT_MOVE_EVERY },
        { "local-port", required_argument, NULL, WL_OPT_LOCAL_PORT },
        { "index-check", no_argument, NULL, WL_OPT_INDEX_CHECK },
        { "dup-every", required_argument, NULL, WL_OPT_DUP_EVERY },
        { "ssrc-switch", required_argument, NULL, WL_OPT_SSRC_SWITCH },
        { "ssrc", required_argument, NULL, WL_OPT_SSRC },
        { "seq", required_argument, NULL, WL_OPT_SEQ },
        { "nack-every", required_argument, NULL, WL_OPT_NACK_EVERY },
        { "churn", required_argument, NULL, WL_OPT_CHURN },
        { "vanish", required_argument, NULL, WL_OPT_VANISH },
        { "mutate", required_argument, NULL, 'U' },
        { "mutate-rate", required_argument, NULL, 'W' },
        { "seed", required_argument, NULL, 'Z' },
        { "json", no_argument, NULL, 'j' },
        { "marks", no_argument, NULL, WL_OPT_MARKS },
        { "mark-window", required_argument, NULL, WL_OPT_MARK_WINDOW },
        { "tcp", no_argument, NULL, WL_OPT_TCP },
        { "tcp-viewers", required_argument, NULL, WL_OPT_TCP_VIEWERS },
        { "tcp-publisher", no_argument, NULL, WL_OPT_TCP_PUBLISHER },
        { "tcp-stall-after", required_argument, NULL,
          WL_OPT_TCP_STALL_AFTER },
        { "tcp-stall-for", required_argument, NULL, WL_OPT_TCP_STALL_FOR },
        { "tcp-stall-viewers", required_argument, NULL,
          WL_OPT_TCP_STALL_VIEWERS },
        { "tcp-rcvbuf", required_argument, NULL, WL_OPT_TCP_RCVBUF },
        { "publish", no_argument, NULL, 'P' },
        { "bitrate", required_argument, NULL, 'b' },
        { "fps", required_argument, NULL, 'f' },
        { "gop", required_argument, NULL, 'g' },
        { "procs", required_argument, NULL, 'p' },
        { "pids", required_argument, NULL, 'I' },
        { "nginx-pid-file", required_argument, NULL, 'N' },
        { "concurrency", required_argument, NULL, 'c' },
        { "http-timeout", required_argument, NULL, 'H' },
        { "ice-timeout", required_argument, NULL, 'C' },
        { "dtls-timeout", required_argument, NULL, 'D' },
        { "consent-interval", required_argument, NULL, 'E' },
        { "token", required_argument, NULL, 't' },
        { "cacert", required_argument, NULL, 'A' },
        { "srtp", required_argument, NULL, 'S' },
        { "dtls-ciphers", required_argument, NULL, 'T' },
        { "fingerprint", required_argument, NULL, 'F' },
        { "janus", required_argument, NULL, 'J' },
        { "mountpoint", required_argument, NULL, 'M' },
        { "rtp", required_argument, NULL, 'R' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    wl_conf.duration = 30;
    wl_conf.concurrency = 32;
    wl_conf.bitrate = 2000000;
    wl_conf.fps = 30;
    wl_conf.gop = 2;
    wl_conf.procs = 1;
    wl_conf.http_timeout = 10;
    wl_conf.ice_timeout = 10;
    wl_conf.dtls_timeout = 10;
    wl_conf.consent_interval = 5;
    wl_conf.mutate_rate = 2000;
    wl_conf.seed = 1;
    wl_conf.seq = -1;
    wl_conf.mark_window = 5;

    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {

        switch (c) {

        case 'e':
            wl_conf.whep = optarg;
            break;

        case 'i':
            wl_conf.whip = optarg;
            wl_conf.publish = 1;
            break;

        case 'n':
            wl_conf.viewers = (unsigned) strtoul(optarg, &end, 10);
            if (*end || wl_conf.viewers > WL_MAX_VIEWERS) {
                wl_log("webrtc-load: --viewers: 0 to %d", WL_MAX_VIEWERS);
                return -1;
            }
            break;

        case 'r':
            wl_conf.ramp = strtod(optarg, &end);
            if ((*end && strcmp(end, "/s") != 0) || wl_conf.ramp < 0) {
                wl_log("webrtc-load: --ramp: viewers a second, e.g. 50/s");
                return -1;
            }
            break;

        case 'd':
            if (wl_seconds(optarg, &wl_conf.duration) != 0
                || wl_conf.duration <= 0 || wl_conf.duration > 86400)
            {
                wl_log("webrtc-load: --duration: seconds, e.g. 30 or 30s");
                return -1;
            }
            break;

        case 'k':
            wl_conf.insecure = 1;
            break;

        case 'Q':
            wl_conf.close_notify = 1;
            break;

        case WL_OPT_NO_RTCP:
            wl_conf.no_rtcp = 1;
            break;

        case 'L':
            wl_conf.pli_flood = (unsigned) strtoul(optarg, &end, 10);
            if (*end || wl_conf.pli_flood == 0 || wl_conf.pli_flood > 40) {
                wl_log("webrtc-load: --pli-flood: 1 to 40");
                return -1;
            }
            break;

        case WL_OPT_INDEX_CHECK:
            wl_conf.index_check = 1;
            break;

        case WL_OPT_DUP_EVERY:
            wl_conf.dup_every = (unsigned) strtoul(optarg, &end, 10);
            if (*end || wl_conf.dup_every > 1000) {
                wl_log("webrtc-load: --dup-every: 0 to 1000");
                return -1;
            }
            break;

        case WL_OPT_NACK_EVERY:
            wl_conf.nack_every = (unsigned) strtoul(optarg, &end, 10);
            if (*end || wl_conf.nack_every > 1000) {
                wl_log("webrtc-load: --nack-every: 0 to 1000");
                return -1;
            }
            break;

        case WL_OPT_LOCAL_PORT:
            wl_conf.local_port = (unsigned) strtoul(optarg, &end, 10);
            if (*end || wl_conf.local_port == 0
                || wl_conf.local_port > 65535)
            {
                wl_log("webrtc-load: --local-port: 1 to 65535");
                return -1;
            }
            break;

        case WL_OPT_MOVE_EVERY:
            if (wl_seconds(optarg, &wl_conf.move_every) != 0
                || wl_conf.move_every <= 0)
            {
                wl_log("webrtc-load: --move-every: seconds, e.g. 2");
                return -1;
            }
            break;

        case WL_OPT_SSRC_SWITCH:
            if (wl_seconds(optarg, &wl_conf.ssrc_switch) != 0
                || wl_conf.ssrc_switch <= 0)
            {
                wl_log("webrtc-load: --ssrc-switch: seconds, e.g. 2");
                return -1;
            }
            break;

        case WL_OPT_SSRC:
            wl_conf.ssrc = (uint32_t) strtoul(optarg, &end, 10);
            if (*end || wl_conf.ssrc == 0 || wl_conf.ssrc == 0xffffffff) {
                wl_log("webrtc-load: --ssrc: 1 to 4294967294");
                return -1;
            }
            break;

        case WL_OPT_SEQ:
            wl_conf.seq = (int) strtol(optarg, &end, 10);
            if (*end || wl_conf.seq < 0 || wl_conf.seq > 65535) {
                wl_log("webrtc-load: --seq: 0 to 65535");
                return -1;
            }
            break;

        case 'X':
            wl_conf.rtcp_ssrcs = (unsigned) strtoul(optarg, &end, 10);
            if (*end || wl_conf.rtcp_ssrcs > 1000) {
                wl_log("webrtc-load: --rtcp-ssrcs: 0 to 1000");
                return -1;
            }
            break;

        case WL_OPT_CHURN:
            wl_conf.churn_min = strtod(optarg, &end);
            wl_conf.churn_max = (*end == ':') ? strtod(end + 1, &end) : 0;

            if (*end || wl_conf.churn_min < 1
                || wl_conf.churn_max < wl_conf.churn_min)
            {
                wl_log("webrtc-load: --churn: MIN:MAX seconds, e.g. 20:90");
                return -1;
            }
            break;

        case WL_OPT_VANISH:
            wl_conf.vanish = (unsigned) strtoul(optarg, &end, 10);
            if (*end || wl_conf.vanish > 100) {
                wl_log("webrtc-load: --vanish: 0 to 100 (%%)");
                return -1;
            }
            break;

        case 'U':
            wl_conf.mutate = (unsigned) strtoul(optarg, &end, 10);
            if (*end || wl_conf.mutate > WL_MUTATE_MAX) {
                wl_log("webrtc-load: --mutate: 0 to %d", WL_MUTATE_MAX);
                return -1;
            }
            break;

        case 'W':
            wl_conf.mutate_rate = (unsigned) strtoul(optarg, &end, 10);
            if ((*end && strcmp(end, "/s") != 0) || wl_conf.mutate_rate < 1
                || wl_conf.mutate_rate > 20000)
            {
                wl_log("webrtc-load: --mutate-rate: 1 to 20000 a second");
                return -1;
            }
            break;

        case 'Z':
            wl_conf.seed = strtoull(optarg, &end, 0);
            if (*end || optarg[0] == '\0' || optarg[0] == '-') {
                wl_log("webrtc-load: --seed: a number");
                return -1;
            }
            break;

        case 'j':
            wl_conf.json = 1;
            break;

        case 'P':
            wl_conf.publish = 1;
            break;

        case 'b':
            v = strtod(optarg, &end);
            if (*end == 'k' || *end == 'K') {
                v *= 1000;
                end++;

            } else if (*end == 'm' || *end == 'M') {
                v *= 1000000;
                end++;
            }

            if (*end || v < 10000 || v > 200000000) {
                wl_log("webrtc-load: --bitrate: 10k to 200M");
                return -1;
            }

            wl_conf.bitrate = (uint64_t) v;
            break;

        case 'f':
            wl_conf.fps = strtod(optarg, &end);
            if (*end || wl_conf.fps < 1 || wl_conf.fps > 240) {
                wl_log("webrtc-load: --fps: 1 to 240");
                return -1;
            }
            break;

        case 'g':
            if (wl_seconds(optarg, &wl_conf.gop) != 0 || wl_conf.gop <= 0
                || wl_conf.gop > 600)
            {
                wl_log("webrtc-load: --gop: seconds, e.g. 2s");
                return -1;
            }
            break;

        case WL_OPT_MARKS:
            wl_conf.marks = 1;
            break;

        case WL_OPT_MARK_WINDOW:
            if (wl_seconds(optarg, &wl_conf.mark_window) != 0
                || wl_conf.mark_window <= 0 || wl_conf.mark_window > 3600)
            {
                wl_log("webrtc-load: --mark-window: seconds, e.g. 5 or "
                       "500ms");
                return -1;
            }
            break;

        case WL_OPT_TCP:
            wl_conf.tcp_viewers = WL_MAX_VIEWERS;
            break;

        case WL_OPT_TCP_VIEWERS:
            wl_conf.tcp_viewers = (unsigned) strtoul(optarg, &end, 10);
            if (*end || wl_conf.tcp_viewers > WL_MAX_VIEWERS) {
                wl_log("webrtc-load: --tcp-viewers: 0 to %d",
                       WL_MAX_VIEWERS);
                return -1;
            }
            break;

        case WL_OPT_TCP_PUBLISHER:
            wl_conf.tcp_publisher = 1;
            break;

        case WL_OPT_TCP_STALL_AFTER:
        case WL_OPT_TCP_STALL_FOR:
            if (wl_seconds(optarg, &v) != 0 || v <= 0 || v > 3600) {
                wl_log("webrtc-load: --tcp-stall-after, --tcp-stall-for: "
                       "seconds, e.g. 5 or 500ms");
                return -1;
            }

            if (c == WL_OPT_TCP_STALL_AFTER) {
                wl_conf.tcp_stall_after = v;

            } else {
                wl_conf.tcp_stall_for = v;
            }
            break;

        case WL_OPT_TCP_STALL_VIEWERS:
            wl_conf.tcp_stall_viewers = (unsigned) strtoul(optarg, &end, 10);
            if (*end || wl_conf.tcp_stall_viewers == 0
                || wl_conf.tcp_stall_viewers > WL_MAX_VIEWERS)
            {
                wl_log("webrtc-load: --tcp-stall-viewers: 1 to %d",
                       WL_MAX_VIEWERS);
                return -1;
            }
            break;

        case WL_OPT_TCP_RCVBUF:
            wl_conf.tcp_rcvbuf = (unsigned) strtoul(optarg, &end, 10);
            if (*end || wl_conf.tcp_rcvbuf < 1024
                || wl_conf.tcp_rcvbuf > 64 * 1024 * 1024)
            {
                wl_log("webrtc-load: --tcp-rcvbuf: bytes, 1024 or more");
                return -1;
            }
            break;

        case 'p':
            wl_conf.procs = (unsigned) strtoul(optarg, &end, 10);
            if (*end || wl_conf.procs < 1 || wl_conf.procs > WL_MAX_PROCS) {
                wl_log("webrtc-load: --procs: 1 to %d", WL_MAX_PROCS);
                return -1;
            }
            break;

        case 'I':
            wl_conf.pids = optarg;
            break;

        case 'N':
            wl_conf.nginx_pid_file = optarg;
            break;

        case 'c':
            wl_conf.concurrency = (unsigned) strtoul(optarg, &end, 10);
            if (*end || wl_conf.concurrency < 1
                || wl_conf.concurrency > 10000)
            {
                wl_log("webrtc-load: --concurrency: 1 to 10000");
                return -1;
            }
            break;

        case 'H':
        case 'C':
        case 'D':
        case 'E':
            if (wl_seconds(optarg, &v) != 0 || v <= 0 || v > 300) {
                wl_log("webrtc-load: timeouts and intervals: seconds, "
                       "up to 300");
                return -1;
            }

            if (c == 'H') {
                wl_conf.http_timeout = v;

            } else if (c == 'C') {
                wl_conf.ice_timeout = v;

            } else if (c == 'D') {
                wl_conf.dtls_timeout = v;

            } else {
                wl_conf.consent_interval = v;
            }

            break;

        case 't':
            wl_conf.token = optarg;
            break;

        case 'A':
            wl_conf.cacert = optarg;
            break;

        case 'S':
            if (strcmp(optarg, "gcm") == 0) {
                wl_conf.srtp_profiles = "SRTP_AEAD_AES_128_GCM";

            } else if (strcmp(optarg, "cm") == 0) {
                wl_conf.srtp_profiles = "SRTP_AES128_CM_SHA1_80";

            } else if (strcmp(optarg, "both") != 0) {
                wl_log("webrtc-load: --srtp: gcm, cm or both");
                return -1;
            }
            break;

        case 'T':
            wl_conf.dtls_ciphers = optarg;
            break;

        case 'F':
            if (strcmp(optarg, "sha-256") != 0 && strcmp(optarg, "both") != 0
                && strcmp(optarg, "weak") != 0)
            {
                wl_log("webrtc-load: --fingerprint: sha-256, both or weak");
                return -1;
            }

            wl_conf.fingerprint = optarg;
            break;

        case 'J':
            wl_conf.janus = optarg;
            break;

        case 'M':
            wl_conf.mountpoint = optarg;
            break;

        case 'R':
            wl_conf.rtp = optarg;
            wl_conf.publish = 1;
            break;

        case 'h':
            wl_usage();
            exit(0);

        default:
            wl_usage();
            return -1;
        }
    }

    if (optind != argc) {
        wl_usage();
        return -1;
    }

    if (wl_conf.viewers == 0 && !wl_conf.publish) {
        wl_log("webrtc-load: nothing to do: --viewers N with --whep or "
               "--janus, or --publish with --whip or --rtp");
        return -1;
    }

    if (wl_conf.viewers && (wl_conf.whep == NULL) == (wl_conf.janus == NULL))
    {
        wl_log("webrtc-load: --viewers needs --whep URL or --janus URL");
        return -1;
    }

    if (wl_conf.publish && (wl_conf.whip == NULL) == (wl_conf.rtp == NULL)) {
        wl_log("webrtc-load: --publish needs --whip URL or --rtp "
               "HOST:AUDIO_PORT:VIDEO_PORT");
        return -1;
    }

    if (wl_conf.churn_max
        && (wl_conf.mutate || wl_conf.janus || wl_conf.close_notify))
    {
        wl_log("webrtc-load: --churn: not with --mutate, --janus, "
               "--close-notify");
        return -1;
    }

    if (wl_conf.no_rtcp
        && (wl_conf.pli_flood || wl_conf.move_every || wl_conf.nack_every
            || wl_conf.rtcp_ssrcs))
    {
        wl_log("webrtc-load: --no-rtcp: not with --pli-flood, --move-every, "
               "--nack-every, --rtcp-ssrcs");
        return -1;
    }

    if (wl_conf.mutate && (wl_conf.janus || wl_conf.rtp)) {
        wl_log("webrtc-load: --mutate: WHIP and WHEP peers only");
        return -1;
    }

    if (wl_janus_conf() != 0 || wl_tcp_conf() != 0) {
        return -1;
    }

    /* the network rule: loopback only */

    if (wl_conf.whep) {
        rc = wl_url_parse(&wl_conf.whep_url, wl_conf.whep);

        if (rc != 0) {
            wl_log("webrtc-load: --whep \"%s\": %s", wl_conf.whep,
                   rc == -2 ? "only loopback addresses are allowed"
                            : "expected http[s]://127.0.0.1|[::1]|localhost"
                              "[:port]/path");
            return -1;
        }
    }

    if (wl_conf.whip) {
        rc = wl_url_parse(&wl_conf.whip_url, wl_conf.whip);

        if (rc != 0) {
            wl_log("webrtc-load: --whip \"%s\": %s", wl_conf.whip,
                   rc == -2 ? "only loopback addresses are allowed"
                            : "expected http[s]://127.0.0.1|[::1]|localhost"
                              "[:port]/path");
            return -1;
        }
    }

    if (wl_conf.procs > wl_conf.viewers && wl_conf.viewers) {
        wl_conf.procs = wl_conf.viewers;
    }

    /* a UDP socket per viewer and a TCP one per request in flight */

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        (void) setrlimit(RLIMIT_NOFILE, &rl);
        (void) getrlimit(RLIMIT_NOFILE, &rl);

        if (rl.rlim_cur < (rlim_t) (wl_conf.viewers / wl_conf.procs
                                    + wl_conf.concurrency + 64))
        {
            wl_log("webrtc-load: %u viewers need more open files than "
                   "RLIMIT_NOFILE %llu: use --procs", wl_conf.viewers,
                   (unsigned long long) rl.rlim_cur);
            return -1;
        }
    }

    return 0;
}


static void
wl_usage(void)
{
    fprintf(stderr,
        "usage: webrtc-load --whep URL --viewers N [--ramp R/s] "
        "[--duration S]\n"
        "       webrtc-load --whip URL --publish [--duration S] "
        "[--bitrate 2000k]\n"
        "                   [--fps 30] [--gop 2s]\n"
        "\n"
        "  --whep URL            WHEP endpoint, http[s]://loopback[:port]/"
        "path\n"
        "  --viewers N           viewers to run (one UDP socket each)\n"
        "  --ramp R/s            start R viewers a second (default: as "
        "fast as\n"
        "                        --concurrency signaling requests allow)\n"
        "  --concurrency C       POSTs and DELETEs in flight (32)\n"
        "  --procs P             fork P processes, N/P viewers each\n"
        "  --whip URL            WHIP endpoint; implies --publish\n"
        "  --publish             publish a synthetic VP8 + Opus stream\n"
        "  --bitrate B           video bitrate, e.g. 2000k or 2M (2000k)\n"
        "  --fps F               video frames a second (30)\n"
        "  --gop S               key frame interval (2s)\n"
        "  --duration S          run this long, then DELETE and exit (30)\n"
        "  --insecure            do not verify the HTTPS certificate\n"
        "  --close-notify        viewers end with a DTLS close_notify, as\n"
        "                        a browser's pc.close(), not a DELETE; a\n"
        "                        copy with a broken tag goes first\n"
        "  --no-rtcp             viewers send no RTCP at all (no receiver\n"
        "                        reports): after DTLS only consent checks\n"
        "  --pli-flood N         viewers send their receiver report 50\n"
        "                        times a second, each with N PLIs (abuse)\n"
        "  --local-port P        the first viewer's UDP port (a client\n"
        "                        that comes back from the same address)\n"
        "  --move-every S        viewers move to a new UDP port every S\n"
        "                        seconds, as on a network change: a\n"
        "                        nominating check, then their RTCP from it\n"
        "  --index-check         viewers count SRTP indices of an SSRC\n"
        "                        that came twice with other bytes\n"
        "                        (nonce_reuse) or the same (index_repeats)\n"
        "  --nack-every N        with --index-check, after every Nth video\n"
        "                        packet a NACK for the one 3 before: its\n"
        "                        resend must come with the same bytes\n"
        "  --dup-every N         the publisher sends an earlier video\n"
        "                        packet again with other bytes after every\n"
        "                        Nth: the last, or one 1100 back, in turn\n"
        "  --ssrc-switch S       S s in, the publisher's video SSRC changes\n"
        "                        and its first two packets go out swapped\n"
        "  --ssrc N, --seq N     the publisher's video SSRC (audio N + 1)\n"
        "                        and first sequence numbers\n"
        "  --rtcp-ssrcs N        each receiver report goes out N times,\n"
        "                        from N sender SSRCs (an abusive peer)\n"
        "  --churn MIN:MAX       viewers come and go: each leaves after\n"
        "                        MIN to MAX s (the first ones from 5 s)\n"
        "                        with a DELETE and a new one takes its\n"
        "                        place, for the whole --duration\n"
        "  --vanish PCT          PCT %% of those leave without a DELETE:\n"
        "                        their socket closed, nothing sent (0)\n"
        "  --mutate N            once all peers are up with media, each\n"
        "                        sends N mutated copies of its own STUN,\n"
        "                        DTLS, SRTP, SRTCP datagrams and random\n"
        "                        ones on its session's 5-tuple, then\n"
        "                        stops; media is measured after it\n"
        "  --mutate-rate R       mutated datagrams a second, all peers\n"
        "                        together (2000)\n"
        "  --seed S              of the mutations' PRNG (1)\n"
        "  --cacert FILE         verify it with these CA certificates\n"
        "  --token T             Authorization: Bearer T\n"
        "  --srtp gcm|cm|both    SRTP profiles to offer (both)\n"
        "  --dtls-ciphers LIST   DTLS cipher suites to offer, OpenSSL's\n"
        "                        names (ECDHE with AES-GCM, ChaCha20)\n"
        "  --fingerprint F       a=fingerprint lines of the offers: sha-256\n"
        "                        (the default), both (sha-256 and sha-1),\n"
        "                        weak (a wrong sha-256, the right sha-1)\n"
        "  --http-timeout S      signaling request timeout (10)\n"
        "  --ice-timeout S       ICE timeout (10)\n"
        "  --dtls-timeout S      DTLS handshake timeout (10)\n"
        "  --consent-interval S  ICE consent checks (5); one without a\n"
        "                        response in 2 s is counted in\n"
        "                        consent_unanswered\n"
        "  --pids P,P            server processes to measure (nginx, "
        "Janus)\n"
        "  --nginx-pid-file F    measure the children of this master\n"
        "  --json                JSON lines on stdout\n"
        "  --marks               each line on stdin marks an event now,\n"
        "                        labelled by the line (\"reload\"): the\n"
        "                        summary has the viewers' gaps around\n"
        "                        each and per label, and those lost\n"
        "  --mark-window S       a mark's gaps start before S s after it\n"
        "                        or the next mark (5)\n"
        "\n"
        "  ICE-TCP (RFC 6544 passive, RFC 4571 framing):\n"
        "  --tcp                 every viewer on the answer's TCP candidate\n"
        "  --tcp-viewers N       the first N viewers over TCP, the others\n"
        "                        over UDP; a JSON line per viewer at the end\n"
        "  --tcp-publisher       the publisher over TCP too\n"
        "  --tcp-stall-after S   the first --tcp-stall-viewers M (1) TCP\n"
        "  --tcp-stall-for D     viewers stop reading S s after the start,\n"
        "                        for D s, then read again: what they got, a\n"
        "                        key frame after it\n"
        "  --tcp-rcvbuf B        their SO_RCVBUF (4096)\n"
        "\n"
        "  Janus (its streaming plugin):\n"
        "  --janus URL           viewers through the HTTP API, e.g.\n"
        "                        http://127.0.0.1:18088/janus\n"
        "  --mountpoint ID       the mountpoint they watch (1)\n"
        "  --rtp HOST:AP:VP      publish as plain RTP to the mountpoint's "
        "ports\n"
        "                        (Opus pt 111 to AP, VP8 pt 96 to VP); "
        "implies\n"
        "                        --publish\n"
        "\n"
        "Viewers' media stalls: a gap of over 1 s between RTP packets while\n"
        "the publisher is live (this process's, or assumed during the run\n"
        "without one) is counted in stalls, stalled_viewers, max_gap_ms; a\n"
        "viewer's longest gap, over the viewers: gap_p50_ms, gap_p99_ms,\n"
        "gap_max_ms (= max_gap_ms); a\n"
        "viewer with no RTP for over 1 s when the run ends failed "
        "(stalled).\n"
        "\n"
        "Only loopback addresses are used.  Exit status: 0, or 3 if a peer "
        "failed.\n");
}


/* "2", "2s", "1.5s", "500ms" */

static int
wl_seconds(const char *s, double *v)
{
    char  *end;

    *v = strtod(s, &end);

    if (end == s) {
        return -1;
    }

    if (strcmp(end, "ms") == 0) {
        *v /= 1000;
        return 0;
    }

    if (*end == '\0' || strcmp(end, "s") == 0) {
        return 0;
    }

    return -1;
}


/*
 * --procs: children get their share of the viewers; 1 in a child, 0 in
 * the parent, -1 on error.
 */

static int
wl_fork(void)
{
    int          sp[2], gp[2];
    pid_t        pid;
    unsigned     i, base, n;
    wl_child_t  *c;

    wl_procs = calloc(wl_conf.procs, sizeof(wl_child_t));
    wl_children = calloc(wl_conf.procs, sizeof(pid_t));

    if (wl_procs == NULL || wl_children == NULL) {
        return -1;
    }

    fflush(stdout);
    fflush(stderr);

    /* --mutate-rate is for all processes: the children and the parent */

    wl_conf.mutate_rate = (wl_conf.mutate_rate + wl_conf.procs)
                          / (wl_conf.procs + 1);

    for (i = 0, base = 0; i < wl_conf.procs; i++, base += n) {
        n = wl_conf.viewers / wl_conf.procs
            + (i < wl_conf.viewers % wl_conf.procs);

        if (pipe2(sp, O_CLOEXEC) == -1 || pipe2(gp, O_CLOEXEC) == -1) {
            wl_log("webrtc-load: pipe(): %s", strerror(errno));
            return -1;
        }

        pid = fork();

        if (pid == -1) {
            wl_log("webrtc-load: fork(): %s", strerror(errno));
            return -1;
        }

        if (pid == 0) {
            close(sp[0]);
            close(gp[1]);

            for (c = wl_procs; c < wl_procs + i; c++) {
                close(c->fd);
                close(c->go);
            }

            free(wl_procs);
            wl_procs = NULL;
            wl_nprocs = 0;
            wl_nchildren = 0;

            wl_report_fd = sp[1];
            wl_go_fd = gp[0];
            wl_nviewers = n;
            wl_viewer_base = base;
            wl_conf.ramp /= wl_conf.procs;
            wl_conf.concurrency = (wl_conf.concurrency + wl_conf.procs - 1)
                                  / wl_conf.procs;

            (void) RAND_bytes((u_char *) &wl_rand_state, sizeof(uint64_t));
            wl_rand_state |= 1;

            /* the mutations of each child, reproducible too */
            wl_conf.seed += i + 1;

            return 1;
        }

        close(sp[1]);
        close(gp[0]);

        c = &wl_procs[i];
        c->type = WL_EV_PIPE;
        c->fd = sp[0];
        c->go = gp[1];
        c->pid = pid;

        (void) fcntl(c->fd, F_SETFL, O_NONBLOCK);

        wl_children[i] = pid;
        wl_nprocs++;
        wl_nchildren++;
    }

    /* the parent runs only the publisher, if any */

    wl_nviewers = 0;

    return 0;
}


static int
wl_setup(void)
{
    unsigned            i;
    struct epoll_event  ee;

    wl_epfd = epoll_create1(EPOLL_CLOEXEC);
    if (wl_epfd == -1) {
        wl_log("webrtc-load: epoll_create1(): %s", strerror(errno));
        return -1;
    }

    if (wl_http_init() != 0 || wl_peer_init() != 0) {
        return -1;
    }

    for (i = 0; i < wl_nprocs; i++) {
        ee.events = EPOLLIN;
        ee.data.ptr = &wl_procs[i];

        if (epoll_ctl(wl_epfd, EPOLL_CTL_ADD, wl_procs[i].fd, &ee) == -1) {
            return -1;
        }
    }

    if (wl_nviewers) {
        wl_viewers = calloc(wl_nviewers, sizeof(wl_peer_t *));
        if (wl_viewers == NULL) {
            return -1;
        }

        for (i = 0; i < wl_nviewers; i++) {
            wl_viewers[i] = wl_peer_create(WL_ROLE_VIEWER, wl_viewer_base + i);
            if (wl_viewers[i] == NULL) {
                wl_log("webrtc-load: out of memory");
                return -1;
            }
        }

        if (wl_conf.churn_max && wl_churn_init(wl_nviewers) != 0) {
            return -1;
        }
    }

    if (wl_conf.publish) {
        wl_publisher = wl_peer_create(WL_ROLE_PUBLISHER, 0);
        if (wl_publisher == NULL) {
            return -1;
        }
    }

    wl_stats.magic = WL_STATS_MAGIC;

    return 0;
}


static int
wl_loop(void)
{
    int                  i, n, ms, go, done;
    void                *ptr;
    int64_t              now, start, end, next_report, last_report, t;
    int64_t              last_scan, go_time, hard_end, next_http;
    int64_t              next_mutate;
    unsigned             launch;
    wl_peer_t           *p;
    wl_stats_t          *total, *prev;
    struct pollfd        pfd;
    struct epoll_event   events[512];

    total = calloc(2, sizeof(wl_stats_t));
    if (total == NULL) {
        return 1;
    }

    prev = total + 1;

    if (wl_go_fd != -1) {
        /* a child waits until the parent's publisher is up (bounded) */
        pfd.fd = wl_go_fd;
        pfd.events = POLLIN;
        (void) poll(&pfd, 1, (int) (wl_conf.http_timeout
                                    + wl_conf.ice_timeout
                                    + wl_conf.dtls_timeout) * 1000);
    }

    start = wl_now();
    end = start + (int64_t) (wl_conf.duration * WL_SEC);
    wl_tcp_t0 = start;
    hard_end = 0;
    next_report = start + WL_SEC;
    last_report = start;
    last_scan = start;
    next_http = 0;
    next_mutate = wl_conf.mutate ? start : 0;
    launch = 0;
    go = 0;
    go_time = 0;

    if (wl_report_fd == -1) {
        wl_report_start();
    }

    /* --marks: from stdin, in a child from its parent */

    if (wl_conf.marks
        && wl_marks_init(wl_go_fd != -1 ? wl_go_fd : STDIN_FILENO,
                         wl_go_fd != -1, start, wl_viewers, wl_nviewers)
           != 0)
    {
        free(total);
        return 1;
    }

    if (wl_publisher) {
        if (wl_conf.rtp) {
            (void) wl_janus_rtp_start(wl_publisher);

        } else {
            wl_peer_start(wl_publisher);
        }
    }

    for ( ;; ) {
        now = wl_now();

        t = next_report;

        if (!wl_stopping && end < t) {
            t = end;
        }

        if (wl_publisher && wl_publisher->timer && wl_publisher->timer < t) {
            t = wl_publisher->timer;
        }

        if (next_http && next_http < t) {
            t = next_http;
        }

        if (next_mutate && next_mutate < t) {
            t = next_mutate;
        }

        if (now + WL_TICK < t) {
            t = now + WL_TICK;
        }

        ms = t > now ? (int) ((t - now + WL_MS - 1) / WL_MS) : 0;

        n = epoll_wait(wl_epfd, events, 512, ms);

        if (n == -1 && errno != EINTR) {
            wl_log("webrtc-load: epoll_wait(): %s", strerror(errno));
            return 1;
        }

        for (i = 0; i < n; i++) {
            ptr = events[i].data.ptr;

            switch (*(int *) ptr) {

            case WL_EV_PEER:
                wl_peer_event(ptr);
                break;

            case WL_EV_HTTP:
                wl_http_event(ptr);
                break;

            case WL_EV_PIPE:
                wl_child_read(ptr);
                break;

            case WL_EV_JANUS:
                wl_janus_event(ptr);
                break;

            case WL_EV_MARK:
                wl_marks_event(ptr);
                break;
            }
        }

        now = wl_now();

        if (!wl_stopping
            && (wl_signaled || now >= end
                || (launch == wl_nviewers && wl_all_down())))
        {
            wl_stop();
            hard_end = now + (int64_t) ((wl_conf.http_timeout + 5) * WL_SEC);
        }

        /* viewers start when the publisher of this process is up */

        if (!go && (wl_publisher == NULL
                    || wl_publisher->state >= WL_PEER_CONNECTED))
        {
            go = 1;
            go_time = now;
            wl_send_go();
        }

        while (go && !wl_stopping && launch < wl_nviewers
               && wl_http_active < wl_conf.concurrency
               && (wl_conf.ramp == 0
                   || now >= go_time + (int64_t) (launch * WL_SEC
                                                  / wl_conf.ramp)))
        {
            if (wl_conf.janus) {
                wl_janus_start(wl_viewers[launch++]);

            } else {
                wl_peer_start(wl_viewers[launch++]);
            }
        }

        if (wl_publisher && wl_publisher->timer
            && now >= wl_publisher->timer)
        {
            wl_peer_timer(wl_publisher, now);
        }

        if (now - last_scan >= WL_TICK) {
            last_scan = now;

            if (wl_conf.janus) {
                wl_janus_timers(now);
            }

            for (i = 0; i < (int) wl_nviewers; i++) {
                p = wl_viewers[i];

                if (p->timer && now >= p->timer) {
                    wl_peer_timer(p, now);
                }

                if (p->stall) {
                    wl_tcp_stall(p, now);
                }
            }

            if (wl_conf.churn_max) {
                wl_churn(wl_viewers, wl_nviewers, now);
            }
        }

        next_http = wl_http_timers(now);

        if (next_mutate && now >= next_mutate) {
            next_mutate = wl_mutate_timer(wl_publisher, wl_viewers,
                                          wl_nviewers, now);
        }

        done = 0;

        if (wl_stopping) {
            done = wl_teardown();

            for (i = 0; i < (int) wl_nprocs; i++) {
                if (!wl_procs[i].done) {
                    done = 0;
                }
            }

            if (now >= hard_end) {
                if (!done) {
                    wl_log("webrtc-load: teardown did not finish in time");
                }

                done = 1;
            }
        }

        if (now >= next_report || done) {
            if (wl_report_fd != -1) {
                wl_snapshot(total);
                total->done = done;

                if (write(wl_report_fd, total, sizeof(wl_stats_t))
                    != (ssize_t) sizeof(wl_stats_t))
                {
                    /* the parent is gone */
                    done = 1;
                }

            } else if (now >= next_report) {
                wl_total(total);
                wl_report(total, prev, (now - start) / 1e9,
                          (now - last_report) / 1e9, 0);
                *prev = *total;
            }

            last_report = now;
            next_report += WL_SEC;

            if (next_report <= now) {
                next_report = now + WL_SEC;
            }
        }

        if (done) {
            break;
        }
    }

    wl_tcp_lines(wl_viewers, wl_nviewers, wl_now());

    if (wl_report_fd != -1) {
        /* a child: the parent reports */
        free(total);
        return (wl_stats.failed || wl_stats.pub_failed) ? 3 : 0;
    }

    for (i = 0; i < (int) wl_nprocs; i++) {
        if (!wl_procs[i].done) {
            kill(wl_procs[i].pid, SIGKILL);
        }

        (void) waitpid(wl_procs[i].pid, NULL, 0);
    }

    wl_total(total);
    wl_report(total, prev, (wl_now() - start) / 1e9, 0, 1);

    n = (total->failed || total->pub_failed) ? 3 : 0;

    free(total);

    return n;
}


static void
wl_stop(void)
{
    unsigned    i;
    int64_t     now;
    wl_peer_t  *p;

    /*
     * a viewer whose media stopped for good was not served: it failed;
     * what its socket holds is read first, so that this process's own
     * wait for the CPU (a busy host) is not taken for a stall: an RTP
     * packet's time is the kernel's receive timestamp
     */

    for (i = 0; i < wl_nviewers; i++) {
        p = wl_viewers[i];

        if (p->role == WL_ROLE_VIEWER && p->state == WL_PEER_CONNECTED
            && p->fd != -1)
        {
            wl_peer_event(p);
        }
    }

    now = wl_now();

    for (i = 0; i < wl_nviewers; i++) {
        (void) wl_view_stalled(wl_viewers[i], now);
    }

    /* the server ends a session on its close_notify: nothing to DELETE */

    for (i = 0; wl_conf.close_notify && i < wl_nviewers; i++) {
        p = wl_viewers[i];

        if (p->state == WL_PEER_CONNECTED && p->ssl
            && wl_peer_close_notify(p) == 0)
        {
            p->deleting = 1;
            p->deleted = 1;
        }
    }

    /* the counters of the run are final before the media stops */

    wl_snapshot(&wl_stats);

    wl_stopping = 1;

    for (i = 0; i < wl_nprocs; i++) {
        if (wl_signaled && !wl_procs[i].done) {
            kill(wl_procs[i].pid, SIGTERM);
        }
    }

    for (i = 0; i < wl_nviewers; i++) {
        wl_peer_close(wl_viewers[i]);
    }

    if (wl_publisher) {
        wl_peer_close(wl_publisher);
    }
}


/*
 * A viewer's gaps count while its publisher is live: this process's
 * publisher is up, or (without one) the stream's publisher is assumed
 * to be, as when viewers are run during a publisher's --duration.
 */

int
wl_publisher_live(void)
{
    return wl_publisher == NULL || wl_conf.rtp
           || wl_publisher->state == WL_PEER_CONNECTED;
}


/* nothing left to run: every peer failed or closed, every child done */

static int
wl_all_down(void)
{
    unsigned  i;

    if (wl_publisher && wl_publisher->state < WL_PEER_FAILED) {
        return 0;
    }

    for (i = 0; i < wl_nviewers; i++) {
        if (wl_viewers[i]->state < WL_PEER_FAILED) {
            return 0;
        }
    }

    for (i = 0; i < wl_nprocs; i++) {
        if (!wl_procs[i].done) {
            return 0;
        }
    }

    return 1;
}


/* DELETE every session, viewers first; 1 when all are done */

static int
wl_teardown(void)
{
    int         busy;
    unsigned    i;
    wl_peer_t  *p;

    busy = (wl_conf.janus || wl_conf.rtp) ? !wl_janus_teardown() : 0;

    for (i = 0; i <= wl_nviewers; i++) {
        p = (i < wl_nviewers) ? wl_viewers[i] : wl_publisher;

        if (p == NULL) {
            continue;
        }

        if (p->location[0] && !p->deleting
            && wl_http_active < wl_conf.concurrency)
        {
            (void) wl_peer_delete(p);
        }

        if (p->http || (p->location[0] && !p->deleted)) {
            busy = 1;
        }
    }

    return !busy;
}


/* this process's counters, with its gauges up to date */

static void
wl_snapshot(wl_stats_t *s)
{
    unsigned    i;
    uint64_t    up, waiting, min;
    wl_peer_t  *p;

    up = 0;
    waiting = 0;
    min = 0;

    if (!wl_stopping) {
        for (i = 0; i < wl_nviewers; i++) {
            p = wl_viewers[i];

            if (p->state == WL_PEER_CONNECTED) {
                up++;

                if (!p->got_first) {
                    waiting++;
                }
            }

            if (i == 0 || p->rtp_packets < min) {
                min = p->rtp_packets;
            }
        }

        wl_stats.connected_now = up;
        wl_stats.waiting = waiting;
        wl_stats.min_rtp = min;

        wl_gaps_snapshot(&wl_stats.gaps, wl_viewers, wl_nviewers);

        if (wl_conf.mutate) {
            wl_mutate_gauges(wl_publisher, wl_viewers, wl_nviewers,
                             wl_now());
        }
    }

    wl_stats.viewers = wl_nviewers;
    wl_stats.magic = WL_STATS_MAGIC;

    if (s != &wl_stats) {
        *s = wl_stats;
    }
}


static void
wl_total(wl_stats_t *s)
{
    unsigned  i;

    memset(s, 0, sizeof(wl_stats_t));

    if (wl_nviewers || wl_nprocs == 0) {
        wl_snapshot(s);

    } else {
        /* the publisher's counters; viewers are in the children */
        wl_snapshot(s);
        s->viewers = 0;
    }

    for (i = 0; i < wl_nprocs; i++) {
        if (wl_procs[i].snap.magic == WL_STATS_MAGIC) {
            wl_stats_add(s, &wl_procs[i].snap);
        }
    }

    if (wl_nprocs) {
        /* before the children's first reports too */
        s->viewers = wl_conf.viewers;
    }
}


static void
wl_child_read(wl_child_t *c)
{
    ssize_t  n;

    for ( ;; ) {
        n = read(c->fd, (u_char *) &c->buf + c->got,
                 sizeof(wl_stats_t) - c->got);

        if (n > 0) {
            c->got += n;

            if (c->got == sizeof(wl_stats_t)) {
                c->got = 0;

                if (c->buf.magic == WL_STATS_MAGIC) {
                    c->snap = c->buf;

                    if (c->snap.done) {
                        c->done = 1;
                    }
                }
            }

            continue;
        }

        if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            /* the child exited */
            (void) epoll_ctl(wl_epfd, EPOLL_CTL_DEL, c->fd, NULL);
            close(c->fd);
            c->fd = -1;

            if (!c->done) {
                wl_log("webrtc-load: process %d exited early",
                       (int) c->pid);
                c->done = 1;
            }
        }

        return;
    }
}


static void
wl_send_go(void)
{
    unsigned  i;

    if (wl_go_sent) {
        return;
    }

    wl_go_sent = 1;

    for (i = 0; i < wl_nprocs; i++) {
        if (wl_conf.marks) {
            /* the pipe carries the marks next */
            (void) write(wl_procs[i].go, "g\n", 2);
            continue;
        }

        (void) write(wl_procs[i].go, "g", 1);
        close(wl_procs[i].go);
        wl_procs[i].go = -1;
    }
}


/* --marks: to the children, once they run */

void
wl_children_mark(const char *line, size_t len)
{
    unsigned  i;

    if (!wl_go_sent) {
        if (wl_nprocs) {
            wl_log("webrtc-load: a mark before the viewers started: only "
                   "the publisher's");
        }

        return;
    }

    for (i = 0; i < wl_nprocs; i++) {
        if (wl_procs[i].go != -1
            && write(wl_procs[i].go, line, len) != (ssize_t) len)
        {
            wl_log("webrtc-load: a mark to process %d: %s",
                   (int) wl_procs[i].pid, strerror(errno));
        }
    }
}


static void
wl_signal_handler(int signo)
{
    (void) signo;

    if (wl_signaled++) {
        _exit(130);
    }
}


int64_t
wl_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (int64_t) ts.tv_sec * WL_SEC + ts.tv_nsec;
}


void
wl_log(const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);

    fputc('\n', stderr);
}


/* xorshift64*: sizes and payload bytes, not secrets */

uint32_t
wl_random32(void)
{
    wl_rand_state ^= wl_rand_state >> 12;
    wl_rand_state ^= wl_rand_state << 25;
    wl_rand_state ^= wl_rand_state >> 27;

    return (uint32_t) ((wl_rand_state * 0x2545f4914f6cdd1dULL) >> 32);
}


/* ICE credentials, tie-breakers: from the CSPRNG */

void
wl_random_fill(u_char *p, size_t len)
{
    if (RAND_bytes(p, (int) len) != 1) {
        while (len--) {
            *p++ = (u_char) wl_random32();
        }
    }
}


int
wl_loopback(const struct sockaddr *sa)
{
    const u_char               *a;
    const struct sockaddr_in   *sin;
    const struct sockaddr_in6  *sin6;

    if (sa->sa_family == AF_INET) {
        sin = (const struct sockaddr_in *) sa;
        return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
    }

    if (sa->sa_family == AF_INET6) {
        sin6 = (const struct sockaddr_in6 *) sa;

        if (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr)) {
            return 1;
        }

        a = sin6->sin6_addr.s6_addr;

        return IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) && a[12] == 127;
    }

    return 0;
}
