#!/usr/bin/perl

# Every conf-examples/*.conf passes "nginx -t" in a prefix laid out as
# scripts/demo makes it, and demo.conf runs: an offer POSTed over HTTPS
# gets its answer.  Ports are rewritten to free ones, as scripts/demo does.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Cwd qw/abs_path/;
use File::Basename qw/basename/;
use File::Path qw/make_path/;
use IO::Socket::IP;
use POSIX qw/WNOHANG/;
use Test::More;
use Test::Nginx qw/http_req port run_cmd sanitizer_env sanitizer_reports/;
use Time::HiRes qw/sleep time/;

my $REPO = abs_path("$FindBin::Bin/..");
my $NGINX = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
my $MODULE = Test::Nginx::module_path();

my @examples = sort glob("$REPO/conf-examples/*.conf");
my $demo = "$REPO/conf-examples/demo.conf";

# nginx -t per example, + demo: started, no stray alerts, POST whip,
# answer candidate, POST whep, a page
my $t = Test::Nginx->new()->has(qw/http stream http_ssl http_v2/)
	->plan(1 + @examples + (-e $demo ? 9 : 0));

ok(scalar @examples, 'conf-examples/*.conf found');

###########################################################################
# helpers


my $d = $t->testdir();
$t->write_cert('localhost',
	'-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1');
my ($rc, $out);

my $next_port = 9100;

# a prefix as scripts/demo lays it out: modules/, conf/cert/, html/, logs/,
# temp/; the example in conf/ with every listen port (and the candidates
# naming it) moved to a free port.  Returns (prefix, conf name, port map).
sub prefix_for {
	my ($example, $tag) = @_;
	my $prefix = "$d/$tag";
	make_path(map { "$prefix/$_" } qw{conf/cert modules logs temp});
	symlink($MODULE, "$prefix/modules/ngx_http_webrtc_module.so")
		or die "symlink: $!";
	if (-d "$REPO/html") {
		symlink("$REPO/html", "$prefix/html") or die "symlink: $!";
	} else {
		make_path("$prefix/html");
	}
	for my $f (qw/localhost.crt localhost.key/) {
		$t->write_file("$prefix/conf/cert/$f", $t->read_file($f));
	}

	my $text = $t->read_file($example);
	my %map;
	(my $plain = $text) =~ s/#[^\n]*//g;
	while ($plain =~ /^\s*listen\s+(?:\S*:)?(\d+)\b/mg) {
		$map{$1} //= port($next_port++);
	}
	$text =~ s/^(\s*listen\s+(?:\S*:)?)(\d+)\b/$1 . ($map{$2} \/\/ $2)/mge;
	$text =~ s/^(\s*webrtc_candidate\s+\S*:)(\d+)\b/$1 . ($map{$2} \/\/ $2)/mge;

	my $name = basename($example);
	$t->write_file("$prefix/conf/$name", $text);
	return ($prefix, $name, \%map);
}

###########################################################################
# nginx -t for each example

my $n = 0;
for my $example (@examples) {
	my ($prefix, $name) = prefix_for($example, 'test' . $n++);
	my %env = sanitizer_env($prefix);
	local @ENV{keys %env} = values %env;
	($rc, $out) = run_cmd($NGINX, '-t', '-p', "$prefix/", '-c', "conf/$name",
		'-e', "$prefix/logs/error.log");
	my @reports = sanitizer_reports($prefix);
	ok($rc == 0 && !@reports, "nginx -t: conf-examples/$name")
		or diag($out, @reports);
}

exit 0 unless -e $demo;

###########################################################################
# demo.conf for real

my ($prefix, $name, $map) = prefix_for($demo, 'demo');
my $https = $map->{8443} // die "demo.conf: no listen 8443\n";
my $media = $map->{10000} // die "demo.conf: no listen 10000\n";

