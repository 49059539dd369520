// Files: outputs never replace anything but a regular file; readers never block on a FIFO.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "vouch/base/file.h"

namespace vouch {
namespace {

namespace fs = std::filesystem;

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("vouch-file-test-{}", ::getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(FileTest, WritesNewAndRegularFiles) {
  auto p = dir_ / "out.json";
  ASSERT_TRUE(write_file_atomic(p, "one").ok());
  ASSERT_TRUE(write_file_atomic(p, "two").ok());
  EXPECT_EQ(*read_file(p), "two");
  // A symbolic link to a regular file is replaced (the link, not its target).
  fs::create_symlink(p, dir_ / "link");
  ASSERT_TRUE(write_file_atomic(dir_ / "link", "three").ok());
  EXPECT_EQ(*read_file(dir_ / "link"), "three");
}

TEST_F(FileTest, RefusesToReplaceFifosDevicesAndDirectories) {
  auto fifo = dir_ / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto st = write_file_atomic(fifo, "data");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(st.error().message.find("is a FIFO"), std::string::npos) << st.error().message;
  EXPECT_TRUE(fs::is_fifo(fifo));

  auto link = dir_ / "null";
  fs::create_symlink("/dev/null", link);
  st = write_file_atomic(link, "data");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("character device"), std::string::npos) << st.error().message;
  EXPECT_TRUE(fs::is_symlink(link));

  st = write_file_atomic(dir_, "data");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("is a directory"), std::string::npos) << st.error().message;
  // No temporary file is left behind.
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++entries;
  EXPECT_EQ(entries, 2u);
}

TEST_F(FileTest, ReadersRefuseFifosAtOnce) {
  auto fifo = dir_ / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto start = std::chrono::steady_clock::now();
  auto r = read_file(fifo);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(r.error().message.find("is a FIFO"), std::string::npos) << r.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  r = read_file("/dev/zero");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("character device"), std::string::npos) << r.error().message;
  r = read_file(dir_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("is a directory"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace vouch
