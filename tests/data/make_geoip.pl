#!/usr/bin/perl
# SPDX-License-Identifier: BSD-2-Clause
#
# make_geoip.pl - write a tiny GeoIP country database for teiten's tests.
#
#   make_geoip.pl [--schema iso|flat|none] [--table OUT.tsv] [OUT.mmdb]
#
# --schema iso  (default) MaxMind / DB-IP records: {country => {iso_code => 'RU'}}
# --schema flat IPinfo / ip-location-db records:   {country_code => 'RU'}
# --schema none records without any country ({continent_code => 'EU'}), for
#               testing that a reader refuses a database it cannot use
# --table       also write @NETWORKS below as "network<TAB>country" lines, so the
#               flow generator and tests can draw source addresses whose country
#               is known.
#
# The database is built with Debian's libmaxmind-db-writer-perl: database_type
# "teiten-test-Country", ip_version 6, record_size 24, IPv4 networks inserted in
# IPv4 notation (stored under ::/96) and ::ffff:0:0/96, 2001::/32 and 2002::/16
# aliased to them, as MaxMind's own databases do. build_epoch is fixed
# ($BUILD_EPOCH) so the output is reproducible. Exit status 77 (skip) when the
# Perl module is missing. Generated at test time: .mmdb files are never committed.
use strict;
use warnings;
use Getopt::Long qw(GetOptions);

# The test table. Networks do not overlap, so every address inside one of them
# has exactly the listed country in both schemas. Countries are for tests only;
# they do not claim anything about the real owners of these ranges.
my @NETWORKS = (
    [ '1.0.16.0/20',    'JP' ],
    [ '1.80.0.0/13',    'CN' ],
    [ '1.208.0.0/12',   'KR' ],
    [ '2.0.0.0/12',     'FR' ],
    [ '3.0.0.0/8',      'US' ],
    [ '5.8.0.0/16',     'RU' ],
    [ '5.9.0.0/16',     'DE' ],
    [ '14.160.0.0/11',  'VN' ],
    [ '31.3.0.0/16',    'NL' ],
    [ '31.40.0.0/16',   'UA' ],
    [ '36.224.0.0/12',  'TW' ],
    [ '49.32.0.0/12',   'IN' ],
    [ '81.2.69.0/24',   'GB' ],    # GB and FR share one /16: per-/16 caches must
    [ '81.2.70.0/24',   'FR' ],    # still tell them apart
    [ '103.4.96.0/22',  'SG' ],    # iso schema: registered_country only
    [ '177.0.0.0/12',   'BR' ],
    [ '2400:4000::/22', 'JP' ],
    [ '2600::/12',      'US' ],
    [ '2a01:4f8::/29',  'DE' ],
);

# In the iso schema this network's record has only registered_country.iso_code
# (MaxMind does that for networks with no known location); flat has no such notion.
my $REGISTERED_ONLY = '103.4.96.0/22';

# A record without any country, at the lowest address of the tree, so a reader
# that probes the schema from the first record it finds must look further.
# Not in the table: its country is unknown ("ZZ" to teiten).
my $NO_COUNTRY = '1.0.0.0/24';

my $BUILD_EPOCH = 1700000000;

my $schema = 'iso';
my $table;
GetOptions( 'schema=s' => \$schema, 'table=s' => \$table )
    or usage();
usage() unless $schema =~ /\A(?:iso|flat|none)\z/;
my $out = shift @ARGV;
usage() if @ARGV || ( !defined $out && !defined $table );

if ( defined $table ) {
    open my $fh, '>', $table or die "$table: $!\n";
    print {$fh} "$_->[0]\t$_->[1]\n" for @NETWORKS;
    close $fh or die "$table: $!\n";
}
exit 0 unless defined $out;

unless ( eval { require MaxMind::DB::Writer::Tree; 1 } ) {
    print STDERR "make_geoip.pl: MaxMind::DB::Writer::Tree is not installed "
        . "(Debian: libmaxmind-db-writer-perl)\n";
    exit 77;
}

my %types = (
    country            => 'map',
    registered_country => 'map',
    continent          => 'map',
    iso_code           => 'utf8_string',
    code               => 'utf8_string',
    country_code       => 'utf8_string',
    continent_code     => 'utf8_string',
);

my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version               => 6,
    record_size              => 24,
    database_type            => 'teiten-test-Country',
    languages                => ['en'],
    description              => { en => "teiten test database ($schema schema)" },
    alias_ipv6_to_ipv4       => 1,
    remove_reserved_networks => 0,
    map_key_type_callback    => sub { $types{ $_[0] } },
    _build_epoch             => $BUILD_EPOCH,
);

for my $row (@NETWORKS) {
    my ( $net, $cc ) = @{$row};
    my $record;
    if ( $schema eq 'flat' ) {
        $record = { country_code => $cc };
    }
    elsif ( $schema eq 'none' ) {
        $record = { continent_code => 'EU' };
    }
    elsif ( $net eq $REGISTERED_ONLY ) {
        $record = { registered_country => { iso_code => $cc } };
    }
    else {
        $record = {
            country            => { iso_code => $cc },
            registered_country => { iso_code => $cc },
        };
    }
    $tree->insert_network( $net, $record );
}
$tree->insert_network( $NO_COUNTRY,
    $schema ne 'iso'
    ? { continent_code => 'OC' }
    : { continent => { code => 'OC' } } );

open my $fh, '>:raw', $out or die "$out: $!\n";
$tree->write_tree($fh);
close $fh or die "$out: $!\n";
exit 0;

sub usage {
    print STDERR
        "usage: make_geoip.pl [--schema iso|flat|none] [--table OUT.tsv] [OUT.mmdb]\n";
    exit 2;
}
