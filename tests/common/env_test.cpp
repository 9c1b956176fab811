#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "fake_env.hpp"
#include "ruleeval/common/env.hpp"
#include "ruleeval/common/file_io.hpp"

using namespace ruleeval;
namespace fs = std::filesystem;

namespace {
struct TempDir {
  fs::path path = fs::temp_directory_path() / ("ruleeval-env-" + std::to_string(::getpid()) +
                                               "-" + std::to_string(counter()++));
  TempDir() {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return (path / name).string(); }
  static int& counter() {
    static int n = 0;
    return n;
  }
};
}  // namespace

TEST_CASE("Env::Default reads the system clocks") {
  Env* env = Env::Default();
  REQUIRE(env != nullptr);
  CHECK(env == Env::Default());
  // After 2020-01-01 and monotonic.
  CHECK(env->now_ms() > 1'577'836'800'000);
  auto a = env->monotonic_now();
  auto b = env->monotonic_now();
  CHECK(b >= a);
  CHECK(env->seconds_since(a) >= 0.0);
  CHECK(env->now_nanos() / 1'000'000 >= env->now_ms() - 1000);
}

TEST_CASE("Env::Default reads whole files within a limit and refuses non-files") {
  TempDir d;
  Env* env = Env::Default();
  REQUIRE(env->replace_file(d / "a.txt", "hello\n", FileSync::kFileAndDir));
  auto r = env->read_file(d / "a.txt");
  REQUIRE(r);
  CHECK(*r == "hello\n");

  auto big = env->read_file(d / "a.txt", 3);
  REQUIRE_FALSE(big);
  CHECK(big.error().message.find("file too large") != std::string::npos);
  CHECK(big.error().where.file == d / "a.txt");

  auto dir = env->read_file(d.path.string());
  REQUIRE_FALSE(dir);
  CHECK(dir.error().message == "is a directory, not a file");

  auto dev = env->read_file("/dev/zero");
  REQUIRE_FALSE(dev);
  CHECK(dev.error().message.find("not a regular file") != std::string::npos);

  // A FIFO without a writer: refused at once instead of blocking for ever.
  REQUIRE(::mkfifo((d / "fifo").c_str(), 0600) == 0);
  auto fifo = env->read_file(d / "fifo");
  REQUIRE_FALSE(fifo);
  CHECK(fifo.error().message.find("not a regular file") != std::string::npos);
  CHECK_FALSE(env->check_input_file(d / "fifo"));
  // Unless the caller reads streams (lint /dev/stdin): then it is read to its end.
  std::thread writer([&] {
    int fd = ::open((d / "fifo").c_str(), O_WRONLY);
    if (fd >= 0) {
      (void)!::write(fd, "groups: []\n", 11);
      ::close(fd);
    }
  });
  auto piped = env->read_file(d / "fifo", kMaxInputFileBytes, Env::Streams::kAllow);
  writer.join();
  REQUIRE(piped);
  CHECK(*piped == "groups: []\n");
  // A device that never ends is still bounded.
  auto zero = env->read_file("/dev/zero", 1 << 16, Env::Streams::kAllow);
  REQUIRE_FALSE(zero);
  CHECK(zero.error().message.find("file too large") != std::string::npos);
  CHECK(env->read_file(d.path.string(), kMaxInputFileBytes, Env::Streams::kAllow).error().message ==
        "is a directory, not a file");

  auto missing = env->read_file(d / "nope");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().to_string().find("nope: cannot read file: No such file") !=
        std::string::npos);
  CHECK_FALSE(env->read_file(""));

  // /proc files report size 0 and are read to the end anyway, still under the limit.
  auto proc = env->read_file("/proc/self/status");
  REQUIRE(proc);
  CHECK(proc->find("VmRSS") != std::string::npos);
  CHECK_FALSE(env->read_file("/proc/self/status", 16));
}

