# sms.sh: reverify with an SMS gateway program, for the tests of real
# gateways (t4530, t4540)
# shellcheck shell=sh disable=SC2034,SC2154 # uid and tok are for the scripts; top_srcdir comes from test-lib.sh
#
# Sourced after test-lib.sh, lighttpd.sh and instance.sh:
#	. "$top_srcdir/t/lib/sms.sh"
#	sms_setup "$top_srcdir/contrib/sms/sms-gammu -c FILE" rv
#	send_code "$tok" phone 64211234567 && ...
#	sms_template en "$code" rv >want.txt

# sms_setup SMS-COMMAND [APP]: an instance whose <delivery sms-command> is
# SMS-COMMAND (and application-name APP), the user alice with the phone
# 64211234567 (uid), lighttpd with the code programs, her token (tok)
sms_setup () {
	outbox_setup || bail_out "no outbox"
	setup_instance "<delivery sms-command=\"$1\" application-name=\"${2-}\"/>" \
		'<codes send-max="100"/>' || bail_out "cannot set up the instance"
	uid=$(add_user --username alice --phone 64211234567) || bail_out "no user"
	start_lighttpd verification-code verification-code-verify ||
		bail_out "lighttpd did not start"
	tok=$(mint "$uid")
}

# sms_template LANG CODE APP: the text of the UserPermissionValidation SMS
# of conf/templates/LANG.xml with CODE, APP ({{application.name}}) and 10
# ({{expiresInMinutes}}) filled in, with no newline at the end
sms_template () {
	python3 -c 'import sys, xml.etree.ElementTree as ET
f, code, app = sys.argv[1:]
for t in ET.parse(f).getroot().iter("template"):
    if t.get("type") == "UserPermissionValidation":
        s = t.findtext("sms").strip()
        for k, v in (("code", code), ("application.name", app), ("expiresInMinutes", "10")):
            s = s.replace("{{%s}}" % k, v)
        sys.stdout.write(s)' "$top_srcdir/conf/templates/$1.xml" "$2" "$3"
}
