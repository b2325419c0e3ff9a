// Offline validation of deploy/ manifests, run by deploy/validate.sh.
//
//   node validate-manifests.mjs DEPLOY_DIR RENDERED_DIR [KUSTOMIZED_YAML [KUSTOMIZED_MONITORING_YAML]]
//
// Every YAML document under DEPLOY_DIR (as committed, with ${...} placeholders), under RENDERED_DIR (filled in by
// `deploy/gcp.sh render all`) and in KUSTOMIZED_YAML (`kubectl kustomize` of the rendered gke/) is parsed strictly
// (duplicate keys are errors), must name apiVersion, kind and metadata.name, and is checked against the JSON schema
// of its kind from the kubernetes-models packages (Kubernetes, Gateway API, GKE, Knative). Then the project's own
// rules: what the Cloud Run service and the GKE objects must say for PulseCart Consumer to run as designed. The
// monitoring files (Cloud Monitoring dashboard and alert policies, the PrometheusRule, the Grafana dashboard) are
// checked too: their shape, what they must cover, and every PromQL query parsed by Prometheus' own grammar.
// Prints every problem found and exits 1 if there was any.
import { readFileSync, readdirSync, statSync, existsSync } from "node:fs";
import { join, relative, basename, dirname } from "node:path";
import { parseAllDocuments } from "yaml";
import { parser as promql } from "@prometheus-io/lezer-promql";

const [deployDir, renderedDir, kustomizedFile, kustomizedMonitoringFile] = process.argv.slice(2);
if (!deployDir || !renderedDir) {
  console.error("usage: node validate-manifests.mjs DEPLOY_DIR RENDERED_DIR [KUSTOMIZED_YAML]");
  process.exit(2);
}

const problems = [];
let checks = 0;
const problem = (where, message) => problems.push(`${where}: ${message}`);
const expect = (condition, where, message) => {
  checks++;
  if (!condition) problem(where, message);
  return Boolean(condition);
};

// ---------------------------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------------------------
function yamlFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir).sort()) {
    if (entry === "node_modules" || entry.startsWith(".")) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...yamlFiles(path));
    else if (/\.ya?ml$/.test(entry)) out.push(path);
  }
  return out;
}

function load(path, label) {
  const text = readFileSync(path, "utf8");
  const docs = [];
  parseAllDocuments(text, { uniqueKeys: true, strict: true, prettyErrors: true }).forEach((doc, index) => {
    const where = `${label}#${index + 1}`;
    for (const error of doc.errors) problem(where, `YAML: ${error.message}`);
    for (const warning of doc.warnings) problem(where, `YAML: ${warning.message}`);
    if (doc.errors.length) return;
    const value = doc.toJS();
    if (value === null || value === undefined) return; // an empty document
    checks++;
    if (typeof value !== "object" || Array.isArray(value)) {
      problem(where, "a document must be a mapping");
      return;
    }
    docs.push({ where, path, text, value });
  });
  checks++;
  if (docs.length === 0) problem(label, "no YAML document");
  return docs;
}

// ---------------------------------------------------------------------------------------------------------------
// Schemas
// ---------------------------------------------------------------------------------------------------------------
const schemaModules = {
  v1: "kubernetes-models/v1",
  "apps/v1": "kubernetes-models/apps/v1",
  "policy/v1": "kubernetes-models/policy/v1",
  "rbac.authorization.k8s.io/v1": "kubernetes-models/rbac.authorization.k8s.io/v1",
  "networking.k8s.io/v1": "kubernetes-models/networking.k8s.io/v1",
  "gateway.networking.k8s.io/v1": "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1",
  "networking.gke.io/v1": "@kubernetes-models/gke/networking.gke.io/v1",
  "cloud.google.com/v1": "@kubernetes-models/gke/cloud.google.com/v1",
  "serving.knative.dev/v1": "@kubernetes-models/knative/serving.knative.dev/v1",
  "monitoring.coreos.com/v1": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1",
};
const moduleCache = new Map();

function basicFields(doc) {
  const { apiVersion, kind, metadata } = doc.value;
  expect(typeof apiVersion === "string" && apiVersion, doc.where, "apiVersion is missing");
  expect(typeof kind === "string" && kind, doc.where, "kind is missing");
  expect(metadata && typeof metadata.name === "string" && metadata.name, doc.where, "metadata.name is missing");
  return Boolean(apiVersion && kind);
}

