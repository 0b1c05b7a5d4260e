
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>

#include "webrtc_load.h"


/*
 * What an event costs the viewers: each viewer's longest gap in its
 * media (the distribution over the viewers), and with --marks the gaps
 * around events marked at a time, each with a label ("reload", "kill").
 *
 * A mark is a line on stdin: its label (letters, digits, "_.-", up to
 * 15; an empty line is "mark"); its time is when the line is read.
 * With --procs the parent passes it to its children as "@<ns> <label>"
 * on the pipe that started them (CLOCK_MONOTONIC is the host's).
 *
 * A viewer counts at a mark if it had media then (RTP within the last
 * WL_STALL, connected).  Its gap around the mark: the longest interval
 * between two of its RTP packets that ends after the mark and starts
 * before the mark's window ends (--mark-window, or the next mark); its
 * media is lost at the mark if no RTP came after it by the end of the
 * run (or of the viewer).  Per label, each viewer's longest gap around
 * any of the label's marks, over the viewers not lost at any of them.
 */


typedef struct {
    int                         type;           /* WL_EV_MARK */
    int                         fd;
    unsigned                    parent:1;       /* "@ns label" lines */
    size_t                      len;
    char                        buf[512];
} wl_mark_in_t;


static void wl_mark_line(char *line, int parent);
static void wl_mark_add(int64_t t, const char *label);
static void wl_gaps_viewer(wl_gaps_t *g, wl_peer_t *p);


int64_t                  wl_marks_t0;

static wl_mark_in_t      wl_mark_in;
static wl_peer_t       **wl_mark_viewers;
static unsigned          wl_mark_nviewers;

/* the marks of this process; the counters of the viewers gone */
static wl_gaps_t         wl_marks;
static wl_gaps_t         wl_gaps_retired;


int
wl_marks_init(int fd, int parent, int64_t start, wl_peer_t **viewers,
    unsigned n)
{
    struct epoll_event  ee;

    wl_marks_t0 = start;
    wl_mark_viewers = viewers;
    wl_mark_nviewers = n;

    wl_mark_in.type = WL_EV_MARK;
    wl_mark_in.fd = fd;
    wl_mark_in.parent = parent;

    ee.events = EPOLLIN;
    ee.data.ptr = &wl_mark_in;

    if (epoll_ctl(wl_epfd, EPOLL_CTL_ADD, fd, &ee) == -1) {
        wl_log("webrtc-load: --marks: epoll_ctl(): %s", strerror(errno));
        return -1;
    }

    return 0;
}


/* one read a readiness: stdin stays blocking, as the caller left it */

void
wl_marks_event(void *ev)
{
    char          *nl;
    ssize_t        n;
    wl_mark_in_t  *in;

    in = ev;

    n = read(in->fd, in->buf + in->len, sizeof(in->buf) - 1 - in->len);

    if (n <= 0) {
        if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
            return;
        }

        /* the end of the marks */
        (void) epoll_ctl(wl_epfd, EPOLL_CTL_DEL, in->fd, NULL);
        return;
    }

    in->len += n;
    in->buf[in->len] = '\0';

    while ((nl = memchr(in->buf, '\n', in->len)) != NULL) {
        *nl = '\0';
        wl_mark_line(in->buf, in->parent);

        in->len -= nl + 1 - in->buf;
        memmove(in->buf, nl + 1, in->len);
    }

    if (in->len == sizeof(in->buf) - 1) {
        /* no line in it: dropped */
        in->len = 0;
    }
}


static void
wl_mark_line(char *line, int parent)
{
    int64_t  t;
    char    *p, *end, label[WL_MARK_LABEL];
    size_t   n;

    if (parent) {
        /* "@ns label" from the parent; its "g" went before */
        if (line[0] != '@') {
            return;
        }

        t = strtoll(line + 1, &end, 10);
        if (end == line + 1 || *end != ' ') {
            return;
        }

        p = end + 1;

    } else {
        t = wl_now();
        p = line;
    }

    while (*p == ' ' || *p == '\t') {
        p++;
    }

    for (n = 0; *p && n < WL_MARK_LABEL - 1; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
            || (*p >= '0' && *p <= '9') || *p == '_' || *p == '.'
            || *p == '-')
        {
            label[n++] = *p;

        } else if (*p != ' ' && *p != '\t' && *p != '\r') {
            break;
        }
    }

    label[n] = '\0';

    wl_mark_add(t, n ? label : "mark");
}


