#!/bin/sh
# t0040-totp-oathtool: our TOTP (rv-totp.c) against an independent one,
# oathtool(1) of the OATH Toolkit, and our QR code's SVG against xmllint
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"

command -v oathtool >/dev/null 2>&1 ||
	skip_all "oathtool not found (apt-get install oathtool)"
TOOL="$top_builddir/t/helper/totp-tool"

# RFC 6238's key, one of 16 characters (10 bytes, the least we take), one
# of 103 (64 bytes, the most), and two we make
{
	echo GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
	echo JBSWY3DPEHPK3PXP
	printf '%0103d\n' 0 | tr 0 Q
	"$TOOL" secret
	"$TOOL" secret
} >secrets
# RFC 6238 B's times, a step's edges, and now
printf '%s\n' 0 29 30 59 1111111109 1111111111 1234567890 2000000000 \
	20000000000 "$(date +%s)" >instants

test_expect_success 'the secrets are as meant (5, one of 103 characters)' '
	test "$(wc -l <secrets)" = 5 &&
	test "$(sed -n 3p secrets | tr -d "\n" | wc -c)" = 103
'

test_expect_success 'our codes are oathtool'\''s for every secret and time' '
	: >diffs &&
	while read -r s; do
		while read -r t; do
			ours=$("$TOOL" code "$s" "$t") &&
			theirs=$(oathtool --totp -b "$s" --now="@$t") &&
			test "$ours" = "$theirs" ||
			echo "$s at $t: ours $ours, oathtool $theirs" >>diffs
		done <instants
	done <secrets &&
	{ test ! -s diffs || { cat diffs; false; }; }
'

test_expect_success 'oathtool'\''s codes check, one step of skew either way' '
	s=$(sed -n 4p secrets) && t=1999999995 &&
	code=$(oathtool --totp -b "$s" --now="@$t") &&
	"$TOOL" check "$s" "$t" "$code" &&
	"$TOOL" check "$s" $((t + 30)) "$code" &&
	"$TOOL" check "$s" $((t - 30)) "$code" &&
	! "$TOOL" check "$s" $((t + 60)) "$code" &&
	! "$TOOL" check "$s" $((t - 60)) "$code"
'

test_expect_success 'the lower-case form of a secret gives the same codes' '
	s=$(sed -n 2p secrets) &&
	lower=$(echo "$s" | tr A-Z a-z) &&
	test "$("$TOOL" code "$lower" 1234567890)" = \
		"$(oathtool --totp -b "$s" --now=@1234567890)"
'

test_expect_success 'the QR code is well-formed SVG' '
	command -v xmllint >/dev/null 2>&1 || { echo "xmllint not found"; false; } &&
	"$TOOL" qr "otpauth://totp/ACME%20Co:alice%40example.com?secret=$(sed -n 4p secrets)&issuer=ACME%20Co" >qr.svg &&
	xmllint --noout qr.svg &&
	grep -q "^<svg xmlns=\"http://www.w3.org/2000/svg\"" qr.svg
'

test_done
