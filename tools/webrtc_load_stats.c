
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "webrtc_load.h"


/*
 * Histograms, the sum of the processes' counters, the server's CPU time
 * and memory from /proc, and the reports: one line a second and a
 * summary, as text or as JSON lines.
 */


#define WL_MAX_PIDS             64


typedef struct {
    pid_t                       pid;
    uint64_t                    ticks;
} wl_cpu_t;


typedef struct {
    wl_cpu_t                    prev[WL_MAX_PIDS];
    unsigned                    nprev;
} wl_cpu_set_t;


static double wl_hist_value(unsigned i);
static int wl_proc_stat(pid_t pid, pid_t *ppid, uint64_t *ticks,
    uint64_t *rss_kb);
static unsigned wl_server_pids(pid_t *pids);
static double wl_cpu_sample(wl_cpu_set_t *set, pid_t *pids, unsigned n,
    uint64_t *rss_kb);
static double wl_host_sample(void);
static int wl_saturated(const wl_stats_t *s);
static int wl_udp_sample(uint64_t *rcvbuf, uint64_t *sndbuf);
static void wl_out(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static void wl_out_ms(const char *name, double us);
static void wl_out_flush(void);
static void wl_out_gap_pcts(const wl_hist_t *h);
static void wl_out_marks(const wl_gaps_t *g);
static const char *wl_pcts(const wl_hist_t *h, char *buf);


pid_t                  *wl_children;
unsigned                wl_nchildren;

static pid_t            wl_pids[WL_MAX_PIDS];
static unsigned         wl_npids;
static long             wl_clk_tck;
static long             wl_page_kb;

static wl_cpu_set_t     wl_server_cpu;
static wl_cpu_set_t     wl_self_cpu;

/* over the run, for the summary */
static double           wl_server_ms_total;
static double           wl_server_pct_max;
static double           wl_server_rss_max;
static double           wl_self_ms_total;
static double           wl_seconds_total;
static unsigned         wl_server_seen;
static double           wl_host_total;
static double           wl_host_max;         /* for the report only */
static uint64_t         wl_host_busy;
static uint64_t         wl_host_all;
static uint64_t         wl_udp_rcvbuf;
static uint64_t         wl_udp_sndbuf;
static uint64_t         wl_udp_rcvbuf_total;
static uint64_t         wl_udp_sndbuf_total;

static char             wl_obuf[16384];
static size_t           wl_olen;


/* 16 linear buckets per power of two of microseconds */

void
wl_hist_add(wl_hist_t *h, uint64_t us)
{
    unsigned  i, e;

    if (us < WL_HIST_SUB) {
        i = (unsigned) us;

    } else {
        e = 63 - __builtin_clzll(us);
        i = (e - 3) * WL_HIST_SUB + ((us >> (e - 4)) & (WL_HIST_SUB - 1));

        if (i >= WL_HIST_N) {
            i = WL_HIST_N - 1;
        }
    }

    h->bucket[i]++;
    h->count++;
    h->sum += us;

    if (us > h->max) {
        h->max = us;
    }
}


/* the middle of bucket i, us */

static double
wl_hist_value(unsigned i)
{
    unsigned  e, sub;

    if (i < WL_HIST_SUB) {
        return i;
    }

    e = i / WL_HIST_SUB + 3;
    sub = i % WL_HIST_SUB;

    return (double) ((uint64_t) (WL_HIST_SUB + sub) << (e - 4))
           + (double) ((uint64_t) 1 << (e - 4)) / 2;
}


/* the q-quantile, us; -1 if empty */

double
wl_hist_pct(const wl_hist_t *h, double q)
{
    unsigned  i;
    uint64_t  target, n;

    if (h->count == 0) {
        return -1;
    }

    target = (uint64_t) (q * h->count + 0.999999);

    if (target == 0) {
        target = 1;
    }

    for (i = 0, n = 0; i < WL_HIST_N; i++) {
        n += h->bucket[i];

        if (n >= target) {
            return wl_hist_value(i);
        }
    }

    return wl_hist_value(WL_HIST_N - 1);
}


/* r = a - b: what was added in between; the maximum is a bucket's */

void
wl_hist_sub(wl_hist_t *r, const wl_hist_t *a, const wl_hist_t *b)
{
    unsigned  i;

    r->count = a->count - b->count;
    r->sum = a->sum - b->sum;
    r->max = 0;

    for (i = 0; i < WL_HIST_N; i++) {
        r->bucket[i] = a->bucket[i] - b->bucket[i];

        if (r->bucket[i]) {
            r->max = (uint64_t) wl_hist_value(i);
        }
    }
}


void
wl_hist_merge(wl_hist_t *r, const wl_hist_t *a)
{
    unsigned  i;

    r->count += a->count;
    r->sum += a->sum;

    if (a->max > r->max) {
        r->max = a->max;
    }

    for (i = 0; i < WL_HIST_N; i++) {
        r->bucket[i] += a->bucket[i];
    }
}


void
wl_stats_add(wl_stats_t *r, const wl_stats_t *a)
{
    size_t           i, n;
    uint64_t        *rp;
    const uint64_t  *ap;

    if (a->viewers) {
        r->min_rtp = r->viewers ? (a->min_rtp < r->min_rtp ? a->min_rtp
                                                           : r->min_rtp)
                                : a->min_rtp;
        r->min_rtp_after = r->viewers ? (a->min_rtp_after < r->min_rtp_after
                                         ? a->min_rtp_after
                                         : r->min_rtp_after)
                                      : a->min_rtp_after;
    }

    if (a->max_gap_ms > r->max_gap_ms) {
        r->max_gap_ms = a->max_gap_ms;
    }

    /* --mutate: the longest burst, the shortest time measured after one */

    if (a->mutate_burst_ms > r->mutate_burst_ms) {
        r->mutate_burst_ms = a->mutate_burst_ms;
    }

    if (a->mutate_peers
        && (r->mutate_peers == 0 || a->mutate_after_ms < r->mutate_after_ms))
    {
        r->mutate_after_ms = a->mutate_after_ms;
    }

    n = (offsetof(wl_stats_t, http_status) - offsetof(wl_stats_t, viewers))
        / sizeof(uint64_t);

    rp = &r->viewers;
    ap = &a->viewers;

    for (i = 0; i < n; i++) {
        rp[i] += ap[i];
    }

    for (i = 0; i < 600; i++) {
        r->http_status[i] += a->http_status[i];
    }

    wl_hist_merge(&r->latency, &a->latency);
    wl_hist_merge(&r->queue, &a->queue);
    wl_hist_merge(&r->ttfp, &a->ttfp);
    wl_hist_merge(&r->setup_http, &a->setup_http);
    wl_hist_merge(&r->setup_ice, &a->setup_ice);
    wl_hist_merge(&r->setup_dtls, &a->setup_dtls);

    wl_gaps_add(&r->gaps, &a->gaps);
}


/* the first CPU samples, so that the first report has a difference */

void
wl_report_start(void)
{
    pid_t     pids[WL_MAX_PIDS + 1];
    unsigned  n;
    uint64_t  rss;

    n = wl_server_pids(pids);
    (void) wl_cpu_sample(&wl_server_cpu, pids, n, &rss);

    pids[0] = getpid();
    if (wl_nchildren) {
        memcpy(pids + 1, wl_children, wl_nchildren * sizeof(pid_t));
    }
    (void) wl_cpu_sample(&wl_self_cpu, pids, wl_nchildren + 1, &rss);

    (void) wl_host_sample();
    (void) wl_udp_sample(&rss, &rss);
}


/*
 * proc(5), /proc/net/snmp: the UDP datagrams dropped by full receive or
 * send buffers in this network namespace since the last call, whoever
 * the receiver: beyond our own drops, they are nginx's (or others')
 */

static int
wl_udp_sample(uint64_t *rcvbuf, uint64_t *sndbuf)
{
    int                 fd, i, ri, si;
    char                buf[4096], *names, *values, *p, *q, *end;
    ssize_t             n;
    unsigned long long  v, r, s;

    fd = open("/proc/net/snmp", O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        return -1;
    }

    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);

    if (n <= 0) {
        return -1;
    }

    buf[n] = '\0';

    names = strstr(buf, "\nUdp: ");
    if (names == NULL) {
        return -1;
    }

    names += 6;
    values = strstr(names, "\nUdp: ");
    if (values == NULL) {
        return -1;
    }

    values += 6;

    /* the header line names the columns */

    ri = -1;
    si = -1;

    for (i = 0, p = names; *p != '\n' && *p; i++) {
        q = p;
        while (*q && *q != ' ' && *q != '\n') {
            q++;
        }

        if (q - p == 12 && memcmp(p, "RcvbufErrors", 12) == 0) {
            ri = i;

        } else if (q - p == 12 && memcmp(p, "SndbufErrors", 12) == 0) {
            si = i;
        }

        p = (*q == ' ') ? q + 1 : q;
    }

    if (ri < 0 || si < 0) {
        return -1;
    }

    r = 0;
    s = 0;

    for (i = 0, p = values; i <= ri || i <= si; i++) {
        v = strtoull(p, &end, 10);
        if (end == p) {
            return -1;
        }

        p = end;

        if (i == ri) {
            r = v;

        } else if (i == si) {
            s = v;
        }
    }

    *rcvbuf = r - wl_udp_rcvbuf;
    *sndbuf = s - wl_udp_sndbuf;

    wl_udp_rcvbuf = r;
    wl_udp_sndbuf = s;

    return 0;
}


