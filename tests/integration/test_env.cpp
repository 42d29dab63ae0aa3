#include "test_env.h"

#include "storage/PgConnection.h"

#include <Poco/File.h>
#include <Poco/Net/DatagramSocket.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Path.h>
#include <Poco/StreamCopier.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace pulse::test {

std::string env(const char* name) {
    const char* v = std::getenv(name);
    if (!v || !*v) {
        ADD_FAILURE() << name << " is not set: run the integration tests through scripts/test";
        return "";
    }
    return v;
}

std::string appUri() {
    return env("PULSE_DB_URI");
}
std::string ownerUri() {
    return env("PULSE_DB_MIGRATE_URI");
}

std::string superuserUri(const std::string& dbname) {
    return "host=" + env("PULSE_TEST_PG_SOCKET") + " port=" + env("PULSE_TEST_PG_PORT") +
           " user=postgres dbname=" + dbname;
}

std::string withDatabase(const std::string& conninfo, const std::string& dbname) {
    auto pos = conninfo.find("dbname=");
    if (pos == std::string::npos) return conninfo + " dbname=" + dbname;
    auto end = conninfo.find(' ', pos);
    return conninfo.substr(0, pos) + "dbname=" + dbname +
           (end == std::string::npos ? "" : conninfo.substr(end));
}

ScratchDatabase::ScratchDatabase(const std::string& name) : name_(name + "_" + std::to_string(getpid())) {
    storage::PgConnection admin(superuserUri());
    admin.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    admin.exec("CREATE DATABASE " + name_ + " OWNER pulse_owner");
}

ScratchDatabase::~ScratchDatabase() {
    try {
        storage::PgConnection admin(superuserUri());
        admin.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } catch (...) {
    }
}

std::string ScratchDatabase::ownerUri() const {
    return withDatabase(test::ownerUri(), name_);
}
std::string ScratchDatabase::appUri() const {
    return withDatabase(test::appUri(), name_);
}
std::string ScratchDatabase::superUri() const {
    return superuserUri(name_);
}

bool stack(const std::string& command) {
    std::string cmd = env("PULSE_TEST_STACK") + " " + command + " >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
}

int freePort() {
    Poco::Net::ServerSocket s(Poco::Net::SocketAddress("127.0.0.1", 0));
    return s.address().port();
}

int freeUdpPort() {
    Poco::Net::DatagramSocket s(Poco::Net::SocketAddress("127.0.0.1", 0));
    return s.address().port();
}

std::string tempDir(const std::string& name) {
    std::string dir = Poco::Path(::testing::TempDir()).absolute().toString() + "pulse-" + name + "-" +
                      std::to_string(getpid());
    if (Poco::File(dir).exists()) Poco::File(dir).remove(true);
    Poco::File(dir).createDirectories();
    return dir;
}

void writeFile(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
}

std::string readFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

Child::Child(const std::vector<std::string>& argv, const std::map<std::string, std::string>& extraEnv,
             const std::string& outputFile)
    : outputFile_(outputFile) {
    std::vector<std::string> envStrings;
    for (char** e = environ; *e; ++e) {
        std::string kv = *e;
        if (!extraEnv.count(kv.substr(0, kv.find('=')))) envStrings.push_back(kv);
    }
    for (const auto& [k, v] : extraEnv)
        if (v != "<unset>") envStrings.push_back(k + "=" + v);
    std::vector<char*> args, envp;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    for (const auto& e : envStrings) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
        int fd = open(outputFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        setpgid(0, 0);
        execve(args[0], args.data(), envp.data());
        _exit(127);
    }
}

Child::~Child() {
    if (pid_ > 0 && !status_) {
        ::kill(pid_, SIGKILL);
        wait(5000);
    }
}

void Child::signal(int sig) {
    if (pid_ > 0 && !status_) ::kill(pid_, sig);
}

