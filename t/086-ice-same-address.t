#!/usr/bin/perl

# A client's address taken over by another session: a viewer vanishes (no
# DELETE, its socket closed), and a new viewer comes from the same address
# and port, as an operating system hands out a freed port again.  The new
# session takes the address over and is served; the vanished one is closed
# when its consent runs out, in whichever worker, without touching the
# address the new session has; then the new one ends with its DELETE and
# the old one times out.  The soak of 2026-12-07 14:10 saw this sequence
# just before a worker crashed (a mutating viewer took a vanished one's
# port): the test runs it plainly and with the new viewer sending mutated
# datagrams, in two workers.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Socket::INET;
use Test::More;
use Test::Nginx qw/port/;
use Test::Nginx::Load qw/tool spawn_tool publisher_up finish run_tool
	summary slurp/;
use Time::HiRes qw/sleep time/;

plan(skip_all => 'tools/webrtc-load is not built (make tools)')
	unless -x tool();

my $t = Test::Nginx->new()->has(qw/http stream/)->plan(11);

my $module = Test::Nginx::module_path();

# The harness runs nginx with freed memory filled with a pattern (glibc's
# perturb, Test::Nginx::sanitizer_env), so that a pointer into a closed
# connection's pool reads garbage, not what happened to stay there.  A
# peer's pool logged through the log of the connection it was nominated
# on; freeing the peer after that connection had closed (here: its
# address taken over, and the new session deleted) read the freed log,
# which Debian's nginx (built --with-debug) follows in ngx_destroy_pool():
# the worker crashed, as in the soaks of 14:10 and 15:41 (a core of the
# second showed it).

$t->write_file_expand('nginx.conf', <<"EOF")->run();
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
load_module $module;

pid %%TESTDIR%%/nginx.pid;
error_log %%TESTDIR%%/error.log info;

worker_processes 2;

events {
    worker_connections 1024;
}

webrtc_consent_timeout 3s;

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_8080%%;

        webrtc_candidate 127.0.0.1:%%PORT_8986_UDP%%;

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
        listen 127.0.0.1:%%PORT_8986_UDP%% udp reuseport;
        webrtc;
    }
}
EOF

my $d = $t->testdir();
my $base = 'http://127.0.0.1:' . port(8080);

# a free UDP port on 127.0.0.1 for the two viewers
sub free_port {
	my $s = IO::Socket::INET->new(Proto => 'udp', LocalAddr => '127.0.0.1')
		or die "udp socket: $!";
	my $p = $s->sockport();
	close $s;
	return $p;
}

my $pub = spawn_tool($d, 'publisher', '--whip', "$base/whip/same",
	'--duration', '30', '--bitrate', '500k', '--fps', '25', '--gop', '1s',
	'--http-timeout', '3', '--json');

ok(publisher_up($d, 'publisher'), 'publisher connected');

for my $round (['plain'], ['mutating', '--mutate', '300', '--seed', '34']) {
	my ($name, @extra) = @$round;
	my $port = free_port();

	# the first viewer vanishes: killed, no DELETE
	my $old = spawn_tool($d, "$name-old", '--whep', "$base/whep/same",
		'--viewers', '1', '--duration', '30', '--local-port', $port,
		'--http-timeout', '3');

	my ($old_id, $new_id);
	for (1 .. 50) {
		last if ($old_id) = slurp("$d/error.log")
			=~ /session (\w+) of stream "same" created.*\n.*\n.*$port.*\n.*\1: ICE nominated/;
		sleep 0.1;
	}
	sleep 2;
	kill 'KILL', $old;
	waitpid($old, 0);

	my $from = -s "$d/error.log";

	# the second one from the same address and port, with a DELETE
	my @out = run_tool($d, 20, undef, '--whep', "$base/whep/same",
		'--viewers', '1', '--duration', '4', '--local-port', $port,
		'--http-timeout', '3', '--json', @extra);
	my $sum = summary(@out);

	is($sum->{connected}, 1, "$name: a new viewer from the same address")
		or diag(join '', @out);
	cmp_ok($sum->{min_rtp_per_viewer} // 0, '>', 50,
		"$name: it was served: " . ($sum->{min_rtp_per_viewer} // 0)
		. ' packets');

	# the vanished one closes by its consent (3 s) or the zone's timeout
	my $closed;
	for (1 .. 100) {
		my $log = substr(slurp("$d/error.log"), $from);
		my @c = $log =~ /viewer session \w+ closed: ([^,\n]+)/g;
		last if ($closed = @c) >= 2;
		sleep 0.1;
	}
	is($closed, 2, "$name: both sessions closed");

	my $log = substr(slurp("$d/error.log"), $from);
	like($log, qr/closed: deleted/, "$name: the new one by its DELETE");
}

is(finish($pub, 40) // -1, 0, 'the publisher was served to the end');

###############################################################################
