#!/usr/bin/env bash
# PulseCart Consumer: every Google Cloud resource it needs, as one idempotent gcloud script.
#
#   deploy/gcp.sh infra              APIs, service accounts, Pub/Sub topics and dead letters, Cloud Tasks queue,
#                                    Memorystore for Redis, Secret Manager secrets, and the IAM between them
#   deploy/gcp.sh cloud-run          infra + the single-silo Cloud Run service + the push subscription + monitoring
#                                    (or, with DELIVERY=eventarc, an Eventarc trigger on the events topic instead)
#   deploy/gcp.sh gke                infra + GKE Autopilot cluster + the 3-silo manifests + the push subscription
#                                    + monitoring (and, where the Prometheus Operator runs, gke/monitoring/)
#   deploy/gcp.sh render TARGET DIR  write the filled-in manifests and monitoring files (TARGET: cloud-run, gke or
#                                    all) to DIR; reads nothing from Google Cloud when PROJECT_NUMBER is set
#   deploy/gcp.sh status             what is deployed: service URL, push subscription, queue
#   deploy/gcp.sh dead-letters [N]   list up to N (10) dead-lettered messages without removing them
#
# Settings come from deploy/pulsecart.env (or the file PULSECART_ENV names); environment variables override it.
# Only PROJECT_ID, REGION and IMAGE are required (and DOMAIN for gke). Every step first looks at what exists and
# creates or updates only what differs, so the script is safe to run again after any change or failure.
# Needs bash 4+, gcloud (and kubectl for gke), logged in as a project Owner (or with the equivalent admin roles
# for the services above, including setting IAM policies). Cloud Shell has all of it.
set -Eeuo pipefail

if ((BASH_VERSINFO[0] < 4)); then
    echo "deploy/gcp.sh needs bash 4 or newer (this is $BASH_VERSION); Cloud Shell has it." >&2
    exit 1
fi

DEPLOY_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Fixed names: the app's defaults and the issue's contract.
readonly TOPIC=pulsecart-events
readonly SUBSCRIPTION=pulsecart-consumer
readonly DLQ_TOPIC=pulsecart-events-dead-letter
readonly DLQ_SUBSCRIPTION=pulsecart-events-dead-letter-sub
readonly QUEUE=pulsecart-cart-reminders
readonly RUNTIME_SA_NAME=pulsecart-consumer
readonly PUSH_SA_NAME=pulsecart-pusher
readonly TASKS_SA_NAME=pulsecart-tasks
readonly REDIS_SECRET=pulsecart-redis-connection
readonly OPERATOR_TOKEN_SECRET=pulsecart-operator-token
readonly OPERATOR_HASH_SECRET=pulsecart-operator-token-sha256
readonly GATEWAY_ADDRESS=pulsecart-gateway-ip
readonly GATEWAY_CERT=pulsecart-cert
readonly K8S_NAMESPACE=pulsecart
readonly K8S_SERVICE_ACCOUNT=pulsecart-consumer
readonly ACK_DEADLINE_SECONDS=60
readonly MAX_DELIVERY_ATTEMPTS=10
readonly EVENTARC_TRIGGER=pulsecart-events-trigger
readonly DASHBOARD_NAME="PulseCart Consumer"
readonly METRICS_SCRAPE_SECRET=pulsecart-metrics-scrape

log() { printf '[gcp.sh] %s\n' "$*" >&2; }
die() { printf '[gcp.sh] error: %s\n' "$*" >&2; exit 1; }

usage() {
    # The comment block at the top of this file.
    sed -n '2,/^[^#]/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
    exit 2
}

# ---------------------------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------------------------
readonly SETTINGS=(PROJECT_ID REGION IMAGE DOMAIN WEBHOOK_URL SERVICE NETWORK SUBNET GKE_CLUSTER REDIS_INSTANCE
    REDIS_VERSION PROJECT_NUMBER DELIVERY ALERT_CHANNELS)

# Reads KEY=value lines without executing them; a variable already set in the environment wins.
load_settings() {
    local file=${PULSECART_ENV:-$DEPLOY_DIR/pulsecart.env} line key value known k
    if [[ -f $file ]]; then
        while IFS= read -r line || [[ -n $line ]]; do
            line=${line%$'\r'}
            [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
            [[ $line =~ ^[[:space:]]*([A-Z_][A-Z0-9_]*)=(.*)$ ]] || die "$file: cannot read line: $line"
            key=${BASH_REMATCH[1]}
            value=${BASH_REMATCH[2]}
            value=${value%"${value##*[![:space:]]}"}
            if [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]]; then value=${BASH_REMATCH[1]}; fi
            known=false
            for k in "${SETTINGS[@]}"; do
                if [[ $k == "$key" ]]; then known=true; fi
            done
            $known || die "$file: unknown setting $key (known: ${SETTINGS[*]})"
            if [[ -z ${!key:-} ]]; then printf -v "$key" '%s' "$value"; fi
        done <"$file"
    elif [[ -n ${PULSECART_ENV:-} ]]; then
        die "PULSECART_ENV=$PULSECART_ENV does not exist"
    fi

    PROJECT_ID=${PROJECT_ID:-}
    REGION=${REGION:-}
    IMAGE=${IMAGE:-}
    DOMAIN=${DOMAIN:-}
    WEBHOOK_URL=${WEBHOOK_URL:-}
    SERVICE=${SERVICE:-pulsecart-consumer}
    NETWORK=${NETWORK:-default}
    SUBNET=${SUBNET:-default}
    GKE_CLUSTER=${GKE_CLUSTER:-pulsecart}
    REDIS_INSTANCE=${REDIS_INSTANCE:-pulsecart-redis}
    REDIS_VERSION=${REDIS_VERSION:-redis_7_2}
    PROJECT_NUMBER=${PROJECT_NUMBER:-}
    DELIVERY=${DELIVERY:-push}
    ALERT_CHANNELS=${ALERT_CHANNELS:-}
    CONFIG_DIGEST=${CONFIG_DIGEST:-not-deployed}
}

