
/*
 * Copyright (C) nginx-webrtc-module authors
 */


/*
 * udp-baseline: what this machine can do for the same job without WebRTC.
 *
 * A forwarding server with no crypto: one forwarder process receives each
 * packet of one stream on a UDP socket and sends it to N viewers with
 * sendmmsg(), as an SFU does, minus SRTP and RTP rewriting.  Three
 * processes, all on 127.0.0.1:
 *
 *   feeder     (this process) generates the stream and send()s each packet
 *              to the forwarder, one datagram per send() as a publisher;
 *   forwarder  epoll + recvmmsg() on one socket, then for each packet one
 *              sendmmsg() per BATCH destinations from that same socket,
 *              as ngx_webrtc_relay.c does (it also batches 64 messages
 *              and drops on a full buffer, MSG_DONTWAIT);
 *   receiver   N sockets in one epoll, recvmmsg(), counting packets, loss
 *              (SO_RXQ_OVFL) and latency (SO_TIMESTAMPNS: the kernel's
 *              arrival time, as tools/webrtc-load measures it).
 *
 * The stream has the shape of the WHIP publisher of tools/webrtc-load
 * (tools/webrtc_load_media.c), not fixed-size packets at an average rate:
 * VP8 at --bitrate and --fps, a key frame every --gop eight times a delta
 * frame (deltas +-25 %), frames cut into equal packets of at most 1200
 * bytes of RTP, through a pacer at 2.5 times the bitrate; Opus every
 * 20 ms, 92-132 bytes.  Every datagram is 16 bytes longer, the SRTP
 * AES-GCM tag, so that the bytes on the wire are those of nginx's viewers.
 * The reason: the cost per packet depends on its size (copies), and the
 * key frame bursts are what fills socket buffers and makes loss; an
 * average rate of fixed packets would hide both.
 *
 * For each N of a ladder the stream runs --duration seconds at its real
 * rate ("as fast as the target rate demands", not flat out); the
 * forwarder's CPU time (getrusage: user + system, from its first packet
 * to the end) over the datagrams it sent is the cost of a forwarded
 * packet.  The ladder stops at the first N with loss over --max-loss and
 * then bisects between the last good and that N (--bisect steps).
 *
 * Loopback only; every wait is bounded; children are stopped by PID.
 */


#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>


#define BL_SEC              1000000000LL
#define BL_MS               1000000LL
#define BL_RTP_MAX          1200            /* RTP packet, as the tool */
#define BL_SRTP_TAG         16              /* AES-GCM tag on the wire */
#define BL_VP8_HEADER       (12 + 4)        /* RTP header, VP8 descriptor */
#define BL_KEY_RATIO        8
#define BL_PACING_FACTOR    2.5
#define BL_AUDIO_PTIME      (20 * BL_MS)
#define BL_PKT_MAX          (BL_RTP_MAX + BL_SRTP_TAG)
#define BL_QUEUE            4096            /* pacer queue, packets */
#define BL_MAGIC            0x424c4e31      /* "BLN1" */
#define BL_RX_BATCH         32
#define BL_HIST             400             /* 6 % buckets from 1 us */
#define BL_MAX_LADDER       64


typedef struct {
    uint64_t        count;
    uint64_t        b[BL_HIST];
} bl_hist_t;


typedef struct {
    /* forwarder */
    uint64_t        fwd_rx;             /* datagrams from the feeder */
    uint64_t        fwd_tx;             /* datagrams sent to viewers */
    uint64_t        fwd_tx_fail;        /* dropped: sendmmsg() failed */
    uint64_t        fwd_syscalls;       /* sendmmsg() calls */
    int64_t         fwd_cpu_us;         /* first packet to the end */
    int64_t         fwd_wall_ns;
    long            fwd_maxrss_kb;
    bl_hist_t       fwd_delay;          /* arrival to hand-off, a copy */

    /* receiver */
    uint64_t        rx;                 /* datagrams, all viewers */
    uint64_t        rx_min;             /* the viewer with the fewest */
    uint64_t        rx_ovfl;            /* SO_RXQ_OVFL drops */
    int64_t         rx_cpu_us;
    int64_t         rx_wall_ns;
    bl_hist_t       lat;
} bl_result_t;


typedef struct {
    uint32_t        len;
    u_char          data[BL_PKT_MAX];
} bl_queued_t;


static struct {
    unsigned        ladder[BL_MAX_LADDER];
    unsigned        nladder;
    double          duration;
    double          bitrate;
    double          fps;
    double          gop;
    double          max_loss;
    unsigned        bisect;
    unsigned        batch;
    int             json;
} bl_conf;


static volatile sig_atomic_t  bl_stop;


static int bl_point(unsigned n, bl_result_t *r, uint64_t *sent,
    double *feed_cpu_pct, double *host_pct, double *wall);
static void bl_forwarder(int fd, struct sockaddr_in *dst, unsigned n,
    int out);
static void bl_receiver(int *fds, unsigned n, int out);
static uint64_t bl_feed(int fd, double duration);
static void bl_report(unsigned n, const bl_result_t *r, uint64_t sent,
    double feed_cpu_pct, double host_pct, double wall);
