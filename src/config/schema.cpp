// The one table of every configuration key scalectl knows: type, default, environment names,
// help and whether it is a secret. Validation, `config show`, the man page and the environment
// layer all read this table; a feature that needs a new key adds one row here.

#include <scalectl/config/config.hpp>

#include "keys.hpp"

namespace scalectl::config {

namespace {

// Rows name only the fields they set. g++ 12 warns about every omitted field even in designated
// initializers (which value-initialise them by definition), so the warning is off for the table.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
std::vector<KeyInfo> make_schema()
{
  std::vector<KeyInfo> rows{
      // --- DigitalOcean API ------------------------------------------------------------------
      {.key = "digitalocean.api_url", .type = "string", .default_text = "https://api.digitalocean.com",
       .env = {"DIGITALOCEAN_API_URL"}, .help = "Base URL of the DigitalOcean API v2"},
      {.key = "digitalocean.token", .type = "string",
       .env = {"DIGITALOCEAN_ACCESS_TOKEN", "DIGITALOCEAN_TOKEN"},
       .help = "API token; prefer token_file or the environment (a file setting it must be mode 0600)",
       .secret = true},
      {.key = "digitalocean.token_file", .type = "string",
       .help = "File holding the API token (must not be readable by group or others)"},
      {.key = "digitalocean.ca_bundle", .type = "string", .help = "CA bundle for TLS to the API (default: system store)"},
      {.key = "digitalocean.connect_timeout", .type = "duration", .default_text = "10s",
       .help = "Timeout for connecting to the API", .min = 0.001, .max = 3600},
      {.key = "digitalocean.request_timeout", .type = "duration", .default_text = "60s",
       .help = "Timeout for one API request", .min = 0.001, .max = 3600},
      {.key = "digitalocean.max_retries", .type = "int", .default_text = "5",
       .help = "Retries of a failed idempotent request (429, 5xx, network)", .min = 0, .max = 20},

      // --- droplet resize --------------------------------------------------------------------
      {.key = "droplet.id", .type = "string", .env = {"DROPLET_ID"},
       .help = "Droplet to resize: numeric id or unique name"},
      {.key = "droplet.up_size", .type = "slugs", .default_text = "s-8vcpu-16gb",
       .help = "Size slug for `droplet up`, or a list: the first is wanted, the rest are reconcile's fallbacks"},
      {.key = "droplet.down_size", .type = "string", .default_text = "s-2vcpu-4gb", .help = "Size slug for `droplet down`"},
      {.key = "droplet.resize_disk", .type = "bool", .default_text = "false",
       .help = "Also grow the disk on resize (permanent: the droplet can never shrink again)"},
      {.key = "droplet.shutdown_timeout", .type = "duration", .default_text = "2m",
       .help = "Wait for a graceful shutdown before powering off", .min = 0.001, .max = 86400},
      {.key = "droplet.action_timeout", .type = "duration", .default_text = "10m",
       .help = "Wait for one droplet action (shutdown, resize, power on)", .min = 0.001, .max = 86400},
      {.key = "droplet.timeout", .type = "duration", .default_text = "30m", .help = "Wait for a whole resize", .min = 0.001, .max = 604800},
      {.key = "droplet.busy_check", .type = "string",
       .help = "Command run before `down`; a non-zero exit means busy and refuses the resize"},
      {.key = "droplet.after_up", .type = "string", .help = "Command run after a successful `up`"},
      {.key = "droplet.after_down", .type = "string", .help = "Command run after a successful `down`"},
      {.key = "droplet.dmi_path", .type = "string", .default_text = "/sys/class/dmi/id/sys_vendor",
       .help = "File whose content says whether this host is a DigitalOcean droplet"},
      {.key = "droplet.metadata_url", .type = "string", .default_text = "http://169.254.169.254/metadata/v1/id",
       .help = "Metadata URL returning this droplet's id"},
      {.key = "droplet.metadata_timeout", .type = "duration", .default_text = "2s",
       .help = "Timeout for the metadata request", .min = 0.001, .max = 60},
      {.key = "droplet.capacity_pool", .type = "string", .default_text = "server",
       .help = "Capacity pool whose live leases make `down` refuse"},

      // --- droplet claims and reconcile (issue 10) -------------------------------------------
      {.key = "droplet.claim_ttl", .type = "duration", .default_text = "2h",
       .help = "Lifetime of a `droplet claim` without --ttl (--ttl 0: never expires)", .min = 0, .max = 31536000},
      {.key = "droplet.down_delay", .type = "duration", .default_text = "10m",
       .help = "`droplet reconcile` goes down only this long after the last claim ended", .min = 0, .max = 604800},
      {.key = "droplet.up_size_fallbacks", .type = "strings",
       .help = "Sizes `droplet reconcile` tries in order when the API refuses up_size (422 too large / not available)"},
      {.key = "droplet.tag_trail", .type = "bool", .default_text = "false",
       .help = "Tag the droplet with reconcile's last action and result (scalectl:RESULT:SIZE)"},
      {.key = "droplet.schedule.*", .type = "string",
       .help = "Size for a window, e.g. \"Mon-Fri 08:00-20:00 Europe/Paris\" = \"s-8vcpu-16gb\""},

      // --- state store -----------------------------------------------------------------------
      {.key = "state.backend", .type = "string", .default_text = "file",
       .help = "State backend; the default is file, or redis when state.redis_url is set",
       .choices = {"file", "redis"}},
      {.key = "state.dir", .type = "string",
       .help = "File backend directory: $STATE_DIRECTORY, else /var/lib/scalectl as root, "
               "else $XDG_STATE_HOME/scalectl or ~/.local/state/scalectl"},
      {.key = "state.redis_url", .type = "string", .env = {"SCALECTL_REDIS_URL"},
       .help = "redis://[[user]:password@]host:port/db, rediss://... (TLS) or unix:///path; a file holding a "
               "password in it must be mode 0600"},
      {.key = "state.redis_ca_file", .type = "string",
       .help = "PEM CA certificate(s) trusted for rediss:// instead of the system store"},
      {.key = "state.redis_cert_file", .type = "string",
       .help = "PEM client certificate for rediss:// mutual TLS (with state.redis_key_file)"},
      {.key = "state.redis_key_file", .type = "string",
       .help = "PEM private key of state.redis_cert_file"},
      {.key = "state.redis_password", .type = "string", .env = {"REDISCLI_AUTH"},
       .help = "Redis password (a file setting it must be mode 0600)", .secret = true},
      {.key = "state.redis_key_prefix", .type = "string", .default_text = "scalectl",
       .help = "Prefix of scalectl's own Redis keys"},
      {.key = "state.redis_connect_timeout", .type = "duration", .default_text = "2s",
       .help = "Timeout for connecting to Redis", .min = 0.001, .max = 3600},
      {.key = "state.redis_command_timeout", .type = "duration", .default_text = "5s",
       .help = "Timeout for one Redis command", .min = 0.001, .max = 3600},
      {.key = "state.lock_ttl", .type = "duration", .default_text = "30s",
       .help = "Expiry of a Redis operation lock; renewed every ttl/3", .min = 1, .max = 86400},

      // --- capacity budget -------------------------------------------------------------------
      {.key = "capacity.pool", .type = "string", .default_text = "server", .help = "Capacity pool to allocate from"},
      {.key = "capacity.max_cpu", .type = "number", .env = {"SERVER_MAX_CPU"}, .help = "vCPUs of the server", .min = 0.001, .max = 100000},
      {.key = "capacity.max_ram_gb", .type = "number", .env = {"SERVER_MAX_RAM"}, .help = "RAM of the server in GB", .min = 0.001, .max = 10000000},
      {.key = "capacity.reserved_cpu_percent", .type = "number", .default_text = "20",
       .env = {"SERVER_RESERVED_CPU_PERCENT"}, .help = "Percent of the CPU kept for the system", .min = 0, .max = 100},
      {.key = "capacity.reserved_ram_percent", .type = "number", .default_text = "20",
       .env = {"SERVER_RESERVED_RAM_PERCENT"}, .help = "Percent of the RAM kept for the system", .min = 0, .max = 100},
      {.key = "capacity.default_ttl", .type = "duration", .help = "Lease TTL when allocate has no --ttl (default: none)", .min = 0, .max = 31536000},
      // Fair waiting (issue 13): allocate --wait queues by priority, then arrival; a waiter that
      // misses its heartbeat for this long drops out of the queue.
      {.key = "capacity.waiter_ttl", .type = "duration", .default_text = "10s",
       .help = "A waiting allocate leaves the queue this long after its last poll (3s to 1h)", .min = 3, .max = 3600},
      {.key = "capacity.worker_types.*.cpu", .type = "number", .help = "vCPUs one worker of this type needs", .min = 0, .max = 100000},
      {.key = "capacity.worker_types.*.ram_gb", .type = "number", .help = "RAM in GB one worker of this type needs", .min = 0, .max = 10000000},
      {.key = "capacity.worker_types.*.priority", .type = "int", .default_text = "5",
       .help = "Priority 1-10 of this worker type (higher is more important)", .min = 1, .max = 10},
      // [capacity.resources.NAME] (issue 13): extra budgets checked with CPU and RAM; a worker type
      // gives its amount of each as NAME = amount. The catch-all row must stay after the type's own keys.
      {.key = "capacity.resources.*.limit", .type = "number",
       .help = "Budget of this named resource (e.g. requests per minute of an API key)", .min = 0, .max = 1e9},
      {.key = "capacity.resources.*.reserve", .type = "number", .help = "Part of the limit kept back (0)", .min = 0, .max = 1e9},
      {.key = "capacity.resources.*.unit", .type = "string", .help = "Label shown in status and plan, e.g. RPM"},
      // [capacity.shared_pools.NAME] (issue 13): a pool shared by every host (an API key's budget)
      // holding its own resources; a worker type drawing from it allocates in both pools at once.
      {.key = "capacity.shared_pools.*.name", .type = "string",
       .help = "Pool name in the state store (default: the table name; \"{gemini}\" on Redis Cluster)"},
      {.key = "capacity.shared_pools.*.resources.*.limit", .type = "number",
       .help = "Budget of this resource in the shared pool, for every host together", .min = 0, .max = 1e9},
      {.key = "capacity.shared_pools.*.resources.*.reserve", .type = "number", .help = "Part of the limit kept back (0)", .min = 0, .max = 1e9},
      {.key = "capacity.shared_pools.*.resources.*.unit", .type = "string", .help = "Label shown in status and plan, e.g. RPM"},
      {.key = "capacity.pending_ttl", .type = "duration", .default_text = "30s",
       .help = "Expiry of the pending leases an allocation across several pools takes before confirming them", .min = 1, .max = 3600},
      {.key = "capacity.worker_types.*.*", .type = "number",
       .help = "Amount of the named resource [capacity.resources.*] one worker of this type needs", .min = 0, .max = 1e9},

      // --- App Platform ----------------------------------------------------------------------
      {.key = "app.id", .type = "string", .help = "App Platform app id or name"},
      {.key = "app.component", .type = "string", .help = "Service or worker component to scale"},
      {.key = "app.workers_rule_mb", .type = "int", .default_text = "512",
       .help = "One worker process (WEB_CONCURRENCY) per this many MB of instance RAM, at least 1", .min = 1, .max = 1048576},
      {.key = "app.deployment_timeout", .type = "duration", .default_text = "20m",
       .help = "Wait for an app deployment", .min = 0.001, .max = 604800},

      // --- autoscale policies (one table per policy name) ------------------------------------
      {.key = "autoscale.policies.*.metric.value", .type = "number", .help = "Fixed metric value (tests, manual runs)", .min = -1e15, .max = 1e15},
      {.key = "autoscale.policies.*.metric.command", .type = "string", .help = "Command printing the metric"},
      {.key = "autoscale.policies.*.metric.redis", .type = "string",
       .help = "Redis key whose length is the metric (LLEN, ZCARD, SCARD, HLEN or XLEN by type; missing = 0)"},
      {.key = "autoscale.policies.*.metric.redis_url", .type = "string",
       .help = "Redis holding metric.redis (default: state.redis_url)"},
      {.key = "autoscale.policies.*.metric.http", .type = "string", .help = "URL returning the metric"},
      {.key = "autoscale.policies.*.metric.json_pointer", .type = "string",
       .help = "JSON pointer to the metric in the http or command output"},
      {.key = "autoscale.policies.*.metric.timeout", .type = "duration", .default_text = "30s",
       .help = "Timeout for reading the metric", .min = 0.001, .max = 600},
      {.key = "autoscale.policies.*.units_per_worker", .type = "number", .env = {"AUTO_SCALER_MAILBOXES_PER_WORKER"},
       .help = "Metric units one worker handles", .min = 1e-9, .max = 1e15},
      {.key = "autoscale.policies.*.min", .type = "int", .env = {"AUTO_SCALER_MIN_WORKERS"}, .help = "Fewest workers", .min = 0, .max = 100000},
      {.key = "autoscale.policies.*.max", .type = "int", .env = {"AUTO_SCALER_MAX_WORKERS"}, .help = "Most workers", .min = 0, .max = 100000},
      {.key = "autoscale.policies.*.scale_up_threshold", .type = "number", .default_text = "0.8",
       .env = {"AUTO_SCALER_SCALE_UP_THRESHOLD"}, .help = "Step mode: scale up at this utilisation", .min = 0, .max = 1000},
      {.key = "autoscale.policies.*.scale_down_threshold", .type = "number", .default_text = "0.3",
       .env = {"AUTO_SCALER_SCALE_DOWN_THRESHOLD"}, .help = "Step mode: scale down at this utilisation or below", .min = 0, .max = 1000},
      {.key = "autoscale.policies.*.mode", .type = "string", .default_text = "step",
       .help = "step: add or remove `step` workers; target: aim at target_utilisation",
       .choices = {"step", "target"}},
      {.key = "autoscale.policies.*.step", .type = "int", .default_text = "1", .help = "Step mode: workers per change", .min = 1, .max = 100000},
      {.key = "autoscale.policies.*.target_utilisation", .type = "number", .default_text = "0.7",
       .help = "Target mode: utilisation to aim at", .min = 0.001, .max = 1000},
      {.key = "autoscale.policies.*.tolerance", .type = "number", .default_text = "0.1",
       .help = "Target mode: no change while within this fraction of the target", .min = 0, .max = 10},
      {.key = "autoscale.policies.*.scale_up_cooldown", .type = "duration", .default_text = "5m",
       .env = {"AUTO_SCALER_SCALE_UP_COOLDOWN_MS"}, .help = "Minimum time between scale-ups", .min = 0, .max = 2592000},
      {.key = "autoscale.policies.*.scale_down_cooldown", .type = "duration", .default_text = "10m",
       .env = {"AUTO_SCALER_SCALE_DOWN_COOLDOWN_MS"}, .help = "Minimum time between scale-downs", .min = 0, .max = 2592000},
      {.key = "autoscale.policies.*.scale_down_stabilization", .type = "duration", .default_text = "5m",
       .help = "Scale down only to the highest recommendation seen in this window", .min = 0, .max = 3600},
      {.key = "autoscale.policies.*.max_scale_up", .type = "int", .help = "Most workers added in one run", .min = 0, .max = 100000},
      {.key = "autoscale.policies.*.max_scale_down", .type = "int", .help = "Most workers removed in one run", .min = 0, .max = 100000},
      // --- issue 14: `autoscale run` ---------------------------------------------------------------
      {.key = "autoscale.policies.*.every", .type = "duration", .default_text = "1m",
       .env = {"AUTO_SCALER_CHECK_INTERVAL_MS"}, .help = "autoscale run: how often the policy is evaluated (jittered)",
       .min = 1, .max = 86400},
      // --- issue 14: several metrics and the HPA's behaviour rules ------------------------------
      {.key = "autoscale.policies.*.metrics", .type = "strings",
       .help = "Several metrics: [{ redis = \"KEY\", units_per_worker = N }, ...]; the proposal is the largest"},
      {.key = "autoscale.policies.*.scale_up.stabilization", .type = "duration", .default_text = "0s",
       .help = "Scale up only to the lowest recommendation of this window", .min = 0, .max = 3600},
      {.key = "autoscale.policies.*.scale_up.tolerance", .type = "number",
       .help = "Target mode: no scale-up while utilisation/target <= 1 + this (may be above 1; default: tolerance)", .min = 0, .max = 10},
      {.key = "autoscale.policies.*.scale_up.select", .type = "string", .default_text = "max",
       .help = "max, min or disabled: which rate policy wins", .choices = {"max", "min", "disabled"}},
      {.key = "autoscale.policies.*.scale_up.policies", .type = "strings",
       .help = "Rate policies over the scale events in the state (default: 4 pods and 100 % per 15s, select max)"},
      {.key = "autoscale.policies.*.scale_down.stabilization", .type = "duration",
       .help = "Scale down only to the highest recommendation of this window (default: scale_down_stabilization)", .min = 0, .max = 3600},
      {.key = "autoscale.policies.*.scale_down.tolerance", .type = "number",
       .help = "Target mode: no scale-down while utilisation/target >= 1 - this (default: tolerance)", .min = 0, .max = 10},
      {.key = "autoscale.policies.*.scale_down.select", .type = "string", .default_text = "max",
       .help = "max, min or disabled: which rate policy wins", .choices = {"max", "min", "disabled"}},
      {.key = "autoscale.policies.*.scale_down.policies", .type = "strings",
       .help = "Rate policies over the scale events in the state (default: 100 % per 15s)"},
      {.key = "autoscale.policies.*.capacity_type", .type = "string",
       .help = "Worker type (capacity.worker_types) whose capacity each added worker needs"},
      {.key = "autoscale.policies.*.on_metric_error", .type = "string", .default_text = "fail",
       .help = "fail, keep, or a table { replicas = N }", .choices = {"fail", "keep", "replicas"}},
      {.key = "autoscale.policies.*.on_metric_error.replicas", .type = "int",
       .help = "Replicas to set when the metric cannot be read", .min = 0, .max = 100000},
      {.key = "autoscale.policies.*.target", .type = "string", .default_text = "manual", .env = {"AUTO_SCALER_PLATFORM"},
       .help = "What is scaled", .choices = {"manual", "do-app", "docker-compose", "kubernetes", "command"}},
      {.key = "autoscale.policies.*.app", .type = "string", .help = "do-app: app id or name"},
      {.key = "autoscale.policies.*.component", .type = "string", .help = "do-app: component name"},
      {.key = "autoscale.policies.*.compose_project", .type = "string", .help = "docker-compose: project name"},
      {.key = "autoscale.policies.*.compose_service", .type = "string", .help = "docker-compose: service name"},
      {.key = "autoscale.policies.*.compose_file", .type = "string", .help = "docker-compose: compose file"},
      {.key = "autoscale.policies.*.k8s_deployment", .type = "string", .help = "kubernetes: deployment name"},
      {.key = "autoscale.policies.*.k8s_namespace", .type = "string", .help = "kubernetes: namespace"},
      {.key = "autoscale.policies.*.k8s_context", .type = "string", .help = "kubernetes: kubectl context"},
      {.key = "autoscale.policies.*.command", .type = "string",
       .help = "command: shell template run with {replicas} and {current} replaced (also in SCALECTL_REPLICAS, "
               "SCALECTL_CURRENT)"},
      {.key = "autoscale.policies.*.apply_timeout", .type = "duration", .default_text = "5m",
       .help = "Timeout for reading or changing the count of a command, docker-compose or kubernetes target", .min = 0.001, .max = 86400},
      {.key = "autoscale.policies.*.enabled", .type = "bool", .default_text = "true", .env = {"AUTO_SCALER_ENABLED"},
       .help = "false: plans keep the current count (reason Disabled)"},
      {.key = "autoscale.policies.*.plan_ttl", .type = "duration", .default_text = "15m",
       .help = "A saved plan older than this is stale", .min = 1, .max = 2592000},

      // --- notifications, metrics, audit -----------------------------------------------------
      {.key = "notify.webhooks", .type = "strings", .help = "Webhook URLs told about every change"},
      {.key = "notify.format", .type = "string", .default_text = "json", .help = "Webhook payload format",
       .choices = {"json", "slack"}},
      {.key = "notify.timeout", .type = "duration", .default_text = "5s", .help = "Timeout for one webhook call", .min = 0.001, .max = 300},
      {.key = "notify.retries", .type = "int", .default_text = "2", .help = "Retries of a failed webhook call", .min = 0, .max = 10},
      {.key = "metrics.textfile", .type = "string",
       .help = "Prometheus node_exporter textfile to write after each command"},
      {.key = "audit.enabled", .type = "bool", .default_text = "true", .help = "Append every change to the audit log"},
  };

  // Every key outside a wildcard table also answers to SCALECTL_<KEY>, ahead of older names.
  // The token is the exception: resolve_token() reads it from a fixed list of places.
  for (KeyInfo& row : rows) {
    if (row.key.find('*') == std::string::npos && row.key != "digitalocean.token") {
      row.env.insert(row.env.begin(), detail::generic_env_name(row.key));
    }
  }
  return rows;
}
#pragma GCC diagnostic pop

}  // namespace

const std::vector<KeyInfo>& schema()
{
  static const std::vector<KeyInfo> k_schema = make_schema();
  return k_schema;
}

}  // namespace scalectl::config
