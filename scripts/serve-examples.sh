#!/usr/bin/env bash
# Installs dependencies, builds Lambent, starts `lambent serve` on 127.0.0.1:4566, deploys the
# functions in examples/ and puts an HTTP API in front of search-api. The server runs in the
# foreground; Ctrl-C stops it.
# LAMBENT_DATA_DIR (default ~/.lambent) and LAMBENT_LISTEN (default 127.0.0.1:4566) apply.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/build.sh release

lambent=build/release/lambent
listen="${LAMBENT_LISTEN:-127.0.0.1:4566}"
ready=$(mktemp)
rm -f "$ready"
"$lambent" serve --listen "$listen" --ready-file "$ready" &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$ready"' EXIT INT TERM

for _ in $(seq 1 200); do
  [ -s "$ready" ] && break
  kill -0 "$server" 2>/dev/null || { echo "lambent serve failed to start" >&2; exit 1; }
  sleep 0.05
done
[ -s "$ready" ] || { echo "lambent serve did not start within 10 s" >&2; exit 1; }

export AWS_ENDPOINT_URL="http://$listen"
"$lambent" deploy hello-python examples/hello-python --runtime python3.12 --handler app.handler
"$lambent" deploy hello-node examples/hello-node --runtime nodejs20.x --handler index.handler
"$lambent" deploy echo-provided examples/echo-provided --runtime provided.al2023 --handler echo
"$lambent" deploy search-api examples/search-api --runtime python3.12 --handler app.handler

# An HTTP API in front of search-api, quick-created with the AWS CLI (a $default route and an
# auto-deployed $default stage). A restart with the same data directory reuses the API.
eval "$("$lambent" env --listen "$listen")"
aws_cli=(/usr/bin/aws --endpoint-url "http://$listen" --output text)
api=$("${aws_cli[@]}" apigatewayv2 get-apis \
  --query "Items[?Name=='search-api'] | [0].[ApiId, ApiEndpoint]")
read -r api_id api_endpoint <<<"$api"
if [ "$api_id" = None ]; then
  function_arn=$("${aws_cli[@]}" lambda get-function --function-name search-api \
    --query Configuration.FunctionArn)
  api=$("${aws_cli[@]}" apigatewayv2 create-api --name search-api --protocol-type HTTP \
    --target "$function_arn" --query "[ApiId, ApiEndpoint]")
  read -r api_id api_endpoint <<<"$api"
  echo "Created HTTP API search-api ($api_id)"
else
  echo "Reusing HTTP API search-api ($api_id)"
fi

# The thumbnail app: an upload to the photos bucket triggers the thumbnail function, which
# writes a smaller copy to photos-thumbnails. Creating a bucket that exists already is fine.
"$lambent" deploy thumbnail examples/thumbnail --runtime python3.12 --handler app.handler \
  --timeout 30 --memory 256
for bucket in photos photos-thumbnails; do
  "${aws_cli[@]}" s3api head-bucket --bucket "$bucket" 2>/dev/null ||
    "${aws_cli[@]}" s3api create-bucket --bucket "$bucket" >/dev/null
done
thumbnail_arn=$("${aws_cli[@]}" lambda get-function --function-name thumbnail \
  --query Configuration.FunctionArn)
"${aws_cli[@]}" s3api put-bucket-notification-configuration --bucket photos \
  --notification-configuration "{\"LambdaFunctionConfigurations\": [{\"Id\": \"thumbnails\",
    \"LambdaFunctionArn\": \"$thumbnail_arn\", \"Events\": [\"s3:ObjectCreated:*\"]}]}"

# A shell without LAMBENT_DATA_DIR would read another data directory's keys.
env_data_dir=""
if [ -n "${LAMBENT_DATA_DIR:-}" ]; then env_data_dir=" --data-dir $LAMBENT_DATA_DIR"; fi

cat <<MSG

Lambent is running on http://$listen with five example functions.
In another shell:
  eval "\$($lambent env --listen $listen$env_data_dir)"
  aws --endpoint-url http://$listen lambda invoke --function-name hello-python \\
      --cli-binary-format raw-in-base64-out --payload '{"name": "Ada"}' /dev/stdout

The search-api function answers through the HTTP API $api_id:
  curl '$api_endpoint/search?q=moons+of+jupiter'
  curl 'http://$listen/_aws/execute-api/$api_id/search?q=moons+of+jupiter'
Upload an image to the photos bucket and its thumbnail appears in photos-thumbnails:
  aws --endpoint-url http://$listen s3 cp picture.jpg s3://photos/
  aws --endpoint-url http://$listen s3 ls s3://photos-thumbnails/
Press Ctrl-C to stop the server.
MSG
wait "$server"