/*
 * proc(5), /proc/stat: the busy share of all CPUs since the last call,
 * %; -1 if unknown.  A busy host makes every number a host's number.
 */

static double
wl_host_sample(void)
{
    int                 fd, i;
    char                buf[512], *p, *end;
    ssize_t             n;
    uint64_t            busy, all, db, da;
    unsigned long long  v;

    fd = open("/proc/stat", O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        return -1;
    }

    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);

    if (n <= 4 || memcmp(buf, "cpu ", 4) != 0) {
        return -1;
    }

    buf[n] = '\0';
    p = buf + 4;
    busy = 0;
    all = 0;

    /* user nice system idle iowait irq softirq steal */

    for (i = 0; i < 8; i++) {
        v = strtoull(p, &end, 10);
        if (end == p) {
            break;
        }

        p = end;
        all += v;

        if (i != 3 && i != 4) {
            busy += v;
        }
    }

    db = busy - wl_host_busy;
    da = all - wl_host_all;

    wl_host_busy = busy;
    wl_host_all = all;

    return da ? 100.0 * db / da : -1;
}


int
wl_server_init(void)
{
    char  *p, *end;
    long   n;

    wl_clk_tck = sysconf(_SC_CLK_TCK);
    wl_page_kb = sysconf(_SC_PAGESIZE) / 1024;

    if (wl_clk_tck <= 0) {
        wl_clk_tck = 100;
    }

    if (wl_page_kb <= 0) {
        wl_page_kb = 4;
    }

    if (wl_conf.pids == NULL) {
        return 0;
    }

    for (p = (char *) wl_conf.pids; *p; p = end) {
        n = strtol(p, &end, 10);

        if (end == p || n <= 0 || wl_npids == WL_MAX_PIDS
            || (*end != ',' && *end != '\0'))
        {
            return -1;
        }

        wl_pids[wl_npids++] = (pid_t) n;

        if (*end == ',') {
            end++;
        }
    }

    return 0;
}


/* proc(5): utime (14), stime (15), rss (24) in pages; ppid (4) */

static int
wl_proc_stat(pid_t pid, pid_t *ppid, uint64_t *ticks, uint64_t *rss_kb)
{
    int                 fd, field;
    char                path[64], buf[1024], *p, *end;
    ssize_t             n;
    unsigned long long  v, utime, stime, rss;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        return -1;
    }

    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);

    if (n <= 0) {
        return -1;
    }

    buf[n] = '\0';

    p = strrchr(buf, ')');
    if (p == NULL || p[1] != ' ') {
        return -1;
    }

    p += 2;

    /* the state is field 3; numbers follow */

    while (*p && *p != ' ') {
        p++;
    }

    utime = 0;
    stime = 0;
    rss = 0;

    for (field = 4; field <= 24 && *p; field++) {
        v = strtoull(p, &end, 10);

        if (end == p) {
            return -1;
        }

        p = end;

        switch (field) {
        case 4:
            if (ppid) {
                *ppid = (pid_t) v;
            }
            break;
        case 14:
            utime = v;
            break;
        case 15:
            stime = v;
            break;
        case 24:
            rss = v;
            break;
        }
    }

    if (field <= 24) {
        return -1;
    }

    *ticks = utime + stime;
    *rss_kb = rss * wl_page_kb;

    return 0;
}


