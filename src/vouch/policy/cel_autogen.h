// Autogen for the CEL policy kinds (Kyverno's pkg/cel/autogen): a ValidatingPolicy or
// ImageValidatingPolicy written for Pods also judges the Pod controllers that carry a Pod
// template (DaemonSet, Deployment, ReplicaSet, StatefulSet, Job, CronJob), as Kyverno does by
// default. Each variant is the policy's spec with matchConstraints naming the controllers and
// every `object.spec`/`object.metadata` (and `oldObject.…`) rewritten to the template's.
#pragma once

#include <string>
#include <vector>

#include <boost/json.hpp>

#include "vouch/base/result.h"

namespace vouch::policy {

// The specs of a policy's autogen variants: none when its matchConstraints are not Kyverno's
// "Pods only" shape (one rule, group "", version v1, resource pods, no names, no object
// selector, no exclusions) or when spec.autogen.podControllers.controllers is an empty list.
// A variant has no `autogen` member. A controller name Kyverno does not know is an error.
Result<std::vector<boost::json::object>> cel_autogen_specs(const boost::json::object& spec);

// Kyverno's rewrite of one string: `object.<from>` and `oldObject.<from>` become `.<to>`,
// except where the match is followed by `.namespace` (a controller's own namespace).
std::string cel_autogen_rewrite(std::string_view text, std::string_view from, std::string_view to);

}  // namespace vouch::policy
