#!/usr/bin/perl

# Live sessions across reloads and a worker's crash with a second browser
# engine: headless Firefox ESR publishes (WHIP, VP8), a Firefox viewer and
# a Chromium viewer play (WHEP) (t/e2e/firefox-reload.js): Firefox's SRTP
# and SRTCP both ways, and Firefox's media to another engine.  nginx
# reloads twice, 3 s apart (the configuration unchanged, then
# worker_processes 2 -> 3), and 3 s later the worker serving the
# publisher (the status's per-worker "publishers" is 1) is killed with
# SIGKILL.  From the moment both viewers decode until 12 s after the kill:
# each viewer's framesDecoded, sampled every 100 ms (t/e2e/lib/watch.js),
# never stands still for over 500 ms (E2E::Watch::gap_ok: 5 s under the
# sanitizers); no peer connection goes to failed or disconnected; no
# signalingstatechange; each viewer's transport keeps its DTLS state
# (connected) and SRTP cipher (Firefox 153 has the "transport" report with
# dtlsState and srtpCipher too); the error log has no SRTP or SRTCP
# packet the module failed to unprotect ("webrtc: SRTP packet ...
# dropped", logged at info once a session); after the kill the status
# still counts the publisher and the 2 viewers.
#
# Also: the browsers were up and decoding before, each reload and the
# kill replaced the workers, the pages were watched all along, no alert
# but the kill's own.  The standstills of 200 ms or more are printed,
# each placed after the reload or kill before it, and each viewer's
# inbound video counters at the end (packetsLost, nackCount, pliCount,
# framesDropped, ...: each engine's recovery).  The Firefox viewer
# shares the publisher's tab: Firefox fires a background tab's timers once
# a second, and the watch samples every 100 ms.
#
# Measured in 12 plain runs (2 cores, load average 4-15 from other
# tests): a run's longest standstill 133, 500, 513, 607, 701, 714, 774,
# 820, 850, 1,321, 1,527, 1,795 ms, nearly all in the second after a
# reload: 2 runs passed; every other check passed in every run.  The
# freeze follows the module's pause in forwarding at a reload (t/313's
# webrtc-load viewers: 165 ms at load 2.6, 593 ms at 6.4, 1,078 ms at 11)
# plus each engine's recovery (NACKs, a PLI): in one run the Chromium
# viewer stood still 700 ms at both reloads while the Firefox viewer of
# the same stream paused 200 ms.  t/310 (a Chromium publisher) stood
# still 1,000 ms beside these runs: the load, not Firefox.  3 ASan runs
# passed (longest 2,244, 3,204, 701 ms).
#
# Built from b66206b (before the reload hand-over) the frames stopped at
# the first reload (18.5 s), all 3 connections went disconnected
# (Chromium's then failed), the status lost the sessions: 7 checks fail.
# From 870f51a (reloads handed over, no crash adoption) the frames stopped
# at the kill (12.2 s), the 3 connections went disconnected: 6 fail.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/e2e/lib";

use JSON::PP ();
use List::Util qw/max min/;
use Test::More;
use Test::Nginx qw/port/;
use Test::Nginx::Load qw/kill_worker kill_alerts status_sum status_text/;
use E2E qw/status_json/;
use E2E::Watch;
use Time::HiRes qw/sleep time/;

my @VIEWERS = (['firefoxViewer', 'Firefox viewer'],
	['chromiumViewer', 'Chromium viewer']);

my $t = E2E::start(plan => 20, firefox => 1,
	http => 'location = /status { webrtc_status; }');

my $d = $t->testdir();

###########################################################################
# the browsers, in the background: they watch until $d/done

my $t0 = time();
my $node = spawn_scenario($t, 'firefox-reload', 75, STREAM => 'ffr',
	READY => "$d/ready", DONE => "$d/done", WATCH => 45000);

my $ready = wait_ready($t, $node);

ok($ready, 'the Firefox publisher, Firefox and Chromium viewers decode, '
	. sprintf('%.1f s after the start', time() - $t0));

###########################################################################
# 2 reloads, 3 s apart (the first 1.5 s from now): unchanged, then
# worker_processes 2 -> 3; the time of each, to place the standstills

