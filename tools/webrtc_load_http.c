
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "webrtc_load.h"


/*
 * A minimal non-blocking HTTP/1.1 client for WHIP and WHEP: one
 * connection per request ("Connection: close"), plain or over TLS,
 * driven by epoll.  The response is complete at Content-Length, at the
 * last chunk, or at the end of the connection.  The handler is called
 * exactly once, then the request is freed.
 */


#define WL_HTTP_CONNECTING      0
#define WL_HTTP_HANDSHAKE       1
#define WL_HTTP_WRITING         2
#define WL_HTTP_READING         3
#define WL_HTTP_DRAINING        4

#define WL_HTTP_MAX_RESPONSE    (1024 * 1024)

#define WL_HTTP_OK              0
#define WL_HTTP_AGAIN           1
#define WL_HTTP_ERROR           -1


static void wl_http_run(wl_http_t *h);
static int wl_http_want(wl_http_t *h, uint32_t events);
static int wl_http_parse(wl_http_t *h, int eof);
static int wl_http_dechunk(wl_http_t *h, u_char *p, u_char *end);
static int wl_http_chunk_size(wl_http_t *h, u_char **pos, u_char *end,
    size_t *size);
static void wl_http_finish(wl_http_t *h, const char *error);
static void wl_http_deliver(wl_http_t *h, const char *error);
static void wl_http_close(wl_http_t *h);
static const char *wl_http_ssl_error(const char *what);


unsigned            wl_http_active;

static SSL_CTX     *wl_http_ssl_ctx;
static SSL_SESSION *wl_http_session;
static wl_http_t   *wl_http_list;


/* http[s]://host[:port][/path]; host: IPv4, [IPv6] or localhost */

int
wl_url_parse(wl_url_t *u, const char *s)
{
    size_t                len;
    const char           *p, *host, *host_end, *port;
    char                  buf[64];
    long                  n;
    struct sockaddr_in   *sin;
    struct sockaddr_in6  *sin6;

    memset(u, 0, sizeof(wl_url_t));

    if (strncasecmp(s, "https://", 8) == 0) {
        u->https = 1;
        u->port = 443;
        p = s + 8;

    } else if (strncasecmp(s, "http://", 7) == 0) {
        u->port = 80;
        p = s + 7;

    } else {
        return -1;
    }

    host = p;

    if (*p == '[') {
        host = ++p;
        while (*p && *p != ']') {
            p++;
        }

        if (*p != ']') {
            return -1;
        }

        host_end = p++;

    } else {
        while (*p && *p != ':' && *p != '/') {
            p++;
        }

        host_end = p;
    }

    len = host_end - host;

    if (len == 0 || len >= sizeof(buf)) {
        return -1;
    }

    memcpy(buf, host, len);
    buf[len] = '\0';

    if (*p == ':') {
        port = ++p;
        n = strtol(port, (char **) &p, 10);

        if (p == port || n < 1 || n > 65535) {
            return -1;
        }

        u->port = (uint16_t) n;
    }

    if (*p != '\0' && *p != '/') {
        return -1;
    }

    if (strlen(*p ? p : "/") >= sizeof(u->path)) {
        return -1;
    }

    strcpy(u->path, *p ? p : "/");

    /* no name resolution: only loopback is allowed anyway */

    sin = (struct sockaddr_in *) &u->addr;
    sin6 = (struct sockaddr_in6 *) &u->addr;

    if (strcasecmp(buf, "localhost") == 0) {
        sin->sin_family = AF_INET;
        sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        u->addrlen = sizeof(struct sockaddr_in);

    } else if (inet_pton(AF_INET, buf, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        u->addrlen = sizeof(struct sockaddr_in);

    } else if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        u->addrlen = sizeof(struct sockaddr_in6);

    } else {
        return -1;
    }

    if (sin->sin_family == AF_INET) {
        sin->sin_port = htons(u->port);

    } else {
        sin6->sin6_port = htons(u->port);
    }

    if (!wl_loopback((struct sockaddr *) &u->addr)) {
        return -2;
    }

    if (host != s && host[-1] == '[') {
        snprintf(u->host, sizeof(u->host), "[%s]", buf);

    } else {
        snprintf(u->host, sizeof(u->host), "%s", buf);
    }

    return 0;
}


