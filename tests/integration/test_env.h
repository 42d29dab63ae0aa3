#pragma once

// What the integration tests share: the private stack scripts/test started (read from the environment),
// a child-process helper for running pulsed, and a small HTTP client.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pulse::test {

// A required environment variable; fails the calling test (not skips) when scripts/test did not set it.
std::string env(const char* name);

std::string appUri();                                              // PULSE_DB_URI: the application role
std::string ownerUri();                                            // PULSE_DB_MIGRATE_URI: the schema owner
std::string superuserUri(const std::string& dbname = "postgres");  // over the private socket
std::string withDatabase(const std::string& conninfo, const std::string& dbname);

// A scratch database owned by the schema owner (name plus this process id), dropped afterwards.
class ScratchDatabase {
  public:
    explicit ScratchDatabase(const std::string& name);
    ~ScratchDatabase();
    ScratchDatabase(const ScratchDatabase&) = delete;
    ScratchDatabase& operator=(const ScratchDatabase&) = delete;
    std::string ownerUri() const;
    std::string appUri() const;
    std::string superUri() const;

  private:
    std::string name_;
};

// Runs scripts/stack <dir> <pg> <mqtt> <command> (pg-stop, pg-start, ...); true on success.
bool stack(const std::string& command);

int freePort();
int freeUdpPort();                             // a loopback UDP port nobody has bound
std::string tempDir(const std::string& name);  // empty, created
void writeFile(const std::string& path, const std::string& text);
std::string readFile(const std::string& path);

// A child process with stdout and stderr in a file.
class Child {
  public:
    Child(const std::vector<std::string>& argv, const std::map<std::string, std::string>& extraEnv,
          const std::string& outputFile);
    ~Child();
    int pid() const { return pid_; }
    void signal(int sig);
    // The exit code (128 + signal when killed), or nullopt if still running after timeoutMs.
    std::optional<int> wait(int timeoutMs);
    std::string output() const { return readFile(outputFile_); }

  private:
    int pid_ = -1;
    std::optional<int> status_;
    std::string outputFile_;
};

// Runs a command to completion; returns its exit code and output.
int run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& extraEnv,
        std::string& output, int timeoutMs = 60000);

struct HttpResult {
    int status = 0;
    std::string body;
    std::map<std::string, std::string> headers;
};
HttpResult httpGet(int port, const std::string& path, const std::string& method = "GET",
                   const std::map<std::string, std::string>& headers = {});

// Any method with a body (Content-Length set, also when empty).
HttpResult httpSend(int port, const std::string& method, const std::string& path, const std::string& body,
                    const std::map<std::string, std::string>& headers = {});

// Writes a pulse.properties for a test instance and returns its path. Plugins come from pluginsD.
std::string writePulseConfig(const std::string& dir, int httpPort, const std::string& pluginsD,
                             const std::string& extra = "");

// Starts pulsed with the config and waits until /health/live answers; fails the test otherwise.
class Pulsed {
  public:
    Pulsed(const std::string& configPath, const std::map<std::string, std::string>& extraEnv = {});
    ~Pulsed();
    int port() const { return port_; }
    Child& process() { return *child_; }
    bool started() const { return started_; }

  private:
    std::unique_ptr<Child> child_;
    int port_ = 0;
    bool started_ = false;
};

std::string pulsedBinary();
// The database URIs a pulsed of the tests connects with: the application role and the schema owner.
std::map<std::string, std::string> dbEnv();
// Creates a device with `pulsed --create-device <spec>` (tenant/name[,...]) and returns its token.
std::string createDevice(const std::string& config, const std::string& spec);

}  // namespace pulse::test
