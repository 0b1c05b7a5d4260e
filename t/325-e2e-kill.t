#!/usr/bin/perl

# Live sessions across a worker's crash with headless Chromium and
# webrtc-load (issue 16 item 7, doc/registry-design.md 11): a Chromium
# publisher (WHIP) and 2 Chromium viewers (WHEP), and 20 webrtc-load
# viewers of the same stream, stream through 2 workers (reuseport); the
# publisher (the status's per-worker "publishers" is 1) is killed with
# SIGKILL, then, 3 s later, a worker serving only viewers (or, if both
# viewers landed on the publisher's worker, that worker's successor again:
# the test's output says so).  From the moment every viewer decodes until
# 12 s after the second kill (t/e2e/kill.js): each viewer's framesDecoded,
# sampled every 100 ms, never stands still for over 500 ms (E2E::Watch::gap_ok); no peer
# connection goes to failed or disconnected; no signalingstatechange (no
# renegotiation); each viewer's transport keeps its dtlsState (connected)
# and srtpCipher; after the kills the status still counts the publisher and
# the 22 viewers.  webrtc-load's viewers all stayed up to the end with no
# stall (a gap of over 1 s between RTP packets), every consent check
# answered, no SRTP decryption failure and no SRTP index that came twice
# with other bytes (a crash adoption moves the viewers' index forward by a
# margin: no reuse); its longest gaps, overall and around each kill, are
# printed.  The server logs no SRTP or SRTCP packet it could not
# unprotect.
#
# A crash adoption makes the viewers' SRTP jump 1,024 sequence numbers and
# asks the publisher for a key frame: a short freeze is expected.  Alone
# (as make test runs it), 2026-12-07: no standstill of 200 ms,
# webrtc-load's longest gap 56 ms.  Beside other tests, measured over 13
# runs (load average 5-10 on 2 cores), a run's worst viewer stood
# still 100-420 ms, within the issue's 500 ms; with the 20 webrtc-load
# viewers beside them, 4 runs at load average 6-13: 211, 575, 601, 171 ms
# (the 2 over 500 ms at load average 12), webrtc-load's longest gap 255,
# 646, 337, 606 ms.  The standstills of 200 ms or more are printed, each
# placed after its kill, with the PLIs and key frames of the publisher.
#
# Also: the browsers were up and decoding before, the master replaced each
# killed worker, the pages were watched all along, a new publisher and
# viewer work after the kills, and the error log has no alert but those of
# the kills (a worker exited on signal 9, the zone lock it held, its
# repair).  Built from 870f51a (before crash adoption), the frames stopped
# at the first kill (15.4 s standstill), Chromium called the 3 connections
# disconnected, the status had lost the sessions, and webrtc-load's 20
# viewers stalled (15.4 s), failed and had consent checks unanswered: 9
# checks fail.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/e2e/lib";

use JSON::PP ();
use List::Util qw/max min/;
use Test::More;
use Test::Nginx qw/port/;
use Test::Nginx::Load qw/tool kill_worker kill_alerts status_sum status_text/;
use E2E qw/status_json/;
use E2E::Watch;
use Time::HiRes qw/sleep time/;

my $VIEWERS = 2;
my $LOAD = 20;

plan(skip_all => 'tools/webrtc-load is not built (make tools)')
	unless -x tool();

my $t = E2E::start(plan => 7 + 4 * $VIEWERS + 2 + 2 + 1 + 1 + 5,
	http => 'location = /status { webrtc_status; }');

my $d = $t->testdir();

###########################################################################
# the browsers, in the background: they watch until $d/done

my $t0 = time();
my $node = spawn_scenario($t, 'kill', 70, STREAM => 'kill',
	VIEWERS => $VIEWERS, READY => "$d/ready", DONE => "$d/done",
	WATCH => 50000);

my $ready = wait_ready($t, $node);

ok($ready, 'the publisher and 2 viewers decode, '
	. sprintf('%.1f s after the start', time() - $t0));

# webrtc-load's viewers of the same stream, until audience_end below (60 s
# at most)

my $aud = audience_start($t, 'kill', $LOAD, 60);

audience_up($t, $aud);

sleep 1.5;

###########################################################################
# which worker serves what

my $st = status_json('/status?stream=kill');