int
wl_http_init(void)
{
    wl_http_ssl_ctx = SSL_CTX_new(TLS_client_method());

    if (wl_http_ssl_ctx == NULL) {
        return -1;
    }

    SSL_CTX_set_min_proto_version(wl_http_ssl_ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(wl_http_ssl_ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_session_cache_mode(wl_http_ssl_ctx, SSL_SESS_CACHE_CLIENT);

    if (wl_conf.insecure) {
        SSL_CTX_set_verify(wl_http_ssl_ctx, SSL_VERIFY_NONE, NULL);
        return 0;
    }

    SSL_CTX_set_verify(wl_http_ssl_ctx, SSL_VERIFY_PEER, NULL);

    if (wl_conf.cacert) {
        if (SSL_CTX_load_verify_locations(wl_http_ssl_ctx, wl_conf.cacert,
                                          NULL)
            != 1)
        {
            wl_log("webrtc-load: %s", wl_http_ssl_error(wl_conf.cacert));
            return -1;
        }

    } else if (SSL_CTX_set_default_verify_paths(wl_http_ssl_ctx) != 1) {
        return -1;
    }

    return 0;
}


/*
 * Starts a request; NULL if it could not even start (the handler is not
 * called then).
 */

wl_http_t *
wl_http_request(const wl_url_t *u, const char *method, const char *path,
    const char *ctype, const u_char *body, size_t len,
    wl_http_handler_pt handler, void *data)
{
    int                  fd, one, n;
    char                 hostport[300];
    size_t               size;
    wl_http_t           *h;
    struct epoll_event   ee;

    if ((u->https && u->port == 443) || (!u->https && u->port == 80)) {
        snprintf(hostport, sizeof(hostport), "%s", u->host);

    } else {
        snprintf(hostport, sizeof(hostport), "%s:%u", u->host,
                 (unsigned) u->port);
    }

    h = calloc(1, sizeof(wl_http_t));
    if (h == NULL) {
        return NULL;
    }

    h->type = WL_EV_HTTP;
    h->fd = -1;

    size = 1024 + strlen(path) + len
           + (wl_conf.token ? strlen(wl_conf.token) : 0);

    h->out = malloc(size);
    if (h->out == NULL) {
        free(h);
        return NULL;
    }

    n = snprintf((char *) h->out, size,
                 "%s %s HTTP/1.1\r\n"
                 "Host: %s\r\n"
                 "User-Agent: webrtc-load\r\n"
                 "Accept: application/sdp\r\n"
                 "%s%s%s"
                 "%s%s%s"
                 "Content-Length: %zu\r\n"
                 "Connection: close\r\n"
                 "\r\n",
                 method, path, hostport,
                 ctype ? "Content-Type: " : "", ctype ? ctype : "",
                 ctype ? "\r\n" : "",
                 wl_conf.token ? "Authorization: Bearer " : "",
                 wl_conf.token ? wl_conf.token : "",
                 wl_conf.token ? "\r\n" : "",
                 len);

    if (n < 0 || (size_t) n + len >= size) {
        goto failed;
    }

    if (len) {
        memcpy(h->out + n, body, len);
    }

    h->out_len = n + len;

    fd = socket(u->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                0);
    if (fd == -1) {
        goto failed;
    }

    h->fd = fd;

    one = 1;
    (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    if (connect(fd, (struct sockaddr *) &u->addr, u->addrlen) == -1
        && errno != EINPROGRESS)
    {
        goto failed;
    }

    if (u->https) {
        h->ssl = SSL_new(wl_http_ssl_ctx);
        if (h->ssl == NULL) {
            goto failed;
        }

        SSL_set_fd(h->ssl, fd);
        SSL_set_connect_state(h->ssl);

        if (u->host[0] != '[' && strspn(u->host, "0123456789.") !=
                                                          strlen(u->host))
        {
            /* RFC 6066, 3: no literal IP addresses in SNI */
            SSL_set_tlsext_host_name(h->ssl, u->host);
        }

        if (!wl_conf.insecure) {
            if (u->host[0] == '[' || strspn(u->host, "0123456789.")
                                     == strlen(u->host))
            {
                char  ip[64];

                snprintf(ip, sizeof(ip), "%.*s",
                         (int) strcspn(u->host + (u->host[0] == '['), "]"),
                         u->host + (u->host[0] == '['));
                X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(h->ssl), ip);

            } else {
                SSL_set1_host(h->ssl, u->host);
            }
        }

        if (wl_http_session) {
            SSL_set_session(h->ssl, wl_http_session);
        }
    }

    ee.events = EPOLLOUT;
    ee.data.ptr = h;

    if (epoll_ctl(wl_epfd, EPOLL_CTL_ADD, fd, &ee) == -1) {
        goto failed;
    }

    h->events = EPOLLOUT;
    h->state = WL_HTTP_CONNECTING;
    h->started = wl_now();
    h->deadline = h->started + (int64_t) (wl_conf.http_timeout * WL_SEC);
    h->handler = handler;
    h->data = data;

    h->next = wl_http_list;
    if (wl_http_list) {
        wl_http_list->prev = h;
    }
    wl_http_list = h;

    wl_http_active++;

    return h;

failed:

    if (h->ssl) {
        SSL_free(h->ssl);
    }

    if (h->fd != -1) {
        close(h->fd);
    }

    free(h->out);
    free(h);

    return NULL;
}


void
wl_http_event(wl_http_t *h)
{
    wl_http_run(h);
}


/* times out requests; returns the earliest deadline left, or 0 */

int64_t
wl_http_timers(int64_t now)
{
    int64_t     next;
    wl_http_t  *h, *n;

    next = 0;

    for (h = wl_http_list; h; h = n) {
        n = h->next;

        if (now >= h->deadline) {
            h->timed_out = 1;
            wl_http_finish(h, "timed out");
            continue;
        }

        if (h->handler == NULL) {
            /* draining: not waited for */
            continue;
        }

        if (next == 0 || h->deadline < next) {
            next = h->deadline;
        }
    }

    return next;
}


static void
wl_http_run(wl_http_t *h)
{
    int        n, err;
    size_t     size;
    u_char    *p;
    socklen_t  len;

    for ( ;; ) {

        switch (h->state) {

        case WL_HTTP_CONNECTING:
            err = 0;
            len = sizeof(err);

            if (getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1) {
                err = errno;
            }

            if (err == EINPROGRESS) {
                return;
            }

            if (err) {
                errno = err;
                wl_http_finish(h, "connect() failed");
                return;
            }

            h->state = h->ssl ? WL_HTTP_HANDSHAKE : WL_HTTP_WRITING;
            break;

        case WL_HTTP_HANDSHAKE:
            ERR_clear_error();

            n = SSL_do_handshake(h->ssl);

            if (n == 1) {
                h->state = WL_HTTP_WRITING;
                break;
            }

            err = SSL_get_error(h->ssl, n);

            if (err == SSL_ERROR_WANT_READ) {
                (void) wl_http_want(h, EPOLLIN);
                return;
            }

            if (err == SSL_ERROR_WANT_WRITE) {
                (void) wl_http_want(h, EPOLLOUT);
                return;
            }

            wl_http_finish(h, wl_http_ssl_error("TLS handshake failed"));
            return;

        case WL_HTTP_WRITING:
            while (h->out_sent < h->out_len) {

                if (h->ssl) {
                    ERR_clear_error();

                    n = SSL_write(h->ssl, h->out + h->out_sent,
                                  (int) (h->out_len - h->out_sent));

                    if (n <= 0) {
                        err = SSL_get_error(h->ssl, n);

                        if (err == SSL_ERROR_WANT_WRITE) {
                            (void) wl_http_want(h, EPOLLOUT);
                            return;
                        }

                        if (err == SSL_ERROR_WANT_READ) {
                            (void) wl_http_want(h, EPOLLIN);
                            return;
                        }

                        wl_http_finish(h,
                                       wl_http_ssl_error("SSL_write() failed"));
                        return;
                    }

                } else {
                    n = send(h->fd, h->out + h->out_sent,
                             h->out_len - h->out_sent, MSG_NOSIGNAL);

                    if (n == -1) {
                        if (errno == EAGAIN || errno == EINTR) {
                            (void) wl_http_want(h, EPOLLOUT);
                            return;
                        }

                        wl_http_finish(h, "send() failed");
                        return;
                    }
                }

                h->out_sent += n;
            }

            h->state = WL_HTTP_READING;
            (void) wl_http_want(h, EPOLLIN);
            break;

        case WL_HTTP_READING:

            if (h->in_size - h->in_len < 4096) {
                size = h->in_size ? h->in_size * 2 : 16384;

                if (size > WL_HTTP_MAX_RESPONSE) {
                    wl_http_finish(h, "response too large");
                    return;
                }

                p = realloc(h->in, size + 1);
                if (p == NULL) {
                    wl_http_finish(h, "out of memory");
                    return;
                }

                h->in = p;
                h->in_size = size;
            }

            if (h->ssl) {
                ERR_clear_error();

                n = SSL_read(h->ssl, h->in + h->in_len,
                             (int) (h->in_size - h->in_len));

                if (n <= 0) {
                    err = SSL_get_error(h->ssl, n);

                    if (err == SSL_ERROR_WANT_READ) {
                        (void) wl_http_want(h, EPOLLIN);
                        return;
                    }

                    if (err == SSL_ERROR_WANT_WRITE) {
                        (void) wl_http_want(h, EPOLLOUT);
                        return;
                    }

                    if (err != SSL_ERROR_ZERO_RETURN) {
                        wl_http_finish(h,
                                       wl_http_ssl_error("SSL_read() failed"));
                        return;
                    }

                    n = 0;
                }

            } else {
                n = recv(h->fd, h->in + h->in_len, h->in_size - h->in_len, 0);

                if (n == -1) {
                    if (errno == EAGAIN || errno == EINTR) {
                        return;
                    }

                    wl_http_finish(h, "recv() failed");
                    return;
                }
            }

            h->in_len += n;

            switch (wl_http_parse(h, n == 0)) {

            case WL_HTTP_OK:
                wl_http_deliver(h, NULL);

                if (n == 0) {
                    wl_http_close(h);
                    return;
                }

                /*
                 * "Connection: close": our close_notify, then read until
                 * the server closes, so that no unread data makes our
                 * close() a reset
                 */

                if (h->ssl) {
                    ERR_clear_error();
                    (void) SSL_shutdown(h->ssl);
                }

                h->state = WL_HTTP_DRAINING;
                break;

            case WL_HTTP_ERROR:
                wl_http_finish(h, h->error ? h->error
                                           : "malformed response");
                return;

            default:
                if (n == 0) {
                    wl_http_finish(h, "truncated response");
                    return;
                }

                break;
            }

            break;

        case WL_HTTP_DRAINING:

            if (h->ssl) {
                ERR_clear_error();

                n = SSL_read(h->ssl, h->in, (int) h->in_size);

                if (n <= 0) {
                    err = SSL_get_error(h->ssl, n);

                    if (err == SSL_ERROR_WANT_READ) {
                        (void) wl_http_want(h, EPOLLIN);
                        return;
                    }

                    if (err == SSL_ERROR_WANT_WRITE) {
                        (void) wl_http_want(h, EPOLLOUT);
                        return;
                    }

                    wl_http_close(h);
                    return;
                }

            } else {
                n = recv(h->fd, h->in, h->in_size, 0);

                if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
                    return;
                }

                if (n <= 0) {
                    wl_http_close(h);
                    return;
                }
            }

            break;
        }
    }
}


static int
wl_http_want(wl_http_t *h, uint32_t events)
{
    struct epoll_event  ee;

    if (h->events == events) {
        return 0;
    }

    ee.events = events;
    ee.data.ptr = h;

    if (epoll_ctl(wl_epfd, EPOLL_CTL_MOD, h->fd, &ee) == -1) {
        return -1;
    }

    h->events = events;

    return 0;
}


/* RFC 9112: status line, header fields, then the message body */

static int
wl_http_parse(wl_http_t *h, int eof)
{
    int        chunked, has_length;
    size_t     length, n;
    u_char    *p, *end, *line, *eol, *colon, *v, *vend;

    h->in[h->in_len] = '\0';

    p = h->in;
    end = h->in + h->in_len;

    for (eol = p; eol + 3 < end; eol++) {
        if (eol[0] == '\r' && eol[1] == '\n' && eol[2] == '\r'
            && eol[3] == '\n')
        {
            break;
        }
    }

    if (eol + 3 >= end) {
        return eof ? WL_HTTP_ERROR : WL_HTTP_AGAIN;
    }

    end = eol + 2;              /* after the last header line's CRLF */

    if (end - p < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' '
        || p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9'
        || p[11] < '0' || p[11] > '9')
    {
        h->error = "malformed status line";
        return WL_HTTP_ERROR;
    }

    h->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');

    chunked = 0;
    has_length = 0;
    length = 0;
    h->location[0] = '\0';

    line = memchr(p, '\n', end - p) + 1;

    while (line < end) {
        eol = memchr(line, '\n', end - line);
        if (eol == NULL) {
            break;
        }

        vend = eol;
        if (vend > line && vend[-1] == '\r') {
            vend--;
        }

        colon = memchr(line, ':', vend - line);

        if (colon) {
            v = colon + 1;
            while (v < vend && (*v == ' ' || *v == '\t')) {
                v++;
            }

            while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t')) {
                vend--;
            }

            n = colon - line;

            if (n == 14 && strncasecmp((char *) line, "content-length", 14)
                           == 0)
            {
                has_length = 1;
                length = 0;

                for (p = v; p < vend; p++) {
                    if (*p < '0' || *p > '9' || length > 100000000) {
                        h->error = "bad Content-Length";
                        return WL_HTTP_ERROR;
                    }

                    length = length * 10 + (*p - '0');
                }

            } else if (n == 17 && strncasecmp((char *) line,
                                              "transfer-encoding", 17) == 0)
            {
                chunked = (vend - v >= 7
                           && strncasecmp((char *) vend - 7, "chunked", 7)
                              == 0);

            } else if (n == 8 && strncasecmp((char *) line, "location", 8)
                                 == 0
                       && (size_t) (vend - v) < sizeof(h->location))
            {
                memcpy(h->location, v, vend - v);
                h->location[vend - v] = '\0';
            }
        }

        line = eol + 1;
    }

    p = end + 2;                /* the body */
    end = h->in + h->in_len;

    if (h->status == 204 || h->status == 304) {
        h->body = p;
        h->body_len = 0;
        return WL_HTTP_OK;
    }

    if (chunked) {
        return wl_http_dechunk(h, p, end);
    }

    if (has_length) {
        if ((size_t) (end - p) < length) {
            if (eof) {
                h->error = "truncated body";
                return WL_HTTP_ERROR;
            }

            return WL_HTTP_AGAIN;
        }

        h->body = p;
        h->body_len = length;
        return WL_HTTP_OK;
    }

    if (!eof) {
        return WL_HTTP_AGAIN;
    }

    h->body = p;
    h->body_len = end - p;

    return WL_HTTP_OK;
}


