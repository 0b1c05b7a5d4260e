#!/usr/bin/perl

# Webhooks (webrtc_notify, issue 18 item 3): a receiver in the test (an
# HTTP server of its own, in a child process) records each POST.  A
# webrtc-load publisher and 2 viewers of the stream "hooks" stream, the
# viewers leave (DELETE), then the publisher.  The receiver sees, as JSON
# POSTs to the configured path with Content-Type application/json:
# "publish" for the publisher's session, "play" for each viewer's, once
# DTLS is up, "leave" for each viewer and "unpublish" for the publisher
# with the reason ("deleted") and packet counts, each with the stream, role
# and session id the error log has for it, in that order per session.
# The first POST is answered 503: the module sends it again a second later
# (an info line says so), so "publish" arrives twice.  Then the receiver
# stops: a viewer's "play" and "leave" fail (connection refused) and,
# after retries=1, an error line says each was dropped; the viewer's media
# was not disturbed meanwhile (it received packets, no failure).  Bad
# directive values are refused by nginx -t.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Socket::IP;
use JSON::PP ();
use POSIX qw/WNOHANG/;
use Test::More;
use Test::Nginx qw/port run_cmd sanitizer_env/;
use Test::Nginx::Load qw/tool spawn_tool publisher_up finish run_tool
	summary created_ids slurp load_conf/;
use Time::HiRes qw/sleep time/;

plan(skip_all => 'tools/webrtc-load is not built (make tools)')
	unless -x tool();

my $t = Test::Nginx->new()->has(qw/http stream/)->plan(22);

my $hook = port(8081);

my $conf = load_conf(status => 0, main =>
	"webrtc_notify http://127.0.0.1:$hook/hooks?site=1 timeout=2s retries=1;");

$t->write_file_expand('nginx.conf', $conf);

my $d = $t->testdir();

###########################################################################
# the receiver: each request as a JSON line in hooks.log (its request line,
# Content-Type, body); the first answered 503, the others 204

my $receiver = receiver("$d/hooks.log", 1);

$t->run();

my $base = 'http://127.0.0.1:' . port(8080);

my $pub = spawn_tool($d, 'publisher', '--whip', "$base/whip/hooks",
	'--duration', '12', '--http-timeout', '3', '--json');

ok(publisher_up($d, 'publisher'), 'publisher connected');

my @out = run_tool($d, 15, undef, '--whep', "$base/whep/hooks",
	'--viewers', '2', '--duration', '4', '--http-timeout', '3', '--json');

