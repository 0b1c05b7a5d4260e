#!/usr/bin/perl

# The README's configuration runs as written (issue 15).  The blocks marked
# "<!-- t/015-readme.t: ... -->" in README.md are taken from it: the quick
# start's steps are run (mkdir, cp, openssl: the certificate is the one its
# own command makes), its nginx.conf is started with only the ports, the
# directory /srv/webrtc and the module's path changed, and a publisher and
# viewers carry media through it (tools/webrtc-load over HTTPS, checking
# the README's certificate); the pages come with the right Content-Type,
# the WebSocket upgrades, the status location answers loopback only, and
# the module's lines are in the error log at info.  Then Debian's layout:
# the README's steps in a copy of this machine's /etc/nginx, its server {}
# in sites-available and its stream {} at the end of nginx.conf, run and
# carrying media; and the two mistakes the README warns of fail as it
# says.  Every nginx block of the README is either run here or marked as a
# fragment.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Cwd qw/abs_path/;
use File::Path qw/make_path/;
use IO::Socket::IP;
use IO::Socket::SSL;
use POSIX qw/WNOHANG/;
use Test::More;
use Test::Nginx qw/port run_cmd sanitizer_env sanitizer_reports/;
use Test::Nginx::Load qw/tool spawn_tool publisher_up finish run_tool
	summary decode slurp/;
use Time::HiRes qw/sleep time/;

plan(skip_all => 'tools/webrtc-load is not built (make tools)')
	unless -x tool();

my $REPO = abs_path("$FindBin::Bin/..");
my $NGINX = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
my $MODULE = Test::Nginx::module_path();
my $SRV = '/srv/webrtc';

my $t = Test::Nginx->new()->has(qw/http stream http_ssl http_v2/)->plan(32);
my $d = $t->testdir();

###########################################################################
# the README's fenced blocks: { lang, marker, text, line }