static void
wl_mark_add(int64_t t, const char *label)
{
    char        line[64];
    int         len;
    unsigned    i, g, bit;
    wl_peer_t  *p;

    if (wl_marks.nmarks == WL_MARKS) {
        wl_log("webrtc-load: --marks: more than %d marks, \"%s\" ignored",
               WL_MARKS, label);
        return;
    }

    for (g = 0; g < wl_marks.ngroups; g++) {
        if (strcmp(wl_marks.group[g].label, label) == 0) {
            break;
        }
    }

    if (g == wl_marks.ngroups) {
        if (g == WL_MARK_GROUPS) {
            wl_log("webrtc-load: --marks: more than %d labels, \"%s\" "
                   "ignored", WL_MARK_GROUPS, label);
            return;
        }

        strcpy(wl_marks.group[g].label, label);
        wl_marks.ngroups++;
    }

    i = wl_marks.nmarks++;
    wl_marks.mark[i].t = t;
    wl_marks.mark[i].group = g;
    wl_marks.group[g].marks++;

    /* the viewers with media at the mark */

    bit = 1u << i;

    for (i = 0; i < wl_mark_nviewers; i++) {
        p = wl_mark_viewers[i];

        if (p->state == WL_PEER_CONNECTED && p->got_first
            && t - p->last_rtp <= WL_STALL)
        {
            p->mark_live |= bit;
        }
    }

    len = snprintf(line, sizeof(line), "@%lld %s\n", (long long) t, label);

    if (len > 0 && (size_t) len < sizeof(line)) {
        wl_children_mark(line, (size_t) len);
    }
}


/*
 * A gap of a viewer's RTP, from..to (arrivals, ns); resumed: RTP came
 * at "to" (not the open gap at the end of a run)
 */

void
wl_marks_gap(wl_peer_t *p, int64_t from, int64_t to, int resumed)
{
    int64_t   t, end, w;
    unsigned  i, bit;

    w = (int64_t) (wl_conf.mark_window * WL_SEC);

    for (i = wl_marks.nmarks; i-- > 0; ) {
        t = wl_marks.mark[i].t;

        if (to <= t) {
            /* ended before the mark */
            continue;
        }

        end = t + w;

        if (i + 1 < wl_marks.nmarks && wl_marks.mark[i + 1].t < end) {
            end = wl_marks.mark[i + 1].t;
        }

        bit = 1u << i;

        if (from < end) {
            if (to - from > p->mark_gap[i]) {
                p->mark_gap[i] = to - from;
            }

        } else if (p->mark_resumed & bit) {
            /* and so are the older ones, past their windows too */
            break;
        }

        if (resumed) {
            p->mark_resumed |= bit;
        }
    }
}


/* a viewer replaced by --churn: its gaps stay counted */

void
wl_gaps_retire(wl_peer_t *p)
{
    wl_gaps_viewer(&wl_gaps_retired, p);
}


void
wl_gaps_snapshot(wl_gaps_t *g, wl_peer_t **viewers, unsigned n)
{
    unsigned  i;

    *g = wl_gaps_retired;

    g->nmarks = wl_marks.nmarks;
    g->ngroups = wl_marks.ngroups;

    for (i = 0; i < wl_marks.nmarks; i++) {
        g->mark[i].t = wl_marks.mark[i].t;
        g->mark[i].group = wl_marks.mark[i].group;
    }

    for (i = 0; i < wl_marks.ngroups; i++) {
        memcpy(g->group[i].label, wl_marks.group[i].label, WL_MARK_LABEL);
        g->group[i].marks = wl_marks.group[i].marks;
    }

    for (i = 0; i < n; i++) {
        wl_gaps_viewer(g, viewers[i]);
    }
}


