#!/usr/bin/perl

# End-to-end fan-out with headless Chromium: one publisher (WHIP) and three
# viewers (WHEP), once with VP8 and once with H.264; every viewer decodes
# video and receives audio, and media is served by both nginx workers,
# a publisher's media reaching viewers of the other worker.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/e2e/lib";

use Test::More;
use Test::Nginx;
use E2E;

my @CODECS = qw/VP8 H264/;
my $VIEWERS = 3;

# per codec: 8 + 5 per viewer; then 3 + no alerts
my $t = E2E::start(plan => @CODECS * (8 + 5 * $VIEWERS) + 3 + 1);

my @runs;       # [publisher id, viewer ids...] of each run

for my $codec (@CODECS) {
	my $stream = 'fanout-' . lc $codec;
	my $r = E2E::scenario($t, 'fanout', timeout => 45,
		env => { STREAM => $stream, CODEC => $codec,
			VIEWERS => $VIEWERS }) || {};
	my $p = $r->{publisher} || {};
	my @v = @{$r->{viewers} || []};

	is($p->{status}, 201, "$codec: WHIP 201");
	is($p->{state}, 'connected', "$codec: publisher connected");
	like($p->{answerCodec} // '', qr/^\Q$codec\E\b/i,
		"$codec: publisher answer codec");

	my $vs = $v[0] && $v[0]{s2} || {};
	like($v[0] && $v[0]{answerCodec} // '', qr/^\Q$codec\E\b/i,
		"$codec: viewer answer codec");
	like($vs->{video}{codec} // '', qr{^video/\Q$codec\E\b}i,
		"$codec: viewer inbound codec (getStats)");
	like($vs->{audio}{codec} // '', qr{^audio/opus\b}i,
		"$codec: viewer inbound audio codec");

	# the module prefers AES-GCM (OpenSSL's, src/ngx_webrtc_srtp.c): the
	# browser decrypts what it encrypts and encrypts what it decrypts

	like($vs->{srtpCipher} // '', qr/^(SRTP_)?AEAD_AES_128_GCM$/,
		"$codec: viewer SRTP cipher");
	like(($p->{stats} || {})->{srtpCipher} // '',
		qr/^(SRTP_)?AEAD_AES_128_GCM$/, "$codec: publisher SRTP cipher");

	for my $i (0 .. $VIEWERS - 1) {
		my $v = $v[$i] || {};
		my ($s1, $s2) = ($v->{s1} || {}, $v->{s2} || {});
		my $n = "$codec viewer $i";
		is($v->{status}, 201, "$n: WHEP 201");
		is($s2->{state}, 'connected', "$n: connected");
		cmp_ok($s1->{video}{framesDecoded} // 0, '>', 0,
			"$n: frames decoded");
		cmp_ok($s2->{video}{framesDecoded} // 0, '>',
			$s1->{video}{framesDecoded} // 0, "$n: frames keep coming")
			or diag explain $v;
		ok(($s2->{video}{frameWidth} // 0) > 0
			&& ($s2->{audio}{packetsReceived} // 0) > 0,
			"$n: frame width " . ($s2->{video}{frameWidth} // 0)
			. ', audio packets ' . ($s2->{audio}{packetsReceived} // 0));
	}
	push @runs, [ map { E2E::session_id($_->{location}) } $p, @v ];
	diag(sprintf "%s: %.1f s", $codec, $r->{_secs} // 0);
}

# every session nominated in error.log once, on one worker; both workers
# served media and some viewer decoded a publisher of the other worker
# (reuseport hashes the browsers' random source ports: all on one worker
# happens by chance, then once more with more viewers)

my $spread = sub {
	my $pid = E2E::session_pids($t);
	my %pids = map { defined $_ ? ($_ => 1) : () }
		map { @$pid{grep { defined } @$_} } @runs;
	my $cross = grep {
		my ($p, @v) = @$_;
		defined $p && $pid->{$p}
			&& grep { defined && $pid->{$_} && $pid->{$_} != $pid->{$p} } @v
	} @runs;
	return (scalar keys %pids, $cross);
};

my ($workers, $cross) = $spread->();

if ($workers < 2 || !$cross) {
	diag("sessions on $workers worker(s), $cross cross-worker runs: "
		. 'once more with 6 viewers');
	my $r = E2E::scenario($t, 'fanout', timeout => 45,
		env => { STREAM => 'fanout-more', VIEWERS => 6 }) || {};
	my @v = @{$r->{viewers} || []};
	diag('extra run: frames decoded '
		. join(', ', map { $_->{s2}{video}{framesDecoded} // 0 } @v));
	push @runs, [ map { E2E::session_id($_->{location}) }
		$r->{publisher} || {}, @v ];
	($workers, $cross) = $spread->();
}

my @ids = grep { defined } map { @$_ } @runs;
my $nominated = grep { /ICE nominated/ && do {
	my ($id) = /session (\S+): ICE nominated/; grep { $_ eq $id } @ids } }
	$t->log_lines(qr/ICE nominated/);
is($nominated, scalar @ids, 'every session nominated once');
cmp_ok($workers, '>=', 2, "media served by $workers workers");
ok($cross, 'a viewer on the other worker than its publisher decoded');