/* RFC 9112, 7.1: once the last chunk is in, decodes in place */

static int
wl_http_dechunk(wl_http_t *h, u_char *p, u_char *end)
{
    int      rc;
    size_t   size;
    u_char  *q, *out, *eol;

    /* the whole body first, without changing the buffer */

    for (q = p; /* void */ ; q += size) {
        rc = wl_http_chunk_size(h, &q, end, &size);
        if (rc != WL_HTTP_OK) {
            return rc;
        }

        if (size == 0) {
            break;
        }

        if ((size_t) (end - q) < size + 2) {
            return WL_HTTP_AGAIN;
        }

        if (q[size] == '\r') {
            q++;
        }

        if (q[size] != '\n') {
            h->error = "malformed chunk";
            return WL_HTTP_ERROR;
        }

        q++;
    }

    /* trailer fields, ignored, up to an empty line */

    for ( ;; ) {
        eol = memchr(q, '\n', end - q);
        if (eol == NULL) {
            return WL_HTTP_AGAIN;
        }

        if (eol == q || (eol == q + 1 && *q == '\r')) {
            break;
        }

        q = eol + 1;
    }

    for (q = p, out = p; /* void */ ; q += size) {
        (void) wl_http_chunk_size(h, &q, end, &size);

        if (size == 0) {
            break;
        }

        memmove(out, q, size);
        out += size;

        if (q[size] == '\r') {
            q++;
        }

        q++;
    }

    h->body = p;
    h->body_len = out - p;

    return WL_HTTP_OK;
}


