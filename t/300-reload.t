#!/usr/bin/perl

# Live sessions across reloads (issue 16, doc/registry-design.md 11).  A
# webrtc-load publisher and 40 viewers stream through 2 workers while nginx
# reloads 5 times, about 3 s apart: the configuration unchanged, a location
# added, worker_processes 2 -> 3, 3 -> 2, unchanged.  A few seconds after
# each reload (new sessions of another stream meanwhile) the zone still has
# every one of the 41 sessions (a PATCH that cannot match is 412, not 404),
# the status counts the publisher and the 40 viewers, the viewers receive
# media, and the error log has no line that ends one of them; at the end
# webrtc-load saw no stall (no gap over 1 s), every consent check of the
# viewers and of the publisher answered, no failure, no SRTP decryption
# error and no SRTP index used twice with other bytes, and its viewers could
# DELETE their sessions.
#
# Each reload is also checked to have happened (new worker pids, the old
# ones exited, the new configuration in force), and new sessions work
# after it.
# Skipped if the tool is not built (make tools).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Test::Nginx qw/port http_req/;
use Test::Nginx::Load qw/tool spawn_tool publisher_up finish run_tool
	summary slurp created_ids ended_ids session_found status_json
	status_sum last_tick/;
use Time::HiRes qw/sleep time/;

plan(skip_all => 'tools/webrtc-load is not built (make tools)')
	unless -x tool();

my $t = Test::Nginx->new()->has(qw/http stream/)->plan(45);

my $module = Test::Nginx::module_path();
my $added = '';

$t->write_file_expand('nginx.conf', conf(2))->run();

my $d = $t->testdir();
my $base = 'http://127.0.0.1:' . port(8080);

###########################################################################
# the publisher and 40 viewers, in the background, each bounded by its
# --duration; consent checks every second, so that some fall into the
# reloads

my $t0 = time();

my $pub = spawn_tool($d, 'publisher', '--whip', "$base/whip/load",
	'--duration', '29', '--bitrate', '500k', '--fps', '30', '--gop', '1s',
	'--consent-interval', '1', '--http-timeout', '3', '--json');

ok(publisher_up($d, 'publisher'), 'publisher connected');

my $aud = spawn_tool($d, 'audience', '--whep', "$base/whep/load",
	'--viewers', '40', '--duration', '26', '--consent-interval', '1',
	'--index-check', '--http-timeout', '3', '--json');

# up: DTLS done for all 41, the status counts them
my $st = {};

