#include "services/BrokerCredentials.h"

#include "logging/Logging.h"
#include "storage/BrokerAccountStore.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>

namespace pulse::services {

int syncBrokerCredentials(storage::Database& db, const BrokerFiles& files) {
    if (files.passwordFile.empty()) return 0;
    // The periodic sync and API changes (rotation, revocation) share the temporary file name: one at a time.
    static std::mutex writing;
    std::lock_guard lock(writing);
    std::string content;
    if (!files.baseFile.empty()) {
        std::ifstream base(files.baseFile);
        if (!base) throw std::runtime_error("cannot read " + files.baseFile);
        std::stringstream ss;
        ss << base.rdbuf();
        content = ss.str();
        if (!content.empty() && content.back() != '\n') content += '\n';
    }
    auto accounts = storage::BrokerAccountStore(db).live();
    for (const auto& account : accounts) content += account.username + ":" + account.mqttHash + "\n";
    // Written beside the file and renamed over it, so the broker never reads half a file (several
    // instances may sync at once); the new file takes the old one's owner and mode, which the broker's
    // user must be able to read.
    struct stat old {};
    bool hadFile = ::stat(files.passwordFile.c_str(), &old) == 0;
    std::string tmp = files.passwordFile + ".tmp." + std::to_string(::getpid());
    {
        std::ofstream out(tmp, std::ios::trunc);
        if (!out) throw std::runtime_error("cannot write " + tmp);
        out << content;
        if (!out.flush()) throw std::runtime_error("cannot write " + tmp);
    }
    if (hadFile) {
        ::chmod(tmp.c_str(), old.st_mode & 07777);
        if (::chown(tmp.c_str(), old.st_uid, old.st_gid) != 0 && ::geteuid() == 0)
            throw std::runtime_error("cannot give " + tmp + " the owner of " + files.passwordFile);
    } else {
        ::chmod(tmp.c_str(), 0600);
    }
    if (::rename(tmp.c_str(), files.passwordFile.c_str()) != 0) {
        ::unlink(tmp.c_str());
        throw std::runtime_error("cannot replace " + files.passwordFile);
    }
    if (!files.pidFile.empty()) {
        std::ifstream pidIn(files.pidFile);
        long pid = 0;
        if (!(pidIn >> pid) || pid <= 1 || kill(static_cast<pid_t>(pid), SIGHUP) != 0)
            throw std::runtime_error("cannot signal the broker with the PID in " + files.pidFile);
    }
    return static_cast<int>(accounts.size());
}

}  // namespace pulse::services
