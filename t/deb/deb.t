#!/usr/bin/perl

# The Debian package of make deb: its control data and files (dpkg-deb),
# lintian, then the real install next to the distribution's nginx with
# apt-get: the module enabled in /etc/nginx/modules-enabled after the stream
# module, "nginx -t" of the host's own nginx.conf, an nginx in the
# foreground on a scratch prefix whose main context includes
# modules-enabled/*.conf as Debian's nginx.conf does, with the package's
# example snippets (http and stream), answering a WHIP offer 201 and the
# session's ICE check on the media port, and the pages from
# /usr/share/nginx-webrtc/html; then apt-get purge, which must leave the
# machine as it was found (also when a test fails or dies).
#
# Not part of "prove t/": the install changes /etc/nginx/modules-enabled
# for a few seconds, which tests running beside it may read (t/015 copies
# /etc/nginx); make test runs it on its own, once, after the t/ suite.
# TEST_NGINX_DEB names the package; without it the test builds one with
# make deb into a temporary directory.  Needs root (or sudo -n).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Cwd qw/abs_path/;
use File::Temp qw/tempdir/;
use IO::Socket::IP;
use Test::More;
use Test::Nginx qw/http_req port run_cmd sdp/;
use Test::Nginx::STUN qw/stun_check stun_exchange stun_parse/;

my $REPO = abs_path("$FindBin::Bin/../..");
my $PKG = 'libnginx-mod-http-webrtc';
my $NGINX = '/usr/sbin/nginx';
my $ENABLED = '/etc/nginx/modules-enabled/70-mod-http-webrtc.conf';
my $AVAILABLE = '/usr/share/nginx/modules-available/mod-http-webrtc.conf';
my $SO = '/usr/lib/nginx/modules/ngx_http_webrtc_module.so';
my $EXAMPLES = "/usr/share/doc/$PKG/examples";
my $HTML = '/usr/share/nginx-webrtc/html';

# lintian warnings accepted, each with the reason (errors never are)
my %ACCEPTED = (
);

plan(skip_all => 'the package is tested once, without sanitizers')
	if $ENV{TEST_NGINX_PRELOAD};

my @SUDO = $> == 0 ? () : ('sudo', '-n');
plan(skip_all => 'installing a package needs root or sudo -n')
	if @SUDO && system('sudo -n true >/dev/null 2>&1') != 0;

sub installed {
	my ($rc, $out) = run_cmd('dpkg-query', '-W', '-f=${Status}', $PKG);
	return $out =~ /install ok installed/;
}

plan(skip_all => "$PKG is installed here: the test would remove it")
	if installed();

plan(tests => 36);

###########################################################################
# the package

my $deb = $ENV{TEST_NGINX_DEB};
if (!$deb) {
	my $build = tempdir('deb-XXXXXXXXXX', TMPDIR => 1, CLEANUP => 1);
	my ($rc, $out) = _run(600, 'make', '-s', '-C', $REPO,
		"BUILD=$build", 'deb');
	($deb) = glob "$build/${PKG}_*.deb";
	BAIL_OUT("make deb failed:\n$out") if $rc || !$deb;
}
$deb = abs_path($deb);
ok(-f $deb, "package $deb");

my %f = map { $_ => field($_) } qw/Package Version Architecture Depends/;
is($f{Package}, $PKG, 'Package');
like($f{Version}, qr/^\d[\w.+~]*$/, 'Version');

# the ABI that Debian's nginx-dev names and the installed nginx provides
my ($abi) = slurp('/usr/share/nginx/src/debian/libnginx-mod.abisubstvars')
	=~ /^nginx:abi=(\S+)/m;
my (undef, $provides) = run_cmd('dpkg-query', '-W', '-f=${Provides}',
	'nginx');
my @dep = split /\s*,\s*/, $f{Depends};
ok(defined $abi && (grep { $_ eq $abi } @dep), "Depends on $abi")
	or diag("Depends: $f{Depends}");
like($provides, qr/(^|,\s*)\Q$abi\E(,|$)/, "the installed nginx provides it");
ok((grep { $_ eq 'libnginx-mod-stream' } @dep),
	'Depends on libnginx-mod-stream');
is(scalar(grep { /^(libssl3|libsrtp2-1|libnice10) \(>= [^)]+\)$/ } @dep), 3,
	'Depends on libssl3, libsrtp2-1, libnice10 (shlibs)');

my (undef, $list) = run_cmd('dpkg-deb', '-c', $deb);
my %files = map { m{^\S+\s+\S+\s+\d+\s+\S+\s+\S+\s+\.(/\S*?)/?(?: -> |$)}
	? ($1 => 1) : () } split /\n/, $list;
my @want = ($SO, $AVAILABLE, map({ "$HTML/$_" } qw/publish.html watch.html
	webrtc.js/), "$EXAMPLES/webrtc-http.conf", "$EXAMPLES/webrtc-stream.conf",
	"/usr/share/doc/$PKG/copyright", "/usr/share/doc/$PKG/changelog.gz");
