#!/usr/bin/perl

# End-to-end ICE restart with headless Chromium and two workers: viewers
# restart ICE (PATCH If-Match: "*"); the new local ports may be steered by
# reuseport to the worker that does not hold the session's DTLS and SRTP
# state, which then forwards the path to it.  Frames keep coming either way.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/e2e/lib";

use Test::More;
use Test::Nginx;
use E2E;

my $n = 4;
my $t = E2E::start(plan => 3 + 4 * $n);

my $r = E2E::scenario($t, 'ice-restart', timeout => 60,
	env => { STREAM => 'rs', VIEWERS => $n }) || {};

is($r->{publisher}{status}, 201, 'publisher: WHIP 201');

my @v = @{$r->{viewers} || []};

for my $i (0 .. $n - 1) {
	my $v = $v[$i] || {};
	is($v->{status}, 201, "viewer $i: WHEP 201");
	is($v->{restart}, 200, "viewer $i: ICE restart 200");
	cmp_ok($v->{after} // 0, '>=', ($v->{before} // 0) + 20,
		"viewer $i: frames after the restart: " . ($v->{before} // '?')
		. ' -> ' . ($v->{after} // '?') . ' ('
		. ($v->{pathBefore} // '?') . ' -> ' . ($v->{pathAfter} // '?')
		. ')');
	is($v->{state}, 'connected', "viewer $i: connected");
}

my $moved = $t->log_lines(qr/media path moved to an address another worker/);
diag("$moved of $n restarts moved the path across workers");
ok(!$t->log_lines(qr/cannot move/), 'no path refused');

$t->stop();
