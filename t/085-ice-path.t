#!/usr/bin/perl

# A check proves the ICE password, not the address it came from: an
# on-path observer can replay a peer's nominating check from another
# address.  The test captures the checks a publisher and a viewer
# (tools/webrtc-load) send, on the loopback interface (a packet socket,
# root only), and replays each from new sockets, several per peer so that
# both workers receive some.  The replays are answered, as valid checks
# are, but the media path does not move: it moves only when SRTP that
# authenticates comes from the nominated address, which a replay cannot
# make.  Before, the stream went to the replaying sockets and the viewer's
# media stopped.  Then a viewer that changes its port every 2 s, as on a
# network change (webrtc-load --move-every: a nominating check from the
# new port, its RTCP after), keeps its media: each move is made on its
# SRTCP.  One that changes it every 0.3 s is moved once a second at most.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Select;
use IO::Socket::INET;
use Socket qw/SOCK_RAW/;
use Test::More;
use Test::Nginx qw/port/;
use Test::Nginx::Load qw/tool spawn_tool publisher_up finish summary
	slurp/;
use Time::HiRes qw/sleep time/;

plan(skip_all => 'tools/webrtc-load is not built (make tools)')
	unless -x tool();
plan(skip_all => 'capturing on loopback needs root') unless $> == 0;

use constant PF_PACKET => 17;
use constant ETH_P_ALL => 0x0003;

my $raw;
socket($raw, PF_PACKET, SOCK_RAW, unpack('n', pack('S', ETH_P_ALL)))
	or plan(skip_all => "no packet socket: $!");

my $t = Test::Nginx->new()->has(qw/http stream/)->plan(14);

my $module = Test::Nginx::module_path();

$t->write_file_expand('nginx.conf', <<"EOF")->run();
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
load_module $module;

pid %%TESTDIR%%/nginx.pid;
error_log %%TESTDIR%%/error.log info;

worker_processes 2;

events {
    worker_connections 1024;
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_8080%%;

        webrtc_candidate 127.0.0.1:%%PORT_8984_UDP%%;

        location /whip/ {
            webrtc_whip;
        }

        location /whep/ {
            webrtc_whep;
        }
    }
}

stream {
    webrtc_max_addresses 32;

    server {
        listen 127.0.0.1:%%PORT_8984_UDP%% udp reuseport;
        webrtc;
    }
}
EOF

my $d = $t->testdir();
my $udp = port(8984, udp => 1);
my $base = 'http://127.0.0.1:' . port(8080);

# a classic BPF filter: only Binding requests to the media port reach the
# socket, whatever else loopback carries (other tests' media) would
# overflow its buffer and drop them

my $bpf = join '', map { pack 'SCCL', @$_ } (
	[0x28, 0, 0, 12],           # ldh [12]: ether type
	[0x15, 0, 8, 0x0800],       # IPv4
	[0x30, 0, 0, 23],           # ldb [23]: protocol
	[0x15, 0, 6, 17],           # UDP
	[0xb1, 0, 0, 14],           # ldxb 4 * ([14] & 0xf): IP header length
	[0x48, 0, 0, 16],           # ldh [x + 16]: destination port
	[0x15, 0, 3, $udp],
	[0x48, 0, 0, 22],           # ldh [x + 22]: STUN message type
	[0x15, 0, 1, 0x0001],       # Binding request
	[0x06, 0, 0, 65535],        # accept
	[0x06, 0, 0, 0],            # drop
);

setsockopt($raw, 1, 26, pack('S x![P] P', length($bpf) / 8, $bpf))
	or die "SO_ATTACH_FILTER: $!";          # SOL_SOCKET, SO_ATTACH_FILTER

# the publisher's and the viewer's checks, USE-CANDIDATE (0x0025) set, as
# they reach the media port: the loopback frames are Ethernet + IPv4 + UDP

sub capture {
	my ($want, $timeout, $first) = @_;
	my (%seen, @checks);
	my $sel = IO::Select->new($raw);
	my $end = time() + $timeout;

	while (@checks < $want && time() < $end) {
		next unless $sel->can_read(0.2);
		my $frame;
		next unless defined recv($raw, $frame, 65536, 0);
		next unless length($frame) > 42
			&& unpack('n', substr($frame, 12, 2)) == 0x0800;
		my $ihl = (unpack('C', substr($frame, 14, 1)) & 0xf) * 4;
		next unless unpack('C', substr($frame, 23, 1)) == 17;
		my ($sport, $dport) = unpack('nn', substr($frame, 14 + $ihl, 4));
		next unless $dport == $udp;
		my $stun = substr($frame, 14 + $ihl + 8);
		next unless length($stun) >= 20
			&& unpack('n', $stun) == 0x0001
			&& has_attr($stun, 0x0025);
		next if $seen{$sport}++;
		push @checks, $stun;
		$first->() if $first && @checks == 1;
	}

	return @checks;
}