my ($pw) = grep { ($_->{publishers} // 0) == 1 } @{$st->{workers} // []};
my $pub_slot = $pw->{worker};

ok(defined $pub_slot
	&& ($st->{streams}[0]{viewers} // 0) == $VIEWERS + $LOAD,
	'the publisher served by worker ' . ($pub_slot // '?') . ': '
	. status_text($st));

###########################################################################
# kill 1: the publisher's worker; kill 2, 3 s later: a worker serving only
# viewers, or the publisher's worker's successor if none

my (%killed, @kills);

my $name = 'the publisher\'s worker';
my $slot = $pub_slot // 0;

for my $n (1, 2) {
	if ($n == 2) {
		sleep(max(0, $kills[0]{at} + 3 - time()));

		$st = status_json('/status?stream=kill');
		my ($vw) = grep { ($_->{publishers} // 0) == 0
				&& ($_->{viewers} // 0) > 0 }
			@{$st->{workers} // []};

		if ($vw) {
			$slot = $vw->{worker};
			$name = "a worker with only viewers ($vw->{viewers})";
		} else {
			$name = 'the publisher\'s worker\'s successor, as both '
				. 'viewers are on it (' . status_text($st) . ')';
		}
	}

	audience_mark($aud, 'kill');

	my ($pid, $new, $at) = kill_worker($t, $slot, \&status_json);
	$killed{$pid} = 1 if $pid;

	push @kills, { at => $at, pid => $pid, slot => $slot };

	ok($pid && $new && $new != $pid
		&& $t->log_lines(qr/ $pid exited on signal 9/)
		&& $t->worker_pids() == 2,
		"kill $n ($name): worker $slot, pid $pid, replaced by "
		. ($new // 'none') . sprintf(' at %.1f s', $at - $t0));
}

# Chromium would take a connection for disconnected only after several
# consent checks went unanswered: the watch goes on for 12 s after the
# last kill

sleep(max(0, $kills[-1]{at} + 12 - time()));

$st = status_json('/status?stream=kill');

ok(($st->{streams}[0]{viewers} // 0) == $VIEWERS + $LOAD
	&& status_sum($st, 'publishers') == 1
	&& status_sum($st, 'viewers') == $VIEWERS + $LOAD,
	'after the kills the status counts the publisher and the '
	. ($VIEWERS + $LOAD) . ' viewers: ' . status_text($st));

unprotect_ok($t);

# then webrtc-load's viewers end, the browsers stop watching

my $status = audience_end($aud);

$t->write_file('done', "done\n");

my $r = finish_scenario($t, $node, 'kill', 70 + 20 - (time() - $t0)) || {};
my $p = $r->{publisher} || {};
my @v = map { $_ || {} } @{$r->{viewers} || []}[0 .. $VIEWERS - 1];

watched_ok(100, $p, @v);
after_ok($r, 'the kills');

###########################################################################
# what the browsers saw

my $pl = $p->{watch}{pli} || [];
my $kf = $p->{watch}{keyFrames} || [];

diag('publisher: PLIs received ' . ($pl->[0] // '?') . ' -> '
	. ($pl->[1] // '?') . ', key frames sent ' . ($kf->[0] // '?')
	. ' -> ' . ($kf->[1] // '?'));

for my $i (0 .. $VIEWERS - 1) {
	my $w = $v[$i]{watch} || {};

	diag("viewer $i: standstills of 200 ms or more: "
		. standstills($w, 'kill', map { $_->{at} } @kills));

	is(events($w, 'signaling'), '',
		"viewer $i: no signalingstatechange (no renegotiation)");
	transport_ok($w, "viewer $i");

	is(events($w, 'connection'), '',
		"viewer $i: no connection state change (failed, disconnected)");
}

is(events($p->{watch}, 'signaling'), '',
	'publisher: no signalingstatechange');

is(events($p->{watch}, 'connection'), '',
	'publisher: no connection state change (failed, disconnected)');

# the freeze a crash adoption costs (the SRTP jump of 1,024, the key frame
# the publisher is asked for): the issue's bound is 500 ms

for my $i (0 .. $VIEWERS - 1) {
	gap_ok($v[$i]{watch} || {}, "viewer $i");
}

###########################################################################
# what webrtc-load saw

audience_checks($t, $aud, $status);

###########################################################################
# the harness's "no alerts" would count the kills: here every alert but
# the kills' own (a worker exited on signal 9, the lock it held, the
# repair) fails, and the harness checks only what comes after

kill_alerts($t, \%killed);

###########################################################################


