#!/usr/bin/perl

# End-to-end republish with headless Chromium: a publisher stops (DELETE,
# pc.close()) and a new one starts on the same stream; the viewer, which
# stays connected all along, decodes the new frames without reconnecting.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/e2e/lib";

use Test::More;
use Test::Nginx;
use E2E;

my $t = E2E::start(plan => 14);

my $r = E2E::scenario($t, 'republish', timeout => 45,
	env => { STREAM => 're', WAIT => 5000 }) || {};
my ($a, $b, $v) = map { $_ || {} } @$r{qw/first second viewer/};
my ($before, $gap, $after, $end) = map { $_ || {} } @$v{qw/before gap after end/};

is($a->{status}, 201, 'first publisher: WHIP 201');
is($v->{status}, 201, 'viewer: WHEP 201');
ok($before->{reached}, 'viewer decodes the first publisher: '
	. ($before->{video}{framesDecoded} // 0) . ' frames, '
	. ($before->{video}{frameWidth} // 0) . ' wide');
is($a->{deleteStatus}, 200, 'first publisher: DELETE 200');
is($b->{status}, 201, 'second publisher: WHIP 201');
is($b->{state}, 'connected', 'second publisher connected');

ok($after->{reached}, 'viewer decodes 10 new frames within 5 s: '
	. ($gap->{video}{framesDecoded} // 0) . ' -> '
	. ($after->{video}{framesDecoded} // 0) . ' in '
	. ($after->{sincePostMs} // '?') . ' ms');
# the second publisher sends at half size (the browser may scale down
# further under load, never up)
my ($w0, $w1) = ($before->{video}{frameWidth} // 0, $end->{video}{frameWidth} // 0);
ok($w0 > 320 && $w1 > 0 && $w1 <= 320,
	"the new frames are the second publisher's: $w0 then $w1 wide");
cmp_ok($end->{audio}{packetsReceived} // 0, '>',
	$gap->{audio}{packetsReceived} // 0, 'audio from the second publisher');

is($v->{state}, 'connected', 'viewer connected at the end');
is(join(' ', @{$v->{states} || []}), 'new connecting connected',
	'viewer never left "connected"');

my $pid = E2E::session_pids($t);
diag('workers: first publisher '
	. ($pid->{E2E::session_id($a->{location}) // ''} // '?')
	. ', second publisher ' . ($pid->{E2E::session_id($b->{location}) // ''} // '?')
	. ', viewer ' . ($pid->{E2E::session_id($v->{location}) // ''} // '?'));

my $vid = E2E::session_id($v->{location}) // 'none';
ok(!$t->log_lines(qr/session \Q$vid\E.* closed/), 'viewer session not closed');
is(scalar $t->log_lines(qr/session \Q$vid\E: ICE nominated/), 1,
	'viewer nominated once');
