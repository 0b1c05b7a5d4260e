package Test::Nginx::STUN;

# Hand-made ICE connectivity checks for the tests of the media port: a
# STUN Binding request of the controlling agent (RFC 5389, RFC 8445,
# 7.1.2) with MESSAGE-INTEGRITY and FINGERPRINT, a bounded request and
# reply on a UDP socket, and a reader of the reply's attributes.
#
#   my ($msg, $tid) = stun_check(username => "$sufrag:$cufrag",
#       key => $spwd, use => 1);
#   my $reply = stun_exchange($socket, $msg, 0.5);    # undef: none
#   my ($type, $attrs) = stun_parse($reply);

use strict;
use warnings;

use Compress::Zlib qw/crc32/;
use Digest::SHA qw/hmac_sha1/;
use Exporter 'import';
use IO::Select;

our @EXPORT_OK = qw/stun_attr stun_check stun_exchange stun_parse/;

sub stun_attr {
	my ($type, $value) = @_;
	my $pad = (4 - length($value) % 4) % 4;
	return pack('nn', $type, length $value) . $value . ("\0" x $pad);
}

# username => "server ufrag:client ufrag", key => the server's password;
# use => 1 adds USE-CANDIDATE, bad_mi => 1 spoils MESSAGE-INTEGRITY
sub stun_check {
	my (%o) = @_;
	my $tid = join '', map { chr(int rand 256) } 1 .. 12;
	my $attrs = stun_attr(0x0006, $o{username})
		. stun_attr(0x0024, pack('N', 2130706431))
		. stun_attr(0x802A, pack('NN', 1, 2))
		. ($o{use} ? stun_attr(0x0025, '') : '');

	# MESSAGE-INTEGRITY over the message with the length including it
	my $head = pack('nnN', 0x0001, length($attrs) + 24, 0x2112A442) . $tid;
	my $mi = hmac_sha1($head . $attrs, $o{key});
	substr($mi, 0, 1) ^= "\x01" if $o{bad_mi};
	$attrs .= stun_attr(0x0008, $mi);

	# FINGERPRINT: CRC-32 with the length including it, xor 0x5354554e
	$head = pack('nnN', 0x0001, length($attrs) + 8, 0x2112A442) . $tid;
	my $fp = crc32($head . $attrs) ^ 0x5354554e;
	$attrs .= stun_attr(0x8028, pack('N', $fp));

	return (pack('nnN', 0x0001, length $attrs, 0x2112A442) . $tid . $attrs,
		$tid);
}

# sends and waits $wait seconds (2) for one datagram
sub stun_exchange {
	my ($s, $msg, $wait) = @_;
	$s->send($msg);
	return undef unless IO::Select->new($s)->can_read($wait // 2);
	my $buf;
	$s->recv($buf, 2048);
	return $buf;
}

# (message type, { attribute type => value, "off<type>" => its offset })
sub stun_parse {
	my ($buf) = @_;
	my ($type) = unpack('n', $buf);
	my %a;
	my $p = 20;
	while ($p + 4 <= length $buf) {
		my ($at, $al) = unpack('nn', substr($buf, $p, 4));
		$a{$at} = substr($buf, $p + 4, $al);
		$a{"off$at"} = $p;
		$p += 4 + $al + (4 - $al % 4) % 4;
	}
	return ($type, \%a);
}

1;