/* --pids, or the children of the master in --nginx-pid-file */

static unsigned
wl_server_pids(pid_t *pids)
{
    int             fd;
    char            buf[32];
    pid_t           master, ppid;
    ssize_t         len;
    unsigned        n;
    uint64_t        ticks, rss;
    struct dirent  *de;
    DIR            *dir;

    if (wl_npids) {
        memcpy(pids, wl_pids, wl_npids * sizeof(pid_t));
        return wl_npids;
    }

    if (wl_conf.nginx_pid_file == NULL) {
        return 0;
    }

    fd = open(wl_conf.nginx_pid_file, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        return 0;
    }

    len = read(fd, buf, sizeof(buf) - 1);
    close(fd);

    if (len <= 0) {
        return 0;
    }

    buf[len] = '\0';
    master = (pid_t) atoi(buf);

    if (master <= 0) {
        return 0;
    }

    dir = opendir("/proc");
    if (dir == NULL) {
        return 0;
    }

    n = 0;

    while ((de = readdir(dir)) != NULL && n < WL_MAX_PIDS) {
        if (!isdigit((u_char) de->d_name[0])) {
            continue;
        }

        if (wl_proc_stat((pid_t) atoi(de->d_name), &ppid, &ticks, &rss) == 0
            && ppid == master)
        {
            pids[n++] = (pid_t) atoi(de->d_name);
        }
    }

    closedir(dir);

    return n;
}


/* CPU ms used since the last sample by processes seen before */

static double
wl_cpu_sample(wl_cpu_set_t *set, pid_t *pids, unsigned n, uint64_t *rss_kb)
{
    unsigned   i, j, m;
    uint64_t   ticks, rss, delta;
    wl_cpu_t   now[WL_MAX_PIDS];

    delta = 0;
    *rss_kb = 0;

    for (i = 0, m = 0; i < n; i++) {
        if (wl_proc_stat(pids[i], NULL, &ticks, &rss) != 0) {
            continue;
        }

        *rss_kb += rss;

        for (j = 0; j < set->nprev; j++) {
            if (set->prev[j].pid == pids[i]) {
                if (ticks >= set->prev[j].ticks) {
                    delta += ticks - set->prev[j].ticks;
                }

                break;
            }
        }

        now[m].pid = pids[i];
        now[m].ticks = ticks;
        m++;
    }

    memcpy(set->prev, now, m * sizeof(wl_cpu_t));
    set->nprev = m;

    return (double) delta * 1000 / wl_clk_tck;
}


static void
wl_out(const char *fmt, ...)
{
    int      n;
    va_list  args;

    if (wl_olen >= sizeof(wl_obuf) - 1) {
        return;
    }

    va_start(args, fmt);
    n = vsnprintf(wl_obuf + wl_olen, sizeof(wl_obuf) - wl_olen, fmt, args);
    va_end(args);

    if (n > 0) {
        wl_olen += n;

        if (wl_olen > sizeof(wl_obuf) - 1) {
            wl_olen = sizeof(wl_obuf) - 1;
        }
    }
}


/* ,"name":ms or null */

static void
wl_out_ms(const char *name, double us)
{
    if (us < 0) {
        wl_out(",\"%s\":null", name);

    } else {
        wl_out(",\"%s\":%.3f", name, us / 1000);
    }
}


static void
wl_out_flush(void)
{
    wl_out("\n");
    fwrite(wl_obuf, 1, wl_olen, stdout);
    fflush(stdout);
    wl_olen = 0;
}


/* --churn: what the slots saw */

static void
wl_out_churn(const wl_stats_t *s)
{
    if (wl_conf.churn_max) {
        wl_out(",\"churn_joined\":%llu,\"churn_left\":%llu"
               ",\"churn_vanished\":%llu",
               (unsigned long long) s->churn_joined,
               (unsigned long long) s->churn_left,
               (unsigned long long) s->churn_vanished);
    }
}


/*
 * The longest gap per viewer: p50, p99 (a bucket's middle, never past
 * the maximum) and the maximum, in whole ms (as max_gap_ms)
 */

static void
wl_out_gap_pcts(const wl_hist_t *h)
{
    double     p50, p99;
    uint64_t   max;

    if (h->count == 0) {
        if (wl_conf.json) {
            wl_out(",\"gap_viewers\":0,\"gap_p50_ms\":null"
                   ",\"gap_p99_ms\":null,\"gap_max_ms\":null");

        } else {
            wl_out("none");
        }

        return;
    }

    max = h->max / 1000;
    p50 = wl_hist_pct(h, 0.5) / 1000;
    p99 = wl_hist_pct(h, 0.99) / 1000;

    if (p50 > (double) max) {
        p50 = (double) max;
    }

    if (p99 > (double) max) {
        p99 = (double) max;
    }

    if (wl_conf.json) {
        wl_out(",\"gap_viewers\":%llu,\"gap_p50_ms\":%llu"
               ",\"gap_p99_ms\":%llu,\"gap_max_ms\":%llu",
               (unsigned long long) h->count, (unsigned long long) p50,
               (unsigned long long) p99, (unsigned long long) max);
        return;
    }

    wl_out("p50 %llu p99 %llu max %llu ms (%llu viewers)",
           (unsigned long long) p50, (unsigned long long) p99,
           (unsigned long long) max, (unsigned long long) h->count);
}


/* --marks: each mark, then each label's viewers */

