#!/usr/bin/perl

# The status location in the Prometheus text exposition format 0.0.4
# ("webrtc_status prometheus", or "?format=prometheus" on a JSON one),
# scraped while real traffic flows and parsed by the Prometheus client
# library's parser (t/prometheus-parse.py, Debian python3-prometheus-client):
# a WHIP publisher and 3 WHEP viewers of tools/webrtc-load, a viewer made
# and DELETEd by hand, a viewer refused by webrtc_max_client_sessions (429)
# and one by webrtc_max_viewers (503).
# Checked: the text parses, every family has HELP and TYPE (no untyped
# sample), counters end in _total, names and labels are Prometheus'; the
# stream live with its 3 viewers and a bitrate, each worker by its slot
# with its peers by role, packets in at least what the publisher sent
# less what the stream lost, packets out at least what the viewers
# decrypted; the forwarding delay a histogram: buckets cumulative in
# increasing le up to +Inf, _count the +Inf bucket, _sum in seconds
# within what the buckets allow; sessions created and closed (DELETE) by
# role, the two refusals by cause; the JSON form counts the same delays.
# Each was seen to fail when broken on purpose, one at a time: HELP left
# out of the histogram (the HELP/TYPE check), buckets not cumulative
# (each bucket's own count), _sum in microseconds, the publishers' peers
# labelled role "viewer", sessions created not counted, a DELETE counted
# as reason "media", the refusals not counted, a publisher's packets not
# counted in.
# Skipped if tools/webrtc-load is not built (make tools) or the parser is
# missing.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Test::Nginx qw/port http_req sdp/;
use Test::Nginx::Load qw/tool spawn_tool publisher_up finish run_tool
	summary decode slurp/;
use IPC::Open3 qw/open3/;
use JSON::PP ();
use List::Util qw/max sum0/;
use Time::HiRes qw/sleep time/;

my $python = -x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3';
my $parser = "$FindBin::Bin/prometheus-parse.py";

plan(skip_all => 'tools/webrtc-load is not built (make tools)')
	unless -x tool();
plan(skip_all => 'no Prometheus parser (python3-prometheus-client)')
	unless system($python, '-c',
		'import prometheus_client.parser') == 0;

