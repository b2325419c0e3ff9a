#!/usr/bin/env bash
# Validates everything under deploy/ without Google Cloud or a cluster; exits non-zero on any problem.
#
#   1. yamllint on every YAML file (deploy/.yamllint)
#   2. bash -n and shellcheck on every shell script
#   3. deploy/gcp.sh render: the manifests filled in with example values (no placeholder left)
#   4. kubectl kustomize of the rendered gke/ (when kubectl is on the machine)
#   5. every YAML document, committed, rendered and kustomized: strict parse, apiVersion/kind/metadata.name,
#      the JSON schema of its kind (kubernetes-models: Kubernetes, Gateway API, GKE, Knative, Prometheus Operator),
#      and the project's rules (tools/validate-manifests.mjs), which also cover the Cloud Monitoring dashboard and
#      alert policies and the Grafana dashboard, every PromQL query parsed; then broken copies must be rejected
#   6. deploy/gcp.sh run end to end against stand-ins for gcloud and kubectl (tools/fakes), twice: the first run
#      must create every resource with the agreed settings, the second must create nothing (idempotent)
#   7. every gcloud command line those runs produced, parsed by the real gcloud (when installed) with no
#      credentials: an unknown flag or a malformed value is an error; nothing is sent anywhere. The dashboard and
#      alert policy files are read into the Cloud SDK's own API messages (tools/monitoring-check.py): a field the
#      API does not have is an error
#
# Installs what it lacks: yamllint and shellcheck (apt-get, as root), the npm packages pinned in
# tools/package-lock.json (into tools/node_modules). After that it runs offline, in well under a minute.
# VALIDATE_GCLOUD=0 skips step 7.
set -Eeuo pipefail

DEPLOY_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOOLS=$DEPLOY_DIR/tools
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pulsecart-validate.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

failures=0
step() { printf '== %s  [%ss]\n' "$*" "$SECONDS"; }
ok() { printf '   ok: %s\n' "$*"; }
fail() {
    printf '   FAIL: %s\n' "$*" >&2
    failures=$((failures + 1))
}