static void
wl_out_marks(const wl_gaps_t *g)
{
    unsigned                i;
    const wl_mark_t        *m;
    const wl_mark_group_t  *mg;

    if (g->nmarks == 0) {
        if (wl_conf.json && wl_conf.marks) {
            wl_out(",\"marks\":[],\"mark_groups\":[]");
        }

        return;
    }

    if (wl_conf.json) {
        wl_out(",\"marks\":[");

    } else {
        wl_out("  marks      the viewers with media at a mark, lost (no "
               "media after it), the longest gap around it (%.1f s "
               "window)", wl_conf.mark_window);
        wl_out_flush();
    }

    for (i = 0; i < g->nmarks; i++) {
        m = &g->mark[i];

        if (wl_conf.json) {
            wl_out("%s{\"label\":\"%s\",\"t\":%.3f,\"live\":%llu"
                   ",\"lost\":%llu,\"max_gap_ms\":%llu}", i ? "," : "",
                   g->group[m->group].label,
                   (m->t - wl_marks_t0) / 1e9,
                   (unsigned long long) m->live,
                   (unsigned long long) m->lost,
                   (unsigned long long) m->max_gap_ms);

        } else {
            wl_out("             %s at %.1f s: %llu viewers, %llu lost, "
                   "longest gap %llu ms", g->group[m->group].label,
                   (m->t - wl_marks_t0) / 1e9,
                   (unsigned long long) m->live,
                   (unsigned long long) m->lost,
                   (unsigned long long) m->max_gap_ms);
            wl_out_flush();
        }
    }

    if (wl_conf.json) {
        wl_out("],\"mark_groups\":[");
    }

    for (i = 0; i < g->ngroups; i++) {
        mg = &g->group[i];

        if (wl_conf.json) {
            wl_out("%s{\"label\":\"%s\",\"marks\":%llu,\"live\":%llu"
                   ",\"lost\":%llu,\"failed\":%llu,\"closed\":%llu",
                   i ? "," : "", mg->label,
                   (unsigned long long) mg->marks,
                   (unsigned long long) mg->live,
                   (unsigned long long) mg->lost,
                   (unsigned long long) mg->failed,
                   (unsigned long long) mg->closed);
            wl_out_gap_pcts(&mg->gap);
            wl_out("}");

        } else {
            wl_out("  %-10s %llu marks: %llu viewers with media, %llu lost, "
                   "%llu failed (%llu closed); longest gap a viewer ",
                   mg->label, (unsigned long long) mg->marks,
                   (unsigned long long) mg->live,
                   (unsigned long long) mg->lost,
                   (unsigned long long) mg->failed,
                   (unsigned long long) mg->closed);
            wl_out_gap_pcts(&mg->gap);
            wl_out_flush();
        }
    }

    if (wl_conf.json) {
        wl_out("]");
    }
}


static void
wl_out_fail(const wl_stats_t *s)
{
    int       any;
    unsigned  i;

    if (wl_conf.json) {
        wl_out(",\"fail\":{");

        for (i = 0; i < WL_FAIL_N; i++) {
            wl_out("%s\"%s\":%llu", i ? "," : "", wl_fail_names[i],
                   (unsigned long long) s->fail[i]);
        }

        wl_out("},\"http_status\":{");

        for (i = 0, any = 0; i < 600; i++) {
            if (s->http_status[i]) {
                wl_out("%s\"%u\":%u", any++ ? "," : "", i,
                       s->http_status[i]);
            }
        }

        wl_out("}");
        return;
    }

    if (s->failed == 0) {
        return;
    }

    wl_out(" (");

    for (i = 0, any = 0; i < WL_FAIL_N; i++) {
        if (s->fail[i]) {
            wl_out("%s%s %llu", any++ ? ", " : "", wl_fail_names[i],
                   (unsigned long long) s->fail[i]);
        }
    }

    for (i = 0; i < 600; i++) {
        if (s->http_status[i]) {
            wl_out(", HTTP %u: %u", i, s->http_status[i]);
        }
    }

    wl_out(")");
}


static uint64_t
wl_mutate_sum(const wl_stats_t *s)
{
    unsigned  i;
    uint64_t  sent;

    for (i = 0, sent = 0; i < WL_MUT_N; i++) {
        sent += s->mutate[i];
    }

    return sent;
}


/* --mutate: what was sent by kind, and how the peers fared after it */

static void
wl_out_mutate(const wl_stats_t *s)
{
    int       any;
    unsigned  i;
    uint64_t  sent;

    sent = wl_mutate_sum(s);

    if (wl_conf.json) {
        wl_out(",\"mutate_sent\":%llu,\"mutate\":{",
               (unsigned long long) sent);

        for (i = 0; i < WL_MUT_N; i++) {
            wl_out("%s\"%s\":%llu", i ? "," : "", wl_mut_names[i],
                   (unsigned long long) s->mutate[i]);
        }

        wl_out("},\"mutate_errors\":%llu,\"mutate_peers\":%llu"
               ",\"mutate_alive\":%llu,\"mutate_closed\":%llu"
               ",\"mutate_burst_ms\":%llu,\"mutate_after_ms\":%llu"
               ",\"rtp_during_mutate\":%llu,\"rtp_after_mutate\":%llu"
               ",\"min_rtp_after_mutate\":%llu"
               ",\"pub_rtcp_after_mutate\":%llu"
               ",\"consent_ok_after_mutate\":%llu",
               (unsigned long long) s->mutate_errors,
               (unsigned long long) s->mutate_peers,
               (unsigned long long) s->mutate_alive,
               (unsigned long long) s->mutate_closed,
               (unsigned long long) s->mutate_burst_ms,
               (unsigned long long) s->mutate_after_ms,
               (unsigned long long) s->rtp_during_mutate,
               (unsigned long long) s->rtp_after_mutate,
               (unsigned long long) s->min_rtp_after,
               (unsigned long long) s->rtcp_after_mutate,
               (unsigned long long) s->consent_after_mutate);
        return;
    }

    wl_out("  mutate     %llu datagrams by %llu peers in %llu ms (",
           (unsigned long long) sent, (unsigned long long) s->mutate_peers,
           (unsigned long long) s->mutate_burst_ms);

    for (i = 0, any = 0; i < WL_MUT_N; i++) {
        if (s->mutate[i]) {
            wl_out("%s%s %llu", any++ ? ", " : "", wl_mut_names[i],
                   (unsigned long long) s->mutate[i]);
        }
    }

    wl_out("), %llu not sent", (unsigned long long) s->mutate_errors);
    wl_out_flush();

    wl_out("             during it viewers decrypted %llu RTP packets; in "
           "the %.1f s after it %llu, fewest for a viewer %llu; publisher "
           "RTCP %llu; consent answered %llu; peers up with media %llu, "
           "gone %llu",
           (unsigned long long) s->rtp_during_mutate,
           s->mutate_after_ms / 1000.0,
           (unsigned long long) s->rtp_after_mutate,
           (unsigned long long) s->min_rtp_after,
           (unsigned long long) s->rtcp_after_mutate,
           (unsigned long long) s->consent_after_mutate,
           (unsigned long long) s->mutate_alive,
           (unsigned long long) s->mutate_closed);
    wl_out_flush();
}


