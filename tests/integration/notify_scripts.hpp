// The Python servers and parsers of the notifier integration tests (files beside this header,
// tests/integration/*.py), started from C++: an aiosmtpd mailbox sink and the mail parser
// (mail_json.py), a logging HTTP/CONNECT proxy (logging_proxy.py), and the small helpers they
// share (self-signed certificates, JSON-lines logs, a script's stdout).
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "notify_servers.hpp"

#ifndef RULEEVAL_ITEST_DIR
#error "RULEEVAL_ITEST_DIR (tests/integration) must be defined by the build"
#endif

namespace ruleeval::notifiers::testing {

// The path of tests/integration/`name`.
inline std::string itest_script(const std::string& name) {
  return std::string(RULEEVAL_ITEST_DIR) + "/" + name;
}

// The argv that runs tests/integration/`script` with `args`.
inline std::vector<std::string> python_argv(const std::string& script,
                                            std::vector<std::string> args = {}) {
  std::vector<std::string> argv{"/usr/bin/python3", itest_script(script)};
  for (auto& a : args) argv.push_back(std::move(a));
  return argv;
}

// What tests/integration/`script` with `args` (shell words, quoted by the caller where needed)
// prints on stdout.
inline std::string python_output(const std::string& script, const std::string& args) {
  const std::string cmd = "/usr/bin/python3 " + itest_script(script) + " " + args;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  REQUIRE_MESSAGE(pipe, cmd);
  std::string out;
  char buf[4096];
  while (size_t got = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, got);
  ::pclose(pipe);
  return out;
}

// One JSON value per non-empty line of `p` (none when it does not exist yet).
inline std::vector<nlohmann::json> read_json_lines(const std::filesystem::path& p) {
  std::vector<nlohmann::json> out;
  std::ifstream in(p);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

// A throw-away self-signed certificate and key (dir/cert.pem, dir/key.pem) for CN=`cn`, with
// subjectAltName `san` (e.g. "DNS:hooks.test") unless empty; REQUIREs that openssl succeeds.
struct CertFiles {
  std::string cert, key;
};
inline CertFiles self_signed_cert(const std::filesystem::path& dir, const std::string& cn,
                                  const std::string& san) {
  CertFiles c{(dir / "cert.pem").string(), (dir / "key.pem").string()};
  std::string gen = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=" + cn;
  if (!san.empty()) gen += " -addext subjectAltName=" + san;
  gen += " -keyout " + c.key + " -out " + c.cert + " >/dev/null 2>&1";
  // NOLINTNEXTLINE(concurrency-mt-unsafe): a test-owned command, no other thread runs system()
  REQUIRE(std::system(gen.c_str()) == 0);
  return c;
}

// An aiosmtpd SMTP server on a free port of 127.0.0.1 that stores every message in the Maildir
// `maildir` (new/, cur/, tmp/ created); `extra` are more aiosmtpd options (e.g. --tlscert ...).
// Ready (listening) once constructed; stopped by the destructor.
struct SmtpSink {
  std::filesystem::path maildir;
  int port = 0;
  std::unique_ptr<ChildProcess> proc;

  SmtpSink(std::filesystem::path dir, const std::string& log_path,
           const std::vector<std::string>& extra = {})
      : maildir(std::move(dir)), port(free_port()) {
    for (const char* sub : {"new", "cur", "tmp"}) {
      std::filesystem::create_directories(maildir / sub);
    }
    std::vector<std::string> argv{"/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l",
                                  "127.0.0.1:" + std::to_string(port)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.insert(argv.end(), {"-c", "aiosmtpd.handlers.Mailbox", maildir.string()});
    proc = std::make_unique<ChildProcess>(argv, log_path);
    REQUIRE(wait_port(port, 10'000));
  }
  // The number of messages delivered so far.
  size_t count() const {
    size_t c = 0;
    for (auto& e : std::filesystem::directory_iterator(maildir / "new")) c += e.is_regular_file();
    return c;
  }
  // The first message's file, waiting up to `timeout_ms` for one; REQUIREs that it comes.
  std::filesystem::path wait_mail(int timeout_ms = 20'000) const {
    std::filesystem::path mail;
    for (int waited = 0; mail.empty(); waited += 20) {
      for (auto& e : std::filesystem::directory_iterator(maildir / "new")) mail = e.path();
      if (!mail.empty() || waited >= timeout_ms) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    REQUIRE_FALSE(mail.empty());
    return mail;
  }
};

// mail_json.py's reading of one message file, or of every message of a maildir (a JSON array).
inline nlohmann::json mail_json(const std::filesystem::path& file_or_maildir) {
  return nlohmann::json::parse(python_output("mail_json.py", file_or_maildir.string()));
}

// logging_proxy.py on a free port, logging one JSON line per request to dir/`name`.jsonl:
// {"kind": "http"|"connect"|"tunneled", "method", "target", "headers", "body"}. CONNECT tunnels
// are terminated with `cert`.
struct LoggingProxy {
  std::filesystem::path log;
  int port;
  ChildProcess proc;

  LoggingProxy(const std::filesystem::path& dir, const std::string& name, const CertFiles& cert)
      : log(dir / (name + ".jsonl")),
        port(free_port()),
        proc(python_argv("logging_proxy.py", {std::to_string(port), cert.cert, cert.key,
                                              log.string()}),
             (dir / (name + ".log")).string()) {
    REQUIRE(wait_port(port, 10'000));
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
  std::vector<nlohmann::json> entries() const { return read_json_lines(log); }
  // The requests that came through CONNECT tunnels.
  std::vector<nlohmann::json> tunneled() const {
    std::vector<nlohmann::json> out;
    for (auto& e : entries()) {
      if (e["kind"] == "tunneled") out.push_back(std::move(e));
    }
    return out;
  }
};

}  // namespace ruleeval::notifiers::testing
