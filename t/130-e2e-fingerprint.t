#!/usr/bin/perl

# End-to-end DTLS fingerprint check with headless Chromium (RFC 8842): a
# publisher whose offer's a=fingerprint was altered gets its 201 (signaling
# cannot know) but no media through: the viewer of its stream decodes
# nothing, and error.log says why.  A normal publisher on another stream
# works at the same time.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/e2e/lib";

use Test::More;
use Test::Nginx;
use E2E;

my $t = E2E::start(plan => 18);

my $r = E2E::scenario($t, 'fingerprint', timeout => 45,
	env => { BAD => 'bad', GOOD => 'good', WATCH => 5000 }) || {};
my ($bp, $bv) = map { $_ || {} } @{$r->{bad} || {}}{qw/publisher viewer/};
my ($gp, $gv) = map { $_ || {} } @{$r->{good} || {}}{qw/publisher viewer/};

# the bad publisher and its viewer

is($bp->{status}, 201, 'altered fingerprint: WHIP 201');
ok($bp->{sentFingerprint} && $bp->{fingerprint}
	&& $bp->{sentFingerprint} ne $bp->{fingerprint},
	'the offer sent had another fingerprint');
is($bv->{status}, 201, 'viewer of the bad stream: WHEP 201');
is($bv->{state}, 'connected', 'viewer of the bad stream connected');

my $s = $bv->{stats} || {};
cmp_ok($bp->{watchedMs} // 0, '>=', 5000, 'watched for 5 s');
is($s->{video}{framesDecoded}, 0, 'no video frame decoded');
is($s->{video}{packetsReceived}, 0, 'no video packet');
is($s->{audio}{packetsReceived}, 0, 'no audio packet');

my $bad = E2E::session_id($bp->{location}) // 'none';
my @mismatch = $t->log_lines(qr/DTLS certificate does not match the a=fingerprint/);
ok(grep({ /session \Q$bad\E: / } @mismatch),
	'error.log: DTLS certificate does not match the a=fingerprint');
ok(!$t->log_lines(qr/session \Q$bad\E: DTLS \S+ established/),
	'no SRTP keys for the bad publisher');

{
	# the handshake should fail (a fatal alert), not complete: the
	# browser then shows 'connected' and sends media into the void until
	# its consent freshness fails ~30 s later
	isnt($bp->{state}, 'connected',
		'the bad publisher\'s DTLS handshake fails');
}

# the good stream meanwhile

is($gp->{status}, 201, 'good stream: WHIP 201');
is($gv->{status}, 201, 'good stream: WHEP 201');
my ($g1, $g2) = ($gv->{s1} || {}, $gv->{s2} || {});
cmp_ok($g1->{video}{framesDecoded} // 0, '>', 0, 'good viewer decodes');
ok($g2->{reached}, 'good viewer keeps decoding: '
	. ($g1->{video}{framesDecoded} // 0) . ' then '
	. ($g2->{video}{framesDecoded} // 0) . ' frames');
cmp_ok($g2->{audio}{packetsReceived} // 0, '>', 0, 'good viewer audio');
is(scalar(@mismatch), 1, 'only one fingerprint mismatch');