static int bl_udp_socket(struct sockaddr_in *sin, int rcvbuf, int sndbuf);
static int bl_write_all(int fd, const void *buf, size_t len);
static int bl_read_all(int fd, void *buf, size_t len, int timeout_ms);
static void bl_on_signal(int signo);
static int64_t bl_now(void);
static int64_t bl_cpu_us(void);
static int bl_host_sample(uint64_t *busy, uint64_t *total);
static void bl_hist_add(bl_hist_t *h, int64_t ns, uint64_t n);
static double bl_hist_pct(const bl_hist_t *h, double q);
static uint32_t bl_random(void);
static int bl_parse_ladder(const char *s);
static void bl_usage(void);


int
main(int argc, char **argv)
{
    int              c, i;
    double           feed_cpu, host, wall, loss, best_us, lo_us;
    uint64_t         sent;
    unsigned         n, good, bad, lo, hi, mid, step;
    bl_result_t      r;
    struct rlimit    rl;

    static struct option  opts[] = {
        { "ladder", required_argument, NULL, 'l' },
        { "duration", required_argument, NULL, 'd' },
        { "bitrate", required_argument, NULL, 'b' },
        { "fps", required_argument, NULL, 'f' },
        { "gop", required_argument, NULL, 'g' },
        { "max-loss", required_argument, NULL, 'm' },
        { "bisect", required_argument, NULL, 's' },
        { "batch", required_argument, NULL, 'B' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    bl_parse_ladder("100,250,500,1000,2000,3000,4000,6000,8000,12000,16000");
    bl_conf.duration = 5;
    bl_conf.bitrate = 2000000;
    bl_conf.fps = 30;
    bl_conf.gop = 2;
    bl_conf.max_loss = 1;
    bl_conf.bisect = 3;
    bl_conf.batch = 64;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char  *end;

        switch (c) {

        case 'l':
            if (bl_parse_ladder(optarg) != 0) {
                fprintf(stderr, "udp-baseline: --ladder: e.g. 100,500,1000\n");
                return 1;
            }
            break;

        case 'd':
            bl_conf.duration = strtod(optarg, NULL);
            if (bl_conf.duration < 1 || bl_conf.duration > 600) {
                fprintf(stderr, "udp-baseline: --duration: 1-600 s\n");
                return 1;
            }
            break;

        case 'b':
            bl_conf.bitrate = strtod(optarg, &end);
            if (*end == 'k' || *end == 'K') {
                bl_conf.bitrate *= 1000;
            } else if (*end == 'm' || *end == 'M') {
                bl_conf.bitrate *= 1000000;
            }
            if (bl_conf.bitrate < 10000 || bl_conf.bitrate > 1e9) {
                fprintf(stderr, "udp-baseline: --bitrate: e.g. 2000k\n");
                return 1;
            }
            break;

        case 'f':
            bl_conf.fps = strtod(optarg, NULL);
            if (bl_conf.fps < 1 || bl_conf.fps > 240) {
                fprintf(stderr, "udp-baseline: --fps: 1-240\n");
                return 1;
            }
            break;

        case 'g':
            bl_conf.gop = strtod(optarg, NULL);
            if (bl_conf.gop <= 0 || bl_conf.gop > 60) {
                fprintf(stderr, "udp-baseline: --gop: seconds\n");
                return 1;
            }
            break;

        case 'm':
            bl_conf.max_loss = strtod(optarg, NULL);
            break;

        case 's':
            bl_conf.bisect = (unsigned) atoi(optarg);
            if (bl_conf.bisect > 10) {
                bl_conf.bisect = 10;
            }
            break;

        case 'B':
            bl_conf.batch = (unsigned) atoi(optarg);
            if (bl_conf.batch < 1 || bl_conf.batch > 1024) {
                fprintf(stderr, "udp-baseline: --batch: 1-1024\n");
                return 1;
            }
            break;

        case 'j':
            bl_conf.json = 1;
            break;

        default:
            bl_usage();
            return c == 'h' ? 0 : 1;
        }
    }

    signal(SIGPIPE, SIG_IGN);

    /* a socket a viewer: raise the descriptor limit to its hard limit */

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        rl.rlim_cur = 1024;
        rl.rlim_max = 1024;
    }

    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void) setrlimit(RLIMIT_NOFILE, &rl);
    }

    if (!bl_conf.json) {
        printf("udp-baseline: 1 stream (%.0f kbit/s, %.0f fps, key frame "
               "every %.1f s, + Opus) -> forwarder -> N sockets, %.0f s a "
               "point, sendmmsg batch %u\n\n",
               bl_conf.bitrate / 1000, bl_conf.fps, bl_conf.gop,
               bl_conf.duration, bl_conf.batch);
        printf("%7s %9s %9s %8s %8s %9s %8s %8s %8s %9s %9s\n",
               "viewers", "in pkt", "out pkt/s", "loss %", "us/pkt",
               "fwd cpu%", "rcv cpu%", "feed %", "host %", "lat p50",
               "lat p99");
    }

    good = 0;
    bad = 0;
    best_us = -1;
    lo_us = -1;

    for (i = 0; i < (int) bl_conf.nladder; i++) {
        n = bl_conf.ladder[i];

        if ((uint64_t) n + 64 > (uint64_t) rl.rlim_max) {
            fprintf(stderr, "udp-baseline: %u viewers need more descriptors "
                    "than RLIMIT_NOFILE allows\n", n);
            break;
        }

        if (bl_point(n, &r, &sent, &feed_cpu, &host, &wall) != 0) {
            return 2;
        }

        bl_report(n, &r, sent, feed_cpu, host, wall);

        loss = sent ? 100.0 * (1.0 - (double) r.rx / ((double) sent * n)) : 100;

        if (loss >= bl_conf.max_loss) {
            bad = n;
            break;
        }

        good = n;
        lo_us = r.fwd_tx ? (double) r.fwd_cpu_us / r.fwd_tx : -1;
    }

    /* bisect between the last good and the first bad point */

    lo = good;
    hi = bad;

    for (step = 0; bad && step < bl_conf.bisect && hi - lo > hi / 20; step++) {
        mid = lo + (hi - lo) / 2;

        if (bl_point(mid, &r, &sent, &feed_cpu, &host, &wall) != 0) {
            return 2;
        }

        bl_report(mid, &r, sent, feed_cpu, host, wall);

        loss = sent ? 100.0 * (1.0 - (double) r.rx / ((double) sent * mid))
                    : 100;

        if (loss >= bl_conf.max_loss) {
            hi = mid;

        } else {
            lo = mid;
            lo_us = r.fwd_tx ? (double) r.fwd_cpu_us / r.fwd_tx : -1;
        }
    }

    best_us = lo_us;

    if (bl_conf.json) {
        printf("{\"type\":\"summary\",\"max_viewers\":%u,"
               "\"first_bad\":%u,\"us_per_pkt_at_max\":%.3f,"
               "\"max_loss_pct\":%.2f,\"bitrate\":%.0f,\"fps\":%.1f,"
               "\"batch\":%u}\n",
               lo, hi, best_us, bl_conf.max_loss, bl_conf.bitrate,
               bl_conf.fps, bl_conf.batch);

    } else {
        printf("\nmax viewers at < %.1f %% loss: %u%s; forwarder %.3f us "
               "a forwarded packet there\n", bl_conf.max_loss, lo,
               bad ? "" : " (the ladder ended first)", best_us);
    }

    return 0;
}


