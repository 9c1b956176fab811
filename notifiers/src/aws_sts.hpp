// AWS STS AssumeRole for the SNS receiver's sigv4.role_arn, as Alertmanager does it through the
// AWS SDK for Go (stscreds): a SigV4-signed query-protocol POST (Action=AssumeRole,
// DurationSeconds=900, RoleArn, RoleSessionName = the time in Unix nanoseconds, Version=
// 2011-06-15; the bytes Debian's Alertmanager 0.25 sends) to the STS endpoint of the region,
// signed with the base credentials. Alertmanager builds a new provider for every notification;
// ruleeval caches the temporary credentials (with their session token) until 60 s before their
// Expiration instead of assuming the role for every notification.
//
// Endpoints follow the AWS SDKs' documented "service-specific endpoints" settings, which the
// Go SDK v2 that later Alertmanager versions use honours: AWS_ENDPOINT_URL_STS (or _SNS), else
// AWS_ENDPOINT_URL, unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true; else
// https://<service>.<region>.amazonaws.com (amazonaws.com.cn in cn-* regions).
//
// Thread-safety: every function may be called from any thread (the cache has its own mutex;
// one AssumeRole per role and base identity at a time).
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ruleeval/common/env.hpp"
#include "ruleeval/common/error.hpp"
#include "ruleeval/common/http.hpp"
#include "ruleeval/http/client.hpp"
#include "ruleeval/notifiers/config.hpp"

namespace ruleeval::notifiers::detail {

struct AwsCredentials {
  std::string access_key, secret_key, session_token;
};

// The endpoint configured for a service in the environment (`service_id` as in the variable
// name: "STS", "SNS"), or "".
std::string aws_configured_endpoint(std::string_view service_id);
// https://<service>.<region>.amazonaws.com, .amazonaws.com.cn for cn-* regions.
std::string aws_default_endpoint(std::string_view service, const std::string& region);
// `endpoint` with the operation path "/" appended to its path, as the Go SDK builds it.
std::string aws_operation_url(std::string endpoint);

// A POST of an AWS query-protocol form `body` to `url`, signed with SigV4 (libcurl's, through
// the shared HTTP client) for `service` ("sns", "sts") in `region` with `creds` (a session token
// is sent as X-Amz-Security-Token), under http_config's timeout, TLS, proxy, redirect and HTTP/2
// options; http_config's own credentials do not apply (prometheus/common's round trippers leave
// a request that carries an Authorization header alone). Sent with this thread's client
// (env.http_client()), so the connection is kept alive; the response is valid until that
// client's next use. The outer
// error: http_config's options could not be built (a *_file secret unreadable).
Result<http::SendResult> aws_signed_post(Env& env, const std::string& url,
                                         const HttpSettings& http,
                                         const std::string& service, const std::string& region,
                                         const AwsCredentials& creds, std::string_view body);

// The elements of an XML document as (path of local names from the root joined by '/', the
// element's own character data with entities and CDATA resolved), in document order. Accepts
// the XML that AWS's query protocol answers with (declaration, comments, attributes, CDATA,
// the predefined and numeric character references); anything malformed is an error.
Result<std::vector<std::pair<std::string, std::string>>> parse_aws_xml(std::string_view doc);

// Why an AssumeRole failed: the STS answer's HTTP status (0: no answer, or an answer that is
// not a well-formed AssumeRoleResponse) and whether Alertmanager would retry the notification
// (its Retrier: 5xx and failures without a status).
struct StsFailure {
  long status = 0;
  bool retryable = true;
  std::string message;
};

std::expected<AwsCredentials, StsFailure> sts_assume_role(Env& env, const std::string& role_arn,
                                                          const std::string& region,
                                                          const AwsCredentials& base,
                                                          const HttpSettings& http);
// Forgets cached temporary credentials (tests).
void sts_reset_cache();

}  // namespace ruleeval::notifiers::detail
