#!/usr/bin/perl

# Behind a 1:1 NAT: the stream server listens on its private address and
# webrtc_candidate announces the public one, which only the NAT knows.  A
# UDP relay in this test stands for the NAT: what arrives at the public
# address 127.0.0.3 goes to the private 127.0.0.2 from the NAT's inside
# address 127.0.0.4, one inside port per outside peer, and the answers go
# back the same way.  A publisher and two viewers (tools/webrtc-load) are
# offered the public address only, and carry media through it.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Select;
use IO::Socket::IP;
use POSIX ();
use Test::More;
use Test::Nginx qw/port http_req/;
use Test::Nginx::Load qw/tool spawn_tool publisher_up finish run_tool
	summary slurp/;
use Time::HiRes qw/sleep time/;

plan(skip_all => 'tools/webrtc-load is not built (make tools)')
	unless -x tool();

my $t = Test::Nginx->new()->has(qw/http stream/)->plan(8);
my $module = Test::Nginx::module_path();

my ($PRIVATE, $PUBLIC, $INSIDE) = ('127.0.0.2', '127.0.0.3', '127.0.0.4');

$t->write_file_expand('nginx.conf', <<"EOF")->run();
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
load_module $module;

pid %%TESTDIR%%/nginx.pid;
error_log %%TESTDIR%%/error.log info;

worker_processes 2;

events {}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        # the public address: the NAT sends it on to the private one
        webrtc_candidate $PUBLIC:%%PORT_8991_UDP%%;

        location /whip/ {
            webrtc_whip;
        }

        location /whep/ {
            webrtc_whep;
        }
    }
}

stream {
    server {
        listen $PRIVATE:%%PORT_8990_UDP%% udp reuseport;
        webrtc;
    }
}
EOF

my $d = $t->testdir();
my $base = 'http://127.0.0.1:' . port(8080);

###########################################################################
# the NAT: a relay for 40 s at most, its counts in nat.txt when it ends

my $nat = fork() // die "fork: $!";

if ($nat == 0) {
	relay($PUBLIC, port(8991), $PRIVATE, port(8990), 40);
	POSIX::_exit(0);
}

END { if ($nat) { kill 'TERM', $nat; waitpid $nat, 0; } }

sub relay {
	my ($pub_addr, $pub_port, $priv_addr, $priv_port, $secs) = @_;
	my ($in, $out, $peers) = (0, 0, 0);
	my $done = 0;
	local $SIG{TERM} = sub { $done = 1 };

	my $outside = IO::Socket::IP->new(LocalHost => $pub_addr,
		LocalPort => $pub_port, Proto => 'udp') or die "relay: $@";
	my $sel = IO::Select->new($outside);
	my (%inside, %peer);
	my $end = time() + $secs;

	while (!$done && time() < $end) {
		for my $s ($sel->can_read(0.2)) {
			if ($s == $outside) {
				my $from = $outside->recv(my $buf, 65536) // next;
				my $i = $inside{$from} //= do {
					my $n = IO::Socket::IP->new(LocalHost => $INSIDE,
						PeerHost => $priv_addr, PeerPort => $priv_port,
						Proto => 'udp') or die "relay: $@";
					$peer{fileno $n} = $from;
					$sel->add($n);
					$peers++;
					$n;
				};
				$i->send($buf) and $in++;
			} else {
				$s->recv(my $buf, 65536) // next;
				$outside->send($buf, 0, $peer{fileno $s}) and $out++;
			}
		}
	}

	open my $fh, '>', "$d/nat.txt" or die "nat.txt: $!";
	print $fh "$in $out $peers\n";
	close $fh;
}

###########################################################################
# the publisher and viewers: offered the public address only

my $t0 = time();
my $pub = spawn_tool($d, 'publisher', '--whip', "$base/whip/nat",
	'--duration', '10', '--bitrate', '500k', '--fps', '20', '--gop', '1s',
	'--http-timeout', '3', '--json');

ok(publisher_up($d, 'publisher'), 'publisher connected through the NAT');

# the answer names the public address, never the private one

my $answer = http_req(POST => '/whep/nat', body => slurp(
	"$FindBin::Bin/sdp/chromium-play.sdp"),
	headers => { 'Content-Type' => 'application/sdp' });
my @cand = ($answer->{body} // '')
	=~ /^a=candidate:\S+ 1 udp \d+ (\S+ \d+) typ host\r$/mg;
is_deeply(\@cand, [ "$PUBLIC " . port(8991) ],
	'the answer\'s candidate: the public address only');
http_req(DELETE => $answer->{headers}{location})
	if $answer->{headers}{location};

my @out = run_tool($d, 15, undef, '--whep', "$base/whep/nat",
	'--viewers', '2', '--duration', '4', '--http-timeout', '3', '--json');
my $sum = summary(@out);

is_deeply([ $sum->{connected}, $sum->{failed} ], [ 2, 0 ],
	'2 viewers connected through the NAT') or diag(join '', @out);
ok(($sum->{min_rtp_per_viewer} // 0) > 30 && defined $sum->{decrypt_errors}
	&& $sum->{decrypt_errors} == 0,
	'media played: ' . ($sum->{min_rtp_per_viewer} // 0)
	. ' packets to each viewer');

is(finish($pub, $t0 + 15 - time()), 0, 'the publisher ran and exited');

kill 'TERM', $nat;
waitpid $nat, 0;
$nat = 0;

my ($in, $out, $peers) = split ' ', slurp("$d/nat.txt");
ok(($in // 0) > 500 && ($out // 0) > 500 && ($peers // 0) == 3,
	"the NAT carried it: $in datagrams in, $out out, " . ($peers // 0)
	. " peers");

# the server saw the NAT's inside address

ok(scalar $t->log_lines(qr/udp client \Q$INSIDE\E:\d+ connected to \Q$PRIVATE\E:/),
	'the server\'s peers: the NAT\'s inside address, on the private one');
