// The one thread that speaks SNMP for every SNMP channel of this pulsed. net-snmp applies no locks of its own
// (README.thread): its USM user list, engine time cache and MIB tree are process-wide, so all of its calls
// happen here. Traps leave at once; informs wait for their Response asynchronously (net-snmp resends them on
// its timer), so a receiver that does not answer holds no thread and delays no other channel.
#pragma once

#include "PulseMib.h"

#include <pulse/plugin.hpp>

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

struct snmp_session;  // net-snmp's, kept out of this header
struct snmp_pdu;

namespace pulse::snmp {

// What a channel sends with; fixed for the channel's lifetime.
struct Security {
    bool v3 = false;
    std::string community;                       // v2c
    std::string user;                            // v3: authPriv, always
    std::string authProtocol = "SHA-256";        // SHA, SHA-224, SHA-256, SHA-384, SHA-512
    std::string authPassphrase, privPassphrase;  // AES-128 (RFC 3826)
    std::string engineId;  // bytes; v3 traps: the engine ID the receiver knows this sender by
};

struct Send {
    std::string peer;  // net-snmp transport address: "udp:203.0.113.7:162", "udp6:[2001:db8::7]:162"
    bool inform = true;
    int timeoutMs = 1500;  // per try of an inform
    int retries = 2;       // further tries of an inform after the first
    std::vector<pulse_mib::Varbind> varbinds;
};

using Outcome = std::shared_ptr<std::promise<DeliveryOutcome>>;

class Engine;

// One channel's net-snmp session, used only on the engine's thread.
class Channel {
  public:
    Channel(Engine& engine, Security security);
    ~Channel();
    void send(const Send& send, const Outcome& outcome);
    void close(const std::string& why);

    void* session() const { return session_; }
    bool waiting() const { return waiting_ > 0; }

    // An inform in flight, as net-snmp's callback sees it.
    struct Ticket {
        Channel* channel;
        Outcome outcome;
        bool settled = false;
    };

  private:
    friend int answered(int op, ::snmp_session* session, int reqid, ::snmp_pdu* pdu, void* magic);
    std::optional<DeliveryOutcome> open(const Send& send);
    void settle(Ticket& ticket, DeliveryOutcome outcome);

    Engine& engine_;
    Security security_;
    std::vector<unsigned char> authKu_, privKu_;  // the passphrases' keys, computed once (1 MB of hashing)
    void* session_ = nullptr;
    std::string peer_;
    int timeoutMs_ = 0, retries_ = 0;
    bool stale_ = false;         // an inform timed out: reopen before the next send
    std::list<Ticket> tickets_;  // stable addresses: net-snmp holds pointers to them
    size_t waiting_ = 0;         // tickets not settled
};

class Engine {
  public:
    // The process's engine, started with the first channel and stopped after the last.
    static std::shared_ptr<Engine> shared();
    ~Engine();

    // Runs task on the engine's thread.
    void post(std::function<void()> task);
    // Runs task there and waits until it ran.
    void call(std::function<void()> task);

    int64_t uptimeCentiseconds() const;
    void attach(Channel* channel) { channels_.insert(channel); }
    void detach(Channel* channel) { channels_.erase(channel); }

  private:
    Engine();
    void run();

    std::mutex mutex_;
    std::deque<std::function<void()>> tasks_;
    bool stopping_ = false;
    int wake_[2] = {-1, -1};
    std::set<Channel*> channels_;  // the engine thread's own
    int64_t startedMs_;
    std::thread thread_;
};

}  // namespace pulse::snmp
