package Test::Nginx::WS;

# A small WebSocket client (RFC 6455) for the signaling tests: the opening
# handshake, masked text frames with JSON, and the server's frames read
# back with a deadline.  (t/060-websocket.t has its own, which can also
# send broken frames.)
#
#   my $c = Test::Nginx::WS->connect(port => $port, path => '/ws')
#       or die;                                   # undef unless 101
#   $c->send_json({ type => 'ping' });
#   my $m = $c->read_msg(5);    # a decoded message, or { eof => 1 },
#                               # { close => code, reason => text },
#                               # { timeout => 1 }
#   my $m = $c->wait_msg('answer', 5);            # undef if none
#   my ($code, $reason) = $c->close_code(5);      # 'EOF', 'timeout'
#   $c->finish();

use strict;
use warnings;

use IO::Select;
use IO::Socket::IP;
use JSON::PP ();
use MIME::Base64 qw/encode_base64/;
use Socket qw/IPPROTO_TCP TCP_NODELAY/;
use Time::HiRes qw/time/;

my $JSON = JSON::PP->new->canonical;

sub connect {
	my ($class, %o) = @_;
	my $s = IO::Socket::IP->new(PeerHost => '127.0.0.1',
		PeerPort => $o{port}, Proto => 'tcp', Timeout => 5)
		or return undef;
	setsockopt($s, IPPROTO_TCP, TCP_NODELAY, 1);
	binmode $s;

	my $c = bless { sock => $s, buf => '' }, $class;
	my $key = encode_base64(join('', map { chr rand 256 } 1 .. 16), '');

	$c->put("GET " . ($o{path} // '/ws') . " HTTP/1.1\r\n"
		. "Host: 127.0.0.1:$o{port}\r\n"
		. "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		. "Sec-WebSocket-Key: $key\r\nSec-WebSocket-Version: 13\r\n\r\n")
		or return undef;

	my $deadline = time() + 5;
	while ($c->{buf} !~ /\r\n\r\n/) {
		$c->fill($deadline) or return undef;
	}
	(my $head, $c->{buf}) = split /\r\n\r\n/, $c->{buf}, 2;
	return undef unless $head =~ m{^HTTP/1\.1 101};
	return $c;
}

sub put {
	my ($c, $bytes) = @_;
	local $SIG{PIPE} = 'IGNORE';
	while (length $bytes) {
		my $n = syswrite($c->{sock}, $bytes);
		return 0 unless $n;
		substr($bytes, 0, $n, '');
	}
	return 1;
}

# more into buf: 0 on EOF or error, undef on timeout
sub fill {
	my ($c, $deadline) = @_;
	my $left = $deadline - time();
	return undef if $left <= 0;
	return undef unless IO::Select->new($c->{sock})->can_read($left);
	my $n = sysread($c->{sock}, $c->{buf}, 65536, length $c->{buf});
	return $n ? 1 : 0;
}

# a masked client frame
sub frame {
	my ($op, $payload) = @_;
	my $len = length $payload;
	my $f = chr(0x80 | $op);
	if ($len < 126) {
		$f .= chr(0x80 | $len);
	} elsif ($len < 65536) {
		$f .= chr(0x80 | 126) . pack('n', $len);
	} else {
		$f .= chr(0x80 | 127) . pack('NN', 0, $len);
	}
	my $key = pack('N', int rand 0xffffffff);
	my $mask = substr($key x (int($len / 4) + 1), 0, $len);
	return $f . $key . ($payload ^ $mask);
}

sub send_json {
	my ($c, $msg) = @_;
	return $c->put(frame(0x1, $JSON->encode($msg)));
}

# the next server frame { opcode, payload }, { eof => 1 } or undef
sub read_frame {
	my ($c, $deadline) = @_;
	for (;;) {
		my $b = $c->{buf};
		if (length $b >= 2) {
			my ($b0, $b1) = unpack 'CC', $b;
			my ($len, $hl) = ($b1 & 0x7f, 2);
			if ($len == 126) {
				($len, $hl) = (length $b >= 4
					? unpack('n', substr $b, 2, 2) : -1, 4);
			} elsif ($len == 127) {
				($len, $hl) = (length $b >= 10
					? unpack('N', substr $b, 6, 4) : -1, 10);
			}
			if ($len >= 0 && length $b >= $hl + $len) {
				substr($c->{buf}, 0, $hl + $len, '');
				return { opcode => $b0 & 0xf,
					payload => substr($b, $hl, $len) };
			}
		}
		my $r = $c->fill($deadline);
		return undef unless defined $r;
		return { eof => 1 } unless $r;
	}
}

sub read_msg {
	my ($c, $timeout) = @_;
	my $deadline = time() + ($timeout // 5);
	for (;;) {
		my $f = $c->read_frame($deadline) or return { timeout => 1 };
		return $f if $f->{eof};
		if ($f->{opcode} == 0x1) {
			return eval { $JSON->decode($f->{payload}) }
				// { raw => $f->{payload} };
		}
		next unless $f->{opcode} == 0x8;
		return { close => length $f->{payload} >= 2
				? unpack('n', $f->{payload}) : 'none',
			reason => substr($f->{payload}, 2) };
	}
}

# the first message of the type, others skipped (kept in seen); undef if
# none in time or the connection closed
sub wait_msg {
	my ($c, $type, $timeout) = @_;
	my $deadline = time() + ($timeout // 5);
	while (time() < $deadline) {
		my $m = $c->read_msg($deadline - time());
		return undef if $m->{eof} || $m->{close} || $m->{timeout};
		push @{$c->{seen}}, $m;
		return $m if ($m->{type} // '') eq $type;
	}
	return undef;
}

# the server's close code and reason; 'EOF' or 'timeout'
sub close_code {
	my ($c, $timeout) = @_;
	my $deadline = time() + ($timeout // 5);
	for (;;) {
		my $m = $c->read_msg($deadline - time());
		return 'timeout' if $m->{timeout};
		return 'EOF' if $m->{eof};
		return ($m->{close}, $m->{reason}) if $m->{close};
		push @{$c->{seen}}, $m;
	}
}

# the client's close frame, then the socket closed
sub finish {
	my ($c, $code) = @_;
	$c->put(frame(0x8, pack('n', $code // 1000)));
	close $c->{sock};
}

1;
