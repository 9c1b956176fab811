// The Notifier: create() (config checks, state dir, silences, outbox, notification log, one worker
// per integration), stop(), and the flush loop that hands due groups to notify_group (see
// notifier_internal.hpp for the other files).
#include "ruleeval/notifiers/notifier.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "notifier_internal.hpp"
#include "payloads.hpp"

namespace ruleeval::notifiers {

namespace fs = std::filesystem;
using detail::check_templates;
using detail::integration_id;
using detail::integrations_of;
using detail::log_error;

Result<std::unique_ptr<Notifier>> Notifier::create(NotifyConfig config, NotifierOptions opts) {
  std::unique_ptr<Notifier> n(new Notifier());
  if (!opts.env) opts.env = std::shared_ptr<Env>(std::shared_ptr<Env>{}, Env::Default());
  if (!opts.transport) opts.transport = make_default_transport(opts.env.get());
  while (!opts.external_url.empty() && opts.external_url.back() == '/')
    opts.external_url.pop_back();
  auto tree = RouteTree::build(config);
  if (!tree) return std::unexpected(tree.error());
  if (!opts.fallback_receiver.empty() && !config.find_receiver(opts.fallback_receiver)) {
    return make_error("fallback receiver \"" + opts.fallback_receiver + "\" is not defined");
  }
  if (auto bad = check_templates(config); !bad) return std::unexpected(bad.error());
  n->tree_ = *tree;
  n->config_ = std::move(config);
  n->expander_ = detail::default_expander(n->config_.template_defs);
  n->html_expander_ = detail::default_expander(n->config_.template_defs, true);
  n->html_doc_expander_ = detail::default_expander(n->config_.template_defs, true, true);
  n->opts_ = std::move(opts);
  n->dispatcher_ = std::make_unique<Dispatcher>(n->tree_, n->config_.resolve_timeout);
  const std::string& dir = n->opts_.state_dir;
  if (!dir.empty()) {
    if (auto made = n->opts_.env->create_dir(dir); !made) return std::unexpected(made.error());
  }
  auto sil = Silences::open(dir.empty() ? "" : (fs::path(dir) / "silences.json").string(),
                            n->opts_.env->now_ms(), n->opts_.env.get());
  if (!sil) return std::unexpected(sil.error());
  if (!(*sil)->load_warning().empty()) {
    log_error((*sil)->load_warning() + "; starting with the silences that could be read");
  }
  n->silences_ = std::move(*sil);
  auto ob = Outbox::open(dir.empty() ? "" : (fs::path(dir) / "outbox").string(),
                         n->opts_.env.get());
  if (!ob) return std::unexpected(ob.error());
  n->outbox_ = std::move(*ob);
  for (const auto& w : n->outbox_->load_warnings()) log_error("outbox: " + w);

  // The notification log survives restarts, like Alertmanager's nflog.
  if (auto r = n->load_nflog(); !r) return std::unexpected(r.error());

  // One worker per configured integration, so metrics list them all from the start.
  for (const auto& rc : n->config_.receivers) {
    for (const auto& ref : integrations_of(rc)) {
      OutboxEntry probe;
      probe.integration = integration_id(rc.name, ref.kind, ref.index);
      probe.receiver = rc.name;
      probe.kind = ref.kind;
      n->worker_for(probe);
    }
  }
  auto pending = n->outbox_->load_pending();
  if (!pending) return std::unexpected(pending.error());
  for (auto& e : *pending) n->enqueue(std::move(e), false);
  if (n->opts_.start_threads) {
    n->loop_ = std::thread([p = n.get()] { p->run_loop(); });
  }
  return n;
}

Notifier::~Notifier() { stop(); }

void Notifier::stop() {
  {
    std::lock_guard lock(loop_mu_);
    stopping_ = true;
  }
  loop_cv_.notify_all();
  if (loop_.joinable()) loop_.join();
  {
    std::lock_guard tl(tick_mu_);
    std::lock_guard nl(nflog_mu_);
    if (nflog_dirty_) save_nflog_locked();
  }
  std::vector<Worker*> ws;
  {
    std::lock_guard lock(workers_mu_);
    for (auto& [k, w] : workers_) ws.push_back(w.get());
  }
  for (auto* w : ws) {
    { std::lock_guard lock(w->mu); }
    w->cv.notify_all();
  }
  for (auto* w : ws) {
    if (w->thread.joinable()) w->thread.join();
  }
}

void Notifier::send(std::span<const rules::Alert> alerts, Millis now) {
  dispatcher_->ingest(alerts, now);
  loop_cv_.notify_all();
}

void Notifier::run_loop() {
  std::unique_lock lock(loop_mu_);
  while (!stopping_) {
    lock.unlock();
    Millis now = opts_.env->now_ms();
    tick(now);
    Millis next = dispatcher_->next_flush();
    Millis wait = next == INT64_MAX ? 1000 : std::clamp<Millis>(next - now, 5, 1000);
    lock.lock();
    if (stopping_) break;
    loop_cv_.wait_for(lock, std::chrono::milliseconds(wait));
  }
}

void Notifier::tick(Millis now) {
  std::lock_guard lock(tick_mu_);
  std::vector<rules::Alert> sources;
  if (!config_.inhibit_rules.empty()) sources = dispatcher_->firing_alerts(now);
  Inhibitor inh(config_.inhibit_rules, sources);
  // Group commit: the flush's outbox entries are appended to the outbox journal with one write
  // and one fdatasync, and only then handed to the workers.
  std::vector<OutboxEntry> batch;
  dispatcher_->flush_due(now, [&](const GroupFlush& g) { notify_group(g, now, inh, batch); });
  if (!batch.empty()) {
    if (auto r = outbox_->sync(); !r) log_error("outbox: " + r.error().to_string());
    for (auto& e : batch) enqueue(std::move(e), false);
  }
  std::lock_guard nl(nflog_mu_);
  // The whole log is rewritten: at most once a second (and at stop()), not on every flush.
  if (nflog_dirty_ && now - nflog_saved_at_ >= 1000) {
    save_nflog_locked();
    nflog_saved_at_ = now;
  }
}

}  // namespace ruleeval::notifiers
