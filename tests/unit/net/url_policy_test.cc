// Token realms and redirect targets are judged by their parsed origin: names that merely start
// like a loopback host, or hide another host behind user information, get no plain HTTP.
#include "vouch/net/url_policy.h"

#include <gtest/gtest.h>

namespace vouch::net {
namespace {

TEST(UrlPolicy, PlainHttpOnlyToALoopbackHostNamedExactly) {
  for (const char* ok : {"http://127.0.0.1:5000/token", "http://localhost/token", "http://LOCALHOST:80/t",
                         "http://[::1]:8080/token", "https://auth.example/token", "https://localhost.evil.example/t"})
    EXPECT_TRUE(check_url_allowed(ok, false, "token realm").ok()) << ok;
  for (const char* bad : {"http://localhost.evil.example/token", "http://localhost@evil.example/",
                          "http://127.0.0.1.evil.example/token", "http://127.0.0.1@evil.example/token",
                          "http://localhost:5000@evil.example/token", "http://127.1/token", "http://127.0.0.2/token",
                          "http://evil.example/localhost", "http://local%68ost/token", "http://[::2]/token",
                          "ftp://localhost/token", "localhost/token", "http:///token", "https://user:pw@auth.example/t"}) {
    auto st = check_url_allowed(bad, false, "token realm");
    ASSERT_FALSE(st.ok()) << bad;
    EXPECT_NE(st.error().message.find("token realm"), std::string::npos) << st.error().message;
  }
  // --allow-insecure-registry lets plain HTTP go anywhere, but never to a hidden host.
  EXPECT_TRUE(check_url_allowed("http://registry.lan:5000/token", true, "token realm").ok());
  EXPECT_FALSE(check_url_allowed("http://localhost@evil.example/", true, "token realm").ok());
}

TEST(UrlPolicy, OriginsAreParsed) {
  auto a = url_origin("http://localhost/v2/");
  auto b = url_origin("HTTP://LocalHost:80/other?x=1");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(a->port, 80);
  EXPECT_EQ(url_origin("https://r.example/")->port, 443);
  EXPECT_EQ(url_origin("http://[::1]:5000/")->host, "::1");
  EXPECT_NE(*url_origin("http://localhost:5000/"), *url_origin("http://localhost:5001/"));
  EXPECT_NE(*url_origin("http://localhost/"), *url_origin("https://localhost/"));
  EXPECT_EQ(url_origin("http://localhost.evil.example/")->host, "localhost.evil.example");
  EXPECT_FALSE(url_origin("http://localhost@evil.example/").ok());
}

TEST(UrlPolicy, LocalhostRegistries) {
  EXPECT_TRUE(is_localhost_registry("localhost:5000"));
  EXPECT_TRUE(is_localhost_registry("127.0.0.1"));
  EXPECT_TRUE(is_localhost_registry("[::1]:5000"));
  EXPECT_FALSE(is_localhost_registry("localhost.evil.example:5000"));
  EXPECT_FALSE(is_localhost_registry("localhost@evil.example"));
  EXPECT_FALSE(is_localhost_registry("127.1:5000"));
  EXPECT_FALSE(is_localhost_registry("127.0.0.1.example.com"));
}

TEST(UrlPolicy, RedirectsResolveAndNeverDowngrade) {
  EXPECT_EQ(*resolve_url("http://127.0.0.1:5000/v2/a/blobs/uploads/", "/v2/a/blobs/uploads/u1?state=x"),
            "http://127.0.0.1:5000/v2/a/blobs/uploads/u1?state=x");
  EXPECT_EQ(*resolve_url("http://127.0.0.1:5000/v2/a/tags/list", "list?n=2&last=b"), "http://127.0.0.1:5000/v2/a/tags/list?n=2&last=b");
  EXPECT_EQ(*resolve_url("https://r.example/v2/", "https://cdn.example/blob"), "https://cdn.example/blob");
  EXPECT_TRUE(check_redirect("https://r.example/v2/x", "https://cdn.example/blob", false).ok());
  EXPECT_TRUE(check_redirect("http://127.0.0.1:5000/x", "http://localhost:6000/blob", false).ok());
  EXPECT_FALSE(check_redirect("https://localhost/x", "http://localhost/blob", false).ok());
  EXPECT_FALSE(check_redirect("http://127.0.0.1:5000/x", "http://localhost.evil.example/blob", false).ok());
  EXPECT_FALSE(check_redirect("http://127.0.0.1:5000/x", "http://localhost@evil.example/blob", false).ok());
  EXPECT_FALSE(check_redirect("http://127.0.0.1:5000/x", "file:///etc/passwd", true).ok());
  // A host that starts like an IPv4 address is that whole name, not 127.0.0.1 plus a path.
  EXPECT_FALSE(resolve_url("http://127.0.0.1:5000/x", "http://127.0.0.1.evil.example/blob").ok());
  EXPECT_FALSE(check_redirect("http://127.0.0.1:5000/x", "http://127.0.0.1.evil.example/blob", false).ok());
  EXPECT_FALSE(url_origin("http://127.0.0.1x/").ok());
}

}  // namespace
}  // namespace vouch::net