static void
wl_gaps_viewer(wl_gaps_t *g, wl_peer_t *p)
{
    int64_t           gap[WL_MARK_GROUPS], span;
    unsigned          i, k, live, lost;
    wl_mark_t        *m;
    wl_mark_group_t  *mg;

    if (p->role != WL_ROLE_VIEWER) {
        return;
    }

    /* max_gap_ms is the longest of these */

    if (p->got_first || p->max_gap) {
        wl_hist_add(&g->viewer_gap, (uint64_t) p->max_gap / 1000);
    }

    live = 0;
    lost = 0;

    for (k = 0; k < WL_MARK_GROUPS; k++) {
        gap[k] = 0;
    }

    for (i = 0; i < wl_marks.nmarks; i++) {
        if (!(p->mark_live & (1u << i))) {
            continue;
        }

        m = &g->mark[i];
        k = wl_marks.mark[i].group;

        m->live++;
        live |= 1u << k;

        if (!(p->mark_resumed & (1u << i))) {
            m->lost++;
            lost |= 1u << k;
            continue;
        }

        if ((uint64_t) (p->mark_gap[i] / WL_MS) > m->max_gap_ms) {
            m->max_gap_ms = p->mark_gap[i] / WL_MS;
        }

        if (p->mark_gap[i] > gap[k]) {
            gap[k] = p->mark_gap[i];
        }
    }

    for (k = 0; k < wl_marks.ngroups; k++) {
        mg = &g->group[k];

        if (live & (1u << k)) {
            mg->live++;

            if (lost & (1u << k)) {
                mg->lost++;

            } else {
                wl_hist_add(&mg->gap, (uint64_t) gap[k] / 1000);
            }
        }
    }

    /*
     * failed from a label's first mark until the next label's first:
     * labels come in the order of their first marks
     */

    if (p->state != WL_PEER_FAILED || wl_marks.nmarks == 0) {
        return;
    }

    for (k = wl_marks.ngroups; k-- > 0; ) {
        for (i = 0; i < wl_marks.nmarks; i++) {
            if (wl_marks.mark[i].group == k) {
                break;
            }
        }

        span = wl_marks.mark[i].t;

        if (p->failed_at >= span) {
            g->group[k].failed++;

            if (p->fail == WL_FAIL_CLOSED) {
                g->group[k].closed++;
            }

            break;
        }
    }
}


/* the sum of two processes' (the parent's marks come first) */

void
wl_gaps_add(wl_gaps_t *r, const wl_gaps_t *a)
{
    unsigned  i;

    wl_hist_merge(&r->viewer_gap, &a->viewer_gap);

    for (i = r->nmarks; i < a->nmarks; i++) {
        r->mark[i].t = a->mark[i].t;
        r->mark[i].group = a->mark[i].group;
    }

    for (i = r->ngroups; i < a->ngroups; i++) {
        memcpy(r->group[i].label, a->group[i].label, WL_MARK_LABEL);
        r->group[i].marks = a->group[i].marks;
    }

    if (a->nmarks > r->nmarks) {
        r->nmarks = a->nmarks;
    }

    if (a->ngroups > r->ngroups) {
        r->ngroups = a->ngroups;
    }

    for (i = 0; i < a->nmarks; i++) {
        r->mark[i].live += a->mark[i].live;
        r->mark[i].lost += a->mark[i].lost;

        if (a->mark[i].max_gap_ms > r->mark[i].max_gap_ms) {
            r->mark[i].max_gap_ms = a->mark[i].max_gap_ms;
        }
    }

    for (i = 0; i < a->ngroups; i++) {
        r->group[i].live += a->group[i].live;
        r->group[i].lost += a->group[i].lost;
        r->group[i].failed += a->group[i].failed;
        r->group[i].closed += a->group[i].closed;
        wl_hist_merge(&r->group[i].gap, &a->group[i].gap);
    }
}