my @missing = grep { !$files{$_} } @want;
ok(!@missing, 'module, load file, pages, examples, copyright, changelog')
	or diag("missing: @missing\n$list");
ok(!(grep { m{^/etc/nginx/} } keys %files),
	'nothing shipped in /etc/nginx (the link is made by postinst)');

my $ctl = tempdir('deb-ctl-XXXXXXXXXX', TMPDIR => 1, CLEANUP => 1);
my $root = tempdir('deb-root-XXXXXXXXXX', TMPDIR => 1, CLEANUP => 1);
run_cmd('dpkg-deb', '-e', $deb, $ctl);
run_cmd('dpkg-deb', '-x', $deb, $root);
my $postinst = slurp("$ctl/postinst");
ok($postinst =~ /\bmod-http-webrtc\.conf:70-mod-http-webrtc\.conf\b/
	&& $postinst =~ m{ln -sf /usr/share/nginx/modules-available/},
	'postinst links the load file in as 70-mod-http-webrtc.conf');
is(slurp("$root$AVAILABLE"),
	"load_module modules/ngx_http_webrtc_module.so;\n",
	'the load file loads the module (after 50-mod-stream.conf)');
is(signature("$root$SO"), signature($NGINX),
	'the module is binary compatible with the packaged nginx');

my ($lrc, $lint) = _run(300, 'lintian', $deb);
my (@errors, @warnings);
for (grep { /^[EW]: / } split /\n/, $lint) {
	my ($tag) = /^.: \S+: (\S+)/;
	if (/^E/) {
		push @errors, $_;
	} elsif (!$tag || !$ACCEPTED{$tag}) {
		push @warnings, $_;
	}
}
ok(!@errors && $lrc == 0, 'lintian: no errors')
	or diag($lint);
ok(!@warnings, 'lintian: no warnings but the accepted ones')
	or diag($lint);

###########################################################################
# the real install, undone at the end whatever happens

my ($host_t) = run_cmd(@SUDO, $NGINX, '-t', '-q');

my $t;
my $installing = 1;
END { purge() if $installing }
$SIG{$_} = sub { die "signal $_[0]\n" } for qw/INT TERM HUP/;

my ($irc, $iout) = apt('install', $deb);
is($irc, 0, 'apt-get install ./package') or diag($iout);
ok(installed(), 'installed');
is(readlink($ENABLED), $AVAILABLE,
	'enabled: modules-enabled/70-mod-http-webrtc.conf links the load file');
ok(-f $SO && -f "$HTML/publish.html", 'module and pages installed');

SKIP: {
	skip "the host's nginx.conf failed nginx -t already before", 1
		if $host_t;
	my ($rc, $out) = run_cmd(@SUDO, $NGINX, '-t');
	is($rc, 0, "nginx -t of the host's nginx.conf with the module")
		or diag($out);
}

# a scratch prefix: modules/ as in Debian's prefix (the load files name
# modules/...), the package's example snippets with this test's ports,
# certificate and log, the stream {} at the top level

$t = Test::Nginx->new(no_module => 1);
my $d = $t->testdir();
$t->write_cert('localhost');
symlink('/usr/lib/nginx/modules', "$d/modules") or die "symlink: $!";

my $HTTP = port(8080);
my $MEDIA = port(8980, udp => 1);

my $http = slurp("$EXAMPLES/webrtc-http.conf");
my $stream = slurp("$EXAMPLES/webrtc-stream.conf");
my @edits = (
	[\$http, qr/^(\s*listen\s+)443 ssl http2;/m, "127.0.0.1:$HTTP ssl http2;"],
	[\$http, qr/^(\s*ssl_certificate\s+)\S+;/m, "$d/localhost.crt;"],
	[\$http, qr/^(\s*ssl_certificate_key\s+)\S+;/m, "$d/localhost.key;"],
	[\$http, qr/^(\s*error_log\s+)\S+(\s+info;)/m, "$d/webrtc.log", 1],
	[\$http, qr/^(\s*webrtc_candidate\s+)\S+;/m, "127.0.0.1:$MEDIA;"],
	[\$stream, qr/^(\s*listen\s+)10000 (udp reuseport;)/m,
		"127.0.0.1:$MEDIA ", 1],
);
my $edited = 0;
for my $e (@edits) {
	my ($text, $re, $new, $keep) = @$e;
	$edited++ if $$text =~ s/$re/$1$new${\($keep ? $2 : '')}/;
}
is($edited, scalar @edits, 'example snippets have the lines to adapt');
$t->write_file('conf.d/webrtc.conf', $http);
$t->write_file('webrtc-stream.conf', $stream);

