#!/usr/bin/perl

# End-to-end: an H.264 publisher whose offer says Constrained Baseline
# (42e01f, as OBS always writes) while it sends another profile: Chromium,
# its SPS rewritten by an encoded transform (t/e2e/h264-label.js), to Main
# (same SPS syntax: still decodable) and to High (what OBS sends by
# default; the frames are not decodable then, only signaling is checked).
# The server reads the profile from the SPS: one info line names both, the
# status location shows the real one, a viewer that only decodes
# Constrained Baseline is refused with a reason, and an ordinary viewer is
# answered with a profile that decodes the real one, and decodes.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/e2e/lib";

use Test::More;
use Test::Nginx;
use E2E;

# stream, SPS, its profile, the viewer's answer, frames checked
my @RUNS = (
	[ 'main', '4d401f', 'main', qr/profile-level-id=4d/, 1 ],
	[ 'high', '64001f', 'high', qr/profile-level-id=f4/, 0 ],
);

my $t = E2E::start(plan => 12 * @RUNS + 1 + 1,
	http => 'location = /status { webrtc_status; }');

for my $run (@RUNS) {
	my ($stream, $sps, $profile, $answer, $frames) = @$run;

	my $r = E2E::scenario($t, 'h264-label', timeout => 45,
		env => { STREAM => $stream, PROFILE => $sps, LABEL => '42e01f',
			FRAMES => $frames }) || {};
	my ($p, $st, $cb, $v) = map { $_ || {} }
		@$r{qw/publisher status cbViewer viewer/};
	my $n = $profile;

	is($p->{status}, 201, "$n: WHIP 201");
	is($p->{state}, 'connected', "$n: publisher connected");
	like($p->{answerCodec} // '', qr/profile-level-id=42e01f/,
		"$n: the publisher is answered with its label");
	like(($p->{sent} || {})->{codec} // '', qr/profile-level-id=42e01f/,
		"$n: the publisher negotiated Constrained Baseline (getStats)")
		or diag explain $p->{sent};

	my $id = E2E::session_id($p->{location}) // 'none';
	my @lines = grep { /session \Q$id\E:/ }
		$t->log_lines(qr/publisher labels H\.264/);
	is(scalar(grep { /\[info\] .*webrtc session \Q$id\E: publisher labels H\.264 42e01f \(constrained baseline\) but sends \Q$sps\E \(\Q$profile\E\)/ } @lines),
		1, "$n: one info line names the label and the real profile")
		or diag explain \@lines;

	is($st->{h264_profile_level_id}, $sps,
		"$n: status, the real profile-level-id") or diag explain $st;
	is($st->{h264_profile}, $profile, "$n: status, the real profile");
	is($st->{h264_label}, '42e01f', "$n: status, the label");

	is($cb->{status}, 422, "$n: a Constrained Baseline viewer, 422")
		or diag explain $cb;
	like($cb->{body} // '', qr/no common video codec with the stream/,
		"$n: a Constrained Baseline viewer, the reason");

	is($v->{status}, 201, "$n: an ordinary viewer, WHEP 201");
	like($v->{answerCodec} // '', qr/^H264 .*$answer/i,
		"$n: an ordinary viewer is answered with a profile decoding it")
		or diag explain $v;

	next unless $frames;

	cmp_ok(($v->{s2} || {})->{video}{framesDecoded} // 0, '>',
		($v->{s1} || {})->{video}{framesDecoded} // 0,
		"$n: an ordinary viewer decodes, frames keep coming")
		or diag explain $v;
}

$t->stop();