/* one ladder point: fork the receiver and the forwarder, feed, collect */

static int
bl_point(unsigned n, bl_result_t *r, uint64_t *sent, double *feed_cpu_pct,
    double *host_pct, double *wall)
{
    int                 *fds, fwd, feed, rp[2], fp[2], st;
    char                 ready;
    int64_t              t0, t1, c0, c1;
    pid_t                rpid, fpid;
    unsigned             i;
    uint64_t             hb0, ht0, hb1, ht1;
    bl_result_t          rr, fr;
    struct sockaddr_in  *dst, fsin;

    fds = calloc(n, sizeof(int));
    dst = calloc(n, sizeof(struct sockaddr_in));

    if (fds == NULL || dst == NULL) {
        fprintf(stderr, "udp-baseline: out of memory\n");
        return -1;
    }

    /* receiving sockets as the load generator's viewers: 1 MB buffers */

    for (i = 0; i < n; i++) {
        fds[i] = bl_udp_socket(&dst[i], 1024 * 1024, 0);
        if (fds[i] == -1) {
            fprintf(stderr, "udp-baseline: socket %u: %s\n", i,
                    strerror(errno));
            return -1;
        }
    }

    /* the forwarder's, as nginx's "listen ... rcvbuf=4m sndbuf=4m" */

    fwd = bl_udp_socket(&fsin, 4 * 1024 * 1024, 4 * 1024 * 1024);
    feed = bl_udp_socket(NULL, 0, 0);

    if (fwd == -1 || feed == -1
        || connect(feed, (struct sockaddr *) &fsin, sizeof(fsin)) == -1)
    {
        fprintf(stderr, "udp-baseline: socket: %s\n", strerror(errno));
        return -1;
    }

    if (pipe(rp) == -1 || pipe(fp) == -1) {
        fprintf(stderr, "udp-baseline: pipe: %s\n", strerror(errno));
        return -1;
    }

    bl_stop = 0;
    fflush(stdout);

    rpid = fork();

    if (rpid == 0) {
        close(rp[0]);
        close(fp[0]);
        close(fp[1]);
        close(fwd);
        close(feed);
        bl_receiver(fds, n, rp[1]);
        _exit(0);
    }

    for (i = 0; i < n; i++) {
        close(fds[i]);
    }

    fpid = fork();

    if (fpid == 0) {
        close(fp[0]);
        close(rp[0]);
        close(rp[1]);
        close(feed);
        bl_forwarder(fwd, dst, n, fp[1]);
        _exit(0);
    }

    close(fwd);
    close(rp[1]);
    close(fp[1]);

    *sent = 0;
    memset(r, 0, sizeof(bl_result_t));

    if (rpid == -1 || fpid == -1
        || bl_read_all(rp[0], &ready, 1, 10000) != 0
        || bl_read_all(fp[0], &ready, 1, 10000) != 0)
    {
        fprintf(stderr, "udp-baseline: the children did not start\n");
        goto done;
    }

    if (bl_host_sample(&hb0, &ht0) != 0) {
        hb0 = ht0 = 0;
    }

    t0 = bl_now();
    c0 = bl_cpu_us();

    *sent = bl_feed(feed, bl_conf.duration);

    c1 = bl_cpu_us();
    t1 = bl_now();

    if (bl_host_sample(&hb1, &ht1) != 0 || ht1 == ht0) {
        *host_pct = -1;

    } else {
        *host_pct = 100.0 * (hb1 - hb0) / (ht1 - ht0);
    }

    *wall = (double) (t1 - t0) / BL_SEC;
    *feed_cpu_pct = (double) (c1 - c0) / 10000 / *wall;

    /* what is in flight drains, then the children report */

    usleep(500000);

done:

    if (fpid > 0) {
        kill(fpid, SIGUSR1);
    }

    memset(&fr, 0, sizeof(fr));

    if (fpid > 0 && bl_read_all(fp[0], &fr, sizeof(fr), 10000) != 0) {
        fprintf(stderr, "udp-baseline: no report from the forwarder\n");
    }

    if (rpid > 0) {
        kill(rpid, SIGUSR1);
    }

    memset(&rr, 0, sizeof(rr));

    if (rpid > 0 && bl_read_all(rp[0], &rr, sizeof(rr), 10000) != 0) {
        fprintf(stderr, "udp-baseline: no report from the receiver\n");
    }

    close(rp[0]);
    close(fp[0]);
    close(feed);

    for (i = 0; i < 2; i++) {
        pid_t  pid = i ? fpid : rpid;
        int    k;

        if (pid <= 0) {
            continue;
        }

        for (k = 0; k < 50 && waitpid(pid, &st, WNOHANG) == 0; k++) {
            usleep(100000);
        }

        if (k == 50) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
        }
    }

    free(fds);
    free(dst);

    *r = rr;
    r->fwd_rx = fr.fwd_rx;
    r->fwd_tx = fr.fwd_tx;
    r->fwd_tx_fail = fr.fwd_tx_fail;
    r->fwd_syscalls = fr.fwd_syscalls;
    r->fwd_cpu_us = fr.fwd_cpu_us;
    r->fwd_wall_ns = fr.fwd_wall_ns;
    r->fwd_maxrss_kb = fr.fwd_maxrss_kb;
    r->fwd_delay = fr.fwd_delay;

    return (*sent == 0) ? -1 : 0;
}