/* the chunk-size line; *pos moves past it */

static int
wl_http_chunk_size(wl_http_t *h, u_char **pos, u_char *end, size_t *size)
{
    u_char  *p, *eol;
    size_t   n;

    p = *pos;

    eol = memchr(p, '\n', end - p);
    if (eol == NULL) {
        return WL_HTTP_AGAIN;
    }

    n = 0;

    if (p == eol || *p == '\r') {
        h->error = "malformed chunk size";
        return WL_HTTP_ERROR;
    }

    for ( /* void */ ; p < eol; p++) {
        if (*p >= '0' && *p <= '9') {
            n = n * 16 + (*p - '0');

        } else if ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'f') {
            n = n * 16 + ((*p | 0x20) - 'a' + 10);

        } else {
            break;          /* chunk extensions, CR */
        }

        if (n > WL_HTTP_MAX_RESPONSE) {
            h->error = "bad chunk size";
            return WL_HTTP_ERROR;
        }
    }

    *pos = eol + 1;
    *size = n;

    return WL_HTTP_OK;
}


static void
wl_http_finish(wl_http_t *h, const char *error)
{
    wl_http_deliver(h, error);
    wl_http_close(h);
}


/* the handler, once: a response or an error */

static void
wl_http_deliver(wl_http_t *h, const char *error)
{
    char  buf[160];

    if (h->handler == NULL) {
        return;
    }

    if (error && errno && strstr(error, "() failed") != NULL) {
        snprintf(buf, sizeof(buf), "%s: %s", error, strerror(errno));
        error = buf;
    }

    h->error = error;

    wl_http_active--;

    if (h->ssl && error == NULL && SSL_session_reused(h->ssl) == 0) {
        if (wl_http_session) {
            SSL_SESSION_free(wl_http_session);
        }

        wl_http_session = SSL_get1_session(h->ssl);
    }

    h->handler(h, h->data);
    h->handler = NULL;
    h->error = NULL;
}


static void
wl_http_close(wl_http_t *h)
{
    if (h->prev) {
        h->prev->next = h->next;

    } else {
        wl_http_list = h->next;
    }

    if (h->next) {
        h->next->prev = h->prev;
    }

    (void) epoll_ctl(wl_epfd, EPOLL_CTL_DEL, h->fd, NULL);

    if (h->ssl) {
        SSL_free(h->ssl);
        h->ssl = NULL;
    }

    close(h->fd);
    h->fd = -1;

    free(h->in);
    free(h->out);
    free(h);
}


static const char *
wl_http_ssl_error(const char *what)
{
    unsigned long  e;
    static char    buf[256];

    e = ERR_peek_last_error();

    if (e == 0) {
        snprintf(buf, sizeof(buf), "%s", what);

    } else {
        snprintf(buf, sizeof(buf), "%s: %s", what,
                 ERR_reason_error_string(e) ? ERR_reason_error_string(e)
                                            : "unknown");
    }

    ERR_clear_error();
    errno = 0;

    return buf;
}
