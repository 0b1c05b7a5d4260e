#!/usr/bin/perl

# Live sessions across reloads with headless Chromium (issue 16,
# doc/registry-design.md 11): a publisher (WHIP) and 2 viewers (WHEP)
# stream while nginx reloads twice, 3 s apart: the configuration
# unchanged, then worker_processes 2 -> 3.  From the moment every viewer
# decodes until 12 s after the second reload (t/e2e/reload.js): each
# viewer's framesDecoded, sampled every 100 ms, never stands still for
# over 500 ms; no peer connection goes to failed or disconnected; no
# signalingstatechange (no renegotiation); each viewer's transport keeps
# its dtlsState (connected) and srtpCipher.
#
# Also: the browsers were up and decoding before, each reload replaced the
# workers, the pages were watched all along, and a new publisher and
# viewer work after the reloads.  Before sessions were handed over, the
# frames stopped at the first reload and Chromium called the connections
# disconnected 6-8 s later.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/e2e/lib";

use Test::More;
use Test::Nginx;
use E2E;
use E2E::Watch;
use Time::HiRes qw/sleep time/;

my $VIEWERS = 2;

my $t = E2E::start(plan => 5 + 4 * $VIEWERS + 2 + 1);

my $d = $t->testdir();

###########################################################################
# the browsers, in the background: they watch until $d/done

my $t0 = time();
my $node = spawn_scenario($t, 'reload', 60, STREAM => 'reload',
	VIEWERS => $VIEWERS, READY => "$d/ready", DONE => "$d/done",
	WATCH => 40000);

my $ready = wait_ready($t, $node);

ok($ready, 'the publisher and 2 viewers decode, '
	. sprintf('%.1f s after the start', time() - $t0));

###########################################################################
# 2 reloads, 3 s apart

reload_twice($t);

# Chromium takes the connection for disconnected only after several
# consent checks went unanswered (the publisher about 6 s after the
# reload, the viewers later): the watch goes on for 12 s more

sleep 12;

$t->write_file('done', "done\n");

my $r = finish_scenario($t, $node, 'reload', 60 + 20 - (time() - $t0)) || {};
my $p = $r->{publisher} || {};
my @v = map { $_ || {} } @{$r->{viewers} || []}[0 .. $VIEWERS - 1];

watched_ok(50, $p, @v);
after_ok($r, 'the reloads');

###########################################################################
# what the browsers saw; today Chromium keeps its DTLS and SRTP state and
# does not renegotiate when the server drops the sessions, so those hold

for my $i (0 .. $VIEWERS - 1) {
	my $w = $v[$i]{watch} || {};

	is(events($w, 'signaling'), '',
		"viewer $i: no signalingstatechange (no renegotiation)");
	transport_ok($w, "viewer $i");
}

is(events($p->{watch}, 'signaling'), '',
	'publisher: no signalingstatechange');

for my $i (0 .. $VIEWERS - 1) {
	my $w = $v[$i]{watch} || {};

	gap_ok($w, "viewer $i");
	is(events($w, 'connection'), '',
		"viewer $i: no connection state change (failed, disconnected)");
}

is(events($p->{watch}, 'connection'), '',
	'publisher: no connection state change (failed, disconnected)');
