package E2E;

# Shared Perl side of the end-to-end tests t/1NN-e2e-*.t: an nginx with an
# HTTPS server (self-signed certificate, a static page, WHIP and WHEP
# locations) and a stream server with webrtc, 2 workers, all on 127.0.0.1;
# and a runner for the scenario scripts t/e2e/<name>.js (Chromium, and
# Firefox for scenarios that ask for it: start(firefox => 1)).
#
#   use lib "$FindBin::Bin/e2e/lib";
#   use E2E;
#   my $t = E2E::start(plan => 5, main => 'webrtc_consent_timeout 3s;');
#   my $t = E2E::start(plan => 5, firefox => 1);   # skip_all without Firefox
#   my $r = E2E::scenario($t, 'fanout', timeout => 60, env => { CODEC => 'VP8' });
#   # $r: the decoded "RESULT {...}" line of the script (undef if none)

use strict;
use warnings;

use Cwd qw/abs_path/;
use Exporter 'import';
use File::Basename qw/dirname/;
use JSON::PP ();
use POSIX qw/WNOHANG/;
use Test::More ();
use Test::Nginx qw/port/;
use Time::HiRes qw/sleep time/;

my $E2E = abs_path(dirname(__FILE__) . '/..');      # t/e2e

our @EXPORT_OK = qw/https_req status_json netns_up netns_down
	netns_unavailable/;

sub chromium { $ENV{CHROMIUM} || '/usr/bin/chromium' }
sub firefox { $ENV{FIREFOX} || '/usr/bin/firefox-esr' }

# skip_all unless node, Chromium, playwright-core and openssl are there;
# with $firefox also Firefox ESR, puppeteer-core and sqlite3 (the profile's
# permissions.sqlite, t/e2e/lib/firefox.js)
sub _requirements {
	my ($firefox) = @_;
	local $?;
	return 'no Chromium (' . chromium() . ')' unless -x chromium();
	return 'no playwright-core in t/e2e/node_modules'
		unless -d "$E2E/node_modules/playwright-core";
	if ($firefox) {
		return 'no Firefox ESR (' . firefox() . ', Debian firefox-esr)'
			unless -x firefox();
		return 'no puppeteer-core in t/e2e/node_modules'
			unless -d "$E2E/node_modules/puppeteer-core";
		`sqlite3 -version 2>/dev/null`;
		return 'no sqlite3' if $?;
	}
	my $v = `node --version 2>/dev/null` // '';
	return 'no node' unless $v =~ /^v\d+/;
	`openssl version 2>/dev/null`;
	return 'no openssl' if $?;
	return undef;
}

