#pragma once

// A deliberately plain HTTP client over a POSIX socket, for the edge tests: it connects from a chosen
// loopback address, sends exactly the bytes given (malformed ones too), and reads under a deadline.
#include <string>

namespace pulse::test {

class RawConnection {
  public:
    // Connects to 127.0.0.1:port from `from` (any 127.x.y.z is this machine). connected() says if it did.
    explicit RawConnection(int port, const std::string& from = "127.0.0.1");
    ~RawConnection();
    RawConnection(RawConnection&& other) noexcept;
    RawConnection& operator=(RawConnection&&) = delete;
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;

    bool connected() const { return fd_ >= 0; }
    bool send(const std::string& bytes);
    void shutdownWrite();
    // What arrives within `ms` (0: what is there already), stopping early at end of input or once `enough`
    // responses' worth of status lines ("HTTP/1.") are in and their bodies complete (Content-Length).
    // closed() tells if the server closed.
    std::string read(int ms, int enough = 1);
    bool closed() const { return closed_; }
    // True when the server closes the connection within `ms` (after any answer it sends).
    bool closesWithin(int ms);

  private:
    int fd_ = -1;
    bool closed_ = false;
};

// A minimal GET with the given extra header lines ("Cookie: a=b\r\n"); status 0 when no answer came
// within timeoutMs. elapsedMs is the whole exchange, connect included.
struct TimedAnswer {
    int status = 0;
    double elapsedMs = 0;
    std::string text;
};
TimedAnswer timedGet(int port, const std::string& path, const std::string& headerLines = "",
                     int timeoutMs = 2000);

int statusOf(const std::string& response);    // of the first response in the text, 0 if none
int countResponses(const std::string& text);  // status lines in the text

// Raises this process's descriptor limit to its hard limit (thousands of test connections).
void raiseDescriptorLimit();

}  // namespace pulse::test
