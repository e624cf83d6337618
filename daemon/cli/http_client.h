// A small blocking HTTP client (libcurl) for vigilctl and the tests.
#pragma once

#include <string>

namespace vigil::cli {

struct HttpResponse {
  long status = 0;     // 0 when no response arrived
  std::string body;
  std::string error;   // libcurl's message when status is 0
};

HttpResponse httpGet(const std::string& url, const std::string& token = "");
HttpResponse httpPost(const std::string& url, const std::string& body, const std::string& token = "",
                      const std::string& content_type = "application/json");

// Any method with a JSON body (PUT, DELETE, PATCH); an empty body sends none.
HttpResponse httpRequest(const std::string& method, const std::string& url, const std::string& body = "",
                         const std::string& token = "");

}  // namespace vigil::cli
