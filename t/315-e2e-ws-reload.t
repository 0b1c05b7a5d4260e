#!/usr/bin/perl

# WebSocket sessions across reloads with headless Chromium
# (doc/registry-design.md 7.9): a publisher and a viewer made by
# html/webrtc.js over the WebSocket (/ws), as the pages do, stream while
# nginx reloads twice, 3 s apart (unchanged, then worker_processes
# 2 -> 3).  Each reload closes their WebSockets with 1012; webrtc.js opens
# new ones and resumes the sessions.  From the moment the viewer decodes
# until 8 s after the second reload (t/e2e/ws-reload.js): the viewer's
# framesDecoded, sampled every 100 ms, never stands still for over
# 500 ms (E2E::Watch::gap_ok); no peer connection goes to failed or
# disconnected, both are
# still connected at the end; no signalingstatechange (no
# renegotiation); each page saw 2 closes with 1012 and 2 "resumed", no
# error, and is not failed; nginx logged 4 resumes and no session ended
# for its signaling; the stream is live with 1 viewer after the reloads;
# the viewer's stop over its resumed WebSocket ends its session.

use strict;
use warnings;

use FindBin;
use Cwd qw/abs_path/;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/e2e/lib";

use JSON::PP ();
use Test::More;
use Test::Nginx qw/http_req port/;
use E2E;
use E2E::Watch;
use Time::HiRes qw/sleep time/;

my $html = abs_path("$FindBin::Bin/../html");

my $t = E2E::start(plan => 22, http => <<"EOF");
        location = /ws {
            webrtc_websocket;
        }

        location = /webrtc/status {
            webrtc_status;
        }

        location /pages/ {
            alias $html/;

            types {
                text/html html;
                text/javascript js;
            }
        }
EOF

my $d = $t->testdir();

###########################################################################
# the browsers, in the background: they watch until $d/done

my $t0 = time();
my $node = spawn_scenario($t, 'ws-reload', 60, STREAM => 'wsreload',
	READY => "$d/ready", DONE => "$d/done", WATCH => 40000);

my $ready = wait_ready($t, $node);

ok($ready, 'a publisher and a viewer over the WebSocket decode, '
	. sprintf('%.1f s after the start', time() - $t0));

###########################################################################
# 2 reloads, 3 s apart

reload_twice($t);

sleep 8;

my $st = status('wsreload');
ok($st->{live} && ($st->{viewers} // 0) == 1,
	'after the reloads: the stream is live with 1 viewer: live '
	. ($st->{live} // 'none') . ', viewers ' . ($st->{viewers} // 'none'));

my @closed = $t->log_lines(qr/signaling closed/);

$t->write_file('done', "done\n");

my $r = finish_scenario($t, $node, 'ws-reload', 60 + 20 - (time() - $t0))
	|| {};
my ($p, $v) = map { $r->{$_} || {} } qw/publisher viewer/;

watched_ok(50, $p, $v);

###########################################################################
# the peer connections did not notice

gap_ok($v->{watch} || {}, 'viewer');

for ([$p, 'publisher'], [$v, 'viewer']) {
	my ($s, $who) = @$_;
	is($s->{watch}{stateAtEnd} // 'none', 'connected',
		"$who: the peer connection is connected at the end");
	is(events($s->{watch}, 'connection'), '',
		"$who: no connection state change (failed, disconnected)");
	is(events($s->{watch}, 'signaling'), '',
		"$who: no signalingstatechange (no renegotiation)");
}

###########################################################################
# the WebSockets were closed with 1012 and resumed by webrtc.js

for ([$p, 'publisher'], [$v, 'viewer']) {
	my ($s, $who) = @$_;
	my $c = $s->{client} || {};
	my @ev = @{$c->{events} || []};

	is(join(' ', map { $_->{code} // '?' }
		grep { $_->{type} eq 'close' } @ev),
		'1012 1012', "$who: the WebSocket closed twice with 1012");
	is(scalar(grep { $_->{type} eq 'resumed' } @ev), 2,
		"$who: webrtc.js resumed the session twice");
	ok(!grep({ $_->{type} eq 'error' } @ev)
		&& ($c->{state} // '') eq 'connected' && $c->{wsOpen},
		"$who: no error, state " . ($c->{state} // '?')
		. ', WebSocket ' . ($c->{wsOpen} ? 'open' : 'not open')
		. join('', map { "; error: $_->{message}" }
			grep { $_->{type} eq 'error' } @ev));
}

my $pid = $p->{id} // 'none';
my $vid = $v->{id} // 'none';

is(scalar($t->log_lines(qr/session ($pid|$vid) of stream "wsreload" resumed on a new WebSocket/)),
	4, 'nginx: 4 resumes logged');
is(join("\n", @closed), '',
	'nginx: no session ended for its signaling during the reloads');

# the viewer's stop goes over its resumed WebSocket and ends its session

ok($v->{stopped} && within(5, sub {
		$t->log_lines(qr/viewer session $vid closed: signaling closed/) }),
	'the viewer\'s stop over its resumed WebSocket ended its session');

###########################################################################

sub status {
	my ($stream) = @_;
	my $r = http_req(GET => "/webrtc/status?stream=$stream",
		port => port(8443), SSL => 1, timeout => 3);
	my $j = eval { JSON::PP::decode_json($r->{body} // '') } || {};
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
