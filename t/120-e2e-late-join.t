#!/usr/bin/perl

# End-to-end late join with headless Chromium: a viewer that joins 10 s
# after the publisher started decodes its first frame within 3 s of its
# WHEP POST (it needs a key frame: the server asks the publisher for one,
# or keeps one).  VP8 and H.264 streams, at the same time.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/e2e/lib";

use Test::More;
use Test::Nginx;
use E2E;

my @CODECS = qw/VP8 H264/;

my $t = E2E::start(plan => 8 * @CODECS + 1);

my $r = E2E::scenario($t, 'late-join', timeout => 45,
	env => { STREAM => 'late', CODECS => join(',', @CODECS),
		DELAY => 10000 }) || {};

for my $i (0 .. $#CODECS) {
	my $c = $CODECS[$i];
	my $run = $r->{runs} && $r->{runs}[$i] || {};
	my ($p, $v) = ($run->{publisher} || {}, $run->{viewer} || {});

	is($p->{status}, 201, "$c: WHIP 201");
	is($p->{state}, 'connected', "$c: publisher connected");
	cmp_ok($p->{joinAfterMs} // 0, '>=', 10000, "$c: viewer joins 10 s later");
	is($v->{status}, 201, "$c: WHEP 201");

	ok(defined $v->{firstFrameMs}, "$c: viewer decoded a frame");
	diag("$c: time to first frame: " . ($v->{firstFrameMs} // 'none')
		. ' ms (POST ' . ($v->{postMs} // '?') . ' ms)');
	cmp_ok($v->{firstFrameMs} // 1e9, '<', 3000, "$c: first frame within 3 s");
	like($v->{codec} // '', qr{^video/\Q$c\E\b}i, "$c: viewer codec");

	ok($v->{after} && $v->{after}{reached}, "$c: frames keep coming, "
		. ($v->{after}{video}{frameWidth} // 0) . ' wide')
		or diag explain $v->{after};
}