check() { # check NAME REGEX HINT: the value of NAME must match REGEX
    local name=$1 pattern=$2 hint=$3
    [[ -n ${!name} ]] || die "$name is not set: put it in deploy/pulsecart.env or the environment ($hint)"
    [[ ${!name} =~ $pattern ]] || die "$name='${!name}' is not valid ($hint)"
}

# Needs: any of "image", "domain". Everything is checked before the first change in Google Cloud.
check_settings() {
    local need
    check PROJECT_ID '^[a-z][a-z0-9-]{4,28}[a-z0-9]$' 'a project id such as my-shop-prod'
    check REGION '^[a-z]+-[a-z]+[0-9]+$' 'a region such as europe-west1'
    check SERVICE '^[a-z]([a-z0-9-]{0,47}[a-z0-9])?$' 'a Cloud Run service name'
    check NETWORK '^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$' 'a VPC network name'
    check SUBNET '^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$' 'a subnetwork name'
    check GKE_CLUSTER '^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$' 'a GKE cluster name'
    check REDIS_INSTANCE '^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$' 'a Memorystore instance id'
    check REDIS_VERSION '^redis_[0-9_]+$' 'for example redis_7_2'
    check DELIVERY '^(push|eventarc)$' 'push (a push subscription) or eventarc (an Eventarc trigger, Cloud Run only)'
    for need in "$@"; do
        case $need in
            image) check IMAGE '^[A-Za-z0-9][A-Za-z0-9._/:@-]*$' 'an image reference such as REGION-docker.pkg.dev/PROJECT/repo/consumer:1.0.0' ;;
            domain) check DOMAIN '^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$' 'a host name you control, such as pulsecart.example.com' ;;
            *) die "internal: unknown requirement $need" ;;
        esac
    done
    # MESSAGING_SINK and the *_SA names below are read by render_file through ${!name}.
    # shellcheck disable=SC2034
    if [[ -n $WEBHOOK_URL ]]; then
        [[ $WEBHOOK_URL =~ ^https?://[^[:space:]\"\'\$\`\\]+$ ]] || die "WEBHOOK_URL='$WEBHOOK_URL' is not an http(s) URL"
        MESSAGING_SINK=webhook
    else
        # The app validates WebhookUrl only for the webhook sink; this reserved name never resolves.
        WEBHOOK_URL=https://webhook.invalid/pulsecart-messages
        MESSAGING_SINK=log
    fi
    if [[ -n $PROJECT_NUMBER ]]; then
        [[ $PROJECT_NUMBER =~ ^[0-9]+$ ]] || die "PROJECT_NUMBER='$PROJECT_NUMBER' is not a number"
    fi
    if [[ -n $ALERT_CHANNELS ]]; then
        [[ $ALERT_CHANNELS =~ ^projects/[a-z0-9-]+/notificationChannels/[0-9]+(,projects/[a-z0-9-]+/notificationChannels/[0-9]+)*$ ]] ||
            die "ALERT_CHANNELS='$ALERT_CHANNELS' must be notification channel names (projects/P/notificationChannels/N), comma-separated"
    fi

    RUNTIME_SA=$RUNTIME_SA_NAME@$PROJECT_ID.iam.gserviceaccount.com
    PUSH_SA=$PUSH_SA_NAME@$PROJECT_ID.iam.gserviceaccount.com
    TASKS_SA=$TASKS_SA_NAME@$PROJECT_ID.iam.gserviceaccount.com
    KUBE_CONTEXT=gke_${PROJECT_ID}_${REGION}_${GKE_CLUSTER}
}

# ---------------------------------------------------------------------------------------------------------------
# gcloud helpers
# ---------------------------------------------------------------------------------------------------------------
g() { gcloud --project="$PROJECT_ID" --quiet "$@"; }

# exists ARGS...: true when `gcloud ARGS --format=none` succeeds (a describe that finds the resource).
exists() { g "$@" --format=none >/dev/null 2>&1; }

# retry CMD...: IAM changes on a service account created a moment ago can fail until it has propagated.
retry() {
    local attempt
    for attempt in 1 2 3 4 5 6; do
        if "$@"; then return 0; fi
        ((attempt < 6)) || break
        log "retrying in $((attempt * 5)) s: $*"
        sleep $((attempt * 5))
    done
    return 1
}

sha256_hex() {
    if command -v sha256sum >/dev/null 2>&1; then sha256sum | cut -d' ' -f1; else shasum -a 256 | cut -d' ' -f1; fi
}

project_number() {
    if [[ -z $PROJECT_NUMBER ]]; then
        PROJECT_NUMBER=$(g projects describe "$PROJECT_ID" --format='value(projectNumber)')
        [[ $PROJECT_NUMBER =~ ^[0-9]+$ ]] || die "could not read the project number of $PROJECT_ID"
    fi
    PUBSUB_AGENT=service-$PROJECT_NUMBER@gcp-sa-pubsub.iam.gserviceaccount.com
}

cloud_run_url() { printf 'https://%s-%s.%s.run.app' "$SERVICE" "$PROJECT_NUMBER" "$REGION"; }

# ---------------------------------------------------------------------------------------------------------------
# Resources (each function: look, then create or update)
# ---------------------------------------------------------------------------------------------------------------
enable_apis() {
    log "enabling APIs: $*"
    g services enable "$@"
}

ensure_service_account() { # NAME DISPLAY_NAME
    if exists iam service-accounts describe "$1@$PROJECT_ID.iam.gserviceaccount.com"; then
        log "service account $1 exists"
    else
        log "creating service account $1"
        g iam service-accounts create "$1" --display-name="$2"
    fi
}

ensure_topic() { # NAME
    if exists pubsub topics describe "$1"; then
        log "topic $1 exists"
    else
        log "creating topic $1"
        g pubsub topics create "$1"
    fi
}

ensure_dead_letter_subscription() {
    # A pull subscription nobody consumes: dead letters stay 7 days (the maximum) and can be listed with
    # `deploy/gcp.sh dead-letters`, replayed by republishing to pulsecart-events.
    local flags=(--ack-deadline=60 --message-retention-duration=7d --expiration-period=never)
    if exists pubsub subscriptions describe "$DLQ_SUBSCRIPTION"; then
        log "updating subscription $DLQ_SUBSCRIPTION"
        g pubsub subscriptions update "$DLQ_SUBSCRIPTION" "${flags[@]}"
    else
        log "creating subscription $DLQ_SUBSCRIPTION on $DLQ_TOPIC"
        g pubsub subscriptions create "$DLQ_SUBSCRIPTION" --topic="$DLQ_TOPIC" "${flags[@]}"
    fi
}

ensure_push_subscription() { # PUSH_URL
    local endpoint=$1
    local flags=(
        --push-endpoint="$endpoint"
        --push-auth-service-account="$PUSH_SA"
        --push-auth-token-audience="$endpoint"
        --ack-deadline="$ACK_DEADLINE_SECONDS"
        --min-retry-delay=10s
        --max-retry-delay=600s
        --dead-letter-topic="projects/$PROJECT_ID/topics/$DLQ_TOPIC"
        --max-delivery-attempts="$MAX_DELIVERY_ATTEMPTS"
        --message-retention-duration=7d
        --expiration-period=never
    )
    if exists pubsub subscriptions describe "$SUBSCRIPTION"; then
        log "updating push subscription $SUBSCRIPTION -> $endpoint"
        g pubsub subscriptions update "$SUBSCRIPTION" "${flags[@]}"
    else
        log "creating push subscription $SUBSCRIPTION -> $endpoint"
        g pubsub subscriptions create "$SUBSCRIPTION" --topic="$TOPIC" "${flags[@]}"
    fi
    # Dead-lettering: the Pub/Sub service agent acknowledges the message here and publishes it there.
    retry g pubsub subscriptions add-iam-policy-binding "$SUBSCRIPTION" \
        --member="serviceAccount:$PUBSUB_AGENT" --role=roles/pubsub.subscriber --format=none
    # Runtime: the operators' pause switch reads this subscription's push config and detaches and restores it
    # (pubsub.subscriptions.get and .update), on this subscription only.
    retry g pubsub subscriptions add-iam-policy-binding "$SUBSCRIPTION" \
        --member="serviceAccount:$RUNTIME_SA" --role=roles/pubsub.editor --format=none
}

# Eventarc, Google's recommended route from Pub/Sub to Cloud Run: the trigger makes and owns a push subscription on
# the events topic and delivers each message as a CloudEvent (binary mode) to /consumer/push, with an OIDC token as
# pulsecart-pusher. The consumer reads it like a push; the push subscription is removed so nothing arrives twice.
ensure_eventarc_trigger() {
    local flags=(
        --location="$REGION"
        --destination-run-service="$SERVICE"
        --destination-run-region="$REGION"
        --destination-run-path=/consumer/push
        --service-account="$PUSH_SA"
    )
    if exists eventarc triggers describe "$EVENTARC_TRIGGER" --location="$REGION"; then
        log "updating Eventarc trigger $EVENTARC_TRIGGER -> $SERVICE/consumer/push"
        g eventarc triggers update "$EVENTARC_TRIGGER" "${flags[@]}"
    else
        log "creating Eventarc trigger $EVENTARC_TRIGGER on $TOPIC -> $SERVICE/consumer/push"
        g eventarc triggers create "$EVENTARC_TRIGGER" "${flags[@]}" \
            --event-filters=type=google.cloud.pubsub.topic.v1.messagePublished \
            --transport-topic="projects/$PROJECT_ID/topics/$TOPIC"
    fi
    if exists pubsub subscriptions describe "$SUBSCRIPTION"; then
        log "deleting push subscription $SUBSCRIPTION: the Eventarc trigger delivers instead"
        g pubsub subscriptions delete "$SUBSCRIPTION"
    fi
}

# The other way round: back to the push subscription, without the trigger's second copy of every event.
remove_eventarc_trigger() {
    if exists eventarc triggers describe "$EVENTARC_TRIGGER" --location="$REGION"; then
        log "deleting Eventarc trigger $EVENTARC_TRIGGER: the push subscription delivers instead"
        g eventarc triggers delete "$EVENTARC_TRIGGER" --location="$REGION"
    fi
}

ensure_queue() {
    # Backoff 10, 20, 40, 80, 160, 240, 300, 300 s ... for at most 20 attempts; at most 50 dispatches/s and
    # 20 at once, well below what one silo answers.
    local flags=(
        --max-attempts=20
        --min-backoff=10s
        --max-backoff=300s
        --max-doublings=3
        --max-dispatches-per-second=50
        --max-concurrent-dispatches=20
    )
    if exists tasks queues describe "$QUEUE" --location="$REGION"; then
        log "updating queue $QUEUE"
        g tasks queues update "$QUEUE" --location="$REGION" "${flags[@]}"
    else
        log "creating queue $QUEUE in $REGION"
        g tasks queues create "$QUEUE" --location="$REGION" "${flags[@]}"
    fi
}

ensure_redis() {
    # Basic tier, 1 GB, in REGION, reachable from NETWORK through VPC peering (direct peering: the instance
    # authorizes NETWORK; Cloud Run reaches it with direct VPC egress, GKE pods with VPC-native routing).
    # AUTH is on; the password only travels inside the Secret Manager secret.
    if exists redis instances describe "$REDIS_INSTANCE" --region="$REGION"; then
        log "Memorystore instance $REDIS_INSTANCE exists"
    else
        log "creating Memorystore instance $REDIS_INSTANCE (basic, 1 GB; takes about 5 minutes)"
        g redis instances create "$REDIS_INSTANCE" --region="$REGION" --tier=basic --size=1 \
            --redis-version="$REDIS_VERSION" --network="projects/$PROJECT_ID/global/networks/$NETWORK" \
            --connect-mode=direct-peering --enable-auth
    fi
}

redis_connection_string() {
    local host port auth
    host=$(g redis instances describe "$REDIS_INSTANCE" --region="$REGION" --format='value(host)')
    port=$(g redis instances describe "$REDIS_INSTANCE" --region="$REGION" --format='value(port)')
    auth=$(g redis instances get-auth-string "$REDIS_INSTANCE" --region="$REGION" --format='value(authString)')
    [[ -n $host && -n $port ]] || die "Memorystore instance $REDIS_INSTANCE has no host yet"
    if [[ -n $auth ]]; then
        printf '%s:%s,password=%s,abortConnect=false' "$host" "$port" "$auth"
    else
        printf '%s:%s,abortConnect=false' "$host" "$port"
    fi
}

# ensure_secret NAME: the secret exists (its versions are added separately).
ensure_secret() {
    if exists secrets describe "$1"; then
        log "secret $1 exists"
    else
        log "creating secret $1"
        g secrets create "$1" --replication-policy=automatic
    fi
}

# secret_value NAME: the latest version's value, or nothing (and failure) when there is none.
secret_value() { g secrets versions access latest --secret="$1" 2>/dev/null; }

# set_secret NAME VALUE: add a version only when VALUE differs from the latest one. The value goes through stdin,
# never the command line.
set_secret() {
    local current
    current=$(secret_value "$1" || true)
    if [[ $current == "$2" ]]; then
        log "secret $1 is up to date"
    else
        log "adding a version to secret $1"
        printf '%s' "$2" | g secrets versions add "$1" --data-file=- --format=none
    fi
}

ensure_secrets() {
    local token connection hash secret
    ensure_secret "$REDIS_SECRET"
    # Assigned first: a failure inside $(...) passed straight as an argument would not stop the script.
    connection=$(redis_connection_string)
    set_secret "$REDIS_SECRET" "$connection"

    # The operators' bearer token for /ops. Only its SHA-256 reaches the service; the token itself stays in a
    # secret the runtime cannot read (read it with: gcloud secrets versions access latest --secret=pulsecart-operator-token).
    ensure_secret "$OPERATOR_TOKEN_SECRET"
    token=$(secret_value "$OPERATOR_TOKEN_SECRET" || true)
    if [[ -z $token ]]; then
        log "generating the operator token"
        token=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
        printf '%s' "$token" | g secrets versions add "$OPERATOR_TOKEN_SECRET" --data-file=- --format=none
    fi
    ensure_secret "$OPERATOR_HASH_SECRET"
    hash=$(printf '%s' "$token" | sha256_hex)
    set_secret "$OPERATOR_HASH_SECRET" "$hash"
    # Changes whenever a secret the service reads changes (see pulsecart/config-digest in cloud-run/service.yaml).
    CONFIG_DIGEST=$(printf '%s\n%s' "$connection" "$hash" | sha256_hex | cut -c1-16)

    for secret in "$REDIS_SECRET" "$OPERATOR_HASH_SECRET"; do
        retry g secrets add-iam-policy-binding "$secret" --member="serviceAccount:$RUNTIME_SA" \
            --role=roles/secretmanager.secretAccessor --format=none
    done
}

grant_iam() {
    log "granting least-privilege IAM"
    # Runtime: create reminder tasks and delete the ones a purchase made moot, on this queue only.
    retry g tasks queues add-iam-policy-binding "$QUEUE" --location="$REGION" \
        --member="serviceAccount:$RUNTIME_SA" --role=roles/cloudtasks.enqueuer --format=none
    retry g tasks queues add-iam-policy-binding "$QUEUE" --location="$REGION" \
        --member="serviceAccount:$RUNTIME_SA" --role=roles/cloudtasks.taskDeleter --format=none
    # Runtime: the operators' pause switch pauses and resumes this queue (cloudtasks.queues.get, .pause, .resume; no
    # narrower predefined role has them), on this queue only.
    retry g tasks queues add-iam-policy-binding "$QUEUE" --location="$REGION" \
        --member="serviceAccount:$RUNTIME_SA" --role=roles/cloudtasks.queueAdmin --format=none
    # Runtime: a task with oidcToken.serviceAccountEmail=pulsecart-tasks needs actAs on that account, and so does
    # restoring a push config whose OIDC token is minted as pulsecart-pusher (resume after a pause).
    retry g iam service-accounts add-iam-policy-binding "$TASKS_SA" \
        --member="serviceAccount:$RUNTIME_SA" --role=roles/iam.serviceAccountUser --format=none
    retry g iam service-accounts add-iam-policy-binding "$PUSH_SA" \
        --member="serviceAccount:$RUNTIME_SA" --role=roles/iam.serviceAccountUser --format=none
    # Pub/Sub service agent: mint the push OIDC tokens as pulsecart-pusher (needed for projects whose Pub/Sub
    # was enabled before April 2021; harmless otherwise), and publish dead letters.
    retry g iam service-accounts add-iam-policy-binding "$PUSH_SA" \
        --member="serviceAccount:$PUBSUB_AGENT" --role=roles/iam.serviceAccountTokenCreator --format=none
    retry g pubsub topics add-iam-policy-binding "$DLQ_TOPIC" \
        --member="serviceAccount:$PUBSUB_AGENT" --role=roles/pubsub.publisher --format=none
}

infra() { # [extra APIs...]
    enable_apis pubsub.googleapis.com cloudtasks.googleapis.com redis.googleapis.com secretmanager.googleapis.com \
        compute.googleapis.com iam.googleapis.com iamcredentials.googleapis.com monitoring.googleapis.com \
        logging.googleapis.com "$@"
    project_number
    # Service agents exist once their API is used; create them now so the IAM below can name them.
    g beta services identity create --service=pubsub.googleapis.com --format=none
    g beta services identity create --service=cloudtasks.googleapis.com --format=none

    ensure_service_account "$RUNTIME_SA_NAME" "PulseCart Consumer runtime"
    ensure_service_account "$PUSH_SA_NAME" "PulseCart Pub/Sub push identity"
    ensure_service_account "$TASKS_SA_NAME" "PulseCart Cloud Tasks callback identity"

    ensure_topic "$TOPIC"
    ensure_topic "$DLQ_TOPIC"
    ensure_dead_letter_subscription
    ensure_queue
    ensure_redis
    ensure_secrets
    grant_iam
}

# ---------------------------------------------------------------------------------------------------------------
# Manifests
# ---------------------------------------------------------------------------------------------------------------
# render_file SRC DEST: replace every ${NAME} placeholder; fail on any left over.
render_file() {
    local src=$1 dest=$2 content name
    content=$(<"$src")
    for name in PROJECT_ID PROJECT_NUMBER REGION IMAGE SERVICE NETWORK SUBNET DOMAIN PUBLIC_URL RUNTIME_SA PUSH_SA \
        TASKS_SA MESSAGING_SINK WEBHOOK_URL CONFIG_DIGEST LOG_RESOURCE; do
        content=${content//"\${$name}"/${!name:-}}
    done
    if [[ $content =~ \$\{[A-Za-z_][A-Za-z0-9_]*\} ]]; then
        die "$src: placeholder ${BASH_REMATCH[0]} has no value"
    fi
    printf '%s\n' "$content" >"$dest"
}

render_cloud_run() { # DIR
    mkdir -p "$1/cloud-run"
    PUBLIC_URL=$(cloud_run_url)
    render_file "$DEPLOY_DIR/cloud-run/service.yaml" "$1/cloud-run/service.yaml"
}

render_gke() { # DIR
    local file
    mkdir -p "$1/gke/monitoring"
    PUBLIC_URL=https://$DOMAIN
    for file in "$DEPLOY_DIR"/gke/*.yaml "$DEPLOY_DIR"/gke/monitoring/*; do
        render_file "$file" "$1/gke/${file#"$DEPLOY_DIR"/gke/}"
    done
}

# render_monitoring DIR TARGET: the dashboard and alert policies for TARGET, whose logs (and so the log-based
# metrics) come from the monitored resource LOG_RESOURCE.
# LOG_RESOURCE is read by render_file through ${!name}.
# shellcheck disable=SC2034
render_monitoring() {
    local file
    case $2 in
        cloud-run) LOG_RESOURCE=cloud_run_revision ;;
        gke) LOG_RESOURCE=k8s_container ;;
        *) die "internal: no monitoring for $2" ;;
    esac
    mkdir -p "$1/monitoring/$2/policies"
    for file in "$DEPLOY_DIR"/monitoring/dashboard.json "$DEPLOY_DIR"/monitoring/policies/*.json; do
        render_file "$file" "$1/monitoring/$2/${file#"$DEPLOY_DIR"/monitoring/}"
    done
}

# ---------------------------------------------------------------------------------------------------------------
# Monitoring: log-based metrics, the dashboard, the alert policies
# ---------------------------------------------------------------------------------------------------------------
# ensure_log_metric NAME DESCRIPTION FILTER
ensure_log_metric() {
    if exists logging metrics describe "$1"; then
        log "updating log-based metric $1"
        g logging metrics update "$1" --description="$2" --log-filter="$3"
    else
        log "creating log-based metric $1"
        g logging metrics create "$1" --description="$2" --log-filter="$3"
    fi
}

# display_name FILE: the displayName on the second line of a dashboard or policy file (deploy/validate.sh checks
# that every file has it there).
display_name() { sed -n '2s/^  "displayName": "\([^"]*\)",$/\1/p' "$1"; }

ensure_monitoring() { # TARGET
    local dir=$WORK_DIR/monitoring/$1 file name display etag channels=()
    render_monitoring "$WORK_DIR" "$1"
    # Counted from the consumer's structured logs, so the policies work without collecting /metrics.
    ensure_log_metric pulsecart_quarantined "PulseCart deliveries quarantined (one per Quarantined warning)" \
        'jsonPayload.logger:"PulseCart.Consumer" AND jsonPayload.quarantine_id:*'
    ensure_log_metric pulsecart_reminders_dead_lettered "PulseCart cart reminders that failed for good and were quarantined" \
        'jsonPayload.logger="PulseCart.Consumer.Reminders.ReminderCallbackHandler" AND jsonPayload.quarantine_id:* AND jsonPayload.reason=~"^reminder (failed|called back|dead-lettered)"'

    name=$(g monitoring dashboards list --filter="displayName=\"$DASHBOARD_NAME\"" --format='value(name)' | sed -n 1p)
    if [[ -z $name ]]; then
        log "creating dashboard $DASHBOARD_NAME"
        g monitoring dashboards create --config-from-file="$dir/dashboard.json" --format=none
    else
        # An update must carry the etag of the version it replaces.
        etag=$(g monitoring dashboards describe "$name" --format='value(etag)')
        sed "1s/^{$/{\"etag\": \"$etag\",/" "$dir/dashboard.json" >"$dir/dashboard-update.json"
        log "updating dashboard $DASHBOARD_NAME"
        g monitoring dashboards update "$name" --config-from-file="$dir/dashboard-update.json" --format=none
    fi

    for file in "$dir"/policies/*.json; do
        display=$(display_name "$file")
        [[ -n $display ]] || die "$file: no displayName on its second line"
        name=$(g alpha monitoring policies list --filter="displayName=\"$display\"" --format='value(name)' | sed -n 1p)
        if [[ -z $name ]]; then
            [[ -z $ALERT_CHANNELS ]] || channels=(--notification-channels="$ALERT_CHANNELS")
            log "creating alert policy $display"
            g alpha monitoring policies create --policy-from-file="$file" "${channels[@]}" --format=none
        else
            [[ -z $ALERT_CHANNELS ]] || channels=(--set-notification-channels="$ALERT_CHANNELS")
            log "updating alert policy $display"
            g alpha monitoring policies update "$name" --policy-from-file="$file" "${channels[@]}" --format=none
        fi
    done
}

# GKE with the Prometheus Operator: a ServiceMonitor, PrometheusRule alerts and the Grafana dashboard (gke/monitoring/).
# /metrics needs the operator credential, so the scraper gets the operator token in a Secret of its own (through a
# file, never a command line). Skipped where the operator's CRDs are not installed: Autopilot has none by default.
ensure_gke_prometheus() {
    if ! kubectl --context="$KUBE_CONTEXT" get crd prometheusrules.monitoring.coreos.com servicemonitors.monitoring.coreos.com \
        >/dev/null 2>&1; then
        log "no Prometheus Operator on $GKE_CLUSTER: gke/monitoring/ not applied (Cloud Monitoring covers the alerts)"
        return 0
    fi
    secret_value "$OPERATOR_TOKEN_SECRET" >"$WORK_DIR/metrics-token" || die "secret $OPERATOR_TOKEN_SECRET has no value"
    log "$(kubectl --context="$KUBE_CONTEXT" -n "$K8S_NAMESPACE" create secret generic "$METRICS_SCRAPE_SECRET" \
        --from-file=token="$WORK_DIR/metrics-token" --dry-run=client -o yaml | kubectl --context="$KUBE_CONTEXT" apply -f -)"
    kubectl --context="$KUBE_CONTEXT" apply -k "$WORK_DIR/gke/monitoring"
}

# ---------------------------------------------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------------------------------------------
WORK_DIR=
cleanup() { [[ -z $WORK_DIR ]] || rm -rf "$WORK_DIR"; }
trap cleanup EXIT
work_dir() {
    if [[ -z $WORK_DIR ]]; then
        WORK_DIR=$(umask 077 && mktemp -d "${TMPDIR:-/tmp}/pulsecart-deploy.XXXXXX")
    fi
}

deploy_cloud_run() {
    check_settings image
    if [[ $DELIVERY == eventarc ]]; then
        infra run.googleapis.com eventarc.googleapis.com
    else
        infra run.googleapis.com
    fi
    work_dir
    render_cloud_run "$WORK_DIR"

    log "deploying Cloud Run service $SERVICE ($IMAGE)"
    g run services replace "$WORK_DIR/cloud-run/service.yaml" --region="$REGION"
    # Push and task identities may invoke the service. The invoker check is off (the app verifies the tokens;
    # see service.yaml), so these bindings only matter if it is switched back on.
    local sa
    for sa in "$PUSH_SA" "$TASKS_SA"; do
        retry g run services add-iam-policy-binding "$SERVICE" --region="$REGION" \
            --member="serviceAccount:$sa" --role=roles/run.invoker --format=none
    done

    if [[ $DELIVERY == eventarc ]]; then
        ensure_eventarc_trigger
    else
        remove_eventarc_trigger
        ensure_push_subscription "$PUBLIC_URL/consumer/push"
    fi
    ensure_monitoring cloud-run
    summary
}

deploy_gke() {
    check_settings image domain
    [[ $DELIVERY == push ]] || die "DELIVERY=$DELIVERY: the Eventarc trigger is for cloud-run; gke takes the push subscription"
    command -v kubectl >/dev/null 2>&1 || die "kubectl is needed for gke (gcloud components install kubectl)"
    infra container.googleapis.com
    work_dir

    if exists container clusters describe "$GKE_CLUSTER" --location="$REGION"; then
        log "GKE cluster $GKE_CLUSTER exists"
    else
        # Autopilot: Workload Identity, Dataplane V2 (NetworkPolicy enforced) and the Gateway controller built in.
        log "creating GKE Autopilot cluster $GKE_CLUSTER (takes about 10 minutes)"
        g container clusters create-auto "$GKE_CLUSTER" --location="$REGION" --network="$NETWORK" \
            --subnetwork="$SUBNET"
    fi
    local gateway_channel
    gateway_channel=$(g container clusters describe "$GKE_CLUSTER" --location="$REGION" \
        --format='value(networkConfig.gatewayApiConfig.channel)')
    if [[ -z $gateway_channel ]]; then
        log "enabling the Gateway API on $GKE_CLUSTER"
        g container clusters update "$GKE_CLUSTER" --location="$REGION" --gateway-api=standard
    fi
    g container clusters get-credentials "$GKE_CLUSTER" --location="$REGION"

    # Workload Identity: the pods' Kubernetes service account acts as the runtime Google service account.
    retry g iam service-accounts add-iam-policy-binding "$RUNTIME_SA" --role=roles/iam.workloadIdentityUser \
        --member="serviceAccount:$PROJECT_ID.svc.id.goog[$K8S_NAMESPACE/$K8S_SERVICE_ACCOUNT]" --format=none

    if exists compute addresses describe "$GATEWAY_ADDRESS" --global; then
        log "address $GATEWAY_ADDRESS exists"
    else
        log "reserving global address $GATEWAY_ADDRESS"
        g compute addresses create "$GATEWAY_ADDRESS" --global --ip-version=IPV4
    fi
    GATEWAY_IP=$(g compute addresses describe "$GATEWAY_ADDRESS" --global --format='value(address)')
    if exists compute ssl-certificates describe "$GATEWAY_CERT" --global; then
        log "certificate $GATEWAY_CERT exists"
    else
        log "creating Google-managed certificate $GATEWAY_CERT for $DOMAIN"
        g compute ssl-certificates create "$GATEWAY_CERT" --domains="$DOMAIN" --global
    fi

    render_gke "$WORK_DIR"
    kubectl --context="$KUBE_CONTEXT" apply -f "$WORK_DIR/gke/namespace.yaml"

    # The Kubernetes Secret is made from Secret Manager, through files, so no value shows on a command line.
    secret_value "$REDIS_SECRET" >"$WORK_DIR/redis" || die "secret $REDIS_SECRET has no value"
    secret_value "$OPERATOR_HASH_SECRET" >"$WORK_DIR/operator-token-sha256" || die "secret $OPERATOR_HASH_SECRET has no value"
    local applied restart=false
    applied=$(kubectl --context="$KUBE_CONTEXT" -n "$K8S_NAMESPACE" create secret generic pulsecart-secrets \
        --from-file=redis="$WORK_DIR/redis" --from-file=operator-token-sha256="$WORK_DIR/operator-token-sha256" \
        --dry-run=client -o yaml | kubectl --context="$KUBE_CONTEXT" apply -f -)
    log "$applied"
    if [[ $applied == *configured* ]]; then restart=true; fi

    kubectl --context="$KUBE_CONTEXT" apply -k "$WORK_DIR/gke"
    if $restart; then
        # Environment variables from a Secret are read at start: new values need new pods.
        kubectl --context="$KUBE_CONTEXT" -n "$K8S_NAMESPACE" rollout restart deployment/pulsecart-consumer
    fi
    kubectl --context="$KUBE_CONTEXT" -n "$K8S_NAMESPACE" rollout status deployment/pulsecart-consumer --timeout=600s

    ensure_push_subscription "$PUBLIC_URL/consumer/push"
    ensure_gke_prometheus
    ensure_monitoring gke
    summary
    log "DNS: point $DOMAIN (A record) at $GATEWAY_IP. The certificate becomes ACTIVE once it resolves (up to an"
    log "hour); until then pushes fail and Pub/Sub keeps retrying them (nothing is lost)."
}

summary() {
    if [[ $DELIVERY == eventarc ]]; then
        log "done. Eventarc trigger $EVENTARC_TRIGGER delivers $TOPIC to $PUBLIC_URL/consumer/push (dead letters: see deploy/README.md)"
    else
        log "done. Push endpoint: $PUBLIC_URL/consumer/push (subscription $SUBSCRIPTION, dead letters in $DLQ_SUBSCRIPTION)"
    fi
    log "publish a test event: see deploy/README.md, 'Verify'"
}

status() {
    check_settings
    project_number
    log "Cloud Run URL (if deployed there): $(cloud_run_url)"
    g run services describe "$SERVICE" --region="$REGION" --format='value(status.url,status.latestReadyRevisionName)' || true
    g pubsub subscriptions describe "$SUBSCRIPTION" \
        --format='yaml(pushConfig,ackDeadlineSeconds,retryPolicy,deadLetterPolicy)' || true
    g tasks queues describe "$QUEUE" --location="$REGION" --format='yaml(state,rateLimits,retryConfig)' || true
    if [[ $DELIVERY == eventarc ]]; then
        g eventarc triggers describe "$EVENTARC_TRIGGER" --location="$REGION" \
            --format='yaml(destination,eventFilters,transport,serviceAccount)' || true
    fi
}

dead_letters() { # [LIMIT]
    check_settings
    local limit=${1:-10}
    [[ $limit =~ ^[0-9]+$ ]] || die "dead-letters takes a number"
    # No --auto-ack: the messages stay in the subscription and show again after the ack deadline.
    g pubsub subscriptions pull "$DLQ_SUBSCRIPTION" --limit="$limit" \
        --format='table(message.messageId,message.publishTime,message.attributes,message.data.decode(base64))'
}

main() {
    (($# >= 1)) || usage
    local command=$1
    shift
    load_settings
    case $command in
        infra) check_settings && infra ;;
        cloud-run) deploy_cloud_run ;;
        gke) deploy_gke ;;
        render)
            (($# == 2)) || usage
            local target=$1 out=$2
            case $target in
                cloud-run) check_settings image ;;
                gke | all) check_settings image domain ;;
                *) usage ;;
            esac
            project_number
            mkdir -p "$out"
            [[ $target == gke ]] || { render_cloud_run "$out" && render_monitoring "$out" cloud-run; }
            [[ $target == cloud-run ]] || { render_gke "$out" && render_monitoring "$out" gke; }
            log "rendered $target into $out"
            ;;
        status) status ;;
        dead-letters) dead_letters "$@" ;;
        -h | --help | help) usage ;;
        *) usage ;;
    esac
}

main "$@"