# ---------------------------------------------------------------------------------------------------------------
step "tools"
apt_install() {
    local missing=()
    for tool in "$@"; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
    ((${#missing[@]} == 0)) && return 0
    if [[ $(id -u) != 0 ]]; then
        echo "deploy/validate.sh needs ${missing[*]}: install them (apt-get install ${missing[*]}) or run as root" >&2
        exit 1
    fi
    echo "   installing ${missing[*]} with apt-get"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >"$WORK/apt.log" 2>&1; then
        apt-get update -qq >>"$WORK/apt.log" 2>&1
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >>"$WORK/apt.log" 2>&1 ||
            { cat "$WORK/apt.log" >&2; exit 1; }
    fi
}
apt_install yamllint shellcheck
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    apt_install nodejs npm
fi
# npm ci again only when the lock file changed since the last install.
lock_sum=$(sha256sum "$TOOLS/package-lock.json" | cut -d' ' -f1)
if [[ ! -d $TOOLS/node_modules || $(cat "$TOOLS/node_modules/.lock-sum" 2>/dev/null) != "$lock_sum" ]]; then
    echo "   installing npm packages (tools/package-lock.json)"
    (cd "$TOOLS" && npm ci --no-audit --no-fund --loglevel=error >"$WORK/npm.log" 2>&1) ||
        { cat "$WORK/npm.log" >&2; exit 1; }
    echo "$lock_sum" >"$TOOLS/node_modules/.lock-sum"
fi
ok "yamllint $(yamllint --version | cut -d' ' -f2), shellcheck $(shellcheck --version | sed -n 's/^version: //p'), node $(node --version)"

# ---------------------------------------------------------------------------------------------------------------
step "yamllint"
if (cd "$DEPLOY_DIR" && yamllint -s -c .yamllint .) >"$WORK/yamllint.log" 2>&1; then
    ok "$(find "$DEPLOY_DIR" -path "$TOOLS/node_modules" -prune -o \( -name '*.yaml' -o -name '*.yml' \) -print | wc -l) YAML files"
else
    cat "$WORK/yamllint.log" >&2
    fail "yamllint"
fi

# ---------------------------------------------------------------------------------------------------------------
# No Docker daemon here to build it: lint the Dockerfile (the test command proves its publish steps, all but the
# consumer's composite compile, which bench/run.sh runs).
step "Dockerfile"
if "$TOOLS/node_modules/.bin/dockerfilelint" "$DEPLOY_DIR/../Dockerfile" >"$WORK/dockerfilelint.log" 2>&1; then
    ok "dockerfilelint: no issue"
else
    cat "$WORK/dockerfilelint.log" >&2
    fail "dockerfilelint"
fi

# ---------------------------------------------------------------------------------------------------------------
step "shell scripts"
scripts=("$DEPLOY_DIR"/*.sh "$TOOLS"/fakes/*)
for script in "${scripts[@]}"; do
    bash -n "$script" || fail "bash -n ${script#"$DEPLOY_DIR"/}"
done
if shellcheck -x "${scripts[@]}"; then ok "bash -n and shellcheck: ${#scripts[@]} scripts"; else fail "shellcheck"; fi

# ---------------------------------------------------------------------------------------------------------------
# Example values: what a user puts in deploy/pulsecart.env.
example_env() {
    env -u PULSECART_ENV PULSECART_ENV="$WORK/example.env" "$@"
}
cat >"$WORK/example.env" <<'EOF'
PROJECT_ID=my-shop-prod
REGION=europe-west1
IMAGE=europe-west1-docker.pkg.dev/my-shop-prod/pulsecart/consumer:1.0.0
DOMAIN=pulsecart.example.com
EOF

step "render"
if example_env PROJECT_NUMBER=123456789012 "$DEPLOY_DIR/gcp.sh" render all "$WORK/rendered" 2>"$WORK/render.log"; then
    ok "deploy/gcp.sh render all"
else
    cat "$WORK/render.log" >&2
    fail "render"
fi
# The webhook sink once a WEBHOOK_URL is given.
if example_env PROJECT_NUMBER=123456789012 WEBHOOK_URL=https://messages.example.com/v1/send \
    "$DEPLOY_DIR/gcp.sh" render cloud-run "$WORK/rendered-webhook" 2>"$WORK/render.log" &&
    grep -A1 'name: PulseCart__Messaging__Sink' "$WORK/rendered-webhook/cloud-run/service.yaml" | grep -q 'value: webhook'; then
    ok "WEBHOOK_URL selects the webhook sink"
else
    fail "WEBHOOK_URL does not select the webhook sink"
fi
# Bad settings stop the script before anything is done.
for bad in PROJECT_ID=Bad_Project REGION=europe IMAGE='img with space' DOMAIN=not_a_host WEBHOOK_URL='ftp://x'; do
    if example_env PROJECT_NUMBER=1 "$bad" "$DEPLOY_DIR/gcp.sh" render all "$WORK/bad" 2>/dev/null; then
        fail "gcp.sh accepted $bad"
    fi
done
ok "invalid settings are refused"

KUSTOMIZED=''
KUSTOMIZED_MONITORING=''
step "kubectl kustomize"
if ! command -v kubectl >/dev/null 2>&1; then
    echo "   skipped: kubectl is not installed (it comes with the Cloud SDK)"
else
    if kubectl kustomize "$WORK/rendered/gke" >"$WORK/kustomized.yaml" 2>"$WORK/kustomize.log"; then
        KUSTOMIZED=$WORK/kustomized.yaml
        ok "$(grep -c '^kind:' "$KUSTOMIZED") objects built"
    else
        cat "$WORK/kustomize.log" >&2
        fail "kubectl kustomize"
    fi
    if kubectl kustomize "$WORK/rendered/gke/monitoring" >"$WORK/kustomized-monitoring.yaml" 2>"$WORK/kustomize.log"; then
        KUSTOMIZED_MONITORING=$WORK/kustomized-monitoring.yaml
        ok "$(grep -c '^kind:' "$KUSTOMIZED_MONITORING") monitoring objects built (gke/monitoring)"
    else
        cat "$WORK/kustomize.log" >&2
        fail "kubectl kustomize gke/monitoring"
    fi
fi

# ---------------------------------------------------------------------------------------------------------------
step "manifests"
if (cd "$TOOLS" && node validate-manifests.mjs "$DEPLOY_DIR" "$WORK/rendered" ${KUSTOMIZED:+"$KUSTOMIZED"} \
    ${KUSTOMIZED_MONITORING:+"$KUSTOMIZED_MONITORING"}); then
    :
else
    fail "manifests"
fi
# The checks must bite: each broken copy has to be rejected.
broken() { # DESCRIPTION FILE SED-EXPRESSION
    rm -rf "$WORK/broken" && cp -r "$WORK/rendered" "$WORK/broken"
    sed -i "$3" "$WORK/broken/$2"
    if cmp -s "$WORK/rendered/$2" "$WORK/broken/$2"; then
        fail "self-test '$1' changed nothing"
    elif (cd "$TOOLS" && node validate-manifests.mjs "$DEPLOY_DIR" "$WORK/broken" >/dev/null 2>&1); then
        fail "validator accepted: $1"
    fi
}
broken "maxScale 2 on Cloud Run" cloud-run/service.yaml 's/maxScale: "1"/maxScale: "2"/'
broken "a port as a string" gke/deployment.yaml 's/containerPort: 11111/containerPort: "11111"/'
broken "no POD_IP" gke/deployment.yaml 's/name: POD_IP/name: POD_ADDRESS/'
broken "silo label differs from ORLEANS_CLUSTER_ID" gke/deployment.yaml 's|orleans/clusterId: pulsecart|orleans/clusterId: other|'
broken "a duplicate key" gke/service.yaml 's/^  type: ClusterIP/  type: ClusterIP\n  type: NodePort/'
broken "an unknown kind" gke/poddisruptionbudget.yaml 's/kind: PodDisruptionBudget/kind: PodDisruptionBudgett/'
broken "a PromQL syntax error in an alert policy" monitoring/gke/policies/push-5xx-rate.json 's/> 0.05/> > 0.05/'
broken "an alert missing from the PrometheusRule" gke/monitoring/prometheusrule.yaml 's/alert: PulseCartPausedTooLong/alert: PulseCartPaused/'
broken "/metrics scraped without the operator credential" gke/monitoring/servicemonitor.yaml 's/name: pulsecart-metrics-scrape/name: pulsecart-secrets/'
broken "a policy reading log-based metrics from the other platform" monitoring/cloud-run/policies/quarantine-growing.json 's/cloud_run_revision/k8s_container/'
ok "10 broken copies rejected"

# ---------------------------------------------------------------------------------------------------------------
step "deploy/gcp.sh against stand-ins for gcloud and kubectl"
export FAKE_DIR FAKE_LOG
REAL_KUBECTL=$(command -v kubectl || true)
export REAL_KUBECTL
run_fake() { # LOG COMMAND [ARGS...]
    FAKE_LOG=$1
    shift
    PATH="$TOOLS/fakes:$PATH" example_env "$DEPLOY_DIR/gcp.sh" "$@" >>"$FAKE_LOG.out" 2>&1
}
must_log() { # LOG PATTERN DESCRIPTION
    if grep -Eq -- "$2" "$1"; then :; else fail "$(basename "$1"): $3 (no line matching: $2)"; fi
}
must_not_log() {
    if grep -Eq -- "$2" "$1"; then fail "$(basename "$1"): $3 ($(grep -Em1 -- "$2" "$1" | cut -c1-160))"; fi
}

P=my-shop-prod
AGENT="serviceAccount:service-123456789012@gcp-sa-pubsub.iam.gserviceaccount.com"
RUNTIME="serviceAccount:pulsecart-consumer@$P.iam.gserviceaccount.com"
RUN_URL="https://pulsecart-consumer-123456789012.europe-west1.run.app"
for target in cloud-run gke; do
    # Each target starts from an empty project; its second run sees what the first one created.
    FAKE_DIR=$WORK/fake-$target
    mkdir -p "$FAKE_DIR"
    first=$WORK/$target-1.log second=$WORK/$target-2.log
    if ! run_fake "$first" "$target"; then
        tail -20 "$first.out" >&2
        fail "$target: first run failed"
        continue
    fi
    if [[ $target == cloud-run ]]; then url=$RUN_URL; else url=https://pulsecart.example.com; fi
    must_log "$first" "pubsub topics create pulsecart-events( |$)" "creates the events topic"
    must_log "$first" "pubsub topics create pulsecart-events-dead-letter( |$)" "creates the dead-letter topic"
    must_log "$first" "pubsub subscriptions create pulsecart-events-dead-letter-sub --topic=pulsecart-events-dead-letter .*--message-retention-duration=7d" \
        "keeps dead letters in a subscription"
    must_log "$first" "pubsub subscriptions create pulsecart-consumer --topic=pulsecart-events --push-endpoint=$url/consumer/push --push-auth-service-account=pulsecart-pusher@$P.iam.gserviceaccount.com --push-auth-token-audience=$url/consumer/push --ack-deadline=60 --min-retry-delay=10s --max-retry-delay=600s --dead-letter-topic=projects/$P/topics/pulsecart-events-dead-letter --max-delivery-attempts=10" \
        "creates the push subscription as agreed"
    must_log "$first" "pubsub topics add-iam-policy-binding pulsecart-events-dead-letter --member=$AGENT --role=roles/pubsub.publisher" "lets the Pub/Sub agent publish dead letters"
    must_log "$first" "pubsub subscriptions add-iam-policy-binding pulsecart-consumer --member=$AGENT --role=roles/pubsub.subscriber" "lets the Pub/Sub agent ack dead-lettered messages"
    must_log "$first" "iam service-accounts add-iam-policy-binding pulsecart-pusher@$P.iam.gserviceaccount.com --member=$AGENT --role=roles/iam.serviceAccountTokenCreator" "lets the Pub/Sub agent mint push tokens"
    must_log "$first" "tasks queues create pulsecart-cart-reminders --location=europe-west1 --max-attempts=20 --min-backoff=10s --max-backoff=300s --max-doublings=3 --max-dispatches-per-second=50 --max-concurrent-dispatches=20" \
        "creates the queue as agreed"
    must_log "$first" "tasks queues add-iam-policy-binding pulsecart-cart-reminders --location=europe-west1 --member=$RUNTIME --role=roles/cloudtasks.enqueuer" "runtime may enqueue"
    must_log "$first" "tasks queues add-iam-policy-binding pulsecart-cart-reminders --location=europe-west1 --member=$RUNTIME --role=roles/cloudtasks.taskDeleter" "runtime may delete moot reminders"
    must_log "$first" "iam service-accounts add-iam-policy-binding pulsecart-tasks@$P.iam.gserviceaccount.com --member=$RUNTIME --role=roles/iam.serviceAccountUser" "runtime may attach OIDC tokens as pulsecart-tasks"
    must_log "$first" "tasks queues add-iam-policy-binding pulsecart-cart-reminders --location=europe-west1 --member=$RUNTIME --role=roles/cloudtasks.queueAdmin" "runtime may pause and resume the queue (pause switch)"
    must_log "$first" "pubsub subscriptions add-iam-policy-binding pulsecart-consumer --member=$RUNTIME --role=roles/pubsub.editor" "runtime may detach and restore the push endpoint (pause switch)"
    must_log "$first" "iam service-accounts add-iam-policy-binding pulsecart-pusher@$P.iam.gserviceaccount.com --member=$RUNTIME --role=roles/iam.serviceAccountUser" "runtime may restore the push config's OIDC token as pulsecart-pusher"
    must_log "$first" "secrets add-iam-policy-binding pulsecart-redis-connection --member=$RUNTIME --role=roles/secretmanager.secretAccessor" "runtime may read the Redis secret"
    must_log "$first" "redis instances create pulsecart-redis --region=europe-west1 --tier=basic --size=1 " "creates a basic 1 GB Memorystore"
    must_log "$first" "secrets versions add pulsecart-redis-connection --data-file=-" "stores the Redis connection string"
    must_not_log "$first" "projects add-iam-policy-binding" "grants a project-wide role (everything is per resource)"
    must_not_log "$first" "fake-redis-auth-string|password=" "puts a secret on a command line"
    must_not_log "$first" "secrets add-iam-policy-binding pulsecart-operator-token " "lets the runtime read the operator token itself"
    must_log "$first" "logging metrics create pulsecart_quarantined --description=.* --log-filter=" "creates the log-based metric of quarantined deliveries"
    must_log "$first" "logging metrics create pulsecart_reminders_dead_lettered " "creates the log-based metric of dead-lettered reminders"
    must_log "$first" "monitoring dashboards create --config-from-file=[^ ]*/monitoring/$target/dashboard.json" "creates the dashboard"
    for policy in push-5xx-rate push-p99-near-ack-deadline quarantine-growing dead-letters reminders-dead-lettered paused-too-long; do
        must_log "$first" "alpha monitoring policies create --policy-from-file=[^ ]*/monitoring/$target/policies/$policy.json" "creates the alert policy $policy"
    done
    if [[ $target == cloud-run ]]; then
        must_log "$first" "run services replace .*/cloud-run/service.yaml --region=europe-west1" "deploys the Cloud Run service"
        for sa in pulsecart-pusher pulsecart-tasks; do
            must_log "$first" "run services add-iam-policy-binding pulsecart-consumer --region=europe-west1 --member=serviceAccount:$sa@$P.iam.gserviceaccount.com --role=roles/run.invoker" "$sa may invoke the service"
        done
    else
        must_log "$first" "container clusters create-auto pulsecart --location=europe-west1" "creates the Autopilot cluster"
        must_log "$first" "iam service-accounts add-iam-policy-binding pulsecart-consumer@$P.iam.gserviceaccount.com --role=roles/iam.workloadIdentityUser --member=serviceAccount:$P.svc.id.goog\\\\\[pulsecart/pulsecart-consumer\\\\\]" \
            "binds Workload Identity"
        must_log "$first" "compute ssl-certificates create pulsecart-cert --domains=pulsecart.example.com --global" "creates the certificate"
        must_log "$first" "kubectl --context=gke_${P}_europe-west1_pulsecart apply -k " "applies the kustomization"
        must_log "$first" "rollout status deployment/pulsecart-consumer" "waits for the rollout"
        must_not_log "$first" "rollout restart" "restarts pods on a first deployment"
        must_log "$first" "kubectl .* get crd prometheusrules.monitoring.coreos.com" "looks for the Prometheus Operator"
        must_log "$first" "create secret generic pulsecart-metrics-scrape --from-file=token=" "gives the scraper the operator credential through a file"
        must_log "$first" "kubectl --context=gke_${P}_europe-west1_pulsecart apply -k [^ ]*/gke/monitoring" "applies gke/monitoring"
        [[ -z $REAL_KUBECTL || -s $FAKE_DIR/kustomized-gke.yaml ]] || fail "gke: kubectl apply -k built nothing"
        [[ -z $REAL_KUBECTL || -s $FAKE_DIR/kustomized-monitoring.yaml ]] || fail "gke: kubectl apply -k gke/monitoring built nothing"
    fi

    if ! run_fake "$second" "$target"; then
        tail -20 "$second.out" >&2
        fail "$target: second run failed"
        continue
    fi
    grep -v ' beta services identity create ' "$second" >"$second.no-agents" || true
    must_not_log "$second.no-agents" "^gcloud .* (create|create-auto) " "creates something that exists (not idempotent)"
    must_not_log "$second" "secrets versions add" "adds a secret version with nothing changed"
    must_log "$second" "pubsub subscriptions update pulsecart-consumer --push-endpoint=$url/consumer/push" "updates the push subscription"
    must_log "$second" "tasks queues update pulsecart-cart-reminders" "updates the queue"
    must_log "$second" "monitoring dashboards update projects/my-shop-prod/dashboards/[^ ]+ --config-from-file=" "updates the dashboard it created"
    must_log "$second" "alpha monitoring policies update projects/my-shop-prod/alertPolicies/[^ ]+ --policy-from-file=[^ ]*/paused-too-long.json" "updates the alert policies"
    must_log "$second" "logging metrics update pulsecart_quarantined " "updates the log-based metrics"
    if [[ $target == cloud-run ]]; then
        # The read-only commands, for the gcloud check below.
        run_fake "$second" status || fail "gcp.sh status failed: $(tail -3 "$second.out")"
        run_fake "$second" dead-letters 5 || fail "gcp.sh dead-letters failed: $(tail -3 "$second.out")"
        must_log "$second" "pubsub subscriptions pull pulsecart-events-dead-letter-sub --limit=5" "dead-letters lists the dead-letter subscription"
        # The deployed file: filled in, with a digest of the secrets that only changes when they do.
        digests=$(sed -n 's/^ *pulsecart\/config-digest: "\(.*\)"$/\1/p' "$FAKE_DIR"/replaced-service.*.yaml | sort -u)
        [[ $digests =~ ^[0-9a-f]{16}$ ]] || fail "cloud-run: config digest '$digests' is not one 16-digit hash over both runs"
        if grep -Eq '[$][{][A-Z_]+[}]' "$FAKE_DIR"/replaced-service.*.yaml; then
            fail "cloud-run: the deployed service.yaml has a placeholder left"
        fi
    else
        must_not_log "$second" "rollout restart" "restarts pods with the Secret unchanged"
    fi
done
if ((failures == 0)); then ok "cloud-run and gke: first run creates everything as agreed, second run creates nothing"; fi

# The Eventarc alternative: a trigger on the events topic instead of the push subscription, in a project that first
# had the push subscription (switching must leave one way of delivery, not two), and back again.
FAKE_DIR=$WORK/fake-eventarc
mkdir -p "$FAKE_DIR"
arc_push=$WORK/eventarc-0.log arc_first=$WORK/eventarc-1.log arc_second=$WORK/eventarc-2.log arc_back=$WORK/eventarc-back-2.log
if run_fake "$arc_push" cloud-run && DELIVERY=eventarc run_fake "$arc_first" cloud-run &&
    DELIVERY=eventarc run_fake "$arc_second" cloud-run && DELIVERY=eventarc run_fake "$arc_second" status &&
    run_fake "$arc_back" cloud-run; then
    must_log "$arc_first" "services enable .*eventarc.googleapis.com" "enables the Eventarc API"
    must_log "$arc_first" "eventarc triggers create pulsecart-events-trigger --location=europe-west1 --destination-run-service=pulsecart-consumer --destination-run-region=europe-west1 --destination-run-path=/consumer/push --service-account=pulsecart-pusher@$P.iam.gserviceaccount.com --event-filters=type=google.cloud.pubsub.topic.v1.messagePublished --transport-topic=projects/$P/topics/pulsecart-events" \
        "creates the Eventarc trigger as agreed"
    must_log "$arc_first" "pubsub subscriptions delete pulsecart-consumer" "removes the push subscription the trigger replaces"
    must_not_log "$arc_first" "pubsub subscriptions (create|update) pulsecart-consumer" "keeps a push subscription next to the trigger"
    must_log "$arc_second" "eventarc triggers update pulsecart-events-trigger --location=europe-west1" "updates the trigger on a second run"
    must_not_log "$arc_second" "^gcloud .* create pulsecart-events-trigger" "creates the trigger twice (not idempotent)"
    must_log "$arc_second" "eventarc triggers describe pulsecart-events-trigger --location=europe-west1 --format=" "status shows the trigger"
    must_log "$arc_back" "eventarc triggers delete pulsecart-events-trigger --location=europe-west1" "removes the trigger when going back to push"
    must_log "$arc_back" "pubsub subscriptions create pulsecart-consumer" "recreates the push subscription when going back to push"
    if DELIVERY=eventarc run_fake "$WORK/eventarc-gke.log" gke; then fail "gke accepted DELIVERY=eventarc"; fi
    if ((failures == 0)); then ok "DELIVERY=eventarc: the trigger replaces the push subscription, idempotently, and back"; fi
else
    tail -20 "$WORK"/eventarc-*.log.out >&2
    fail "DELIVERY=eventarc: a run of deploy/gcp.sh failed"
fi

# ---------------------------------------------------------------------------------------------------------------
if [[ ${VALIDATE_GCLOUD:-1} == 0 ]]; then
    step "gcloud command lines"
    echo "   skipped: VALIDATE_GCLOUD=0"
elif ! command -v gcloud >/dev/null 2>&1; then
    step "gcloud command lines"
    echo "   skipped: gcloud is not installed"
else
    step "gcloud command lines, parsed by gcloud $(sed -n 's/^Google Cloud SDK //p' <<<"$(gcloud version 2>/dev/null)")"
    # A throw-away configuration: no account, no metadata server, no usage reporting, no update check.
    export CLOUDSDK_CONFIG=$WORK/gcloud-config CLOUDSDK_CORE_DISABLE_PROMPTS=1 \
        CLOUDSDK_CORE_DISABLE_USAGE_REPORTING=true CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK=true \
        CLOUDSDK_CORE_CHECK_GCE_METADATA=false
    mkdir -p "$CLOUDSDK_CONFIG"
    sdk_root=$(dirname "$(dirname "$(readlink -f "$(command -v gcloud)")")")
    sdk_python=${CLOUDSDK_PYTHON:-python3}
    [[ ! -x $sdk_root/platform/bundledpythonunix/bin/python3 ]] || sdk_python=$sdk_root/platform/bundledpythonunix/bin/python3
    # Every distinct line both targets produced; `run services replace` reads its file while parsing, so it gets
    # the rendered one (the script's own temporary copy is gone). The last line must be rejected: it proves the
    # check can fail.
    cat "$WORK"/*-[12].log | grep '^gcloud ' | sort -u |
        sed -e "s|/[^ ]*/cloud-run/service.yaml|$WORK/rendered/cloud-run/service.yaml|" \
            -e "s#/[^ ]*/monitoring/\(cloud-run\|gke\)/#$WORK/rendered/monitoring/\1/#" \
            -e "s|/dashboard-update.json|/dashboard.json|" >"$WORK/gcloud-lines"
    echo "gcloud --project=my-shop-prod pubsub topics create canary --no-such-flag=1" >>"$WORK/gcloud-lines"
    "$sdk_python" "$TOOLS/gcloud-parse-check.py" "$sdk_root" "$WORK/gcloud-lines" >"$WORK/gcloud-parse.log" 2>&1 || true
    total=$(($(wc -l <"$WORK/gcloud-lines") - 1))
    if [[ $(grep -c '^FAIL ' "$WORK/gcloud-parse.log") == 1 ]] && grep -q '^FAIL .*--no-such-flag' "$WORK/gcloud-parse.log"; then
        ok "$total distinct command lines accepted (and a bad flag rejected)"
    else
        grep -v -- '--no-such-flag\|unrecognized arguments: --no-such-flag' "$WORK/gcloud-parse.log" >&2 || true
        fail "gcloud rejected command lines of deploy/gcp.sh (or the check itself did not work)"
    fi
    # The monitoring files as the API will read them; a copy with a misspelt field must be refused.
    cp "$WORK/rendered/monitoring/gke/policies/dead-letters.json" "$WORK/misspelt-policy.json"
    sed -i 's/"evaluationInterval"/"evaluationIntervall"/' "$WORK/misspelt-policy.json"
    if "$sdk_python" "$TOOLS/monitoring-check.py" "$sdk_root" "$WORK"/rendered/monitoring/*/dashboard.json \
        "$WORK"/rendered/monitoring/*/policies/*.json >"$WORK/monitoring-check.log" 2>&1; then
        ok "$(grep -c '^ok ' "$WORK/monitoring-check.log") dashboard and alert policy files read into the API's messages"
    else
        cat "$WORK/monitoring-check.log" >&2
        fail "the monitoring files do not fit the Cloud Monitoring API"
    fi
    if "$sdk_python" "$TOOLS/monitoring-check.py" "$sdk_root" "$WORK/misspelt-policy.json" >/dev/null 2>&1; then
        fail "monitoring-check.py accepted a misspelt field"
    fi
fi

# ---------------------------------------------------------------------------------------------------------------
if ((failures > 0)); then
    echo "deploy/validate.sh: $failures problem(s)" >&2
    exit 1
fi
echo "deploy/validate.sh: all checks passed"
