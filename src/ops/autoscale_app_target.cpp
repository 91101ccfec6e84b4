// do-app: an App Platform component's instance_count, changed with the code `app scale` uses: the
// spec is read raw, only instance_count is edited (core::plan_scale) and the PUT runs under the
// app's operation lock, so an autoscale apply and an `app scale` never interleave on one app.

#include "ops/autoscale_app_target.hpp"

#include <string>
#include <vector>

#include <fmt/format.h>

#include <scalectl/core/app_spec.hpp>
#include <scalectl/digitalocean/apps.hpp>
#include <scalectl/error.hpp>
#include <scalectl/ops/app.hpp>

namespace scalectl::ops {

namespace {

// plan_scale reads the workers rule only for WEB_CONCURRENCY, which an instance_count request never sets.
constexpr std::int64_t k_unused_workers_rule_mb = 512;

class AppTarget final : public ReplicaTarget {
 public:
  AppTarget(TargetSpec spec, TargetDeps deps) : m_spec(std::move(spec)), m_deps(std::move(deps)) {}

  std::int64_t current() override
  {
    return scalable_component(digitalocean::get_app(api(), app_id()).spec).instance_count;
  }

  std::string apply(std::int64_t replicas) override
  {
    // Read, edit and PUT under the lock, so the spec sent is the one just read.
    const auto lock = m_deps.lock(app_lock_resource(app_id()));
    const auto app = digitalocean::get_app(api(), app_id());
    scalable_component(app.spec);
    core::ScaleRequest request;
    request.count = replicas;
    const auto plan = core::plan_scale(app.spec, m_spec.component, request, digitalocean::list_instance_sizes(api()),
                                       k_unused_workers_rule_mb);
    if (!plan.errors.empty()) {
      throw usage_error(fmt::format("cannot set component {} of app {} to {} instances: {}; nothing was changed",
                                    m_spec.component, m_spec.app, replicas, fmt::join(plan.errors, "; also ")));
    }
    if (!plan.changed()) {
      return fmt::format("instance_count is already {}; nothing was sent", replicas);
    }
    const auto updated = digitalocean::update_app_spec(api(), app_id(), plan.spec);
    for (const auto* deployment : {&updated.pending_deployment, &updated.in_progress_deployment}) {
      if (deployment->has_value()) {
        return fmt::format("deployment {}", (*deployment)->id);
      }
    }
    return "spec updated";
  }

  std::string describe() const override
  {
    return fmt::format("App Platform app {}, component {}", m_spec.app, m_spec.component);
  }
  std::string current_source() const override { return "the app spec's instance_count"; }

 private:
  digitalocean::Api& api() { return m_deps.digitalocean(); }

  const std::string& app_id()
  {
    if (m_app_id.empty()) {
      m_app_id = resolve_app(api(), m_spec.app);
    }
    return m_app_id;
  }

  // Returns the service or worker m_spec.component; refuses one App Platform autoscales itself.
  core::ComponentScale scalable_component(const core::RawJson& spec) const
  {
    std::vector<std::string> names;
    for (const auto& c : core::list_components(spec)) {
      if (c.list == "jobs") {
        continue;
      }
      if (c.name != m_spec.component) {
        names.push_back(c.name);
        continue;
      }
      if (c.autoscaling()) {
        throw usage_error(fmt::format("component {} of app {} uses App Platform autoscaling, which would fight "
                                      "scalectl; remove its autoscaling block or use another target",
                                      m_spec.component, m_spec.app));
      }
      return c;
    }
    throw usage_error(fmt::format("app {} has no service or worker named \"{}\"{}; fix autoscale component", m_spec.app,
                                  m_spec.component,
                                  names.empty() ? std::string() : fmt::format(" (it has: {})", fmt::join(names, ", "))));
  }

  TargetSpec m_spec;
  TargetDeps m_deps;
  std::string m_app_id;
};

}  // namespace

std::unique_ptr<ReplicaTarget> make_app_target(const TargetSpec& spec, TargetDeps deps)
{
  if (!deps.digitalocean || !deps.lock) {
    throw Error("internal error: the do-app target needs a DigitalOcean client and the state store's locks");
  }
  return std::make_unique<AppTarget>(spec, std::move(deps));
}

}  // namespace scalectl::ops
