#!/bin/sh
# dns-01 hooks for the ACME tests: appends "name value" to $ACME_DNS_RECORDS.
#   lego exec provider:  hook.sh present|cleanup FQDN VALUE
#   certbot manual hook: hook.sh certbot   (CERTBOT_DOMAIN, CERTBOT_VALIDATION)
case "$1" in
    present) echo "$2 $3" >> "$ACME_DNS_RECORDS" ;;
    cleanup) ;;
    certbot) echo "_acme-challenge.$CERTBOT_DOMAIN $CERTBOT_VALIDATION" >> "$ACME_DNS_RECORDS" ;;
esac
exit 0
