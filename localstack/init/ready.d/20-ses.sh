#!/bin/bash
# LocalStack init hook: verifies the sender the users function sends from
# (SES refuses a Source that is not a verified identity). Sent emails can
# be read at http://localhost:4566/_aws/ses.
set -euo pipefail
awslocal ses verify-email-identity --email-address "${PUFINID_SES_FROM_ADDRESS:?}"
echo "pufinid: SES sender ${PUFINID_SES_FROM_ADDRESS} verified"