my $readme = slurp("$REPO/README.md");
my @blocks;
{
	my ($cur, $marker, $n) = (undef, undef, 0);
	for my $line (split /\n/, $readme) {
		$n++;
		if ($cur) {
			if ($line =~ /^\s*```\s*$/) {
				push @blocks, $cur;
				$cur = undef;
			} else {
				$cur->{text} .= "$line\n";
			}
			next;
		}
		if ($line =~ /^\s*```(\w*)/) {
			$cur = { lang => $1, marker => $marker, text => '',
				line => $n };
			next;
		}
		$marker = $1 if $line =~ /^\s*<!--\s*(.*?)\s*-->\s*$/;
		$marker = undef if $line =~ /\S/ && $line !~ /^\s*<!--/;
	}
}

sub block {
	my ($name) = @_;
	my ($b) = grep { ($_->{marker} // '') eq "t/015-readme.t: $name" }
		@blocks;
	return $b ? $b->{text} : '';
}

my @unmarked = map { "README.md:$_->{line}" }
	grep { !defined $_->{marker}
		|| $_->{marker} !~ /^(t\/015-readme\.t: .+|fragment.*)$/ }
	grep { $_->{lang} eq 'nginx' } @blocks;

is_deeply(\@unmarked, [], 'every nginx block of the README is run here '
	. 'or marked "<!-- fragment -->"');

# a block marked "fragment of FILE": its lines are FILE's (comments and
# spaces aside)

my ($of, @missing) = (0);

for my $b (grep { ($_->{marker} // '') =~ /^fragment of \S+$/ } @blocks) {
	my ($file) = $b->{marker} =~ /^fragment of (\S+)$/;
	my %have = map { $_ => 1 } conf_lines(slurp("$REPO/$file"));
	push @missing, map { "README.md:$b->{line}: $_" }
		grep { !$have{$_} } conf_lines($b->{text});
	$of++;
}

is_deeply(\@missing, [], "$of blocks marked \"fragment of FILE\": "
	. 'their lines are in FILE');

sub conf_lines {
	my ($text) = @_;
	return grep { $_ ne '' } map { s/#.*//; s/\s+/ /g; s/^ | $//g; $_ }
		split /\n/, $text;
}

my $steps = block('quick-start steps');
my $conf = block('quick-start nginx.conf');
my $debian = block('debian steps');

ok($steps && $conf && $debian, 'the quick start\'s steps and nginx.conf, '
	. 'and the Debian steps, are in the README')
	or BAIL_OUT('README.md: marked blocks missing');

###########################################################################
# helpers

# shell commands of a block: continuation lines joined, "sudo " dropped;
# comments as { comment }
sub commands {
	my ($text) = @_;
	$text =~ s/\\\n\s*/ /g;
	my @c;
	for (split /\n/, $text) {
		next unless /\S/;
		if (/^\s*#\s*(.*)$/) {
			push @c, { comment => $1 };
			next;
		}
		s/\s+#.*$//;
		s/^\s+//;
		s/(^|\|\s*|&&\s*)sudo\s+/$1/g;
		push @c, { cmd => $_ };
	}
	return @c;
}

# ports of listen directives (and of webrtc_candidate naming them) moved
# to free ones; returns the text and the map
my $next_port = 8600;

sub move_ports {
	my ($text, $map) = @_;
	(my $plain = $text) =~ s/#[^\n]*//g;
	while ($plain =~ /^\s*listen\s+(?:\S*:)?(\d+)\b/mg) {
		$map->{$1} //= port($next_port++);
	}
	$text =~ s/^(\s*listen\s+(?:\S*:)?)(\d+)\b/$1 . ($map->{$2} \/\/ $2)/mge;
	$text =~ s/^(\s*webrtc_candidate\s+\S*:)(\d+)\b/$1 . ($map->{$2} \/\/ $2)/mge;
	return $text;
}

# the "$name { ... }" block of nginx.conf text, the first one
sub conf_block {
	my ($text, $name) = @_;
	$text =~ /^[ \t]*\Q$name\E \{/mg or return '';
	my $at = $-[0];
	my ($depth, $i) = (0, $at);
	for (; $i < length $text; $i++) {
		my $ch = substr $text, $i, 1;
		$depth++ if $ch eq '{';
		last if $ch eq '}' && --$depth == 0;
	}
	return substr($text, $at, $i + 1 - $at) . "\n";
}

# nginx -t with a configuration file: (exit code, output)
sub nginx_t {
	my ($file) = @_;
	my %env = sanitizer_env($d);
	local @ENV{keys %env} = values %env;
	return run_cmd($NGINX, '-t', '-c', $file);
}

# nginx in the foreground with a configuration file, until its TCP port
# answers; its stderr in $stderr; returns its pid, or undef
sub start {
	my ($file, $port, $stderr) = @_;
	my $pid = fork() // die "fork: $!";
	if ($pid == 0) {
		open STDIN, '<', '/dev/null';
		open STDOUT, '>>', $stderr;
		open STDERR, '>&', \*STDOUT;
		%ENV = (%ENV, sanitizer_env($d));
		{ exec $NGINX, '-c', $file, '-g', 'daemon off;'; }
		POSIX::_exit(127);
	}
	my $end = time() + 10;
	while (time() < $end) {
		return undef if waitpid($pid, WNOHANG) == $pid;
		my $s = IO::Socket::IP->new(PeerHost => '127.0.0.1',
			PeerPort => $port, Proto => 'tcp', Timeout => 1);
		if ($s) {
			close $s;
			return $pid;
		}
		sleep 0.05;
	}
	stop($pid);
	return undef;
}

my %running;

sub stop {
	my ($pid) = @_;
	delete $running{$pid};
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

END { local $?; stop($_) for keys %running; }

# an HTTPS request from a loopback address: the response head and body
# (read until the head for a 101)
sub https {
	my ($port, $req, %o) = @_;
	my $s = IO::Socket::SSL->new(PeerHost => '127.0.0.1', PeerPort => $port,
		LocalAddr => $o{from} // '127.0.0.1', Timeout => 5,
		SSL_verify_mode => SSL_VERIFY_NONE, SSL_hostname => 'localhost')
		or return {};
	local $SIG{PIPE} = 'IGNORE';
	print $s $req;
	my ($raw, $end) = ('', time() + 5);
	while (time() < $end) {
		my $n = sysread($s, my $buf, 65536);
		last unless $n;
		$raw .= $buf;
		last if $o{head} && $raw =~ /\r\n\r\n/;
	}
	close $s;
	return Test::Nginx::parse_response($raw);
}

sub get {
	my ($port, $uri, %o) = @_;
	return https($port, "GET $uri HTTP/1.1\r\nHost: localhost:$port\r\n"
		. "Connection: close\r\n\r\n", %o);
}

# a publisher for $secs and viewers through an HTTPS server: the viewers'
# summary and the publisher's exit status
sub media {
	my ($port, $name, $viewers, $secs, @tls) = @_;
	my $base = "https://127.0.0.1:$port";
	my $t0 = time();
	my $pub = spawn_tool($d, "pub-$name", '--whip', "$base/whip/$name",
		'--duration', $secs + 4, '--bitrate', '500k', '--fps', '20',
		'--gop', '1s', '--http-timeout', '3', @tls);
	my $up = publisher_up($d, "pub-$name");
	my @out = $up ? run_tool($d, $secs + 10, undef, '--whep',
		"$base/whep/$name", '--viewers', $viewers, '--duration', $secs,
		'--http-timeout', '3', '--json', @tls) : ();
	my $status = finish($pub, $t0 + $secs + 15 - time());
	return (summary(@out), $status, join '', @out);
}

###########################################################################
# the quick start: its steps, with /srv/webrtc in the test directory

my $srv = "$d/srv/webrtc";
my (%qmap, @ran, @unknown);
my $nginx_conf = "$SRV/nginx.conf";
my ($install_dir, $t_cmd, $run_cmd);

(my $qconf = move_ports($conf, \%qmap)) =~ s/\Q$SRV\E/$srv/g;
my ($module_line) = $conf =~ /^\s*load_module\s+(\S*ngx_http_webrtc_module\.so);/m;
$qconf =~ s/^(\s*load_module\s+)\S*ngx_http_webrtc_module\.so;/$1$MODULE;/m;

for my $c (commands($steps)) {
	if ($c->{comment}) {
		# the one step the test does itself
		if ($c->{comment} =~ /^write \Q$nginx_conf\E/) {
			$t->write_file("$srv/nginx.conf", $qconf);
			push @ran, 'nginx.conf';
		}
		next;
	}
	my $cmd = $c->{cmd};
	if ($cmd =~ m{^install .*build/ngx_http_webrtc_module\.so (\S+)$}) {
		$install_dir = $1;
	} elsif ($cmd =~ /^nginx -t -c \Q$nginx_conf\E$/) {
		$t_cmd = 1;
	} elsif ($cmd =~ /^nginx -c \Q$nginx_conf\E$/) {
		$run_cmd = 1;
	} elsif ($cmd =~ /^(mkdir|cp|openssl) /) {
		my $what = $1;
		(my $sh = $cmd) =~ s/\Q$SRV\E/$srv/g;
		my ($rc, $out) = run_cmd('/bin/sh', '-c', "cd '$REPO' && $sh");
		diag("$cmd: $out") if $rc;
		push @ran, $what . ($rc ? ' failed' : '');
	} else {
		push @unknown, $cmd;
	}
}

is_deeply([ \@unknown, $install_dir // '', $t_cmd, $run_cmd ],
	[ [], '/usr/lib/nginx/modules/', 1, 1 ],
	'quick start: the steps install the module, test and run nginx');
is(($module_line // '') =~ m{^\Q$install_dir\E[^/]+$} ? 1 : 0, 1,
	"quick start: load_module names the installed file ($module_line)");
is(join(' ', @ran), 'mkdir cp openssl nginx.conf',
	'quick start: mkdir, cp, openssl, then nginx.conf');
ok(-s "$srv/cert.pem" && -s "$srv/key.pem" && -s "$srv/html/publish.html",
	'quick start: the certificate and the pages are in place');

my ($rc, $out) = nginx_t("$srv/nginx.conf");
is($rc, 0, 'quick start: nginx -t') or diag($out);

my $https = $qmap{443} // 0;
my $udp = $qmap{10000} // 0;
ok($https && $udp, 'quick start: listens on 443 and UDP 10000');

my $pid = start("$srv/nginx.conf", $https, "$d/quick.stderr");
$running{$pid} = 1 if $pid;
ok($pid, 'quick start: nginx runs')
	or diag(slurp("$d/quick.stderr"), slurp("$srv/logs/error.log"));

SKIP: {
skip 'nginx did not start', 11 unless $pid;

# the pages, with their types (a module script as text/plain is refused)

my $r = get($https, '/publish.html');
is_deeply([ $r->{status}, $r->{headers}{'content-type'} ],
	[ 200, 'text/html' ], 'quick start: publish.html, text/html');
$r = get($https, '/publish.js');
is_deeply([ $r->{status}, $r->{headers}{'content-type'} ],
	[ 200, 'application/javascript' ],
	'quick start: publish.js, application/javascript');
$r = get($https, '/webrtc.js');
is_deeply([ $r->{status}, $r->{headers}{'content-type'} ],
	[ 200, 'application/javascript' ],
	'quick start: webrtc.js, application/javascript');

# the WebSocket, as the pages open it

$r = https($https, "GET /ws HTTP/1.1\r\nHost: localhost:$https\r\n"
	. "Origin: https://localhost:$https\r\nUpgrade: websocket\r\n"
	. "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
	. "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", head => 1);
is($r->{status}, 101, 'quick start: /ws upgrades');

# media, with the README's certificate verified

my ($sum, $pst, $lines) = media($https, 'readme', 2, 4,
	'--cacert', "$srv/cert.pem");
is_deeply([ $sum->{connected}, $sum->{failed} ], [ 2, 0 ],
	'quick start: 2 viewers connected') or diag($lines);
ok(($sum->{min_rtp_per_viewer} // 0) > 30
	&& defined $sum->{decrypt_errors} && $sum->{decrypt_errors} == 0,
	'quick start: media played, ' . ($sum->{min_rtp_per_viewer} // 0)
	. ' packets to each viewer');
is($pst, 0, 'quick start: the publisher ran and exited')
	or diag(slurp("$d/pub-readme.log"));

# the status location: this host only (127.0.0.2 is another address)

$r = get($https, '/webrtc/status');
my $st = decode($r->{body} // '') // {};
is_deeply([ $r->{status}, ref $st->{workers} ], [ 200, 'ARRAY' ],
	'quick start: status from 127.0.0.1');
is(get($https, '/webrtc/status', from => '127.0.0.2')->{status}, 403,
	'quick start: status refused to 127.0.0.2');

# the module's own lines are in the log: the level is info

my @info = grep { /\[info\].* webrtc .*session \w+ closed/ }
	split /\n/, slurp("$srv/logs/error.log");
cmp_ok(scalar @info, '>=', 2, 'quick start: the sessions\' lines at info');

stop($pid);

my @bad = grep { /\[(alert|emerg|crit)\]|exited on signal/ }
	split /\n/, slurp("$srv/logs/error.log");
push @bad, sanitizer_reports($d);
is_deeply(\@bad, [], 'quick start: no alerts');
}

###########################################################################
# in Debian's /etc/nginx: a copy of this machine's, the README's steps

SKIP: {
skip 'no Debian /etc/nginx here', 11
	unless -r '/etc/nginx/nginx.conf'
	&& slurp('/etc/nginx/nginx.conf')
		=~ m{^include /etc/nginx/modules-enabled/\*\.conf;}m
	&& -e '/etc/nginx/modules-enabled/50-mod-stream.conf';

my $etc = "$d/etc/nginx";
make_path("$d/etc", "$d/log");
($rc, $out) = run_cmd('cp', '-a', '/etc/nginx', "$d/etc/");
is($rc, 0, 'Debian: a copy of /etc/nginx') or diag($out);

# its default site (port 80) left out
unlink glob "$etc/sites-enabled/*";

# and as before this module: a package of it installed here is left out
unlink grep { slurp($_) =~ /webrtc/ }
	glob("$etc/modules-enabled/*"), glob("$etc/conf.d/*");

my (%dmap, @dunknown, $reload);
my $dconf = move_ports($conf, \%dmap);
$dconf =~ s/\Q$SRV\E/$srv/g;
@ran = ();

for my $c (commands($debian)) {
	if ($c->{comment}) {
		my ($what, $end, $file) = $c->{comment} =~
			m!^the (\w+) \{\} block of the file above: (at the end of )?(/\S+)$!
			or next;
		$file =~ s{^/etc/nginx/}{$etc/};
		my $b = conf_block($dconf, $what);
		$t->write_file($file, ($end ? slurp($file) . "\n" : '') . $b);
		push @ran, $what;
		next;
	}
	my $cmd = $c->{cmd};
	if ($cmd =~ m{^install .*build/ngx_http_webrtc_module\.so /usr/lib/nginx/modules/$}) {
		next;
	} elsif ($cmd =~ /^nginx -t && systemctl reload nginx$/) {
		$reload = 1;
	} elsif ($cmd =~ /^(echo|ln|sed) /) {
		my $what = $1;
		(my $sh = $cmd) =~ s{/etc/nginx/}{$etc/}g;
		$sh =~ s{/usr/lib/nginx/modules/ngx_http_webrtc_module\.so}{$MODULE}g;
		my ($rc, $out) = run_cmd('/bin/sh', '-c', "cd '$d' && $sh");
		diag("$cmd: $out") if $rc;
		push @ran, $what . ($rc ? ' failed' : '');
	} else {
		push @dunknown, $cmd;
	}
}

is_deeply([ \@dunknown, join(' ', @ran), $reload ],
	[ [], 'echo server ln stream sed', 1 ],
	'Debian: module in modules-enabled, server in sites-available, '
	. 'linked, stream in nginx.conf, error_log info, nginx -t and reload');

# then Debian's own paths in the file moved here; nginx's temporary files
# too (/var/lib/nginx, compiled in, need not be writable by this test)
my $main = slurp("$etc/nginx.conf");
$main =~ s{/etc/nginx/}{$etc/}g;
$main =~ s{/run/nginx\.pid}{$d/debian.pid}g;
$main =~ s{/var/log/nginx/}{$d/log/}g;
my $temp = join '', map { "\t${_}_temp_path $d/temp-$_;\n" }
	qw/client_body proxy fastcgi uwsgi scgi/;
$main =~ s/^http \{\n/http {\n$temp/m;
$t->write_file("$etc/nginx.conf", $main);

($rc, $out) = nginx_t("$etc/nginx.conf");
is($rc, 0, 'Debian: nginx -t') or diag($out);

my $dhttps = $dmap{443} // 0;
my $dpid = start("$etc/nginx.conf", $dhttps, "$d/debian.stderr");
$running{$dpid} = 1 if $dpid;
ok($dpid, 'Debian: nginx runs')
	or diag(slurp("$d/debian.stderr"), slurp("$d/log/error.log"));

SKIP: {
skip 'nginx did not start', 5 unless $dpid;

my $r = get($dhttps, '/webrtc.js');
is_deeply([ $r->{status}, $r->{headers}{'content-type'} ],
	[ 200, 'application/javascript' ],
	'Debian: webrtc.js, application/javascript');

my ($sum, $pst, $lines) = media($dhttps, 'debian', 1, 3, '--insecure');
is_deeply([ $sum->{connected}, $sum->{failed} ], [ 1, 0 ],
	'Debian: a viewer connected') or diag($lines);
ok(($sum->{min_rtp_per_viewer} // 0) > 20 && ($pst // -1) == 0,
	'Debian: media played, ' . ($sum->{min_rtp_per_viewer} // 0)
	. ' packets');

my @info = grep { /\[info\].* webrtc .*session \w+ closed/ }
	split /\n/, slurp("$d/log/error.log");
cmp_ok(scalar @info, '>=', 1, 'Debian: the sessions\' lines at info');

stop($dpid);

my @bad = grep { /\[(alert|emerg|crit)\]|exited on signal/ }
	split /\n/, slurp("$d/log/error.log");
push @bad, sanitizer_reports($d);
is_deeply(\@bad, [], 'Debian: no alerts');
}

# what the README warns of: the stream module loaded twice, and stream {}
# in conf.d/ (inside http {})

my ($mod) = $debian =~ m{tee /etc/nginx/(modules-enabled/\S+\.conf)};
$mod = "$etc/" . ($mod // 'modules-enabled/none.conf');
my $enabled = slurp($mod);
$t->write_file($mod, ($conf =~ /^(load_module \S+ngx_stream_module\.so;)/m)[0]
	. "\n" . $enabled);
($rc, $out) = nginx_t("$etc/nginx.conf");
like($out, qr/"ngx_stream_module" is already loaded/,
	'Debian: the stream module loaded again fails as the README says');
$t->write_file($mod, $enabled);

my $stream = conf_block($dconf, 'stream');
$main = slurp("$etc/nginx.conf");
$main =~ s/\Q$stream\E//;
$t->write_file("$etc/nginx.conf", $main);
$t->write_file("$etc/conf.d/webrtc-stream.conf", $stream);
($rc, $out) = nginx_t("$etc/nginx.conf");
like($out, qr/"stream" directive is not allowed here/,
	'Debian: stream {} in conf.d fails as the README says');
}

###########################################################################
