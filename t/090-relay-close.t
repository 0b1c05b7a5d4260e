#!/usr/bin/perl

# A close message lost between workers.  With 2 workers, a session ended in
# one worker (its DELETE) reaches the worker serving its media as a relay
# message.  Here that worker is stopped (SIGSTOP) until the publisher's
# packets for it fill the relay socket's buffer (the other worker counts
# drops), the DELETE is served by the other worker, and its close message
# is lost (logged).  Once the stopped worker
# runs again, its sweep finds the session gone from the zone and closes it
# within seconds, not when its consent expires (30 s); the other viewers
# are served on.  Skipped if the tool is not built (make tools).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Test::Nginx qw/port/;
use IO::Select;
use IO::Socket::INET;
use Test::Nginx::Load qw/tool spawn_tool finish run_tool summary decode
	slurp/;
use Time::HiRes qw/sleep time/;

plan(skip_all => 'tools/webrtc-load is not built (make tools)')
	unless -x tool();

my $t = Test::Nginx->new()->has(qw/http stream/)->plan(12);

my $module = Test::Nginx::module_path();

# reuseport on the http listener too: each worker accepts on its own
# socket, so a request reaches the running worker on one of a few tries

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
        listen 127.0.0.1:%%PORT_8080%% reuseport;
        server_name localhost;

        webrtc_candidate 127.0.0.1:%%PORT_8980_UDP%%;

        location /whip/ {
            webrtc_whip;
        }

        location /whep/ {
            webrtc_whep;
        }

        location /status {
            webrtc_status;
        }
    }
}

stream {
    server {
        listen 127.0.0.1:%%PORT_8980_UDP%% udp reuseport;
        webrtc;
    }
}
EOF

my $d = $t->testdir();
my $base = 'http://127.0.0.1:' . port(8080);
my $stopped;

END { kill 'CONT', $stopped if $stopped }

###########################################################################
# a publisher and 10 viewers, in the background, bounded

my $pub = spawn_tool($d, 'publisher', '--whip', "$base/whip/relay", '--duration',
	'24', '--bitrate', '10000k', '--fps', '30', '--http-timeout', '3');

wait_for(qr/publisher session \w+: ICE nominated/, 1, 5);

my $viewers = spawn_tool($d, 'viewers', '--whep', "$base/whep/relay", '--viewers',
	'10', '--duration', '20', '--http-timeout', '3', '--json');

my @up = wait_for(qr/viewer session \w+: ICE nominated/, 10, 5);
wait_for(qr/session \w+: DTLS \S+ established/, 11, 5);

is(scalar @up, 10, '10 viewers up');

# the worker of the publisher's media, and a viewer served by the other

my ($pline) = $t->log_lines(qr/publisher session \w+: ICE nominated/);
my ($pw) = $pline =~ /\] (\d+)#/;
my ($victim, $vw);

for (@up) {
	my ($pid, $id) = /\] (\d+)#\d+: .* viewer session (\w+): ICE/;
	next if $pid == $pw;
	($victim, $vw) = ($id, $pid);
	last;
}

SKIP: {
skip 'all 10 viewers on the publisher\'s worker', 10 unless $victim;

###########################################################################
# the viewer's worker stops; the publisher's packets for it (10 Mbit/s)
# fill the relay socket's buffer (4 MB at most, in a few seconds)

kill 'STOP', $vw;
$stopped = $vw;

my $dropped = 0;
my $end = time() + 20;

while (!$dropped && time() < $end) {
	sleep 0.5;
	my $st = decode(request_running('GET', '/status')->{body} // '') // {};
	$dropped += $_->{relay_dropped} // 0 for @{$st->{workers} // []};
}

cmp_ok($dropped, '>', 0, "the relay to the stopped worker full: $dropped "
	. sprintf('packets dropped after %.1f s', 20 - ($end - time())));

my $r = request_running('DELETE', "/whep/relay/$victim");

is($r->{status}, 200, 'DELETE served by the running worker');

ok(wait_for(qr/session $victim: close message to worker \d+ lost/, 1, 2),
	'the close message to the stopped worker lost, logged');

my $t1 = time();
kill 'CONT', $vw;
$stopped = undef;

my @closed = wait_for(qr/viewer session $victim closed: /, 1, 6);
my $after = time() - $t1;

my $sweep = 'closed: ended elsewhere, its close message lost';

like($closed[0] // '', qr/\] $vw#.* $sweep/,
	'the viewer\'s worker closed it for its session gone from the zone');
cmp_ok($after, '<', 4, sprintf('within %.1f s of running again', $after));

###########################################################################
# the others are served on and end on their DELETE

my $status = finish($viewers, 30);
my $sum = summary(split /\n/, slurp("$d/viewers.json"));

ok(defined $status, 'viewers exited by themselves');
is(($sum->{failed} // '') . ' ' . ($sum->{fail}{closed} // ''), '1 1',
	'one viewer failed: the deleted one, closed by the server');
cmp_ok($sum->{min_rtp_per_viewer} // 0, '>', 0,
	'every viewer decrypted RTP');

my @deleted = $t->log_lines(qr/viewer session \w+ closed: deleted/);
is(scalar @deleted, 9, 'the other 9 closed on their DELETE');

is(join("\n", $t->log_lines(qr/\[(alert|crit|emerg)\]|exited on signal/)),
	'', 'no alert, no worker exited on a signal');
}

finish($pub, 15);

###########################################################################
# helpers

# the log lines matching $re once there are $n of them, or those there are
# after $timeout seconds
sub wait_for {
	my ($re, $n, $timeout) = @_;
	my $end = time() + $timeout;
	my @lines;

	while (1) {
		@lines = $t->log_lines($re);
		last if @lines >= $n || time() >= $end;
		sleep 0.05;
	}

	return @lines;
}

# an HTTP request on new connections until one reaches a running worker
# (one accepted by the stopped worker's socket waits: given up after 0.5 s)
sub request_running {
	my ($method, $uri) = @_;

	for (1 .. 20) {
		my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
			PeerPort => port(8080), Proto => 'tcp', Timeout => 1)
			or next;

		print $s "$method $uri HTTP/1.0\r\nHost: localhost\r\n\r\n";

		next unless IO::Select->new($s)->can_read(0.5);

		my $raw = join '', <$s>;
		my ($status) = $raw =~ m{^HTTP/1\.\d (\d+)};
		my ($body) = $raw =~ m{\r\n\r\n(.*)}s;
		return { status => $status, body => $body };
	}

	return {};
}
