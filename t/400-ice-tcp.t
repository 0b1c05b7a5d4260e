#!/usr/bin/perl

# ICE-TCP, passive (RFC 6544; framing RFC 4571), driven by hand-made STUN
# over TCP: the answer carries the "webrtc_candidate ... tcp" address as a
# passive host candidate after the UDP one, at a lower priority, and the
# m= line keeps UDP's address; a framed check gets a framed Binding
# success response with the TCP source address, also when the frame comes
# in pieces or two frames in one segment; a connection whose first frame
# is no valid check, one with a frame too long or of length 0, and one
# that sends nothing are closed, with an info line (the last after the
# 5 s an address without a check is kept); the stream module's
# limit_conn on the TCP listen bounds one address's connections (3 here:
# the 4th is closed at once, with nginx's own log line, and a connection
# is taken again once one of the 3 closed); and the session's UDP checks
# are answered all along.  Bad directive values are refused by nginx -t.

use strict;
use warnings;

use Test::More;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw/sleep time/;
use Digest::SHA qw/hmac_sha1/;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Nginx qw/http_req port run_cmd sanitizer_env/;
use Test::Nginx::STUN qw/stun_check stun_exchange stun_parse/;

my $t = Test::Nginx->new()->has(qw/http stream/)->plan(33);

my $conf = <<'EOF';

%%TEST_GLOBALS%%

worker_processes 2;

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_8080%%;

        webrtc_candidate 127.0.0.1:%%PORT_8090_UDP%%;
        webrtc_candidate 127.0.0.1:%%PORT_8091%% tcp;

        location /whip/ {
            webrtc_whip;
        }
    }
}

stream {
    limit_conn_zone $binary_remote_addr zone=icetcp:1m;

    server {
        listen 127.0.0.1:%%PORT_8090_UDP%% udp reuseport;
        webrtc;
    }

    server {
        listen 127.0.0.1:%%PORT_8091%%;
        webrtc;
        webrtc_tcp_buffer 64k;
        limit_conn icetcp 3;
    }
}

EOF

$t->write_file_expand('nginx.conf', $conf)->run();

my $udp = port(8090, udp => 1);
my $tcp = port(8091);

my $offer = do {
	open my $fh, '<', "$FindBin::Bin/sdp/chromium-publish-vp8.sdp" or die $!;
	local $/;
	<$fh>;
};
my ($cufrag) = $offer =~ /a=ice-ufrag:(\S+)/;

my $r = http_req(POST => '/whip/icetcp', body => $offer,
	headers => { 'Content-Type' => 'application/sdp' });
is($r->{status}, 201, 'session created');

my $answer = $r->{body} // '';
my ($sufrag) = $answer =~ /a=ice-ufrag:(\S+)/;
my ($spwd) = $answer =~ /a=ice-pwd:(\S+)/;

###############################################################################
# the answer's candidates

my @cand = $answer =~ /^a=candidate:(.*?)\r?$/mg;
my ($uc) = grep { / udp / } @cand;
my ($tc) = grep { / tcp / } @cand;

like($uc // '', qr/^1 1 udp (\d+) 127\.0\.0\.1 $udp typ host$/,
	'UDP host candidate');
like($tc // '', qr/^2 1 tcp (\d+) 127\.0\.0\.1 $tcp typ host tcptype passive$/,
	'ICE-TCP passive host candidate');

