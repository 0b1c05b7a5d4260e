#!/usr/bin/perl

# End-to-end: an H.264 publisher whose offer says Constrained Baseline
# (42e01f, as OBS always writes) while it sends another profile: Chromium,
# its SPS rewritten to Main by an encoded transform (t/e2e/h264-label.js).
# The server reads the profile from the SPS: one info line names both, the
# status location shows the real one, a viewer that only decodes
# Constrained Baseline is refused with a reason, and an ordinary viewer is
# answered with the real profile and decodes.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/e2e/lib";

use Test::More;
use Test::Nginx;
use E2E;

my $t = E2E::start(plan => 14,
	http => 'location = /status { webrtc_status; }');

my $r = E2E::scenario($t, 'h264-label', timeout => 45,
	env => { STREAM => 'label', PROFILE => '4d401f', LABEL => '42e01f' })
	|| {};
my ($p, $st, $cb, $v) = map { $_ || {} }
	@$r{qw/publisher status cbViewer viewer/};

is($p->{status}, 201, 'WHIP 201');
is($p->{state}, 'connected', 'publisher connected');
like($p->{answerCodec} // '', qr/profile-level-id=42e01f/,
	'the publisher is answered with its label');
like(($p->{sent} || {})->{codec} // '', qr/profile-level-id=42e01f/,
	'the publisher negotiated Constrained Baseline (getStats)')
	or diag explain $p->{sent};

my $id = E2E::session_id($p->{location}) // 'none';
my @lines = $t->log_lines(qr/publisher labels H\.264/);
is(scalar(grep { /\[info\] .*webrtc session \Q$id\E: publisher labels H\.264 42e01f \(constrained baseline\) but sends 4d..1f \(main\)/ } @lines),
	1, 'one info line names the label and the real profile')
	or diag explain \@lines;

like($st->{h264_profile_level_id} // '', qr/^4d..1f$/,
	'status: the real profile-level-id') or diag explain $st;
is($st->{h264_profile}, 'main', 'status: the real profile');
is($st->{h264_label}, '42e01f', 'status: the label');

is($cb->{status}, 422, 'a Constrained Baseline viewer: 422')
	or diag explain $cb;
like($cb->{body} // '', qr/no common video codec with the stream/,
	'a Constrained Baseline viewer: the reason');

is($v->{status}, 201, 'an ordinary viewer: WHEP 201');
like($v->{answerCodec} // '', qr/^H264 .*profile-level-id=4d/i,
	'an ordinary viewer is answered with Main') or diag explain $v;
cmp_ok(($v->{s2} || {})->{video}{framesDecoded} // 0, '>',
	($v->{s1} || {})->{video}{framesDecoded} // 0,
	'an ordinary viewer decodes, frames keep coming') or diag explain $v;

$t->stop();
