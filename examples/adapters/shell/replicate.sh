#!/usr/bin/env bash
# A Replicate client in plain bash with curl and jq, as a JSON-lines adapter for the harness:
#
#   seedream-conformance run --provider replicate --adapter "subprocess:examples/adapters/shell/replicate.sh"
#
# What it does is what Replicate documents (docs/replicate.md): POST /v1/models/bytedance/seedream-4/predictions
# with a Bearer token and `Prefer: wait=N` (the reply waits up to N s for the result, as the official clients ask),
# then, if it is not finished, GET /v1/predictions/{id} until it succeeded, failed or was canceled. The
# create is sent once: only a 429 (refused, nothing created) is retried, after its Retry-After; a 5xx or a dropped
# connection on the create is reported, never re-sent, because the prediction may exist already. Polls are reads,
# so they are retried. At the deadline it cancels the prediction and reports a timeout.
set -uo pipefail

MODEL="bytedance/seedream-4"
MAX_RETRIES=4
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
# sleep_ms N: sleep N milliseconds (never negative).
sleep_ms() { (($1 > 0)) && sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; return 0; }

reply() { printf '%s\n' "$1"; }
failure() { # id kind message [code] [job_id]
  jq -cn --arg id "$1" --arg kind "$2" --arg message "$3" --arg code "${4:-}" --arg job "${5:-}" \
    '{id: $id, failure: {kind: $kind, message: $message, code: (if $code == "" then null else ($code | tonumber? // $code) end)}}
     + (if $job == "" then {} else {job_id: $job} end)'
}

kind_of() { # HTTP status -> failure kind
  case "$1" in
    401 | 403) echo auth ;;
    429) echo rate_limited ;;
    5??) echo server_error ;;
    *) echo invalid_request ;;
  esac
}

# request METHOD URL SAFE [BODY]: sets STATUS (000 when no reply) and leaves the body in $WORK/body.
# Retries a 429 always, and a 5xx or a transport error only when SAFE=1; never past DEADLINE.
request() {
  local method=$1 url=$2 safe=$3 data=${4:-} attempt=0 left wait
  while :; do
    left=$((DEADLINE - $(now_ms)))
    ((left > 0)) || { STATUS=deadline; return; }
    local args=(-sS -X "$method" -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}'
      --max-time "$(printf '%d.%03d' $((left / 1000)) $((left % 1000)))"
      -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json")
    [[ -n $data ]] && args+=(--data-binary "$data")
    [[ -n ${PREFER:-} ]] && args+=(-H "Prefer: $PREFER")
    STATUS=$(curl "${args[@]}" "$url" 2>"$WORK/curl-error")
    local code=$?
    ((code == 28)) && { STATUS=deadline; return; }
    if ((code != 0)); then STATUS=000; fi
    local retry=0
    [[ $STATUS == 429 ]] && retry=1
    ((safe)) && [[ $STATUS == 5?? || $STATUS == 000 ]] && retry=1
    ((retry && attempt < MAX_RETRIES)) || return
    wait=$(grep -i '^retry-after:' "$WORK/headers" 2>/dev/null | tr -dc '0-9')
    if [[ $STATUS == 429 && -n $wait ]]; then wait=$((wait * 1000)); else wait=$((500 << attempt)); fi
    left=$((DEADLINE - $(now_ms)))
    sleep_ms $((wait < left ? wait : left))
    attempt=$((attempt + 1))
  done
}

failed_call() { # id what job_id: the failure reply for a request that did not end in 2xx
  local id=$1 what=$2 job=${3:-}
  case "$STATUS" in
    deadline) failure "$id" timeout "the deadline passed during $what" "" "$job" ;;
    000) failure "$id" connection "$(head -c 300 "$WORK/curl-error")" "" "$job" ;;
    *)
      local detail
      detail=$(jq -r '.detail // .title // empty' "$WORK/body" 2>/dev/null || true)
      failure "$id" "$(kind_of "$STATUS")" "${detail:-HTTP $STATUS}" "$STATUS" "$job"
      ;;
  esac
}

generate() { # one request line
  local line=$1 id base body prediction status interval=500
  id=$(jq -r '.id' <<<"$line")
  base=$(jq -r '.base_url | sub("/$"; "")' <<<"$line")
  TOKEN=$(jq -r '.credentials.api_key' <<<"$line")
  DEADLINE=$(($(now_ms) + $(jq -r '.timeout * 1000 | floor' <<<"$line")))
  body=$(jq -c '.body | with_entries(select(.key | IN("input", "webhook", "webhook_events_filter")))' <<<"$line")

  # Hold the create open for most of the timeout (1..60 s, Replicate's range), leaving time to cancel.
  local hold=$(((DEADLINE - $(now_ms)) / 1000 - 1))
  PREFER="wait=$((hold < 1 ? 1 : hold > 60 ? 60 : hold))"
  request POST "$base/v1/models/$MODEL/predictions" 0 "$body"
  PREFER=""
  [[ $STATUS == 2?? ]] || { failed_call "$id" "the create"; return; }
  prediction=$(jq -r '.id' "$WORK/body")
  while :; do
    status=$(jq -r '.status' "$WORK/body")
    case "$status" in
      succeeded)
        jq -c --arg id "$id" --arg job "$prediction" '{id: $id, job_id: $job, images: [(.output // [])[] | {url: .}]}' "$WORK/body"
        return
        ;;
      failed)
        failure "$id" generation_failed "$(jq -r '.error // "the prediction failed"' "$WORK/body")" "" "$prediction"
        return
        ;;
      canceled)
        failure "$id" canceled "the prediction was canceled" "" "$prediction"
        return
        ;;
    esac
    local left=$((DEADLINE - $(now_ms)))
    if ((left <= 0)); then
      DEADLINE=$(($(now_ms) + 2000)) # a short, separate bound for the courtesy cancel
      request POST "$base/v1/predictions/$prediction/cancel" 1
      failure "$id" timeout "the prediction did not finish in time; canceled it" "" "$prediction"
      return
    fi
    sleep_ms $((interval < left ? interval : left))
    interval=$((interval * 3 / 2 > 4000 ? 4000 : interval * 3 / 2))
    request GET "$base/v1/predictions/$prediction" 1
    [[ $STATUS == 2?? ]] || { failed_call "$id" "a poll" "$prediction"; return; }
  done
}

reply '{"ready": true, "name": "replicate-shell-example", "capabilities": []}'
while IFS= read -r line; do
  op=$(jq -r '.op // empty' <<<"$line" 2>/dev/null) || continue
  case "$op" in
    generate) generate "$line" ;;
    "") ;;
    *) failure "$(jq -r '.id' <<<"$line")" crash "this adapter does not answer $op" ;;
  esac
done
