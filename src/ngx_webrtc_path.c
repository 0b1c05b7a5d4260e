
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>

#include "ngx_stream_webrtc.h"


/*
 * Where a peer's media goes: the socket, the remote address and, with
 * a wildcard listen, the local one; moved by checks and SRTP, and to
 * addresses other workers receive.
 */


/* an established session's media path moves at most this often */
#define NGX_STREAM_WEBRTC_MOVE_INTERVAL   1000


void
ngx_stream_webrtc_path_from(ngx_webrtc_path_t *path, ngx_connection_t *c)
{
    ngx_memzero(path, sizeof(ngx_webrtc_path_t));

    path->fd = c->fd;
    path->tcp = (c->type == SOCK_STREAM) ? c : NULL;
    path->socklen = ngx_min(c->socklen, sizeof(ngx_sockaddr_t));
    ngx_memcpy(&path->sockaddr, c->sockaddr, path->socklen);

    if (c->local_sockaddr) {
        path->local_socklen = ngx_min(c->local_socklen,
                                      sizeof(ngx_sockaddr_t));
        ngx_memcpy(&path->local, c->local_sockaddr, path->local_socklen);
    }

    if (c->listening) {
        path->wildcard = c->listening->wildcard;
        path->listen_socklen = ngx_min(c->listening->socklen,
                                       sizeof(ngx_sockaddr_t));
        ngx_memcpy(&path->listen, c->listening->sockaddr,
                   path->listen_socklen);
    }
}


/* a reply from the address the peer sent to (wildcard listens) */

void
ngx_stream_webrtc_send(ngx_connection_t *c, u_char *p, size_t len)
{
    struct iovec       iov;
    struct msghdr      msg;
    ngx_webrtc_path_t  path;
    u_char             cmsg[CMSG_SPACE(sizeof(struct in6_pktinfo))];

    if (c->type == SOCK_STREAM) {
        (void) ngx_stream_webrtc_tcp_send(c, p, len);
        return;
    }

    ngx_stream_webrtc_path_from(&path, c);

    iov.iov_base = p;
    iov.iov_len = len;

    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;

    ngx_webrtc_path_msghdr(&path, &msg, cmsg);

    if (sendmsg(c->fd, &msg, MSG_DONTWAIT) == -1) {
        ngx_log_debug0(NGX_LOG_DEBUG_STREAM, c->log, ngx_socket_errno,
                       "webrtc: sendmsg() failed");
    }
}


/* the nominated 5-tuple in this worker carries the media */

void
ngx_webrtc_peer_set_path(ngx_webrtc_peer_t *peer, ngx_connection_t *c)
{
    peer->connection = c;
    ngx_stream_webrtc_path_from(&peer->path, c);
    peer->has_path = 1;
    peer->path_time = ngx_current_msec;

    /* a TCP connection stays in this worker: nothing to find it by */

    if (c->type != SOCK_STREAM) {
        ngx_webrtc_registry_path_set(peer->id, c->sockaddr, c->socklen);
    }
}


/*
 * SRTP that authenticates came from a nominated address: the path moves
 * there, once a second at most, so that a peer holding the keys cannot
 * swing a stream between addresses (a move held back is made by a later
 * packet)
 */

void
ngx_stream_webrtc_move(ngx_webrtc_peer_t *peer, ngx_connection_t *c,
    ngx_webrtc_path_t *remote)
{
    ngx_webrtc_core_conf_t   *ccf;
    ngx_stream_webrtc_ctx_t  *ctx, *octx;

    if (ngx_current_msec - peer->path_time < NGX_STREAM_WEBRTC_MOVE_INTERVAL) {
        ngx_log_debug0(NGX_LOG_DEBUG_STREAM, &peer->log, 0,
                       "webrtc: path move held back");
        return;
    }

    if (remote) {
        (void) ngx_webrtc_peer_set_remote_path(peer, remote);
        peer->has_candidate = 0;
        return;
    }

    ctx = ngx_stream_get_module_ctx((ngx_stream_session_t *) c->data,
                                    ngx_stream_webrtc_module);
    ctx->candidate = 0;

    if (peer->connection == c) {
        return;
    }

    if (peer->connection) {
        octx = ngx_stream_get_module_ctx(
                  (ngx_stream_session_t *) peer->connection->data,
                                         ngx_stream_webrtc_module);
        octx->peer = NULL;
    }

    ngx_webrtc_peer_set_path(peer, c);
    ctx->peer = peer;

    ccf = ngx_webrtc_core_conf((ngx_cycle_t *) ngx_cycle);
    ngx_add_timer(c->read, (ngx_msec_t) ccf->consent_timeout * 1000);

    ngx_log_error(NGX_LOG_INFO, c->log, 0,
                  "webrtc session %*s: media path moved",
                  (size_t) NGX_WEBRTC_ID_LEN, peer->id);
}


/*
 * An address another worker receives and nominated: before the session
 * has SRTP keys the path moves there at once, after only when SRTP from
 * it authenticates (ngx_webrtc_peer_forwarded())
 */