for (1 .. 100) {
	$st = status_json('/status?stream=load');
	last if ($st->{streams}[0]{viewers} // 0) == 40
		&& $t->log_lines(qr/session \w+: DTLS \S+ established/) >= 41;
	sleep 0.1;
}

my ($pub_id) = created_ids($t, 'load', 'publisher');
my @vid = created_ids($t, 'load', 'viewer');
my %url = map { $_ => "/whep/load/$_" } @vid;
$url{$pub_id} = "/whip/load/$pub_id" if $pub_id;

ok($pub_id && @vid == 40 && ($st->{streams}[0]{viewers} // 0) == 40,
	'the publisher and 40 viewers up, '
	. sprintf('%.1f s after the start', time() - $t0))
	or diag(slurp("$d/audience.log"));

is(scalar(grep { session_found($url{$_}) == 412 } keys %url), 41,
	'the zone finds the 41 sessions before the reloads');

###########################################################################
# 5 reloads, each followed by a short publisher and 2 viewers of a stream
# of their own (about 3 s): the spacing

my @steps = (
	['the configuration unchanged', 2],
	['a location added', 2, "location = /added {\n"
		. "            return 204;\n        }"],
	['worker_processes 2 -> 3', 3],
	['worker_processes 3 -> 2', 2],
	['the configuration unchanged again', 2],
);

my $n = 0;

for my $step (@steps) {
	my ($name, $workers, $location) = @$step;
	$n++;

	$added = $location if defined $location;

	my @old = $t->worker_pids();

	$t->write_file_expand('nginx.conf', conf($workers));
	$t->reload();

	my @new = $t->worker_pids();
	my %old = map { $_ => 1 } @old;

	ok(@new == $workers && !grep({ $old{$_} } @new)
		&& !grep({ kill 0, $_ } @old),
		"reload $n ($name): workers @new replaced @old");

	if ($n == 2) {
		is(http_req(GET => '/added')->{status}, 204,
			"reload $n: the added location answers");
	}

	# new sessions, a few seconds: then what became of the old ones

	my @out = run_tool($d, 12, undef, '--whip', "$base/whip/probe$n",
		'--whep', "$base/whep/probe$n", '--viewers', '2',
		'--duration', '2', '--http-timeout', '3', '--json');
	my $sum = summary(@out);

	ok(($sum->{connected} // 0) == 2 && ($sum->{failed} // 1) == 0
		&& ($sum->{min_rtp_per_viewer} // 0) > 20
		&& ($sum->{deleted} // 0) == 2,
		"reload $n: new sessions work, "
		. ($sum->{min_rtp_per_viewer} // 0) . ' packets each at least')
		or diag(join '', @out);

	$st = status_json('/status?stream=load');

	ok(($st->{streams}[0]{viewers} // 0) == 40
		&& status_sum($st, 'publishers') == 1
		&& status_sum($st, 'viewers') == 40,
		"reload $n: the status counts the publisher and 40 viewers")
		or diag('stream viewers ', $st->{streams}[0]{viewers} // 'none',
			', workers: ', join(' ', map { "$_->{pid}:"
				. "$_->{publishers}/$_->{viewers}" }
				@{$st->{workers} // []}));

	my @lost = grep { session_found($url{$_}) != 412 } sort keys %url;

	is(scalar @lost, 0, "reload $n: the zone finds the 41 sessions")
		or diag(scalar @lost . ' not found');

	my $tick = last_tick($d, 'audience');

	ok(($tick->{connected} // 0) == 40 && ($tick->{rtp_pps} // 0) > 1000,
		"reload $n: the 40 viewers receive media, "
		. ($tick->{rtp_pps} // 0) . ' RTP packets a second')
		or diag('connected ', $tick->{connected} // '?');

	my $ended = ended_ids($t);
	my @ended = grep { $ended->{$_} } sort keys %url;

	is(scalar @ended, 0, "reload $n: no session ended in the error log")
		or diag($ended->{$ended[0]});
}

###########################################################################
# webrtc-load's view of the whole run

my $vs = finish($aud, $t0 + 40 - time());
my $ps = finish($pub, $t0 + 42 - time());

my $sum = summary(split /\n/, slurp("$d/audience.json"));
my $pum = summary(split /\n/, slurp("$d/publisher.json"));

ok(defined $vs && ($sum->{launched} // 0) == 40
	&& ($sum->{connected} // 0) == 40 && defined $ps
	&& ($pum->{pub_tx_packets} // 0) > 1000,
	'webrtc-load ran to its end: 40 viewers connected, the publisher sent '
	. ($pum->{pub_tx_packets} // 0) . ' packets')
	or diag(slurp("$d/audience.log"), slurp("$d/publisher.log"));

diag('longest gap of a viewer: ' . ($sum->{max_gap_ms} // '?') . ' ms, '
	. ($sum->{stalled_viewers} // '?') . ' viewers stalled');

is($sum->{nonce_reuse}, 0, 'no SRTP index came twice with other bytes');
is($sum->{decrypt_errors}, 0, 'no SRTP decryption failure');
is($pum->{pub_failed}, 0, 'the publisher did not fail');

is($sum->{stalls}, 0, 'no stall (a gap over 1 s) of any viewer');
is($sum->{consent_unanswered}, 0, 'every consent check of the viewers '
	. 'answered (' . ($sum->{consent_sent} // 0) . ')');
is($pum->{pub_consent_unanswered}, 0,
	'every consent check of the publisher answered');
is($sum->{failed}, 0, 'no viewer failed');
is(join(' ', map { "$_:$sum->{fail}{$_}" } grep { $sum->{fail}{$_} }
	sort keys %{$sum->{fail} // {}}), '', 'no failure of any kind');
is($sum->{deleted}, 40, 'the 40 viewers DELETEd their sessions at the end');

###########################################################################

# the nginx.conf of $workers workers, with the location in $added

sub conf {
	my ($workers) = @_;

	return <<"EOF";
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
load_module $module;

pid %%TESTDIR%%/nginx.pid;
error_log %%TESTDIR%%/error.log info;

worker_processes $workers;

events {
    worker_connections 1024;
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        webrtc_candidate 127.0.0.1:%%PORT_8980_UDP%%;
        webrtc_max_client_sessions 64;

        location /whip/ {
            webrtc_whip;
        }

        location /whep/ {
            webrtc_whep;
        }

        location = /status {
            webrtc_status;
        }

        $added
    }
}

stream {
    server {
        listen 127.0.0.1:%%PORT_8980_UDP%% udp reuseport;
        webrtc;
    }
}
EOF
}