/*
 * The forwarder: the receive path of a server (epoll, recvmmsg) and, for
 * each packet, sendmmsg() to every viewer from the same socket.
 */

static void
bl_forwarder(int fd, struct sockaddr_in *dst, unsigned n, int out)
{
    int                  ep, rc, k, m, one;
    char                 ready;
    int64_t              deadline, c0, t0, arrival;
    unsigned             i, j, started;
    bl_result_t          res;
    struct iovec         iov, riov[BL_RX_BATCH];
    struct rusage        ru;
    struct cmsghdr      *cm;
    struct timespec      ts;
    struct mmsghdr      *msgs, rmsgs[BL_RX_BATCH];
    struct epoll_event   ev;
    static u_char        bufs[BL_RX_BATCH][BL_PKT_MAX + 64];
    static u_char        cbufs[BL_RX_BATCH]
                              [CMSG_SPACE(sizeof(struct timespec))];

    signal(SIGUSR1, bl_on_signal);

    memset(&res, 0, sizeof(res));

    msgs = calloc(n, sizeof(struct mmsghdr));
    if (msgs == NULL) {
        return;
    }

    /* all the viewers' messages share one iovec: the packet, unchanged */

    for (i = 0; i < n; i++) {
        msgs[i].msg_hdr.msg_name = &dst[i];
        msgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
        msgs[i].msg_hdr.msg_iov = &iov;
        msgs[i].msg_hdr.msg_iovlen = 1;
    }

    memset(rmsgs, 0, sizeof(rmsgs));

    for (k = 0; k < BL_RX_BATCH; k++) {
        riov[k].iov_base = bufs[k];
        riov[k].iov_len = sizeof(bufs[k]);
        rmsgs[k].msg_hdr.msg_iov = &riov[k];
        rmsgs[k].msg_hdr.msg_iovlen = 1;
    }

    /*
     * the forwarding delay as the module's status counts it: from the
     * kernel's receive timestamp to each sendmmsg()'s return
     */

    one = 1;
    (void) setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));

    ep = epoll_create1(0);
    ev.events = EPOLLIN;
    ev.data.fd = fd;

    if (ep == -1 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
        return;
    }

    ready = 1;
    (void) bl_write_all(out, &ready, 1);

    started = 0;
    c0 = 0;
    t0 = 0;
    deadline = bl_now() + (int64_t) ((bl_conf.duration + 30) * BL_SEC);

    while (!bl_stop && bl_now() < deadline) {

        rc = epoll_wait(ep, &ev, 1, 50);
        if (rc <= 0) {
            continue;
        }

        for ( ;; ) {
            for (k = 0; k < BL_RX_BATCH; k++) {
                rmsgs[k].msg_hdr.msg_control = cbufs[k];
                rmsgs[k].msg_hdr.msg_controllen = sizeof(cbufs[k]);
            }

            m = recvmmsg(fd, rmsgs, BL_RX_BATCH, MSG_DONTWAIT, NULL);
            if (m <= 0) {
                break;
            }

            if (!started) {
                started = 1;
                c0 = bl_cpu_us();
                t0 = bl_now();
            }

            res.fwd_rx += m;

            /* stopped: what is still queued stays unsent, as lost */

            for (k = 0; k < m && !bl_stop; k++) {
                iov.iov_base = bufs[k];
                iov.iov_len = rmsgs[k].msg_len;

                arrival = 0;

                for (cm = CMSG_FIRSTHDR(&rmsgs[k].msg_hdr);
                     cm;
                     cm = CMSG_NXTHDR(&rmsgs[k].msg_hdr, cm))
                {
                    if (cm->cmsg_level == SOL_SOCKET
                        && cm->cmsg_type == SCM_TIMESTAMPNS)
                    {
                        memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
                        arrival = (int64_t) ts.tv_sec * BL_SEC + ts.tv_nsec;
                    }
                }

                /* as ngx_webrtc_batch_flush(): retry a partial send,
                 * drop the rest on an error */

                for (i = 0; i < n; i = j) {
                    j = i + bl_conf.batch < n ? i + bl_conf.batch : n;

                    while (i < j) {
                        rc = sendmmsg(fd, &msgs[i], j - i, MSG_DONTWAIT);
                        res.fwd_syscalls++;

                        if (rc <= 0) {
                            res.fwd_tx_fail += j - i;
                            break;
                        }

                        res.fwd_tx += rc;
                        i += rc;

                        if (arrival) {
                            clock_gettime(CLOCK_REALTIME, &ts);
                            bl_hist_add(&res.fwd_delay,
                                        (int64_t) ts.tv_sec * BL_SEC
                                        + ts.tv_nsec - arrival, rc);
                        }
                    }
                }
            }

            if (m < BL_RX_BATCH || bl_stop) {
                break;
            }
        }
    }

    if (started) {
        res.fwd_cpu_us = bl_cpu_us() - c0;
        res.fwd_wall_ns = bl_now() - t0;
    }

    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        res.fwd_maxrss_kb = ru.ru_maxrss;
    }

    (void) bl_write_all(out, &res, sizeof(res));
}