# start(plan => N, main => 'main context directives', http => 'server
# directives', firefox => 1 if a scenario uses Firefox): writes the
# certificate, the page and nginx.conf, plans N tests (N includes the "no
# alerts" test of the run) and starts nginx.
sub start {
	my (%o) = @_;
	my $t = Test::Nginx->new()->has(qw/http stream http_ssl/);
	if (my $why = _requirements($o{firefox})) {
		Test::More::plan(skip_all => $why);
	}
	$t->plan($o{plan}) if $o{plan};

	my $d = $t->testdir();
	{
		local $?;
		my $out = `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost -keyout $d/key.pem -out $d/cert.pem 2>&1`;
		die "openssl: $out" if $?;
	}

	$t->write_file('index.html', "<!doctype html>\n<html><head>"
		. "<meta charset=\"utf-8\"><title>e2e</title></head>"
		. "<body>nginx-webrtc-module e2e</body></html>\n");

	my $main = $o{main} // '';
	my $http = $o{http} // '';

	# candidates => the webrtc_candidate lines instead of the UDP one;
	# stream => more stream servers (an ICE-TCP listen)
	my $cand = $o{candidates}
		// 'webrtc_candidate 127.0.0.1:%%PORT_8980_UDP%%;';
	my $stream = $o{stream} // '';

	# conf => a whole nginx.conf of the test's own (expanded)
	if (defined $o{conf}) {
		$t->write_file_expand('nginx.conf', $o{conf});
		$t->run();
		return $t;
	}

	$t->write_file_expand('nginx.conf', <<"EOF");
%%TEST_GLOBALS%%

$main

worker_processes 2;

events {
    worker_connections 1024;
}

http {
    %%TEST_GLOBALS_HTTP%%

    types {
        text/html html;
    }

    server {
        listen 127.0.0.1:%%PORT_8443%% ssl reuseport;
        server_name localhost;

        ssl_certificate %%TESTDIR%%/cert.pem;
        ssl_certificate_key %%TESTDIR%%/key.pem;

        root %%TESTDIR%%;

        $cand

        $http

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

    $stream
}
EOF

	$t->run();
	return $t;
}

sub base { 'https://127.0.0.1:' . port(8443) }

# scenario($t, $name, timeout => seconds (default 60), env => {NAME => v},
# base => origin (default base()), netns => network namespace to run in):
# runs "node t/e2e/$name.js" with E2E_BASE, E2E_TIMEOUT, E2E_ERROR_LOG and
# E2E_<NAME> for each env entry; returns the decoded RESULT object (undef
# if there was none: a diag shows the script's output).  The script stops
# itself at its timeout; 20 s later its process group is killed.
my $RUNS = 0;

sub scenario {
	my ($t, $name, %o) = @_;
	my $d = $t->testdir();
	my $timeout = $o{timeout} // 60;
	my $tag = $name . '-' . ++$RUNS;
	my %env = (
		E2E_BASE => $o{base} // base(),
		E2E_TIMEOUT => $timeout,
		E2E_ERROR_LOG => "$d/error.log",
		map { ('E2E_' . $_ => $o{env}{$_}) } keys %{$o{env} || {}},
	);

	my $start = time();
	my $pid = fork();
	die "fork: $!" unless defined $pid;
	if ($pid == 0) {
		setpgrp(0, 0);
		@ENV{keys %env} = values %env;
		open STDIN, '<', '/dev/null';
		open STDOUT, '>', "$d/$tag.out";
		open STDERR, '>', "$d/$tag.err";
		chdir $E2E;

		# netns => a network namespace the test made: the browsers in it
		if ($o{netns}) {
			exec 'ip', 'netns', 'exec', $o{netns}, 'node', "$E2E/$name.js";
		}

		{ exec 'node', "$E2E/$name.js" }
		POSIX::_exit(127);
	}

	my $end = $start + $timeout + 20;
	my $done;
	while (time() < $end) {
		last if $done = waitpid($pid, WNOHANG) == $pid;
		sleep 0.1;
	}
	unless ($done) {
		Test::More::diag("$name: killed after " . ($timeout + 20) . ' s');
		kill 'KILL', -$pid;
		waitpid $pid, 0;
	}
	my $status = $? >> 8;
	my $secs = time() - $start;

	my $out = $t->read_file("$tag.out");
	my ($line) = $out =~ /^RESULT (.*)$/m;
	my $res = defined $line ? eval { JSON::PP::decode_json($line) } : undef;

	if (!$res || $res->{error} || $status) {
		my $err = -e "$d/$tag.err" ? $t->read_file("$tag.err") : '';
		my @err = grep { !/unexpected operator/ } split /\n/, $err;
		@err = @err[-30 .. -1] if @err > 30;
		Test::More::diag("$name: exit status $status, "
			. sprintf('%.1f s', $secs)
			. ($res && $res->{error} ? "\nerror: $res->{error}" : '')
			. ($res && $res->{log} ? "\nlog:\n  " . join("\n  ",
				@{$res->{log}}) : '')
			. (defined $line ? '' : "\nstdout:\n$out")
			. (@err ? "\nstderr:\n" . join("\n", @err) : ''));
	}
	$res->{_secs} = $secs if $res;
	return $res;
}

# the session id of a Location "/whep/<stream>/<id>"
sub session_id {
	my ($location) = @_;
	return undef unless defined $location;
	return $location =~ m{/([0-9A-Za-z]+)$} ? $1 : undef;
}

# worker pid => count, of error.log lines "PID#TID: ... ICE nominated"
# (optionally only those of the given session ids)
sub nominated_pids {
	my ($t, @ids) = @_;
	my %want = map { $_ => 1 } grep { defined } @ids;
	my %pids;
	for ($t->log_lines(qr/ICE nominated/)) {
		my ($pid, $id) = /\] (\d+)#\d+: .*session (\S+): ICE nominated/
			or next;
		next if %want && !$want{$id};
		$pids{$pid}++;
	}
	return \%pids;
}