std::optional<int> Child::wait(int timeoutMs) {
    if (status_) return status_;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    while (true) {
        int st = 0;
        pid_t r = waitpid(pid_, &st, WNOHANG);
        if (r == pid_) {
            status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            return status_;
        }
        if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

int run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& extraEnv,
        std::string& output, int timeoutMs) {
    static int counter = 0;
    std::string out =
        ::testing::TempDir() + "/run-" + std::to_string(getpid()) + "-" + std::to_string(++counter) + ".out";
    Child c(argv, extraEnv, out);
    auto rc = c.wait(timeoutMs);
    output = c.output();
    return rc ? *rc : -1;
}

namespace {

HttpResult exchange(int port, const std::string& method, const std::string& path, const std::string* body,
                    const std::map<std::string, std::string>& headers) {
    HttpResult r;
    try {
        Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
        session.setTimeout(Poco::Timespan(15, 0));
        Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
        for (const auto& [k, v] : headers) req.set(k, v);
        if (body) req.setContentLength(static_cast<std::streamsize>(body->size()));
        std::ostream& out = session.sendRequest(req);
        if (body) out << *body;
        Poco::Net::HTTPResponse res;
        std::istream& in = session.receiveResponse(res);
        Poco::StreamCopier::copyToString(in, r.body);
        r.status = res.getStatus();
        for (const auto& [k, v] : res) r.headers[k] = v;
    } catch (const Poco::Exception& e) {
        r.status = 0;
        r.body = e.displayText();
    }
    return r;
}

}  // namespace

HttpResult httpGet(int port, const std::string& path, const std::string& method,
                   const std::map<std::string, std::string>& headers) {
    return exchange(port, method, path, nullptr, headers);
}

HttpResult httpSend(int port, const std::string& method, const std::string& path, const std::string& body,
                    const std::map<std::string, std::string>& headers) {
    return exchange(port, method, path, &body, headers);
}

std::string pulsedBinary() {
    // PULSE_TEST_PULSED runs the tests against another build (an older one, to see a test fail there).
    if (const char* other = std::getenv("PULSE_TEST_PULSED"); other && *other) return other;
    return std::string(PULSE_BINARY_DIR) + "/bin/pulsed";
}

std::map<std::string, std::string> dbEnv() {
    return {{"PULSE_DB_URI", appUri()}, {"PULSE_DB_MIGRATE_URI", ownerUri()}};
}

std::string createDevice(const std::string& config, const std::string& spec) {
    std::string out;
    EXPECT_EQ(run({pulsedBinary(), "--config", config, "--create-device", spec}, dbEnv(), out), 0) << out;
    auto pos = out.find("pt_", out.find("token:"));
    return pos == std::string::npos ? "" : out.substr(pos, out.find(' ', pos) - pos);
}

std::string writePulseConfig(const std::string& dir, int httpPort, const std::string& pluginsD,
                             const std::string& extra) {
    std::string path = dir + "/pulse.properties";
    writeFile(path, "http.address = 127.0.0.1\nhttp.port = " + std::to_string(httpPort) +
                        "\nhttp.spa_dir = " PULSE_SOURCE_DIR
                        "/spa\n"
                        "db.migrations_dir = " PULSE_SOURCE_DIR
                        "/sql\n"
                        "db.startup_timeout_s = 10\n"
                        "plugins.path = " PULSE_TEST_PLUGIN_DIR ":" PULSE_PLUGIN_DIR
                        "\n"
                        "plugins.config_dir = " +
                        pluginsD + "\n" + extra);
    return path;
}

Pulsed::Pulsed(const std::string& configPath, const std::map<std::string, std::string>& extraEnv) {
    std::string text = readFile(configPath);
    auto pos = text.find("http.port = ");
    port_ = std::stoi(text.substr(pos + 12));
    child_ = std::make_unique<Child>(std::vector<std::string>{pulsedBinary(), "--config", configPath},
                                     extraEnv, configPath + ".log");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
        if (child_->wait(0)) break;
        if (httpGet(port_, "/health/live").status == 200) {
            started_ = true;
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "pulsed did not start; its log:\n" << child_->output();
}

Pulsed::~Pulsed() {
    child_->signal(SIGTERM);
    if (!child_->wait(20000)) ADD_FAILURE() << "pulsed did not stop within 20 s of SIGTERM";
}

}  // namespace pulse::test
