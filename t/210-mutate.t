#!/usr/bin/perl

# Bad input on live sessions: tools/webrtc-load --mutate against nginx with
# 2 workers.  A publisher and 3 viewers, in one process, get up with media;
# then each sends 2500 mutated datagrams from its own socket, on the
# 5-tuple of its session: its STUN check, the DTLS handshake records it
# sent, the publisher's SRTP, receiver and sender reports, changed (bit
# flips, bytes, truncation, junk, length fields) or replayed as they were
# (an old SRTP packet, the ClientHello), and random datagrams in each
# range of RFC 7983 and outside them.  Meanwhile 2 viewers that send
# nothing bad watch the same stream.  The server must drop every mutated
# datagram with an info line (once a session or address; a session's says
# what was being done and whose it is: session, role, stream, client), and
# serve on: no session closed, viewers decrypt media after the burst, the
# workers are the same processes, no alert and no crash.
# Skipped if the tool is not built (make tools).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Test::Nginx qw/port/;
use Test::Nginx::Load qw/tool spawn_tool publisher_up finish run_tool
	summary decode slurp load_conf/;
use Time::HiRes qw/sleep time/;

plan(skip_all => 'tools/webrtc-load is not built (make tools)')
	unless -x tool();

my $t = Test::Nginx->new()->has(qw/http stream/)->plan(37);

my $N = 2500;           # mutated datagrams a peer
my $PEERS = 4;          # the publisher and 3 viewers

# info, not debug: the lines asserted are those an operator sees

$t->write_file_expand('nginx.conf', load_conf(status => 0))->run();

my $d = $t->testdir();
my $base = 'http://127.0.0.1:' . port(8080);
my @workers = $t->worker_pids();

###########################################################################
# the publisher and 3 viewers that mutate, in the background: up in well
# under a second, the burst 10000 datagrams at 4000 a second, then media
# for the rest of the 9 s; gone 16 s after the start at the latest

my $t0 = time();
my $mut = spawn_tool($d, 'mutate', '--whip', "$base/whip/mut", '--whep',
	"$base/whep/mut", '--viewers', '3', '--duration', '9', '--bitrate',
	'1000k', '--fps', '30', '--gop', '2s', '--mutate', $N, '--mutate-rate',
	'4000', '--seed', '7', '--consent-interval', '1', '--http-timeout', '3',
	'--json');

ok(publisher_up($d, 'mutate'), 'publisher connected');

###########################################################################
# 2 viewers of the same stream that send nothing bad, in the foreground
# (bounded): across the burst and after it

my @out = run_tool($d, 15, undef, '--whep', "$base/whep/mut", '--viewers', '2',
	'--duration', '7', '--http-timeout', '3', '--json');

my $by = summary(@out);

is($by->{connected}, 2, 'bystanders: 2 viewers connected')
	or diag(join '', @out);
