// The outbox journal (issue 13): pending notifications live in a checksummed, group-committed
// segment log (common/record_log.hpp); delivered ones get a "done" record; a torn tail keeps the
// entries before it; start-up compacts; outboxes of earlier versions (pending/*.json) migrate.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "ruleeval/notifiers/outbox.hpp"

using namespace ruleeval::notifiers;
namespace fs = std::filesystem;

namespace {

struct TmpDir {
  std::string path;
  TmpDir()
      : path((fs::temp_directory_path() / ("ruleeval_outbox_journal_" +
                                           std::to_string(::getpid()) + "_" +
                                           std::to_string(counter()++)))
                 .string()) {
    fs::remove_all(path);
  }
  ~TmpDir() { fs::remove_all(path); }
  static int& counter() {
    static int n = 0;
    return n;
  }
};

OutboxEntry entry(const std::string& body) {
  OutboxEntry e;
  e.integration = "r/webhook/0";
  e.receiver = "r";
  e.kind = IntegrationKind::kWebhook;
  e.group_key = "{}:{}";
  e.body = body;
  e.created_at = 1000;
  return e;
}

std::vector<fs::path> segments(const std::string& dir) {
  std::vector<fs::path> out;
  for (const auto& de : fs::directory_iterator(dir)) {
    auto n = de.path().filename().string();
    if (n.starts_with("outbox-") && n.ends_with(".log")) out.push_back(de.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("outbox journal: a batch is one sync; pending entries survive a restart, done ones not") {
  TmpDir d;
  std::string a_id, b_id;
  {
    auto ob = Outbox::open(d.path);
    REQUIRE(ob);
    auto a = entry("{\"a\":1}"), b = entry("{\"b\":2}"), c = entry("{\"c\":3}");
    REQUIRE((*ob)->put(a, false));
    REQUIRE((*ob)->put(b, false));
    REQUIRE((*ob)->put(c, false));
    REQUIRE((*ob)->sync());
    a_id = a.id;
    b_id = b.id;
    CHECK(a.id < b.id);
    CHECK((*ob)->pending_count() == 3);
    REQUIRE((*ob)->done(c.id));
    CHECK((*ob)->pending_count() == 2);
    // No file per notification: one journal segment, no pending/ directory.
    CHECK(segments(d.path).size() == 1);
    CHECK_FALSE(fs::exists(fs::path(d.path) / "pending"));
  }  // no stop, no flush: as after kill -9
  auto ob = Outbox::open(d.path);
  REQUIRE(ob);
  CHECK((*ob)->load_warnings().empty());
  auto p = (*ob)->load_pending();
  REQUIRE(p);
  REQUIRE(p->size() == 2);
  CHECK((*p)[0].id == a_id);
  CHECK((*p)[0].body == "{\"a\":1}");
  CHECK((*p)[1].id == b_id);
  // Ids keep increasing after a restart.
  auto e = entry("{}");
  REQUIRE((*ob)->put(e));
  CHECK(e.id > b_id);
  // Start-up compacted: only the newest segment is left.
  CHECK(segments(d.path).size() == 1);
}

TEST_CASE("outbox journal: a torn tail is reported and the entries before it are kept") {
  TmpDir d;
  {
    auto ob = Outbox::open(d.path);
    REQUIRE(ob);
    auto a = entry("{\"a\":1}");
    REQUIRE((*ob)->put(a));
  }
  auto segs = segments(d.path);
  REQUIRE(segs.size() == 1);
  {
    // A crash in the middle of the next record: its header and half its payload.
    std::ofstream out(segs[0], std::ios::binary | std::ios::app);
    out.write("\x4c\x4e\x4a\x52\x40\x00\x00\x00\x01\x02\x03\x04\x05\x06\x07\x08{\"id\"", 21);
  }
  {
    auto ob = Outbox::open(d.path);
    REQUIRE(ob);
    REQUIRE((*ob)->load_warnings().size() == 1);
    CHECK((*ob)->load_warnings()[0].find("torn tail") != std::string::npos);
    auto p = (*ob)->load_pending();
    REQUIRE(p);
    REQUIRE(p->size() == 1);
    CHECK(p->at(0).body == "{\"a\":1}");
    auto b = entry("{\"b\":2}");
    REQUIRE((*ob)->put(b));
  }
  // The torn segment was compacted away; nothing was appended after the garbage.
  auto ob = Outbox::open(d.path);
  REQUIRE(ob);
  CHECK((*ob)->load_warnings().empty());
  CHECK((*ob)->pending_count() == 2);
}

TEST_CASE("outbox journal: pending/*.json of an earlier version is moved into the journal") {
  TmpDir d;
  fs::create_directories(fs::path(d.path) / "pending");
  auto old = entry("{\"old\":true}");
  old.id = "00000000000000a0-12345678";
  std::ofstream(fs::path(d.path) / "pending" / (old.id + ".json")) << serialize_entry(old);
  std::ofstream(fs::path(d.path) / "pending" / "tmp.json.tmp") << "partial";
  {
    auto ob = Outbox::open(d.path);
    REQUIRE(ob);
    auto p = (*ob)->load_pending();
    REQUIRE(p);
    REQUIRE(p->size() == 1);
    CHECK(p->at(0).id == old.id);
    CHECK_FALSE(fs::exists(fs::path(d.path) / "pending"));
    auto e = entry("{}");
    REQUIRE((*ob)->put(e));
    CHECK(e.id > old.id);
  }
  auto ob = Outbox::open(d.path);
  REQUIRE(ob);
  CHECK((*ob)->pending_count() == 2);
}

TEST_CASE("outbox journal: delivered entries are compacted away while running") {
  TmpDir d;
  auto ob = Outbox::open(d.path);
  REQUIRE(ob);
  auto keep = entry("{\"keep\":1}");
  REQUIRE((*ob)->put(keep));
  const std::string big(size_t{64} * 1024, 'x');
  for (int i = 0; i < 200; ++i) {  // ~13 MB of delivered notifications
    auto e = entry("{\"n\":\"" + big + "\"}");
    REQUIRE((*ob)->put(e));
    REQUIRE((*ob)->done(e.id));
  }
  CHECK((*ob)->journal_bytes() <= Outbox::kCompactBytes + 2 * big.size());
  uint64_t total = 0;
  for (const auto& s : segments(d.path)) total += fs::file_size(s);
  CHECK(total <= Outbox::kCompactBytes + 2 * big.size());
  ob->reset();
  auto again = Outbox::open(d.path);
  REQUIRE(again);
  auto p = (*again)->load_pending();
  REQUIRE(p);
  REQUIRE(p->size() == 1);
  CHECK(p->at(0).id == keep.id);
}

TEST_CASE("outbox journal: a failed entry leaves the journal and goes to failed/ with its reason") {
  TmpDir d;
  std::string id;
  {
    auto ob = Outbox::open(d.path);
    REQUIRE(ob);
    auto e = entry("{\"f\":1}");
    REQUIRE((*ob)->put(e));
    id = e.id;
    REQUIRE((*ob)->fail(e.id, "400 bad request"));
    CHECK((*ob)->pending_count() == 0);
  }
  CHECK(fs::exists(fs::path(d.path) / "failed" / (id + ".json")));
  CHECK(fs::exists(fs::path(d.path) / "failed" / (id + ".reason")));
  auto ob = Outbox::open(d.path);
  REQUIRE(ob);
  CHECK((*ob)->pending_count() == 0);
}
