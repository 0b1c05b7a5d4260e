#!/usr/bin/perl

# End-to-end with a second browser engine: headless Firefox ESR (puppeteer-
# core over WebDriver BiDi) publishes over WHIP and Chromium plays over WHEP,
# and the other way round, with bundlePolicy 'max-bundle' (what WHIP/WHEP
# clients use: Firefox then offers every m= section after the first with
# port 0 and a=bundle-only, RFC 8843, 6) and 'balanced' (every m= section
# with its own port and candidates); VP8, as Debian's Firefox has no H.264.
# The viewer decodes video and receives audio each time.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/e2e/lib";

use Test::More;
use Test::Nginx;
use E2E;

my @RUNS = map { my $b = $_; ("firefox:chromium:$b", "chromium:firefox:$b") }
	qw/max-bundle balanced/;

# per run: 10; then no alerts
my $t = E2E::start(plan => @RUNS * 10 + 1, firefox => 1);

my $r = E2E::scenario($t, 'cross-browser', timeout => 50,
	env => { RUNS => join(',', @RUNS) }) || {};
my %runs = map { $_->{name} => $_ } @{$r->{runs} || []};

for my $run (@RUNS) {
	my ($pub, $view, $bundle) = split /:/, $run;
	my $n = "$pub publishes, $view plays, $bundle";
	my $x = $runs{"$pub-$view-$bundle"} || {};
	my ($p, $v) = map { $_ || {} } @$x{qw/publisher viewer/};
	my ($s1, $s2) = map { $_ || {} } @$v{qw/s1 s2/};

	is($p->{status}, 201, "$n: WHIP 201");
	is($p->{state}, 'connected', "$n: publisher connected");

	# a live section of the answer has a port; port 0 means rejected

	my @dead = grep { /^m=\S+ 0 / } @{$p->{mlines} || []},
		@{$v->{mlines} || []};
	ok(@{$p->{mlines} || []} && !@dead, "$n: no m= section rejected")
		or diag explain { publisher_offer => $p->{offerMlines},
			publisher_answer => $p->{mlines},
			viewer_offer => $v->{offerMlines},
			viewer_answer => $v->{mlines} };
	like($p->{answerCodec} // '', qr/^VP8\b/i, "$n: publisher answer VP8");

	is($v->{status}, 201, "$n: WHEP 201");
	is($v->{state}, 'connected', "$n: viewer connected");
	like($s2->{video}{codec} // '', qr{^video/VP8\b}i,
		"$n: viewer inbound codec (getStats)");
	cmp_ok($s1->{video}{framesDecoded} // 0, '>', 0, "$n: frames decoded");
	cmp_ok($s2->{video}{framesDecoded} // 0, '>',
		$s1->{video}{framesDecoded} // 0, "$n: frames keep coming");
	ok(($s2->{video}{frameWidth} // 0) > 0
		&& ($s2->{audio}{packetsReceived} // 0) > 0,
		"$n: frame width " . ($s2->{video}{frameWidth} // 0)
		. ', audio packets ' . ($s2->{audio}{packetsReceived} // 0));
}

diag(sprintf "scenario: %.1f s", $r->{_secs} // 0);
