#!/usr/bin/perl

# ICE lite on the media port, driven by hand-made STUN messages: a valid
# check is answered with XOR-MAPPED-ADDRESS and MESSAGE-INTEGRITY; checks
# with a bad MESSAGE-INTEGRITY, an unknown ufrag or a wrong remote ufrag,
# truncated messages and garbage datagrams get no answer, an info line,
# and leave the session working.  Then, with webrtc_consent_timeout 2s, a
# session whose path moved to another worker's socket loses consent there:
# the worker with its DTLS state closes it for that reason.  Last, with
# that worker stopped until the relay to it is full, a path message is
# lost, and the next nominating check sends it again.

use strict;
use warnings;

use Test::More;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw/sleep time/;
use Digest::SHA qw/hmac_sha1/;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Nginx qw/http_req port/;
use Test::Nginx::STUN qw/stun_check stun_exchange stun_parse/;

my $t = Test::Nginx->new()->has(qw/http stream/)->plan(38);

my $conf = <<'EOF';

%%TEST_GLOBALS%%

worker_processes 2;

events {
}

%%MAIN%%

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_8080%%;

        webrtc_candidate 127.0.0.1:%%PORT_8090_UDP%%;

        location /whip/ {
            webrtc_whip;
        }
    }
}

stream {
    # the path moves below try many addresses of one session within
    # seconds (t/081 tests the bound)
    webrtc_max_addresses 64;

    server {
        listen 127.0.0.1:%%PORT_8090_UDP%% udp reuseport;
        webrtc;
    }
}

EOF

(my $c1 = $conf) =~ s/%%MAIN%%//;
$t->write_file_expand('nginx.conf', $c1)->run();

my $udp = port(8090, udp => 1);

my $offer = do {
	open my $fh, '<', "$FindBin::Bin/sdp/chromium-publish-vp8.sdp" or die $!;
	local $/;
	<$fh>;
};
my ($cufrag) = $offer =~ /a=ice-ufrag:(\S+)/;

my $r = http_req(POST => '/whip/ice', body => $offer,
	headers => { 'Content-Type' => 'application/sdp' });
is($r->{status}, 201, 'session created');

my ($sufrag) = $r->{body} =~ /a=ice-ufrag:(\S+)/;
my ($spwd) = $r->{body} =~ /a=ice-pwd:(\S+)/;

###############################################################################

# checks of the controlling agent with this session's credentials