$t->write_file_expand('nginx.conf', <<'EOF');
# as Debian's /etc/nginx/nginx.conf
include /etc/nginx/modules-enabled/*.conf;

worker_processes 2;
pid %%TESTDIR%%/nginx.pid;
error_log %%TESTDIR%%/error.log info;

events {}

http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    %%TEST_GLOBALS_HTTP%%

    include %%TESTDIR%%/conf.d/*.conf;
}

include %%TESTDIR%%/webrtc-stream.conf;
EOF

my ($trc, $tout) = run_cmd($NGINX, '-t', '-p', "$d/", '-c', "$d/nginx.conf",
	'-e', "$d/nginx-t.log");
is($trc, 0, 'nginx -t: modules-enabled and the example snippets')
	or diag($tout);

$t->run();

my $offer = sdp('chromium-publish-vp8');
my $r = http_req(POST => '/whip/deb', port => $HTTP, SSL => 1,
	body => $offer, headers => { 'Content-Type' => 'application/sdp' });
is($r->{status}, 201, 'WHIP offer: 201');
like($r->{headers}{location} // '', qr{^/whip/deb/\S+}, 'session Location');
like($r->{body} // '', qr/^a=candidate:.* 127\.0\.0\.1 $MEDIA typ host/m,
	'answer names the example stream server');

# the session's ICE check on the stream server of webrtc-stream.conf
my ($cufrag) = $offer =~ /a=ice-ufrag:(\S+)/;
my ($sufrag) = ($r->{body} // '') =~ /a=ice-ufrag:(\S+)/;
my ($spwd) = ($r->{body} // '') =~ /a=ice-pwd:(\S+)/;
my $udp = IO::Socket::IP->new(Proto => 'udp', PeerHost => '127.0.0.1',
	PeerPort => $MEDIA, LocalHost => '127.0.0.1') or die "udp: $!";
my $reply = defined $spwd ? stun_exchange($udp,
	(stun_check(username => "$sufrag:$cufrag", key => $spwd))[0]) : undef;
is((stun_parse($reply // ''))[0], 0x0101,
	'ICE check answered on the media port');

my $del = http_req(DELETE => $r->{headers}{location} // '/whip/deb/x',
	port => $HTTP, SSL => 1);
is($del->{status}, 200, 'DELETE the session');

my $page = http_req(GET => '/publish.html', port => $HTTP, SSL => 1);
is($page->{status}, 200, "publish.html from $HTML");
my $js = http_req(GET => '/webrtc.js', port => $HTTP, SSL => 1);
like($js->{headers}{'content-type'} // '', qr{^application/javascript},
	'webrtc.js served as JavaScript');

SKIP: {
	skip 'no config.js in this package', 2 unless $files{"$HTML/config.js"};
	is(readlink("$HTML/config.js"), '/etc/nginx-webrtc/config.js',
		'config.js: a link to the configuration file in /etc');
	my $cfg = http_req(GET => '/config.js', port => $HTTP, SSL => 1);
	is($cfg->{status}, 200, 'config.js served through the link');
}

$t->stop();

###########################################################################
# purge: the machine as it was found

my ($prc, $pout) = purge();
is($prc, 0, 'apt-get purge') or diag($pout);
ok(!installed(), 'not installed');
ok(!-e $ENABLED && !-l $ENABLED && !-l "$ENABLED.removed",
	'no link left in modules-enabled');
ok(!-e $SO && !-e $HTML && !-e '/etc/nginx-webrtc', 'no file left');
SKIP: {
	skip "the host's nginx.conf failed nginx -t already before", 1
		if $host_t;
	my ($rc, $out) = run_cmd(@SUDO, $NGINX, '-t');
	is($rc, 0, "nginx -t of the host's nginx.conf after the purge")
		or diag($out);
}

###########################################################################
# helpers

sub purge {
	$installing = 0;
	return (0, '') unless installed();
	$t->stop() if $t && $t->master_pid();
	return apt('purge', $PKG);
}

sub apt {
	my ($cmd, $what) = @_;
	local $ENV{DEBIAN_FRONTEND} = 'noninteractive';
	return _run(300, @SUDO, 'apt-get', '-y', '-q', '--no-install-recommends',
		'-o', 'DPkg::Lock::Timeout=120', $cmd, $what);
}

# runs a command for at most $secs seconds: (exit status, output)
sub _run {
	my ($secs, @cmd) = @_;
	return Test::Nginx::_capture($secs, undef, @cmd);
}

sub field {
	my (undef, $v) = run_cmd('dpkg-deb', '-f', $deb, $_[0]);
	chomp $v;
	return $v;
}

sub slurp {
	open my $fh, '<', $_[0] or return '';
	local $/;
	return <$fh> // '';
}

sub signature {
	my (undef, $out) = run_cmd('strings', $_[0]);
	my ($sig) = $out =~ /^(\d,\d,\d,[01]{34})$/m;
	return $sig // "no signature in $_[0]";
}
