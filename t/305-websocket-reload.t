#!/usr/bin/perl

# WebSocket sessions across nginx -s reload (doc/registry-design.md 7.9):
# the exiting worker closes each WebSocket with 1012 "service restart"
# and leaves its session detached for webrtc_ws_resume_timeout; the
# client opens a new WebSocket and sends {"type":"resume"} with the
# session id of its answer, role and stream; the new worker answers
# "resumed" and serves the session as its own (events, stop).  Also: a
# bogus id, a wrong role, a session held by a WebSocket, a missing token
# are refused; a session not resumed ends at its deadline ("signaling
# closed, not resumed"); a second reload detaches the resumed sessions
# again; nginx -s quit still closes with 1001 and ends the sessions.
# Sessions here have no ICE (webrtc_consent_timeout 300s keeps them).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Test::Nginx qw/http_req port sdp/;
use Test::Nginx::Load;
use Test::Nginx::WS;
use Time::HiRes qw/sleep time/;

my $t = Test::Nginx->new()->has(qw/http stream/)->plan(44);

$t->write_file_expand('nginx.conf', <<'EOF')->run();
%%TEST_GLOBALS%%

worker_processes 2;

events {}

webrtc_consent_timeout 300s;

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_8080%% reuseport;
        server_name localhost;

        webrtc_candidate 127.0.0.1:%%PORT_8980_UDP%%;

        location = /ws {
            webrtc_websocket;
            webrtc_ws_resume_timeout 20s;
        }

        location = /ws-short {
            webrtc_websocket;
            webrtc_ws_resume_timeout 2s;
        }

        location = /ws-token {
            webrtc_websocket;
            webrtc_bearer_token s3cret publish;
        }

        location /whep/ {
            webrtc_whep;
        }

        location /whip/ {
            webrtc_whip;
        }

        location = /webrtc/status {
            webrtc_status;
        }
    }
}

stream {
    server {
        listen 127.0.0.1:%%PORT_8980_UDP%% udp reuseport;
        webrtc;
    }
}
EOF

my $PORT = port(8080);
my $pub_sdp = sdp('chromium-publish-h264');
my $play_sdp = sdp('chromium-play');

