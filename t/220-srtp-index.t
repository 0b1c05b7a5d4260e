#!/usr/bin/perl

# SRTP never encrypts two different plaintexts under one SSRC and index
# towards a viewer (RFC 3711, 9.1; RFC 7714, 8.3: with AES-GCM the
# nonce is the SSRC and the index, and a reuse gives away the GHASH key;
# with AES-CM the XOR of the two payloads).  The viewers of
# tools/webrtc-load --index-check keep a hash of every SRTP packet by its
# SSRC and index, before decryption, and count an index that came again
# with other bytes (nonce_reuse); the same bytes again are a resend: the
# viewers ask for some with NACKs (--nack-every), and the server's resends
# from its cache must come with the bytes of the first send.
#
# - A publisher that sends earlier video packets again with other bytes
#   (--dup-every: as libwebrtc, which rewrites abs-send-time in a
#   retransmission), the last one or one over 1024 packets back: the
#   server's inbound replay window (libsrtp2, 1024) drops them all.
# - A publisher whose video SSRC changes, the first two packets of the new
#   one swapped (--ssrc-switch): the viewer's sequence numbers continue
#   after the old SSRC's, and the late first packet of the new one came
#   out under the index of the old SSRC's last packet before.
# - A publisher replacing another with the same SSRCs and sequence
#   numbers (a client that reconnects with the same ones, or a publisher
#   that means harm): nothing told the viewer's track that its source had
#   changed, so every packet of the second went out under an index the
#   first had used.
# Media goes on in each case.  Skipped if the tool is not built.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Test::Nginx qw/port/;
use Test::Nginx::Load qw/tool spawn_tool publisher_up finish run_tool
	summary slurp/;
use Time::HiRes qw/sleep/;

plan(skip_all => 'tools/webrtc-load is not built (make tools)')
	unless -x tool();

my $t = Test::Nginx->new()->has(qw/http stream/)->plan(20);

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

# 6 viewers over 2 workers: some served by the publisher's worker, some
# through the relay (all on one worker once in 32 runs)
my @viewers = ('--viewers', '6', '--index-check', '--nack-every', '25',
	'--http-timeout', '3', '--json');

# retransmissions with other bytes: 3 Mbit/s, some 300 video packets a
# second, so that packets 1100 back are there after 4 s

my $pub = spawn_tool($d, 'dup', '--whip', "$base/whip/dup", '--duration',
	'10', '--bitrate', '3000k', '--fps', '30', '--dup-every', '10',
	'--http-timeout', '3', '--json');

ok(publisher_up($d, 'dup'), 'publisher with duplicates connected');

my $sum = summary(run_tool($d, 15, undef, '--whep', "$base/whep/dup",
	'--duration', '7', @viewers));

is($sum->{connected}, 6, 'duplicates: viewers connected');
cmp_ok($sum->{min_rtp_per_viewer} // 0, '>', 500,
	'duplicates: media went on, ' . ($sum->{min_rtp_per_viewer} // 0)
	. ' packets the least served got');
is($sum->{nonce_reuse}, 0, 'duplicates: no index reused with other bytes');
cmp_ok($sum->{index_repeats} // 0, '>', ($sum->{index_nacks} // 0) / 2,
	'resends came with the same bytes: ' . ($sum->{index_repeats} // 0)
	. ' for ' . ($sum->{index_nacks} // 0) . ' NACKs');

is(finish($pub, 10), 0, 'publisher with duplicates exited');
my $ps = summary(split /\n/, slurp("$d/dup.json"));
cmp_ok($ps->{pub_dups} // 0, '>', 100,
	'it sent ' . ($ps->{pub_dups} // 0) . ' duplicates, half of them late');

# the video SSRC changes 2 s in, its first two packets swapped

$pub = spawn_tool($d, 'switch', '--whip', "$base/whip/switch", '--duration',
	'7', '--bitrate', '500k', '--fps', '25', '--ssrc-switch', '2',
	'--http-timeout', '3', '--json');

ok(publisher_up($d, 'switch'), 'publisher switching SSRC connected');

$sum = summary(run_tool($d, 12, undef, '--whep', "$base/whep/switch",
	'--duration', '5', @viewers));

is($sum->{connected}, 6, 'SSRC switch: viewers connected');
cmp_ok($sum->{min_rtp_per_viewer} // 0, '>', 200,
	'SSRC switch: media went on, ' . ($sum->{min_rtp_per_viewer} // 0)
	. ' packets the least served got');
is($sum->{nonce_reuse}, 0, 'SSRC switch: no index reused with other bytes');
cmp_ok($sum->{index_repeats} // 0, '>', 0,
	'SSRC switch: ' . ($sum->{index_repeats} // 0) . ' resends');

finish($pub, 10);
like(slurp("$d/switch.log"), qr/video SSRC now/, 'the SSRC switched');

# a publisher replaced by one with the same SSRCs and sequence numbers,
# the viewers staying

my @same = ('--ssrc', '123456789', '--seq', '1000', '--bitrate', '500k',
	'--fps', '25', '--http-timeout', '3', '--json');

$pub = spawn_tool($d, 'first', '--whip', "$base/whip/same", '--duration',
	'3', @same);

ok(publisher_up($d, 'first'), 'first publisher connected');

my $vpid = spawn_tool($d, 'viewers', '--whep', "$base/whep/same",
	'--duration', '7', @viewers);

is(finish($pub, 10), 0, 'first publisher exited');

$pub = spawn_tool($d, 'second', '--whip', "$base/whip/same", '--duration',
	'3', @same);

ok(publisher_up($d, 'second'), 'second publisher, same SSRCs, connected');

finish($vpid, 15);
finish($pub, 10);

$sum = summary(split /\n/, slurp("$d/viewers.json"));

is($sum->{connected}, 6, 'republish: viewers connected');
cmp_ok($sum->{min_rtp_per_viewer} // 0, '>', 200,
	'republish: media went on, ' . ($sum->{min_rtp_per_viewer} // 0)
	. ' packets the least served got');
is($sum->{nonce_reuse}, 0, 'republish: no index reused with other bytes');