async function validateSchema(doc) {
  if (!basicFields(doc)) return;
  const { apiVersion, kind } = doc.value;
  if (apiVersion === "kustomize.config.k8s.io/v1beta1" && kind === "Kustomization") return; // checked below
  const moduleName = schemaModules[apiVersion];
  if (!expect(moduleName, doc.where, `no schema known for apiVersion ${apiVersion}`)) return;
  if (!moduleCache.has(moduleName)) moduleCache.set(moduleName, await import(moduleName));
  const Model = moduleCache.get(moduleName)[kind];
  if (!expect(typeof Model === "function", doc.where, `no schema for ${kind} in ${apiVersion}`)) return;
  checks++;
  try {
    new Model(structuredClone(doc.value)).validate();
  } catch (error) {
    problem(doc.where, `${apiVersion} ${kind} schema: ${error.message}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers for the project rules
// ---------------------------------------------------------------------------------------------------------------
const find = (docs, apiVersion, kind, name) =>
  docs.filter(
    (d) =>
      d.value.kind === kind &&
      (!apiVersion || d.value.apiVersion === apiVersion) &&
      (!name || d.value.metadata?.name === name),
  );

function one(docs, apiVersion, kind, name, label) {
  const found = find(docs, apiVersion, kind, name);
  expect(found.length === 1, label, `expected exactly one ${kind}${name ? ` ${name}` : ""}, found ${found.length}`);
  return found[0];
}

function envMap(container, where) {
  const map = new Map();
  for (const entry of container.env ?? []) {
    expect(!map.has(entry.name), where, `env ${entry.name} is set twice`);
    map.set(entry.name, entry);
  }
  return map;
}

const envValue = (env, name) => env.get(name)?.value;
const matchesLabels = (selector, labels) =>
  selector && Object.entries(selector).every(([key, value]) => labels?.[key] === value);
const placeholder = /\$\{[A-Za-z_][A-Za-z0-9_]*\}/;
const emailOf = (account) => new RegExp(`^${account}@[a-z][a-z0-9-]{4,28}[a-z0-9]\\.iam\\.gserviceaccount\\.com$`);

// Settings both deployments must give the app, with the values that must not differ between them.
const sharedEnv = {
  ASPNETCORE_ENVIRONMENT: "Production",
  PulseCart__CloudTasks__ProjectId: null,
  PulseCart__CloudTasks__Location: null,
  PulseCart__CloudTasks__Queue: "pulsecart-cart-reminders",
  PulseCart__CloudTasks__CallbackBaseUrl: null,
  PulseCart__CloudTasks__ServiceAccountEmail: null,
  PulseCart__Reminders__MaxAttempts: "20", // = the queue's maxAttempts in deploy/gcp.sh
  PulseCart__Auth__Mode: "oidc",
  PulseCart__Auth__Audience: null,
  PulseCart__Auth__TasksAudience: null,
  PulseCart__Auth__AllowedServiceAccounts__0: null,
  PulseCart__Auth__AllowedServiceAccounts__1: null,
  PulseCart__Messaging__Sink: null,
  PulseCart__Messaging__WebhookUrl: null,
};

function checkSharedEnv(env, where, rendered) {
  for (const [name, required] of Object.entries(sharedEnv)) {
    if (!expect(env.has(name), where, `env ${name} is missing`)) continue;
    const value = envValue(env, name);
    expect(typeof value === "string" && value.length > 0, where, `env ${name} needs a literal value`);
    if (required !== null) expect(value === required, where, `env ${name} must be ${required}, is ${value}`);
  }
  for (const name of ["PulseCart__Redis", "PulseCart__Operators__TokenSha256"]) {
    const entry = env.get(name);
    expect(entry?.valueFrom?.secretKeyRef?.name, where, `env ${name} must come from a secret (secretKeyRef)`);
    expect(entry?.value === undefined, where, `env ${name} must not be a literal value`);
  }
  if (!rendered) return;
  // Filled in: the values must fit together the way the app and Google Cloud use them.
  const base = envValue(env, "PulseCart__CloudTasks__CallbackBaseUrl") ?? "";
  expect(/^https:\/\/[a-z0-9.-]+$/.test(base), where, `CallbackBaseUrl must be an https origin without a path: ${base}`);
  expect(envValue(env, "PulseCart__Auth__Audience") === `${base}/consumer/push`, where,
    "Auth__Audience must be the push URL (CallbackBaseUrl + /consumer/push)");
  expect(envValue(env, "PulseCart__Auth__TasksAudience") === `${base}/tasks/cart-reminder`, where,
    "Auth__TasksAudience must be the task callback URL the app puts in its tasks (CallbackBaseUrl + /tasks/cart-reminder)");
  expect(emailOf("pulsecart-pusher").test(envValue(env, "PulseCart__Auth__AllowedServiceAccounts__0") ?? ""), where,
    "AllowedServiceAccounts__0 must be the push service account pulsecart-pusher@...");
  const tasksSa = envValue(env, "PulseCart__Auth__AllowedServiceAccounts__1") ?? "";
  expect(emailOf("pulsecart-tasks").test(tasksSa), where, "AllowedServiceAccounts__1 must be pulsecart-tasks@...");
  expect(envValue(env, "PulseCart__CloudTasks__ServiceAccountEmail") === tasksSa, where,
    "CloudTasks__ServiceAccountEmail must be the task-invoker account the app accepts (AllowedServiceAccounts__1)");
  const project = envValue(env, "PulseCart__CloudTasks__ProjectId");
  expect(tasksSa.endsWith(`@${project}.iam.gserviceaccount.com`), where, "service accounts and ProjectId disagree");
  const sink = envValue(env, "PulseCart__Messaging__Sink");
  expect(["log", "webhook"].includes(sink), where, `Messaging__Sink must be log or webhook, is ${sink}`);
  expect(/^https?:\/\/\S+$/.test(envValue(env, "PulseCart__Messaging__WebhookUrl") ?? ""), where,
    "Messaging__WebhookUrl must be an absolute URL");
}

function probePath(probe) {
  return probe?.httpGet?.path;
}

// ---------------------------------------------------------------------------------------------------------------
// Cloud Run
// ---------------------------------------------------------------------------------------------------------------
function checkCloudRun(docs, label, rendered) {
  const service = one(docs, "serving.knative.dev/v1", "Service", null, label);
  if (!service) return null;
  const where = service.where;
  const v = service.value;
  const annotations = v.metadata?.annotations ?? {};
  expect(annotations["run.googleapis.com/ingress"] === "all", where, "ingress must be all (Pub/Sub and Cloud Tasks call the public URL)");
  expect(annotations["run.googleapis.com/invoker-iam-disabled"] === "true", where,
    "the invoker IAM check must be off: with it on Cloud Run strips the token signature the app verifies");
  const template = v.spec?.template ?? {};
  const ta = template.metadata?.annotations ?? {};
  expect(ta["autoscaling.knative.dev/maxScale"] === "1", where, 'maxScale must be "1" (one silo: instances cannot form a cluster)');
  expect(ta["autoscaling.knative.dev/minScale"] === "1", where, 'minScale must be "1"');
  expect(/Cloud Run exposes one HTTP port/.test(service.text) && /cannot form one Orleans cluster/.test(service.text), where,
    "the maxScale annotation must carry the comment saying why (one HTTP port, no Orleans cluster)");
  expect(ta["pulsecart/config-digest"], where, "the template needs pulsecart/config-digest so a rotated secret rolls a new revision");
  expect(ta["run.googleapis.com/cpu-throttling"] === "false", where, 'CPU must be always allocated (cpu-throttling "false")');
  const egress = ta["run.googleapis.com/network-interfaces"] ?? ta["run.googleapis.com/vpc-access-connector"];
  expect(egress, where, "Memorystore needs VPC egress (network-interfaces or vpc-access-connector)");
  if (ta["run.googleapis.com/network-interfaces"]) {
    try {
      const nics = JSON.parse(ta["run.googleapis.com/network-interfaces"]);
      expect(Array.isArray(nics) && nics[0]?.network && nics[0]?.subnetwork, where, "network-interfaces needs network and subnetwork");
    } catch {
      problem(where, "network-interfaces is not JSON");
    }
    expect(ta["run.googleapis.com/vpc-access-egress"] === "private-ranges-only", where, "vpc-access-egress should be private-ranges-only");
  }
  const spec = template.spec ?? {};
  expect(spec.containerConcurrency === 250, where, "containerConcurrency must be 250");
  expect(spec.timeoutSeconds === 600, where, "timeoutSeconds must be 600");
  expect(typeof spec.serviceAccountName === "string" && spec.serviceAccountName, where, "serviceAccountName is missing");
  if (rendered) expect(emailOf("pulsecart-consumer").test(spec.serviceAccountName ?? ""), where, "serviceAccountName must be the consumer runtime SA");
  const containers = spec.containers ?? [];
  if (!expect(containers.length === 1, where, "exactly one container")) return null;
  const c = containers[0];
  expect(c.ports?.length === 1 && c.ports[0].containerPort === 8080, where, "the container serves HTTP on 8080");
  expect(probePath(c.startupProbe) === "/health/ready", where, "startupProbe must GET /health/ready");
  expect(probePath(c.livenessProbe) === "/health/live", where, "livenessProbe must GET /health/live");
  const env = envMap(c, where);
  expect(!env.has("PORT"), where, "PORT is set by Cloud Run and must not be in env");
  expect(envValue(env, "PulseCart__Cluster__Mode") === "localhost", where, "Cluster__Mode must be localhost on Cloud Run (one silo)");
  checkSharedEnv(env, where, rendered);
  if (rendered) {
    expect(envValue(env, "PulseCart__CloudTasks__Location") === v.metadata?.labels?.["cloud.googleapis.com/location"], where,
      "the queue location must be the service's region");
    expect(/^https:\/\/.+\.run\.app$/.test(envValue(env, "PulseCart__CloudTasks__CallbackBaseUrl") ?? ""), where,
      "CallbackBaseUrl must be the service's run.app URL");
  }
  return env;
}

// ---------------------------------------------------------------------------------------------------------------
// GKE
// ---------------------------------------------------------------------------------------------------------------
function checkGke(docs, label, rendered) {
  const ns = one(docs, "v1", "Namespace", "pulsecart", label);
  const namespace = ns?.value.metadata.name ?? "pulsecart";
  for (const d of docs) {
    if (d.value.kind === "Namespace" || d.value.kind === "Kustomization") continue;
    expect(d.value.metadata?.namespace === namespace, d.where, `must be in namespace ${namespace}`);
  }

  const deployment = one(docs, "apps/v1", "Deployment", null, label);
  if (!deployment) return null;
  const where = deployment.where;
  const d = deployment.value;
  expect(d.spec?.replicas === 3, where, "replicas must be 3");
  const podLabels = d.spec?.template?.metadata?.labels ?? {};
  expect(matchesLabels(d.spec?.selector?.matchLabels, podLabels), where, "selector must match the pod labels");
  expect(podLabels["orleans/serviceId"] === "pulsecart", where, "pod label orleans/serviceId must be pulsecart");
  expect(podLabels["orleans/clusterId"] === "pulsecart", where, "pod label orleans/clusterId must be pulsecart");
  const pod = d.spec?.template?.spec ?? {};
  expect(pod.terminationGracePeriodSeconds === 60, where, "terminationGracePeriodSeconds must be 60");
  expect(pod.securityContext?.runAsNonRoot === true, where, "pod securityContext.runAsNonRoot must be true");
  expect(pod.securityContext?.runAsUser === 1654, where, "pod must run as uid 1654 (the aspnet image's app user)");
  const sa = one(docs, "v1", "ServiceAccount", pod.serviceAccountName, label);
  if (sa) {
    const gsa = sa.value.metadata?.annotations?.["iam.gke.io/gcp-service-account"];
    expect(gsa, sa.where, "needs the Workload Identity annotation iam.gke.io/gcp-service-account");
    if (rendered) expect(emailOf("pulsecart-consumer").test(gsa ?? ""), sa.where, "Workload Identity must map to the consumer runtime SA");
  }
  const containers = pod.containers ?? [];
  if (!expect(containers.length === 1, where, "exactly one container")) return null;
  const c = containers[0];
  const ports = new Map((c.ports ?? []).map((p) => [p.containerPort, p.name]));
  expect(ports.get(8080) === "http", where, "container port 8080 named http");
  expect(ports.has(11111), where, "container port 11111 (silo)");
  expect(ports.has(30000), where, "container port 30000 (gateway)");
  expect(probePath(c.readinessProbe) === "/health/ready", where, "readinessProbe must GET /health/ready");
  expect(probePath(c.livenessProbe) === "/health/live", where, "livenessProbe must GET /health/live");
  expect(c.startupProbe?.httpGet?.path, where, "startupProbe is missing");
  const preStop = c.lifecycle?.preStop;
  expect(preStop?.sleep || (preStop?.exec?.command ?? []).includes("sleep"), where, "preStop must sleep so in-flight pushes finish");
  for (const kind of ["requests", "limits"]) {
    expect(c.resources?.[kind]?.cpu && c.resources?.[kind]?.memory, where, `resources.${kind} needs cpu and memory`);
  }
  const sc = c.securityContext ?? {};
  expect(sc.readOnlyRootFilesystem === true, where, "readOnlyRootFilesystem must be true");
  expect(sc.allowPrivilegeEscalation === false, where, "allowPrivilegeEscalation must be false");
  expect((sc.capabilities?.drop ?? []).includes("ALL"), where, "capabilities must drop ALL");
  expect((c.volumeMounts ?? []).some((m) => m.mountPath === "/tmp"), where, "a read-only root needs a writable /tmp");

  const env = envMap(c, where);
  const fieldRefs = { POD_NAME: "metadata.name", POD_NAMESPACE: "metadata.namespace", POD_IP: "status.podIP" };
  for (const [name, path] of Object.entries(fieldRefs)) {
    expect(env.get(name)?.valueFrom?.fieldRef?.fieldPath === path, where, `env ${name} must come from the downward API (${path})`);
  }
  expect(envValue(env, "ORLEANS_SERVICE_ID") === podLabels["orleans/serviceId"], where, "ORLEANS_SERVICE_ID must equal the orleans/serviceId label");
  expect(envValue(env, "ORLEANS_CLUSTER_ID") === podLabels["orleans/clusterId"], where, "ORLEANS_CLUSTER_ID must equal the orleans/clusterId label");
  expect(envValue(env, "PulseCart__Cluster__Mode") === "kubernetes", where, "Cluster__Mode must be kubernetes");
  const redisRef = env.get("PulseCart__Redis")?.valueFrom?.secretKeyRef;
  expect(redisRef?.name === "pulsecart-secrets" && redisRef?.key === "redis", where, "PulseCart__Redis must come from secret pulsecart-secrets, key redis");
  checkSharedEnv(env, where, rendered);
  if (rendered) {
    expect(/^https:\/\/[a-z0-9.-]+$/.test(envValue(env, "PulseCart__CloudTasks__CallbackBaseUrl") ?? ""), where,
      "CallbackBaseUrl must be https://DOMAIN");
  }

  const role = one(docs, "rbac.authorization.k8s.io/v1", "Role", null, label);
  if (role) {
    const podRule = (role.value.rules ?? []).find((r) => (r.resources ?? []).includes("pods") && (r.apiGroups ?? []).includes(""));
    for (const verb of ["get", "list", "watch", "delete"]) {
      expect(podRule?.verbs?.includes(verb), role.where, `Role must allow ${verb} on pods (Orleans Kubernetes hosting)`);
    }
  }
  const binding = one(docs, "rbac.authorization.k8s.io/v1", "RoleBinding", null, label);
  if (binding && role) {
    expect(binding.value.roleRef?.kind === "Role" && binding.value.roleRef?.name === role.value.metadata.name, binding.where, "RoleBinding must bind the Role");
    expect((binding.value.subjects ?? []).some((s) => s.kind === "ServiceAccount" && s.name === pod.serviceAccountName), binding.where,
      "RoleBinding must bind the pods' ServiceAccount");
  }

  const pdb = one(docs, "policy/v1", "PodDisruptionBudget", null, label);
  if (pdb) {
    expect(pdb.value.spec?.maxUnavailable === 1, pdb.where, "maxUnavailable must be 1");
    expect(matchesLabels(pdb.value.spec?.selector?.matchLabels, podLabels), pdb.where, "selector must match the silo pods");
  }

  const svc = one(docs, "v1", "Service", null, label);
  if (svc) {
    expect((svc.value.spec?.type ?? "ClusterIP") === "ClusterIP", svc.where, "Service must be ClusterIP");
    expect(matchesLabels(svc.value.spec?.selector, podLabels), svc.where, "selector must match the silo pods");
    const http = (svc.value.spec?.ports ?? [])[0];
    expect(http && (http.targetPort === "http" || http.targetPort === 8080), svc.where, "Service must target the http port");
  }

  const policy = one(docs, "networking.k8s.io/v1", "NetworkPolicy", null, label);
  if (policy) {
    const p = policy.value.spec ?? {};
    expect(matchesLabels(p.podSelector?.matchLabels, podLabels), policy.where, "podSelector must select the silo pods");
    const siloRule = (p.ingress ?? []).find((rule) => {
      const portsAllowed = (rule.ports ?? []).map((x) => x.port);
      return portsAllowed.includes(11111) && portsAllowed.includes(30000);
    });
    expect(siloRule, policy.where, "an ingress rule must allow 11111 and 30000");
    expect(siloRule?.from?.some((f) => matchesLabels(f.podSelector?.matchLabels, podLabels)), policy.where,
      "silo ports must be open to the other silos (podSelector on the orleans labels)");
    expect((p.ingress ?? []).some((rule) => (rule.ports ?? []).some((x) => x.port === 8080 || x.port === "http")), policy.where,
      "HTTP (8080) must stay reachable");
  }

  const gateway = one(docs, "gateway.networking.k8s.io/v1", "Gateway", null, label);
  const route = one(docs, "gateway.networking.k8s.io/v1", "HTTPRoute", null, label);
  if (route && gateway && svc) {
    const r = route.value.spec ?? {};
    expect((r.parentRefs ?? []).some((p) => p.name === gateway.value.metadata.name), route.where, "HTTPRoute must attach to the Gateway");
    const matches = (r.rules ?? []).flatMap((rule) => (rule.matches ?? []).map((m) => ({ m, rule })));
    const push = matches.find(({ m }) => m.path?.value === "/consumer/push");
    const tasks = matches.find(({ m }) => m.path?.type === "PathPrefix" && /^\/tasks\/?$/.test(m.path?.value ?? ""));
    expect(push, route.where, "HTTPRoute must route /consumer/push");
    expect(tasks, route.where, "HTTPRoute must route /tasks/*");
    for (const found of [push, tasks].filter(Boolean)) {
      expect((found.rule.backendRefs ?? []).some((b) => b.name === svc.value.metadata.name && (svc.value.spec?.ports ?? []).some((p) => p.port === b.port)),
        route.where, "routes must go to the Service's port");
    }
    if (rendered) {
      const host = (envValue(env, "PulseCart__CloudTasks__CallbackBaseUrl") ?? "").replace(/^https:\/\//, "");
      expect((r.hostnames ?? []).includes(host), route.where, "HTTPRoute hostname must be the host of CallbackBaseUrl");
    }
  }
  const health = one(docs, "networking.gke.io/v1", "HealthCheckPolicy", null, label);
  if (health && svc) {
    expect(health.value.spec?.targetRef?.name === svc.value.metadata.name, health.where, "HealthCheckPolicy must target the Service");
    expect(health.value.spec?.default?.config?.httpHealthCheck?.requestPath === "/health/ready", health.where, "health check path must be /health/ready");
  }
  const backend = one(docs, "networking.gke.io/v1", "GCPBackendPolicy", null, label);
  if (backend && svc) {
    expect(backend.value.spec?.targetRef?.name === svc.value.metadata.name, backend.where, "GCPBackendPolicy must target the Service");
    expect((backend.value.spec?.default?.timeoutSec ?? 30) >= 60, backend.where, "backend timeout must cover the 60 s ack deadline");
  }
  return env;
}

function checkKustomization(dir, label) {
  const path = join(dir, "kustomization.yaml");
  if (!expect(existsSync(path), label, "gke/kustomization.yaml is missing")) return;
  const [k] = load(path, `${label}/kustomization.yaml`);
  if (!k) return;
  const resources = k.value.resources ?? [];
  for (const resource of resources) expect(existsSync(join(dir, resource)), k.where, `resource ${resource} does not exist`);
  for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && f !== "kustomization.yaml")) {
    expect(resources.includes(file), k.where, `${file} is in gke/ but not in resources`);
  }
}

function compareEnv(cloudRunEnv, gkeEnv, label) {
  if (!cloudRunEnv || !gkeEnv) return;
  for (const name of Object.keys(sharedEnv)) {
    if (/CallbackBaseUrl|Audience/.test(name)) continue; // the public URL differs by design
    expect(envValue(cloudRunEnv, name) === envValue(gkeEnv, name), label,
      `env ${name} differs between Cloud Run (${envValue(cloudRunEnv, name)}) and GKE (${envValue(gkeEnv, name)})`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Monitoring
// ---------------------------------------------------------------------------------------------------------------
/** Parses a PromQL expression with Prometheus' grammar; Grafana's $__rate_interval stands for a real range. */
function checkPromQL(query, where) {
  checks++;
  if (typeof query !== "string" || !query.trim()) {
    problem(where, "an empty PromQL query");
    return;
  }
  const text = query.replaceAll("$__rate_interval", "5m");
  let errorAt = -1;
  promql.parse(text).iterate({ enter: (node) => { if (node.type.isError && errorAt < 0) errorAt = node.from; } });
  if (errorAt >= 0) problem(where, `PromQL does not parse near "${text.slice(Math.max(0, errorAt - 20), errorAt + 20)}": ${text}`);
}

function readJson(path, where) {
  checks++;
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    problem(where, `not JSON: ${error.message}`);
    return null;
  }
}

const policyFiles = {
  "push-5xx-rate.json": /response_class="remote_server_5xx"/,
  "push-p99-near-ack-deadline.json": /push_request_latencies_bucket/,
  "quarantine-growing.json": /user_pulsecart_quarantined/,
  "dead-letters.json": /subscription_dead_letter_message_count/,
  "reminders-dead-lettered.json": /user_pulsecart_reminders_dead_lettered/,
  "paused-too-long.json": /pulsecart_pause_active/,
};
const ackDeadlineSeconds = 60; // = ACK_DEADLINE_SECONDS in deploy/gcp.sh

/** The Cloud Monitoring dashboard and alert policies in DIR (committed, or rendered for one target). */
function checkCloudMonitoring(dir, label, logResource) {
  if (!expect(existsSync(join(dir, "dashboard.json")), label, "dashboard.json is missing")) return;
  const dashboard = readJson(join(dir, "dashboard.json"), `${label}/dashboard.json`);
  if (dashboard) {
    const where = `${label}/dashboard.json`;
    expect(dashboard.displayName === "PulseCart Consumer", where, "displayName must be PulseCart Consumer (DASHBOARD_NAME in gcp.sh)");
    expect(!dashboard.name && !dashboard.etag, where, "name and etag are Google's to set");
    const tiles = dashboard.mosaicLayout?.tiles ?? [];
    expect(tiles.length >= 6, where, "the dashboard needs its charts");
    for (const [i, tile] of tiles.entries()) {
      expect(tile.xPos + tile.width <= dashboard.mosaicLayout.columns, where, `tile ${i} is wider than the layout`);
      for (const dataSet of tile.widget?.xyChart?.dataSets ?? []) checkPromQL(dataSet.timeSeriesQuery?.prometheusQuery, `${where} tile ${i}`);
    }
  }
  const policies = join(dir, "policies");
  const names = existsSync(policies) ? readdirSync(policies).filter((f) => f.endsWith(".json")).sort() : [];
  expect(JSON.stringify(names) === JSON.stringify(Object.keys(policyFiles).sort()), label,
    `policies must be exactly ${Object.keys(policyFiles).join(", ")}; found ${names.join(", ")}`);
  const displayNames = new Set();
  for (const name of names) {
    const where = `${label}/policies/${name}`;
    const text = readFileSync(join(policies, name), "utf8");
    expect(/^\{\n  "displayName": "[^"]+",\n/.test(text), where, 'the displayName must be on line 2 as `  "displayName": "…",` (gcp.sh finds existing policies by it)');
    const policy = readJson(join(policies, name), where);
    if (!policy) continue;
    expect(!displayNames.has(policy.displayName), where, "two policies share a displayName");
    displayNames.add(policy.displayName);
    expect(policy.documentation?.content?.length > 40, where, "documentation.content must tell the person paged what to do");
    expect(["CRITICAL", "ERROR", "WARNING"].includes(policy.severity), where, "severity must be CRITICAL, ERROR or WARNING");
    expect(!policy.notificationChannels, where, "notification channels come from ALERT_CHANNELS, not the file");
    const conditions = policy.conditions ?? [];
    if (!expect(conditions.length === 1, where, "exactly one condition")) continue;
    const promqlCondition = conditions[0].conditionPrometheusQueryLanguage;
    if (!expect(promqlCondition, where, "the condition must be conditionPrometheusQueryLanguage")) continue;
    checkPromQL(promqlCondition.query, where);
    expect(policyFiles[name]?.test(promqlCondition.query), where, `the query must use ${policyFiles[name]}`);
    expect(/^\d+s$/.test(promqlCondition.duration ?? "") && /^\d+s$/.test(promqlCondition.evaluationInterval ?? ""), where,
      "duration and evaluationInterval must be seconds like 300s");
    if (/subscription_/.test(promqlCondition.query)) {
      expect(/subscription_id="pulsecart-consumer"/.test(promqlCondition.query), where, "Pub/Sub queries must name the push subscription pulsecart-consumer");
    }
    if (name === "push-p99-near-ack-deadline.json") {
      const threshold = Number(/>\s*([0-9.e]+)\s*$/.exec(promqlCondition.query)?.[1]);
      expect(threshold > 0 && threshold < ackDeadlineSeconds * 1e6, where, `the p99 threshold (µs) must be below the ${ackDeadlineSeconds} s ack deadline`);
    }
    if (logResource && /logging_googleapis_com:user_/.test(promqlCondition.query)) {
      expect(promqlCondition.query.includes(`monitored_resource="${logResource}"`), where, `log-based metrics must be read from ${logResource}`);
    }
  }
}

/** The Prometheus Operator objects in gke/monitoring (ServiceMonitor, PrometheusRule) and the Grafana dashboard. */
function checkPrometheusOperator(docs, label, service) {
  const monitor = one(docs, "monitoring.coreos.com/v1", "ServiceMonitor", null, label);
  if (monitor && service) {
    const spec = monitor.value.spec ?? {};
    expect(matchesLabels(spec.selector?.matchLabels, service.value.metadata?.labels), monitor.where, "selector must match the Service's labels");
    const endpoint = (spec.endpoints ?? [])[0];
    expect((service.value.spec?.ports ?? []).some((p) => p.name === endpoint?.port), monitor.where, "endpoint port must be a named port of the Service");
    expect(endpoint?.path === "/metrics", monitor.where, "endpoint path must be /metrics");
    expect(endpoint?.authorization?.credentials?.name === "pulsecart-metrics-scrape" && endpoint?.authorization?.credentials?.key === "token",
      monitor.where, "/metrics needs the operator credential: authorization from secret pulsecart-metrics-scrape, key token");
  }
  const rule = one(docs, "monitoring.coreos.com/v1", "PrometheusRule", null, label);
  if (rule) {
    const rules = (rule.value.spec?.groups ?? []).flatMap((group) => group.rules ?? []);
    const alerts = rules.map((r) => r.alert).sort();
    const wanted = ["PulseCartDeadLetters", "PulseCartPausedTooLong", "PulseCartPushP99NearAckDeadline", "PulseCartPushes5xx",
      "PulseCartQuarantineGrowing", "PulseCartRemindersDeadLettered"];
    expect(JSON.stringify(alerts) === JSON.stringify(wanted), rule.where, `alerts must be ${wanted.join(", ")}; found ${alerts.join(", ")}`);
    for (const r of rules) {
      checkPromQL(r.expr, `${rule.where} ${r.alert}`);
      expect(r.labels?.severity && r.annotations?.summary, `${rule.where} ${r.alert}`, "needs labels.severity and annotations.summary");
    }
  }
}

function checkGrafana(path, label) {
  if (!expect(existsSync(path), label, "grafana-dashboard.json is missing")) return;
  const dashboard = readJson(path, label);
  if (!dashboard) return;
  expect(dashboard.uid && dashboard.title, label, "a Grafana dashboard needs uid and title");
  expect((dashboard.templating?.list ?? []).some((v) => v.name === "datasource" && v.type === "datasource" && v.query === "prometheus"), label,
    "a datasource variable of type prometheus must pick the Prometheus to read");
  const panels = dashboard.panels ?? [];
  expect(panels.length >= 6, label, "the dashboard needs its panels");
  for (const panel of panels) {
    const where = `${label} panel "${panel.title}"`;
    expect(panel.datasource?.uid === "$datasource", where, "panels read the $datasource variable");
    expect((panel.targets ?? []).length > 0, where, "a panel without a query");
    for (const target of panel.targets ?? []) checkPromQL(target.expr, where);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Run
// ---------------------------------------------------------------------------------------------------------------
async function checkTree(root, label, rendered) {
  const all = [];
  for (const file of yamlFiles(root)) {
    const docs = load(file, `${label}/${relative(root, file)}`);
    for (const doc of docs) {
      // Committed files hold placeholders where schemas want host names or emails: schemas apply once filled in.
      if (rendered) {
        await validateSchema(doc);
        expect(!placeholder.test(JSON.stringify(doc.value)), doc.where, "a placeholder was left unfilled");
      } else {
        basicFields(doc);
      }
    }
    all.push(...docs);
  }
  const inDir = (sub) => all.filter((doc) => relative(root, doc.path).startsWith(`${sub}/`));
  const cloudRunEnv = checkCloudRun(inDir("cloud-run"), `${label}/cloud-run`, rendered);
  const gkeDocs = inDir("gke").filter((doc) => doc.value.kind !== "Kustomization");
  const gkeEnv = checkGke(gkeDocs, `${label}/gke`, rendered);
  checkKustomization(join(root, "gke"), `${label}/gke`);
  compareEnv(cloudRunEnv, gkeEnv, label);
  checkPrometheusOperator(gkeDocs, `${label}/gke/monitoring`, find(gkeDocs, "v1", "Service")[0]);
  checkGrafana(join(root, "gke", "monitoring", "grafana-dashboard.json"), `${label}/gke/monitoring/grafana-dashboard.json`);
  if (rendered) {
    checkCloudMonitoring(join(root, "monitoring", "cloud-run"), `${label}/monitoring/cloud-run`, "cloud_run_revision");
    checkCloudMonitoring(join(root, "monitoring", "gke"), `${label}/monitoring/gke`, "k8s_container");
  } else {
    checkCloudMonitoring(join(root, "monitoring"), `${label}/monitoring`, null);
  }
  return all.length;
}

const rawCount = await checkTree(deployDir, "deploy", false);
const renderedCount = await checkTree(renderedDir, "rendered", true);
let builtCount = 0;
if (kustomizedFile) {
  const built = load(kustomizedFile, `kustomized/${basename(dirname(kustomizedFile))}`);
  for (const doc of built) {
    await validateSchema(doc);
    expect(!placeholder.test(JSON.stringify(doc.value)), doc.where, "a placeholder was left unfilled");
  }
  checkGke(built, "kustomized", true);
  builtCount = built.length;
}
if (kustomizedMonitoringFile) {
  const built = load(kustomizedMonitoringFile, "kustomized/gke/monitoring");
  for (const doc of built) {
    await validateSchema(doc);
    expect(doc.value.metadata?.namespace === "pulsecart", doc.where, "must be in namespace pulsecart");
  }
  const configMap = one(built, "v1", "ConfigMap", "pulsecart-grafana-dashboard", "kustomized/gke/monitoring");
  if (configMap) {
    expect(configMap.value.metadata?.labels?.grafana_dashboard === "1", configMap.where, 'Grafana finds dashboards by the label grafana_dashboard: "1"');
    checks++;
    try {
      JSON.parse(configMap.value.data?.["pulsecart-consumer.json"] ?? "");
    } catch {
      problem(configMap.where, "data pulsecart-consumer.json must be the dashboard's JSON");
    }
  }
  builtCount += built.length;
}

if (problems.length) {
  for (const line of problems) console.error(`  FAIL ${line}`);
  console.error(`manifests: ${problems.length} problem(s) in ${checks} checks`);
  process.exit(1);
}
console.log(
  `manifests: ${rawCount} committed + ${renderedCount} rendered + ${builtCount} kustomized documents, ${checks} checks, no problem`,
);