/* N viewers' sockets in one epoll */

static void
bl_receiver(int *fds, unsigned n, int out)
{
    int                  ep, rc, k, m, e, one;
    char                 ready;
    int64_t              deadline, c0, t0, sent_ns, lat;
    uint32_t             magic, ovfl;
    uint64_t            *count, min;
    unsigned             i, started, *last_ovfl;
    bl_result_t         *res;
    struct iovec         iov[BL_RX_BATCH];
    struct cmsghdr      *cm;
    struct timespec      ts;
    struct mmsghdr       msgs[BL_RX_BATCH];
    struct epoll_event   evs[256], ev;
    static u_char        bufs[BL_RX_BATCH][BL_PKT_MAX + 64];
    static u_char        ctl[BL_RX_BATCH][256];

    signal(SIGUSR1, bl_on_signal);

    res = calloc(1, sizeof(bl_result_t));
    count = calloc(n, sizeof(uint64_t));
    last_ovfl = calloc(n, sizeof(unsigned));
    ep = epoll_create1(0);

    if (res == NULL || count == NULL || last_ovfl == NULL || ep == -1) {
        return;
    }

    for (i = 0; i < n; i++) {
        one = 1;
        (void) setsockopt(fds[i], SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
        (void) setsockopt(fds[i], SOL_SOCKET, SO_TIMESTAMPNS, &one,
                          sizeof(one));

        ev.events = EPOLLIN;
        ev.data.u32 = i;

        if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) == -1) {
            return;
        }
    }

    for (k = 0; k < BL_RX_BATCH; k++) {
        iov[k].iov_base = bufs[k];
        iov[k].iov_len = sizeof(bufs[k]);
    }

    ready = 1;
    (void) bl_write_all(out, &ready, 1);

    started = 0;
    c0 = 0;
    t0 = 0;
    deadline = bl_now() + (int64_t) ((bl_conf.duration + 30) * BL_SEC);

    while (!bl_stop && bl_now() < deadline) {

        rc = epoll_wait(ep, evs, 256, 50);

        for (e = 0; e < rc && !bl_stop; e++) {
            i = evs[e].data.u32;

            for ( ;; ) {
                memset(msgs, 0, sizeof(msgs));

                for (k = 0; k < BL_RX_BATCH; k++) {
                    msgs[k].msg_hdr.msg_iov = &iov[k];
                    msgs[k].msg_hdr.msg_iovlen = 1;
                    msgs[k].msg_hdr.msg_control = ctl[k];
                    msgs[k].msg_hdr.msg_controllen = sizeof(ctl[k]);
                }

                m = recvmmsg(fds[i], msgs, BL_RX_BATCH, MSG_DONTWAIT, NULL);
                if (m <= 0) {
                    break;
                }

                if (!started) {
                    started = 1;
                    c0 = bl_cpu_us();
                    t0 = bl_now();
                }

                for (k = 0; k < m; k++) {
                    if (msgs[k].msg_len < 16) {
                        continue;
                    }

                    memcpy(&magic, bufs[k], 4);
                    if (magic != BL_MAGIC) {
                        continue;
                    }

                    count[i]++;
                    res->rx++;

                    ts.tv_sec = 0;
                    ts.tv_nsec = 0;

                    for (cm = CMSG_FIRSTHDR(&msgs[k].msg_hdr);
                         cm != NULL;
                         cm = CMSG_NXTHDR(&msgs[k].msg_hdr, cm))
                    {
                        if (cm->cmsg_level != SOL_SOCKET) {
                            continue;
                        }

                        if (cm->cmsg_type == SO_TIMESTAMPNS) {
                            memcpy(&ts, CMSG_DATA(cm), sizeof(ts));

                        } else if (cm->cmsg_type == SO_RXQ_OVFL) {
                            memcpy(&ovfl, CMSG_DATA(cm), sizeof(ovfl));
                            res->rx_ovfl += (uint32_t) (ovfl - last_ovfl[i]);
                            last_ovfl[i] = ovfl;
                        }
                    }

                    /* the send time is CLOCK_MONOTONIC, the kernel's
                     * stamp CLOCK_REALTIME: convert with the offset now */

                    memcpy(&sent_ns, bufs[k] + 8, 8);

                    if (ts.tv_sec) {
                        struct timespec  rt, mt;

                        clock_gettime(CLOCK_REALTIME, &rt);
                        clock_gettime(CLOCK_MONOTONIC, &mt);

                        lat = (ts.tv_sec - rt.tv_sec) * BL_SEC
                              + (ts.tv_nsec - rt.tv_nsec)
                              + mt.tv_sec * BL_SEC + mt.tv_nsec - sent_ns;

                        bl_hist_add(&res->lat, lat, 1);
                    }
                }

                if (m < BL_RX_BATCH) {
                    break;
                }
            }
        }
    }

    if (started) {
        res->rx_cpu_us = bl_cpu_us() - c0;
        res->rx_wall_ns = bl_now() - t0;
    }

    min = UINT64_MAX;

    for (i = 0; i < n; i++) {
        if (count[i] < min) {
            min = count[i];
        }
    }

    res->rx_min = n ? min : 0;

    (void) bl_write_all(out, res, sizeof(bl_result_t));
}


