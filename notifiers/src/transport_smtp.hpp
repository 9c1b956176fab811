// Email deliveries (SMTP) of the default Transport, through libcurl's SMTP client: Alertmanager
// 0.25's email notifier (STARTTLS or implicit TLS, PLAIN/LOGIN/CRAM-MD5, multipart/alternative).
// HTTP deliveries go through the shared HTTP client (transport.cpp, transport_http.cpp).
// Thread-safety: smtp_send may be called from any thread (one easy handle per message).
#pragma once

#include "ruleeval/notifiers/config.hpp"
#include "ruleeval/notifiers/notifier.hpp"

namespace ruleeval::notifiers::detail {

// Sends the email entry `e` (the outbox body: from, to, headers, text, html) to cfg.smarthost.
SendResult smtp_send(const OutboxEntry& e, const EmailConfig& cfg);

}  // namespace ruleeval::notifiers::detail