my $pid = fork() // die "fork: $!";
if ($pid == 0) {
	open STDIN, '<', '/dev/null';
	open STDOUT, '>>', "$prefix/logs/stderr.log";
	open STDERR, '>&', \*STDOUT;
	%ENV = (%ENV, sanitizer_env($prefix));
	{ exec $NGINX, '-p', "$prefix/", '-c', "conf/$name",
		'-e', 'logs/error.log', '-g', 'daemon off;'; }
	POSIX::_exit(127);
}

my ($up, $end) = (0, time() + 10);
while (time() < $end) {
	last if waitpid($pid, WNOHANG) == $pid;
	my $s = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $https,
		Proto => 'tcp', Timeout => 1);
	if ($s && -s "$prefix/logs/nginx.pid") {
		close $s;
		$up = 1;
		last;
	}
	sleep 0.05;
}

sub status_from {
	my ($local) = @_;
	require IO::Socket::SSL;
	my $s = IO::Socket::SSL->new(PeerHost => '127.0.0.1', PeerPort => $https,
		LocalAddr => $local, Timeout => 5,
		SSL_verify_mode => IO::Socket::SSL::SSL_VERIFY_NONE(),
		SSL_hostname => 'localhost') or return 'no connection';
	print $s "GET /webrtc/status HTTP/1.1\r\nHost: localhost\r\n"
		. "Connection: close\r\n\r\n";
	my $reply = join '', <$s>;
	close $s;
	return $reply =~ m{^HTTP/1\.1 (\d+)} ? $1 : 'no response';
}

sub stop_demo {
	for my $sig ([QUIT => 10], [TERM => 5], [KILL => 5]) {
		return if waitpid($pid, WNOHANG) != 0;
		kill $sig->[0], $pid;
		my $until = time() + $sig->[1];
		while (time() < $until) {
			return if waitpid($pid, WNOHANG) != 0;
			sleep 0.05;
		}
	}
}

END { local $?; stop_demo() if $pid && $$ != $pid; }

ok($up, 'demo.conf: nginx starts') or diag(`tail -20 $prefix/logs/error.log`);

my $offer = $t->read_file("$FindBin::Bin/sdp/chromium-publish-vp8.sdp");
my $play = $t->read_file("$FindBin::Bin/sdp/chromium-play.sdp");

my $r = http_req(POST => '/whip/test', SSL => 1, port => $https,
	body => $offer, headers => { 'Content-Type' => 'application/sdp' });
is($r->{status}, 201, 'demo.conf: WHIP POST over HTTPS: 201');
like($r->{body} // '', qr/^a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 $media typ host\r$/m,
	'demo.conf: the answer names the media port');

$r = http_req(POST => '/whep/test', SSL => 1, port => $https,
	body => $play, headers => { 'Content-Type' => 'application/sdp' });
is($r->{status}, 201, 'demo.conf: WHEP POST over HTTPS: 201');

# the status location answers this machine only: 127.0.0.2 is another
# address on loopback, as a remote client would be
$r = http_req(GET => '/webrtc/status', SSL => 1, port => $https);
ok($r->{status} == 200 && ($r->{body} // '') =~ /"name":"test"/,
	'demo.conf: the status location from 127.0.0.1: 200');
is(status_from('127.0.0.2'), 403,
	'demo.conf: the status location from another address: 403');

SKIP: {
	skip 'no html/index.html', 1 unless -e "$REPO/html/index.html";
	is(http_req(GET => '/index.html', SSL => 1, port => $https)->{status},
		200, 'demo.conf: pages from html/');
}

$r = http_req(DELETE => "/whep/test/00000000000000000000000000000000",
	SSL => 1, port => $https);
is($r->{status}, 404, 'demo.conf: unknown session: 404');

stop_demo();

my @alerts = grep { /\[(alert|emerg|crit)\]|exited on signal/ }
	split /\n/, (-e "$prefix/logs/error.log"
		? $t->read_file("$prefix/logs/error.log") : '');
push @alerts, sanitizer_reports($prefix);
is_deeply(\@alerts, [], 'demo.conf: no alerts');