sub ws {
	my ($path) = @_;
	my $c = Test::Nginx::WS->connect(port => $PORT, path => $path // '/ws');
	die "no WebSocket on " . ($path // '/ws') . "\n" unless $c;
	return $c;
}

# a session over a new WebSocket: (connection, id)
sub session {
	my ($path, $type, $stream, %extra) = @_;
	my $c = ws($path);
	$c->send_json({ type => $type, stream => $stream,
		sdp => $type eq 'publish' ? $pub_sdp : $play_sdp, %extra });
	my $m = $c->wait_msg('answer', 5) || {};
	return ($c, $m->{session});
}

sub resume {
	my ($c, %m) = @_;
	$c->send_json({ type => 'resume', %m });
	my $r = $c->read_msg(5);
	return $r;
}

# the zone has the session (PATCH of its WHEP URL with a non-matching
# If-Match: 412; gone: 404)
sub found {
	my ($stream, $id) = @_;
	return Test::Nginx::Load::session_found("/whep/$stream/$id");
}

sub status {
	my ($stream) = @_;
	my $j = Test::Nginx::Load::status_json("/webrtc/status?stream=$stream");
	return $j->{streams}[0] || {};
}

sub within {
	my ($timeout, $cond) = @_;
	my $end = time() + $timeout;
	while (time() < $end) {
		return 1 if $cond->();
		sleep 0.1;
	}
	return $cond->() ? 1 : 0;
}

sub log_since { substr($t->read_file('error.log'), $_[0]) }

###########################################################################
# sessions made before the reload

my ($p, $pid) = session('/ws', 'publish', 'rs');
ok($pid && length $pid == 32, 'a publisher over /ws: session id in answer');

my ($v, $vid) = session('/ws', 'play', 'rs');
ok($vid, 'a viewer over /ws');
ok($v->wait_msg('event', 3), 'the viewer: publisher-started');

my ($s, $sid) = session('/ws-short', 'publish', 'short');
ok($sid, 'a publisher over /ws-short (resume timeout 2 s)');

my ($k, $kid) = session('/ws-token', 'publish', 'tok', token => 's3cret');
ok($kid, 'a publisher over /ws-token');

my ($o, $oid) = session('/ws', 'play', 'rs');
ok($oid, 'a viewer that will not resume');

my $off = -s $t->testdir() . '/error.log';

###########################################################################
# reload 1: 1012 to each, the sessions stay

my $t0 = time();
$t->reload();
my $t1 = time();
diag(sprintf('reload 1 took %.1f s', $t1 - $t0));

for ([$p, 'publisher'], [$v, 'viewer'], [$s, 'short publisher'],
	[$k, 'token publisher'], [$o, 'other viewer'])
{
	my ($code, $reason) = $_->[0]->close_code(3);
	is("$code " . ($reason // ''), '1012 service restart',
		"reload: $_->[1]: close 1012 \"service restart\"");
	$_->[0]->finish(1000);
}

is(scalar(() = log_since($off) =~ /detached from its WebSocket on reload/g),
	5, 'reload: 5 sessions detached, logged');
unlike(log_since($off), qr/signaling closed/,
	'reload: no session closed for its signaling');

is(found('rs', $vid), 412, 'reload: the viewer is still in the zone');
ok(status('rs')->{live}, 'reload: the stream is still live');

###########################################################################
# resume on new WebSockets

$p = ws();
my $r = resume($p, session => $pid, role => 'publish', stream => 'rs');
is(($r->{type} // '') . ' ' . ($r->{session} // ''), "resumed $pid",
	'resume: the publisher: resumed, its id');
my $vc = $p->wait_msg('viewers', 3);
is($vc && $vc->{count}, 2, 'resume: the publisher is told its 2 viewers');

$v = ws();
$r = resume($v, session => $vid, role => 'play', stream => 'rs');
is($r->{type} // '', 'resumed', 'resume: the viewer: resumed');
my $e = $v->wait_msg('event', 3);
is($e && $e->{event}, 'publisher-started',
	'resume: the viewer is told the stream is live');

my $c = ws();
$r = resume($c, session => 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', role => 'play',
	stream => 'rs');
is(($r->{type} // '') . ' ' . ($r->{status} // ''), 'error 404',
	'resume: a bogus id: error 404');
$r = resume($c, session => $vid, role => 'play', stream => 'rs');
is(($r->{type} // '') . ' ' . ($r->{status} // ''), 'error 409',
	'resume: a session another WebSocket resumed: error 409');
$r = resume($c, session => $pid, role => 'play', stream => 'rs');
is(($r->{type} // '') . ' ' . ($r->{status} // ''), 'error 404',
	'resume: the publisher\'s id as a viewer: error 404');
$r = resume($c, session => $oid, role => 'play', stream => 'other');
is(($r->{type} // '') . ' ' . ($r->{status} // ''), 'error 404',
	'resume: another stream: error 404');
$r = resume($c, session => $vid, role => 'play');
is(($r->{type} // '') . ' ' . ($r->{status} // ''), 'error 400',
	'resume: no stream: error 400');
$c->send_json({ type => 'ping' });
is(($c->read_msg(3)->{type} // ''), 'pong',
	'resume: the refused connection goes on');
$c->finish();

$k = ws('/ws-token');
$r = resume($k, session => $kid, role => 'publish', stream => 'tok');
is(($r->{type} // '') . ' ' . ($r->{status} // ''), 'error 401',
	'resume: no token: error 401');
$r = resume($k, session => $kid, role => 'publish', stream => 'tok',
	token => 's3cret');
is($r->{type} // '', 'resumed', 'resume: with the token: resumed');

###########################################################################
# the session not resumed in 2 s ends; the one in 20 s waits

ok(status('short')->{live}, 'not resumed: the /ws-short stream is live');
my $gone = within(8, sub { !status('short')->{live} }) ? time() : undef;
ok($gone, 'not resumed: the /ws-short publisher ends at its deadline, '
	. sprintf('%.1f s after the reload', ($gone // time()) - $t1));
like(log_since($off),
	qr/webrtc publisher session $sid of stream "short" closed: signaling closed, not resumed/,
	'not resumed: logged "signaling closed, not resumed"');

$c = ws('/ws-short');
$r = resume($c, session => $sid, role => 'publish', stream => 'short');
is(($r->{type} // '') . ' ' . ($r->{status} // ''), 'error 404',
	'not resumed: resume after the deadline: error 404');
$c->finish();

is(found('rs', $oid), 412,
	'not resumed: the viewer with 20 s is still there after 2 s');

###########################################################################
# reload 2: the resumed sessions detach again

$off = -s $t->testdir() . '/error.log';
$t->reload();

for ([$p, 'publisher'], [$v, 'viewer'], [$k, 'token publisher']) {
	my ($code) = $_->[0]->close_code(3);
	is($code, 1012, "reload 2: $_->[1]: close 1012");
	$_->[0]->finish(1000);
}

$p = ws();
$r = resume($p, session => $pid, role => 'publish', stream => 'rs');
is($r->{type} // '', 'resumed', 'reload 2: the publisher resumes again');
$v = ws();
$r = resume($v, session => $vid, role => 'play', stream => 'rs');
is($r->{type} // '', 'resumed', 'reload 2: the viewer resumes again');

# the resumed connection is the session's: stop ends it

$v->send_json({ type => 'stop' });
my ($code) = $v->close_code(3);
is($code, 1000, 'stop after resume: close 1000');
$v->finish();
ok(within(3, sub { found('rs', $vid) == 404 }),
	'stop after resume: the viewer session ends');

# and so does closing it

$p->finish();
ok(within(3, sub { !status('rs')->{live} }),
	'close after resume: the publisher session ends');

###########################################################################
# nginx -s quit: no successor, 1001, the session ends

($p, $pid) = session('/ws', 'publish', 'bye');
ok($pid, 'quit: a publisher');

$t->stop();

($code) = $p->close_code(3);
like($code, qr/^(1001|EOF)$/, 'quit: close 1001 (or EOF), not 1012');
unlike($t->read_file('error.log'),
	qr/session $pid detached/, 'quit: the session was not detached');