/*
 * The publisher's stream, as tools/webrtc_load_media.c makes it; returns
 * the datagrams sent.
 */

static uint64_t
bl_feed(int fd, double duration)
{
    int           key;
    u_char        ab[BL_PKT_MAX];
    int64_t       start, end, now, next, next_frame, next_audio, pace_next;
    int64_t       t;
    size_t        size, max, per, chunk, off, len;
    double        delta, rate;
    uint32_t      seq;
    uint64_t      frame, audio, sent;
    unsigned      gop_frames, gop_pos, i, npk, qhead, qlen;
    bl_queued_t  *q;
    static bl_queued_t  queue[BL_QUEUE];

    gop_frames = (unsigned) (bl_conf.gop * bl_conf.fps + 0.5);
    if (gop_frames < 1) {
        gop_frames = 1;
    }

    delta = bl_conf.bitrate / 8 * gop_frames / bl_conf.fps
            / (BL_KEY_RATIO + gop_frames - 1);

    rate = bl_conf.bitrate * BL_PACING_FACTOR;
    if (rate < 1000000) {
        rate = 1000000;
    }

    max = BL_RTP_MAX - BL_VP8_HEADER;

    start = bl_now();
    end = start + (int64_t) (duration * BL_SEC);
    next_frame = start;
    next_audio = start;
    pace_next = start;
    frame = 0;
    audio = 0;
    gop_pos = gop_frames;
    qhead = 0;
    qlen = 0;
    seq = 0;
    sent = 0;

    for ( ;; ) {
        now = bl_now();

        if (now >= end) {
            break;
        }

        while (now >= next_audio) {
            len = 12 + 80 + bl_random() % 41 + BL_SRTP_TAG;

            for (i = 16; i < len; i++) {
                ab[i] = (u_char) bl_random();
            }

            memcpy(ab, &(uint32_t) { BL_MAGIC }, 4);
            memcpy(ab + 4, &seq, 4);
            seq++;
            t = bl_now();
            memcpy(ab + 8, &t, 8);

            if (send(fd, ab, len, 0) == (ssize_t) len) {
                sent++;
            }

            audio++;
            next_audio = start + (int64_t) audio * BL_AUDIO_PTIME;
        }

        while (now >= next_frame) {
            key = gop_pos >= gop_frames;

            if (key) {
                size = (size_t) (delta * BL_KEY_RATIO);
                gop_pos = 0;

            } else {
                size = (size_t) (delta * (0.75 + (bl_random() % 1000)
                                                 / 2000.0));
            }

            if (size < 64) {
                size = 64;
            }

            gop_pos++;

            npk = (size + max - 1) / max;
            per = (size + npk - 1) / npk;

            for (i = 0, off = 0; i < npk && qlen < BL_QUEUE; i++, off += chunk)
            {
                chunk = (size - off < per) ? size - off : per;

                q = &queue[(qhead + qlen) % BL_QUEUE];
                qlen++;

                q->len = (uint32_t) (BL_VP8_HEADER + chunk + BL_SRTP_TAG);
                memset(q->data + 16, (int) (frame & 0xff), q->len - 16);
            }

            frame++;
            next_frame = start + (int64_t) (frame * BL_SEC / bl_conf.fps);
        }

        /* the pacer */

        while (qlen && now >= pace_next) {
            q = &queue[qhead];

            memcpy(q->data, &(uint32_t) { BL_MAGIC }, 4);
            memcpy(q->data + 4, &seq, 4);
            seq++;
            t = bl_now();
            memcpy(q->data + 8, &t, 8);

            if (send(fd, q->data, q->len, 0) == (ssize_t) q->len) {
                sent++;
            }

            qhead = (qhead + 1) % BL_QUEUE;
            qlen--;

            if (pace_next < now - 2 * BL_MS) {
                pace_next = now - 2 * BL_MS;
            }

            pace_next += (int64_t) ((q->len - BL_SRTP_TAG) * 8 * BL_SEC
                                    / rate);
        }

        next = next_audio < next_frame ? next_audio : next_frame;

        if (qlen && pace_next < next) {
            next = pace_next;
        }

        if (next > end) {
            next = end;
        }

        if (next > now) {
            struct timespec  ts;

            ts.tv_sec = next / BL_SEC;
            ts.tv_nsec = next % BL_SEC;
            (void) clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        }
    }

    return sent;
}