/*
 * One line a second: s and prev are the sums of all processes now and a
 * second ago.  With final, the summary of the run instead.
 */

void
wl_report(const wl_stats_t *s, const wl_stats_t *prev, double t, double dt,
    int final)
{
    int            server;
    char           b1[64], b2[64];
    pid_t          pids[WL_MAX_PIDS + 1];
    double         srv_ms, self_ms, rss_mb, loss, sec, host;
    unsigned       n;
    uint64_t       rss, dexp, drcv, lost, viewers, udp_r, udp_s;
    wl_hist_t     *lat;
    static wl_hist_t  hist, qhist;

    viewers = s->viewers;

    if (final) {
        goto summary;
    }

    /* the server, and ourselves */

    n = wl_server_pids(pids);
    server = (n > 0);
    srv_ms = wl_cpu_sample(&wl_server_cpu, pids, n, &rss);
    rss_mb = rss / 1024.0;

    if (server) {
        wl_server_seen = n;
        wl_server_ms_total += srv_ms;

        if (srv_ms / dt / 10 > wl_server_pct_max) {
            wl_server_pct_max = srv_ms / dt / 10;
        }

        if (rss_mb > wl_server_rss_max) {
            wl_server_rss_max = rss_mb;
        }
    }

    pids[0] = getpid();
    if (wl_nchildren) {
        memcpy(pids + 1, wl_children, wl_nchildren * sizeof(pid_t));
    }
    self_ms = wl_cpu_sample(&wl_self_cpu, pids, wl_nchildren + 1, &rss);
    wl_self_ms_total += self_ms;
    wl_seconds_total += dt;

    host = wl_host_sample();

    if (wl_udp_sample(&udp_r, &udp_s) != 0) {
        udp_r = 0;
        udp_s = 0;
    }

    wl_udp_rcvbuf_total += udp_r;
    wl_udp_sndbuf_total += udp_s;

    if (host >= 0) {
        wl_host_total += host * dt;

        if (host > wl_host_max) {
            wl_host_max = host;
        }
    }

    dexp = s->expected - prev->expected;
    drcv = s->received - prev->received;
    lost = dexp > drcv ? dexp - drcv : 0;
    loss = dexp ? 100.0 * lost / dexp : 0;

    wl_hist_sub(&hist, &s->latency, &prev->latency);
    wl_hist_sub(&qhist, &s->queue, &prev->queue);
    lat = &hist;

    if (wl_conf.json) {
        wl_out("{\"type\":\"tick\",\"t\":%.1f", t);

        if (viewers) {
            wl_out(",\"viewers\":%llu,\"launched\":%llu,\"connected\":%llu"
                   ",\"connected_ever\":%llu,\"waiting\":%llu"
                   ",\"failed\":%llu",
                   (unsigned long long) viewers,
                   (unsigned long long) s->launched,
                   (unsigned long long) s->connected_now,
                   (unsigned long long) s->connected_ever,
                   (unsigned long long) s->waiting,
                   (unsigned long long) s->failed);
            wl_out_fail(s);
            wl_out(",\"stalls\":%llu,\"max_gap_ms\":%llu"
                   ",\"consent_unanswered\":%llu,\"deleted\":%llu"
                   ",\"delete_failed\":%llu",
                   (unsigned long long) s->stalls,
                   (unsigned long long) s->max_gap_ms,
                   (unsigned long long) s->consent_unanswered,
                   (unsigned long long) s->deleted,
                   (unsigned long long) s->delete_failed);

            wl_out_churn(s);

            wl_out(",\"rx_pps\":%.0f,\"rx_mbps\":%.3f,\"rtp_pps\":%.0f"
                   ",\"rtcp_pps\":%.0f,\"loss_pct\":%.3f,\"lost\":%llu"
                   ",\"client_drops\":%llu,\"decrypt_errors\":%llu",
                   (s->rx_datagrams - prev->rx_datagrams) / dt,
                   (s->rx_bytes - prev->rx_bytes) * 8 / dt / 1e6,
                   (s->rtp_packets - prev->rtp_packets) / dt,
                   (s->rtcp_packets - prev->rtcp_packets) / dt,
                   loss, (unsigned long long) lost,
                   (unsigned long long) (s->client_drops
                                         - prev->client_drops),
                   (unsigned long long) (s->decrypt_errors
                                         - prev->decrypt_errors));
            wl_out_ms("lat_p50_ms", wl_hist_pct(lat, 0.5));
            wl_out_ms("lat_p99_ms", wl_hist_pct(lat, 0.99));
            wl_out_ms("lat_max_ms", lat->count ? (double) lat->max : -1);
            wl_out_ms("queue_p99_ms", wl_hist_pct(&qhist, 0.99));
            wl_out_ms("ttfp_p50_ms", wl_hist_pct(&s->ttfp, 0.5));
            wl_out_ms("ttfp_p99_ms", wl_hist_pct(&s->ttfp, 0.99));
        }

        if (wl_conf.publish) {
            wl_out(",\"pub_connected\":%llu,\"pub_tx_pps\":%.0f"
                   ",\"pub_tx_mbps\":%.3f,\"pub_frames\":%llu"
                   ",\"pub_keyframes\":%llu,\"pub_pli\":%llu"
                   ",\"pub_fir\":%llu,\"pub_nack\":%llu,\"pub_remb\":%llu"
                   ",\"pub_remb_bps\":%llu,\"pub_rr\":%llu",
                   (unsigned long long) s->pub_connected,
                   (s->tx_packets - prev->tx_packets) / dt,
                   (s->tx_bytes - prev->tx_bytes) * 8 / dt / 1e6,
                   (unsigned long long) s->frames,
                   (unsigned long long) s->keyframes,
                   (unsigned long long) s->pli,
                   (unsigned long long) s->fir,
                   (unsigned long long) s->nack,
                   (unsigned long long) s->remb,
                   (unsigned long long) s->remb_bps,
                   (unsigned long long) s->rr);
        }

        if (wl_conf.mutate) {
            wl_out(",\"mutate_pps\":%.0f,\"mutate_phase\":%d",
                   (wl_mutate_sum(s) - wl_mutate_sum(prev)) / dt,
                   wl_mutate_phase);
        }

        if (server) {
            wl_out(",\"server_pids\":%u,\"server_cpu_ms\":%.0f"
                   ",\"server_cpu_pct\":%.1f,\"server_rss_mb\":%.1f",
                   n, srv_ms, srv_ms / dt / 10, rss_mb);
        }

        wl_out(",\"self_cpu_pct\":%.1f", self_ms / dt / 10);

        if (host >= 0) {
            wl_out(",\"host_cpu_pct\":%.1f", host);
        }

        wl_out(",\"udp_rcvbuf_errors\":%llu,\"udp_sndbuf_errors\":%llu}",
               (unsigned long long) udp_r, (unsigned long long) udp_s);
        wl_out_flush();
        return;
    }

    wl_out("[%6.1fs]", t);

    if (viewers) {
        wl_out(" | viewers %llu/%llu up, %llu failed",
               (unsigned long long) s->connected_now,
               (unsigned long long) viewers,
               (unsigned long long) s->failed);
        wl_out_fail(s);
        wl_out(" | rx %.0f pkt/s %.1f Mbit/s loss %.2f%%",
               (s->rx_datagrams - prev->rx_datagrams) / dt,
               (s->rx_bytes - prev->rx_bytes) * 8 / dt / 1e6, loss);

        if (s->client_drops != prev->client_drops) {
            wl_out(" (our drops %llu)",
                   (unsigned long long) (s->client_drops
                                         - prev->client_drops));
        }

        if (lat->count) {
            wl_out(" | latency p50 %.2f p99 %.2f ms",
                   wl_hist_pct(lat, 0.5) / 1000,
                   wl_hist_pct(lat, 0.99) / 1000);
        }

        if (s->ttfp.count) {
            wl_out(" | 1st pkt p50 %.0f p99 %.0f ms",
                   wl_hist_pct(&s->ttfp, 0.5) / 1000,
                   wl_hist_pct(&s->ttfp, 0.99) / 1000);
        }
    }

    if (wl_conf.publish) {
        wl_out(" | pub %s %.0f pkt/s %.2f Mbit/s kf %llu pli %llu nack %llu",
               s->pub_connected ? "up" : "down",
               (s->tx_packets - prev->tx_packets) / dt,
               (s->tx_bytes - prev->tx_bytes) * 8 / dt / 1e6,
               (unsigned long long) s->keyframes,
               (unsigned long long) s->pli,
               (unsigned long long) s->nack);
    }

    if (wl_conf.mutate) {
        wl_out(" | mutated %.0f/s",
               (wl_mutate_sum(s) - wl_mutate_sum(prev)) / dt);
    }

    if (server) {
        wl_out(" | nginx %.0f ms/s (%.0f%%) %.1f MB", srv_ms,
               srv_ms / dt / 10, rss_mb);
    }

    wl_out(" | self %.0f%%", self_ms / dt / 10);

    if (host >= 0) {
        wl_out(" | host %.0f%%", host);
    }

    if (udp_r || udp_s) {
        wl_out(" | UDP buffer drops %llu in, %llu out",
               (unsigned long long) udp_r, (unsigned long long) udp_s);
    }

    if (qhist.count && wl_hist_pct(&qhist, 0.99) > 10000) {
        wl_out(" | our queue p99 %.0f ms", wl_hist_pct(&qhist, 0.99) / 1000);
    }

    wl_out_flush();
    return;

summary:

    sec = wl_seconds_total > 0 ? wl_seconds_total : 1;
    lost = s->expected > s->received ? s->expected - s->received : 0;
    loss = s->expected ? 100.0 * lost / s->expected : 0;

    if (wl_conf.json) {
        wl_out("{\"type\":\"summary\",\"t\":%.1f", t);

        if (viewers) {
            wl_out(",\"viewers\":%llu,\"launched\":%llu,\"connected\":%llu"
                   ",\"failed\":%llu",
                   (unsigned long long) viewers,
                   (unsigned long long) s->launched,
                   (unsigned long long) s->connected_ever,
                   (unsigned long long) s->failed);
            wl_out_fail(s);
            wl_out(",\"rx_datagrams\":%llu,\"rx_bytes\":%llu"
                   ",\"rtp_packets\":%llu,\"rtcp_packets\":%llu"
                   ",\"min_rtp_per_viewer\":%llu,\"expected\":%llu"
                   ",\"lost\":%llu,\"loss_pct\":%.3f,\"client_drops\":%llu"
                   ",\"decrypt_errors\":%llu,\"consent_sent\":%llu"
                   ",\"consent_ok\":%llu,\"deleted\":%llu"
                   ",\"delete_failed\":%llu,\"rr_sent\":%llu"
                   ",\"close_notify\":%llu,\"consent_unanswered\":%llu"
                   ",\"stalls\":%llu,\"stalled_viewers\":%llu"
                   ",\"max_gap_ms\":%llu",
                   (unsigned long long) s->rx_datagrams,
                   (unsigned long long) s->rx_bytes,
                   (unsigned long long) s->rtp_packets,
                   (unsigned long long) s->rtcp_packets,
                   (unsigned long long) s->min_rtp,
                   (unsigned long long) s->expected,
                   (unsigned long long) lost, loss,
                   (unsigned long long) s->client_drops,
                   (unsigned long long) s->decrypt_errors,
                   (unsigned long long) s->consent_sent,
                   (unsigned long long) s->consent_ok,
                   (unsigned long long) s->deleted,
                   (unsigned long long) s->delete_failed,
                   (unsigned long long) s->rr_sent,
                   (unsigned long long) s->close_notify,
                   (unsigned long long) s->consent_unanswered,
                   (unsigned long long) s->stalls,
                   (unsigned long long) s->stalled_viewers,
                   (unsigned long long) s->max_gap_ms);

            wl_out_gap_pcts(&s->gaps.viewer_gap);
            wl_out_marks(&s->gaps);
            wl_out_churn(s);

            wl_out(",\"latency_samples\":%llu",
                   (unsigned long long) s->latency.count);
            wl_out_ms("lat_p50_ms", wl_hist_pct(&s->latency, 0.5));
            wl_out_ms("lat_p99_ms", wl_hist_pct(&s->latency, 0.99));
            wl_out_ms("lat_max_ms", s->latency.count
                                    ? (double) s->latency.max : -1);
            wl_out_ms("queue_p50_ms", wl_hist_pct(&s->queue, 0.5));
            wl_out_ms("queue_p99_ms", wl_hist_pct(&s->queue, 0.99));
            wl_out_ms("ttfp_p50_ms", wl_hist_pct(&s->ttfp, 0.5));
            wl_out_ms("ttfp_p99_ms", wl_hist_pct(&s->ttfp, 0.99));
            wl_out_ms("http_p50_ms", wl_hist_pct(&s->setup_http, 0.5));
            wl_out_ms("http_p99_ms", wl_hist_pct(&s->setup_http, 0.99));
            wl_out_ms("ice_p50_ms", wl_hist_pct(&s->setup_ice, 0.5));
            wl_out_ms("ice_p99_ms", wl_hist_pct(&s->setup_ice, 0.99));
            wl_out_ms("dtls_p50_ms", wl_hist_pct(&s->setup_dtls, 0.5));
            wl_out_ms("dtls_p99_ms", wl_hist_pct(&s->setup_dtls, 0.99));
        }

        if (wl_conf.publish) {
            wl_out(",\"pub_failed\":%llu,\"pub_frames\":%llu"
                   ",\"pub_keyframes\":%llu,\"pub_tx_packets\":%llu"
                   ",\"pub_tx_bytes\":%llu,\"pub_tx_drops\":%llu"
                   ",\"pub_pli\":%llu,\"pub_fir\":%llu,\"pub_nack\":%llu"
                   ",\"pub_remb\":%llu,\"pub_remb_bps\":%llu"
                   ",\"pub_rr\":%llu,\"pub_rtcp\":%llu"
                   ",\"pub_consent_unanswered\":%llu",
                   (unsigned long long) s->pub_failed,
                   (unsigned long long) s->frames,
                   (unsigned long long) s->keyframes,
                   (unsigned long long) s->tx_packets,
                   (unsigned long long) s->tx_bytes,
                   (unsigned long long) s->tx_drops,
                   (unsigned long long) s->pli,
                   (unsigned long long) s->fir,
                   (unsigned long long) s->nack,
                   (unsigned long long) s->remb,
                   (unsigned long long) s->remb_bps,
                   (unsigned long long) s->rr,
                   (unsigned long long) s->rx_rtcp_pub,
                   (unsigned long long) s->pub_consent_unanswered);
        }

        if (wl_conf.mutate) {
            wl_out_mutate(s);
        }

        if (wl_conf.index_check) {
            wl_out(",\"nonce_reuse\":%llu,\"index_repeats\":%llu"
                   ",\"index_nacks\":%llu",
                   (unsigned long long) s->nonce_reuse,
                   (unsigned long long) s->index_repeats,
                   (unsigned long long) s->index_nacks);
        }

        if (wl_conf.dup_every) {
            wl_out(",\"pub_dups\":%llu", (unsigned long long) s->pub_dups);
        }

        if (wl_conf.tcp_viewers || wl_conf.tcp_publisher) {
            wl_out(",\"transport\":\"%s\",\"tcp_viewers\":%llu"
                   ",\"tcp_viewers_connected\":%llu"
                   ",\"tcp_publisher\":%s,\"tcp_out_drops\":%llu",
                   wl_conf.tcp_viewers == 0 ? "udp"
                   : wl_conf.tcp_viewers >= wl_conf.viewers ? "tcp"
                   : "mixed",
                   (unsigned long long) wl_conf.tcp_viewers,
                   (unsigned long long) s->tcp_viewers,
                   wl_conf.tcp_publisher ? "true" : "false",
                   (unsigned long long) s->tcp_out_drops);
        }

        if (wl_conf.tcp_stall_after) {
            wl_out(",\"stall_viewers\":%llu,\"stall_resumed\":%llu"
                   ",\"stall_keyframes\":%llu"
                   ",\"stall_consent_excused\":%llu",
                   (unsigned long long) s->stall_viewers,
                   (unsigned long long) s->stall_resumed,
                   (unsigned long long) s->stall_keyframes,
                   (unsigned long long) s->stall_consent);
        }

        if (wl_server_seen) {
            wl_out(",\"server_pids\":%u,\"server_cpu_ms\":%.0f"
                   ",\"server_cpu_pct_avg\":%.1f"
                   ",\"server_cpu_pct_max\":%.1f,\"server_rss_mb_max\":%.1f",
                   wl_server_seen, wl_server_ms_total,
                   wl_server_ms_total / sec / 10, wl_server_pct_max,
                   wl_server_rss_max);
        }

        wl_out(",\"self_cpu_pct_avg\":%.1f,\"host_cpu_pct_avg\":%.1f"
               ",\"host_cpu_pct_max\":%.1f,\"udp_rcvbuf_errors\":%llu"
               ",\"udp_sndbuf_errors\":%llu,\"saturated\":%s}",
               wl_self_ms_total / sec / 10, wl_host_total / sec, wl_host_max,
               (unsigned long long) wl_udp_rcvbuf_total,
               (unsigned long long) wl_udp_sndbuf_total,
               wl_saturated(s) ? "true" : "false");
        wl_out_flush();
        return;
    }

    wl_out("summary after %.1f s:", t);
    wl_out_flush();

    if (viewers) {
        wl_out("  viewers    %llu to run, %llu launched, %llu connected, "
               "%llu failed",
               (unsigned long long) viewers,
               (unsigned long long) s->launched,
               (unsigned long long) s->connected_ever,
               (unsigned long long) s->failed);
        wl_out_fail(s);
        wl_out_flush();

        wl_out("  setup      POST->answer %s, ICE %s, ",
               wl_pcts(&s->setup_http, b1), wl_pcts(&s->setup_ice, b2));
        wl_out("DTLS %s", wl_pcts(&s->setup_dtls, b1));
        wl_out_flush();

        wl_out("  1st packet POST->first decrypted RTP %s (%llu viewers)",
               wl_pcts(&s->ttfp, b1), (unsigned long long) s->ttfp.count);
        wl_out_flush();

        wl_out("  media      %llu RTP packets (%.1f MB), fewest for a viewer "
               "%llu; %llu RTCP; loss %.3f%% (%llu of %llu); our socket "
               "drops %llu; decrypt errors %llu",
               (unsigned long long) s->rtp_packets, s->rtp_bytes / 1e6,
               (unsigned long long) s->min_rtp,
               (unsigned long long) s->rtcp_packets, loss,
               (unsigned long long) lost,
               (unsigned long long) s->expected,
               (unsigned long long) s->client_drops,
               (unsigned long long) s->decrypt_errors);
        wl_out_flush();

        wl_out("  latency    send to arrival %s, max %.2f ms (%llu packets); "
               "arrival to decryption (ours) %s",
               wl_pcts(&s->latency, b1), s->latency.max / 1000.0,
               (unsigned long long) s->latency.count,
               wl_pcts(&s->queue, b2));
        wl_out_flush();

        wl_out("  stalls     %llu gaps over 1 s (%llu viewers), longest "
               "%llu ms",
               (unsigned long long) s->stalls,
               (unsigned long long) s->stalled_viewers,
               (unsigned long long) s->max_gap_ms);
        wl_out_flush();

        wl_out("  gaps       the longest a viewer: ");
        wl_out_gap_pcts(&s->gaps.viewer_gap);
        wl_out_flush();

        wl_out_marks(&s->gaps);

        if (wl_conf.churn_max) {
            wl_out("  churn      %llu new viewers, %llu left with a DELETE, "
                   "%llu vanished",
                   (unsigned long long) s->churn_joined,
                   (unsigned long long) s->churn_left,
                   (unsigned long long) s->churn_vanished);
            wl_out_flush();
        }

        wl_out("  consent    %llu checks, %llu answered, %llu not in 2 s; "
               "receiver reports %llu; DELETE %llu ok, %llu failed; "
               "close_notify %llu",
               (unsigned long long) s->consent_sent,
               (unsigned long long) s->consent_ok,
               (unsigned long long) s->consent_unanswered,
               (unsigned long long) s->rr_sent,
               (unsigned long long) s->deleted,
               (unsigned long long) s->delete_failed,
               (unsigned long long) s->close_notify);
        wl_out_flush();

        if (wl_conf.tcp_viewers) {
            wl_out("  ICE-TCP    %llu viewers of %llu connected over TCP, "
                   "%llu packets our queues dropped",
                   (unsigned long long) s->tcp_viewers,
                   (unsigned long long) wl_conf.tcp_viewers,
                   (unsigned long long) s->tcp_out_drops);
            wl_out_flush();
        }

        if (wl_conf.tcp_stall_after) {
            wl_out("  slow       %llu viewers stopped reading, %llu read "
                   "media again, %llu got a key frame after it; consent "
                   "checks excused %llu",
                   (unsigned long long) s->stall_viewers,
                   (unsigned long long) s->stall_resumed,
                   (unsigned long long) s->stall_keyframes,
                   (unsigned long long) s->stall_consent);
            wl_out_flush();
        }
    }

    if (wl_conf.publish) {
        wl_out("  publisher  %s; %llu frames (%llu key), %llu packets, "
               "%.1f MB, %llu dropped; PLI %llu FIR %llu NACKed %llu "
               "REMB %llu (last %.2f Mbit/s) RR %llu; consent checks not "
               "answered in 2 s %llu",
               s->pub_failed ? "FAILED" : "ok",
               (unsigned long long) s->frames,
               (unsigned long long) s->keyframes,
               (unsigned long long) s->tx_packets, s->tx_bytes / 1e6,
               (unsigned long long) s->tx_drops,
               (unsigned long long) s->pli,
               (unsigned long long) s->fir,
               (unsigned long long) s->nack,
               (unsigned long long) s->remb, s->remb_bps / 1e6,
               (unsigned long long) s->rr,
               (unsigned long long) s->pub_consent_unanswered);
        wl_out_flush();
    }

    if (wl_conf.mutate) {
        wl_out_mutate(s);
    }

    if (wl_server_seen) {
        wl_out("  nginx      %u processes: CPU %.0f ms, avg %.1f%% peak "
               "%.1f%% of one core; RSS max %.1f MB",
               wl_server_seen, wl_server_ms_total,
               wl_server_ms_total / sec / 10, wl_server_pct_max,
               wl_server_rss_max);
        wl_out_flush();
    }

    wl_out("  self       CPU avg %.1f%% of one core; host CPUs busy avg "
           "%.0f%% max %.0f%%; UDP datagrams dropped by full buffers on the "
           "host: %llu receive, %llu send (ours: %llu)",
           wl_self_ms_total / sec / 10, wl_host_total / sec, wl_host_max,
           (unsigned long long) wl_udp_rcvbuf_total,
           (unsigned long long) wl_udp_sndbuf_total,
           (unsigned long long) s->client_drops);
    wl_out_flush();

    if (wl_saturated(s)) {
        wl_out("  WARNING    the host or the load generator was saturated "
               "(CPUs busy over 90 %%, our drops or queueing): the numbers "
               "are this machine's, not only nginx's; use fewer viewers or "
               "another machine for the load");
        wl_out_flush();
    }
}


/* the load generator cannot vouch for the numbers */

static int
wl_saturated(const wl_stats_t *s)
{
    double  sec;

    sec = wl_seconds_total > 0 ? wl_seconds_total : 1;

    return wl_host_total / sec > 90 || s->client_drops > 0
           || (s->queue.count && wl_hist_pct(&s->queue, 0.99) > 50000);
}


/* "p50 1.23 p99 4.56 ms", or "none" */

static const char *
wl_pcts(const wl_hist_t *h, char *buf)
{
    if (h->count == 0) {
        return "none";
    }

    snprintf(buf, 64, "p50 %.2f p99 %.2f ms", wl_hist_pct(h, 0.5) / 1000,
             wl_hist_pct(h, 0.99) / 1000);

    return buf;
}
