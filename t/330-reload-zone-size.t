#!/usr/bin/perl

# A reload that changes webrtc_zone_size (issue 16, doc/registry-design.md
# 7.4): nginx makes a new, empty zone, so the sessions cannot be handed
# over.  They end promptly and cleanly instead of hanging: the old workers
# close them with a DTLS close_notify (webrtc-load counts its viewers
# "closed", not stalled until consent fails), the error log says why, and
# new sessions work in the new zone.  A reload with the size unchanged
# keeps them (t/300).  Skipped if the tool is not built (make tools).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Test::Nginx qw/port/;
use Test::Nginx::Load qw/tool spawn_tool publisher_up finish run_tool
	summary slurp created_ids ended_ids load_conf load_wait/;
use Time::HiRes qw/sleep time/;

plan(skip_all => 'tools/webrtc-load is not built (make tools)')
	unless -x tool();

my $t = Test::Nginx->new()->has(qw/http stream/)->plan(8);

$t->write_file_expand('nginx.conf', load_conf(zone_size => '16m'))->run();

my $d = $t->testdir();
my $base = 'http://127.0.0.1:' . port(8080);

my $pub = spawn_tool($d, 'publisher', '--whip', "$base/whip/load",
	'--duration', '14', '--bitrate', '300k', '--fps', '30', '--gop', '1s',
	'--http-timeout', '3', '--json');

ok(publisher_up($d, 'publisher'), 'publisher connected');

my $aud = spawn_tool($d, 'audience', '--whep', "$base/whep/load",
	'--viewers', '10', '--duration', '12', '--http-timeout', '3', '--json');

load_wait($t, 'load', 10);

my @ids = (created_ids($t, 'load', 'publisher'),
	created_ids($t, 'load', 'viewer'));

is(scalar @ids, 11, 'the publisher and 10 viewers up');

sleep 1;

# the size changed: a new zone

my $r0 = time();

$t->write_file_expand('nginx.conf', load_conf(zone_size => '32m'));
$t->reload();

# each session ended, with its reason, soon after the reload

my $ended;

for (1 .. 50) {
	$ended = ended_ids($t);
	last if !grep { !$ended->{$_} } @ids;
	sleep 0.1;
}

my @left = grep { !$ended->{$_} } @ids;

is(scalar @left, 0, 'every session ended at the reload, '
	. sprintf('%.1f s after it', time() - $r0))
	or diag(scalar @left . ' still open');

ok($t->log_lines(qr/webrtc .*session \w+ closed: worker exiting/) >= 11,
	'closed by the old workers, as nginx -s quit does');

ok(!$t->log_lines(qr/handed over, /),
	'none handed over into a zone nobody reads');

# what the clients saw: a close_notify, not media that stopped

my $vs = finish($aud, 20);
my $sum = summary(split /\n/, slurp("$d/audience.json"));

is($sum->{fail}{closed} // 0, 10,
	'the 10 viewers were told (DTLS close_notify): '
	. join(' ', map { "$_:$sum->{fail}{$_}" } grep { $sum->{fail}{$_} }
		sort keys %{$sum->{fail} // {}}));

finish($pub, 20);

# the new zone serves new sessions

my $pub2 = spawn_tool($d, 'publisher2', '--whip', "$base/whip/after",
	'--duration', '6', '--bitrate', '300k', '--fps', '30', '--gop', '1s',
	'--http-timeout', '3', '--json');

publisher_up($d, 'publisher2');

my @out = run_tool($d, 20, undef, "--whep", "$base/whep/after", "--viewers", "2",
	'--duration', '2', '--http-timeout', '3', '--json');
my $after = summary(@out);

ok(($after->{connected} // 0) == 2 && ($after->{min_rtp_per_viewer} // 0) > 20,
	'new sessions work in the new zone, '
	. ($after->{min_rtp_per_viewer} // 0) . ' packets each at least')
	or diag(join '', @out);

finish($pub2, 10);
