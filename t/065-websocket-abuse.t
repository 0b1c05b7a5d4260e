#!/usr/bin/perl

# WebSocket signaling under abuse: clients that reset the connection while
# their pongs are being written (a use-after-free crashed the worker once),
# and a client that sends many messages on one connection (each reply once
# took 64 KB of the connection's pool for its lifetime).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Socket::INET;
use Socket qw/SOL_SOCKET SO_LINGER/;
use Test::More;
use Test::Nginx qw/http_req port/;
use Time::HiRes qw/sleep/;

my $t = Test::Nginx->new()->has(qw/http stream/)->plan(5);

$t->write_file_expand('nginx.conf', <<'EOF')->run();

%%TEST_GLOBALS%%

worker_processes 1;

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_8080%%;

        webrtc_candidate 127.0.0.1:%%PORT_8090_UDP%%;

        location = /ws {
            webrtc_websocket;
        }
    }
}

stream {
    server {
        listen 127.0.0.1:%%PORT_8090_UDP%% udp reuseport;
        webrtc;
    }
}

EOF

my $port = port(8080);

sub ws_open {
	my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
		Timeout => 5) or die "connect: $!";
	print $s "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:$port\r\n"
		. "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		. "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		. "Sec-WebSocket-Version: 13\r\n\r\n";
	my $head = '';
	while ($head !~ /\r\n\r\n/) {
		my $n = sysread($s, $head, 1024, length $head);
		last unless $n;
	}
	return ($s, $head);
}

sub frame {
	my ($payload) = @_;
	my $mask = pack('N', int rand 2**32);
	my $m = $payload ^ substr($mask x (length($payload) / 4 + 1), 0,
		length $payload);
	return chr(0x81) . chr(0x80 | length $payload) . $mask . $m;
}

my $ping = frame('{"type":"ping"}');

# pings, then a reset while the pongs are written

for (1 .. 20) {
	my ($s) = ws_open();
	syswrite($s, $ping x 50);
	setsockopt($s, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0));
	close $s;
}

sleep 0.5;

my ($s, $head) = ws_open();
like($head, qr/^HTTP\/1.1 101/, 'the worker still serves WebSockets');
ok(!$t->log_lines(qr/exited on signal/), 'no worker crashed');

# many messages on one connection: the worker's memory stays put

sub vmsize {
	my ($pid) = $t->worker_pids();
	open my $fh, '<', "/proc/$pid/status" or return 0;
	my ($kb) = join("", <$fh>) =~ /VmSize:\s+(\d+)/;
	return $kb // 0;
}

my $before = vmsize();
my $pongs = 0;

for my $round (1 .. 20) {
	syswrite($s, $ping x 100);

	# pongs are 17-byte frames: count them as they arrive
	my $end = time() + 5;
	my $buf = '';
	while ($pongs < 100 * $round && time() < $end) {
		my $n = sysread($s, $buf, 65536, length $buf);
		last unless $n;
		while ($buf =~ s/^\x81\x0f\{"type":"pong"\}//) {
			$pongs++;
		}
	}
}

is($pongs, 2000, '2000 pongs');
cmp_ok(vmsize() - $before, '<', 16 * 1024,
	'worker memory (VmSize) grew less than 16 MB for 2000 messages: '
	. (vmsize() - $before) . ' KB');

close $s;

$t->stop();