sub has_attr {
	my ($m, $type) = @_;
	my $off = 20;
	while ($off + 4 <= length($m)) {
		my ($at, $al) = unpack('nn', substr($m, $off, 4));
		return 1 if $at == $type;
		$off += 4 + (($al + 3) & ~3);
	}
	return 0;
}

# nominating checks are sent until answered: capture while the peers start

my $pub = spawn_tool($d, 'publisher', '--whip', "$base/whip/path",
	'--duration', '12', '--bitrate', '500k', '--fps', '25', '--gop', '1s',
	'--http-timeout', '3', '--json');

my $viewer;

my @checks = capture(2, 10, sub {
	$viewer = spawn_tool($d, 'viewer', '--whep', "$base/whep/path",
		'--viewers', '1', '--duration', '9', '--http-timeout', '3',
		'--json');
});
close $raw;

ok(publisher_up($d, 'publisher'), 'publisher connected');

is(scalar @checks, 2, 'captured the nominating check of each peer');

sleep 1;

# each replayed from 8 new addresses, three times, a second apart

my (@socks, $answered, $srtp);

for my $check (@checks) {
	for (1 .. 8) {
		my $u = IO::Socket::INET->new(Proto => 'udp',
			PeerAddr => "127.0.0.1:$udp", LocalAddr => '127.0.0.2')
			or die "udp socket: $!";
		push @socks, [ $u, $check ];
	}
}

my $sel = IO::Select->new(map { $_->[0] } @socks);

for my $round (1 .. 3) {
	$_->[0]->send($_->[1]) for @socks;

	my $end = time() + 1;
	while (time() < $end) {
		for my $s ($sel->can_read(0.1)) {
			my $buf;
			next unless defined $s->recv($buf, 2048);
			my $b0 = unpack('C', $buf);
			if ($b0 <= 3 && unpack('n', $buf) == 0x0101) {
				$answered++;

			} elsif ($b0 >= 128 && $b0 <= 191) {
				$srtp++;
			}
		}
	}
}

ok($answered, "the replayed checks are valid: $answered answered");
ok(!$srtp, 'no SRTP sent to the replaying addresses: ' . ($srtp // 0));
ok(!$t->log_lines(qr/media path moved/), 'no path moved');

is($viewer && finish($viewer, 15), 0, 'viewer exited by itself');
my $vs = summary(split /\n/, slurp("$d/viewer.json"));

is($vs->{connected} // $vs->{served} // 0, 1, 'the viewer was served')
	or diag(slurp("$d/viewer.json"));
is($vs->{stalls} // 0, 0, 'its media did not stall: longest gap '
	. ($vs->{max_gap_ms} // '?') . ' ms');

finish($pub, 10);

###############################################################################

# moves: the lines of the worker that sends the media (the other one's
# "nominated an address of worker N's session" is not a move)

sub moves {
	my ($from) = @_;
	my $log = substr($t->read_file('error.log'), $from);
	my @l = $log =~ /(media path moved(?: while| to an address another))/g;
	return scalar @l;
}

sub moving_viewer {
	my ($name, $every) = @_;

	my $pub = spawn_tool($d, "pub-$name", '--whip', "$base/whip/$name",
		'--duration', '9', '--bitrate', '500k', '--fps', '25',
		'--gop', '1s', '--http-timeout', '3', '--json');
	publisher_up($d, "pub-$name");

	my $from = -s $t->testdir() . '/error.log';

	my $v = spawn_tool($d, $name, '--whep', "$base/whep/$name",
		'--viewers', '1', '--duration', '6', '--move-every', $every,
		'--http-timeout', '3', '--json');
	my $status = finish($v, 12);
	finish($pub, 10);

	my @sent = slurp("$d/$name.log") =~ /viewer \d+ moved from port/g;
	return ($status, scalar @sent, moves($from),
		summary(split /\n/, slurp("$d/$name.json")));
}

my ($status, $sent, $moved, $sum) = moving_viewer('move', 2);

is($status, 0, 'a viewer moving every 2 s exited by itself');
ok($sent >= 2 && $moved == $sent,
	"each of its $sent moves made: $moved");
is($sum->{stalls} // 0, 0, 'its media did not stall: longest gap '
	. ($sum->{max_gap_ms} // '?') . ' ms');

($status, $sent, $moved) = moving_viewer('swing', 0.3);

ok($sent >= 15, "a viewer moving every 0.3 s: $sent moves");
ok($moved >= 3 && $moved <= 7, "the path moved $moved times in 6 s");