is($by->{failed}, 0, 'bystanders: none failed')
	or diag(JSON::PP->new->canonical->encode($by->{fail} // {}));
cmp_ok($by->{min_rtp_per_viewer} // 0, '>', 500,
	'bystanders: each decrypted RTP packets: at least '
	. ($by->{min_rtp_per_viewer} // 0));
is($by->{decrypt_errors}, 0, 'bystanders: no decryption errors');

###########################################################################
# the mutating peers end by themselves

my $status = finish($mut, $t0 + 16 - time());

is($status, 0, 'mutating peers exited by themselves, status 0')
	or diag(slurp("$d/mutate.log"));

my $s = summary(split /\n/, slurp("$d/mutate.json"));
my $kinds = $s->{mutate} // {};

is($s->{connected}, 3, 'all 3 mutating viewers connected');
is($s->{failed}, 0, 'no mutating viewer failed (closed, DTLS, ICE)')
	or diag(JSON::PP->new->canonical->encode($s->{fail} // {}));
is($s->{pub_failed}, 0, 'the mutating publisher did not fail');

is($s->{mutate_peers}, $PEERS, "all $PEERS peers sent their burst");
is($s->{mutate_sent}, $PEERS * $N, "$N mutated datagrams a peer sent")
	or diag(JSON::PP->new->canonical->encode($kinds));
is($s->{mutate_errors}, 0, 'no send() of them failed');
is(scalar(keys %$kinds) . ' ' . join(' ', sort grep { !$kinds->{$_} }
	keys %$kinds), '28 ', 'each of the 28 kinds of mutation was sent');

cmp_ok($s->{rtp_during_mutate} // 0, '>', 0,
	'viewers decrypted media during the burst: '
	. ($s->{rtp_during_mutate} // 0));
cmp_ok($s->{mutate_after_ms} // 0, '>=', 2000,
	'measured ' . ($s->{mutate_after_ms} // 0) . ' ms after the burst');
cmp_ok($s->{min_rtp_after_mutate} // 0, '>', 200,
	'each mutating viewer decrypted RTP after the burst: at least '
	. ($s->{min_rtp_after_mutate} // 0));
cmp_ok($s->{pub_rtcp_after_mutate} // 0, '>', 0,
	'the publisher decrypted the server\'s RTCP after the burst: '
	. ($s->{pub_rtcp_after_mutate} // 0));
cmp_ok($s->{consent_ok_after_mutate} // 0, '>=', $PEERS,
	'consent checks answered after the burst, all peers together: '
	. ($s->{consent_ok_after_mutate} // 0));
is($s->{mutate_alive}, $PEERS, "all $PEERS peers up with media after it");
is($s->{mutate_closed}, 0, 'no peer gone');
is($s->{decrypt_errors}, 0, 'viewers: no decryption errors');
cmp_ok($s->{loss_pct} // 100, '<', 5,
	'viewers: loss ' . ($s->{loss_pct} // '?') . ' %');

###########################################################################
# the server: same workers, no alert, each drop logged at info

is(join(' ', $t->worker_pids()), join(' ', @workers),
	'the same worker processes: ' . join(' ', @workers));
is(scalar $t->log_lines(qr/\[(alert|crit|emerg)\]|exited on signal/), 0,
	'no alert, no worker exited on a signal');

# once a session or an address, more at debug level

my $stun = '\[info\].* webrtc: (invalid STUN message|STUN check with an '
	. 'unknown username or a bad MESSAGE-INTEGRITY|STUN message without '
	. 'a USERNAME) ignored';

cmp_ok(scalar $t->log_lines(qr/$stun/), '>=', $PEERS,
	'bad STUN checks logged at info');
is(scalar $t->log_lines(qr/\[info\].* DTLS alert failed authentication/),
	$PEERS, 'forged DTLS alerts logged at info');

# OpenSSL 3.0.19 ends the session with a fatal alert for these: the module
# drops them first (the viewers' sessions keep OpenSSL's state for their
# first second, until they send SRTCP)

my $short = 'encrypted DTLS record of \d+ bytes, shorter than its '
	. "cipher's overhead, dropped";

cmp_ok(scalar $t->log_lines(qr/\[info\].* $short/), '>=', 1,
	'short encrypted DTLS records dropped, logged at info');

my $srtp = 'packet (failed authentication|replayed|not decrypted) '
	. '\(libsrtp2 error \d+\), dropped';

is(scalar $t->log_lines(qr/\[info\].* SRTP $srtp/), 1,
	'bad SRTP logged at info (the publisher)');
is(scalar $t->log_lines(qr/\[info\].* SRTCP $srtp/),
	$PEERS, 'bad SRTCP logged at info');
is(scalar $t->log_lines(qr/\[info\].* webrtc: datagram with first byte/),
	$PEERS, 'datagrams of no protocol logged at info');

# a session's line says whose it is and what was being done, as nginx's
# stream lines do: its id, role, stream and address; the line of the UDP
# connection that nominated it names the same worker, connection and role

my %nominated;

for ($t->log_lines(qr/ ICE nominated /)) {
	$nominated{$3} = "$1 $2"
		if /\] (\d+#\d+: \*\d+) webrtc (\w+) session (\w+): ICE nominated/;
}

my $whose = qr/\] (\d+#\d+: \*\d+) .*, session: (\w{32}), role: (\w+),/
	. qr/ stream: mut, client: (127\.0\.0\.1:\d+)$/;

sub whose {
	my ($line) = @_;
	my ($conn, $id, $role, $client) = ($line // '') =~ $whose
		or return 'none';
	return ($nominated{$id} // '?') eq "$conn $role"
		? $client : "not nominated as $conn $role";
}

my ($bad_srtp) = $t->log_lines(qr/\[info\].* SRTP $srtp/);

like($bad_srtp // '',
	qr/ dropped while unprotecting SRTP, session: \w+, role: publisher, /,
	'bad SRTP: while unprotecting SRTP');
like(whose($bad_srtp), qr/^127\.0\.0\.1:\d+$/,
	'bad SRTP: the publisher\'s session, its stream and address')
	or diag($bad_srtp);

my (@bad, %client);

for ($t->log_lines(qr/\[info\].* SRTCP $srtp/)) {
	my $client = whose($_);
	push @bad, $_ unless / dropped while unprotecting SRTP, /
		&& $client =~ /^127\.0\.0\.1:\d+$/;
	$client{$client} = 1;
}

is(join("\n", @bad), '', 'bad SRTCP: each line of its session');
is(scalar keys %client, $PEERS, "bad SRTCP: $PEERS sessions, $PEERS addresses");

# sessions end on their DELETE only (bounded wait for the last ones)

my @closed;

for (1 .. 40) {
	@closed = $t->log_lines(qr/session \w+ closed: /);
	last if @closed >= $PEERS + 2;
	sleep 0.05;
}

is(join("\n", grep { !/ closed: deleted,/ } @closed), '',
	'no session closed but on its DELETE');
is(scalar @closed, $PEERS + 2, 'all ' . ($PEERS + 2) . ' sessions deleted');

###########################################################################
# helpers