static void
bl_report(unsigned n, const bl_result_t *r, uint64_t sent,
    double feed_cpu_pct, double host_pct, double wall)
{
    double  loss, us, fwd_pct, rcv_pct, pps, p50, p99, d50, d99;

    loss = sent ? 100.0 * (1.0 - (double) r->rx / ((double) sent * n)) : 100;
    if (loss < 0) {
        loss = 0;
    }

    us = r->fwd_tx ? (double) r->fwd_cpu_us / r->fwd_tx : -1;
    fwd_pct = r->fwd_wall_ns ? 100.0 * r->fwd_cpu_us * 1000 / r->fwd_wall_ns
                             : 0;
    rcv_pct = r->rx_wall_ns ? 100.0 * r->rx_cpu_us * 1000 / r->rx_wall_ns
                            : 0;
    pps = wall > 0 ? r->fwd_tx / wall : 0;
    p50 = bl_hist_pct(&r->lat, 0.5);
    p99 = bl_hist_pct(&r->lat, 0.99);
    d50 = bl_hist_pct(&r->fwd_delay, 0.5);
    d99 = bl_hist_pct(&r->fwd_delay, 0.99);

    if (bl_conf.json) {
        printf("{\"type\":\"point\",\"viewers\":%u,\"duration\":%.2f,"
               "\"in_packets\":%llu,\"in_pps\":%.1f,\"fwd_rx\":%llu,"
               "\"fwd_tx\":%llu,\"fwd_tx_fail\":%llu,\"fwd_syscalls\":%llu,"
               "\"fwd_cpu_us\":%lld,\"us_per_pkt\":%.3f,\"out_pps\":%.0f,"
               "\"fwd_cpu_pct\":%.1f,\"fwd_maxrss_kb\":%ld,"
               "\"rx_packets\":%llu,\"rx_min_per_viewer\":%llu,"
               "\"rx_ovfl\":%llu,\"loss_pct\":%.3f,\"rcv_cpu_pct\":%.1f,"
               "\"feed_cpu_pct\":%.1f,\"host_cpu_pct\":%.1f,"
               "\"lat_p50_ms\":%.3f,\"lat_p99_ms\":%.3f,"
               "\"fwd_delay_p50_ms\":%.3f,\"fwd_delay_p99_ms\":%.3f}\n",
               n, wall, (unsigned long long) sent, sent / wall,
               (unsigned long long) r->fwd_rx,
               (unsigned long long) r->fwd_tx,
               (unsigned long long) r->fwd_tx_fail,
               (unsigned long long) r->fwd_syscalls,
               (long long) r->fwd_cpu_us, us, pps, fwd_pct,
               r->fwd_maxrss_kb, (unsigned long long) r->rx,
               (unsigned long long) r->rx_min,
               (unsigned long long) r->rx_ovfl, loss, rcv_pct, feed_cpu_pct,
               host_pct, p50 / 1e6, p99 / 1e6, d50 / 1e6, d99 / 1e6);

    } else {
        printf("%7u %9llu %9.0f %8.3f %8.3f %9.1f %8.1f %8.1f %8.1f "
               "%7.2fms %7.2fms\n",
               n, (unsigned long long) sent, pps, loss, us, fwd_pct,
               rcv_pct, feed_cpu_pct, host_pct, p50 / 1e6, p99 / 1e6);
    }

    fflush(stdout);
}


