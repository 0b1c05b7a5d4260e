#!/usr/bin/perl

# Per-session quality in the JSON status (issue 18, item 2): while a
# webrtc-load publisher (1000 kbit/s) and 2 viewers of the stream
# "quality" stream, /status?stream=quality lists the stream's sessions,
# the publisher first, and /status?session=ID shows one.  Each is told by
# the worker serving its media, once a second: the state (connected), the
# worker, the media path ("udp 127.0.0.1:PORT", the client's), the DTLS
# cipher and SRTP profile of the handshake, the packets and bytes each
# way and the bitrate of the last second (the publisher's in, a viewer's
# out, about the publisher's), loss (0 on loopback), the round trip of a
# viewer from its receiver reports' LSR and DLSR (webrtc-load fills them
# from the server's sender reports), NACKs and PLIs, the time since its
# nomination.  An unknown session is a 404 with a reason; once the
# viewers left (DELETE), the stream lists the publisher alone.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::PP ();
use Test::More;
use Test::Nginx qw/http_req port/;
use Test::Nginx::Load qw/tool spawn_tool publisher_up finish created_ids
	load_conf/;
use Time::HiRes qw/sleep time/;

plan(skip_all => 'tools/webrtc-load is not built (make tools)')
	unless -x tool();

my $t = Test::Nginx->new()->has(qw/http stream/)->plan(25);

$t->write_file_expand('nginx.conf', load_conf())->run();

my $d = $t->testdir();
my $base = 'http://127.0.0.1:' . port(8080);

sub status {
	my ($query) = @_;
	my $r = http_req(GET => "/status?$query");
	return ($r->{status}, eval { JSON::PP::decode_json($r->{body}) } || {},
		$r->{body});
}

my $pub = spawn_tool($d, 'publisher', '--whip', "$base/whip/quality",
	'--duration', '16', '--bitrate', '1000k', '--http-timeout', '3',
	'--json');

ok(publisher_up($d, 'publisher'), 'publisher connected');

my $view = spawn_tool($d, 'viewers', '--whep', "$base/whep/quality",
	'--viewers', '2', '--duration', '8', '--http-timeout', '3', '--json');

# a few seconds of media, and the sweeps that tell the zone

my ($st, $s);

for (1 .. 60) {
	sleep 0.25;
	($st, $s) = status('stream=quality');
	my @v = grep { $_->{role} eq 'viewer' }
		@{$s->{streams}[0]{sessions} || []};
	last if @v == 2 && !grep { !$_->{rtt_ms} || !$_->{bitrate_out} } @v;
}

is($st, 200, 'status of the stream');

my $stream = $s->{streams}[0] || {};
my @ses = @{$stream->{sessions} || []};
my ($p, @v) = @ses;

is($stream->{sessions_total}, 3, '3 sessions, all listed');
my ($pid) = created_ids($t, 'quality', 'publisher');
is($p->{id}, $pid, 'the publisher first, its id');

is($p->{state}, 'connected', 'publisher connected');
like($p->{path} // '', qr/^udp 127\.0\.0\.1:\d+$/, 'publisher: its path');
ok(defined $p->{worker} && $p->{worker} =~ /^[01]$/,
	'publisher: the worker slot serving it');
like($p->{dtls_cipher} // '', qr/^ECDHE-ECDSA-/, 'publisher: DTLS cipher');
like($p->{srtp_profile} // '', qr/^SRTP_/, 'publisher: SRTP profile');
ok(($p->{packets_in} // 0) > 100 && ($p->{bytes_in} // 0) > 50000,
	"publisher: packets and bytes in ($p->{packets_in}, $p->{bytes_in})");
ok(($p->{bitrate_in} // 0) > 500000 && $p->{bitrate_in} < 3000000,
	"publisher: bitrate in about 1 Mbit/s ($p->{bitrate_in})");
is($p->{packets_lost}, 0, 'publisher: no loss on loopback');
ok(defined $p->{since_nominated} && $p->{since_nominated} >= 0
	&& $p->{since_nominated} <= $p->{age},
	"publisher: time since nominated ($p->{since_nominated} of $p->{age} s)");

is(scalar @v, 2, '2 viewers');
ok(!grep({ $_->{state} ne 'connected' } @v), 'viewers connected');
ok(!grep({ ($_->{bitrate_out} // 0) < 500000 } @v),
	'viewers: bitrate out about the publisher\'s ('
	. join(', ', map { $_->{bitrate_out} // '?' } @v) . ')');
ok(!grep({ ($_->{packets_out} // 0) < 100 } @v), 'viewers: packets out');
ok(!grep({ !defined $_->{rtt_ms} || $_->{rtt_ms} < 1 || $_->{rtt_ms} > 500 }
		@v),
	'viewers: round trip from their reports ('
	. join(', ', map { $_->{rtt_ms} // 'null' } @v) . ' ms)');
ok(!grep({ ($_->{fraction_lost} // 1) != 0 } @v), 'viewers: no loss');
ok(!grep({ !defined $_->{nacks} || !defined $_->{plis} } @v),
	'viewers: NACKs and PLIs counted');

# one session by its id

my $vid = $v[0]{id} // 'none';
my ($st1, $one) = status("session=$vid");
is($st1, 200, 'status of a session');
is($one->{session}{id} . ' ' . $one->{session}{role}, "$vid viewer",
	'the session asked for');

my (undef, undef, $body) = status('session=' . ('0' x 32));
like($body, qr/no such session/, 'an unknown session: 404 with a reason');

# the viewers leave

finish($view, 15);

for (1 .. 20) {
	($st, $s) = status('stream=quality');
	last if ($s->{streams}[0]{sessions_total} // 0) == 1;
	sleep 0.25;
}

is($s->{streams}[0]{sessions_total}, 1, 'the viewers gone: the publisher');

finish($pub, 20);

###############################################################################
