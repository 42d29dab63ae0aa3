// sender_smtp: e-mails alert notices through the tenant's SMTP relay. STARTTLS is required by default
// (implicit TLS on 465 as an option, plaintext only when the channel says "tls": "none", and then without
// credentials), AUTH PLAIN or LOGIN, a text and an HTML part. The relay's host passes the host's egress guard
// (ABI 1.3 egress_resolve) on every attempt and libcurl dials exactly the address the guard checked, while
// TLS still verifies the name. Each delivery has its own Message-ID, unchanged across retries, so a mail
// retried after a dropped connection is recognisable; an alert's mails share one thread (the opening's
// Message-ID, In-Reply-To and References on the acknowledgement and closing). Connections are kept per
// worker and reused. Every answer is mapped in outcomeOf(): 2xx done, 4xx retried, 5xx permanent.
#include "MailMessage.h"

#include <pulse/notice.hpp>
#include <pulse/plugin.hpp>

#include <curl/curl.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace {

constexpr const char* kConfigSchema = R"json({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "E-mail through an SMTP relay",
  "type": "object",
  "properties": {
    "host": {"type": "string", "format": "hostname", "minLength": 1, "maxLength": 253,
             "description": "the relay's name or address (smtp.example.com); it must resolve to public addresses"},
    "port": {"x-order": 1, "type": "integer", "minimum": 1, "maximum": 65535, "default": 587,
             "description": "587 for submission with STARTTLS, 465 for implicit TLS, 25 for relay to relay"},
    "tls": {"x-order": 2, "enum": ["starttls", "implicit", "none"], "default": "starttls",
            "description": "starttls: required, the mail is not sent when the relay does not offer it; implicit: TLS from the first byte (465); none: plaintext, only for a relay on a trusted network, and without a password"},
    "username": {"x-order": 3, "type": "string", "maxLength": 256, "default": "",
                 "description": "for AUTH; empty: no authentication"},
    "password": {"x-order": 4, "type": "string", "writeOnly": true, "maxLength": 256},
    "auth": {"x-order": 5, "enum": ["any", "plain", "login"], "default": "any",
             "description": "which AUTH mechanism to use; any: the relay's choice among those libcurl speaks"},
    "from": {"type": "string", "maxLength": 254, "pattern": "^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+$",
             "description": "the sender address, alerts@example.com"},
    "from_name": {"x-order": 6, "type": "string", "maxLength": 100, "default": "Pulse", "description": "the sender's display name"},
    "to": {"type": "array", "minItems": 1, "maxItems": 20, "uniqueItems": true,
           "items": {"type": "string", "maxLength": 254, "pattern": "^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+$"},
           "description": "the recipients"},
    "ca_certificate": {"x-order": 7, "type": "string", "maxLength": 65536, "default": "",
                       "description": "PEM certificates to trust for this relay (a private CA) instead of the system's"},
    "keep_connection": {"x-order": 8, "type": "boolean", "default": true,
                        "description": "keep the connection open for the next mail (one per concurrent delivery); off: a connection per mail, for relays that dislike idle sessions"},
    "timeout_ms": {"x-order": 9, "type": "integer", "minimum": 1000, "maximum": 60000, "default": 15000,
                   "description": "time allowed for one attempt, connection included"}
  },
  "required": ["host", "from", "to"],
  "allOf": [
    {"not": {"required": ["tls", "username"], "properties": {"tls": {"const": "none"}, "username": {"minLength": 1}},
             "description": "credentials are not sent over plaintext: tls none takes no username"}},
    {"not": {"required": ["tls", "password"], "properties": {"tls": {"const": "none"}},
             "description": "credentials are not sent over plaintext: tls none takes no password"}}],
  "additionalProperties": false,
  "examples": [{"host": "smtp.example.com", "port": 587, "username": "pulse", "password": "app-password",
                "from": "alerts@example.com", "to": ["oncall@example.com"]}]
})json";

struct CurlFree {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
    void operator()(curl_mime* m) const { curl_mime_free(m); }
};
using Easy = std::unique_ptr<CURL, CurlFree>;
using List = std::unique_ptr<curl_slist, CurlFree>;
using Mime = std::unique_ptr<curl_mime, CurlFree>;