my $sum = summary(@out) || {};
is($sum->{connected} // 0, 2, 'both viewers connected');

finish($pub, 20);

# the publisher's DELETE went; its "unpublish" follows at once

for (1 .. 40) {
	last if slurp("$d/hooks.log") =~ /"unpublish"/;
	sleep 0.1;
}

my @req = requests("$d/hooks.log");
my @ev = map { $_->{body} } @req;

my ($pid) = created_ids($t, 'hooks', 'publisher');
my @vid = created_ids($t, 'hooks', 'viewer');

is(scalar @vid, 2, 'the error log has 2 viewer sessions');

# what each session got, in order

my %seq;
push @{$seq{$_->{session} // ''}}, $_->{event} // '?' for @ev;

is(join(',', @{$seq{$pid // ''} || []}), 'publish,publish,unpublish',
	'publisher: publish (503, then again), unpublish');
is(join(';', map { join(',', @{$seq{$_} || []}) } @vid),
	'play,leave;play,leave', 'each viewer: play, then leave');

my ($unpub) = grep { ($_->{event} // '') eq 'unpublish' } @ev;
is_deeply([ map { $unpub->{$_} // '' } qw/stream role reason/ ],
	[ 'hooks', 'publisher', 'deleted' ],
	'unpublish: stream, role and reason');
ok(($unpub->{packets_in} // 0) > 100, 'unpublish: packets in counted');

my @leave = grep { ($_->{event} // '') eq 'leave' } @ev;
ok(@leave == 2 && !grep({ ($_->{role} // '') ne 'viewer'
		|| ($_->{stream} // '') ne 'hooks'
		|| ($_->{reason} // '') ne 'deleted'
		|| ($_->{packets_out} // 0) < 10 } @leave),
	'leave: viewer, stream, reason, packets out');

my ($play) = grep { ($_->{event} // '') eq 'play' } @ev;
like($play->{address} // '', qr/^127\.0\.0\.1:\d+$/,
	'play: the media address');
ok(($play->{time} // 0) > 1.7e12, 'play: a time in ms');

# the POSTs themselves

ok(@req && !grep({ $_->{line} ne 'POST /hooks?site=1 HTTP/1.1' } @req),
	'each a POST to the configured path');
ok(@req && !grep({ ($_->{type} // '') ne 'application/json'
		|| ($_->{host} // '') ne "127.0.0.1:$hook" } @req),
	'Content-Type application/json, Host of the URL');

ok($t->log_lines(qr/webrtc notify "publish" of session \Q$pid\E to "[^"]+" not a 2xx response: 503.*again in 1000 ms/),
	'the 503 logged, sent again in 1 s');

###########################################################################
# the receiver gone: events fail, are sent again once, then dropped; the
# media goes on

stop_receiver();

$pub = spawn_tool($d, 'publisher2', '--whip', "$base/whip/hooks2",
	'--duration', '10', '--http-timeout', '3', '--json');

ok(publisher_up($d, 'publisher2'), 'publisher connected, no receiver');

@out = run_tool($d, 15, undef, '--whep', "$base/whep/hooks2",
	'--viewers', '1', '--duration', '4', '--http-timeout', '3', '--json');

$sum = summary(@out) || {};
ok(($sum->{connected} // 0) == 1 && ($sum->{failed} // 0) == 0
	&& ($sum->{rtp_received} // $sum->{packets} // 1) > 0,
	'the viewer streamed while its events failed');

finish($pub, 20);

my ($vid2) = created_ids($t, 'hooks2', 'viewer');

for (1 .. 60) {
	last if $t->log_lines(qr/notify "leave" of session \Q$vid2\E .*dropped/);
	sleep 0.1;
}

ok($t->log_lines(qr/\[info\].*webrtc notify "play" of session \Q$vid2\E .*could not (?:connect|send).*again in 1000 ms/),
	'"play" refused: sent again in 1 s');
ok($t->log_lines(qr/\[error\].*webrtc notify "play" of session \Q$vid2\E .* after 2 tries, dropped/),
	'"play": dropped after 2 tries, an error line');
ok($t->log_lines(qr/\[error\].*webrtc notify "leave" of session \Q$vid2\E .* after 2 tries, dropped/),
	'"leave": the same');

###########################################################################
# the directive

$t->stop();

my %env = sanitizer_env($d);
local @ENV{keys %env} = values %env;
my $NGINX = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';

for my $bad ([ 'https://127.0.0.1/x', qr/takes an http:\/\/ URL/ ],
	[ "http://127.0.0.1:$hook/ retries=11", qr/invalid parameter "retries=11"/ ],
	[ "http://127.0.0.1:$hook/ queue=0", qr/invalid parameter "queue=0"/ ])
{
	(my $c = $conf) =~ s{webrtc_notify [^;]+;}{webrtc_notify $bad->[0];};
	$t->write_file_expand('bad.conf', $c);
	my (undef, $out) = run_cmd($NGINX, '-t', '-p', "$d/", '-c', 'bad.conf');
	like($out, $bad->[1], "webrtc_notify $bad->[0] refused");
}

###########################################################################

# an HTTP receiver in a child process: each request appended to $log as a
# JSON line; the first $fail answered 503, the rest 204
sub receiver {
	my ($log, $fail) = @_;

	my $srv = IO::Socket::IP->new(LocalHost => '127.0.0.1',
		LocalPort => $hook, Listen => 16, ReuseAddr => 1)
		or die "receiver: $!";

	my $pid = fork() // die "fork: $!";

	if ($pid) {
		close $srv;
		return $pid;
	}

	my $json = JSON::PP->new->canonical;
	my $end = time() + 120;

	while (time() < $end) {
		my $c = $srv->accept() or next;
		my $buf = '';
		my $t0 = time();

		while ($buf !~ /\r\n\r\n/ && time() - $t0 < 5) {
			sysread($c, $buf, 4096, length $buf) or last;
		}

		my ($head, $body) = split /\r\n\r\n/, $buf, 2;
		$head //= '';
		$body //= '';
		my ($len) = $head =~ /^Content-Length:\s*(\d+)/mi;

		while (length $body < ($len // 0) && time() - $t0 < 5) {
			sysread($c, $body, 4096, length $body) or last;
		}

		my ($line) = $head =~ /^([^\r\n]*)/;
		my ($type) = $head =~ /^Content-Type:\s*([^\r\n]*)/mi;
		my ($host) = $head =~ /^Host:\s*([^\r\n]*)/mi;

		open my $fh, '>>', $log or die;
		print $fh $json->encode({ line => $line, type => $type,
			host => $host, body => $body }), "\n";
		close $fh;

		print $c ($fail-- > 0)
			? "HTTP/1.1 503 Service Unavailable\r\n"
				. "Content-Length: 0\r\nConnection: close\r\n\r\n"
			: "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
		close $c;
	}

	POSIX::_exit(0);
}

sub stop_receiver {
	return unless $receiver;
	kill 'TERM', $receiver;
	waitpid($receiver, 0);
	undef $receiver;
}

END { local $?; stop_receiver() if $receiver; }

# the receiver's records, their bodies decoded
sub requests {
	my ($log) = @_;
	my @r;

	for (split /\n/, slurp($log)) {
		my $x = eval { JSON::PP::decode_json($_) } or next;
		$x->{body} = eval { JSON::PP::decode_json($x->{body}) } || {};
		push @r, $x;
	}

	return @r;
}

###########################################################################