static int
bl_udp_socket(struct sockaddr_in *sin, int rcvbuf, int sndbuf)
{
    int                 fd;
    socklen_t           len;
    struct sockaddr_in  a;

    fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        return -1;
    }

    if (rcvbuf) {
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(int));
    }

    if (sndbuf) {
        (void) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(int));
    }

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    if (bind(fd, (struct sockaddr *) &a, sizeof(a)) == -1) {
        close(fd);
        return -1;
    }

    len = sizeof(a);

    if (getsockname(fd, (struct sockaddr *) &a, &len) == -1) {
        close(fd);
        return -1;
    }

    if (sin) {
        *sin = a;
    }

    return fd;
}


static int
bl_write_all(int fd, const void *buf, size_t len)
{
    ssize_t        n;
    const u_char  *p;

    for (p = buf; len; p += n, len -= n) {
        n = write(fd, p, len);

        if (n <= 0) {
            if (n == -1 && errno == EINTR) {
                n = 0;
                continue;
            }

            return -1;
        }
    }

    return 0;
}


static int
bl_read_all(int fd, void *buf, size_t len, int timeout_ms)
{
    int            rc;
    u_char        *p;
    ssize_t        n;
    int64_t        deadline, left;
    struct pollfd  pfd;

    deadline = bl_now() + (int64_t) timeout_ms * BL_MS;

    for (p = buf; len; ) {
        left = (deadline - bl_now()) / BL_MS;
        if (left <= 0) {
            return -1;
        }

        pfd.fd = fd;
        pfd.events = POLLIN;

        rc = poll(&pfd, 1, (int) left);
        if (rc == -1 && errno == EINTR) {
            continue;
        }

        if (rc <= 0) {
            return -1;
        }

        n = read(fd, p, len);
        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n <= 0) {
            return -1;
        }

        p += n;
        len -= n;
    }

    return 0;
}


static void
bl_on_signal(int signo)
{
    (void) signo;
    bl_stop = 1;
}


static int64_t
bl_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (int64_t) ts.tv_sec * BL_SEC + ts.tv_nsec;
}


static int64_t
bl_cpu_us(void)
{
    struct rusage  ru;

    if (getrusage(RUSAGE_SELF, &ru) != 0) {
        return 0;
    }

    return (int64_t) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000
           + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}


/* busy and total jiffies of all CPUs, /proc/stat */

static int
bl_host_sample(uint64_t *busy, uint64_t *total)
{
    int                 n;
    FILE               *f;
    unsigned long long  v[8];

    f = fopen("/proc/stat", "r");
    if (f == NULL) {
        return -1;
    }

    n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
               &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
    fclose(f);

    if (n != 8) {
        return -1;
    }

    *total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
    *busy = *total - v[3] - v[4];

    return 0;
}


/* a histogram of latencies in 6 % buckets from 1 us, as the tool's */

static void
bl_hist_add(bl_hist_t *h, int64_t ns, uint64_t n)
{
    int  b;

    if (ns < 1000) {
        b = 0;

    } else {
        b = (int) (log((double) ns / 1000) / log(1.06)) + 1;
        if (b >= BL_HIST) {
            b = BL_HIST - 1;
        }
    }

    h->b[b] += n;
    h->count += n;
}


/* the q quantile in nanoseconds: a bucket's upper bound */

static double
bl_hist_pct(const bl_hist_t *h, double q)
{
    int       b;
    uint64_t  want, seen;

    if (h->count == 0) {
        return -1e6;
    }

    want = (uint64_t) ceil(q * h->count);
    seen = 0;

    for (b = 0; b < BL_HIST; b++) {
        seen += h->b[b];

        if (seen >= want) {
            return 1000 * pow(1.06, b);
        }
    }

    return 1000 * pow(1.06, BL_HIST);
}


static uint32_t
bl_random(void)
{
    static uint32_t  x = 2463534242u;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;

    return x;
}


static int
bl_parse_ladder(const char *s)
{
    char           *end;
    unsigned long   v;

    bl_conf.nladder = 0;

    while (*s) {
        v = strtoul(s, &end, 10);

        if (end == s || v < 1 || v > 100000
            || bl_conf.nladder == BL_MAX_LADDER)
        {
            return -1;
        }

        bl_conf.ladder[bl_conf.nladder++] = (unsigned) v;

        s = end;

        if (*s == ',' || *s == ' ') {
            s++;

        } else if (*s) {
            return -1;
        }
    }

    return bl_conf.nladder ? 0 : -1;
}


static void
bl_usage(void)
{
    fprintf(stderr,
        "usage: udp-baseline [--ladder N,N,...] [--duration S] "
        "[--bitrate 2000k]\n"
        "                    [--fps 30] [--gop 2] [--max-loss 1] "
        "[--bisect 3]\n"
        "                    [--batch 64] [--json]\n\n"
        "A feeder sends the WHIP publisher's packet stream to a forwarder\n"
        "that sends each packet to N UDP sockets on 127.0.0.1 with\n"
        "sendmmsg(), no crypto; a receiver process counts them.  For each N\n"
        "of the ladder: loss, the forwarder's CPU microseconds a forwarded\n"
        "packet (getrusage), packets a second, latency.  The ladder stops\n"
        "at the first N over --max-loss %%, then bisects --bisect times.\n");
}
