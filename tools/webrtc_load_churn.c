
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <stdlib.h>
#include <string.h>

#include "webrtc_load.h"


/*
 * --churn MIN:MAX: viewers come and go for the whole run.  Each viewer
 * lives a random time in [MIN, MAX] seconds from its POST (the first
 * ones from 5 s, so that their ends spread), then leaves: with a DELETE,
 * or for --vanish PCT % of them without one (its socket closed, nothing
 * sent: the server must time it out).  Its slot then takes a new viewer.
 * A viewer that failed is DELETEd and replaced as well.  A viewer whose
 * media stopped over 1 s before its end failed (stalled), as at the end
 * of a run.
 */


static int64_t  *wl_churn_end;          /* a slot's viewer leaves, or 0 */
static u_char   *wl_churn_later;        /* a slot's viewer is a new one */


static int64_t
wl_churn_life(int first)
{
    double  min, max;

    min = first ? 5 : wl_conf.churn_min;
    max = wl_conf.churn_max;

    if (min > max) {
        min = max;
    }

    return (int64_t) ((min + (max - min) * (wl_random32() / 4294967296.0))
                      * WL_SEC);
}


int
wl_churn_init(unsigned n)
{
    wl_churn_end = calloc(n ? n : 1, sizeof(int64_t));
    wl_churn_later = calloc(n ? n : 1, 1);

    return (wl_churn_end && wl_churn_later) ? 0 : -1;
}


/* a slot whose viewer is gone, its DELETE done: a new viewer in it */

static wl_peer_t *
wl_churn_replace(wl_peer_t *p, unsigned i)
{
    wl_peer_t  *n;

    n = wl_peer_create(WL_ROLE_VIEWER, p->index);
    if (n == NULL) {
        return NULL;
    }

    /* its gaps stay counted; wl_peer_close() released its socket, SSL, SRTP */

    wl_gaps_retire(p);

    free(p->mutate);
    free(p->indices);
    wl_tcp_free(p);
    free(p);

    wl_churn_end[i] = 0;
    wl_churn_later[i] = 1;
    wl_stats.churn_joined++;

    wl_peer_start(n);

    return n;
}


void
wl_churn(wl_peer_t **viewers, unsigned n, int64_t now)
{
    unsigned    i;
    wl_peer_t  *p, *np;

    if (wl_churn_end == NULL || wl_stopping) {
        return;
    }

    for (i = 0; i < n; i++) {
        p = viewers[i];

        if (p->state == WL_PEER_IDLE) {
            /* not launched yet */
            continue;
        }

        if (wl_churn_end[i] == 0) {
            wl_churn_end[i] = p->launched + wl_churn_life(!wl_churn_later[i]);
        }

        if (p->state == WL_PEER_CONNECTED && now >= wl_churn_end[i]) {

            /* its media must still flow when it leaves */

            if (wl_view_stalled(p, now)) {
                continue;
            }

            if (wl_random32() % 100 < wl_conf.vanish) {
                /* gone without a word: no DELETE, no close_notify */
                wl_peer_close(p);
                p->location[0] = '\0';
                wl_stats.churn_vanished++;

            } else {
                wl_peer_close(p);
                wl_stats.churn_left++;
            }
        }

        if (p->state != WL_PEER_FAILED && p->state != WL_PEER_CLOSED) {
            continue;
        }

        if (p->location[0] && !p->deleting) {
            if (wl_http_active < wl_conf.concurrency) {
                (void) wl_peer_delete(p);
            }

            continue;
        }

        if (p->http || (p->location[0] && !p->deleted)
            || wl_http_active >= wl_conf.concurrency)
        {
            continue;
        }

        np = wl_churn_replace(p, i);

        if (np == NULL) {
            wl_log("webrtc-load: out of memory");
            continue;
        }

        viewers[i] = np;
    }
}
