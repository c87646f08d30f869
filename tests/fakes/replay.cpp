// SPDX-License-Identifier: MIT
// fake_replay: replays recorded official-client transcripts (transcripts/*.jsonl) against a
// running fake and fails on the first answer that differs from the recording.
//
//   fake_replay (--fake-url http://127.0.0.1:PORT | --port-file FILE) TRANSCRIPT.jsonl...
//   fake_replay (--fake-url URL | --port-file FILE) --shutdown
//
// Transcript format (JSON lines, transcripts/README.md): line 1 is a header
//   {"client", "commit", "date", "fake", "recorded_at", "setup": [{"method", "path", "body"}]}
// and every further line one exchange
//   {"note", "control_before": [{"method", "path", "body"}],
//    "request": {"method", "target", "headers": [[name, value], ...], "body"},
//    "response": {"status", "content_type", "body"}}
// A control call's `body` is a JSON value (sent compact) or a string (sent verbatim).
// Per transcript: POST /__control/reset, the setup calls, then per exchange its control_before
// calls and the request exactly as recorded (Content-Length is the transport's; a recorded Host is
// sent as recorded, since a fake may build URLs from it, e.g. fake_kaggle's signed output URLs).
// The answer must have the recorded status and Content-Type, and a body that is JSON-equal to the
// recorded one when the recorded Content-Type is application/json, byte-equal otherwise.
// Exit status: 0 all equal, 1 a difference or an unreachable fake, 2 bad usage or transcript.

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <strings.h>

#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace {

using nlohmann::json;

/// A failed replay: printed, exit 1.
struct Mismatch {
    std::string what;
};

/// A malformed transcript or command line: printed, exit 2.
struct BadInput {
    std::string what;
};

/// The first place where `got` differs from `want`, as "JSON-pointer: want X, got Y"; "" if equal.
std::string json_diff(const json& want, const json& got, const std::string& at) {
    auto where = at.empty() ? std::string("(root)") : at;
    if (want.is_object() && got.is_object()) {
        for (const auto& [k, v] : want.items()) {
            if (!got.contains(k)) return where + "/" + k + ": missing (want " + v.dump() + ")";
            auto d = json_diff(v, got[k], at + "/" + k);
            if (!d.empty()) return d;
        }
        for (const auto& [k, v] : got.items())
            if (!want.contains(k)) return where + "/" + k + ": unexpected key (got " + v.dump() + ")";
        return "";
    }
    if (want.is_array() && got.is_array()) {
        for (std::size_t i = 0; i < want.size() && i < got.size(); ++i) {
            auto d = json_diff(want[i], got[i], at + "/" + std::to_string(i));
            if (!d.empty()) return d;
        }
        if (want.size() != got.size())
            return where + ": array of " + std::to_string(want.size()) + " elements, got " +
                   std::to_string(got.size());
        return "";
    }
    if (want != got) return where + ": want " + want.dump() + ", got " + got.dump();
    return "";
}

/// Byte offset of the first difference of two strings, with a little context.
std::string text_diff(const std::string& want, const std::string& got) {
    std::size_t i = 0;
    while (i < want.size() && i < got.size() && want[i] == got[i]) ++i;
    auto around = [i](const std::string& s) {
        std::size_t from = i > 20 ? i - 20 : 0;
        return json(s.substr(from, 60)).dump();
    };
    return "bodies differ at byte " + std::to_string(i) + " (want " + std::to_string(want.size()) +
           " bytes, got " + std::to_string(got.size()) + "): want ..." + around(want) +
           "..., got ..." + around(got) + "...";
}

/// Sends one request; throws Mismatch when the fake cannot be reached.
httplib::Response send(httplib::Client& cli, const std::string& method, const std::string& target,
                       const httplib::Headers& headers, const std::string& body) {
    httplib::Request req;
    req.method = method;
    req.path = target;
    req.headers = headers;
    req.body = body;
    auto res = cli.send(req);
    if (!res)
        throw Mismatch{method + " " + target + ": no answer (" + httplib::to_string(res.error()) + ")"};
    return res.value();
}

/// Performs a control call {"method", "path", "body"}; it must answer 2xx.
void control(httplib::Client& cli, const json& call) {
    if (!call.is_object() || !call.contains("method") || !call.contains("path"))
        throw BadInput{"control call needs method and path: " + call.dump()};
    std::string body;
    if (call.contains("body") && !call["body"].is_null())
        body = call["body"].is_string() ? call["body"].get<std::string>() : call["body"].dump();
    httplib::Headers headers{{"Content-Type", "application/json"}};
    auto res = send(cli, call["method"], call["path"], headers, body);
    if (res.status < 200 || res.status > 299)
        throw Mismatch{"control call " + call.dump() + " answered " + std::to_string(res.status) +
                       ": " + res.body};
}