my ($up) = ($uc // '') =~ /^\S+ \S+ \S+ (\d+)/;
my ($tp) = ($tc // '') =~ /^\S+ \S+ \S+ (\d+)/;
ok(($up // 0) > ($tp // 0) && ($tp // 0) > 0,
	"TCP's priority ($tp) below UDP's ($up)");

ok((join('', @cand) =~ /tcp.*udp/s) ? 0 : 1, 'UDP candidates first');
like($answer, qr/^m=video $udp /m, 'the m= line has the UDP port');

###############################################################################
# framed checks

sub check {
	my (%o) = @_;
	return stun_check(%o, username => "$sufrag:$cufrag", key => $spwd);
}

sub frame { pack('n', length $_[0]) . $_[0] }

sub tcp_connect {
	return IO::Socket::INET->new(Proto => 'tcp',
		PeerAddr => "127.0.0.1:$tcp", LocalAddr => '127.0.0.1',
		Timeout => 2) or die "tcp connect: $!";
}

# a framed message, waiting up to $wait s; undef: the connection closed or
# nothing came.  What a read brought beyond the frame waits for the next.
my %rest;

sub read_frame {
	my ($s, $wait) = @_;
	my $buf = delete $rest{$s} // '';
	my $end = time() + ($wait // 2);

	for ( ;; ) {
		if (length $buf >= 2) {
			my $len = unpack('n', $buf);

			if (length $buf >= 2 + $len) {
				$rest{$s} = substr($buf, 2 + $len);
				return substr($buf, 2, $len);
			}
		}

		last if time() >= $end
			|| !IO::Select->new($s)->can_read($end - time());

		my $n = sysread($s, $buf, 4096, length $buf);
		return undef unless $n;
	}

	$rest{$s} = $buf;
	return undef;
}

# true if the server closed the connection within $wait s
sub closed {
	my ($s, $wait) = @_;
	my $end = time() + $wait;

	while (time() < $end) {
		return 0 unless IO::Select->new($s)->can_read($end - time());
		my $buf;
		my $n = sysread($s, $buf, 4096);
		return 1 if !defined $n || $n == 0;
	}

	return 0;
}

my $log = $t->testdir() . '/error.log';
my $log0 = -s $log;

sub log_since {
	my ($re) = @_;
	open my $fh, '<', $log or return 0;
	seek $fh, $log0, 0;
	local $/;
	my $text = <$fh> // '';
	return $text =~ $re;
}

my $s = tcp_connect();
my ($msg, $tid) = check();
print $s frame($msg);
my $res = read_frame($s);

ok(defined $res, 'framed check answered over TCP');

my ($type, $a) = stun_parse($res // '');
is($type, 0x0101, 'Binding success response');
ok(substr($res // '', 8, 12) eq $tid, 'same transaction id');

my ($fam, $xport) = unpack('xCn', $a->{0x0020} // '');
is($xport ^ 0x2112, $s->sockport(), 'XOR-MAPPED-ADDRESS is the TCP port');

my $off = $a->{'off8'} // 0;
my $covered = substr($res // '', 0, $off);
substr($covered, 2, 2) = pack('n', $off - 20 + 24) if length $covered >= 4;
ok(($a->{8} // '') eq hmac_sha1($covered, $spwd),
	'response MESSAGE-INTEGRITY valid');

# a frame in three pieces, a while apart

($msg, $tid) = check();
my $f = frame($msg);
print $s substr($f, 0, 1);
sleep 0.2;
print $s substr($f, 1, 10);
sleep 0.2;
print $s substr($f, 11);
$res = read_frame($s);
ok(substr($res // '', 8, 12) eq $tid, 'a frame in pieces answered');

# two frames in one segment

my ($m1, $t1) = check();
my ($m2, $t2) = check();
print $s frame($m1) . frame($m2);

my $both = '';
for (1 .. 2) {
	my $x = read_frame($s) // '';
	$both .= length $x >= 20 ? substr($x, 8, 12) : '';
}
ok($both eq $t1 . $t2, 'two frames in a segment: both answered, in order');

# a bad check on a good connection: no answer, the connection stays

($msg) = check(bad_mi => 1);
print $s frame($msg);
ok(!defined read_frame($s, 0.5), 'bad MESSAGE-INTEGRITY over TCP: no answer');

($msg, $tid) = check();
print $s frame($msg);
ok(substr(read_frame($s) // '', 8, 12) eq $tid,
	'the connection goes on after a bad check');

###############################################################################
# connections that are closed

# no valid check first: DTLS-looking bytes

my $g = tcp_connect();
print $g frame("\x16\xfe\xfd" . ("\0" x 60));
ok(closed($g, 3), 'first frame not a check: closed');
ok(log_since(qr/ICE-TCP connection without a valid ICE check closed/),
	'... with an info line');

# a check of nobody's

$g = tcp_connect();
print $g frame((stun_check(username => "nobody12:$cufrag", key => 'x'))[0]);
ok(closed($g, 3), 'first frame a check of no session: closed');

# lengths out of bounds

$g = tcp_connect();
print $g pack('n', 65535) . ("\x80" x 100);
ok(closed($g, 3), 'frame of 65535 bytes: closed');
ok(log_since(qr/ICE-TCP frame of 65535 bytes, connection closed/),
	'... with an info line');

$g = tcp_connect();
print $g pack('n', 0);
ok(closed($g, 3), 'frame of 0 bytes: closed');

# the good connection goes on beside them

($msg, $tid) = check();
print $s frame($msg);
ok(substr(read_frame($s) // '', 8, 12) eq $tid,
	'the first TCP connection still answered');

close $s;

# limit_conn: 3 connections of an address are kept, the 4th is not; each
# of the 3 is answered a check first, so nginx has accepted it, after the
# connection above is gone (another worker may take them first)

for (1 .. 30) {
	last if log_since(qr/ICE-TCP connection closed by the client/);
	sleep 0.1;
}

my @held = map { tcp_connect() } 1 .. 3;
my $answered = 0;
for my $h (@held) {
	($msg, $tid) = check();
	print $h frame($msg);
	$answered++ if substr(read_frame($h) // '', 8, 12) eq $tid;
}
$g = tcp_connect();
ok(closed($g, 2), 'limit_conn: a 4th connection of the address closed');
ok(log_since(qr/limiting connections by zone "icetcp"/),
	'... with nginx\'s own log line');
ok($answered == 3 && !closed($held[0], 0.5),
	"... the 3 before kept ($answered answered)");

close $_ for @held;
sleep 0.3;
$g = tcp_connect();
($msg, $tid) = check();
print $g frame($msg);
ok(substr(read_frame($g) // '', 8, 12) eq $tid,
	'limit_conn: a connection taken again once they closed');
close $g;

# nothing at all: closed after the 5 s an address without a check is kept

$g = tcp_connect();
my $t0 = time();
ok(closed($g, 8), 'silent connection closed');
my $secs = time() - $t0;
ok($secs > 4 && $secs < 7.5, sprintf('... after %.1f s', $secs));

###############################################################################
# the session's checks over UDP all along, over TCP still

my $u = IO::Socket::INET->new(Proto => 'udp', PeerAddr => "127.0.0.1:$udp",
	LocalAddr => '127.0.0.1') or die "udp socket: $!";
($msg, $tid) = check();
ok(substr(stun_exchange($u, $msg) // '', 8, 12) eq $tid,
	'UDP check answered after the bad connections');


###############################################################################
# the directives

$t->stop();

my $bad = $conf;
$bad =~ s/(webrtc_candidate 127\.0\.0\.1:%%PORT_8091%%) tcp;/$1 sctp;/;
$t->write_file_expand('bad.conf', $bad);
my $NGINX = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';

# under ASan (make test's second pass) nginx -t needs its runtime preloaded
my %env = sanitizer_env($t->testdir());
local @ENV{keys %env} = values %env;
my (undef, $out) = run_cmd($NGINX, '-t', '-p', $t->testdir() . '/',
	'-c', 'bad.conf');
like($out, qr/invalid transport "sctp" of the "webrtc_candidate" directive/,
	'webrtc_candidate with an unknown transport refused');

$bad = $conf;
$bad =~ s/webrtc_tcp_buffer 64k;/webrtc_tcp_buffer 1k;/;
$t->write_file_expand('bad.conf', $bad);
(undef, $out) = run_cmd($NGINX, '-t', '-p', $t->testdir() . '/',
	'-c', 'bad.conf');
like($out, qr/value must be between 4096 and 16777216 in .*bad\.conf:/,
	'webrtc_tcp_buffer under 4k refused');

my $alerts = $t->read_file('error.log') =~ /\[(alert|crit|emerg)\]/ ? 1 : 0;
is($alerts, 0, 'no alert in the error log');

###############################################################################