my $n = 0;
my @events = map { { at => $_, name => 'reload ' . ++$n } }
	E2E::Watch::reload_steps($t, [{ workers => 2 }, { workers => 3 }]);

###########################################################################
# 3 s later: the publisher's worker killed

sleep(max(0, $events[-1]{at} + 3 - time()));

my $st = status_json('/status?stream=ffr');
my ($pw) = grep { ($_->{publishers} // 0) == 1 } @{$st->{workers} // []};
my $slot = $pw->{worker};

ok(defined $slot && ($st->{streams}[0]{viewers} // 0) == 2,
	'after the reloads the publisher is served by worker '
	. ($slot // '?') . ': ' . status_text($st));

my ($pid, $new, $at) = kill_worker($t, $slot // 0, \&status_json);
my %killed = $pid ? ($pid => 1) : ();

push @events, { at => $at, name => 'the kill' };

ok($pid && $new && $new != $pid
	&& $t->log_lines(qr/ $pid exited on signal 9/)
	&& $t->worker_pids() == 3,
	"kill of the publisher's worker $slot, pid $pid, replaced by "
	. ($new // 'none') . sprintf(' at %.1f s', $at - $t0));

# Firefox and Chromium call a connection disconnected only after several
# consent checks went unanswered: the watch goes on 12 s after the kill

sleep(max(0, $at + 12 - time()));

$st = status_json('/status?stream=ffr');

ok(($st->{streams}[0]{viewers} // 0) == 2
	&& status_sum($st, 'publishers') == 1
	&& status_sum($st, 'viewers') == 2,
	'after the kill the status counts the publisher and the 2 viewers: '
	. status_text($st));

$t->write_file('done', "done\n");

my $r = finish_scenario($t, $node, 'firefox-reload',
	75 + 20 - (time() - $t0)) || {};
my $p = $r->{publisher} || {};
my %v = map { $_->[0] => $r->{$_->[0]} || {} } @VIEWERS;

watched_ok(100, $p, map { $v{$_->[0]} } @VIEWERS);

###########################################################################
# what the browsers saw

diag('getStats report types: ' . join('; ', map {
		"$_->[1]: " . join(' ', @{($r->{$_->[0]} || {})->{statTypes} || []})
	} ['publisher', 'Firefox publisher'], @VIEWERS));

my $pl = $p->{watch}{pli} || [];

diag('Firefox publisher: PLIs received ' . ($pl->[0] // '?') . ' -> '
	. ($pl->[1] // '?'));

for my $view (@VIEWERS) {
	my ($key, $who) = @$view;
	my $w = $v{$key}{watch} || {};

	diag("$who: standstills of 200 ms or more: " . gaps($w));
	diag("$who: inbound video at the end: " . join(', ', map {
			"$_ $v{$key}{recovery}{$_}" }
		sort keys %{$v{$key}{recovery} || {}}));

	gap_ok($w, $who);

	is(events($w, 'connection'), '',
		"$who: no connection state change (failed, disconnected)");
	is(events($w, 'signaling'), '',
		"$who: no signalingstatechange (no renegotiation)");
	transport_ok($w, $who);
}

is(events($p->{watch}, 'connection'), '',
	'Firefox publisher: no connection state change (failed, disconnected)');
is(events($p->{watch}, 'signaling'), '',
	'Firefox publisher: no signalingstatechange');

# what the module could not decrypt of Firefox's SRTP and SRTCP (or of
# Chromium's SRTCP): logged at info, once a session and kind

E2E::Watch::unprotect_ok($t);

# every alert but the kill's own fails

kill_alerts($t, \%killed);

###########################################################################


# a watch's standstills, each as "ms at <event> + s" (or "before reload
# 1"); one that began up to 150 ms before an event is its (the watch
# samples every 100 ms)
sub gaps {
	my ($w) = @_;
	my @g = @{($w || {})->{gaps} || []};
	return 'none' unless @g;
	return join ', ', map {
		my $at = ($w->{epochMs} + $_->{t}) / 1000;
		my ($e) = grep { $_->{at} <= $at + 0.15 } reverse @events;
		"$_->{ms} ms " . ($e
			? sprintf('at %s + %.1f s', $e->{name},
				max(0, $at - $e->{at}))
			: sprintf('%.1f s before reload 1', $events[0]{at} - $at))
	} @g;
}