/// Replays one transcript; throws Mismatch on the first difference.
void replay(httplib::Client& cli, const std::string& file) {
    std::ifstream in(file);
    if (!in) throw BadInput{file + ": cannot read"};
    std::vector<json> lines;
    std::string line;
    while (std::getline(in, line)) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        auto j = json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object())
            throw BadInput{file + ":" + std::to_string(lines.size() + 1) + ": not a JSON object"};
        lines.push_back(std::move(j));
    }
    if (lines.empty()) throw BadInput{file + ": empty transcript"};
    const json& header = lines[0];
    control(cli, {{"method", "POST"}, {"path", "/__control/reset"}});
    for (const auto& call : header.value("setup", json::array())) control(cli, call);

    for (std::size_t n = 1; n < lines.size(); ++n) {
        const json& ex = lines[n];
        std::string where = file + " exchange " + std::to_string(n) + " (line " +
                            std::to_string(n + 1) + ", " + ex.value("note", std::string("no note")) + ")";
        try {
            for (const auto& call : ex.value("control_before", json::array())) control(cli, call);
            const json& rq = ex.at("request");
            const json& want = ex.at("response");
            httplib::Headers headers;
            for (const auto& h : rq.value("headers", json::array())) {
                std::string name = h.at(0);
                if (strcasecmp(name.c_str(), "Content-Length") == 0) continue;
                headers.emplace(name, h.at(1).get<std::string>());
            }
            std::string method = rq.at("method"), target = rq.at("target");
            auto got = send(cli, method, target, headers, rq.value("body", std::string()));
            std::string req_line = method + " " + target;
            int want_status = want.at("status");
            if (got.status != want_status)
                throw Mismatch{req_line + ": status want " + std::to_string(want_status) + ", got " +
                               std::to_string(got.status) + " (body " + got.body + ")"};
            std::string want_ct = want.value("content_type", std::string());
            std::string got_ct = got.get_header_value("Content-Type");
            if (got_ct != want_ct)
                throw Mismatch{req_line + ": Content-Type want \"" + want_ct + "\", got \"" + got_ct + "\""};
            std::string want_body = want.value("body", std::string());
            if (want_ct == "application/json") {
                auto wj = json::parse(want_body, nullptr, false);
                auto gj = json::parse(got.body, nullptr, false);
                if (wj.is_discarded()) throw BadInput{where + ": recorded body is not JSON"};
                if (gj.is_discarded())
                    throw Mismatch{req_line + ": body is not JSON: " + got.body.substr(0, 200)};
                if (auto d = json_diff(wj, gj, ""); !d.empty())
                    throw Mismatch{req_line + ": body differs at " + d};
            } else if (got.body != want_body) {
                throw Mismatch{req_line + ": " + text_diff(want_body, got.body)};
            }
        } catch (const Mismatch& m) {
            throw Mismatch{where + ": " + m.what};
        } catch (const json::exception& e) {
            throw BadInput{where + ": malformed exchange: " + e.what()};
        }
    }
    std::cout << "ok " << file << ": " << lines.size() - 1 << " exchanges ("
              << header.value("client", std::string("?")) << " "
              << header.value("commit", std::string("?")).substr(0, 12) << ")\n";
}

int usage(const std::string& msg) {
    std::cerr << "fake_replay: " << msg << "\n"
              << "usage: fake_replay (--fake-url http://127.0.0.1:PORT | --port-file FILE) "
                 "(TRANSCRIPT.jsonl... | --shutdown)\n";
    return 2;
}

} // namespace

int main(int argc, char** argv) {
    std::string url;
    bool shutdown = false;
    std::vector<std::string> files;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if ((a == "--fake-url" || a == "--port-file") && i + 1 < argc) {
            std::string v = argv[++i];
            if (a == "--fake-url") {
                url = v;
            } else {
                std::ifstream pf(v);
                int port = 0;
                if (!(pf >> port) || port <= 0) return usage("no port in " + v);
                url = "http://127.0.0.1:" + std::to_string(port);
            }
        } else if (a == "--shutdown") {
            shutdown = true;
        } else if (a.rfind("--", 0) == 0) {
            return usage("unknown option " + a);
        } else {
            files.push_back(a);
        }
    }
    if (url.empty()) return usage("--fake-url or --port-file is required");
    if (files.empty() == !shutdown) return usage("give transcripts or --shutdown");

    httplib::Client cli(url);
    cli.set_url_encode(false); // targets are sent exactly as recorded
    cli.set_read_timeout(30, 0);
    try {
        if (shutdown) {
            control(cli, {{"method", "POST"}, {"path", "/__control/shutdown"}});
            return 0;
        }
        for (const auto& f : files) replay(cli, f);
    } catch (const Mismatch& m) {
        std::cerr << "MISMATCH " << m.what << "\n";
        return 1;
    } catch (const BadInput& b) {
        std::cerr << "fake_replay: " << b.what << "\n";
        return 2;
    }
    return 0;
}