sub check {
	my (%o) = @_;
	return stun_check(%o, username => $o{username} // "$sufrag:$cufrag",
		key => $o{key} // $spwd);
}

sub exchange { stun_exchange(@_) }
sub parse { stun_parse(@_) }

my $s = IO::Socket::INET->new(Proto => 'udp', PeerAddr => "127.0.0.1:$udp",
	LocalAddr => '127.0.0.1') or die "udp socket: $!";

my ($msg, $tid) = check();
my $res = exchange($s, $msg);
ok(defined $res, 'valid check answered');

my ($type, $a) = parse($res // '');
is($type, 0x0101, 'Binding success response');
is(substr($res // '', 8, 12), $tid, 'same transaction id');

my $xma = $a->{0x0020} // '';
my ($fam, $xport) = unpack('xCn', $xma);
is($fam, 1, 'XOR-MAPPED-ADDRESS is IPv4');
is($xport ^ 0x2112, $s->sockport(), 'XOR-MAPPED-ADDRESS port is ours');
is(join('.', unpack('C4', pack('N', unpack('x4N', $xma) ^ 0x2112A442))),
	'127.0.0.1', 'XOR-MAPPED-ADDRESS address is ours');

# the response's MESSAGE-INTEGRITY, keyed with the server's password

my $off = $a->{'off8'};
ok(defined $off, 'response has MESSAGE-INTEGRITY');
my $covered = substr($res, 0, $off);
substr($covered, 2, 2) = pack('n', $off - 20 + 24);
is($a->{8}, hmac_sha1($covered, $spwd), 'response MESSAGE-INTEGRITY valid');
ok(exists $a->{0x8028}, 'response has FINGERPRINT');

# spoofed and broken checks: no answer, an info line

my $log = -s $t->testdir() . '/error.log';

($msg) = check(bad_mi => 1);
ok(!defined exchange($s, $msg, 0.5), 'bad MESSAGE-INTEGRITY: no answer');

($msg) = check(username => "XXXXXXXX:$cufrag");
ok(!defined exchange($s, $msg, 0.5), 'unknown ufrag: no answer');

($msg) = check(username => "$sufrag:wrong");
ok(!defined exchange($s, $msg, 0.5), 'wrong remote ufrag: no answer');

($msg) = check(key => 'not-the-password-at-all');
ok(!defined exchange($s, $msg, 0.5), 'wrong password: no answer');

($msg) = check();
ok(!defined exchange($s, substr($msg, 0, 30), 0.5), 'truncated: no answer');

# RFC 8445, 11: a Binding Indication (libnice's keepalive) needs no answer
# and is no error: nothing logged at info (it was, once per session)

my $k = IO::Socket::INET->new(Proto => 'udp', PeerAddr => "127.0.0.1:$udp",
	LocalAddr => '127.0.0.1') or die "udp socket: $!";
exchange($k, (check())[0]);
my $ind_log = -s $t->testdir() . '/error.log';
my $ind = pack('nnN', 0x0011, 8, 0x2112A442) . ('k' x 12)
	. pack('nnN', 0x8028, 4, 0);
ok(!defined exchange($k, $ind, 0.5), 'Binding Indication: no answer');
unlike(substr($t->read_file('error.log'), $ind_log), qr/\[info\].*STUN/,
	'Binding Indication: nothing logged');

# garbage from another address: dropped, its UDP session closed at once

my $g = IO::Socket::INET->new(Proto => 'udp', PeerAddr => "127.0.0.1:$udp",
	LocalAddr => '127.0.0.1') or die "udp socket: $!";
ok(!defined exchange($g, "\x50" . ('x' x 99), 0.5), 'garbage: no answer');
ok(!defined exchange($g, "\x16\xfe\xfd" . ('y' x 50), 0.5),
	'DTLS before ICE: no answer');
ok(!defined exchange($g, "\x80\x60" . ('z' x 50), 0.5),
	'RTP before ICE: no answer');

my $lines = substr($t->read_file('error.log'), $log);
like($lines, qr/\[info\].*bad MESSAGE-INTEGRITY/,
	'spoofed checks logged at info');
like($lines, qr/\[info\].*without a valid ICE check dropped/,
	'garbage logged at info');

# a flood from many addresses: at info once a second a worker, with the
# count of the datagrams not logged

sub garbage_from_new_addresses {
	my ($n) = @_;
	for (1 .. $n) {
		my $u = IO::Socket::INET->new(Proto => 'udp',
			PeerAddr => "127.0.0.1:$udp", LocalAddr => '127.0.0.1')
			or die "udp socket: $!";
		$u->send("\x50" . ('f' x 99));
	}
}

sleep 1.1;
$log = -s $t->testdir() . '/error.log';
garbage_from_new_addresses(20);
sleep 1.1;
garbage_from_new_addresses(10);
sleep 0.5;

$lines = substr($t->read_file('error.log'), $log);
my $logged = () = $lines =~ /without a valid ICE check dropped/g;
cmp_ok($logged, '<=', 4, "30 from new addresses: $logged logged (2 workers,"
	. ' once a second each)');
my $more = 'more bad datagrams from addresses without a session dropped';
like($lines, qr/\[info\].* webrtc: \d+ $more/,
	'and the count of the others');

# the session still works

($msg) = check(use => 1);
($type) = parse(exchange($s, $msg) // '');
is($type, 0x0101, 'valid nominating check still answered');

# a DTLS record, unauthenticated until OpenSSL has it, from another
# address that passed a check: it does not move the media path (it did)

my $dtls_log = -s $t->testdir() . '/error.log';
my $other = IO::Socket::INET->new(Proto => 'udp',
	PeerAddr => "127.0.0.1:$udp", LocalAddr => '127.0.0.1')
	or die "udp socket: $!";
exchange($other, (check())[0]);
$other->send("\x16\xfe\xfd" . ("\0" x 10) . "\x00\x10" . ('d' x 16));
sleep 0.3;
unlike(substr($t->read_file('error.log'), $dtls_log),
	qr/media path moved/, 'DTLS from another checked address: path kept');

$t->stop();

###############################################################################

###############################################################################

# consent expiring on a worker that only forwards the session's path.  The
# checks on the worker with the DTLS state come late in their seconds; the
# last check, on the path moved to the other worker, comes early in a later
# second.  The DTLS worker's consent timer, re-armed by whole seconds, then
# fires after the other's, which closes the session through the relay.

# sleeps until the fraction of the second is in [from, to)

sub in_second {
	my ($from, $to) = @_;
	my $f = time() - int(time());
	sleep($f < $from ? $from - $f : 1 - $f + $from)
		unless $f >= $from && $f < $to;
}

$t = Test::Nginx->new();
(my $c2 = $conf) =~ s/%%MAIN%%/webrtc_consent_timeout 2s;/;
$t->write_file_expand('nginx.conf', $c2)->run();
$udp = port(8090, udp => 1);

$r = http_req(POST => '/whip/moved', body => $offer,
	headers => { 'Content-Type' => 'application/sdp' });
is($r->{status}, 201, 'moved path: session created');
($sufrag) = $r->{body} =~ /a=ice-ufrag:(\S+)/;
($spwd) = $r->{body} =~ /a=ice-pwd:(\S+)/;
my $id = substr($r->{headers}{location} // '', -32);

# nominated from a first socket, on the worker that then keeps the DTLS
# state; then nominating checks from new sockets until one lands on the
# other worker

my ($moved, @socks);
for (1 .. 40) {
	in_second(0.4, 0.8);
	my $u = IO::Socket::INET->new(Proto => 'udp',
		PeerAddr => "127.0.0.1:$udp", LocalAddr => '127.0.0.1')
		or die "udp socket: $!";
	push @socks, $u;
	($msg) = check(use => 1);
	next unless defined exchange($u, $msg, 1);
	sleep 0.05;
	if ($t->log_lines(qr/session $id: media path moved to an address of/)) {
		$moved = $u;
		last;
	}
}
ok($moved, 'moved path: a nominating check on the other worker');

in_second(0.02, 0.1);
($msg) = check();
ok($moved && defined exchange($moved, $msg, 1), 'moved path: last check');

my $closed;
for (1 .. 80) {
	last if ($closed) = $t->log_lines(qr/session $id closed: /);
	sleep 0.1;
}
like($closed // '', qr/closed: ICE consent expired/,
	'moved path: closed for consent by its DTLS worker');

$t->stop();

###############################################################################

# a path message lost on a full relay is sent again with the next
# nominating check (libwebrtc nominates with each check of the selected
# pair of an ICE lite peer); a repeat changes nothing

my $stopped;
END { kill 'CONT', $stopped if $stopped }

$t = Test::Nginx->new();
$t->write_file_expand('nginx.conf', $c1)->run();
$udp = port(8090, udp => 1);

$r = http_req(POST => '/whip/resend', body => $offer,
	headers => { 'Content-Type' => 'application/sdp' });
($sufrag) = $r->{body} =~ /a=ice-ufrag:(\S+)/;
($spwd) = $r->{body} =~ /a=ice-pwd:(\S+)/;
$id = substr($r->{headers}{location} // '', -32);

sub udp_socket {
	my $u = IO::Socket::INET->new(Proto => 'udp',
		PeerAddr => "127.0.0.1:$udp", LocalAddr => '127.0.0.1')
		or die "udp socket: $!";
	return $u;
}

# nominated on a socket of worker A, which keeps the DTLS state; then on
# one of worker B, which passes it what arrives there

my $first = udp_socket();
($msg) = check(use => 1);
exchange($first, $msg, 1);
sleep 0.1;

my ($nominated) = $t->log_lines(qr/session $id: ICE nominated/);
my ($wa) = ($nominated // '') =~ /\] (\d+)#/;

sub move_to_b {
	my ($n) = @_;
	for (1 .. 40) {
		my $u = udp_socket();
		($msg) = check(use => 1);
		next unless defined exchange($u, $msg, 0.3);
		sleep 0.05;
		my @l = $t->log_lines(
			qr/session $id: media path moved to an address of/);
		return $u if @l >= $n;
	}
	return undef;
}

my $u2 = move_to_b(1);

# the path moves worker A logged
sub moves_a {
	my @l = $t->log_lines(qr/\] $wa#.* session $id: media path moved /
		. qr/to an address another worker receives/);
	return scalar @l;
}

ok($wa && $u2 && moves_a() == 1, 'resend: the path moved to worker B');

# A stops; B passes it DTLS-range datagrams from the path until the relay
# to A is full, then a new path's message is lost

kill 'STOP', $wa;
$stopped = $wa;

my ($u3, $lost);

# beside another test (make test's -j2) worker B gets through fewer of
# them: up to 30 rounds
for my $round (1 .. 30) {
	for (1 .. 20) {
		$u2->send("\x16" . ('x' x 1199)) for 1 .. 100;
		sleep 0.005;
	}

	$u3 = move_to_b($round + 1) or last;
	last if $lost = $t->log_lines(
		qr/session $id: path message to worker \d+ lost/);
}

ok($lost, 'resend: a path message to the stopped worker lost, logged');

kill 'CONT', $wa;
$stopped = undef;
sleep 1;

my $before = moves_a();

($msg) = check(use => 1);
ok($u3 && defined exchange($u3, $msg, 1), 'resend: a nominating check');
sleep 0.2;

is(moves_a(), $before + 1, 'resend: worker A moved the path');

($msg) = check(use => 1);
exchange($u3, $msg, 1) if $u3;
sleep 0.2;

is(moves_a(), $before + 1, 'resend: a repeat changes nothing');

$t->stop();