void
ngx_webrtc_peer_remote_path(ngx_webrtc_peer_t *peer, ngx_webrtc_path_t *path)
{
    if (peer->srtp_ready && peer->has_path) {
        peer->candidate = *path;
        peer->has_candidate = 1;
        return;
    }

    (void) ngx_webrtc_peer_set_remote_path(peer, path);
}


/*
 * We send to an address another worker receives from our own socket of
 * the same listen address, that worker passes us what arrives there
 */

ngx_int_t
ngx_webrtc_peer_set_remote_path(ngx_webrtc_peer_t *peer,
    ngx_webrtc_path_t *path)
{
    ngx_socket_t              fd;
    ngx_stream_webrtc_ctx_t  *octx;

    fd = ngx_webrtc_peer_listen_fd(&path->listen.sockaddr,
                                   path->listen_socklen);

    if (fd == (ngx_socket_t) -1) {
        ngx_log_error(NGX_LOG_INFO, &peer->log, 0,
                      "webrtc session %*s: no socket for its new path",
                      (size_t) NGX_WEBRTC_ID_LEN, peer->id);
        return NGX_DECLINED;
    }

    /* a repeat of the path it has */

    if (peer->has_path && peer->connection == NULL
        && peer->path.fd == fd
        && ngx_cmp_sockaddr(&peer->path.sockaddr.sockaddr, peer->path.socklen,
                            &path->sockaddr.sockaddr, path->socklen, 1)
           == NGX_OK)
    {
        return NGX_OK;
    }

    if (peer->connection) {
        octx = ngx_stream_get_module_ctx(
                  (ngx_stream_session_t *) peer->connection->data,
                                         ngx_stream_webrtc_module);
        octx->peer = NULL;
        peer->connection = NULL;
    }

    peer->path = *path;
    peer->path.fd = fd;
    peer->has_path = 1;
    peer->path_time = ngx_current_msec;

    ngx_webrtc_registry_path_set(peer->id, &path->sockaddr.sockaddr,
                                 path->socklen);

    if (!peer->adopted || peer->packets_in + peer->packets_out) {
        ngx_log_error(NGX_LOG_INFO, &peer->log, 0,
                      "webrtc session %*s: media path moved to an address "
                      "another worker receives",
                      (size_t) NGX_WEBRTC_ID_LEN, peer->id);
    }

    return NGX_OK;
}


/* this worker's socket of a listen address: any worker may send from it */

ngx_socket_t
ngx_webrtc_peer_listen_fd(struct sockaddr *sockaddr, socklen_t socklen)
{
    ngx_uint_t        i;
    ngx_listening_t  *ls;

    ls = ngx_cycle->listening.elts;

    for (i = 0; i < ngx_cycle->listening.nelts; i++) {
        if (ls[i].type == SOCK_DGRAM && ls[i].fd != (ngx_socket_t) -1
            && ngx_cmp_sockaddr(ls[i].sockaddr, ls[i].socklen,
                                sockaddr, socklen, 1)
               == NGX_OK)
        {
            return ls[i].fd;
        }
    }

    return (ngx_socket_t) -1;
}


/*
 * the destination of a datagram on a path, and with a wildcard listen
 * the local address as the source (IP_PKTINFO, IPV6_PKTINFO); cmsg has
 * room for CMSG_SPACE(sizeof(struct in6_pktinfo))
 */

void
ngx_webrtc_path_msghdr(ngx_webrtc_path_t *path, struct msghdr *msg,
    u_char *buf)
{
    struct cmsghdr      *cmsg;
    struct in_pktinfo   *pkt;
    struct in6_pktinfo  *pkt6;

    msg->msg_name = &path->sockaddr;
    msg->msg_namelen = path->socklen;
    msg->msg_control = NULL;
    msg->msg_controllen = 0;
    msg->msg_flags = 0;

    if (!path->wildcard || path->local_socklen == 0) {
        return;
    }

    cmsg = (struct cmsghdr *) buf;

    if (path->local.sockaddr.sa_family == AF_INET) {
        msg->msg_control = buf;
        msg->msg_controllen = CMSG_SPACE(sizeof(struct in_pktinfo));
        cmsg->cmsg_level = IPPROTO_IP;
        cmsg->cmsg_type = IP_PKTINFO;
        cmsg->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));

        pkt = (struct in_pktinfo *) CMSG_DATA(cmsg);
        ngx_memzero(pkt, sizeof(struct in_pktinfo));
        pkt->ipi_spec_dst = path->local.sockaddr_in.sin_addr;

#if (NGX_HAVE_INET6)
    } else if (path->local.sockaddr.sa_family == AF_INET6) {
        msg->msg_control = buf;
        msg->msg_controllen = CMSG_SPACE(sizeof(struct in6_pktinfo));
        cmsg->cmsg_level = IPPROTO_IPV6;
        cmsg->cmsg_type = IPV6_PKTINFO;
        cmsg->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));

        pkt6 = (struct in6_pktinfo *) CMSG_DATA(cmsg);
        ngx_memzero(pkt6, sizeof(struct in6_pktinfo));
        pkt6->ipi6_addr = path->local.sockaddr_in6.sin6_addr;
#endif
    }
}