my $t = Test::Nginx->new()->has(qw/http stream/)->plan(40);

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
        server_name localhost;

        webrtc_candidate 127.0.0.1:%%PORT_8980_UDP%%;
        webrtc_max_client_sessions 0;

        location /whip/ {
            webrtc_whip;
        }

        location /whep/ {
            webrtc_whep;
        }

        location /whep-few/ {
            webrtc_whep;
            webrtc_max_client_sessions 1;
        }

        location /whep-one/ {
            webrtc_whep;
            webrtc_max_viewers 1;
        }

        location = /status {
            webrtc_status;
        }

        location = /metrics {
            webrtc_status prometheus;
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

###########################################################################
# before any session: the format, and every family there

my $r = http_req(GET => '/metrics');

is($r->{headers}{'content-type'}, 'text/plain; version=0.0.4; charset=utf-8',
	'Content-Type of the text format 0.0.4');

my ($fam, $err) = scrape('/metrics');

ok($fam && !$err, 'the output parses') or diag($err);
format_ok($fam, 'idle');

is(value($fam, 'nginx_webrtc_sessions_created_total'), 0,
	'no session created yet');
is(scalar samples($fam, 'nginx_webrtc_stream_live'), 0, 'no stream yet');

($fam) = scrape('/status?format=prometheus');
ok(family($fam, 'nginx_webrtc_forwarding_delay_seconds'),
	'?format=prometheus on the JSON location');

is(http_req(GET => '/metrics?format=json')->{headers}{'content-type'},
	'application/json', '?format=json on the Prometheus location');
is(http_req(GET => '/metrics?format=xml')->{status}, 400,
	'an unknown format: 400');

###########################################################################
# the publisher, in the background (bounded: it streams 14 s, killed after
# 25 s)

my $t0 = time();
my $pub = spawn_tool($d, 'publisher', '--whip', "$base/whip/load",
	'--duration', '14', '--bitrate', '500k', '--fps', '30', '--gop', '1s',
	'--http-timeout', '3', '--json');

ok(publisher_up($d, 'publisher'), 'publisher connected');

# refused: a second session of 127.0.0.1 where it may hold one (429), a
# second viewer where the stream may have one (503)

my $play = sdp('chromium-play');
is(post('/whep-few/load', $play)->{status}, 429,
	'webrtc_max_client_sessions: 429');

my $v = post('/whep/load', $play);
is(post('/whep-one/load', $play)->{status}, 503,
	'webrtc_max_viewers: 503');
is(http_req(DELETE => $v->{headers}{location} // '/none')->{status}, 200,
	'a viewer made and DELETEd by hand');

###########################################################################
# three viewers, in the foreground (bounded); a scrape after each of their
# lines

my ($most, $live, $pubs) = (0, 0, 0);
my $during;

my @out = run_tool($d, 15, sub {
		my ($f) = scrape('/metrics');
		return unless $f;
		my $n = value($f, 'nginx_webrtc_stream_viewers', stream => 'load');
		if (defined $n && $n >= $most) {
			$most = $n;
			$live = value($f, 'nginx_webrtc_stream_live',
				stream => 'load');
			$pubs = value($f, 'nginx_webrtc_worker_peers',
				role => 'publisher');
		}
		$during = $f if $n && value($f,
			'nginx_webrtc_stream_received_bits_per_second',
			stream => 'load');
	}, '--whep', "$base/whep/load", '--viewers', '3',
	'--duration', '4', '--http-timeout', '3', '--json');

my $sum = summary(@out);

is($sum->{connected}, 3, 'all 3 viewers connected') or diag(join '', @out);
is($most, 3, 'stream_viewers 3 while they ran');
ok($live == 1 && $pubs == 1,
	"the stream live ($live), one publisher among the workers' peers "
	. "($pubs)");

# while the viewers ran: the stream's bitrate, each worker by its slot

my $rate = $during ? value($during,
	'nginx_webrtc_stream_received_bits_per_second', stream => 'load') : 0;
ok($rate > 125_000 && $rate < 2_000_000,
	"stream bitrate $rate bits/s (500k sent)");

my @slots = sort map { $_->{labels}{worker} }
	samples($during, 'nginx_webrtc_worker_received_packets_total');
is("@slots", '0 1', 'a series per worker slot, 0 and 1');
ok(!grep({ exists $_->{labels}{pid} } map { @{$_->{samples}} } @$during),
	'no pid label');

# after them: their sessions closed on DELETE, packets out

($fam) = scrape('/metrics');

for (1 .. 30) {
	last if value($fam, 'nginx_webrtc_worker_peers', role => 'viewer') == 0;
	sleep 0.1;
	($fam) = scrape('/metrics');
}

format_ok($fam, 'with traffic');

is(value($fam, 'nginx_webrtc_worker_peers', role => 'viewer'), 0,
	'no viewer peers after their DELETE');
cmp_ok(value($fam, 'nginx_webrtc_worker_sent_packets_total'), '>=',
	3 * ($sum->{min_rtp_per_viewer} // 1),
	'packets sent at least what the viewers decrypted: '
	. value($fam, 'nginx_webrtc_worker_sent_packets_total'));

histogram_ok($fam);

is(value($fam, 'nginx_webrtc_sessions_created_total', role => 'viewer'), 4,
	'4 viewer sessions created');
is(value($fam, 'nginx_webrtc_sessions_closed_total', role => 'viewer',
	reason => 'deleted'), 4, '4 viewer sessions closed, reason deleted');
is(value($fam, 'nginx_webrtc_sessions_refused_total',
	cause => 'client_sessions'), 1, 'refused: client_sessions 1');
is(value($fam, 'nginx_webrtc_sessions_refused_total',
	cause => 'max_viewers'), 1, 'refused: max_viewers 1');
is(value($fam, 'nginx_webrtc_sessions_refused_total', cause => 'zone_full')
	+ value($fam, 'nginx_webrtc_sessions_refused_total',
		cause => 'token_sessions'), 0, 'refused: none for other causes');

# a viewer that ends with its DTLS close_notify, as a browser's close():
# closed by the media worker, reason client

@out = run_tool($d, 10, undef, '--whep', "$base/whep/load", '--viewers',
	'1', '--duration', '2', '--close-notify', '--http-timeout', '3',
	'--json');

for (1 .. 30) {
	($fam) = scrape('/metrics');
	last if value($fam, 'nginx_webrtc_sessions_closed_total',
		role => 'viewer', reason => 'client') == 1;
	sleep 0.1;
}

is(value($fam, 'nginx_webrtc_sessions_closed_total', role => 'viewer',
	reason => 'client'), 1, 'a DTLS close_notify: closed, reason client');

my $lost = value($fam, 'nginx_webrtc_stream_lost_packets_total',
	stream => 'load');
my $stream_in = value($fam, 'nginx_webrtc_stream_received_packets_total',
	stream => 'load');

###########################################################################
# the publisher ends by itself: what it sent, against the workers' packets
# in

is(finish($pub, $t0 + 25 - time()), 0, 'publisher exited by itself');

my $ps = summary(split /\n/, slurp("$d/publisher.json"));
my $sent = $ps->{pub_tx_packets} // 0;

diag("publisher's output:\n", slurp("$d/publisher.json"),
	slurp("$d/publisher.log")) unless %$ps;

for (1 .. 30) {
	($fam) = scrape('/metrics');
	last if value($fam, 'nginx_webrtc_sessions_closed_total',
		role => 'publisher') == 1;
	sleep 0.1;
}

my $in = value($fam, 'nginx_webrtc_worker_received_packets_total');

ok($sent > 300 && $in >= $sent - $lost && $in <= $sent,
	"packets in $in: publisher sent $sent, the stream lost $lost "
	. "(stream's count $stream_in while live)");
is(value($fam, 'nginx_webrtc_sessions_closed_total', role => 'publisher',
	reason => 'deleted'), 1, 'the publisher session closed, deleted');
is(value($fam, 'nginx_webrtc_sessions_created_total', role => 'publisher'),
	1, '1 publisher session created');
is(scalar samples($fam, 'nginx_webrtc_stream_live'), 0,
	'the stream gone with its publisher');

# the JSON beside it: the same delay buckets
my $json = decode(http_req(GET => '/status')->{body} // '') // {};
is(sum0(@{$json->{forwarding}{histogram}{count} // []}),
	value($fam, 'nginx_webrtc_forwarding_delay_seconds_count'),
	'the JSON status counts the same delays');

###########################################################################
# helpers

sub post {
	my ($uri, $body) = @_;
	return http_req(POST => $uri, body => $body,
		headers => { 'Content-Type' => 'application/sdp' });
}

# the families of a scrape, by the Prometheus parser; and its error
sub scrape {
	my ($uri) = @_;
	my $text = http_req(GET => $uri, timeout => 3)->{body} // '';

	my $pid = open3(my $in, my $out, undef, $python, $parser);
	print $in $text;
	close $in;
	my $json = do { local $/; <$out> };
	waitpid($pid, 0);

	return (undef, "parser exit status " . ($? >> 8) . ":\n$text") if $?;
	return (JSON::PP::decode_json($json), undef);
}

sub family {
	my ($fam, $name) = @_;
	$name =~ s/_total$//;
	my ($f) = grep { $_->{name} eq $name } @{$fam // []};
	return $f;
}

# the samples of a family (or of a histogram's series) with these labels
sub samples {
	my ($fam, $name, %l) = @_;
	my $f = family($fam, $name =~ s/_(bucket|sum|count)$//r) or return ();
	return grep { my $s = $_; $s->{name} eq $name
		&& !grep { ($s->{labels}{$_} // '') ne $l{$_} } keys %l }
		@{$f->{samples}};
}

# their values summed (over workers, roles, reasons ...); undef if none
sub value {
	my @s = samples(@_);
	return @s ? sum0(map { $_->{value} } @s) : undef;
}

# what every exposition must be
sub format_ok {
	my ($fam, $when) = @_;
	my @f = @{$fam // []};
	my %seen;

	ok(@f >= 17 && !grep({ !$_->{help} || $_->{type} eq 'untyped' } @f),
		"$when: " . scalar(@f) . ' families, each with HELP and TYPE')
		or diag(join ' ', map { "$_->{name}:$_->{type}" } @f);

	my @bad = grep { $seen{$_->{name}}++
		|| $_->{name} !~ /^nginx_webrtc_[a-z_]+$/
		|| ($_->{type} eq 'counter'
			&& grep { $_->{name} !~ /_total$/ } @{$_->{samples}})
		|| grep { grep { !/^(stream|worker|role|reason|cause|le)$/ }
				keys %{$_->{labels}} } @{$_->{samples}} } @f;

	ok(!@bad, "$when: names once each, counters _total, known labels")
		or diag(join ' ', map { $_->{name} } @bad);
}

# the forwarding delay: a histogram in seconds
sub histogram_ok {
	my ($fam) = @_;
	my $name = 'nginx_webrtc_forwarding_delay_seconds';
	my $f = family($fam, $name);

	is($f && $f->{type}, 'histogram', 'forwarding delay: a histogram');

	my @b = samples($fam, "${name}_bucket");
	my $count = value($fam, "${name}_count") // -1;
	my $sum = value($fam, "${name}_sum") // -1;

	# in the order given: le increasing to +Inf, counts not decreasing
	my ($ok, $prev_le, $prev) = (1, -1, 0);
	my ($lo, $hi) = (0, 0);

	for my $s (@b) {
		my $le = $s->{labels}{le};
		my $n = $s->{value} - $prev;

		$ok = 0 unless $le eq '+Inf' || ($le =~ /^[0-9.e+-]+$/
			&& $le > $prev_le);
		$ok = 0 if $n < 0;

		# the sum lies between the bounds of each bucket's delays
		$lo += $n * ($prev_le < 0 ? 0 : $prev_le);
		$hi += $n * ($le eq '+Inf' ? 1e9 : $le);

		($prev_le, $prev) = ($le eq '+Inf' ? 1e9 : $le, $s->{value});
	}

	ok($ok && @b == 32 && $b[-1]{labels}{le} eq '+Inf',
		'forwarding delay: ' . scalar(@b) . ' buckets, cumulative, '
		. 'le increasing to +Inf')
		or diag(join ' ', map { "$_->{labels}{le}:$_->{value}" } @b);
	is($count, $b[-1]{value}, "forwarding delay: _count $count is the "
		. '+Inf bucket');
	ok($count > 0 && $sum > 0 && $sum >= $lo && $sum <= $hi,
		"forwarding delay: _sum $sum s within the buckets' bounds "
		. "[$lo, $hi]");
}
