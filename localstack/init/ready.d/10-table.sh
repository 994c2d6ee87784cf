#!/bin/bash
# LocalStack init hook (runs when LocalStack is ready): creates the API's
# single table and turns on its TTL. The table's definition is not written
# here: table.json and ttl.json are generated from shared/store's Go
# definition by `go run ./cmd/tabledef` and checked by its test.
set -euo pipefail
here=/etc/localstack/init

if ! out=$(awslocal dynamodb create-table --cli-input-json "file://$here/table.json" 2>&1); then
  case "$out" in
    *ResourceInUseException*) echo "pufinid: table exists already" ;;
    *) echo "$out" >&2; exit 1 ;;
  esac
fi
awslocal dynamodb update-time-to-live --cli-input-json "file://$here/ttl.json" >/dev/null
echo "pufinid: table ready"
