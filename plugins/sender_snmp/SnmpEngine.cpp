#include "SnmpEngine.h"

#include <net-snmp/library/large_fd_set.h>
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <chrono>
#include <cstring>

namespace pulse::snmp {

namespace {

int64_t monotonicMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// 2020-01-01T00:00:00Z. A v3 trap's sender is its own authoritative engine: it states its boots and time, and
// a receiver drops a message whose boots or time went backwards (RFC 3414 section 3.2, step 7b). Every pulsed
// sends boots 1 and the seconds since this epoch, so the time only moves forward, across restarts and across
// the instances sharing a channel (their clocks agree within the 150 s the receiver allows).
constexpr int64_t kEngineTimeEpoch = 1577836800;

// Before the first session: no snmp.conf, no persistent state under /var/lib/snmp, no MIB files (OIDs are
// numeric here), and the library's log lines kept out of pulsed's stderr (its errors reach us as values).
void initLibrary() {
    static bool done = false;
    if (done) return;
    done = true;
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
    netsnmp_ds_set_int(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_MIB_WARNINGS, 0);
    netsnmp_set_mib_directory("/nonexistent");
    // Without a handler net-snmp writes to stderr (the missing MIB modules, for one): one that drops them.
    snmp_disable_log();
    netsnmp_register_loghandler(NETSNMP_LOGHANDLER_NONE, LOG_EMERG);
    init_snmp("pulse-sender-snmp");
}

struct AuthProtocol {
    const char* name;
    const oid* id;
    size_t length;
};

const AuthProtocol* authProtocol(const std::string& name) {
    static const AuthProtocol kProtocols[] = {
        {"SHA", usmHMACSHA1AuthProtocol, OID_LENGTH(usmHMACSHA1AuthProtocol)},
        {"SHA-224", usmHMAC128SHA224AuthProtocol, OID_LENGTH(usmHMAC128SHA224AuthProtocol)},
        {"SHA-256", usmHMAC192SHA256AuthProtocol, OID_LENGTH(usmHMAC192SHA256AuthProtocol)},
        {"SHA-384", usmHMAC256SHA384AuthProtocol, OID_LENGTH(usmHMAC256SHA384AuthProtocol)},
        {"SHA-512", usmHMAC384SHA512AuthProtocol, OID_LENGTH(usmHMAC384SHA512AuthProtocol)}};
    for (const auto& p : kProtocols)
        if (name == p.name) return &p;
    return nullptr;
}

std::string sessionError(netsnmp_session* s, void* sessp) {
    int lib = 0, sys = 0;
    char* text = nullptr;
    if (sessp)
        snmp_sess_error(sessp, &lib, &sys, &text);
    else
        snmp_error(s, &lib, &sys, &text);
    std::string out = text ? text : "unknown error";
    std::free(text);
    return out;
}

bool addVarbind(netsnmp_pdu* pdu, const pulse_mib::Varbind& v) {
    std::vector<oid> name(v.name.begin(), v.name.end());
    switch (v.syntax) {
        case pulse_mib::Syntax::Integer: {
            long n = static_cast<long>(v.number);
            return snmp_pdu_add_variable(pdu, name.data(), name.size(), ASN_INTEGER, &n, sizeof n);
        }
        case pulse_mib::Syntax::Unsigned32: {
            u_long n = static_cast<u_long>(v.number);
            return snmp_pdu_add_variable(pdu, name.data(), name.size(), ASN_GAUGE, &n, sizeof n);
        }
        case pulse_mib::Syntax::TimeTicks: {
            u_long n = static_cast<u_long>(v.number);
            return snmp_pdu_add_variable(pdu, name.data(), name.size(), ASN_TIMETICKS, &n, sizeof n);
        }
        case pulse_mib::Syntax::ObjectIdentifier: {
            std::vector<oid> value(v.oid.begin(), v.oid.end());
            return snmp_pdu_add_variable(pdu, name.data(), name.size(), ASN_OBJECT_ID, value.data(),
                                         value.size() * sizeof(oid));
        }
        case pulse_mib::Syntax::OctetString:
            return snmp_pdu_add_variable(pdu, name.data(), name.size(), ASN_OCTET_STR, v.octets.data(),
                                         v.octets.size());
    }
    return false;
}

}  // namespace

// What the receiver's answer to an inform means (RFC 3416 section 4.2.7, RFC 3414 section 3.2): a Response
// without error is done; a USM report that the user, its keys or its level are wrong is permanent (the
// channel's settings must change); a timeout, a time-window report or a failed send is retried. The request
// is known by its ticket, not by reqid: a USM report names no request id when the receiver could not decrypt
// ours, and net-snmp calls twice for it (SEC_ERROR, then RECEIVED_MESSAGE).
int answered(int op, netsnmp_session* session, int /*reqid*/, netsnmp_pdu* pdu, void* magic) {
    auto* ticket = static_cast<Channel::Ticket*>(magic);
    Channel* channel = ticket->channel;
    if (ticket->settled || op == NETSNMP_CALLBACK_OP_RESEND || op == NETSNMP_CALLBACK_OP_CONNECT)
        return 1;  // already answered, or not an outcome yet
    std::string tries = std::to_string(channel->retries_ + 1) + " tr" + (channel->retries_ ? "ies" : "y");
    DeliveryOutcome out;
    if (op == NETSNMP_CALLBACK_OP_TIMED_OUT) {
        out = {PULSE_RETRY, 0, -1,
               "no response to the inform after " + tries + " of " + std::to_string(channel->timeoutMs_) +
                   " ms (a wrong community looks the same: v2c receivers drop it silently)"};
        // The next send opens a new session: discovery and time synchronisation start again.
        channel->stale_ = true;
    } else if (pdu && pdu->command == SNMP_MSG_REPORT) {
        int report = snmpv3_get_report_type(pdu);
        bool permanent = report == SNMPERR_UNKNOWN_USER_NAME || report == SNMPERR_AUTHENTICATION_FAILURE ||
                         report == SNMPERR_DECRYPTION_ERR || report == SNMPERR_UNSUPPORTED_SEC_LEVEL;
        out = {permanent ? PULSE_ERR_GENERIC : PULSE_RETRY, 0, -1,
               std::string("the receiver reported: ") + snmp_api_errstring(report)};
    } else if (op == NETSNMP_CALLBACK_OP_SEC_ERROR) {
        out = {PULSE_ERR_GENERIC, 0, -1, "the receiver's answer failed the security checks (user or keys)"};
    } else if (op != NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE || !pdu) {
        out = {PULSE_RETRY, 0, -1, "the inform could not be sent: " + sessionError(session, nullptr)};
    } else if (session->s_snmp_errno == SNMPERR_AUTHENTICATION_FAILURE) {
        out = {PULSE_ERR_GENERIC, 0, -1, "the receiver's response failed authentication"};
    } else if (pdu->errstat != SNMP_ERR_NOERROR) {
        out = {PULSE_ERR_GENERIC, static_cast<int32_t>(pdu->errstat), -1,
               std::string("the receiver refused the inform: ") + snmp_errstring(pdu->errstat)};
    } else {
        out = {PULSE_OK, 0, -1, "inform acknowledged by the receiver"};
    }
    channel->settle(*ticket, std::move(out));
    return 1;
}

Channel::Channel(Engine& engine, Security security) : engine_(engine), security_(std::move(security)) {}

Channel::~Channel() {
    close("the channel was closed");
}

void Channel::settle(Ticket& ticket, DeliveryOutcome outcome) {
    ticket.settled = true;
    ticket.outcome->set_value(std::move(outcome));
    --waiting_;
}

void Channel::close(const std::string& why) {
    if (session_) {
        engine_.detach(this);
        void* s = session_;
        session_ = nullptr;
        snmp_sess_close(s);  // may still call back: the tickets outlive it
    }
    for (auto& ticket : tickets_)
        if (!ticket.settled) settle(ticket, {PULSE_RETRY, 0, -1, "the inform was abandoned: " + why});
    tickets_.clear();
}

std::optional<DeliveryOutcome> Channel::open(const Send& send) {
    netsnmp_session s;
    snmp_sess_init(&s);
    s.peername = const_cast<char*>(send.peer.c_str());
    s.timeout = static_cast<long>(send.timeoutMs) * 1000;
    s.retries = send.retries;
    std::vector<unsigned char> engineId(security_.engineId.begin(), security_.engineId.end());
    if (!security_.v3) {
        s.version = SNMP_VERSION_2c;
        s.community = reinterpret_cast<u_char*>(const_cast<char*>(security_.community.c_str()));
        s.community_len = security_.community.size();
    } else {
        const AuthProtocol* auth = authProtocol(security_.authProtocol);
        if (!auth)
            return DeliveryOutcome{PULSE_ERR_CONFIG, 0, -1,
                                   "unknown authentication protocol " + security_.authProtocol};
        s.version = SNMP_VERSION_3;
        s.securityName = const_cast<char*>(security_.user.c_str());
        s.securityNameLen = security_.user.size();
        s.securityLevel = SNMP_SEC_LEVEL_AUTHPRIV;
        s.securityAuthProto = const_cast<oid*>(auth->id);
        s.securityAuthProtoLen = auth->length;
        s.securityPrivProto = usmAESPrivProtocol;
        s.securityPrivProtoLen = OID_LENGTH(usmAESPrivProtocol);
        if (authKu_.empty()) {
            // Ku for both keys is made with the authentication hash (RFC 3414 A.2, as snmptrap does).
            size_t authLen = USM_AUTH_KU_LEN, privLen = USM_PRIV_KU_LEN;
            std::vector<unsigned char> a(authLen), p(privLen);
            if (generate_Ku(auth->id, auth->length,
                            reinterpret_cast<const u_char*>(security_.authPassphrase.data()),
                            security_.authPassphrase.size(), a.data(), &authLen) != SNMPERR_SUCCESS ||
                generate_Ku(auth->id, auth->length,
                            reinterpret_cast<const u_char*>(security_.privPassphrase.data()),
                            security_.privPassphrase.size(), p.data(), &privLen) != SNMPERR_SUCCESS)
                return DeliveryOutcome{PULSE_ERR_CONFIG, 0, -1,
                                       "the passphrases cannot be made into keys (at least 8 characters)"};
            a.resize(authLen);
            p.resize(privLen);
            authKu_ = std::move(a);
            privKu_ = std::move(p);
        }
        std::memcpy(s.securityAuthKey, authKu_.data(), authKu_.size());
        s.securityAuthKeyLen = authKu_.size();
        std::memcpy(s.securityPrivKey, privKu_.data(), privKu_.size());
        s.securityPrivKeyLen = privKu_.size();
        if (!send.inform) {
            // A trap's authoritative engine is the sender (RFC 3414 section 3.1.1): our engine ID, boots and
            // time, no discovery. An inform discovers the receiver's engine when the session opens.
            s.securityEngineID = engineId.data();
            s.securityEngineIDLen = engineId.size();
            s.contextEngineID = engineId.data();
            s.contextEngineIDLen = engineId.size();
            s.engineBoots = 1;
            s.engineTime = static_cast<u_int>(std::time(nullptr) - kEngineTimeEpoch);
        }
    }
    void* opened = snmp_sess_open(&s);
    if (!opened) {
        // Engine discovery of an inform receiver that does not answer ends here too: later, perhaps.
        return DeliveryOutcome{
            PULSE_RETRY, 0, -1,
            "cannot open an SNMP session to " + send.peer + ": " + sessionError(&s, nullptr)};
    }
    session_ = opened;
    stale_ = false;
    peer_ = send.peer;
    timeoutMs_ = send.timeoutMs;
    retries_ = send.retries;
    engine_.attach(this);
    return std::nullopt;
}

void Channel::send(const Send& send, const Outcome& outcome) {
    // A new address (DNS changed) or a new inform pacing: a new session.
    if (session_ && (peer_ != send.peer || timeoutMs_ != send.timeoutMs || retries_ != send.retries))
        close("the receiver's address changed");
    else if (session_ && stale_ && waiting_ == 0)
        close("the receiver stopped answering");
    if (!session_) {
        if (auto failed = open(send)) {
            outcome->set_value(*failed);
            return;
        }
    }
    netsnmp_pdu* pdu = snmp_pdu_create(send.inform ? SNMP_MSG_INFORM : SNMP_MSG_TRAP2);
    for (const auto& v : send.varbinds) {
        if (!addVarbind(pdu, v)) {
            snmp_free_pdu(pdu);
            outcome->set_value({PULSE_ERR_GENERIC, 0, -1, "cannot encode " + pulse_mib::dotted(v.name)});
            return;
        }
    }
    if (!send.inform) {
        // Traps are not acknowledged in SNMP: sent is all that can be known (informs exist for that).
        if (!snmp_sess_send(session_, pdu)) {
            std::string why = sessionError(nullptr, session_);
            snmp_free_pdu(pdu);
            close("sending failed");
            outcome->set_value({PULSE_RETRY, 0, -1, "the trap could not be sent: " + why});
            return;
        }
        outcome->set_value({PULSE_OK, 0, -1, "trap sent to " + send.peer + " (traps are not acknowledged)"});
        return;
    }
    // Tickets answered in an earlier turn of the loop get no more calls: net-snmp has dropped their requests.
    tickets_.remove_if([](const Ticket& t) { return t.settled; });
    Ticket& ticket = tickets_.emplace_back(Ticket{this, outcome});
    if (!snmp_sess_async_send(session_, pdu, &answered, &ticket)) {
        tickets_.pop_back();
        std::string why = sessionError(nullptr, session_);
        snmp_free_pdu(pdu);
        close("sending failed");
        outcome->set_value({PULSE_RETRY, 0, -1, "the inform could not be sent: " + why});
        return;
    }
    ++waiting_;
}

std::shared_ptr<Engine> Engine::shared() {
    static std::mutex mutex;
    static std::weak_ptr<Engine> current;
    std::lock_guard lock(mutex);
    auto engine = current.lock();
    if (!engine) {
        engine = std::shared_ptr<Engine>(new Engine());
        current = engine;
    }
    return engine;
}

Engine::Engine() : startedMs_(monotonicMs()) {
    if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) throw Error(PULSE_ERR_GENERIC, "cannot create a pipe");
    thread_ = std::thread([this] { run(); });
}

