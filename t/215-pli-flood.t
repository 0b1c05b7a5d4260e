#!/usr/bin/perl

# Key frame requests cannot be amplified.  Viewers send 50 compound RTCP
# packets a second, each with 40 PLIs (tools/webrtc-load --pli-flood):
# 16,000 PLIs a second from 8 viewers.  Before, each PLI of a viewer served
# by another worker than the publisher's became a relay message (the
# zone's lock and a sendmsg()), throttled only on arrival: thousands a
# second.  Now a compound packet asks once, and a worker sends one request
# a stream every 500 ms, wherever the publisher is: the workers' counted
# key frame requests stay in the tens, the publisher gets about two PLIs a
# second, and the viewers' media goes on.  A request within the 500 ms is
# held back, not dropped: viewers joining together, which ask for a key
# frame once each, get one more than the first (a viewer that does not ask
# again, as GStreamer's webrtcbin by default, would wait for the next key
# frame of its own accord otherwise).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::PP ();
use Test::More;
use Test::Nginx qw/port http_req/;
use Test::Nginx::Load qw/tool spawn_tool publisher_up finish run_tool
	summary slurp/;
use Time::HiRes qw/sleep time/;

plan(skip_all => 'tools/webrtc-load is not built (make tools)')
	unless -x tool();

my $t = Test::Nginx->new()->has(qw/http stream/)->plan(10);

# info, not debug: a line per packet would be the load
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

        webrtc_candidate 127.0.0.1:%%PORT_8980_UDP%%;

        location /whip/ {
            webrtc_whip;
        }

        location /whep/ {
            webrtc_whep;
        }

        location = /status {
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

my $pub = spawn_tool($d, 'publisher', '--whip', "$base/whip/flood",
	'--duration', '9', '--bitrate', '500k', '--fps', '25', '--gop', '10s',
	'--http-timeout', '3', '--json');

ok(publisher_up($d, 'publisher'), 'publisher connected');

# 8 viewers: with two workers one of them is served by the worker that
# does not serve the publisher but once in 256 runs
my @out = run_tool($d, 15, undef, '--whep', "$base/whep/flood", '--viewers',
	'8', '--duration', '5', '--pli-flood', '40', '--http-timeout', '3',
	'--json');
my $sum = summary(@out);

is($sum->{connected}, 8, 'the 8 flooding viewers connected')
	or diag(join '', @out);
cmp_ok($sum->{min_rtp_per_viewer} // 0, '>', 100,
	'their media went on: ' . ($sum->{min_rtp_per_viewer} // 0)
	. ' packets the least served got');

my $st = JSON::PP::decode_json(http_req(GET => '/status')->{body} // '{}');
my $requests = 0;
for my $w (@{$st->{workers} || []}) {
	$requests += $w->{keyframe_requests} // 0;
}

# before: one relay message a PLI, some 80,000 in 5 s from the other worker
cmp_ok($requests, '<', 60,
	"5 s of 16,000 PLIs a second: $requests key frame requests sent");

is(finish($pub, 12), 0, 'publisher exited by itself');

my $ps = summary(split /\n/, slurp("$d/publisher.json"));
ok(($ps->{pub_pli} // 0) >= 2 && ($ps->{pub_pli} // 0) <= 30,
	'the publisher got ' . ($ps->{pub_pli} // 0) . ' PLIs');

# viewers joining within 500 ms: the publisher (a key frame every 30 s of
# its own) is asked when it starts, for the first viewer, and once more
# at the end of the interval for the others; before, only twice

$pub = spawn_tool($d, 'publisher2', '--whip', "$base/whip/join",
	'--duration', '6', '--bitrate', '500k', '--fps', '25', '--gop', '30s',
	'--http-timeout', '3', '--json');

ok(publisher_up($d, 'publisher2'), 'a second publisher connected');

# its own first request out of the way
sleep 1;

@out = run_tool($d, 10, undef, '--whep', "$base/whep/join", '--viewers', '3',
	'--duration', '2', '--http-timeout', '3', '--json');
finish($pub, 10);

$ps = summary(split /\n/, slurp("$d/publisher2.json"));
cmp_ok($ps->{pub_pli} // 0, '>=', 3,
	'viewers joining together: the publisher got ' . ($ps->{pub_pli} // 0)
	. ' PLIs, ' . ($ps->{pub_keyframes} // 0) . ' key frames');
cmp_ok($ps->{pub_pli} // 0, '<=', 6, 'and not one a viewer more');
