#!/usr/bin/perl

# $webrtc_stream, $webrtc_session and $webrtc_role (issue 18, item 4),
# where operators use them:
#
# - access_log: a WHIP POST's line has the stream, the session it created
#   (the Location's id) and "publisher"; a WHEP POST's "viewer"; a DELETE
#   of the session URL the session from the URL; a WebSocket connection's
#   line (written when it closes) the stream, session and role of its
#   publish message; a request outside the module's locations "-";
# - auth_request: the subrequest's proxy_set_header sends the stream and
#   role of the main request (the subrequest sees its parent's) to an
#   admission endpoint, which refuses one stream name (403 to the client,
#   no session made) and logs what it was told;
# - limit_req keyed by $webrtc_stream (the preaccess phase, before the
#   handler: the name comes from the URL): a second POST to the same
#   stream within the rate is refused with 429, another stream is not.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Test::Nginx qw/http_req port sdp/;
use Test::Nginx::WS;

my $t = Test::Nginx->new()->has(qw/http stream/)->plan(17);

$t->write_file_expand('nginx.conf', <<'EOF')->run();

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    log_format webrtc '$request_method $uri $status '
                      's=$webrtc_stream id=$webrtc_session r=$webrtc_role';

    log_format webrtc_admit 'stream=$http_x_stream role=$http_x_role';

    limit_req_zone $webrtc_stream zone=perstream:1m rate=1r/m;

    server {
        listen 127.0.0.1:%%PORT_8080%%;

        access_log %%TESTDIR%%/webrtc.log webrtc;

        webrtc_candidate 127.0.0.1:%%PORT_8090_UDP%%;

        location /whip/ {
            auth_request /admit;
            webrtc_whip;
        }

        location /whep/ {
            webrtc_whep;
        }

        location /limited/ {
            limit_req zone=perstream;
            limit_req_status 429;
            webrtc_whip;
        }

        location /ws {
            webrtc_websocket;
        }

        location = /admit {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Stream $webrtc_stream;
            proxy_set_header X-Role $webrtc_role;
        }

        location = /plain {
            return 204;
        }
    }

    # the admission endpoint: refuses the stream "forbidden"
    server {
        listen 127.0.0.1:%%PORT_8081%%;

        access_log %%TESTDIR%%/admit.log webrtc_admit;

        location / {
            if ($http_x_stream = forbidden) {
                return 403;
            }

            return 204;
        }
    }
}

stream {
    server {
        listen 127.0.0.1:%%PORT_8090_UDP%% udp reuseport;
        webrtc;
    }
}

EOF

my $pub = sdp('chromium-publish-vp8');
my $play = sdp('chromium-play');

sub post {
	my ($uri, $body) = @_;
	return http_req(POST => $uri, body => $body,
		headers => { 'Content-Type' => 'application/sdp' });
}

sub id_of {
	my ($r) = @_;
	my ($id) = ($r->{headers}{location} // '') =~ m{/([0-9a-f]+)$};
	return $id // '';
}

sub log_lines {
	my ($name) = @_;
	my $text = $t->read_file($name) // '';
	return split /\n/, $text;
}

# WHIP through auth_request

my $r = post('/whip/cam1', $pub);
is($r->{status}, 201, 'WHIP POST admitted and created');
my $pid = id_of($r);

$r = post('/whip/forbidden', $pub);
is($r->{status}, 403, 'auth_request told the stream name: refused');

# WHEP, then DELETE

$r = post('/whep/cam1', $play);
is($r->{status}, 201, 'WHEP POST created');
my $vid = id_of($r);

$r = http_req(DELETE => "/whep/cam1/$vid");
is($r->{status}, 200, 'viewer session deleted');

# limit_req by stream

is(post('/limited/one', $pub)->{status}, 201, 'limit_req: first POST');
is(post('/limited/one', $pub)->{status}, 429,
	'limit_req keyed by $webrtc_stream: the same stream refused');
is(post('/limited/two', $pub)->{status}, 201,
	'limit_req: another stream not');

# WebSocket

my $c = Test::Nginx::WS->connect(port => port(8080), path => '/ws');
ok($c, 'WebSocket connected');
$c->send_json({ type => 'publish', stream => 'wscam', sdp => $pub });
my $m = $c->wait_msg('answer', 5) || {};
my $wid = $m->{session} // '';
ok(length $wid, 'WebSocket publish answered');
$c->send_json({ type => 'stop' });
$c->close_code(5);
$c->finish();

is(http_req(GET => '/plain')->{status}, 204, 'a request elsewhere');

# the lines are written at each request's end; the WebSocket's at its close

$t->stop();

my @log = log_lines('webrtc.log');

ok((grep { $_ eq "POST /whip/cam1 201 s=cam1 id=$pid r=publisher" } @log),
	'access_log: WHIP POST with its stream, new session and role')
	or diag(join "\n", @log);
ok((grep { $_ eq "POST /whep/cam1 201 s=cam1 id=$vid r=viewer" } @log),
	'access_log: WHEP POST, role viewer');
ok((grep { $_ eq "DELETE /whep/cam1/$vid 200 s=cam1 id=$vid r=viewer" } @log),
	'access_log: DELETE, the session of the URL');
ok((grep { $_ eq "GET /ws 101 s=wscam id=$wid r=publisher" } @log),
	'access_log: the WebSocket connection, its publish message\'s');
ok((grep { $_ eq 'GET /plain 204 s=- id=- r=-' } @log),
	'access_log: not a webrtc location: empty');

my @admit = log_lines('admit.log');
is(join(',', @admit),
	'stream=cam1 role=publisher,stream=forbidden role=publisher',
	'the admission endpoint was told the stream and role');

###############################################################################
