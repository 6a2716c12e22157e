#!/usr/bin/perl
# A second, independent DKIM verifier for the tests: Perl's Mail::DKIM (what SpamAssassin and
# amavis use), with the key record handed in instead of looked up in DNS.
#   perl dkim_verify.pl SELECTOR DOMAIN BASE64_PUBLIC_KEY < message.eml
# Prints the overall result, then one line per signature; exits 0 only on "pass".
use strict;
use warnings;
use Mail::DKIM::Verifier;
use Net::DNS;

my ($selector, $domain, $key) = @ARGV;
my $record = "v=DKIM1; k=rsa; p=$key";
{
    no warnings 'redefine';
    *Mail::DKIM::DNS::query = sub {
        my ($name, $type) = @_;
        return () unless lc($name) eq lc("$selector._domainkey.$domain") && $type eq 'TXT';
        my @chunks = ($record =~ /(.{1,200})/g);
        return (Net::DNS::RR->new(name => $name, type => 'TXT', txtdata => [@chunks]));
    };
}
binmode STDIN;
my $dkim = Mail::DKIM::Verifier->new();
while (my $line = <STDIN>) {
    $dkim->PRINT($line);
}
$dkim->CLOSE;
print $dkim->result, "\n";
foreach my $signature ($dkim->signatures) {
    print "signature ", $signature->result, " ", ($signature->result_detail // ""),
        " h=", join(":", $signature->headerlist), "\n";
}
exit($dkim->result eq 'pass' ? 0 : 1);
