#!/usr/bin/perl
# SPDX-License-Identifier: BSD-2-Clause
#
# udp_geoip.pl - the benchmark's GeoIP country database: 250 countries over all of
# unicast IPv4.
#
#   udp_geoip.pl OUT.mmdb OUT.countries
#
# Every /16 of 1.0.0.0 .. 223.255.0.0 (but 0/8, 10/8, 127/8, 192/8 and 203/8, which
# hold documentation, loopback and the darknet) gets one of 250 synthetic
# two-letter codes (AA, AB, ... : not real countries, only 250 distinct keys); one
# /16 in 8 is split into four /18s of different countries so the tree is deeper
# than a /16 and a per-/16 cache has to notice. Records use MaxMind's iso schema
# (country.iso_code), which teitend, nfacctd (geoipv2_file) and flowgen all read.
# OUT.countries gets "AA:1,AB:1,..." for flowgen --countries. Deterministic; the
# Perl writer is Debian's libmaxmind-db-writer-perl (exit 77 when missing).
use strict;
use warnings;

my ( $out, $list ) = @ARGV;
die "usage: udp_geoip.pl OUT.mmdb OUT.countries\n" unless defined $list;
unless ( eval { require MaxMind::DB::Writer::Tree; 1 } ) {
    print STDERR "udp_geoip.pl: libmaxmind-db-writer-perl is not installed\n";
    exit 77;
}
my @cc;
for my $a ( 'A' .. 'Z' ) {
    for my $b ( 'A' .. 'Z' ) {
        push @cc, "$a$b" if @cc < 250 && "$a$b" ne 'ZZ';
    }
}
my %types = (
    country            => 'map',
    registered_country => 'map',
    iso_code           => 'utf8_string',
);
my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version               => 6,
    record_size              => 28,
    database_type            => 'teiten-bench-Country',
    languages                => ['en'],
    description              => { en => 'teiten benchmark database' },
    alias_ipv6_to_ipv4       => 1,
    remove_reserved_networks => 0,
    map_key_type_callback    => sub { $types{ $_[0] } },
    _build_epoch             => 1700000000,
);
my $n = 0;
my %skip = map { $_ => 1 } ( 0, 10, 127, 192, 203 );
for my $a ( 1 .. 223 ) {
    next if $skip{$a};
    for my $b ( 0 .. 255 ) {
        my $i = ( $a * 256 + $b ) * 2654435761 % 4294967296;
        if ( $i % 8 == 0 ) {
            for my $q ( 0 .. 3 ) {
                my $c = $cc[ ( $i / 8 + $q * 61 ) % 250 ];
                $tree->insert_network( "$a.$b." . ( $q * 64 ) . ".0/18",
                    { country => { iso_code => $c }, registered_country => { iso_code => $c } } );
            }
        }
        else {
            my $c = $cc[ ( $i / 8 ) % 250 ];
            $tree->insert_network( "$a.$b.0.0/16",
                { country => { iso_code => $c }, registered_country => { iso_code => $c } } );
        }
        $n++;
    }
}
open my $fh, '>:raw', $out or die "$out: $!\n";
$tree->write_tree($fh);
close $fh or die "$out: $!\n";
open my $lf, '>', $list or die "$list: $!\n";
print {$lf} join( ',', map {"$_:1"} @cc ), "\n";
close $lf or die "$list: $!\n";
exit 0;