# session id => worker pid, from the "ICE nominated" lines of error.log
sub session_pids {
	my ($t) = @_;
	my %pid;
	for ($t->log_lines(qr/ICE nominated/)) {
		my ($pid, $id) = /\] (\d+)#\d+: .*session (\S+): ICE nominated/
			or next;
		$pid{$id} = $pid;
	}
	return \%pid;
}


# a GET of the e2e nginx's HTTPS server
sub https_req {
	my ($uri) = @_;
	return Test::Nginx::http_req(GET => $uri // '/status', SSL => 1,
		port => port(8443), timeout => 3);
}

# its status location's JSON ({} if none)
sub status_json {
	my ($uri) = @_;
	return eval { JSON::PP::decode_json(https_req($uri)->{body} // '') }
		|| {};
}

# a network namespace of the test's own whose nftables drop every UDP
# packet it sends, joined to the host by a veth pair in 10.213.N.0/30:
# (name, the host's address, the namespace's); root only, undone by
# netns_down() (an END block of the test)
sub netns_up {
	my $ns = "wrtc$$";
	my $net = 16 + $$ % 200;
	my ($host, $peer) = ("10.213.$net.1", "10.213.$net.2");

	my $sh = sub {
		my ($rc, $out) = Test::Nginx::run_cmd(@_);
		die "@_: $out" if $rc;
	};

	netns_down($ns);

	$sh->('ip', 'netns', 'add', $ns);
	$sh->('ip', 'link', 'add', "${ns}a", 'type', 'veth', 'peer', 'name',
		"${ns}b");
	$sh->('ip', 'link', 'set', "${ns}b", 'netns', $ns);
	$sh->('ip', 'addr', 'add', "$host/30", 'dev', "${ns}a");
	$sh->('ip', 'link', 'set', "${ns}a", 'up');
	$sh->('ip', 'netns', 'exec', $ns, 'ip', 'addr', 'add', "$peer/30", 'dev',
		"${ns}b");
	$sh->('ip', 'netns', 'exec', $ns, 'ip', 'link', 'set', "${ns}b", 'up');
	$sh->('ip', 'netns', 'exec', $ns, 'ip', 'link', 'set', 'lo', 'up');
	$sh->('ip', 'netns', 'exec', $ns, 'nft', 'add', 'table', 'inet', 'noudp');
	$sh->('ip', 'netns', 'exec', $ns, 'nft', 'add', 'chain', 'inet', 'noudp',
		'out', '{ type filter hook output priority 0; }');
	$sh->('ip', 'netns', 'exec', $ns, 'nft', 'add', 'rule', 'inet', 'noudp',
		'out', 'meta', 'l4proto', 'udp', 'drop');

	return ($ns, $host, $peer);
}

sub netns_down {
	my ($ns) = @_;
	Test::Nginx::run_cmd('ip', 'netns', 'del', $ns);
	Test::Nginx::run_cmd('ip', 'link', 'del', "${ns}a");
}

# why a test cannot make one here, or undef
sub netns_unavailable {
	return 'needs root for a network namespace' if $> != 0;
	return 'no nft (Debian nftables)' unless -x '/usr/sbin/nft';
	return 'no ip (Debian iproute2)'
		unless -x '/usr/sbin/ip' || -x '/sbin/ip' || -x '/bin/ip';
	return undef;
}

1;