// What a failed or finished transfer means (CONTRACTS.md §6, RFC 5321 §4.2.1): the reply code decides where
// the relay answered, libcurl's result where it could not.
pulse::DeliveryOutcome outcomeOf(CURLcode rc, long reply, const std::string& error) {
    pulse::DeliveryOutcome out;
    out.status_code = static_cast<int32_t>(reply);
    std::string said = reply ? " (SMTP " + std::to_string(reply) + ")" : "";
    if (rc == CURLE_OK) {
        out.code = PULSE_OK;
        out.detail = "accepted by the relay" + said;
        return out;
    }
    std::string why = (error.empty() ? curl_easy_strerror(rc) : error) + said;
    switch (rc) {
        case CURLE_LOGIN_DENIED:  // 535: the credentials are wrong; sending again cannot mend them
            out.code = PULSE_ERR_GENERIC;
            out.detail = "the relay refused the credentials: " + why;
            return out;
        case CURLE_USE_SSL_FAILED:
            out.code = PULSE_ERR_GENERIC;
            out.detail = "the relay does not offer STARTTLS, which this channel requires: " + why;
            return out;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
            out.code = PULSE_ERR_GENERIC;
            out.detail = "the relay's certificate is not trusted: " + why;
            return out;
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
            out.code = PULSE_ERR_GENERIC;
            out.detail = why;
            return out;
        default:
            break;
    }
    if (reply >= 500 && reply < 600) {
        out.code = PULSE_ERR_GENERIC;  // 550 no such mailbox, 552 too big, 554 rejected: permanent
        out.detail = "the relay refused the mail: " + why;
    } else {
        // 4xx (421 closing, 450/451/452 try later), and everything without a reply: a connection refused,
        // reset or dropped after DATA (the mail may have arrived; its Message-ID marks the retry), a timeout.
        out.code = PULSE_RETRY;
        out.detail = (reply >= 400 ? "the relay deferred the mail: " : "no answer from the relay: ") + why;
    }
    return out;
}

class SmtpSender : public pulse::Sender {
  public:
    SmtpSender(pulse::Host host, std::string_view /*config*/)
        : host_(host),
          relay_(host.config_string("/host")),
          port_(static_cast<int>(host.config_number("/port", 587))),
          tls_(host.config_string("/tls", "starttls")),
          username_(host.config_string("/username")),
          password_(host.config_string("/password")),
          auth_(host.config_string("/auth", "any")),
          caPem_(host.config_string("/ca_certificate")),
          keepConnection_(host.config_bool("/keep_connection", true)),
          timeoutMs_(static_cast<int64_t>(host.config_number("/timeout_ms", 15000))) {
        if (host.abi_minor() < 3)
            throw pulse::Error(PULSE_ERR_UNSUPPORTED, "needs a host with ABI 1.3 (egress_resolve)");
        envelope_.from = host.config_string("/from");
        envelope_.from_name = host.config_string("/from_name", "Pulse");
        for (int i = 0;; ++i) {
            std::string pointer = "/to/" + std::to_string(i);
            std::string to = host.config_string(pointer.c_str());
            if (to.empty()) break;
            envelope_.to.push_back(to);
        }
        static std::once_flag once;
        std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    }

    pulse::DeliveryOutcome deliver(const pulse::Delivery& d) override {
        pulse::AlertNotice notice;
        if (auto unreadable = pulse::AlertNotice::read(d, notice)) return *unreadable;
        // The guard's answer for this attempt: the name may resolve elsewhere than when it was saved.
        pulse::EgressAddress target = host_.egress_resolve(relay_);
        if (target.code != PULSE_OK)
            return {target.code == PULSE_ERR_UNAVAILABLE ? PULSE_RETRY : target.code, 0, -1, target.error};

        pulse::mail::Envelope envelope = envelope_;
        // A page for one person (an escalation reaching a user's e-mail contact method) goes to them alone.
        if (!notice.recipient_email.empty()) {
            if (notice.recipient_email.find_first_of(" \t\r\n<>,;\"") != std::string::npos ||
                notice.recipient_email.find('@') == std::string::npos)
                return {PULSE_ERR_INVALID, 0, -1, "the recipient is not an e-mail address"};
            envelope.to = {notice.recipient_email};
        }
        envelope.idempotency_key = std::string(d.idempotency_key);
        envelope.now_ms = host_.now_ms();
        pulse::mail::Mail mail = pulse::mail::compose(notice, envelope);
        int64_t timeoutMs = pulse::attempt_timeout_ms(d, envelope.now_ms, timeoutMs_);

        Easy easy = takeHandle();
        if (!easy) return {PULSE_RETRY, 0, -1, "libcurl could not make a handle"};
        pulse::DeliveryOutcome out = send(easy.get(), target.address, envelope, mail, timeoutMs);
        // After a failure the session is in an unknown state (a 421 closes it; a drop left it half-read):
        // the next mail starts on a new connection.
        if (out.code == PULSE_OK && keepConnection_) giveBack(std::move(easy));
        return out;
    }

