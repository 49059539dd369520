// libFuzzer target: what the admission webhook reads from the network: an AdmissionReview body.
// When it decodes, the answer is encoded (echoing the review), and the request's strings go
// through the deny message's YAML scalars.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "vouch/admission/review.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vouch;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto decoded = admission::decode_review(body);
  auto* review = std::get_if<admission::AdmissionReview>(&decoded);
  if (!review) return 0;
  const auto& r = review->request;
  admission::AdmissionResponse response;
  response.allowed = r.operation != "DELETE";
  response.warnings.push_back(admission::rule_warning(r.name, r.ns, r.uid));
  response.message = admission::blocked_message(policy::ResourceRef{r.kind.version, r.kind.kind, r.name, r.ns},
                                                {{r.user.username, r.sub_resource, r.resource.resource}});
  (void)admission::matched_kind(r);
  (void)admission::admitted_fields(*review);
  (void)admission::encode_review_response(*review, response);
  (void)admission::encode_bare_response(r.uid, response);
  return 0;
}
