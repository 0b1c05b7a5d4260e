#!/usr/bin/perl

# End-to-end consent freshness (RFC 7675) with headless Chromium and
# webrtc_consent_timeout 3s: a viewer page closed without DELETE loses its
# session after the consent timeout (a DELETE of its Location then gets
# 404), while the publisher and another viewer, whose browser keeps
# sending checks, stay.  Then a viewer whose pc.close() sends a DTLS
# close_notify: its session is gone at once, though the server had
# released its DTLS state (the alert is authenticated with the key kept).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/e2e/lib";

use Test::More;
use Test::Nginx;
use E2E;

my $t = E2E::start(plan => 2 * 10 + 3, main => 'webrtc_consent_timeout 3s;');

for my $mode (qw/page pc/) {
	my $r = E2E::scenario($t, 'consent', timeout => 45,
		env => { STREAM => "consent-$mode", MODE => $mode,
			WATCH => 12000 }) || {};
	my ($p, $g, $s) = map { $_ || {} } @$r{qw/publisher gone stays/};
	my $n = $mode eq 'page' ? 'page.close()' : 'pc.close()';

	is($p->{status}, 201, "$n: WHIP 201");
	ok(($g->{status} // 0) == 201 && ($s->{status} // 0) == 201,
		"$n: two viewers, WHEP 201");
	cmp_ok($g->{before}{video}{framesDecoded} // 0, '>', 0,
		"$n: the viewer to go decoded frames");

	my $gone = $g->{gone} || {};
	my $line = $gone->{line} // '';
	if ($mode eq 'page') {
		like($line, qr/ICE consent expired|timed out/,
			"$n: session closed for consent") or diag $line;
	} else {
		like($line, qr/closed: DTLS close_notify/,
			"$n: session closed by close_notify") or diag $line;

		my $id = E2E::session_id($g->{location}) // 'none';
		ok(scalar $t->log_lines(
			qr/session \Q$id\E: DTLS state released/),
			"$n: its DTLS state had been released before");
	}
	ok(defined $gone->{ms} && $gone->{ms} <= 10000,
		"$n: session gone after " . ($gone->{ms} // 'never') . ' ms');
	diag("$n: viewer session closed " . ($gone->{ms} // 'never')
		. " ms after it went away");
	is($g->{deleteStatus}, 404, "$n: DELETE of its Location: 404");

	# the others stay: the second viewer decodes and the publisher's
	# session is open, on the same worker all along (nominated once)
	my ($s1, $s2) = ($s->{s1} || {}, $s->{s2} || {});
	ok($s2->{reached}, "$n: the other viewer still decodes: "
		. ($s1->{video}{framesDecoded} // 0) . ' then '
		. ($s2->{video}{framesDecoded} // 0) . ' frames, '
		. ($s->{s2}{waitedMs} // '?') . ' ms');
	is($p->{stats}{state}, 'connected', "$n: publisher connected "
		. ($p->{aliveMs} // '?') . ' ms later');

	my @ids = map { E2E::session_id($_->{location}) // 'none' } $p, $s;
	# (until their DELETE at the end)
	my @closed = grep { !/closed: deleted/ }
		map { $t->log_lines(qr/session \Q$_\E\b.*(closed|timed out)/) }
		@ids;
	ok(!@closed, "$n: publisher and other viewer sessions not closed")
		or diag join "\n", @closed;
	is(join(' ', map { scalar $t->log_lines(qr/session \Q$_\E: ICE nominated/) }
		@ids), '1 1', "$n: publisher and other viewer nominated once");
}

# the consent timer closing a session must not take its worker down (and
# with it the media of every other session the worker served)
my @crash = $t->log_lines(qr/exited on signal|connection already closed/);
ok(!@crash, 'no worker crashed') or diag join "\n", @crash;