  private:
    pulse::DeliveryOutcome send(CURL* c, const std::string& address, const pulse::mail::Envelope& envelope,
                                const pulse::mail::Mail& mail, int64_t timeoutMs) {
        curl_easy_reset(c);  // keeps the handle's open connection, drops the last mail's options
        std::string scheme = tls_ == "implicit" ? "smtps" : "smtp";
        std::string name =
            relay_.find(':') != std::string::npos && relay_.front() != '[' ? "[" + relay_ + "]" : relay_;
        std::string port = std::to_string(port_);
        // The EHLO name is the URL's path: the sender's domain, as a relay expects of a client.
        std::string domain = envelope_.from.substr(envelope_.from.rfind('@') + 1);
        std::string url = scheme + "://" + name + ":" + port + "/" + domain;
        // Dial the address the guard checked, and still present (and verify) the name.
        std::string dial = address.find(':') != std::string::npos ? "[" + address + "]" : address;
        List connectTo(curl_slist_append(nullptr, (name + ":" + port + ":" + dial + ":" + port).c_str()));
        List recipients;
        for (const auto& to : envelope.to)
            recipients.reset(curl_slist_append(recipients.release(), ("<" + to + ">").c_str()));
        List headers;
        for (const auto& h : mail.headers) headers.reset(curl_slist_append(headers.release(), h.c_str()));

        Mime mime(curl_mime_init(c));
        curl_mime* alternative = curl_mime_init(c);
        curl_mimepart* part = curl_mime_addpart(alternative);
        curl_mime_data(part, mail.text.data(), mail.text.size());
        curl_mime_type(part, "text/plain; charset=utf-8");
        curl_mime_encoder(part, "quoted-printable");
        part = curl_mime_addpart(alternative);
        curl_mime_data(part, mail.html.data(), mail.html.size());
        curl_mime_type(part, "text/html; charset=utf-8");
        curl_mime_encoder(part, "quoted-printable");
        part = curl_mime_addpart(mime.get());
        curl_mime_subparts(part, alternative);  // owned by the part from here
        curl_mime_type(part, "multipart/alternative");

        char error[CURL_ERROR_SIZE] = {0};
        curl_easy_setopt(c, CURLOPT_URL, url.c_str());
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
        curl_easy_setopt(c, CURLOPT_CONNECT_TO, connectTo.get());
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // worker threads: no SIGALRM for timeouts
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeoutMs));
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeoutMs));
        curl_easy_setopt(c, CURLOPT_MAXAGE_CONN, 60L);  // relays close idle sessions after a few minutes
        curl_easy_setopt(c, CURLOPT_FORBID_REUSE, keepConnection_ ? 0L : 1L);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
        curl_easy_setopt(
            c, CURLOPT_USE_SSL,
            tls_ == "none" ? static_cast<long>(CURLUSESSL_NONE) : static_cast<long>(CURLUSESSL_ALL));
        curl_easy_setopt(c, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_blob ca{const_cast<char*>(caPem_.data()), caPem_.size(), CURL_BLOB_NOCOPY};
        if (!caPem_.empty()) curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca);
        if (!username_.empty()) {
            curl_easy_setopt(c, CURLOPT_USERNAME, username_.c_str());
            curl_easy_setopt(c, CURLOPT_PASSWORD, password_.c_str());
            const char* mech = auth_ == "plain" ? "AUTH=PLAIN" : auth_ == "login" ? "AUTH=LOGIN" : "AUTH=*";
            curl_easy_setopt(c, CURLOPT_LOGIN_OPTIONS, mech);
        }
        std::string mailFrom = "<" + envelope_.from + ">";
        curl_easy_setopt(c, CURLOPT_MAIL_FROM, mailFrom.c_str());
        curl_easy_setopt(c, CURLOPT_MAIL_RCPT, recipients.get());
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());  // for SMTP: the mail's header lines
        curl_easy_setopt(c, CURLOPT_MIMEPOST, mime.get());

        CURLcode rc = curl_easy_perform(c);
        long reply = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply);
        // The handle keeps pointers to these until its next reset; clear them before they go.
        curl_easy_setopt(c, CURLOPT_MIMEPOST, nullptr);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
        curl_easy_setopt(c, CURLOPT_MAIL_RCPT, nullptr);
        curl_easy_setopt(c, CURLOPT_CONNECT_TO, nullptr);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
        // libcurl's error texts name the relay and the SMTP step, never the password.
        return outcomeOf(rc, reply, error);
    }

    // A handle per concurrent delivery, kept between deliveries so that its connection is reused.
    Easy takeHandle() {
        {
            std::lock_guard lock(mutex_);
            if (!idle_.empty()) {
                Easy e = std::move(idle_.back());
                idle_.pop_back();
                return e;
            }
        }
        return Easy(curl_easy_init());
    }
    void giveBack(Easy e) {
        std::lock_guard lock(mutex_);
        if (idle_.size() < 16) idle_.push_back(std::move(e));
    }

    pulse::Host host_;
    std::string relay_;
    int port_;
    std::string tls_, username_, password_, auth_, caPem_;
    bool keepConnection_;
    int64_t timeoutMs_;
    pulse::mail::Envelope envelope_;
    std::mutex mutex_;
    std::vector<Easy> idle_;
};

}  // namespace

PULSE_PLUGIN("sender_smtp", "1.0.0", "E-mail through an SMTP relay (STARTTLS, AUTH, text and HTML)",
             "Apache-2.0",
             pulse::component<SmtpSender>("smtp", "E-mail alert notices through the tenant's SMTP relay",
                                          kConfigSchema, PULSE_THREADING_CONCURRENT))