Engine::~Engine() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    char c = 0;
    (void)!::write(wake_[1], &c, 1);
    thread_.join();
    ::close(wake_[0]);
    ::close(wake_[1]);
}

int64_t Engine::uptimeCentiseconds() const {
    return (monotonicMs() - startedMs_) / 10;
}

void Engine::post(std::function<void()> task) {
    {
        std::lock_guard lock(mutex_);
        tasks_.push_back(std::move(task));
    }
    char c = 0;
    (void)!::write(wake_[1], &c, 1);
}

void Engine::call(std::function<void()> task) {
    std::promise<void> done;
    auto finished = done.get_future();
    post([&] {
        task();
        done.set_value();
    });
    finished.wait();
}

void Engine::run() {
    initLibrary();
    netsnmp_large_fd_set readable;
    netsnmp_large_fd_set_init(&readable, FD_SETSIZE);
    for (;;) {
        std::deque<std::function<void()>> tasks;
        {
            std::lock_guard lock(mutex_);
            if (stopping_ && tasks_.empty()) break;
            tasks.swap(tasks_);
        }
        for (auto& task : tasks) task();

        // Wait for the pipe, an answer on any session, or the earliest resend or timeout net-snmp has due.
        std::vector<pollfd> fds{{wake_[0], POLLIN, 0}};
        std::vector<Channel*> owners{nullptr};
        int waitMs = 1000;
        for (Channel* c : channels_) {
            netsnmp_transport* t = snmp_sess_transport(c->session());
            if (!t || t->sock < 0) continue;
            fds.push_back({t->sock, POLLIN, 0});
            owners.push_back(c);
            if (!c->waiting()) continue;
            int n = 0, block = 1;
            timeval tv{};
            netsnmp_large_fd_set ignored;
            netsnmp_large_fd_set_init(&ignored, FD_SETSIZE);
            snmp_sess_select_info2(c->session(), &n, &ignored, &tv, &block);
            netsnmp_large_fd_set_cleanup(&ignored);
            if (!block)
                waitMs = std::min<int>(waitMs, static_cast<int>(tv.tv_sec * 1000 + tv.tv_usec / 1000) + 1);
        }
        ::poll(fds.data(), fds.size(), waitMs);
        if (fds[0].revents & POLLIN) {
            char buf[64];
            while (::read(wake_[0], buf, sizeof buf) > 0) {
            }
        }
        for (size_t i = 1; i < fds.size(); ++i) {
            if (!(fds[i].revents & (POLLIN | POLLERR)) || !channels_.count(owners[i])) continue;
            NETSNMP_LARGE_FD_ZERO(&readable);
            NETSNMP_LARGE_FD_SET(fds[i].fd, &readable);
            snmp_sess_read2(owners[i]->session(), &readable);
        }
        // Resends and timeouts (a timeout's callback may close its channel's session: iterate a copy).
        std::vector<Channel*> waiting;
        for (Channel* c : channels_)
            if (c->waiting()) waiting.push_back(c);
        for (Channel* c : waiting)
            if (channels_.count(c) && c->session()) snmp_sess_timeout(c->session());
    }
    netsnmp_large_fd_set_cleanup(&readable);
}

}  // namespace pulse::snmp