TEST_CASE("Env::Default replaces, appends, lists, globs, renames and removes") {
  TempDir d;
  Env* env = Env::Default();
  REQUIRE(env->replace_file(d / "s.json", "one", FileSync::kNone, 0600));
  REQUIRE(env->replace_file(d / "s.json", "two", FileSync::kFile, 0600));
  CHECK(*env->read_file(d / "s.json") == "two");
  CHECK_FALSE(env->file_exists(d / "s.json.tmp"));
  struct stat st {};
  REQUIRE(::stat((d / "s.json").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  REQUIRE(env->append_file(d / "log", "a\n"));
  REQUIRE(env->append_file(d / "log", "b\n"));
  CHECK(*env->read_file(d / "log") == "a\nb\n");

  REQUIRE(env->create_dir(d / "x/y"));
  REQUIRE(env->create_dir(d / "x/y"));  // exists: fine
  auto names = env->list_dir(d.path.string());
  REQUIRE(names);
  CHECK(*names == std::vector<std::string>{"log", "s.json", "x"});
  CHECK_FALSE(env->list_dir(d / "missing"));

  auto g = env->glob(d / "*.json");
  REQUIRE(g);
  CHECK(*g == std::vector<std::string>{d / "s.json"});
  CHECK(env->glob(d / "*.yaml")->empty());

  REQUIRE(env->rename_file(d / "s.json", d / "t.json"));
  CHECK_FALSE(env->file_exists(d / "s.json"));
  CHECK(env->file_exists(d / "t.json"));
  REQUIRE(env->remove_file(d / "t.json"));
  REQUIRE(env->remove_file(d / "t.json"));  // missing: fine
  CHECK(env->sync_dir(d.path.string()));
  auto bad = env->sync_dir(d / "missing");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("cannot open directory") != std::string::npos);

  // The free functions are the default Env's.
  REQUIRE(replace_file(d / "f", "z", FileSync::kFileAndDir));
  CHECK(*env->read_file(d / "f") == "z");
  CHECK(fsync_dir(d.path.string()));
  CHECK_FALSE(check_input_file(d.path.string()));
}

TEST_CASE("Env::Default tells file types and times, sets permissions and removes directories") {
  TempDir d;
  Env* env = Env::Default();
  REQUIRE(env->replace_file(d / "f", "x", FileSync::kNone, 0644));
  REQUIRE(env->create_dir(d / "sub"));
  REQUIRE(::symlink((d / "sub").c_str(), (d / "link").c_str()) == 0);
  CHECK(env->is_directory(d / "sub"));
  CHECK(env->is_directory(d / "link"));  // followed
  CHECK_FALSE(env->is_directory(d / "f"));
  CHECK_FALSE(env->is_directory(d / "missing"));
  CHECK(env->is_symlink(d / "link"));
  CHECK_FALSE(env->is_symlink(d / "sub"));
  CHECK_FALSE(env->is_symlink(d / "missing"));

  // The content's modification time, on the wall clock.
  const auto before = std::chrono::system_clock::now() - std::chrono::seconds(5);
  auto t = env->last_modified(d / "f");
  REQUIRE(t);
  CHECK(*t > before);
  CHECK(*t < before + std::chrono::seconds(60));
  auto missing = env->last_modified(d / "missing");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find("cannot stat") != std::string::npos);

  REQUIRE(env->set_permissions(d / "sub", 0700));
  struct stat st {};
  REQUIRE(::stat((d / "sub").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  CHECK_FALSE(env->set_permissions(d / "missing", 0700));

  // rmdir: a missing directory is fine, a non-empty one is an error and stays.
  REQUIRE(env->replace_file(d / "sub/g", "y", FileSync::kNone));
  auto full = env->remove_dir(d / "sub");
  REQUIRE_FALSE(full);
  CHECK(full.error().message.find("cannot remove directory") != std::string::npos);
  CHECK(env->is_directory(d / "sub"));
  REQUIRE(env->remove_file(d / "sub/g"));
  REQUIRE(env->remove_dir(d / "sub"));
  CHECK_FALSE(env->file_exists(d / "sub"));
  CHECK(env->remove_dir(d / "sub"));

  // A FakeEnv refuses them like the other writes.
  FakeEnv fake;
  REQUIRE(env->create_dir(d / "sub"));
  fake.fail_writes("sub", "Read-only file system");
  CHECK_FALSE(fake.set_permissions(d / "sub", 0700));
  CHECK_FALSE(fake.remove_dir(d / "sub"));
  CHECK(fake.is_directory(d / "sub"));
  CHECK(fake.failed_writes() == 2);
}

TEST_CASE("FakeEnv controls both clocks and fails the writes it is told to") {
  TempDir d;
  FakeEnv fake(1'000);
  Env* env = &fake;
  CHECK(env->now_ms() == 1'000);
  auto start = env->monotonic_now();
  fake.advance(2'500);
  CHECK(env->now_ms() == 3'500);
  CHECK(env->seconds_since(start) == doctest::Approx(2.5));
  fake.jump_wall(-10'000);  // wall clock steps back; durations do not
  CHECK(env->now_ms() == -6'500);
  CHECK(env->seconds_since(start) == doctest::Approx(2.5));

  REQUIRE(env->replace_file(d / "ok", "1", FileSync::kFileAndDir));
  fake.fail_writes("group-", "No space left on device");
  auto r = env->replace_file(d / "group-1.json", "x", FileSync::kFile);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("No space left on device") != std::string::npos);
  CHECK_FALSE(env->file_exists(d / "group-1.json"));
  CHECK(env->replace_file(d / "ok", "2", FileSync::kFile));  // other paths still work
  CHECK(fake.failed_writes() == 1);
  fake.clear_failures();
  CHECK(env->replace_file(d / "group-1.json", "x", FileSync::kFile));
  CHECK(*env->read_file(d / "group-1.json") == "x");  // reads go to the real files
}

TEST_CASE("Env::Default's appendable file appends, fdatasyncs and cuts off a partial write") {
  TempDir d;
  Env* env = Env::Default();
  {
    auto f = env->new_appendable_file(d / "seg.log", 0600);
    REQUIRE(f);
    CHECK((*f)->size_at_open() == 0);
    REQUIRE((*f)->append("abc"));
    REQUIRE((*f)->append("def"));
    REQUIRE((*f)->sync());
    REQUIRE((*f)->truncate(4));
    REQUIRE((*f)->append("XY"));  // O_APPEND: after a truncate, at the new end
  }
  CHECK(*env->read_file(d / "seg.log") == "abcdXY");
  const auto perms = fs::status(d / "seg.log").permissions() & fs::perms::all;
  CHECK(perms == (fs::perms::owner_read | fs::perms::owner_write));
  auto again = env->new_appendable_file(d / "seg.log");
  REQUIRE(again);
  CHECK((*again)->size_at_open() == 6);
  CHECK(env->is_regular_file(d / "seg.log"));
  CHECK_FALSE(env->is_regular_file(d.path.string()));
  CHECK_FALSE(env->is_regular_file(d / "missing"));
  auto bad = env->new_appendable_file(d / "no/such/dir.log");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("cannot open") != std::string::npos);
}

TEST_CASE("FakeEnv fails an appendable file's write (torn) or only its fsync, on demand") {
  TempDir d;
  FakeEnv fake;
  Env* env = &fake;
  auto f = env->new_appendable_file(d / "j.log", 0600);
  REQUIRE(f);
  fake.fail_writes("j.log", "No space left on device");
  auto w = (*f)->append("0123456789");
  REQUIRE_FALSE(w);
  CHECK(w.error().message == "cannot write \"" + (d / "j.log") + "\": No space left on device");
  CHECK(*env->read_file(d / "j.log") == "01234");  // half of it reached the file
  REQUIRE((*f)->truncate(0));                       // shrinking still works on a full disk
  fake.clear_failures();
  fake.fail_syncs("j.log");
  REQUIRE((*f)->append("abc"));  // the write passes, its fsync does not
  auto s = (*f)->sync();
  REQUIRE_FALSE(s);
  CHECK(s.error().message.find("cannot fsync") != std::string::npos);
  CHECK_FALSE(env->replace_file(d / "j.log.copy", "1", FileSync::kFile));
  CHECK(env->replace_file(d / "j.log.copy", "1", FileSync::kNone));  // no fsync asked for
  fake.clear_failures();
  CHECK((*f)->sync());
  CHECK(*env->read_file(d / "j.log") == "abc");
}
